"""Conv1d / Conv2d: initialisation and argument checks without PyTorch; then, against torch.nn in float64,
forward, input gradient and parameter gradients over stride / padding / dilation / groups / bias, with our
state_dict loaded into the PyTorch layer."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tinygrad_lab as tg
from tinygrad_lab import Value, nn
from tinygrad_lab.nn import functional as F


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_default_init_is_kaiming_uniform_with_pytorch_bounds():
    tg.manual_seed(0)
    conv = nn.Conv2d(4, 64, kernel_size=(3, 5), groups=2)
    fan_in = 2 * 3 * 5
    bound = 1 / math.sqrt(fan_in)      # kaiming_uniform(a=sqrt(5)): gain sqrt(2 / 6) * sqrt(3 / fan_in)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.weight.data).max() > 0.9 * bound
    assert np.abs(conv.bias.data).max() <= bound
    tg.manual_seed(0)
    again = nn.Conv2d(4, 64, kernel_size=(3, 5), groups=2)
    assert np.array_equal(conv.weight.data, again.weight.data)


def test_state_dict_keys_and_repr():
    conv = nn.Conv1d(2, 4, 3, stride=2, padding=1, bias=False, dtype=np.float32)
    assert list(conv.state_dict()) == ["weight"] and conv.weight.shape == (4, 2, 3)
    assert conv.weight.dtype == np.float32
    assert repr(conv) == "Conv1d(2, 4, kernel_size=(3,), stride=(2,), padding=(1,), bias=False)"
    assert repr(nn.Conv2d(1, 2, 3, padding="same")) == \
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=same)"   # as torch prints it


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Conv2d: padding must be >= 0"):   # at construction, not at the first call
        nn.Conv2d(1, 1, 3, padding=(1, -1))
    with pytest.raises(ValueError, match="Conv1d: padding must be an int, a tuple, 'valid' or 'same'"):
        nn.Conv1d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular'"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match="has 2 channels.*expects 3"):
        conv(Value(np.zeros((1, 2, 5, 5))))
    with pytest.raises(TypeError, match="same floating dtype"):
        conv(Value(np.zeros((1, 3, 5, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv(Value(np.zeros((1, 3, 2, 2))))


def test_unbatched_input(rng):
    conv = nn.Conv2d(2, 3, 3, padding=1, generator=0)
    x = rng.normal(size=(2, 5, 5))
    assert np.allclose(conv(Value(x)).data, conv(Value(x[None])).data[0])


def test_gradient_of_gradient_flows_through_conv(rng):
    """Second-order: the input gradient (conv2d_input) is itself differentiable in the weight."""
    conv = nn.Conv2d(2, 2, 3, padding=1, generator=0)
    x = Value(rng.normal(size=(1, 2, 4, 4)), requires_grad=True)
    (gx,) = tg.grad((conv(x) ** 2).sum(), x, create_graph=True)
    (gx * gx).sum().backward()
    assert conv.weight.grad is not None and np.abs(conv.weight.grad.data).sum() > 0


# ---------------------------------------------------------------------------- PyTorch parity

try:
    import torch
except ImportError:   # the PyTorch comparisons below skip; everything above runs without torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch parity needs torch (pip install torch)")


def check_layer(ours, theirs, x, rng, rtol=1e-11, atol=1e-12):
    """Load our state into the torch layer; same output, input gradient and parameter gradients (float64)."""
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    xv, xt = Value(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xv), theirs(xt)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=rtol, atol=atol)
    weights = rng.normal(size=ref.shape)
    (out * weights).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(xv.grad.data, xt.grad.numpy(), rtol=rtol, atol=atol)
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(mine[name].grad.data, p.grad.numpy(), rtol=rtol, atol=atol, err_msg=name)


CONV2D = [c for c in itertools.product([1, 2, (2, 1)], [0, 1, (1, 2), "same", "valid"], [1, (2, 1)], [1, 2],
                                       [True, False]) if not (c[1] == "same" and c[0] != 1)]   # torch refuses those


@needs_torch
@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")   # torch's note about its own copy
@pytest.mark.parametrize("stride, padding, dilation, groups, bias", CONV2D)
def test_conv2d_matches_torch(rng, stride, padding, dilation, groups, bias):
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    ours = nn.Conv2d(4, 6, (3, 2), **args, generator=1)
    theirs = torch.nn.Conv2d(4, 6, (3, 2), **args).double()
    check_layer(ours, theirs, rng.normal(size=(2, 4, 7, 6)), rng)


@needs_torch
@pytest.mark.parametrize("stride, padding, dilation, groups",
                         [c for c in itertools.product([1, 3], [0, 2, "same"], [1, 2], [1, 3])
                          if not (c[1] == "same" and c[0] != 1)])
def test_conv1d_matches_torch(rng, stride, padding, dilation, groups):
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    ours = nn.Conv1d(3, 6, 4, **args, generator=2)
    theirs = torch.nn.Conv1d(3, 6, 4, **args).double()
    check_layer(ours, theirs, rng.normal(size=(2, 3, 13)), rng)


def test_padding_modes_pad_the_input_then_convolve_without_padding(rng):
    """padding_mode='reflect' (and the others) is the 'zeros' convolution of the input padded by F.pad's mode."""
    x = Value(rng.normal(size=(1, 2, 5, 4)))
    for mode in ("reflect", "replicate", "circular"):
        layer = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, generator=4)
        plain = nn.Conv2d(2, 3, 3, padding=0, generator=4)
        padded = F.pad(x, (2, 2, 1, 1), mode=mode)
        np.testing.assert_array_equal(layer(x).data, plain(padded).data)
        assert f"padding_mode={mode}" in repr(layer)
    with pytest.raises(ValueError, match="less than the axis size"):   # reflect needs padding < size
        nn.Conv1d(1, 1, 3, padding=3, padding_mode="reflect")(Value(np.zeros((1, 1, 3))))


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding, stride, dilation", [(1, 1, 1), ((2, 1), 2, 1), ("same", 1, (2, 1))])
def test_conv2d_padding_modes_match_torch(rng, mode, padding, stride, dilation):
    args = dict(padding=padding, stride=stride, dilation=dilation, padding_mode=mode)
    ours = nn.Conv2d(3, 4, (3, 2), **args, generator=5)
    theirs = torch.nn.Conv2d(3, 4, (3, 2), **args).double()
    assert repr(ours) == repr(theirs)
    check_layer(ours, theirs, rng.normal(size=(2, 3, 7, 6)), rng)


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv1d_padding_modes_match_torch(rng, mode):
    ours = nn.Conv1d(2, 3, 4, padding=2, padding_mode=mode, generator=6)
    theirs = torch.nn.Conv1d(2, 3, 4, padding=2, padding_mode=mode).double()
    check_layer(ours, theirs, rng.normal(size=(2, 2, 9)), rng)


@needs_torch
def test_conv_float32_matches_torch(rng):
    ours = nn.Conv2d(3, 8, 3, padding=1, dtype=np.float32, generator=3)
    theirs = torch.nn.Conv2d(3, 8, 3, padding=1)
    check_layer(ours, theirs, rng.normal(size=(4, 3, 8, 8)).astype(np.float32), rng, rtol=1e-4, atol=1e-5)


@needs_torch
def test_conv2d_adjoints_match_torch_nn_grad(rng):
    x, w = rng.normal(size=(2, 4, 7, 6)), rng.normal(size=(6, 2, 3, 3))
    g = rng.normal(size=(2, 6, 4, 3))
    args = dict(stride=2, padding=(1, 2), dilation=(1, 2), groups=2)
    theirs_in = torch.nn.grad.conv2d_input(x.shape, torch.tensor(w), torch.tensor(g), **args)
    theirs_w = torch.nn.grad.conv2d_weight(torch.tensor(x), w.shape, torch.tensor(g), **args)
    np.testing.assert_allclose(tg.ops.conv2d_input(x.shape, w, g, **args), theirs_in.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tg.ops.conv2d_weight(x, w.shape, g, **args), theirs_w.numpy(), rtol=1e-12)


@needs_torch
def test_second_order_matches_torch(rng):
    x, w = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3))
    xv, wv = Value(x, requires_grad=True), Value(w, requires_grad=True)
    (gx,) = tg.grad((tg.nn.functional.conv2d(xv, wv, padding=1) ** 2).sum(), xv, create_graph=True)
    (gx * gx).sum().backward()
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    (gxt,) = torch.autograd.grad((torch.nn.functional.conv2d(xt, wt, padding=1) ** 2).sum(), xt, create_graph=True)
    (gxt * gxt).sum().backward()
    np.testing.assert_allclose(wv.grad.data, wt.grad.numpy(), rtol=1e-11)
    np.testing.assert_allclose(xv.grad.data, xt.grad.numpy(), rtol=1e-11)
