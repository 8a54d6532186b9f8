"""Gradients at kinks and ties: the conventions, asserted without PyTorch.

Finite differences cannot check these points (the function is not differentiable there), so the value
each op's backward takes there is a convention. It is PyTorch's, so a model trained here and there
gets the same gradients (confirmed against torch 2.13; `tests/test_torch_parity_ops.py` compares again
when PyTorch is installed). docs/engine.md, "Conventions at kinks and ties", lists them.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_lab as tg
from tinygrad_lab import Value, ops


def _grads(fn, *arrays, weights=None):
    """Gradients of sum(weights * fn(*inputs)) for float64 inputs (weights default to ones)."""
    values = [Value(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*values)
    (out if weights is None else out * np.asarray(weights)).sum().backward()
    return [v.grad.data for v in values]


# ---------------------------------------------------------------------------- kinks of elementwise ops

X = [-2.0, -0.0, 0.0, 3.0]   # both zeros: -0.0 == 0.0 must not change the convention


def test_relu_gradient_at_zero_is_zero():
    (g,) = _grads(lambda x: x.relu(), X)
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 1.0])


def test_abs_gradient_at_zero_is_zero():
    (g,) = _grads(lambda x: x.abs(), X)
    np.testing.assert_array_equal(g, [-1.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("slope", [0.01, 0.2, 3.0])
def test_leaky_relu_gradient_at_zero_is_the_negative_slope(slope):
    (g,) = _grads(lambda x: ops.leaky_relu(x, slope), X)
    np.testing.assert_array_equal(g, [slope, slope, slope, 1.0])


def test_clip_gradient_at_its_bounds_is_one():
    x = [-2.0, -1.0, -0.5, 1.0, 2.0]
    (g,) = _grads(lambda x: x.clip(-1.0, 1.0), x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])
    (g,) = _grads(lambda x: x.clip(min=-1.0), x)            # one bound only: the same rule
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 1.0])
    (g,) = _grads(lambda x: x.clip(max=1.0), x)
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0, 1.0, 0.0])


def test_clip_with_equal_bounds_passes_the_gradient_only_at_the_bound():
    (g,) = _grads(lambda x: x.clip(0.5, 0.5), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


# ---------------------------------------------------------------------------- ties of binary selections


def test_maximum_sends_the_gradient_to_the_larger_and_splits_ties_evenly():
    a, b = [1.0, 2.0, 3.0], [2.0, 2.0, 2.0]
    w = [10.0, 20.0, 40.0]   # distinct weights: the gradient of each element is traceable
    ga, gb = _grads(tg.maximum, a, b, weights=w)
    np.testing.assert_array_equal(ga, [0.0, 10.0, 40.0])
    np.testing.assert_array_equal(gb, [10.0, 10.0, 0.0])


def test_minimum_sends_the_gradient_to_the_smaller_and_splits_ties_evenly():
    a, b = [1.0, 2.0, 3.0], [2.0, 2.0, 2.0]
    w = [10.0, 20.0, 40.0]
    ga, gb = _grads(tg.minimum, a, b, weights=w)
    np.testing.assert_array_equal(ga, [10.0, 10.0, 0.0])
    np.testing.assert_array_equal(gb, [0.0, 10.0, 40.0])


def test_tie_with_a_broadcast_operand_sums_its_halves():
    # maximum(x, 0): the scalar gets half of each tie and all of each win, summed over the broadcast
    ga, gb = _grads(tg.maximum, [0.0, 1.0, -1.0, 0.0], 0.0)
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.0, 0.5])
    assert gb.shape == () and gb == 2.0


def test_maximum_of_a_value_with_itself_gives_the_full_gradient():
    x = Value([1.0, -2.0], requires_grad=True)
    tg.maximum(x, x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])   # two halves of one input


# ---------------------------------------------------------------------------- ties of reductions

TIES = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]


def test_max_over_everything_splits_the_gradient_between_ties():
    (g,) = _grads(lambda x: x.max(), TIES)
    np.testing.assert_array_equal(g, [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("keepdims", [False, True])
def test_max_and_min_along_an_axis_split_the_gradient_between_ties(keepdims):
    (g,) = _grads(lambda x: x.max(axis=1, keepdims=keepdims), TIES, weights=[[6.0], [9.0]] if keepdims else
                  [6.0, 9.0])
    np.testing.assert_array_equal(g, [[0.0, 3.0, 3.0], [3.0, 3.0, 3.0]])
    (g,) = _grads(lambda x: x.min(axis=1, keepdims=keepdims), TIES, weights=[[6.0], [9.0]] if keepdims else
                  [6.0, 9.0])
    np.testing.assert_array_equal(g, [[6.0, 0.0, 0.0], [3.0, 3.0, 3.0]])


def test_max_along_axis_0_splits_per_column():
    (g,) = _grads(lambda x: x.max(axis=0), [[1.0, 5.0], [1.0, 4.0]])
    np.testing.assert_array_equal(g, [[0.5, 1.0], [0.5, 0.0]])


# ---------------------------------------------------------------------------- powers at zero


def test_the_exponents_gradient_is_zero_where_the_base_is_zero():
    # d/db a^b = a^b log a is 0 * -inf at a = 0: PyTorch (and we) take 0, also for 0^0 = 1
    with np.errstate(divide="ignore", invalid="ignore"):   # (the base's gradient at 0 ** 0: see the xfail below)
        _, gb = _grads(lambda a, b: a ** b, [0.0, 0.0, 2.0], [0.0, 1.5, 0.0])
    np.testing.assert_array_equal(gb, [0.0, 0.0, np.log(2.0)])


def test_gradient_of_x_to_the_zero_at_zero_is_zero():
    with np.errstate(divide="ignore", invalid="ignore"):
        (g,) = _grads(lambda x: x ** 0.0, [0.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0])


def test_gradient_of_the_base_of_zero_to_the_zero_is_zero():
    with np.errstate(divide="ignore", invalid="ignore"):
        ga, _ = _grads(lambda a, b: a ** b, [0.0], [0.0])
    np.testing.assert_array_equal(ga, [0.0])
