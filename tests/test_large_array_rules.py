"""Elementwise rules on arrays of 4096 elements and more, where `tanh` and `sigmoid` compute their gradients in
their own temporaries: first and second derivatives (under `create_graph`, where the rules get Values and must
take the plain path) against the closed forms written here.

Each test pins behaviour a mutation run found unchecked (docs/mutation.md).
"""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lab import Value, grad


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# (op, f, f', f'') as closed forms of y = f(x)
RULES = [
    ("tanh", np.tanh, lambda y: 1 - y * y, lambda y: -2 * y * (1 - y * y)),
    ("sigmoid", _sigmoid, lambda y: y * (1 - y), lambda y: y * (1 - y) * (1 - 2 * y)),
]


@pytest.mark.parametrize("size", [4095, 4096, 5000])
@pytest.mark.parametrize(("op", "f", "d1", "d2"), RULES, ids=[r[0] for r in RULES])
def test_first_and_second_derivatives_of_large_arrays(rng, op, f, d1, d2, size):
    x = rng.normal(0.0, 1.5, size=size)
    c1, c2 = rng.normal(size=size), rng.normal(size=size)
    xv = Value(x, requires_grad=True)
    y = f(x)
    (g1,) = grad((getattr(xv, op)() * Value(c1)).sum(), xv, create_graph=True)
    np.testing.assert_allclose(g1.data, c1 * d1(y), rtol=1e-10, atol=1e-12)
    (g2,) = grad((g1 * Value(c2)).sum(), xv)
    np.testing.assert_allclose(g2.data, c1 * c2 * d2(y), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(("op", "f", "d1", "d2"), RULES, ids=[r[0] for r in RULES])
def test_float32_gradients_of_large_arrays_stay_float32(rng, op, f, d1, d2):
    x = rng.normal(size=(80, 64)).astype(np.float32)
    c = rng.normal(size=(80, 64)).astype(np.float32)
    xv = Value(x, requires_grad=True)
    getattr(xv, op)().backward(c)
    assert xv.grad.data.dtype == np.float32
    y = f(x.astype(np.float64))
    np.testing.assert_allclose(xv.grad.data, c * d1(y), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size", [4095, 4096, 5000])
@pytest.mark.parametrize("op", ["sigmoid", "silu", "tanh"])
def test_integer_inputs_give_float64_at_every_size(op, size):
    """Integers are promoted to float64 (as torch.sigmoid(int tensor)); the large-array path once wrote exp's
    float result into an integer buffer and raised a casting error from 4096 elements on."""
    import tinygrad_lab.nn.functional as F

    x = np.arange(size) - size // 2
    out = getattr(F, op)(Value(x)).data
    xf = x.astype(np.float64)
    with np.errstate(over="ignore"):   # exp(2500) is inf: the exact 0 of the sigmoid there
        expected = {"sigmoid": _sigmoid(xf), "silu": xf * _sigmoid(xf), "tanh": np.tanh(xf)}[op]
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-15, atol=0)
