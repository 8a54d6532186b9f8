"""Jacobians two ways: by back-propagation (analytic) and by central finite differences (numeric), in float64.

Full Jacobians have one row per output element and one column per input element. For large inputs,
the projections ``<u, J v>`` along random directions cost one backward and two forward calls.
While it differentiates, the numeric side also finds kinks: input elements where the one-sided
differences disagree, and keep disagreeing at eps/10 (curvature would shrink the gap).

Example:
    >>> from tinygrad_lab.testing.point import Point, checked_slots
    >>> from tinygrad_lab.testing.tolerance import Tolerance
    >>> x = Value([1.0, -2.0], requires_grad=True)
    >>> point = Point(lambda x: x * x, (x,), checked_slots((x,), None, "check"), "check")
    >>> analytic_jacobians(point)[0][0] + 0.0
    array([[ 2.,  0.],
           [ 0., -4.]])
    >>> numeric, kinks = numeric_jacobian(point, point.slots[0], Tolerance())
    >>> np.allclose(numeric, [[2, 0], [0, -4]]), kinks
    (True, [])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..autograd import Value
from ..autograd import grad as autograd_grad
from .point import Point, Slot
from .tolerance import Tolerance

__all__ = [
    "MAX_KINK_CANDIDATES", "Kink", "analytic_jacobians", "numeric_jacobian", "grads_of", "unit_normals", "dot",
    "directional_numeric", "projected_analytic",
]

MAX_KINK_CANDIDATES = 32
"""At most this many input elements per input are re-evaluated to confirm a non-differentiable point."""


# ----------------------------------------------------------------------------- full Jacobians


def analytic_jacobians(point: Point) -> tuple[list[np.ndarray], list[bool]]:
    """Full Jacobians d(outputs)/d(slot) (one backward per output element), and which slots were unused.

    Example:
        >>> from tinygrad_lab.testing.point import checked_slots
        >>> x, y = Value([3.0], requires_grad=True), Value([5.0], requires_grad=True)
        >>> analytic_jacobians(Point(lambda x, y: x * 2, (x, y), checked_slots((x, y), None, "c"), "c"))
        ([array([[2.]]), array([[0.]])], [False, True])
    """
    total = sum(out.size for out in point.checked)
    jacobians = [np.zeros((total, slot.value.size)) for slot in point.slots]
    unused = [True] * len(point.slots)
    values = [slot.value for slot in point.slots]
    for k, rows in point.rows():
        out = point.outputs[k]
        if not out.requires_grad:
            continue
        for r in range(out.size):
            seed = np.zeros(out.shape, dtype=out.dtype)
            seed.reshape(-1)[r] = 1
            grads = autograd_grad(out, values, grad_outputs=Value(seed), retain_graph=True, allow_unused=True)
            for i, g in enumerate(grads):
                if g is not None:
                    unused[i] = False
                    jacobians[i][rows.start + r] = np.asarray(g.data, dtype=np.float64).reshape(-1)
    return jacobians, unused


@dataclass
class Kink:
    """An input element (flat index, value) at a kink: one-sided differences of an output row disagree.

    Example:
        >>> Kink(element=0, value=0.0, right=1.0, left=0.0, output_row=0).right
        1.0
    """

    element: int
    value: float
    right: float
    left: float
    output_row: int


def _perturbed_pair(point: Point, x: np.ndarray, j: int, step: float) -> tuple[np.ndarray, np.ndarray]:
    """f0 with element j of x moved by +step and by -step; x is restored even if func raises."""
    original = x.flat[j]
    try:
        x.flat[j] = original + step
        plus = point.evaluate()
        x.flat[j] = original - step
        minus = point.evaluate()
    finally:
        x.flat[j] = original
    return plus, minus


def numeric_jacobian(point: Point, slot: Slot, tol: Tolerance) -> tuple[np.ndarray, list[Kink]]:
    """Central differences column by column, and the elements where one-sided differences disagree.

    Example:
        >>> from tinygrad_lab.testing.point import checked_slots
        >>> x = Value([0.0, 1.0], requires_grad=True)
        >>> point = Point(lambda x: x.abs(), (x,), checked_slots((x,), None, "c"), "c")
        >>> [(k.element, k.right, k.left) for k in numeric_jacobian(point, point.slots[0], Tolerance())[1]]
        [(0, 1.0, -1.0)]
    """
    x, f0, eps = slot.value.data, point.f0, tol.eps
    jacobian = np.zeros((f0.size, x.size))
    candidates: list[tuple[int, np.ndarray, np.ndarray]] = []
    for j in range(x.size):
        plus, minus = _perturbed_pair(point, x, j, eps)
        jacobian[:, j] = (plus - minus) / (2 * eps)
        right, left = (plus - f0) / eps, (f0 - minus) / eps
        if len(candidates) < MAX_KINK_CANDIDATES and np.any(tol.sides_differ(right, left)):
            candidates.append((j, right, left))
    kinks = []
    for j, right, left in candidates:  # curvature: with eps / 10 the gap shrinks, the central value stays
        plus, minus = _perturbed_pair(point, x, j, eps / 10)
        right10, left10 = (plus - f0) / (eps / 10), (f0 - minus) / (eps / 10)
        gap, gap10 = np.abs(right - left), np.abs(right10 - left10)
        r = int(np.argmax(gap))
        shrinks = gap10[r] <= 0.5 * gap[r]
        stable = tol.close((right[r] + left[r]) / 2, (right10[r] + left10[r]) / 2)
        if not (shrinks and stable):
            kinks.append(Kink(j, float(x.flat[j]), float(right[r]), float(left[r]), r))
    return jacobian, kinks


def grads_of(outputs: Sequence[Value], wrt: list, grad_outputs: Sequence[Value], create_graph: bool = False) -> list:
    """grad(outputs, wrt, grad_outputs) over the outputs that require grad; all None when none does.

    Example:
        >>> x = Value([2.0], requires_grad=True)
        >>> grads_of([x * x, Value([1.0])], [x], [Value([1.0]), Value([1.0])])[0].data
        array([4.])
    """
    keep = [k for k, out in enumerate(outputs) if out.requires_grad]
    if not keep:
        return [None] * len(wrt)
    return list(autograd_grad([outputs[k] for k in keep], wrt, grad_outputs=[grad_outputs[k] for k in keep],
                              create_graph=create_graph, allow_unused=True))


# ----------------------------------------------------------------------------- projections <u, J v>


def unit_normals(shapes: Sequence[tuple], rng: np.random.Generator) -> list[np.ndarray]:
    """Random normal arrays of the given shapes, scaled together to unit norm.

    Example:
        >>> u = unit_normals([(2,), (3,)], np.random.default_rng(0))
        >>> round(sum(float(np.vdot(w, w)) for w in u), 12)
        1.0
    """
    vectors = [rng.standard_normal(shape) for shape in shapes]
    norm = math.sqrt(sum(float(np.vdot(v, v)) for v in vectors))
    return [v / norm for v in vectors] if norm > 0 else vectors


def dot(g: np.ndarray | None, v: np.ndarray) -> float:
    """<g, v>, with a missing gradient (None) counting as zero.

    Example:
        >>> dot(np.array([1.0, 2.0]), np.array([3.0, 4.0])), dot(None, np.array([1.0]))
        (11.0, 0.0)
    """
    return 0.0 if g is None else float(np.vdot(g, v))


def directional_numeric(point: Point, directions: Sequence[np.ndarray | None], u: Sequence[np.ndarray],
                        eps: float) -> tuple[float, float, float]:
    """Central, right and left differences of <u, f(x + t v)> at t = 0 (a None direction keeps that input).

    Example:
        >>> from tinygrad_lab.testing.point import checked_slots
        >>> x = Value([1.0, 2.0], requires_grad=True)
        >>> point = Point(lambda x: x * x, (x,), checked_slots((x,), None, "c"), "c")
        >>> central, _, _ = directional_numeric(point, [np.array([1.0, 0.0])], [np.array([1.0, 1.0])], 1e-6)
        >>> round(central, 6)
        2.0
    """
    originals = [slot.value.data.copy() for slot in point.slots]
    flat_u = np.concatenate([w.ravel() for w in u])

    def shifted(t: float) -> float:
        for slot, original, v in zip(point.slots, originals, directions):
            if v is not None:
                slot.value.data[...] = original + t * v
        return float(np.dot(flat_u, point.evaluate()))

    try:
        plus, minus = shifted(eps), shifted(-eps)
    finally:
        for slot, original in zip(point.slots, originals):
            slot.value.data[...] = original
    center = float(np.dot(flat_u, point.f0))
    return (plus - minus) / (2 * eps), (plus - center) / eps, (center - minus) / eps


def projected_analytic(point: Point, u: list[np.ndarray]) -> list[np.ndarray | None]:
    """The gradient of <u, f> with respect to each checked input (None: backward gave none).

    Example:
        >>> from tinygrad_lab.testing.point import checked_slots
        >>> x = Value([1.0, 2.0], requires_grad=True)
        >>> point = Point(lambda x: x * x, (x,), checked_slots((x,), None, "c"), "c")
        >>> projected_analytic(point, [np.array([1.0, 1.0])])
        [array([2., 4.])]
    """
    outputs = point.call()
    seeds = [Value(w.astype(out.dtype)) for out, w in zip(outputs, u)]
    grads = grads_of(outputs, [slot.value for slot in point.slots], seeds)
    return [None if g is None else np.asarray(g.data, dtype=np.float64) for g in grads]
