"""Pooling layers: tie and padding conventions without PyTorch; then forward and input gradients against torch.nn
in float64 over kernel / stride / padding / dilation / ceil_mode / count_include_pad / divisor_override."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from tinygrad_lab import Value, nn


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def test_max_pool_sends_the_gradient_to_the_first_maximum():
    x = Value(np.array([[[[1.0, 3.0], [3.0, 0.0]]]]), requires_grad=True)
    nn.MaxPool2d(2)(x).sum().backward()
    assert x.grad.data[0, 0].tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_overlapping_windows_accumulate():
    x = Value(np.array([[[0.0, 5.0, 0.0, 0.0]]]), requires_grad=True)
    nn.MaxPool1d(2, stride=1)(x).sum().backward()
    assert x.grad.data.ravel().tolist() == [0.0, 2.0, 1.0, 0.0]   # the tie [0, 0] picks its first


def test_avg_pool_padding_counts():
    x = Value(np.ones((1, 1, 3, 3)))
    assert nn.AvgPool2d(3, 1, 1)(x).data[0, 0, 0, 0] == pytest.approx(4 / 9)
    assert nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x).data[0, 0, 0, 0] == 1.0
    assert nn.AvgPool2d(3, 1, 1, divisor_override=2)(x).data[0, 0, 0, 0] == 2.0


def test_pool_errors():
    with pytest.raises(ValueError, match="at most half"):
        nn.MaxPool2d(2, padding=2)(Value(np.zeros((1, 1, 4, 4))))
    with pytest.raises(ValueError, match="larger than the padded input"):
        nn.MaxPool2d(5)(Value(np.zeros((1, 1, 4, 4))))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        nn.MaxPool2d(2)(Value(np.zeros((4, 4))))


def test_adaptive_avg_pool_global_average(rng):
    x = rng.normal(size=(2, 3, 5, 7))
    out = nn.AdaptiveAvgPool2d(1)(Value(x))
    assert np.allclose(out.data[..., 0, 0], x.mean(axis=(2, 3)))


try:
    import torch
except ImportError:   # the PyTorch comparisons below skip; everything above runs without torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch parity needs torch (pip install torch)")


def check(ours, theirs, x, rng):
    xv, xt = Value(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xv), theirs(xt)
    if isinstance(ref, tuple):
        assert np.array_equal(out[1].data, ref[1].numpy())
        out, ref = out[0], ref[0]
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-13, atol=1e-14)
    weights = rng.normal(size=ref.shape)
    (out * weights).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(xv.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-14)


MAX2D = [c for c in itertools.product([2, 3, (2, 3)], [None, 1, 2], [0, 1], [1, 2], [False, True])]


@needs_torch
@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", MAX2D)
def test_max_pool2d_matches_torch(rng, kernel, stride, padding, dilation, ceil_mode):
    args = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
                return_indices=True)
    x = rng.normal(size=(2, 3, 7, 8))
    x[0, 0, :2, :2] = 1.0                                          # a tie
    check(nn.MaxPool2d(**args), torch.nn.MaxPool2d(**args), x, rng)


@needs_torch
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode",
                         list(itertools.product([2, 3], [None, 2], [0, 1], [False, True])))
def test_max_pool1d_matches_torch(rng, kernel, stride, padding, ceil_mode):
    args = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
    check(nn.MaxPool1d(**args), torch.nn.MaxPool1d(**args), rng.normal(size=(2, 3, 9)), rng)


AVG2D = [c for c in itertools.product([2, 3, (2, 3)], [None, 1, 2], [0, 1], [False, True], [True, False],
                                      [None, 5])]


@needs_torch
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, count_include_pad, divisor_override", AVG2D)
def test_avg_pool2d_matches_torch(rng, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    args = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad, divisor_override=divisor_override)
    check(nn.AvgPool2d(**args), torch.nn.AvgPool2d(**args), rng.normal(size=(2, 3, 7, 8)), rng)


@needs_torch
@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, count_include_pad",
                         list(itertools.product([2, 3], [None, 2], [0, 1], [False, True], [True, False])))
def test_avg_pool1d_matches_torch(rng, kernel, stride, padding, ceil_mode, count_include_pad):
    args = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad)
    check(nn.AvgPool1d(**args), torch.nn.AvgPool1d(**args), rng.normal(size=(2, 3, 9)), rng)


@needs_torch
@pytest.mark.parametrize("output_size", [1, 3, (2, 5), (None, 3), 7, (4, 8)])
def test_adaptive_avg_pool2d_matches_torch(rng, output_size):
    check(nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size),
          rng.normal(size=(2, 3, 7, 8)), rng)


@pytest.mark.parametrize(("call", "message"), [
    (lambda x4, x3: nn.MaxPool2d(2, ceil_mode="no")(x4), "max_pool2d: ceil_mode must be True or False, got str 'no'"),
    (lambda x4, x3: nn.MaxPool1d(2, return_indices=1)(x3), "max_pool1d: return_indices must be True or False"),
    (lambda x4, x3: nn.AvgPool2d(2, count_include_pad="no")(x4), "avg_pool2d: count_include_pad must be True or"),
    (lambda x4, x3: nn.AvgPool1d(2, ceil_mode=None)(x3), "avg_pool1d: ceil_mode must be True or False"),
])
def test_pooling_flags_must_be_bools(call, message):
    """A string such as "no" is truthy: taken as a flag it would silently turn ceil mode (or the rest) on."""
    x4, x3 = Value(np.zeros((1, 1, 5, 5))), Value(np.zeros((1, 1, 5)))
    with pytest.raises(TypeError, match=message):
        call(x4, x3)


def test_pooling_flags_accept_numpy_bools():
    x = Value(np.arange(25.0).reshape(1, 1, 5, 5))
    assert nn.MaxPool2d(2, ceil_mode=np.bool_(True))(x).shape == (1, 1, 3, 3)
