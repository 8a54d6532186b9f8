"""Finite differences are computed in float64 (issue 10): float32 inputs are checked on float64 copies."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_lab import Value
from tinygrad_lab.testing import GradcheckError, GradcheckWarning, check_grads, gradcheck, gradgradcheck

from .faulty_ops import HalfSquare


def float32_value(data) -> Value:
    return Value(np.array(data, dtype=np.float32), requires_grad=True)


def caveats(check, *args, **kwargs) -> list[str]:
    """Run a check that must pass; return the texts of its GradcheckWarnings."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert check(*args, **kwargs) is True
    return [str(w.message) for w in record if issubclass(w.category, GradcheckWarning)]


def test_tanh_at_0_3_in_float32_passes_with_default_tolerances():
    """It used to fail, blaming a kink ("may be no bug") and a constant factor: float32 round-off."""
    (note,) = caveats(gradcheck, lambda x: x.tanh(), (float32_value([0.3]),))
    assert "input 0 is float32, not float64: checked on a float64 copy" in note
    assert "non-differentiable" not in note and "factor" not in note


@pytest.mark.parametrize("check", [
    lambda x: gradcheck(lambda x: (x.tanh() * x).sum(axis=1), (x,)),
    lambda x: gradgradcheck(lambda x: (x.tanh() * x).sum(axis=1), (x,)),
    lambda x: check_grads(lambda x: x.tanh() * x, (x,), order=2),
    lambda x: check_grads(lambda x: x.tanh() * x, (x,), order=2, method="projection", seed=0),
])
def test_every_check_differentiates_float32_inputs_in_float64(check):
    rng = np.random.default_rng(7)
    x = float32_value(rng.uniform(-2.0, 2.0, size=(3, 4)))
    with pytest.warns(GradcheckWarning, match="input 0 is float32, not float64: checked on a float64 copy"):
        assert check(x)


def test_the_users_float32_values_are_untouched():
    rng = np.random.default_rng(8)
    x = float32_value(rng.normal(size=(2, 3)))
    data, before = x.data, x.data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        gradcheck(lambda x: x.exp(), (x,))
        with pytest.raises(GradcheckError):
            gradcheck(lambda x: HalfSquare.apply(x), (x,))
    assert x.data is data and x.dtype == np.float32 and np.array_equal(x.data, before)
    assert x.grad is None and x.requires_grad


def test_a_real_mistake_on_float32_inputs_gets_its_real_hint_and_no_kink():
    error = pytest.raises(GradcheckError, gradcheck, lambda x: HalfSquare.apply(x), (float32_value([0.3, 1.2]),))
    report = str(error.value)
    assert "analytic = 0.5 (= 1/2) x numeric" in report
    assert "non-differentiable" not in report and "round-off" not in report.split("warnings:")[0]


def test_float32_constants_are_converted_too_and_labels_kept():
    rng = np.random.default_rng(9)
    x = Value(rng.normal(size=3).astype(np.float32), requires_grad=True, label="x")
    scale = Value(np.array([0.5, 2.0, -1.0], dtype=np.float32))

    def check_dtypes(x, scale):
        assert x.dtype == np.float64 and scale.dtype == np.float64 and x.label == "x"
        return x.tanh() * scale

    with pytest.warns(GradcheckWarning, match=r"input 0 \('x'\) is float32"):
        assert gradcheck(check_dtypes, (x, scale))


def test_float32_grad_outputs_of_gradgradcheck_are_converted_and_named():
    rng = np.random.default_rng(10)
    x = Value(rng.normal(size=3), requires_grad=True)
    go = Value(rng.normal(size=3).astype(np.float32), requires_grad=True)
    with pytest.warns(GradcheckWarning, match="grad_output 0 is float32, not float64"):
        assert gradgradcheck(lambda x: x.tanh(), (x,), grad_outputs=(go,))
    assert go.dtype == np.float32


def test_func_failing_on_the_float64_copies_says_why():
    x = float32_value([1.0, 2.0])

    def strict(x):
        if x.dtype != np.float32:
            raise TypeError(f"strict wants float32, got {x.dtype}")
        return x * 2

    with pytest.raises(TypeError, match="strict wants float32") as info:
        gradcheck(strict, (x,))
    assert any("float64 copies" in note and "pass them as inputs" in note for note in info.value.__notes__)


def test_a_func_that_casts_to_float32_is_blamed_on_round_off_not_on_kinks_or_the_cast():
    x = Value(np.array([0.3, 0.5]), requires_grad=True)
    report = str(pytest.raises(GradcheckError, gradcheck, lambda x: x.float().tanh(), (x,)).value)
    assert "probably round-off: output 0 is float32" in report
    assert "output 0 is float32, not float64: func casts to lower precision" in report
    assert "is at (or within eps" not in report and "every wrong entry is at a non-differentiable" not in report
    assert "op 'cast'" not in report
