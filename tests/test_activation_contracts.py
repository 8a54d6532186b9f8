"""erf, gelu and silu without PyTorch: values against published erf values and the documented formulas,
gelu's default (exact) and approximate='tanh', NumPy arrays in and out, and erf's two paths: SciPy's
`scipy.special.erf` when SciPy is installed, the C library's `math.erf` otherwise (float32 stays float32,
integers give float64, as SciPy and PyTorch's float results)."""
from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest

from tinygrad_lab import Value
from tinygrad_lab.ops import erf, gelu, silu

# erf at a few points, from tables (Abramowitz & Stegun 7.1; 17 significant digits)
ERF_TABLE = {0.0: 0.0, 0.5: 0.52049987781304654, 1.0: 0.84270079294971487, -2.0: -0.99532226501895273,
             3.5: 0.99999925690162766}


@pytest.fixture
def without_scipy(monkeypatch):
    """erf's fallback, as on a machine without SciPy (an import of scipy.special fails)."""
    monkeypatch.setitem(sys.modules, "scipy.special", None)


@pytest.fixture
def fake_scipy(monkeypatch):
    """A stand-in scipy.special that records what erf is called with (the SciPy path, SciPy installed or not)."""
    calls = []

    def fake_erf(x):
        calls.append(np.array(x, copy=True))
        return np.full(np.shape(x), 0.25)

    special = types.ModuleType("scipy.special")
    special.erf = fake_erf
    package = types.ModuleType("scipy")
    package.special = special
    monkeypatch.setitem(sys.modules, "scipy", package)
    monkeypatch.setitem(sys.modules, "scipy.special", special)
    return calls


@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_erf_matches_the_table(as_value):
    x = np.array(list(ERF_TABLE))
    y = erf(Value(x) if as_value else x)
    assert isinstance(y, Value) == as_value
    got = y.data if as_value else y
    np.testing.assert_allclose(got, list(ERF_TABLE.values()), rtol=1e-15, atol=1e-17)


@pytest.mark.parametrize("dtype, want", [(np.float32, np.float32), (np.float64, np.float64),
                                         (np.int64, np.float64), (np.int32, np.float64), (np.bool_, np.float64)])
def test_erf_fallback_without_scipy(without_scipy, dtype, want):
    x = np.array([0, 1, 0], dtype=dtype) if dtype is np.bool_ else np.array([0.0, 1.0, -2.0]).astype(dtype)
    y = erf(x)
    assert isinstance(y, np.ndarray) and y.dtype == want
    expected = np.array([ERF_TABLE[float(v)] for v in x.astype(np.float64)])
    np.testing.assert_allclose(y, expected, rtol=1e-6 if want == np.float32 else 1e-15)


def test_erf_fallback_keeps_the_shape(without_scipy):
    assert erf(np.array(0.5)).shape == () and erf(np.zeros((2, 0, 3))).shape == (2, 0, 3)
    assert erf(np.zeros((2, 3), dtype=np.float32)).dtype == np.float32


def test_erf_uses_scipy_when_it_is_installed(fake_scipy):
    x = np.array([[0.5, -1.0]])
    y = erf(x)
    assert np.array_equal(y, [[0.25, 0.25]]) and len(fake_scipy) == 1 and np.array_equal(fake_scipy[0], x)
    v = erf(Value(np.array([1.0, 2.0])))
    assert np.array_equal(v.data, [0.25, 0.25]) and np.array_equal(fake_scipy[1], [1.0, 2.0])


def test_erf_gradient(rng):
    x = Value(rng.normal(size=5), requires_grad=True)
    erf(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 / math.sqrt(math.pi) * np.exp(-x.data ** 2), rtol=1e-14)


def _gelu_exact(x):
    return np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in np.ravel(x)]).reshape(np.shape(x))


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


@pytest.mark.parametrize("approximate", [None, "none", "tanh"])
@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_gelu_forms(rng, approximate, as_value):
    x = rng.normal(0.0, 2.0, size=(3, 4))
    args = () if approximate is None else (approximate,)
    y = gelu(Value(x) if as_value else x, *args)
    assert isinstance(y, Value) == as_value
    want = _gelu_tanh(x) if approximate == "tanh" else _gelu_exact(x)
    np.testing.assert_allclose(y.data if as_value else y, want, rtol=1e-13, atol=1e-15)


def test_gelu_forms_differ_where_it_shows():
    """The two forms are not the same function (max difference about 5e-4 near |x| = 2)."""
    x = np.array([-2.0, 1.5, 2.0])
    assert np.max(np.abs(gelu(x) - gelu(x, approximate="tanh"))) > 1e-4


@pytest.mark.parametrize("approximate", ["Tanh", "exact", None, ""])
def test_gelu_refuses_an_unknown_form(approximate):
    with pytest.raises(ValueError, match=r"^gelu: approximate must be 'none' or 'tanh'"):
        gelu(Value([1.0]), approximate=approximate)


@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_silu_is_x_times_sigmoid(rng, as_value):
    x = rng.normal(0.0, 3.0, size=(2, 5))
    y = silu(Value(x) if as_value else x)
    assert isinstance(y, Value) == as_value
    np.testing.assert_allclose(y.data if as_value else y, x / (1 + np.exp(-x)), rtol=1e-14)
