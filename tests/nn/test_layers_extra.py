"""GELU, SiLU and Unflatten layers (issue 11): behaviour and errors; PyTorch parity (skips without torch)."""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lab import Value, nn


def test_unflatten_inverts_flatten():
    x = Value(np.arange(24.0).reshape(2, 3, 4))
    flat = nn.Flatten()(x)
    assert np.array_equal(nn.Unflatten(1, (3, 4))(flat).data, x.data)
    assert nn.Unflatten(-1, (2, -1))(flat).shape == (2, 2, 6)
    with pytest.raises(ValueError, match="does not fit"):
        nn.Unflatten(1, (5, 5))(flat)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        nn.GELU("fast")


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2, generator=0), (2, 2, 5, 5)),
    (lambda: nn.Conv1d(2, 3, 3, padding="same", dilation=2, generator=0), (2, 2, 6)),
    (lambda: nn.MaxPool2d(2, stride=1), (2, 2, 3, 3)),
    (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 2, 5, 5)),
    (lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 2, 5, 4)),
    (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
    (lambda: nn.BatchNorm1d(2).eval(), (3, 2)),
    (lambda: nn.LayerNorm((2, 3)), (2, 2, 3)),
    (lambda: nn.GELU(), (3, 4)),
    (lambda: nn.SiLU(), (3, 4)),
])
def test_layers_pass_gradcheck(make, shape):
    """Every parameter and the input of each new layer against finite differences (float64)."""
    from tinygrad_lab.testing import gradcheck_module
    rng = np.random.default_rng(0)
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.07 - 0.5      # distinct values: no max-pool ties
    assert gradcheck_module(make(), (Value(x),))


def test_embedding_passes_gradcheck():
    from tinygrad_lab.testing import gradcheck_module
    emb = nn.Embedding(5, 3, padding_idx=1, generator=0)
    assert gradcheck_module(emb, (np.array([[0, 2, 2], [4, 3, 0]]),), check_inputs=False)


try:
    import torch
except ImportError:   # the PyTorch comparisons below skip; everything above runs without torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch parity needs torch (pip install torch)")


@needs_torch
@pytest.mark.parametrize("name, args", [("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ())])
def test_activation_layers_match_torch(name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    x = np.random.default_rng(0).normal(size=(4, 5)) * 3
    xv, xt = Value(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xv).sum().backward()
    theirs(xt).sum().backward()
    np.testing.assert_allclose(ours(Value(x)).data, theirs(torch.tensor(x)).numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(xv.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert repr(ours) == repr(theirs)


@needs_torch
@pytest.mark.parametrize("name, args, kwargs", [
    ("Conv1d", (2, 4, 3), {"stride": 2, "padding": 1, "bias": False}),
    ("Conv2d", (2, 4, (3, 2)), {"padding": "same", "dilation": 2, "groups": 2}),
    ("MaxPool1d", (3,), {"stride": 1}), ("MaxPool2d", (2,), {}), ("AvgPool1d", (2,), {}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1}), ("AdaptiveAvgPool2d", ((2, 3),), {}),
    ("BatchNorm1d", (3,), {"momentum": None}), ("BatchNorm2d", (4,), {"affine": False}),
    ("LayerNorm", ((2, 3),), {}), ("Embedding", (10, 3), {"padding_idx": 0}), ("Unflatten", (1, (2, 3)), {}),
])
def test_reprs_and_state_dict_keys_match_torch(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape), key
