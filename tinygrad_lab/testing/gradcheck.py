"""Gradient checks: compare the gradients backward computes with finite differences, and explain failures.

* :func:`gradcheck` / :func:`gradgradcheck`: ``torch.autograd.gradcheck`` semantics (full Jacobians,
  central differences in float64), plus a failure report: the wrong output/input pairs, their worst
  entries, and hints when the error looks like a known mistake (constant factor, sign, transposed,
  missing broadcast reduction, zero gradient, not-float64 inputs, non-differentiable points).
* :func:`check_grads`: full or cheap random-projection checks (``<u, J v>``), first or second order.
* :func:`gradcheck_module`: every parameter (by name) and float input of an ``nn.Module``.
* :func:`assert_grad_close`: the pytest-friendly form.

Example:
    >>> from tinygrad_lab import Value
    >>> x = Value([0.5, -1.0, 2.0], requires_grad=True)
    >>> gradcheck(lambda x: (x * x.exp()).sum(), (x,))
    True
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np

from ..engine import Value, detect_anomaly
from ..engine import grad as autograd_grad

__all__ = [
    "GradcheckError", "GradcheckWarning", "GradcheckFailure", "gradcheck", "gradgradcheck", "check_grads",
    "gradcheck_module", "assert_grad_close", "detect_anomaly",
]

WORST_ENTRIES = 5
"""How many of the worst Jacobian entries a report lists per wrong (output, input) pair."""

MAX_KINK_CANDIDATES = 32
"""At most this many input elements per input are re-evaluated to confirm a non-differentiable point."""

MAX_LOCAL_ENTRIES = 20_000
"""Ops whose local Jacobian (output size x input size) is larger than this are not checked one by one."""

MAX_LOCAL_NODES = 200
"""At most this many graph nodes are checked one by one after a failure."""


class GradcheckError(AssertionError):
    """A gradient check failed. ``str(error)`` is the full report; ``error.failures`` the wrong pairs.

    Example:
        >>> try:
        ...     gradcheck(lambda x: x.detach() * x, (Value([1.0, 2.0], requires_grad=True),))
        ... except GradcheckError as error:
        ...     print(error.failures[0].input)
        input 0
    """

    def __init__(self, report: str, failures: Sequence[GradcheckFailure] = ()) -> None:
        super().__init__(report)
        self.report = report
        self.failures = list(failures)


class GradcheckWarning(UserWarning):
    """The check passed but its result deserves a caveat (not float64, a non-differentiable point).

    Example:
        >>> import warnings
        >>> warnings.simplefilter("error", GradcheckWarning)   # make the caveats fail your tests
    """


@dataclass
class GradcheckFailure:
    """One wrong gradient: d(output)/d(input) differs from finite differences.

    ``analytic`` and ``numeric`` are Jacobians of shape (output size, input size) (None when the
    gradient could not be compared, e.g. a backward returned the wrong shape); ``hints`` say which
    known mistake the pattern looks like.

    Example:
        >>> failure = GradcheckFailure("output 0", "input 0", (), (2,), None, None, ["sign flipped"])
        >>> failure.hints
        ['sign flipped']
    """

    output: str
    input: str
    output_shape: tuple
    input_shape: tuple
    analytic: np.ndarray | None
    numeric: np.ndarray | None
    hints: list[str] = field(default_factory=list)
    summary: str = ""
    table: str = ""


# ----------------------------------------------------------------------------- step and tolerances


@dataclass(frozen=True)
class _Tol:
    """The finite-difference step and the tolerances of a check, and the comparisons they define."""

    eps: float
    atol: float
    rtol: float

    def bound(self, numeric: Any) -> Any:
        return self.atol + self.rtol * np.abs(numeric)

    def wrong(self, analytic: Any, numeric: Any) -> Any:
        """Elementwise |analytic - numeric| > atol + rtol * |numeric|."""
        return np.abs(analytic - numeric) > self.bound(numeric)

    def close(self, analytic: Any, numeric: Any) -> bool:
        """Every entry is within the tolerance (a NaN is not)."""
        return bool(np.all(np.abs(analytic - numeric) <= self.bound(numeric)))

    def sides_differ(self, right: Any, left: Any) -> Any:
        """The one-sided differences disagree: a kink (or strong curvature) within eps."""
        return np.abs(right - left) > self.bound(np.maximum(np.abs(right), np.abs(left)))

    def rule(self) -> str:
        return f"|analytic - numeric| > atol + rtol * |numeric| with atol={self.atol:g}, rtol={self.rtol:g}"


# ----------------------------------------------------------------------------- inputs and outputs


@dataclass
class _Slot:
    """An input whose gradient is checked: its position in `inputs`, its name and its Value."""

    position: int
    name: str
    value: Value

    @property
    def shape(self) -> tuple:
        return self.value.shape


def _as_tuple(inputs: Any) -> tuple:
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


def _default_name(position: int, value: Any) -> str:
    label = getattr(value, "label", None)
    return f"input {position}" + (f" ({label!r})" if label else "")


def _describe(x: Any) -> str:
    if isinstance(x, Value):
        return f"Value(shape={x.shape}, dtype={x.dtype}, requires_grad={x.requires_grad})"
    return type(x).__name__


def _checked_slots(inputs: tuple, names: Sequence[str] | None, caller: str) -> list[_Slot]:
    slots = [
        _Slot(position, names[position] if names is not None else _default_name(position, value), value)
        for position, value in enumerate(inputs)
        if isinstance(value, Value) and value.requires_grad and value.dtype.kind == "f"
    ]
    if not slots:
        kinds = ", ".join(_describe(x) for x in inputs) or "nothing"
        raise ValueError(f"{caller} needs at least one input Value with requires_grad=True (a floating-point "
                         f"Value); got {kinds}. Create inputs with Value(data, requires_grad=True).")
    return slots


def _call(func: Callable, inputs: tuple, caller: str) -> tuple:
    """Call `func` and return its outputs as a tuple of Values (with a clear error for anything else)."""
    result = func(*inputs)
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    for k, out in enumerate(outputs):
        if not isinstance(out, Value):
            extra = (" (did you use .data, .numpy() or a NumPy function? those leave the graph)"
                     if isinstance(out, (np.ndarray, np.generic, float)) else "")
            raise TypeError(f"{caller}: func must return a Value or a tuple of Values, but output {k} is "
                            f"{type(out).__name__}{extra}")
    return tuple(outputs)


def _float_outputs(outputs: tuple) -> list[int]:
    return [k for k, out in enumerate(outputs) if out.dtype.kind == "f"]


def _differentiable_outputs(func: Callable, inputs: tuple, caller: str) -> list[Value]:
    outputs = _call(func, inputs, caller)
    return [outputs[k] for k in _float_outputs(outputs)]


class _Point:
    """`func` called at `inputs`, the point where its gradients are checked.

    Keeps the outputs, which of them are checked (the floating-point ones: `indices`, `checked`) and their
    values as one flat float64 vector `f0`; `evaluate()` computes that vector again after a perturbation.
    """

    def __init__(self, func: Callable, inputs: tuple, slots: list[_Slot], title: str) -> None:
        self.func, self.inputs, self.slots, self.title = func, inputs, slots, title
        self.outputs = _call(func, inputs, title)
        self.indices = _float_outputs(self.outputs)
        if not self.indices:
            raise ValueError(f"{title}: func returned no floating-point output to differentiate "
                             f"(got dtypes {[str(o.dtype) for o in self.outputs]})")
        self.checked = [self.outputs[k] for k in self.indices]
        self.shapes = [out.shape for out in self.checked]

    @cached_property
    def f0(self) -> np.ndarray:
        return self.flat(self.outputs)

    def flat(self, outputs: tuple) -> np.ndarray:
        return np.concatenate([np.asarray(outputs[k].data, dtype=np.float64).ravel() for k in self.indices])

    def rows(self) -> list[tuple[int, slice]]:
        """(output index, its rows in a Jacobian) for each checked output."""
        result, start = [], 0
        for out_index, out in zip(self.indices, self.checked):
            result.append((out_index, slice(start, start + out.size)))
            start += out.size
        return result

    def call(self) -> list[Value]:
        """The checked outputs of a new call of func (a new graph)."""
        outputs = _call(self.func, self.inputs, self.title)
        return [outputs[k] for k in self.indices]

    def evaluate(self) -> np.ndarray:
        """f0 at the current (perturbed) inputs; func must return the same structure each call."""
        outputs = _call(self.func, self.inputs, self.title)
        got = [outputs[k].shape for k in self.indices] if len(outputs) > max(self.indices) else None
        if got != self.shapes:
            raise RuntimeError(f"{self.title}: func returned outputs of shapes {got} after an input was perturbed "
                               f"by eps, but {self.shapes} at the original inputs; func must return the same "
                               "structure each call")
        return self.flat(outputs)


@contextmanager
def _writable(slots: list[_Slot]) -> Iterator[None]:
    """Make every checked input's data writable for in-place perturbation; restore the arrays afterwards."""
    saved = []
    for slot in slots:
        if not slot.value.data.flags.writeable:
            saved.append((slot, slot.value.data))
            slot.value.data = slot.value.data.copy()
    try:
        yield
    finally:
        for slot, data in saved:
            slot.value.data = data


# ----------------------------------------------------------------------------- Jacobians


def _analytic_jacobians(point: _Point) -> tuple[list[np.ndarray], list[bool]]:
    """Full Jacobians d(outputs)/d(slot) (one backward per output element), and which slots were unused."""
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
class _Kink:
    """An input element (flat index, value) at a kink: one-sided differences of an output row disagree."""

    element: int
    value: float
    right: float
    left: float
    output_row: int


def _perturbed_pair(point: _Point, x: np.ndarray, j: int, step: float) -> tuple[np.ndarray, np.ndarray]:
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


def _numeric_jacobian(point: _Point, slot: _Slot, tol: _Tol) -> tuple[np.ndarray, list[_Kink]]:
    """Central differences column by column, and the elements where one-sided differences disagree."""
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
            kinks.append(_Kink(j, float(x.flat[j]), float(right[r]), float(left[r]), r))
    return jacobian, kinks


# ----------------------------------------------------------------------------- each op's backward on its own


def _graph_nodes(outputs: Sequence[Value], limit: float = math.inf) -> list[Value]:
    """The op nodes (not leaves) behind `outputs` through Values that require grad, depth first."""
    nodes, seen = [], set()
    stack = [out for out in outputs if out.requires_grad]
    while stack and len(nodes) < limit:
        node = stack.pop()
        if id(node) in seen or node._op is None or not node._prev:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(p for p in node._prev if p.requires_grad)
    return nodes


def _backward(op: type, seed: np.ndarray, out: np.ndarray, datas: list, args: dict | None) -> tuple:
    """op.backward's gradients as a tuple (a backward may return a single gradient)."""
    local = op.backward(seed, out, *datas, **(args or {}))
    return local if isinstance(local, (tuple, list)) else (local,)


def _op_location(op: type) -> str:
    try:
        _, start = inspect.getsourcelines(op.backward)
        return f"{inspect.getsourcefile(op.backward)}:{start}"
    except (OSError, TypeError):
        return "<unknown file>"


def _reducible(grad_shape: tuple, input_shape: tuple) -> bool:
    """True when summing broadcast axes turns `grad_shape` into `input_shape` (what the engine does)."""
    if len(grad_shape) < len(input_shape):
        return False
    tail = grad_shape[len(grad_shape) - len(input_shape) :]
    return all(i == g or i == 1 for i, g in zip(input_shape, tail))


def _sum_to_shape(g: np.ndarray, shape: tuple) -> np.ndarray:
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + k for k, s in enumerate(shape) if s == 1 and g.shape[lead + k] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def _axes_to_sum(grad_shape: tuple, input_shape: tuple) -> tuple | None:
    """Axes of `grad_shape` whose removal leaves `input_shape` (size-1 axes kept), or None."""
    axes: list[int] = []
    j = len(input_shape) - 1
    for i in range(len(grad_shape) - 1, -1, -1):
        if j >= 0 and (grad_shape[i] == input_shape[j] or input_shape[j] == 1):
            j -= 1
        else:
            axes.append(i)
    return tuple(sorted(axes)) if j < 0 and axes else None


def _shape_hint(grad_shape: tuple, input_shape: tuple) -> str:
    if len(grad_shape) == len(input_shape) and grad_shape == input_shape[::-1]:
        return (f"transposed: the gradient has the input's shape reversed {grad_shape}; return it transposed "
                f"(e.g. g.T, or x.T @ g instead of g.T @ x)")
    axes = _axes_to_sum(grad_shape, input_shape)
    if axes is not None:
        return (f"missing broadcast reduction: the forward broadcast this input along axes {axes} of the "
                f"result; sum the gradient over them: g.sum(axis={axes[0] if len(axes) == 1 else axes})")
    return "the gradient's shape must equal the input's shape (or broadcast to it)"


def _audit_backward_shapes(outputs: Sequence[Value]) -> list[GradcheckFailure]:
    """Call each op's backward once and check every gradient it returns can be summed to its input's shape.

    The engine sums a gradient that has broadcast axes back to the input's shape; a gradient that cannot
    be (a transposed gradient, a reduction over the wrong axis, a missing reduction of an axis the
    forward added in the middle) would otherwise fail with a cryptic error, or be silently reshaped.
    """
    failures = []
    for node in _graph_nodes(outputs):
        op, parents = node._op, node._prev
        try:
            seed = np.ones(node.shape, dtype=node.dtype)
            local = _backward(op, seed, node.data, [p.data for p in parents], node._args)
        except Exception:  # the real backward below reports it with its own traceback
            continue
        for index, (parent, g) in enumerate(zip(parents, local)):
            if g is None or not parent.requires_grad:
                continue
            grad_shape = tuple(np.shape(g.data if isinstance(g, Value) else g))
            if grad_shape != parent.shape and not _reducible(grad_shape, parent.shape):
                where = getattr(node, "_origin", None) or _op_location(op)
                summary = (f"backward of op '{op.name}' ({where}) returned a gradient of shape {grad_shape} for "
                           f"its input {index} of shape {parent.shape}")
                failures.append(GradcheckFailure(f"op '{op.name}'", f"its input {index}", grad_shape, parent.shape,
                                                 None, None, [_shape_hint(grad_shape, parent.shape)], summary))
    return failures


@dataclass
class _Culprit:
    """An op whose backward disagrees with finite differences of its own forward."""

    op_name: str
    location: str
    parent_index: int
    parent_shape: tuple
    wrong: int
    total: int
    max_error: float
    hints: list[str]


def _forward_with(op: type, datas: list, args: dict, i: int, x: np.ndarray) -> np.ndarray:
    """op.forward in float64 with its input i replaced by x."""
    return np.asarray(op.forward(*datas[:i], x, *datas[i + 1 :], **args), dtype=np.float64)


def _local_gradients(op: type, seed: np.ndarray, out: np.ndarray, datas: list, args: dict,
                     checked: list[int]) -> dict[int, np.ndarray | None]:
    """op.backward at `seed` for each checked input in float64, summed to the input's shape (zeros when the
    backward returns None; None when the gradient cannot be summed to that shape: the shape audit reports it)."""
    local = _backward(op, seed, out, datas, args)
    grads: dict[int, np.ndarray | None] = {}
    for i in checked:
        g = local[i] if i < len(local) else None
        g = np.zeros(datas[i].shape) if g is None else np.asarray(g.data if isinstance(g, Value) else g, float)
        if g.shape != datas[i].shape:
            g = _sum_to_shape(g, datas[i].shape) if _reducible(g.shape, datas[i].shape) else None
        grads[i] = g
    return grads


def _local_check(node: Value, tol: _Tol) -> list[_Culprit]:
    """Check one op in isolation: its backward against central differences of its forward."""
    op, args = node._op, node._args or {}
    datas = [np.array(p.data, dtype=np.float64) if p.data.dtype.kind == "f" else p.data for p in node._prev]
    out = np.asarray(op.forward(*datas, **args), dtype=np.float64)
    checked = [i for i, p in enumerate(node._prev) if p.requires_grad and p.data.dtype.kind == "f"]
    if out.size * sum(datas[i].size for i in checked) > MAX_LOCAL_ENTRIES:
        return _local_projection(op, args, datas, out, checked, tol)
    analytic = {i: np.zeros((out.size, datas[i].size)) for i in checked}
    for r in range(out.size):
        seed = np.zeros(out.shape)
        seed.reshape(-1)[r] = 1.0
        for i, g in _local_gradients(op, seed, out, datas, args, checked).items():
            if g is None:
                return []  # the shape audit reports it
            analytic[i][r] = g.reshape(-1)
    culprits = []
    for i in checked:
        numeric, smooth = _local_numeric(op, datas, args, i, out, tol)
        a, n = analytic[i][:, smooth], numeric[:, smooth]
        bad = tol.wrong(a, n)
        if np.any(bad):
            hints = _hints(a, n, datas[i].shape, out.shape, tol) if np.all(smooth) else []
            error = float(np.max(np.abs(a - n)))
            culprits.append(_Culprit(op.name, _op_location(op), i, datas[i].shape, int(bad.sum()), bad.size, error,
                                     hints))
    return culprits


def _local_numeric(op: type, datas: list, args: dict, i: int, out: np.ndarray, tol: _Tol) -> tuple:
    """Central differences of op.forward in its input i, and a mask of the elements that are not at a kink."""
    x, f0 = datas[i], out.reshape(-1)
    numeric = np.zeros((out.size, x.size))
    smooth = np.ones(x.size, dtype=bool)
    for j in range(x.size):
        values = []
        for step in (tol.eps, -tol.eps):
            moved = x.copy()
            moved.reshape(-1)[j] += step
            values.append(_forward_with(op, datas, args, i, moved).reshape(-1))
        plus, minus = values
        numeric[:, j] = (plus - minus) / (2 * tol.eps)
        smooth[j] = not np.any(tol.sides_differ((plus - f0) / tol.eps, (f0 - minus) / tol.eps))
    return numeric, smooth


def _local_projection(op: type, args: dict, datas: list, out: np.ndarray, checked: list[int],
                      tol: _Tol) -> list[_Culprit]:
    """A large op checked along one random direction per input (<u, J_i v_i>, backward vs differences)."""
    rng = np.random.default_rng(0)
    u = rng.standard_normal(out.shape)
    grads = _local_gradients(op, u, out, datas, args, checked)
    center = float(np.vdot(u, out))
    culprits = []
    for i in checked:
        if grads[i] is None:
            continue
        v = rng.standard_normal(datas[i].shape)
        plus, minus = (float(np.vdot(u, _forward_with(op, datas, args, i, datas[i] + t * v)))
                       for t in (tol.eps, -tol.eps))
        numeric = (plus - minus) / (2 * tol.eps)
        if tol.sides_differ((plus - center) / tol.eps, (center - minus) / tol.eps):
            continue  # at a kink: no verdict
        analytic = float(np.vdot(grads[i], v))
        if tol.wrong(analytic, numeric):
            ratio = analytic / numeric if numeric != 0 else math.nan
            hint = f"along a random direction: analytic {analytic:.6g}, numeric {numeric:.6g} (ratio {ratio:.4g})"
            error = abs(analytic - numeric)
            culprits.append(_Culprit(op.name, _op_location(op), i, datas[i].shape, 1, 1, error, [hint]))
    return culprits


def _find_culprits(outputs: Sequence[Value], tol: _Tol) -> list[_Culprit] | None:
    """Check every op of the graph one by one; None when the graph has no op to check."""
    nodes = _graph_nodes(outputs, MAX_LOCAL_NODES)
    if not nodes:
        return None
    culprits: list[_Culprit] = []
    reported: set[tuple[str, int]] = set()
    for node in nodes:
        try:
            found = _local_check(node, tol)
        except Exception:  # an op that cannot run on float64 copies: skip it
            continue
        for culprit in found:
            key = (culprit.op_name, culprit.parent_index)
            if key not in reported:
                reported.add(key)
                culprits.append(culprit)
    return culprits


def _culprit_lines(culprits: list[_Culprit] | None) -> list[str]:
    if culprits is None:
        return []
    if not culprits:
        return ["", "  every op in the graph passes a check on its own: the mistake is in how func combines "
                "them (a detached path, .data, randomness) or at a non-differentiable point"]
    lines = ["", "  ops whose backward disagrees with their own forward (each op checked on its own):"]
    for c in culprits:
        where = f"    - op '{c.op_name}' (backward at {c.location}), its input {c.parent_index} of shape "
        where += str(c.parent_shape)
        if c.total > 1:
            where += f": {c.wrong} of {c.total} local Jacobian entries wrong, max abs error {c.max_error:.3g}"
        lines.append(where)
        lines.extend(f"        hint: {h}" for h in c.hints)
    return lines


# ----------------------------------------------------------------------------- hints


def _nice_number(c: float) -> str:
    fraction = Fraction(c).limit_denominator(16)
    if fraction.denominator > 1 and abs(float(fraction) - c) <= 1e-4 * abs(c):
        return f"{c:.6g} (= {fraction})"
    return f"{c:.6g}"


def _factor_remark(c: float, in_shape: tuple, out_shape: tuple) -> str:
    for s in sorted({s for s in (*in_shape, *out_shape) if s > 1}):
        if math.isclose(c, 1 / s, rel_tol=1e-4):
            return f"; 1/{s} is 1/(size of an axis of length {s}): a mean where a sum belongs?"
        if math.isclose(c, s, rel_tol=1e-4) and s != 2:
            return f"; {s} is the size of an axis of length {s}: a sum where a mean belongs?"
    if math.isclose(abs(c), 2, rel_tol=1e-4):
        return "; an extra factor 2 (e.g. d(x^2)/dx = 2x used twice, or the gradient added twice)?"
    if math.isclose(abs(c), 0.5, rel_tol=1e-4):
        return "; a missing factor 2 (e.g. d(x^2)/dx = 2x written as x)?"
    return ""


def _hints(a: np.ndarray, n: np.ndarray, in_shape: tuple, out_shape: tuple, tol: _Tol) -> list[str]:
    """Which known mistake the mismatch of analytic `a` and numeric `n` looks like (first match wins)."""
    numeric_zero = bool(np.all(np.abs(n) <= tol.atol))
    if bool(np.all(np.abs(a) <= tol.atol)) and not numeric_zero:
        return ["zero gradient: the analytic gradient is all zero but the numeric one is not "
                "(backward returned None/zeros for this input, or the graph was cut: .data, .detach(), "
                "no_grad, NumPy functions inside the forward)"]
    if numeric_zero:
        return ["the numeric gradient is zero but the analytic one is not: the output does not depend on "
                "this input (is the forward using a stale copy?) or backward invents a gradient"]
    if tol.close(a, -n):
        return ["sign flipped: analytic = -numeric (check signs in backward, e.g. d(a - b)/db = -1, "
                "d(1/x)/dx = -1/x^2, d(exp(-x))/dx = -exp(-x))"]
    c = float(np.vdot(a, n) / np.vdot(n, n))
    if c != 0 and not math.isclose(c, 1, rel_tol=1e-6) and tol.close(a, c * n):
        remark = _factor_remark(c, in_shape, out_shape)
        return [f"off by a constant factor: analytic = {_nice_number(c)} x numeric{remark}"]
    hints = _transpose_hints(a, n, in_shape, tol) + _broadcast_hints(a, n, in_shape, out_shape, tol)
    return hints or _partial_zero_hint(a, n, tol)


def _transpose_hints(a: np.ndarray, n: np.ndarray, in_shape: tuple, tol: _Tol) -> list[str]:
    m, size = a.shape
    if len(in_shape) >= 2 and in_shape[-1] == in_shape[-2] and in_shape[-1] > 1:
        swapped = np.swapaxes(n.reshape((m, *in_shape)), -1, -2).reshape(m, size)
        if tol.close(a, swapped):
            return ["transposed: the analytic gradient equals the numeric gradient transposed (last two "
                    "axes); return it transposed (e.g. x.T @ g instead of g.T @ x, or grad.T)"]
    if m == size and m > 1 and tol.close(a, n.T):
        return ["transposed Jacobian: backward multiplies by the Jacobian J instead of its transpose J^T "
                "(e.g. W @ g where W.T @ g belongs)"]
    return []


def _broadcast_hints(a: np.ndarray, n: np.ndarray, in_shape: tuple, out_shape: tuple, tol: _Tol) -> list[str]:
    m = a.shape[0]
    if out_shape and m > 1:  # the gradient was taken from one broadcast copy instead of summed over an output axis
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
                    return [f"missing broadcast reduction: analytic matches numeric only for outputs with index "
                            f"{t} along output axis {axis} and is zero for the other {length - 1}: backward took "
                            f"one broadcast copy of the gradient instead of summing over axis {axis} "
                            f"(g.sum(axis={axis}))"]
    if not in_shape:
        return []
    a3, n3 = a.reshape((m, *in_shape)), n.reshape((m, *in_shape))
    for axis, length in enumerate(in_shape):
        if length > 1 and tol.close(a3, n3.sum(axis=1 + axis, keepdims=True)):
            return [f"broadcast reduction: analytic equals numeric summed over axis {axis} of the input (and "
                    f"repeated along it): backward reduced over an axis the forward did not broadcast"]
    difference = a3 - n3
    for axis, length in enumerate(in_shape):
        if length > 1 and tol.close(a3, n3 + difference.mean(axis=1 + axis, keepdims=True)):
            return [f"missing broadcast reduction term: analytic - numeric is the same along axis {axis} of the "
                    f"input for every output: a gradient term that flows through a reduction over axis "
                    f"{axis} (a sum/mean with keepdims, broadcast back) is missing or doubled in backward"]
    return []


def _partial_zero_hint(a: np.ndarray, n: np.ndarray, tol: _Tol) -> list[str]:
    zero = (np.abs(a) <= tol.atol) & (np.abs(n) > tol.atol)
    if np.any(zero) and tol.close(a[~zero], n[~zero]):
        return [f"analytic is zero at {int(zero.sum())} entries where numeric is not, and right elsewhere: a "
                "mask in backward (relu/max/clip/where) selects the wrong elements, or the point is at a kink"]
    return []


# ----------------------------------------------------------------------------- report


def _index(flat_index: int, shape: tuple) -> str:
    return str(tuple(int(i) for i in np.unravel_index(flat_index, shape))) if shape else "()"


def _table(rows: list[tuple[str, ...]]) -> str:
    """Rows of cells in right-aligned columns, indented for a report."""
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return "\n".join("      " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows)


def _entries_table(a: np.ndarray, n: np.ndarray, out_shape: tuple, in_shape: tuple, tol: _Tol) -> tuple[str, int]:
    """The worst wrong entries as a table, and how many entries are wrong."""
    error, bound = np.abs(a - n), tol.bound(n)
    bad = error > bound
    rows = [("output", "input", "analytic", "numeric", "abs err", "rel err")]
    for flat in np.argsort(-(error - bound), axis=None)[:WORST_ENTRIES]:
        r, j = divmod(int(flat), a.shape[1])
        if not bad[r, j]:
            break
        rel = error[r, j] / abs(n[r, j]) if n[r, j] != 0 else math.inf
        numbers = (f"{a[r, j]:.6g}", f"{n[r, j]:.6g}", f"{error[r, j]:.3g}", f"{rel:.3g}")
        rows.append((_index(r, out_shape), _index(j, in_shape), *numbers))
    if not out_shape:  # a scalar output: the output index says nothing
        rows = [row[1:] for row in rows]
    return _table(rows), int(bad.sum())


def _compare(output_name: str, out_shape: tuple, slot: _Slot, a: np.ndarray, n: np.ndarray,
             tol: _Tol) -> GradcheckFailure | None:
    if tol.close(a, n):
        return None
    table, count = _entries_table(a, n, out_shape, slot.shape, tol)
    summary = (f"d({output_name}, shape {out_shape}) / d({slot.name}, shape {slot.shape}, {slot.value.dtype}): "
               f"{count} of {a.size} Jacobian entries wrong, max abs error {float(np.max(np.abs(a - n))):.3g}")
    hints = _hints(a, n, slot.shape, out_shape, tol)
    if not hints and slot.value.dtype != np.float64:
        hints = [f"probably round-off: {slot.name} is {slot.value.dtype} (see warnings); check in float64"]
    return GradcheckFailure(output_name, slot.name, out_shape, slot.shape, a, n, hints, summary, table)


def _dtype_notes(point: _Point, names: Sequence[str], eps: float) -> list[str]:
    """Caveats for the inputs (or else the outputs) that are not float64."""
    notes = [f"{slot.name} is {slot.value.dtype}, not float64: finite differences with eps={eps:g} in "
             f"{slot.value.dtype} are mostly round-off, so mismatches may be noise; check with "
             f"float64 inputs (Value(x.data.astype(np.float64), requires_grad=True))"
             for slot in point.slots if slot.value.dtype != np.float64]
    return notes or [f"{names[k]} is {point.outputs[k].dtype}, not float64: func casts to lower "
                     f"precision, so finite differences are mostly round-off"
                     for k in point.indices if point.outputs[k].dtype != np.float64]


def _kink_note(slot: _Slot, kink: _Kink, output_label: str, eps: float) -> str:
    return (f"{slot.name} element {_index(kink.element, slot.shape)} = {kink.value:.6g} is at (or within "
            f"eps={eps:g} of) a non-differentiable point: one-sided differences of {output_label} give "
            f"{kink.right:.6g} (right) and {kink.left:.6g} (left), so finite differences cannot check the "
            f"gradient there; move the point away from the kink (see strategies.arrays(avoid=...))")


def _end_report(lines: list[str], culprits: list[_Culprit] | None, notes: list[str]) -> str:
    """`lines`, then the ops found wrong on their own, then the warnings, as one text."""
    lines = lines + _culprit_lines(culprits)
    if notes:
        lines += ["", "  warnings:", *(f"    - {note}" for note in notes)]
    return "\n".join(lines)


@dataclass
class _Outcome:
    """A check's result: it passed when there are no failures; notes are its caveats."""

    report: str
    failures: list[GradcheckFailure]
    notes: list[str]


def _failed(title: str, failures: list[GradcheckFailure], notes: list[str], tol: _Tol,
            culprits: list[_Culprit] | None = None) -> _Outcome:
    """The outcome of a failed full check, with its report."""
    count = len(failures)
    lines = [f"{title} failed: {count} gradient{'s' if count != 1 else ''} "
             f"do{'es' if count == 1 else ''} not match finite differences",
             f"  (central differences with eps={tol.eps:g}; an entry is wrong when {tol.rule()})"]
    for failure in failures:
        lines += ["", f"  {failure.summary}"]
        if failure.table:
            index = "output index, input index" if failure.output_shape else "input index"
            lines += [f"    worst entries ({index}):", failure.table]
        lines += [f"    hint: {hint}" for hint in failure.hints]
    return _Outcome(_end_report(lines, culprits, notes), failures, notes)


_TOOLKIT_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_stacklevel() -> int:
    """The stacklevel of warnings.warn (called by our caller) that points at the first frame outside this package."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_TOOLKIT_DIR):
        frame, level = frame.f_back, level + 1
    return level


def _finish(outcome: _Outcome, raise_exception: bool) -> bool:
    __tracebackhide__ = True
    if not outcome.failures:
        if outcome.notes:
            message = "gradient check passed, but:\n  - " + "\n  - ".join(outcome.notes)
            warnings.warn(message, GradcheckWarning, stacklevel=_user_stacklevel())
        return True
    if raise_exception:
        raise GradcheckError(outcome.report, outcome.failures)
    return False


# ----------------------------------------------------------------------------- gradcheck


def _full_check(func: Callable, inputs: tuple, tol: _Tol, nondet_tol: float, title: str,
                input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
                zero_gradient_cause: str = "") -> _Outcome:
    """gradcheck's work: full Jacobians by backward and by central differences, compared pair by pair."""
    slots = _checked_slots(inputs, input_names, title)
    with _writable(slots):
        point = _Point(func, inputs, slots, title)
        outputs = point.outputs
        names = list(output_names) if output_names is not None else [f"output {k}" for k in range(len(outputs))]
        notes = _dtype_notes(point, names, tol.eps)

        shape_failures = _audit_backward_shapes(point.checked)
        if shape_failures:
            return _failed(title, shape_failures, notes, tol)

        analytic, unused = _analytic_jacobians(point)
        failures = _reentrancy_failures(point, analytic, nondet_tol)
        again = point.evaluate()
        if not np.all(np.abs(again - point.f0) <= nondet_tol) and not np.array_equal(again, point.f0, equal_nan=True):
            failures.append(_nondeterminism_failure(float(np.nanmax(np.abs(again - point.f0)))))
            return _failed(title, failures, notes, tol)

        for i, slot in enumerate(slots):
            numeric, kinks = _numeric_jacobian(point, slot, tol)
            compared = [_compare(names[k], outputs[k].shape, slot, analytic[i][rows], numeric[rows], tol)
                        for k, rows in point.rows()]
            for k, failure in zip(point.indices, compared):
                if failure is not None:
                    _add_cause(failure, outputs[k], unused[i], zero_gradient_cause)
                    failures.append(failure)
            _explain_by_kinks([f for f in compared if f is not None], kinks, tol)
            notes += [_kink_note(slot, kink, _output_label(kink.output_row, point, names), tol.eps) for kink in kinks]
    if not failures:
        return _Outcome("", failures, notes)
    return _failed(title, failures, notes, tol, _find_culprits(point.checked, tol))


def _explain_by_kinks(failures: list[GradcheckFailure], kinks: list[_Kink], tol: _Tol) -> None:
    """When every wrong entry of a finite-difference failure (of one input) sits at a detected kink, say so first."""
    if not kinks:
        return
    at_kink = {k.element for k in kinks}
    for failure in failures:
        bad_columns = set(np.nonzero(np.any(tol.wrong(failure.analytic, failure.numeric), axis=0))[0].tolist())
        if bad_columns and bad_columns <= at_kink:
            failure.hints.insert(0, "every wrong entry is at a non-differentiable point of the input (see "
                                    "warnings): finite differences are not valid there, so this may be no bug")


def _output_label(row: int, point: _Point, names: Sequence[str]) -> str:
    for k, rows in point.rows():
        if row < rows.stop:
            return f"{names[k]} element {_index(row - rows.start, point.outputs[k].shape)}"
    return "the output"


def _add_cause(failure: GradcheckFailure, output: Value, unused: bool, zero_gradient_cause: str) -> None:
    if zero_gradient_cause and failure.hints and failure.hints[-1].startswith("zero gradient"):
        failure.hints.insert(0, zero_gradient_cause)
    elif not output.requires_grad:
        failure.hints.insert(0, f"{failure.output} does not require grad: func cut it off from the inputs "
                                "(.data, .numpy(), .detach(), no_grad or NumPy functions inside func)")
    elif unused:
        failure.hints.insert(0, f"backward produced no gradient (None) for {failure.input}: an op's backward "
                                "returned None for it, or the forward reached it only through .data")


def _reentrancy_failures(point: _Point, analytic: list[np.ndarray], nondet_tol: float) -> list[GradcheckFailure]:
    again, _ = _analytic_jacobians(point)
    failures = []
    for slot, first, second in zip(point.slots, analytic, again):
        difference = float(np.max(np.abs(first - second), initial=0.0))
        if not difference <= nondet_tol:
            hint = (f"backward is not deterministic (not reentrant): two backward passes through the same graph "
                    f"gave gradients for {slot.name} that differ by {difference:.3g} > nondet_tol={nondet_tol:g}; "
                    "backward must not depend on state it changes")
            summary = f"backward is not reentrant for {slot.name}"
            failures.append(GradcheckFailure("outputs", slot.name, (), slot.shape, first, second, [hint], summary))
    return failures


def _nondeterminism_failure(difference: float) -> GradcheckFailure:
    hint = ("func is not deterministic, so finite differences are meaningless: random ops (dropout, "
            "sampling) must be seeded inside func, and modules put in eval mode")
    summary = f"func returned different outputs for the same inputs (max difference {difference:.3g})"
    return GradcheckFailure("func", "inputs", (), (), None, None, [hint], summary)


def gradcheck(func: Callable[..., Any], inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0) -> bool:
    """Check the gradients of `func` at `inputs` against central finite differences (like torch's gradcheck).

    `func` takes the inputs (Values; other items are passed through) and returns a Value or a tuple of
    Values. Every floating-point input Value with ``requires_grad=True`` is checked: the full Jacobian of
    each output with respect to it is built with one backward per output element and compared with
    central differences (step `eps`, computed in float64): an entry is wrong when
    ``|analytic - numeric| > atol + rtol * |numeric|``. Backward is also run twice (its results must
    agree within `nondet_tol`).

    Returns True; on a mismatch raises :class:`GradcheckError` whose message is a report (the wrong
    output/input pairs, their worst entries, hints such as "analytic = 0.5 x numeric") or returns False
    when ``raise_exception=False``. Caveats (inputs not float64, a point where the function has a kink)
    are issued as :class:`GradcheckWarning` when the check passes, and listed in the report otherwise.

    Example:
        >>> from tinygrad_lab import Value
        >>> a = Value([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> b = Value([0.5, -0.5], requires_grad=True)
        >>> gradcheck(lambda a, b: (a * b).tanh(), (a, b))
        True
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's frame
    outcome = _full_check(func, _as_tuple(inputs), _Tol(eps, atol, rtol), nondet_tol, "gradcheck")
    return _finish(outcome, raise_exception)


def _grads_of(outputs: Sequence[Value], wrt: list, grad_outputs: Sequence[Value], create_graph: bool = False) -> list:
    """grad(outputs, wrt, grad_outputs) over the outputs that require grad; all None when none does."""
    keep = [k for k, out in enumerate(outputs) if out.requires_grad]
    if not keep:
        return [None] * len(wrt)
    return list(autograd_grad([outputs[k] for k in keep], wrt, grad_outputs=[grad_outputs[k] for k in keep],
                              create_graph=create_graph, allow_unused=True))


def _as_grad_outputs(grad_outputs: Any, outputs: list[Value], seed: int | None) -> tuple:
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        return tuple(Value(rng.standard_normal(out.shape).astype(out.dtype), requires_grad=True) for out in outputs)
    given = tuple(v if isinstance(v, Value) else Value(np.asarray(v, dtype=np.float64))
                  for v in _as_tuple(grad_outputs))
    if len(given) != len(outputs):
        raise ValueError(f"gradgradcheck: grad_outputs has {len(given)} entries but func returns {len(outputs)} "
                         "floating-point outputs; give one per output")
    for k, (g, out) in enumerate(zip(given, outputs)):
        if g.shape != out.shape:
            raise ValueError(f"gradgradcheck: grad_outputs[{k}] has shape {g.shape} but output {k} has shape "
                             f"{out.shape}")
    return given


NOT_TWICE_DIFFERENTIABLE = (
    "the first-order gradient does not depend on this input in the graph: a backward rule computes with "
    "NumPy (np.cos(x), x.data, np.asarray) instead of Value operations, so it is not differentiable; with "
    "create_graph=True backward receives Values: write it with operators and tinygrad_lab.ops functions"
)


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
                  seed: int | None = 0) -> bool:
    """Check second-order gradients (``torch.autograd.gradgradcheck``).

    Builds ``first_order(inputs, grad_outputs) = grad(func(inputs), inputs, grad_outputs, create_graph=True)``
    and runs :func:`gradcheck` on it, so the gradients of the gradients (with respect to the inputs
    and to the grad_outputs that require grad) are compared with finite differences. `grad_outputs`
    defaults to random normal Values that require grad, drawn from `seed` (0 by default, so a check
    gives the same verdict every run; None for fresh randomness).

    Example:
        >>> from tinygrad_lab import Value
        >>> x = Value([0.3, -0.7], requires_grad=True)
        >>> gradgradcheck(lambda x: (x * x * x).sum(), (x,))
        True
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's frame
    outcome = _gradgrad_check(func, _as_tuple(inputs), grad_outputs, _Tol(eps, atol, rtol), nondet_tol, seed,
                              "gradgradcheck")
    return _finish(outcome, raise_exception)


def _gradgrad_check(func: Callable, inputs: tuple, grad_outputs: Any, tol: _Tol, nondet_tol: float,
                    seed: int | None, title: str, names: Sequence[str] | None = None) -> _Outcome:
    """gradgradcheck's work: _full_check of the first-order gradients (of the inputs and the grad_outputs)."""
    slots = _checked_slots(inputs, names, title)
    given = _as_grad_outputs(grad_outputs, _differentiable_outputs(func, inputs, title), seed)

    def first_order(*args: Any) -> tuple:
        """(inputs..., grad_outputs...) -> gradients of sum(grad_output * output) for each checked input."""
        xs, grads_out = args[: len(inputs)], args[len(inputs) :]
        wrt = [xs[slot.position] for slot in slots]
        grads = _grads_of(_differentiable_outputs(func, xs, title), wrt, grads_out, create_graph=True)
        return tuple(g if g is not None else Value(np.zeros(x.shape, dtype=x.dtype)) for g, x in zip(grads, wrt))

    input_names = list(names) if names is not None else [_default_name(p, x) for p, x in enumerate(inputs)]
    input_names += [f"grad_output {k}" for k in range(len(given))]
    output_names = [f"grad of {slot.name}" for slot in slots]
    return _full_check(first_order, inputs + given, tol, nondet_tol, title, input_names, output_names,
                       NOT_TWICE_DIFFERENTIABLE)


# ----------------------------------------------------------------------------- projection checks


def _unit_normals(shapes: Sequence[tuple], rng: np.random.Generator) -> list[np.ndarray]:
    vectors = [rng.standard_normal(shape) for shape in shapes]
    norm = math.sqrt(sum(float(np.vdot(v, v)) for v in vectors))
    return [v / norm for v in vectors] if norm > 0 else vectors


def _dot(g: np.ndarray | None, v: np.ndarray) -> float:
    return 0.0 if g is None else float(np.vdot(g, v))


def _directional_numeric(point: _Point, directions: list[np.ndarray | None], u: list[np.ndarray],
                         eps: float) -> tuple[float, float, float]:
    """Central, right and left differences of <u, f(x + t v)> at t = 0 (a None direction keeps that input)."""
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


def _projected_analytic(point: _Point, u: list[np.ndarray]) -> list[np.ndarray | None]:
    """The gradient of <u, f> with respect to each checked input (None: backward gave none)."""
    outputs = point.call()
    seeds = [Value(w.astype(out.dtype)) for out, w in zip(outputs, u)]
    grads = _grads_of(outputs, [slot.value for slot in point.slots], seeds)
    return [None if g is None else np.asarray(g.data, dtype=np.float64) for g in grads]


def _projection_check(func: Callable, inputs: tuple, tol: _Tol, rng: np.random.Generator, directions: int,
                      title: str, what: str, names: Sequence[str] | None = None) -> _Outcome:
    """check_grads' projection work: `directions` random directional derivatives, by backward and by differences."""
    slots = _checked_slots(inputs, names, title)
    with _writable(slots):
        point = _Point(func, inputs, slots, title)
        notes = _dtype_notes(point, [f"output {k}" for k in range(len(point.outputs))], tol.eps)
        for d in range(directions):
            u = _unit_normals(point.shapes, rng)
            v = [rng.standard_normal(s.shape) for s in slots]  # each element moves by ~eps, as in gradcheck
            grads = _projected_analytic(point, u)
            analytic = sum(_dot(g, w) for g, w in zip(grads, v))
            numeric, right, left = _directional_numeric(point, v, u, tol.eps)
            if tol.sides_differ(right, left):  # a kink, or just curvature: retry with eps/10
                numeric10, right10, left10 = _directional_numeric(point, v, u, tol.eps / 10)
                if abs(right10 - left10) > 0.5 * abs(right - left) or tol.wrong(numeric, numeric10):
                    notes.append(f"along random direction {d + 1} the one-sided differences disagree ({right:.6g} "
                                 f"right, {left:.6g} left): the inputs are at or near a non-differentiable point")
            if tol.wrong(analytic, numeric):
                report = _projection_report(point, what, d, u, v, grads, analytic, numeric, tol, notes)
                a, n = np.array([[analytic]]), np.array([[numeric]])
                return _Outcome(report, [GradcheckFailure(what, "inputs", (), (), a, n, [], report)], notes)
    return _Outcome("", [], notes)


def _projection_report(point: _Point, what: str, d: int, u: list[np.ndarray], v: list[np.ndarray],
                       grads: list[np.ndarray | None], analytic: float, numeric: float, tol: _Tol,
                       notes: list[str]) -> str:
    """Localize a failing direction: the same check with the direction restricted to each input in turn."""
    rows = [("input", "analytic", "numeric", "abs err", "ratio", "")]
    hints = []
    for i, slot in enumerate(point.slots):
        a_i = _dot(grads[i], v[i])
        n_i, _, _ = _directional_numeric(point, [w if j == i else None for j, w in enumerate(v)], u, tol.eps)
        wrong = tol.wrong(a_i, n_i)
        ratio = a_i / n_i if n_i != 0 else math.nan
        numbers = (f"{a_i:.6g}", f"{n_i:.6g}", f"{abs(a_i - n_i):.3g}", f"{ratio:.4g}")
        rows.append((slot.name, *numbers, "WRONG" if wrong else "ok"))
        if wrong:
            hints.append(_projection_hint(slot, grads[i], a_i, n_i, tol.atol))
    lines = [
        f"{point.title} failed: the {what} along a random direction does not match finite differences",
        f"  (<u, J v> with u a random unit vector over the outputs, v standard normal over the inputs; "
        f"central differences with eps={tol.eps:g}; wrong when {tol.rule()})",
        "",
        f"  direction {d + 1}: analytic {analytic:.6g}, numeric {numeric:.6g}, "
        f"abs error {abs(analytic - numeric):.3g}",
        "    the same direction restricted to one input at a time:",
        _table(rows),
        *(f"    hint: {h}" for h in hints if h),
        "    (run check_grads(..., method='full') on a smaller input to see the wrong elements)",
    ]
    return _end_report(lines, _find_culprits(point.call(), tol), notes)


def _projection_hint(slot: _Slot, g: np.ndarray | None, analytic: float, numeric: float, atol: float) -> str:
    if g is None or not np.any(np.abs(g) > atol):
        return (f"zero gradient for {slot.name}: backward returned None/zeros for it (or the graph was cut "
                "with .data/.detach()/no_grad)")
    if numeric != 0 and math.isclose(analytic / numeric, -1, rel_tol=1e-3):
        return f"sign flipped for {slot.name}: analytic = -numeric along this direction"
    if numeric != 0:
        return (f"{slot.name}: analytic = {analytic / numeric:.4g} x numeric along this direction (a constant "
                "factor if method='full' confirms it)")
    return ""


def _directional_first_order(func: Callable, positions: list[int], u: list[np.ndarray], v: list[np.ndarray],
                             caller: str) -> Callable[..., Value]:
    """x -> <grad(<u, func(x)>, x), v> as a differentiable scalar: its gradient holds second derivatives."""

    def directional_derivative(*xs: Any) -> Value:
        outputs = _differentiable_outputs(func, xs, caller)
        seeds = [Value(w.astype(out.dtype)) for out, w in zip(outputs, u)]
        grads = _grads_of(outputs, [xs[p] for p in positions], seeds, create_graph=True)
        total: Any = Value(0.0)
        for g, w in zip(grads, v):
            if g is not None:
                total = total + (g * Value(w.astype(g.dtype))).sum()
        return total

    return directional_derivative


def check_grads(func: Callable[..., Any], inputs: Any, order: int = 1, method: str = "full", eps: float = 1e-6,
                atol: float = 1e-5, rtol: float = 1e-3, seed: int | None = None, directions: int = 3,
                raise_exception: bool = True) -> bool:
    """Check first (``order=1``) or first and second (``order=2``) derivatives of `func` at `inputs`.

    ``method='full'`` compares whole Jacobians (:func:`gradcheck`, and :func:`gradgradcheck` for order 2).
    ``method='projection'`` compares random directional derivatives ``<u, J v>`` (u a random unit vector
    over the outputs, v standard normal over the checked inputs): one backward and two forward calls per
    direction, whatever the input size, so large inputs are cheap. Order 2 by projection checks the
    gradient of the (differentiable) directional derivative ``<grad(<u, f>), v>`` along a further random
    direction. `seed` makes the random directions (and grad_outputs) reproducible.

    Example:
        >>> import numpy as np
        >>> from tinygrad_lab import Value
        >>> x = Value(np.linspace(-1, 1, 10_000), requires_grad=True)
        >>> check_grads(lambda x: x.tanh() * x, (x,), order=2, method="projection", seed=0)
        True
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's frame
    _check_options(order, method, "check_grads")
    projection = "check_grads(method='projection')"
    titles = ("gradcheck", "gradgradcheck") if method == "full" else (projection, f"{projection}, order 2")
    outcome = _check_orders(func, _as_tuple(inputs), order, method, _Tol(eps, atol, rtol), seed, directions, titles)
    return _finish(outcome, raise_exception)


def _check_options(order: int, method: str, caller: str) -> None:
    if order not in (1, 2):
        raise ValueError(f"{caller}: order must be 1 or 2, got {order!r}")
    if method not in ("full", "projection"):
        raise ValueError(f"{caller}: method must be 'full' or 'projection', got {method!r}")


def _check_orders(func: Callable, inputs: tuple, order: int, method: str, tol: _Tol, seed: int | None,
                  directions: int, titles: tuple[str, str], names: Sequence[str] | None = None,
                  output_names: Sequence[str] | None = None) -> _Outcome:
    """The first-order check by `method`, then (order 2, if it passed) the second-order one; titles per order."""
    rng = np.random.default_rng(seed)
    if method == "full":
        first = _full_check(func, inputs, tol, 0.0, titles[0], names, output_names)
    else:
        first = _projection_check(func, inputs, tol, rng, directions, titles[0], "first derivative", names)
    if first.failures or order == 1:
        return first
    if method == "full":
        second = _gradgrad_check(func, inputs, None, tol, 0.0, 0 if seed is None else seed, titles[1], names)
    else:
        slots = _checked_slots(inputs, names, titles[1])
        u = _unit_normals([out.shape for out in _differentiable_outputs(func, inputs, titles[1])], rng)
        v = [rng.standard_normal(s.shape) for s in slots]
        directional = _directional_first_order(func, [s.position for s in slots], u, v, titles[1])
        what = "second derivative u . d2f[v, w]"
        second = _projection_check(directional, inputs, tol, rng, directions, titles[1], what, names)
    return _Outcome(second.report, second.failures, list(dict.fromkeys(first.notes + second.notes)))


# ----------------------------------------------------------------------------- modules


def _default_loss(rng: np.random.Generator) -> Callable[[Any], Value]:
    weights: dict[int, np.ndarray] = {}

    def weighted_sum(output: Any) -> Value:
        total: Any = Value(0.0)
        for k, out in enumerate(_as_tuple(output)):
            if not isinstance(out, Value) or out.dtype.kind != "f":
                continue
            if k not in weights:
                weights[k] = rng.standard_normal(out.shape)
            total = total + (out * Value(weights[k].astype(out.dtype))).sum()
        return total

    return weighted_sum


@contextmanager
def _float64_copy_of(module: Any) -> Iterator[None]:
    """Give every parameter float64 data (a copy) for the check; restore the module exactly afterwards.

    Parameters get their original arrays (same objects, same dtypes) and requires_grad flags back;
    buffers (running statistics that a forward may update) get their original objects and contents back.
    """
    params, buffers, seen = [], [], set()
    for _, param in module.named_parameters():
        if isinstance(param, Value) and id(param) not in seen:
            seen.add(id(param))
            params.append((param, param.data, param.requires_grad))
            if param.dtype.kind == "f":
                param.data = param.data.astype(np.float64)  # always a copy: the user's array is never touched
    for sub in module.modules() if hasattr(module, "modules") else [module]:
        for name, buffer in dict(getattr(sub, "_buffers", None) or {}).items():
            array = buffer.data if isinstance(buffer, Value) else buffer
            buffers.append((sub, name, buffer, array.copy() if isinstance(array, np.ndarray) else None))
    try:
        yield
    finally:
        for param, data, requires_grad in reversed(params):
            param.data = data
            param.requires_grad = requires_grad
        for sub, name, buffer, contents in reversed(buffers):
            if getattr(sub, name, None) is not buffer:
                setattr(sub, name, buffer)
            array = buffer.data if isinstance(buffer, Value) else buffer
            if contents is not None and isinstance(array, np.ndarray) and array.flags.writeable:
                np.copyto(array, contents)


def _float64_input(x: Any, checked: bool) -> Any:
    """A float input as a new float64 Value (requiring grad when `checked`, else a constant); others unchanged."""
    data = x.data if isinstance(x, Value) else x
    if isinstance(data, (np.ndarray, list, float)) and np.asarray(data).dtype.kind == "f":
        return Value(np.array(data, dtype=np.float64), requires_grad=checked, label=getattr(x, "label", None))
    return x


def gradcheck_module(module: Any, inputs: Any, loss_fn: Callable[[Any], Value] | None = None, eps: float = 1e-6,
                     atol: float = 1e-5, rtol: float = 1e-3, seed: int | None = 0, check_inputs: bool = True,
                     raise_exception: bool = True, order: int = 1, method: str = "full",
                     directions: int = 3) -> bool:
    """Check the gradients of every parameter (by name) and every float input of an ``nn.Module``.

    The scalar checked is ``loss_fn(module(*inputs))``; by default a sum of the outputs weighted by
    fixed random numbers (seeded by `seed`), which catches any wrong entry of the Jacobian. The check
    runs on float64 copies of the parameters, buffers and float inputs; the module is restored exactly
    afterwards (same arrays, same dtypes, even if the check raises), and no ``.grad`` is touched.
    With ``check_inputs=False`` the inputs are constants (only the parameters are checked).
    `order` and `method` (with `directions`) are those of :func:`check_grads`.
    A failure names the parameter, e.g. ``parameter '1.weight'``. If the module's output changes between
    calls with the same inputs (dropout in training mode), the check fails and says so.

    Example:
        >>> import numpy as np
        >>> from tinygrad_lab import nn
        >>> net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        >>> gradcheck_module(net, np.random.default_rng(0).normal(size=(5, 3)))
        True
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's frame
    title = f"gradcheck_module({type(module).__name__})"
    if not hasattr(module, "named_parameters"):
        raise TypeError(f"gradcheck_module: module must be an nn.Module (with named_parameters()), "
                        f"got {type(module).__name__}")
    _check_options(order, method, "gradcheck_module")
    loss = loss_fn if loss_fn is not None else _default_loss(np.random.default_rng(seed))
    with _float64_copy_of(module):
        params = [(name, p) for name, p in module.named_parameters() if p.requires_grad and p.dtype.kind == "f"]
        model_inputs = tuple(_float64_input(x, check_inputs) for x in _as_tuple(inputs))

        def loss_of(*args: Any) -> Value:
            out = loss(module(*args[len(params) :]))
            if not isinstance(out, Value):
                raise TypeError(f"{title}: loss_fn must return a Value, got {type(out).__name__}")
            return out

        names = [f"parameter {name!r}" for name, _ in params]
        names += [_default_name(i, x) for i, x in enumerate(model_inputs)]
        everything = tuple(p for _, p in params) + model_inputs
        outcome = _check_orders(loss_of, everything, order, method, _Tol(eps, atol, rtol), seed, directions,
                                (title, f"{title}, order 2"), names, ["loss"])
    return _finish(outcome, raise_exception)


# ----------------------------------------------------------------------------- assertions


def assert_grad_close(func: Callable[..., Any], inputs: Any, order: int = 1, method: str = "full", eps: float = 1e-6,
                      atol: float = 1e-5, rtol: float = 1e-3, seed: int | None = None,
                      loss_fn: Callable[[Any], Value] | None = None) -> None:
    """Assert the gradients of `func` (a function, or an ``nn.Module``) match finite differences.

    For pytest: a failure raises :class:`GradcheckError` (an ``AssertionError``) whose message is the
    readable report, and this function's frame is hidden from the traceback. A module is checked with
    :func:`gradcheck_module` (with `loss_fn`); a function with :func:`check_grads`; both honour `order`
    and `method`.

    Example:
        >>> from tinygrad_lab import Value
        >>> assert_grad_close(lambda x: x.sigmoid(), (Value([0.1, 2.0], requires_grad=True),))
    """
    __tracebackhide__ = True
    if hasattr(func, "named_parameters") and callable(func):
        seed = 0 if seed is None else seed
        gradcheck_module(func, inputs, loss_fn=loss_fn, eps=eps, atol=atol, rtol=rtol, seed=seed, order=order,
                         method=method)
        return
    check_grads(func, inputs, order=order, method=method, eps=eps, atol=atol, rtol=rtol, seed=seed)
