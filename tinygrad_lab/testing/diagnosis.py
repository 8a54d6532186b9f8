"""Fault diagnosis: which known mistake a wrong gradient looks like, one small rule per mistake.

Each rule looks at a :class:`JacobianPair` (the analytic Jacobian from backward, the numeric one from
finite differences, the shapes, the tolerance) and returns a hint, or None when the pattern is not
there. :func:`diagnose` asks the rules in order. To add a hint, write a rule here, add it to
:func:`diagnose`, and give it a test in ``tests/testing/test_diagnosis.py`` that feeds it crafted
Jacobians where it must fire and where it must not.

Example:
    >>> pair = JacobianPair(np.diag([1.0, 2.0, 3.0]), np.diag([2.0, 4.0, 6.0]), (3,), (3,))
    >>> print(*diagnose(pair))
    off by a constant factor: analytic = 0.5 (= 1/2) x numeric; a missing factor 2 (e.g. d(x^2)/dx = 2x
    written as x)?
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .tolerance import Tolerance

__all__ = [
    "JacobianPair", "diagnose", "zero_gradient", "output_independent_of_input", "sign_flip", "constant_factor",
    "uniform_fans", "mean_instead_of_sum", "sum_instead_of_mean", "factor_two", "transposed_last_axes",
    "transposed_jacobian", "one_broadcast_copy", "reduced_over_an_unbroadcast_axis", "missing_reduction_term",
    "wrong_mask", "all_wrong_entries_at_kinks", "graph_cut", "axes_to_sum", "shape_mismatch", "projection_hint",
    "NOT_TWICE_DIFFERENTIABLE",
]

Rule = Callable[["JacobianPair"], "str | None"]


@dataclass(frozen=True, eq=False)
class JacobianPair:
    """A wrong gradient to diagnose: analytic and numeric Jacobians (output size x input size) and shapes.

    Example:
        >>> pair = JacobianPair(np.zeros((2, 2)), np.eye(2), input_shape=(2,), output_shape=(2,))
        >>> pair.tol.atol
        1e-05
    """

    analytic: np.ndarray
    numeric: np.ndarray
    input_shape: tuple
    output_shape: tuple
    tol: Tolerance = Tolerance()

    def is_zero(self, jacobian: np.ndarray) -> bool:
        """Every entry is within atol of zero."""
        return bool(np.all(np.abs(jacobian) <= self.tol.atol))


# ----------------------------------------------------------------------------- zero, sign, constant factor


def zero_gradient(pair: JacobianPair) -> str | None:
    """The analytic Jacobian is all zero but the numeric one is not: backward gave nothing for this input.

    Example:
        >>> zero_gradient(JacobianPair(np.zeros((2, 2)), np.eye(2), (2,), (2,)))
        'zero gradient: the analytic gradient is all zero but the numeric one is not ...'
    """
    if pair.is_zero(pair.analytic) and not pair.is_zero(pair.numeric):
        return ("zero gradient: the analytic gradient is all zero but the numeric one is not "
                "(backward returned None/zeros for this input, or the graph was cut: .data, .detach(), "
                "no_grad, NumPy functions inside the forward)")
    return None


def output_independent_of_input(pair: JacobianPair) -> str | None:
    """The numeric Jacobian is all zero but the analytic one is not: backward invents a gradient.

    Example:
        >>> output_independent_of_input(JacobianPair(np.eye(2), np.zeros((2, 2)), (2,), (2,)))
        'the numeric gradient is zero but the analytic one is not: ...'
    """
    if pair.is_zero(pair.numeric) and not pair.is_zero(pair.analytic):
        return ("the numeric gradient is zero but the analytic one is not: the output does not depend on "
                "this input (is the forward using a stale copy?) or backward invents a gradient")
    return None


def sign_flip(pair: JacobianPair) -> str | None:
    """analytic = -numeric.

    Example:
        >>> sign_flip(JacobianPair(-np.eye(2), np.eye(2), (2,), (2,)))
        'sign flipped: analytic = -numeric ...'
        >>> sign_flip(JacobianPair(np.eye(2), np.eye(2) * [1.0, -1.0], (2,), (2,))) is None
        True
    """
    if pair.is_zero(pair.numeric) or not pair.tol.close(pair.analytic, -pair.numeric):
        return None
    return ("sign flipped: analytic = -numeric (check signs in backward, e.g. d(a - b)/db = -1, "
            "d(1/x)/dx = -1/x^2, d(exp(-x))/dx = -exp(-x))")


def _nice_number(c: float) -> str:
    fraction = Fraction(c).limit_denominator(16)
    if fraction.denominator > 1 and abs(float(fraction) - c) <= 1e-4 * abs(c):
        return f"{c:.6g} (= {fraction})"
    return f"{c:.6g}"


def constant_factor(pair: JacobianPair) -> str | None:
    """analytic = c x numeric for one constant c (not 0, 1 or -1), with a guess at where c comes from.

    c is fitted by least squares over all entries, and must then explain every entry within the
    tolerance. The guess is the first of :func:`mean_instead_of_sum`, :func:`sum_instead_of_mean`
    and :func:`factor_two` that fits.

    Example:
        >>> constant_factor(JacobianPair(3 * np.eye(2), np.eye(2), (2,), (2,)))
        'off by a constant factor: analytic = 3 x numeric'
        >>> constant_factor(JacobianPair(np.diag([1.0, 3.0]), np.eye(2), (2,), (2,))) is None
        True
    """
    a, n = pair.analytic, pair.numeric
    if pair.is_zero(n):
        return None
    c = float(np.vdot(a, n) / np.vdot(n, n))
    if c == 0 or math.isclose(c, 1, rel_tol=1e-6) or not pair.tol.close(a, c * n):
        return None
    remark = mean_instead_of_sum(c, pair) or sum_instead_of_mean(c, pair) or factor_two(c, pair) or ""
    return f"off by a constant factor: analytic = {_nice_number(c)} x numeric{remark}"


def uniform_fans(pair: JacobianPair) -> set[int]:
    """How many outputs each input element reaches, and how many inputs each output depends on, when
    that number is the same for all of them (from the numeric Jacobian's nonzero entries).

    A forward that broadcasts an input over an axis of length s gives each input element a fan-out
    of s; one that sums over an axis of length s gives each output a fan-in of s. Elementwise ops
    have both fans 1.

    Example:
        >>> sorted(uniform_fans(JacobianPair(np.ones((3, 1)), np.ones((3, 1)), (1,), (3,))))  # broadcast to 3
        [1, 3]
        >>> sorted(uniform_fans(JacobianPair(np.eye(2), np.eye(2), (2,), (2,))))              # elementwise
        [1]
    """
    nonzero = np.abs(pair.numeric) > pair.tol.atol
    fans: set[int] = set()
    for counts in (nonzero.sum(axis=0), nonzero.sum(axis=1)):
        reached = set(counts[counts > 0].tolist())
        if len(reached) == 1:
            fans |= reached
    return fans


def _axis_evidence(pair: JacobianPair, size: int) -> bool:
    """An axis of length `size` exists and every element is broadcast over (or summed from) `size` entries."""
    return size in (*pair.input_shape, *pair.output_shape) and size in uniform_fans(pair)


def _axis_lengths(pair: JacobianPair) -> list[int]:
    return sorted({s for s in (*pair.input_shape, *pair.output_shape) if s > 2})


def mean_instead_of_sum(c: float, pair: JacobianPair) -> str | None:
    """c = 1/s for an axis of length s > 2 over which the forward broadcasts or sums: a mean where a sum belongs.

    Needs the structure, not only the number: each input element must reach exactly s outputs (or
    each output depend on exactly s inputs), so an elementwise op off by 1/3 is not blamed on an
    axis that happens to have length 3. An axis of length 2 is left to :func:`factor_two`.

    Example:
        >>> broadcast = JacobianPair(np.ones((3, 1)) / 3, np.ones((3, 1)), (1,), (3,))
        >>> mean_instead_of_sum(1 / 3, broadcast)
        '; 1/3 is 1/(size of an axis of length 3): a mean where a sum belongs?'
        >>> mean_instead_of_sum(1 / 3, JacobianPair(np.eye(3) / 3, np.eye(3), (3,), (3,))) is None
        True
    """
    for s in _axis_lengths(pair):
        if math.isclose(c, 1 / s, rel_tol=1e-4) and _axis_evidence(pair, s):
            return f"; 1/{s} is 1/(size of an axis of length {s}): a mean where a sum belongs?"
    return None


def sum_instead_of_mean(c: float, pair: JacobianPair) -> str | None:
    """c = s for an axis of length s > 2 over which the forward broadcasts or sums: a sum where a mean belongs.

    Example:
        >>> reduction = JacobianPair(np.ones((1, 4)), np.ones((1, 4)) / 4, (4,), ())
        >>> sum_instead_of_mean(4.0, reduction)
        '; 4 is the size of an axis of length 4: a sum where a mean belongs?'
    """
    for s in _axis_lengths(pair):
        if math.isclose(c, s, rel_tol=1e-4) and _axis_evidence(pair, s):
            return f"; {s} is the size of an axis of length {s}: a sum where a mean belongs?"
    return None


def factor_two(c: float, pair: JacobianPair) -> str | None:
    """|c| = 2 or 1/2: the factor 2 of a square's derivative used twice or forgotten.

    When an axis of length 2 is broadcast over (or summed), a mean/sum mix-up gives the same
    factor, and the hint says so too.

    Example:
        >>> factor_two(0.5, JacobianPair(np.eye(2) / 2, np.eye(2), (2,), (2,)))
        '; a missing factor 2 (e.g. d(x^2)/dx = 2x written as x)?'
        >>> factor_two(3.0, JacobianPair(np.eye(2) * 3, np.eye(2), (2,), (2,))) is None
        True
    """
    axis = _axis_evidence(pair, 2)
    if math.isclose(abs(c), 2, rel_tol=1e-4):
        also = " or a sum over an axis of length 2 where a mean belongs" if axis else ""
        return f"; an extra factor 2 (e.g. d(x^2)/dx = 2x used twice, or the gradient added twice{also})?"
    if math.isclose(abs(c), 0.5, rel_tol=1e-4):
        also = ", or a mean over an axis of length 2 where a sum belongs" if axis else ""
        return f"; a missing factor 2 (e.g. d(x^2)/dx = 2x written as x{also})?"
    return None


# ----------------------------------------------------------------------------- transposes


def transposed_last_axes(pair: JacobianPair) -> str | None:
    """analytic = numeric with the input's last two (equal) axes swapped: a gradient returned transposed.

    Example:
        >>> n = np.array([[1.0, 2.0, 3.0, 4.0]])                  # d(output)/d(x) for x of shape (2, 2)
        >>> transposed_last_axes(JacobianPair(np.array([[1.0, 3.0, 2.0, 4.0]]), n, (2, 2), ()))
        'transposed: the analytic gradient equals the numeric gradient transposed ...'
    """
    a, n, shape = pair.analytic, pair.numeric, pair.input_shape
    m, size = a.shape
    if len(shape) >= 2 and shape[-1] == shape[-2] and shape[-1] > 1:
        swapped = np.swapaxes(n.reshape((m, *shape)), -1, -2).reshape(m, size)
        if pair.tol.close(a, swapped):
            return ("transposed: the analytic gradient equals the numeric gradient transposed (last two "
                    "axes); return it transposed (e.g. x.T @ g instead of g.T @ x, or grad.T)")
    return None


def transposed_jacobian(pair: JacobianPair) -> str | None:
    """analytic = numeric^T (a square Jacobian): backward multiplies by J where J^T belongs.

    Example:
        >>> w = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> transposed_jacobian(JacobianPair(w.T, w, (2,), (2,)))
        'transposed Jacobian: backward multiplies by the Jacobian J instead of its transpose J^T ...'
    """
    m, size = pair.analytic.shape
    if m == size and m > 1 and pair.tol.close(pair.analytic, pair.numeric.T):
        return ("transposed Jacobian: backward multiplies by the Jacobian J instead of its transpose J^T "
                "(e.g. W @ g where W.T @ g belongs)")
    return None


# ----------------------------------------------------------------------------- broadcasting


def one_broadcast_copy(pair: JacobianPair) -> str | None:
    """analytic = numeric on one slice along an output axis the input is broadcast over, zero on the others.

    Example:
        >>> n = np.ones((2, 1))                                   # b of shape (1,) broadcast to (2,)
        >>> one_broadcast_copy(JacobianPair(np.array([[1.0], [0.0]]), n, (1,), (2,)))
        'missing broadcast reduction: analytic matches numeric only for outputs with index 0 along ...'
    """
    a, n, out_shape, tol = pair.analytic, pair.numeric, pair.output_shape, pair.tol
    m = a.shape[0]
    if not out_shape or m < 2:
        return None
    out_index = np.unravel_index(np.arange(m), out_shape)
    nonzero = np.abs(n) > tol.atol
    for axis, length in enumerate(out_shape):
        if length < 2:
            continue
        copies = [np.any(nonzero[out_index[axis] == t], axis=0) for t in range(length)]
        if not np.any(np.sum(copies, axis=0) >= 2):
            continue  # no input element reaches two slices along this axis: it is not broadcast there
        for t in range(length):
            if tol.close(a, n * (out_index[axis] == t)[:, None]):
                return (f"missing broadcast reduction: analytic matches numeric only for outputs with index "
                        f"{t} along output axis {axis} and is zero for the other {length - 1}: backward took "
                        f"one broadcast copy of the gradient instead of summing over axis {axis} "
                        f"(g.sum(axis={axis}))")
    return None


def reduced_over_an_unbroadcast_axis(pair: JacobianPair) -> str | None:
    """analytic = numeric summed over an input axis and repeated along it: a reduction the forward never made.

    Example:
        >>> reduced_over_an_unbroadcast_axis(JacobianPair(np.ones((2, 2)), np.eye(2), (2,), (2,)))
        'broadcast reduction: analytic equals numeric summed over axis 0 of the input ...'
    """
    if not pair.input_shape:
        return None
    m = pair.analytic.shape[0]
    a3, n3 = pair.analytic.reshape((m, *pair.input_shape)), pair.numeric.reshape((m, *pair.input_shape))
    for axis, length in enumerate(pair.input_shape):
        if length > 1 and pair.tol.close(a3, n3.sum(axis=1 + axis, keepdims=True)):
            return (f"broadcast reduction: analytic equals numeric summed over axis {axis} of the input (and "
                    f"repeated along it): backward reduced over an axis the forward did not broadcast")
    return None


def missing_reduction_term(pair: JacobianPair) -> str | None:
    """analytic - numeric is the same along an input axis: a term through a keepdims sum/mean is missing.

    Example:
        >>> n = np.eye(2) - 0.5                                   # x - mean(x): the Jacobian I - 1/2
        >>> missing_reduction_term(JacobianPair(np.eye(2), n, (2,), (2,)))
        'missing broadcast reduction term: analytic - numeric is the same along axis 0 of the input ...'
    """
    if not pair.input_shape:
        return None
    m = pair.analytic.shape[0]
    a3, n3 = pair.analytic.reshape((m, *pair.input_shape)), pair.numeric.reshape((m, *pair.input_shape))
    difference = a3 - n3
    for axis, length in enumerate(pair.input_shape):
        if length > 1 and pair.tol.close(a3, n3 + difference.mean(axis=1 + axis, keepdims=True)):
            return (f"missing broadcast reduction term: analytic - numeric is the same along axis {axis} of the "
                    f"input for every output: a gradient term that flows through a reduction over axis "
                    f"{axis} (a sum/mean with keepdims, broadcast back) is missing or doubled in backward")
    return None


# ----------------------------------------------------------------------------- masks and kinks


def wrong_mask(pair: JacobianPair) -> str | None:
    """analytic is zero at some entries where numeric is not, and right everywhere else: a wrong mask.

    Example:
        >>> wrong_mask(JacobianPair(np.diag([1.0, 0.0, 1.0]), np.eye(3), (3,), (3,)))
        'analytic is zero at 1 entries where numeric is not, and right elsewhere: ...'
    """
    a, n, atol = pair.analytic, pair.numeric, pair.tol.atol
    zero = (np.abs(a) <= atol) & (np.abs(n) > atol)
    if np.any(zero) and pair.tol.close(a[~zero], n[~zero]):
        return (f"analytic is zero at {int(zero.sum())} entries where numeric is not, and right elsewhere: a "
                "mask in backward (relu/max/clip/where) selects the wrong elements, or the point is at a kink")
    return None


def all_wrong_entries_at_kinks(pair: JacobianPair, kink_elements: Collection[int]) -> str | None:
    """Every wrong entry lies in a column (input element) where the function has a kink: maybe no bug.

    Example:
        >>> pair = JacobianPair(np.diag([0.0, 1.0]), np.diag([0.5, 1.0]), (2,), (2,))   # relu at x = (0, 1)
        >>> all_wrong_entries_at_kinks(pair, {0})
        'every wrong entry is at a non-differentiable point of the input (see warnings): ...'
        >>> all_wrong_entries_at_kinks(pair, {1}) is None
        True
    """
    wrong = pair.tol.wrong(pair.analytic, pair.numeric)
    bad_columns = set(np.nonzero(np.any(wrong, axis=0))[0].tolist())
    if bad_columns and bad_columns <= set(kink_elements):
        return ("every wrong entry is at a non-differentiable point of the input (see warnings): finite "
                "differences are not valid there, so this may be no bug")
    return None


# ----------------------------------------------------------------------------- all rules in order


_FIRST_FITTING = (zero_gradient, output_independent_of_input, sign_flip, constant_factor)
_TRANSPOSES = (transposed_last_axes, transposed_jacobian)
_BROADCASTS = (one_broadcast_copy, reduced_over_an_unbroadcast_axis, missing_reduction_term)


def _first(rules: tuple[Rule, ...], pair: JacobianPair) -> str | None:
    return next((hint for hint in (rule(pair) for rule in rules) if hint), None)


def diagnose(pair: JacobianPair) -> list[str]:
    """The hints for a wrong gradient: the rules in order.

    Zero gradient, invented gradient, sign flip and constant factor exclude each other (the first that
    fits is the hint); otherwise a transpose and a broadcast mistake may both be named; a wrong mask
    is the last guess. An empty list: no known pattern.

    Example:
        >>> diagnose(JacobianPair(-np.eye(2), np.eye(2), (2,), (2,)))[0][:13]
        'sign flipped:'
        >>> diagnose(JacobianPair(np.array([[1.0, 5.0]]), np.array([[2.0, -1.0]]), (2,), ()))
        []
    """
    hint = _first(_FIRST_FITTING, pair)
    if hint:
        return [hint]
    hints = [h for h in (_first(_TRANSPOSES, pair), _first(_BROADCASTS, pair)) if h]
    if hints:
        return hints
    mask = wrong_mask(pair)
    return [mask] if mask else []


# ----------------------------------------------------------------------------- causes, shapes, projections


NOT_TWICE_DIFFERENTIABLE = (
    "the first-order gradient does not depend on this input in the graph: a backward rule computes with "
    "NumPy (np.cos(x), x.data, np.asarray) instead of Value operations, so it is not differentiable; with "
    "create_graph=True backward receives Values: write it with operators and tinygrad_lab.ops functions"
)
"""Why a second-order check sees a zero gradient of a gradient (used by gradgradcheck)."""


def graph_cut(output_name: str, input_name: str, output_requires_grad: bool, input_unused: bool) -> str | None:
    """Why backward gave nothing: the output was cut off from the graph, or no gradient reached the input.

    Example:
        >>> graph_cut("output 0", "input 0", output_requires_grad=False, input_unused=True)
        'output 0 does not require grad: func cut it off from the inputs ...'
        >>> graph_cut("output 0", "input 0", output_requires_grad=True, input_unused=False) is None
        True
    """
    if not output_requires_grad:
        return (f"{output_name} does not require grad: func cut it off from the inputs "
                "(.data, .numpy(), .detach(), no_grad or NumPy functions inside func)")
    if input_unused:
        return (f"backward produced no gradient (None) for {input_name}: an op's backward "
                "returned None for it, or the forward reached it only through .data")
    return None


def axes_to_sum(grad_shape: tuple, input_shape: tuple) -> tuple | None:
    """Axes of `grad_shape` whose removal leaves `input_shape` (size-1 axes kept), or None.

    Example:
        >>> axes_to_sum((4, 3), (4,)), axes_to_sum((3, 4), (4,)), axes_to_sum((3, 2), (2, 3))
        ((1,), (0,), None)
    """
    axes: list[int] = []
    j = len(input_shape) - 1
    for i in range(len(grad_shape) - 1, -1, -1):
        if j >= 0 and (grad_shape[i] == input_shape[j] or input_shape[j] == 1):
            j -= 1
        else:
            axes.append(i)
    return tuple(sorted(axes)) if j < 0 and axes else None


def shape_mismatch(grad_shape: tuple, input_shape: tuple) -> str:
    """The hint for a backward whose gradient cannot be summed to its input's shape.

    Example:
        >>> shape_mismatch((3, 2), (2, 3))
        "transposed: the gradient has the input's shape reversed (3, 2); ..."
        >>> shape_mismatch((4, 3), (4,))
        'missing broadcast reduction: the forward broadcast this input along axes (1,) of the result; ...'
    """
    if len(grad_shape) == len(input_shape) and grad_shape == input_shape[::-1]:
        return (f"transposed: the gradient has the input's shape reversed {grad_shape}; return it transposed "
                f"(e.g. g.T, or x.T @ g instead of g.T @ x)")
    axes = axes_to_sum(grad_shape, input_shape)
    if axes is not None:
        return (f"missing broadcast reduction: the forward broadcast this input along axes {axes} of the "
                f"result; sum the gradient over them: g.sum(axis={axes[0] if len(axes) == 1 else axes})")
    return "the gradient's shape must equal the input's shape (or broadcast to it)"


def projection_hint(name: str, gradient: np.ndarray | None, analytic: float, numeric: float, atol: float) -> str:
    """The hint for one input's wrong directional derivative <u, J v> (a random-projection check).

    Example:
        >>> projection_hint("input 0", np.ones(3), -2.0, 2.0, 1e-5)
        'sign flipped for input 0: analytic = -numeric along this direction'
        >>> projection_hint("input 0", None, 0.0, 2.0, 1e-5)
        'zero gradient for input 0: ...'
    """
    if gradient is not None and not np.all(np.isfinite(gradient)):
        return (f"non-finite gradient for {name}: backward gave NaN or inf for some of its elements "
                "(run method='full' on a smaller input to see which)")
    if gradient is None or not np.any(np.abs(gradient) > atol):
        return (f"zero gradient for {name}: backward returned None/zeros for it (or the graph was cut "
                "with .data/.detach()/no_grad)")
    if numeric != 0 and math.isclose(analytic / numeric, -1, rel_tol=1e-3):
        return f"sign flipped for {name}: analytic = -numeric along this direction"
    if numeric != 0:
        return (f"{name}: analytic = {analytic / numeric:.4g} x numeric along this direction (a constant "
                "factor if method='full' confirms it)")
    return ""
