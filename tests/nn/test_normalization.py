"""BatchNorm1d/2d and LayerNorm: buffers and modes without PyTorch; then against torch.nn in float64: outputs,
input and parameter gradients, running statistics after several steps (momentum, cumulative average,
affine, track_running_stats), eval mode, and state dicts moving both ways."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from tinygrad_lab import Value, nn


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def test_buffers_are_in_the_state_dict_but_not_parameters():
    bn = nn.BatchNorm2d(3)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert bn.num_batches_tracked.dtype == np.int64
    assert list(nn.BatchNorm1d(2, track_running_stats=False, affine=False).state_dict()) == []


def test_eval_uses_running_statistics_and_does_not_update_them(rng):
    bn = nn.BatchNorm1d(2, momentum=0.5)
    bn(Value(rng.normal(3.0, 2.0, size=(8, 2))))
    mean, var = bn.running_mean.copy(), bn.running_var.copy()
    bn.eval()
    x = rng.normal(size=(4, 2))
    out = bn(Value(x))
    assert np.allclose(out.data, (x - mean) / np.sqrt(var + bn.eps))
    assert np.array_equal(bn.running_mean, mean) and int(bn.num_batches_tracked) == 1


def test_a_failed_forward_changes_nothing():
    bn = nn.BatchNorm1d(2)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(Value(np.zeros((1, 2))))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        bn(Value(np.zeros((2, 2, 2, 2))))
    assert int(bn.num_batches_tracked) == 0 and np.array_equal(bn.running_mean, np.zeros(2))


def test_layer_norm_normalises_each_sample(rng):
    x = rng.normal(5.0, 3.0, size=(4, 6))
    out = nn.LayerNorm(6, eps=0.0)(Value(x)).data
    assert np.allclose(out.mean(axis=1), 0) and np.allclose(out.var(axis=1), 1)


def test_load_state_dict_moves_the_buffers(rng):
    a, b = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    a(Value(rng.normal(size=(5, 3))))
    b.load_state_dict(a.state_dict())
    assert np.array_equal(b.running_var, a.running_var) and int(b.num_batches_tracked) == 1


try:
    import torch
except ImportError:   # the PyTorch comparisons below skip; everything above runs without torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch parity needs torch (pip install torch)")


def to_torch(state):
    return {k: torch.tensor(v) for k, v in state.items()}


def step_both(ours, theirs, x, rng):
    xv, xt = Value(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xv), theirs(xt)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-11, atol=1e-12)
    weights = rng.normal(size=ref.shape)
    (out * weights).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(xv.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(mine[name].grad.data, p.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
        mine[name].grad = None
        p.grad = None


def same_state(ours, theirs):
    ref = theirs.state_dict()
    mine = ours.state_dict()
    assert list(mine) == list(ref)
    for key, value in ref.items():
        np.testing.assert_allclose(mine[key], value.numpy(), rtol=1e-12, atol=1e-14, err_msg=key)


BN = list(itertools.product([0.1, None, 0.7], [True, False], [True, False]))


@needs_torch
@pytest.mark.parametrize("momentum, affine, track", BN)
@pytest.mark.parametrize("layer, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                          ("BatchNorm2d", (4, 3, 2, 5))])
def test_batch_norm_matches_torch_over_several_steps(rng, layer, shape, momentum, affine, track):
    ours = getattr(nn, layer)(3, momentum=momentum, affine=affine, track_running_stats=track)
    theirs = getattr(torch.nn, layer)(3, momentum=momentum, affine=affine, track_running_stats=track).double()
    if affine:
        ours.weight.data[:] = rng.normal(size=3)
        ours.bias.data[:] = rng.normal(size=3)
    theirs.load_state_dict(to_torch(ours.state_dict()))
    for _ in range(4):
        step_both(ours, theirs, rng.normal(2.0, 3.0, size=shape), rng)
    same_state(ours, theirs)
    ours.eval()
    theirs.eval()
    step_both(ours, theirs, rng.normal(size=shape), rng)
    same_state(ours, theirs)


@needs_torch
def test_trained_state_dict_loads_into_torch(rng):
    ours = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3),
                         nn.LayerNorm(3))
    for _ in range(3):
        ours(Value(rng.normal(size=(5, 2, 6, 6))))
    ours.eval()
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.Linear(64, 3), torch.nn.LayerNorm(3)).double().eval()
    theirs.load_state_dict(to_torch(ours.state_dict()))
    x = rng.normal(size=(3, 2, 6, 6))
    np.testing.assert_allclose(ours(Value(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-11,
                               atol=1e-12)


@needs_torch
@pytest.mark.parametrize("normalized_shape, affine, bias", [(5, True, True), ((4, 5), True, False),
                                                           ((3, 4, 5), False, True)])
def test_layer_norm_matches_torch(rng, normalized_shape, affine, bias):
    ours = nn.LayerNorm(normalized_shape, elementwise_affine=affine, bias=bias)
    theirs = torch.nn.LayerNorm(normalized_shape, elementwise_affine=affine, bias=bias).double()
    for p in ours.parameters():
        p.data[...] = rng.normal(size=p.shape)
    theirs.load_state_dict(to_torch(ours.state_dict()))
    step_both(ours, theirs, rng.normal(1.0, 2.0, size=(2, 3, 4, 5)), rng)
