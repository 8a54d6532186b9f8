"""The projection check: random directional derivatives ``<u, J v>``, by backward and by differences.

One backward and two forward calls per direction, whatever the input size, so large inputs are
cheap. A failing direction is then restricted to one input at a time to say which input is wrong.
Second order: :func:`directional_first_order` turns func into the differentiable scalar
``<grad(<u, f>), v>``, whose gradient holds second derivatives, and the same check runs on it.

Example:
    >>> x = Value(np.linspace(-1, 1, 1000), requires_grad=True)
    >>> projection_check(lambda x: x.tanh(), (x,), Tolerance(), np.random.default_rng(0), 3, "check",
    ...                  "first derivative").failures
    []
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import Value
from .diagnosis import projection_hint
from .errors import GradcheckFailure
from .jacobian import directional_numeric, dot, grads_of, projected_analytic, unit_normals
from .op_check import find_culprits
from .point import Point, checked_slots, differentiable_outputs, writable
from .report import Outcome, indented_table, output_dtype_notes
from .tolerance import Tolerance

__all__ = ["projection_check", "directional_first_order"]


def projection_check(func: Callable, inputs: tuple, tol: Tolerance, rng: np.random.Generator, directions: int,
                     title: str, what: str, names: Sequence[str] | None = None, notes: Sequence[str] = ()) -> Outcome:
    """check_grads' projection work: `directions` random directional derivatives, by backward and by differences.

    Example:
        >>> x = Value([0.0, 1.0], requires_grad=True)
        >>> outcome = projection_check(lambda x: x.abs(), (x,), Tolerance(), np.random.default_rng(0), 1, "check",
        ...                            "first derivative")
        >>> outcome.failures, "non-differentiable point" in outcome.notes[0]
        ([], True)
    """
    slots = checked_slots(inputs, names, title)
    with writable(slots):
        point = Point(func, inputs, slots, title)
        notes = list(notes) + output_dtype_notes(point, [f"output {k}" for k in range(len(point.outputs))])
        for d in range(directions):
            u = unit_normals(point.shapes, rng)
            v = [rng.standard_normal(s.shape) for s in slots]  # each element moves by ~eps, as in gradcheck
            grads = projected_analytic(point, u)
            analytic = sum(dot(g, w) for g, w in zip(grads, v))
            numeric, right, left = directional_numeric(point, v, u, tol.eps)
            if tol.sides_differ(right, left):  # a kink, or just curvature: retry with eps/10
                numeric10, right10, left10 = directional_numeric(point, v, u, tol.eps / 10)
                if abs(right10 - left10) > 0.5 * abs(right - left) or tol.wrong(numeric, numeric10):
                    notes.append(f"along random direction {d + 1} the one-sided differences disagree ({right:.6g} "
                                 f"right, {left:.6g} left): the inputs are at or near a non-differentiable point")
            if tol.wrong(analytic, numeric):
                lines = _projection_lines(point, what, d, u, v, grads, analytic, numeric, tol)
                a, n = np.array([[analytic]]), np.array([[numeric]])
                failure = GradcheckFailure(what, "inputs", (), (), a, n, [], "\n".join(lines))
                return Outcome([failure], notes, lines, find_culprits(point.call(), tol))
    return Outcome([], notes)


def _projection_lines(point: Point, what: str, d: int, u: list[np.ndarray], v: list[np.ndarray],
                      grads: list[np.ndarray | None], analytic: float, numeric: float, tol: Tolerance) -> list[str]:
    """Localize a failing direction: the same check with the direction restricted to each input in turn."""
    rows: list[tuple[str, ...]] = [("input", "analytic", "numeric", "abs err", "ratio", "")]
    hints = []
    for i, slot in enumerate(point.slots):
        a_i = dot(grads[i], v[i])
        n_i, _, _ = directional_numeric(point, [w if j == i else None for j, w in enumerate(v)], u, tol.eps)
        wrong = tol.wrong(a_i, n_i)
        ratio = a_i / n_i if n_i != 0 else math.nan
        numbers = (f"{a_i:.6g}", f"{n_i:.6g}", f"{abs(a_i - n_i):.3g}", f"{ratio:.4g}")
        rows.append((slot.name, *numbers, "WRONG" if wrong else "ok"))
        if wrong:
            hints.append(projection_hint(slot.name, grads[i], a_i, n_i, tol.atol))
    return [
        f"{point.title} failed: the {what} along a random direction does not match finite differences",
        f"  (<u, J v> with u a random unit vector over the outputs, v standard normal over the inputs; "
        f"central differences with eps={tol.eps:g}; wrong when {tol.rule()})",
        "",
        f"  direction {d + 1}: analytic {analytic:.6g}, numeric {numeric:.6g}, "
        f"abs error {abs(analytic - numeric):.3g}",
        "    the same direction restricted to one input at a time:",
        indented_table(rows),
        *(f"    hint: {h}" for h in hints if h),
        "    (run check_grads(..., method='full') on a smaller input to see the wrong elements)",
    ]


def directional_first_order(func: Callable, positions: list[int], u: list[np.ndarray], v: list[np.ndarray],
                            caller: str) -> Callable[..., Value]:
    """x -> <grad(<u, func(x)>, x), v> as a differentiable scalar: its gradient holds second derivatives.

    Example:
        >>> x = Value([2.0], requires_grad=True)
        >>> directional = directional_first_order(lambda x: x * x * x, [0], [np.ones(1)], [np.ones(1)], "check")
        >>> float(directional(x).data)                           # d(x^3)/dx = 3 x^2 at 2
        12.0
    """

    def directional_derivative(*xs: Any) -> Value:
        outputs = differentiable_outputs(func, xs, caller)
        seeds = [Value(w.astype(out.dtype)) for out, w in zip(outputs, u)]
        grads = grads_of(outputs, [xs[p] for p in positions], seeds, create_graph=True)
        total: Any = Value(0.0)
        for g, w in zip(grads, v):
            if g is not None:
                total = total + (g * Value(w.astype(g.dtype))).sum()
        return total

    return directional_derivative
