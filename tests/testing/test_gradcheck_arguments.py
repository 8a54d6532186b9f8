"""A step or tolerance that cannot give a verdict is refused with a clear error (issue 10), by every check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_lab import Value, nn
from tinygrad_lab.testing import assert_grad_close, check_grads, gradcheck, gradcheck_module, gradgradcheck

from .faulty_ops import HalfSquare


def wrong_func(x):
    return HalfSquare.apply(x)


@pytest.fixture
def x() -> Value:
    return Value(np.random.default_rng(3).normal(size=3), requires_grad=True)


CHECKS = {
    "gradcheck": lambda x, **kw: gradcheck(wrong_func, (x,), **kw),
    "gradgradcheck": lambda x, **kw: gradgradcheck(wrong_func, (x,), **kw),
    "check_grads": lambda x, **kw: check_grads(wrong_func, (x,), **kw),
    "check_grads(method='projection')": lambda x, **kw: check_grads(wrong_func, (x,), method="projection", **kw),
    "assert_grad_close": lambda x, **kw: assert_grad_close(wrong_func, (x,), **kw),
    "gradcheck_module": lambda x, **kw: gradcheck_module(nn.Linear(3, 2), x.data[None, :], **kw),
}
CALLERS = {"check_grads(method='projection')": "check_grads", "assert_grad_close": "check_grads"}


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("eps", [0, 0.0, -1, -1e-6, math.inf, math.nan])
def test_eps_must_be_positive_and_finite(name, eps, x):
    caller = CALLERS.get(name, name)
    with pytest.raises(ValueError, match=rf"^{caller}: eps must be a positive finite number .* got {eps!r}"):
        CHECKS[name](x, eps=eps)


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("option", ["atol", "rtol"])
@pytest.mark.parametrize("value", [-1e-5, math.inf, -math.inf, math.nan])
def test_tolerances_must_be_finite_and_not_negative(name, option, value, x):
    caller = CALLERS.get(name, name)
    with pytest.raises(ValueError, match=rf"^{caller}: {option} must be a finite number >= 0, got {value!r}"):
        CHECKS[name](x, **{option: value})


@pytest.mark.parametrize("option, value", [("eps", "1e-6"), ("eps", True), ("atol", None), ("rtol", [1e-3])])
def test_non_numbers_are_a_type_error(option, value, x):
    with pytest.raises(TypeError, match=rf"gradcheck: {option} must be a real number"):
        gradcheck(wrong_func, (x,), **{option: value})


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_nondet_tol_must_be_finite_and_not_negative(check, value, x):
    with pytest.raises(ValueError, match=rf"{check.__name__}: nondet_tol must be a finite number >= 0"):
        check(wrong_func, (x,), nondet_tol=value)


@pytest.mark.parametrize("directions", [0, -2, 1.5, True])
def test_directions_must_be_a_positive_integer(directions, x):
    """directions=0 used to pass any function: a check with no direction checks nothing."""
    with pytest.raises(ValueError, match="check_grads: directions must be an integer >= 1"):
        check_grads(wrong_func, (x,), method="projection", directions=directions)


def test_order_true_is_not_order_1(x):
    with pytest.raises(ValueError, match="order must be 1 or 2, got True"):
        check_grads(wrong_func, (x,), order=True)


def test_zero_tolerances_and_tiny_eps_are_allowed(x):
    """Strict checks are legitimate (PyTorch allows them); the wrong op is still caught."""
    assert gradcheck(wrong_func, (x,), atol=0, rtol=0, raise_exception=False) is False
    assert gradcheck(lambda x: x * 3.0, (x,), eps=1e-3, atol=0.0, rtol=1e-9)


def test_a_refused_check_leaves_the_inputs_alone(x):
    data, before = x.data, x.data.copy()
    with pytest.raises(ValueError):
        gradcheck(wrong_func, (x,), eps=-1)
    assert x.data is data and np.array_equal(x.data, before) and x.grad is None
