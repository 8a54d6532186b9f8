"""Each diagnosis rule on its own: crafted Jacobian pairs where it must fire, and where it must not."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from tinygrad_lab import Value
from tinygrad_lab.testing import GradcheckError, gradcheck
from tinygrad_lab.testing import diagnosis as dx
from tinygrad_lab.testing import strategies as tst
from tinygrad_lab.testing.diagnosis import JacobianPair
from tinygrad_lab.testing.tolerance import Tolerance

from .faulty_ops import HalfSquare, MeanBias


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240613)


def elementwise(derivative: np.ndarray) -> np.ndarray:
    """The Jacobian of an elementwise op: the derivative on the diagonal."""
    return np.diag(derivative.ravel())


def broadcast_rows(rows: int, cols: int) -> np.ndarray:
    """d(x + b)/db for b of shape (cols,) broadcast over `rows` rows: output (rows, cols) x input (cols,)."""
    return np.tile(np.eye(cols), (rows, 1))


# ----------------------------------------------------------------------------- zero and invented gradients


def test_zero_gradient_fires_only_when_analytic_is_zero_and_numeric_is_not(rng):
    n = elementwise(rng.uniform(0.5, 2.0, 3))
    assert dx.zero_gradient(JacobianPair(np.zeros_like(n), n, (3,), (3,))).startswith("zero gradient")
    assert dx.zero_gradient(JacobianPair(0.5 * n, n, (3,), (3,))) is None
    assert dx.zero_gradient(JacobianPair(np.zeros((3, 3)), np.zeros((3, 3)), (3,), (3,))) is None


def test_output_independent_of_input_fires_when_numeric_is_zero(rng):
    a = elementwise(rng.uniform(0.5, 2.0, 3))
    assert "numeric gradient is zero" in dx.output_independent_of_input(JacobianPair(a, np.zeros_like(a), (3,), (3,)))
    assert dx.output_independent_of_input(JacobianPair(a, a, (3,), (3,))) is None


# ----------------------------------------------------------------------------- sign and constant factors


def test_sign_flip_fires_for_minus_numeric_only(rng):
    n = rng.normal(size=(4, 4))
    assert dx.sign_flip(JacobianPair(-n, n, (4,), (4,))).startswith("sign flipped")
    assert dx.sign_flip(JacobianPair(-2 * n, n, (4,), (4,))) is None
    flipped_once = n.copy()
    flipped_once[0, 0] *= -1
    assert dx.sign_flip(JacobianPair(flipped_once, n, (4,), (4,))) is None


@pytest.mark.parametrize("factor, text", [(3.0, "3"), (0.25, "0.25 (= 1/4)"), (-0.5, "-0.5 (= -1/2)")])
def test_constant_factor_names_the_factor(rng, factor, text):
    n = rng.normal(size=(3, 5))
    hint = dx.constant_factor(JacobianPair(factor * n, n, (5,), (3,)))
    assert hint.startswith(f"off by a constant factor: analytic = {text} x numeric")


def test_constant_factor_does_not_fire_without_a_common_factor(rng):
    n = rng.normal(size=(3, 3))
    assert dx.constant_factor(JacobianPair(n * [1.0, 2.0, 3.0], n, (3,), (3,))) is None
    assert dx.constant_factor(JacobianPair(n, n, (3,), (3,))) is None           # factor 1: nothing wrong
    assert dx.constant_factor(JacobianPair(n, np.zeros_like(n), (3,), (3,))) is None


def test_uniform_fans_read_broadcasts_and_reductions():
    assert dx.uniform_fans(JacobianPair(broadcast_rows(3, 4), broadcast_rows(3, 4), (4,), (3, 4))) == {1, 3}
    reduction = np.ones((1, 5))  # sum over an axis of length 5
    assert dx.uniform_fans(JacobianPair(reduction, reduction, (5,), ())) == {1, 5}
    assert dx.uniform_fans(JacobianPair(np.eye(3), np.eye(3), (3,), (3,))) == {1}


def test_mean_instead_of_sum_fires_for_a_broadcast_averaged_over_its_axis():
    n = broadcast_rows(3, 4)
    hint = dx.mean_instead_of_sum(1 / 3, JacobianPair(n / 3, n, (4,), (3, 4)))
    assert hint == "; 1/3 is 1/(size of an axis of length 3): a mean where a sum belongs?"
    assert "a mean where a sum belongs" in dx.constant_factor(JacobianPair(n / 3, n, (4,), (3, 4)))


def test_mean_instead_of_sum_needs_the_axis_structure_not_only_the_number(rng):
    # an elementwise op off by 1/3 on an input that happens to have an axis of length 3
    n = elementwise(rng.uniform(0.5, 2.0, 6))
    pair = JacobianPair(n / 3, n, (2, 3), (2, 3))
    assert dx.mean_instead_of_sum(1 / 3, pair) is None
    assert "mean where a sum belongs" not in dx.constant_factor(pair)


def test_mean_instead_of_sum_leaves_axes_of_length_2_to_factor_two():
    """issue 13: x = 2 with an axis of length 2 made the hint fire where a factor 2 was simply forgotten."""
    x = np.array([2.0, 2.0])
    half_square = JacobianPair(np.diag(x), np.diag(2 * x), (2,), (2,))   # d(x^2)/dx written as x
    assert dx.mean_instead_of_sum(0.5, half_square) is None
    hint = dx.constant_factor(half_square)
    assert hint.endswith("; a missing factor 2 (e.g. d(x^2)/dx = 2x written as x)?")
    assert "mean" not in hint
    n = broadcast_rows(2, 2)                                             # a real mean over 2 broadcast rows
    assert dx.mean_instead_of_sum(0.5, JacobianPair(n / 2, n, (2,), (2, 2))) is None
    assert "or a mean over an axis of length 2 where a sum belongs" in dx.constant_factor(JacobianPair(n / 2, n, (2,),
                                                                                                        (2, 2)))


def test_sum_instead_of_mean_fires_for_a_reduction_summed_where_it_averages():
    n = np.full((1, 4), 0.25)  # d mean(x)/dx for x of shape (4,)
    assert dx.sum_instead_of_mean(4.0, JacobianPair(4 * n, n, (4,), ())) == (
        "; 4 is the size of an axis of length 4: a sum where a mean belongs?")
    assert dx.sum_instead_of_mean(4.0, JacobianPair(4 * np.eye(4), np.eye(4), (4,), (4,))) is None  # elementwise


def test_factor_two_fires_for_2_and_one_half_only():
    pair = JacobianPair(np.eye(3), np.eye(3), (3,), (3,))
    assert "an extra factor 2" in dx.factor_two(2.0, pair)
    assert "an extra factor 2" in dx.factor_two(-2.0, pair)
    assert "a missing factor 2" in dx.factor_two(0.5, pair)
    assert dx.factor_two(3.0, pair) is None and dx.factor_two(1 / 3, pair) is None


# ----------------------------------------------------------------------------- transposes


def test_transposed_last_axes_fires_for_a_gradient_returned_transposed(rng):
    n = rng.normal(size=(2, 9))  # two outputs, input of shape (3, 3)
    swapped = np.swapaxes(n.reshape(2, 3, 3), -1, -2).reshape(2, 9)
    assert dx.transposed_last_axes(JacobianPair(swapped, n, (3, 3), (2,))).startswith("transposed:")
    assert dx.transposed_last_axes(JacobianPair(2 * n, n, (3, 3), (2,))) is None
    assert dx.transposed_last_axes(JacobianPair(rng.normal(size=(2, 9)), n, (3, 3), (2,))) is None
    assert dx.transposed_last_axes(JacobianPair(n[:, :6], n[:, :6], (2, 3), (2,))) is None  # not square


def test_transposed_jacobian_fires_for_j_instead_of_j_transposed(rng):
    w = rng.normal(size=(3, 3))
    assert dx.transposed_jacobian(JacobianPair(w.T, w, (3,), (3,))).startswith("transposed Jacobian")
    assert dx.transposed_jacobian(JacobianPair(-w, w, (3,), (3,))) is None
    rectangular = rng.normal(size=(2, 3))
    assert dx.transposed_jacobian(JacobianPair(rectangular, rectangular, (3,), (2,))) is None


# ----------------------------------------------------------------------------- broadcasting


def test_one_broadcast_copy_fires_when_only_one_row_of_a_broadcast_is_kept():
    n = broadcast_rows(3, 2)
    first_row_only = n * (np.arange(6) // 2 == 0)[:, None]
    hint = dx.one_broadcast_copy(JacobianPair(first_row_only, n, (2,), (3, 2)))
    assert "index 0 along output axis 0" in hint and "g.sum(axis=0)" in hint
    # an input that is not broadcast (each element reaches one output): no broadcast copy to take
    diagonal = np.eye(3)
    assert dx.one_broadcast_copy(JacobianPair(diagonal * [1.0, 0.0, 0.0], diagonal, (3,), (3,))) is None


def test_reduced_over_an_unbroadcast_axis_fires_for_a_reduction_the_forward_did_not_make():
    n = np.eye(3)
    assert "summed over axis 0" in dx.reduced_over_an_unbroadcast_axis(JacobianPair(np.ones((3, 3)), n, (3,), (3,)))
    assert dx.reduced_over_an_unbroadcast_axis(JacobianPair(2 * n, n, (3,), (3,))) is None
    assert dx.reduced_over_an_unbroadcast_axis(JacobianPair(n[:1, :1], n[:1, :1], (), ())) is None


def test_missing_reduction_term_fires_for_a_dropped_mean_path():
    n = np.kron(np.eye(2), np.eye(3) - 1 / 3)   # x - x.mean(axis=1, keepdims=True) for x of shape (2, 3)
    hint = dx.missing_reduction_term(JacobianPair(np.eye(6), n, (2, 3), (2, 3)))
    assert hint.startswith("missing broadcast reduction term") and "axis 1" in hint
    assert dx.missing_reduction_term(JacobianPair(np.eye(6) * 2, np.eye(6), (2, 3), (2, 3))) is None


# ----------------------------------------------------------------------------- masks and kinks


def test_wrong_mask_fires_when_analytic_is_zero_where_numeric_is_not():
    n = np.diag([1.0, 2.0, 3.0])
    assert "zero at 1 entries" in dx.wrong_mask(JacobianPair(np.diag([1.0, 0.0, 3.0]), n, (3,), (3,)))
    assert dx.wrong_mask(JacobianPair(np.diag([1.0, 0.0, 4.0]), n, (3,), (3,))) is None  # wrong elsewhere too


def test_all_wrong_entries_at_kinks_needs_every_wrong_column_at_a_kink():
    pair = JacobianPair(np.diag([0.0, 0.0, 3.0]), np.diag([0.5, 1.0, 3.0]), (3,), (3,))
    assert dx.all_wrong_entries_at_kinks(pair, {0, 1}).startswith("every wrong entry is at a non-differentiable")
    assert dx.all_wrong_entries_at_kinks(pair, {0}) is None
    assert dx.all_wrong_entries_at_kinks(pair, ()) is None


# ----------------------------------------------------------------------------- the order of the rules


def test_diagnose_gives_the_first_fitting_hint_and_nothing_for_noise(rng):
    n = rng.normal(size=(3, 3))
    assert dx.diagnose(JacobianPair(-n, n, (3,), (3,)))[0].startswith("sign flipped")
    assert dx.diagnose(JacobianPair(np.zeros_like(n), n, (3,), (3,)))[0].startswith("zero gradient")
    assert dx.diagnose(JacobianPair(n + rng.normal(size=(3, 3)), n, (3,), (3,))) == []


def test_diagnose_respects_the_tolerance(rng):
    n = rng.uniform(1.0, 2.0, size=(2, 2))
    nearly_flipped = -n * (1 + 1e-4)
    assert dx.diagnose(JacobianPair(nearly_flipped, n, (2,), (2,), Tolerance(rtol=1e-3)))[0].startswith("sign")
    strict = dx.diagnose(JacobianPair(nearly_flipped, n, (2,), (2,), Tolerance(atol=0.0, rtol=1e-6)))
    assert strict and not strict[0].startswith("sign")  # no longer -numeric within the tolerance: a factor instead


# ----------------------------------------------------------------------------- causes, shapes, projections


def test_graph_cut_names_the_cause():
    assert "output 1 does not require grad" in dx.graph_cut("output 1", "input 0", False, False)
    assert "no gradient (None) for input 2" in dx.graph_cut("output 0", "input 2", True, True)
    assert dx.graph_cut("output 0", "input 0", True, False) is None


def test_shape_mismatch_hints():
    assert dx.shape_mismatch((3, 2), (2, 3)).startswith("transposed")
    assert "g.sum(axis=1)" in dx.shape_mismatch((4, 3), (4,))
    assert "g.sum(axis=(0, 2))" in dx.shape_mismatch((5, 4, 3), (4,))
    assert dx.shape_mismatch((5,), (4,)).startswith("the gradient's shape must equal")


def test_projection_hint():
    g = np.ones(3)
    assert dx.projection_hint("input 0", None, 0.0, 1.0, 1e-5).startswith("zero gradient for input 0")
    assert dx.projection_hint("input 0", g, -1.0, 1.0, 1e-5).startswith("sign flipped for input 0")
    assert "analytic = 0.5 x numeric" in dx.projection_hint("input 0", g, 0.5, 1.0, 1e-5)
    assert dx.projection_hint("input 0", g, 0.5, 0.0, 1e-5) == ""


# ----------------------------------------------------------------------------- end to end: the mean-vs-sum hint




def hints_of(func, inputs) -> str:
    with pytest.raises(GradcheckError) as info:
        gradcheck(func, inputs)
    return "\n".join(h for f in info.value.failures for h in f.hints)


def test_x_equal_2_on_an_axis_of_length_2_is_a_missing_factor_not_a_mean():
    """The example hypothesis shrank to (issue 13): no 'mean where a sum belongs' for an elementwise mistake."""
    hints = hints_of(lambda x: x.detach() * x, (Value([2.0, 2.0], requires_grad=True),))
    assert "analytic = 0.5 (= 1/2) x numeric; a missing factor 2" in hints and "mean" not in hints
    hints = hints_of(lambda x: HalfSquare.apply(x), (Value([[2.0, 2.0], [2.0, 2.0]], requires_grad=True),))
    assert "a missing factor 2" in hints and "mean" not in hints


def test_a_real_mean_over_broadcast_rows_is_named(rng):
    def mean_bias_hints(rows: int) -> str:
        x, b = Value(rng.normal(size=(rows, 4)), requires_grad=True), Value(rng.normal(size=4), requires_grad=True)
        return hints_of(lambda x, b: MeanBias.apply(x, b), (x, b))

    assert "1/3 is 1/(size of an axis of length 3): a mean where a sum belongs?" in mean_bias_hints(3)
    two_rows = mean_bias_hints(2)
    assert "a missing factor 2" in two_rows and "or a mean over an axis of length 2 where a sum belongs" in two_rows


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tst.arrays(shape=tst.shapes(min_dims=1, max_dims=2, max_side=3), min_value=0.5, max_value=3.0))
def test_an_elementwise_factor_is_never_blamed_on_a_mean(data):
    hints = hints_of(lambda x: HalfSquare.apply(x), (Value(data, requires_grad=True),))
    assert "a missing factor 2" in hints and "mean where a sum belongs" not in hints
