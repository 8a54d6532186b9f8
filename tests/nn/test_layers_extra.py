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


torch = pytest.importorskip("torch", reason="PyTorch parity needs torch")


@pytest.mark.parametrize("ours, theirs", [(nn.GELU(), torch.nn.GELU()), (nn.GELU("tanh"), torch.nn.GELU("tanh")),
                                          (nn.SiLU(), torch.nn.SiLU())])
def test_activation_layers_match_torch(ours, theirs):
    x = np.random.default_rng(0).normal(size=(4, 5)) * 3
    xv, xt = Value(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xv).sum().backward()
    theirs(xt).sum().backward()
    np.testing.assert_allclose(ours(Value(x)).data, theirs(torch.tensor(x)).numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(xv.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert repr(ours) == repr(theirs)
