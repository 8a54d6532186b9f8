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
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ..engine import Value, detect_anomaly
from ..engine import grad as autograd_grad

__all__ = [
    "GradcheckError",
    "GradcheckWarning",
    "GradcheckFailure",
    "gradcheck",
    "gradgradcheck",
    "check_grads",
    "gradcheck_module",
    "assert_grad_close",
    "detect_anomaly",
]

WORST_ENTRIES = 5
"""How many of the worst Jacobian entries a report lists per wrong (output, input) pair."""

MAX_KINK_CANDIDATES = 32
"""At most this many input elements per input are re-evaluated to confirm a non-differentiable point."""


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
    if isinstance(inputs, tuple):
        return inputs
    if isinstance(inputs, list):
        return tuple(inputs)
    return (inputs,)


def _default_name(position: int, value: Any) -> str:
    label = getattr(value, "label", None)
    return f"input {position}" + (f" ({label!r})" if label else "")


def _checked_slots(inputs: tuple, names: Sequence[str] | None, caller: str) -> list[_Slot]:
    slots = []
    for position, value in enumerate(inputs):
        if isinstance(value, Value) and value.requires_grad and value.dtype.kind == "f":
            name = names[position] if names is not None else _default_name(position, value)
            slots.append(_Slot(position, name, value))
    if not slots:
        kinds = ", ".join(_describe(x) for x in inputs) or "nothing"
        raise ValueError(
            f"{caller} needs at least one input Value with requires_grad=True (a floating-point "
            f"Value); got {kinds}. Create inputs with Value(data, requires_grad=True)."
        )
    return slots


def _describe(x: Any) -> str:
    if isinstance(x, Value):
        return f"Value(shape={x.shape}, dtype={x.dtype}, requires_grad={x.requires_grad})"
    return type(x).__name__


def _call(func: Callable, inputs: tuple, caller: str) -> tuple:
    """Call `func` and return its outputs as a tuple of Values (with a clear error for anything else)."""
    result = func(*inputs)
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    for k, out in enumerate(outputs):
        if not isinstance(out, Value):
            extra = (
                " (did you use .data, .numpy() or a NumPy function? those leave the graph)"
                if isinstance(out, (np.ndarray, np.generic, float))
                else ""
            )
            raise TypeError(
                f"{caller}: func must return a Value or a tuple of Values, but output {k} is "
                f"{type(out).__name__}{extra}"
            )
    return tuple(outputs)


def _float_outputs(outputs: tuple) -> list[int]:
    return [k for k, out in enumerate(outputs) if out.dtype.kind == "f"]


def _flat(outputs: tuple, indices: list[int]) -> np.ndarray:
    if not indices:
        return np.zeros(0)
    return np.concatenate([np.asarray(outputs[k].data, dtype=np.float64).ravel() for k in indices])


def _evaluate(
    func: Callable, inputs: tuple, indices: list[int], shapes: list[tuple], caller: str
) -> np.ndarray:
    outputs = _call(func, inputs, caller)
    got = [outputs[k].shape for k in indices] if len(outputs) > max(indices, default=-1) else None
    if got != shapes:
        raise RuntimeError(
            f"{caller}: func returned outputs of shapes {got} after an input was perturbed by eps, "
            f"but {shapes} at the original inputs; func must return the same structure each call"
        )
    return _flat(outputs, indices)


class _writable:
    """Make every checked input's data writable for in-place perturbation; restore the arrays afterwards."""

    def __init__(self, slots: list[_Slot]) -> None:
        self.slots = slots
        self.saved: list[tuple[_Slot, np.ndarray]] = []

    def __enter__(self) -> _writable:
        for slot in self.slots:
            data = slot.value.data
            if not data.flags.writeable:
                self.saved.append((slot, data))
                slot.value.data = data.copy()
        return self

    def __exit__(self, *exc: object) -> None:
        for slot, data in self.saved:
            slot.value.data = data


# ----------------------------------------------------------------------------- local shape audit


@dataclass
class _ShapeProblem:
    op_name: str
    where: str
    parent_index: int
    grad_shape: tuple
    input_shape: tuple


def _reducible(grad_shape: tuple, input_shape: tuple) -> bool:
    """True when summing broadcast axes turns `grad_shape` into `input_shape` (what the engine does)."""
    if len(grad_shape) < len(input_shape):
        return False
    tail = grad_shape[len(grad_shape) - len(input_shape) :]
    return all(i == g or i == 1 for i, g in zip(input_shape, tail, strict=False))


def _op_location(op: type) -> str:
    try:
        lines, start = inspect.getsourcelines(op.backward)
        return f"{inspect.getsourcefile(op.backward)}:{start}"
    except (OSError, TypeError):
        return "<unknown file>"


def _audit_backward_shapes(outputs: Sequence[Value]) -> list[_ShapeProblem]:
    """Call each op's backward once and check every gradient it returns can be summed to its input's shape.

    The engine sums a gradient that has broadcast axes back to the input's shape; a gradient that cannot
    be (a transposed gradient, a reduction over the wrong axis, a missing reduction of an axis the
    forward added in the middle) would otherwise fail with a cryptic error, or be silently reshaped.
    """
    problems: list[_ShapeProblem] = []
    seen: set[int] = set()
    stack = [out for out in outputs if out.requires_grad]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        op, parents = node._op, node._prev
        if op is None or not parents:
            continue
        stack.extend(p for p in parents if p.requires_grad)
        try:
            seed = np.ones(node.shape, dtype=node.dtype)
            args = node._args or {}
            local = op.backward(seed, node.data, *[p.data for p in parents], **args)
        except Exception:  # the real backward below reports it with its own traceback
            continue
        if not isinstance(local, (tuple, list)):
            local = (local,)
        for index, (parent, g) in enumerate(zip(parents, local, strict=False)):
            if g is None or not parent.requires_grad:
                continue
            grad_shape = tuple(np.shape(g.data if isinstance(g, Value) else g))
            if grad_shape != parent.shape and not _reducible(grad_shape, parent.shape):
                where = getattr(node, "_origin", None) or _op_location(op)
                problems.append(_ShapeProblem(op.name, where, index, grad_shape, parent.shape))
    return problems


def _shape_hint(problem: _ShapeProblem) -> str:
    g, x = problem.grad_shape, problem.input_shape
    if len(g) == len(x) and g == x[::-1]:
        return (
            f"transposed: the gradient has the input's shape reversed {g}; return it transposed "
            f"(e.g. g.T, or x.T @ g instead of g.T @ x)"
        )
    axes = _axes_to_sum(g, x)
    if axes is not None:
        return (
            f"missing broadcast reduction: the forward broadcast this input along axes {axes} of the "
            f"result; sum the gradient over them: g.sum(axis={axes[0] if len(axes) == 1 else axes})"
        )
    return "the gradient's shape must equal the input's shape (or broadcast to it)"


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


# ----------------------------------------------------------------------------- Jacobians


def _analytic_jacobians(
    outputs: tuple, indices: list[int], slots: list[_Slot]
) -> tuple[list[np.ndarray], dict[int, bool]]:
    """Full Jacobians d(outputs)/d(slot) (one backward per output element), and which slots were unused."""
    total = sum(outputs[k].size for k in indices)
    jacobians = [np.zeros((total, slot.value.size)) for slot in slots]
    unused = {i: True for i in range(len(slots))}
    values = [slot.value for slot in slots]
    row = 0
    for k in indices:
        out = outputs[k]
        if not out.requires_grad:
            row += out.size
            continue
        for r in range(out.size):
            seed = np.zeros(out.shape, dtype=out.dtype)
            seed.reshape(-1)[r] = 1
            grads = autograd_grad(out, values, grad_outputs=Value(seed), retain_graph=True, allow_unused=True)
            for i, g in enumerate(grads):
                if g is not None:
                    unused[i] = False
                    jacobians[i][row + r] = np.asarray(g.data, dtype=np.float64).reshape(-1)
        row += out.size
    return jacobians, unused


@dataclass
class _Kink:
    element: int
    value: float
    right: float
    left: float
    output_row: int


def _numeric_jacobian(
    func: Callable,
    inputs: tuple,
    slot: _Slot,
    indices: list[int],
    shapes: list[tuple],
    f0: np.ndarray,
    eps: float,
    atol: float,
    rtol: float,
    caller: str,
) -> tuple[np.ndarray, list[_Kink]]:
    """Central differences column by column, and the elements where one-sided differences disagree."""
    x = slot.value.data
    jacobian = np.zeros((f0.size, x.size))
    candidates: list[tuple[int, np.ndarray, np.ndarray]] = []
    flat = x.reshape(-1) if x.flags.c_contiguous else None
    for j in range(x.size):
        plus, minus = _perturbed_pair(func, inputs, x, flat, j, eps, indices, shapes, caller)
        jacobian[:, j] = (plus - minus) / (2 * eps)
        right, left = (plus - f0) / eps, (f0 - minus) / eps
        if len(candidates) < MAX_KINK_CANDIDATES and np.any(
            np.abs(right - left) > atol + rtol * np.maximum(np.abs(right), np.abs(left))
        ):
            candidates.append((j, right, left))
    kinks = []
    for j, right, left in candidates:
        small = eps / 10
        plus, minus = _perturbed_pair(func, inputs, x, flat, j, small, indices, shapes, caller)
        right10, left10 = (plus - f0) / small, (f0 - minus) / small
        central, central10 = (right + left) / 2, (right10 + left10) / 2
        gap, gap10 = np.abs(right - left), np.abs(right10 - left10)
        r = int(np.argmax(gap))
        shrinks = gap10[r] <= 0.5 * gap[r]
        stable = abs(central10[r] - central[r]) <= atol + rtol * abs(central10[r])
        if not (shrinks and stable):
            kinks.append(_Kink(j, float(x.reshape(-1)[j]), float(right[r]), float(left[r]), r))
    return jacobian, kinks


def _perturbed_pair(
    func: Callable,
    inputs: tuple,
    x: np.ndarray,
    flat: np.ndarray | None,
    j: int,
    eps: float,
    indices: list[int],
    shapes: list[tuple],
    caller: str,
) -> tuple[np.ndarray, np.ndarray]:
    view = flat if flat is not None else x.flat
    original = view[j].copy() if flat is not None else x.flat[j]
    try:
        view[j] = original + eps
        plus = _evaluate(func, inputs, indices, shapes, caller)
        view[j] = original - eps
        minus = _evaluate(func, inputs, indices, shapes, caller)
    finally:
        view[j] = original
    return plus, minus


# ----------------------------------------------------------------------------- which op is wrong

MAX_LOCAL_ENTRIES = 20_000
"""Ops whose local Jacobian (output size x input size) is larger than this are not checked one by one."""

MAX_LOCAL_NODES = 200
"""At most this many graph nodes are checked one by one after a failure."""


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


def _graph_nodes(outputs: Sequence[Value]) -> list[Value]:
    nodes, seen = [], set()
    stack = [out for out in outputs if out.requires_grad]
    while stack and len(nodes) < MAX_LOCAL_NODES:
        node = stack.pop()
        if id(node) in seen or node._op is None or not node._prev:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(p for p in node._prev if p.requires_grad)
    return nodes


def _as_float64(data: np.ndarray) -> np.ndarray:
    return np.array(data, dtype=np.float64) if data.dtype.kind == "f" else data


def _local_check(node: Value, eps: float, atol: float, rtol: float) -> list[_Culprit]:
    """Check one op in isolation: its backward against central differences of its forward."""
    op, parents, args = node._op, node._prev, node._args or {}
    datas = [_as_float64(p.data) for p in parents]
    out = np.asarray(op.forward(*datas, **args), dtype=np.float64)
    checked = [i for i, p in enumerate(parents) if p.requires_grad and p.data.dtype.kind == "f"]
    if out.size * sum(parents[i].size for i in checked) > MAX_LOCAL_ENTRIES:
        return _local_projection(node, datas, out, checked, eps, atol, rtol)
    analytic = {i: np.zeros((out.size, parents[i].size)) for i in checked}
    for r in range(out.size):
        seed = np.zeros(out.shape)
        seed.reshape(-1)[r] = 1.0
        local = op.backward(seed, out, *datas, **args)
        local = local if isinstance(local, (tuple, list)) else (local,)
        for i in checked:
            g = local[i] if i < len(local) else None
            if g is None:
                continue
            g = np.asarray(g.data if isinstance(g, Value) else g, dtype=np.float64)
            if g.shape != parents[i].shape:
                if not _reducible(g.shape, parents[i].shape):
                    return []  # the shape audit reports it
                g = _sum_to_shape(g, parents[i].shape)
            analytic[i][r] = g.reshape(-1)
    culprits = []
    for i in checked:
        numeric, smooth = _local_numeric(op, datas, args, i, out, eps, atol, rtol)
        a, n = analytic[i][:, smooth], numeric[:, smooth]
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        if np.any(bad):
            hints = _hints(a, n, parents[i].shape, out.shape, atol, rtol) if np.all(smooth) else []
            culprits.append(
                _Culprit(
                    op.name,
                    _op_location(op),
                    i,
                    parents[i].shape,
                    int(bad.sum()),
                    bad.size,
                    float(np.max(np.abs(a - n))),
                    hints,
                )
            )
    return culprits


def _local_projection(
    node: Value, datas: list, out: np.ndarray, checked: list[int], eps: float, atol: float, rtol: float
) -> list[_Culprit]:
    """A large op checked along one random direction per input (<u, J_i v_i>, backward vs differences)."""
    op, args = node._op, node._args or {}
    rng = np.random.default_rng(0)
    u = rng.standard_normal(out.shape)
    local = op.backward(u, out, *datas, **args)
    local = local if isinstance(local, (tuple, list)) else (local,)
    culprits = []
    for i in checked:
        g = local[i] if i < len(local) else None
        g = (
            np.zeros(datas[i].shape)
            if g is None
            else np.asarray(g.data if isinstance(g, Value) else g, float)
        )
        if g.shape != datas[i].shape:
            if not _reducible(g.shape, datas[i].shape):
                continue
            g = _sum_to_shape(g, datas[i].shape)
        v = rng.standard_normal(datas[i].shape)
        values = [
            float(
                np.vdot(
                    u,
                    np.asarray(
                        op.forward(*datas[:i], datas[i] + t * v, *datas[i + 1 :], **args), dtype=np.float64
                    ),
                )
            )
            for t in (eps, -eps)
        ]
        center = float(np.vdot(u, out))
        numeric = (values[0] - values[1]) / (2 * eps)
        right, left = (values[0] - center) / eps, (center - values[1]) / eps
        if abs(right - left) > atol + rtol * max(abs(right), abs(left)):
            continue  # at a kink: no verdict
        analytic = float(np.vdot(g, v))
        if abs(analytic - numeric) > atol + rtol * abs(numeric):
            ratio = analytic / numeric if numeric != 0 else math.nan
            culprits.append(
                _Culprit(
                    op.name,
                    _op_location(op),
                    i,
                    datas[i].shape,
                    1,
                    1,
                    abs(analytic - numeric),
                    [
                        f"along a random direction: analytic {analytic:.6g}, numeric {numeric:.6g} "
                        f"(ratio {ratio:.4g})"
                    ],
                )
            )
    return culprits


def _sum_to_shape(g: np.ndarray, shape: tuple) -> np.ndarray:
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + k for k, s in enumerate(shape) if s == 1 and g.shape[lead + k] != 1
    )
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def _local_numeric(
    op: type, datas: list, args: dict, i: int, out: np.ndarray, eps: float, atol: float, rtol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of op.forward in its input i, and a mask of the elements that are not at a kink."""
    x = datas[i]
    numeric = np.zeros((out.size, x.size))
    smooth = np.ones(x.size, dtype=bool)
    for j in range(x.size):
        values = []
        for step in (eps, -eps):
            moved = x.copy()
            moved.reshape(-1)[j] += step
            values.append(
                np.asarray(op.forward(*datas[:i], moved, *datas[i + 1 :], **args), dtype=np.float64)
            )
        plus, minus = values[0].reshape(-1), values[1].reshape(-1)
        numeric[:, j] = (plus - minus) / (2 * eps)
        right, left = (plus - out.reshape(-1)) / eps, (out.reshape(-1) - minus) / eps
        smooth[j] = not np.any(np.abs(right - left) > atol + rtol * np.maximum(np.abs(right), np.abs(left)))
    return numeric, smooth


def _find_culprits(outputs: Sequence[Value], eps: float, atol: float, rtol: float) -> list[_Culprit] | None:
    """Check every op of the graph one by one; None when the graph has no op to check."""
    nodes = _graph_nodes(outputs)
    if not nodes:
        return None
    culprits: list[_Culprit] = []
    reported: set[tuple[str, int]] = set()
    for node in nodes:
        try:
            found = _local_check(node, eps, atol, rtol)
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
        return [
            "",
            "  every op in the graph passes a check on its own: the mistake is in how func combines "
            "them (a detached path, .data, randomness) or at a non-differentiable point",
        ]
    lines = ["", "  ops whose backward disagrees with their own forward (each op checked on its own):"]
    for c in culprits:
        where = f"    - op '{c.op_name}' (backward at {c.location}), its input {c.parent_index}"
        where += f" of shape {c.parent_shape}"
        if c.total > 1:
            where += f": {c.wrong} of {c.total} local Jacobian entries wrong, max abs error {c.max_error:.3g}"
        lines.append(where)
        lines.extend(f"        hint: {h}" for h in c.hints)
    return lines


# ----------------------------------------------------------------------------- hints


def _allclose(a: np.ndarray, b: np.ndarray, atol: float, rtol: float) -> bool:
    return bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def _nice_number(c: float) -> str:
    fraction = Fraction(c).limit_denominator(16)
    if fraction.denominator > 1 and abs(float(fraction) - c) <= 1e-4 * abs(c):
        return f"{c:.6g} (= {fraction})"
    return f"{c:.6g}"


def _factor_remark(c: float, in_shape: tuple, out_shape: tuple) -> str:
    sizes = {s for s in (*in_shape, *out_shape) if s > 1}
    for s in sorted(sizes):
        if math.isclose(c, 1 / s, rel_tol=1e-4):
            return f"; 1/{s} is 1/(size of an axis of length {s}): a mean where a sum belongs?"
        if math.isclose(c, s, rel_tol=1e-4) and s != 2:
            return f"; {s} is the size of an axis of length {s}: a sum where a mean belongs?"
    if math.isclose(abs(c), 2, rel_tol=1e-4):
        return "; an extra factor 2 (e.g. d(x^2)/dx = 2x used twice, or the gradient added twice)?"
    if math.isclose(abs(c), 0.5, rel_tol=1e-4):
        return "; a missing factor 2 (e.g. d(x^2)/dx = 2x written as x)?"
    return ""


def _hints(
    analytic: np.ndarray, numeric: np.ndarray, in_shape: tuple, out_shape: tuple, atol: float, rtol: float
) -> list[str]:
    """Which known mistake the mismatch looks like (first match wins), as readable sentences."""
    a, n = analytic, numeric
    m, size = a.shape
    numeric_zero = bool(np.all(np.abs(n) <= atol))
    if bool(np.all(np.abs(a) <= atol)) and not numeric_zero:
        return [
            "zero gradient: the analytic gradient is all zero but the numeric one is not "
            "(backward returned None/zeros for this input, or the graph was cut: .data, .detach(), "
            "no_grad, NumPy functions inside the forward)"
        ]
    if numeric_zero:
        return [
            "the numeric gradient is zero but the analytic one is not: the output does not depend on "
            "this input (is the forward using a stale copy?) or backward invents a gradient"
        ]
    if _allclose(a, -n, atol, rtol):
        return [
            "sign flipped: analytic = -numeric (check signs in backward, e.g. d(a - b)/db = -1, "
            "d(1/x)/dx = -1/x^2, d(exp(-x))/dx = -exp(-x))"
        ]
    c = float(np.vdot(a, n) / np.vdot(n, n))
    if c != 0 and not math.isclose(c, 1, rel_tol=1e-6) and _allclose(a, c * n, atol, rtol):
        return [
            f"off by a constant factor: analytic = {_nice_number(c)} x numeric"
            f"{_factor_remark(c, in_shape, out_shape)}"
        ]
    hints = _transpose_hints(a, n, in_shape, out_shape, atol, rtol)
    hints += _broadcast_hints(a, n, in_shape, out_shape, atol, rtol)
    if hints:
        return hints
    return _partial_zero_hint(a, n, atol, rtol)


def _transpose_hints(
    a: np.ndarray, n: np.ndarray, in_shape: tuple, out_shape: tuple, atol: float, rtol: float
) -> list[str]:
    m, size = a.shape
    if len(in_shape) >= 2 and in_shape[-1] == in_shape[-2] and in_shape[-1] > 1:
        swapped = np.swapaxes(n.reshape((m, *in_shape)), -1, -2).reshape(m, size)
        if _allclose(a, swapped, atol, rtol):
            return [
                "transposed: the analytic gradient equals the numeric gradient transposed (last two "
                "axes); return it transposed (e.g. x.T @ g instead of g.T @ x, or grad.T)"
            ]
    if m == size and m > 1 and _allclose(a, n.T, atol, rtol):
        return [
            "transposed Jacobian: backward multiplies by the Jacobian J instead of its transpose J^T "
            "(e.g. W @ g where W.T @ g belongs)"
        ]
    return []


def _broadcast_hints(
    a: np.ndarray, n: np.ndarray, in_shape: tuple, out_shape: tuple, atol: float, rtol: float
) -> list[str]:
    m = a.shape[0]
    hints: list[str] = []
    # the gradient was taken from one broadcast copy instead of summed over an output axis
    if out_shape and m > 1:
        out_index = np.unravel_index(np.arange(m), out_shape)
        for axis, length in enumerate(out_shape):
            if length < 2:
                continue
            nonzero = np.abs(n) > atol
            copies = [np.any(nonzero[out_index[axis] == t], axis=0) for t in range(length)]
            if not np.any(np.sum(copies, axis=0) >= 2):
                continue  # no input element reaches two slices along this axis: it is not broadcast there
            for t in range(length):
                mask = (out_index[axis] == t)[:, None]
                if _allclose(a, n * mask, atol, rtol):
                    return [
                        f"missing broadcast reduction: analytic matches numeric only for outputs with index "
                        f"{t} along output axis {axis} and is zero for the other {length - 1}: backward took "
                        f"one broadcast copy of the gradient instead of summing over axis {axis} "
                        f"(g.sum(axis={axis}))"
                    ]
    if not in_shape:
        return hints
    a3, n3 = a.reshape((m, *in_shape)), n.reshape((m, *in_shape))
    for axis, length in enumerate(in_shape):
        if length < 2:
            continue
        summed = np.broadcast_to(n3.sum(axis=1 + axis, keepdims=True), n3.shape)
        if _allclose(a3, summed, atol, rtol):
            return [
                f"broadcast reduction: analytic equals numeric summed over axis {axis} of the input (and "
                f"repeated along it): backward reduced over an axis the forward did not broadcast"
            ]
    difference = a3 - n3
    for axis, length in enumerate(in_shape):
        if length < 2:
            continue
        constant = np.broadcast_to(difference.mean(axis=1 + axis, keepdims=True), difference.shape)
        if _allclose(a3, n3 + constant, atol, rtol):
            return [
                f"missing broadcast reduction term: analytic - numeric is the same along axis {axis} of the "
                f"input for every output: a gradient term that flows through a reduction over axis "
                f"{axis} (a sum/mean with keepdims, broadcast back) is missing or doubled in backward"
            ]
    return hints


def _partial_zero_hint(a: np.ndarray, n: np.ndarray, atol: float, rtol: float) -> list[str]:
    zero = (np.abs(a) <= atol) & (np.abs(n) > atol)
    if np.any(zero) and _allclose(a[~zero], n[~zero], atol, rtol):
        return [
            f"analytic is zero at {int(zero.sum())} entries where numeric is not, and right elsewhere: a "
            "mask in backward (relu/max/clip/where) selects the wrong elements, or the point is at a kink"
        ]
    return []


# ----------------------------------------------------------------------------- report


def _index(flat_index: int, shape: tuple) -> str:
    if not shape:
        return "()"
    return str(tuple(int(i) for i in np.unravel_index(flat_index, shape)))


def _entries_table(
    a: np.ndarray,
    n: np.ndarray,
    out_shape: tuple,
    in_shape: tuple,
    atol: float,
    rtol: float,
    limit: int = WORST_ENTRIES,
) -> tuple[str, int]:
    error = np.abs(a - n)
    tolerance = atol + rtol * np.abs(n)
    bad = error > tolerance
    order = np.argsort(-(error - tolerance), axis=None)[:limit]
    rows = [("output", "input", "analytic", "numeric", "abs err", "rel err")]
    for flat in order:
        r, j = divmod(int(flat), a.shape[1])
        if not bad[r, j]:
            break
        rel = error[r, j] / abs(n[r, j]) if n[r, j] != 0 else math.inf
        rows.append(
            (
                _index(r, out_shape),
                _index(j, in_shape),
                f"{a[r, j]:.6g}",
                f"{n[r, j]:.6g}",
                f"{error[r, j]:.3g}",
                f"{rel:.3g}",
            )
        )
    if not out_shape:  # a scalar output: the output index says nothing
        rows = [row[1:] for row in rows]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = [
        "      " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=False)) for row in rows
    ]
    return "\n".join(lines), int(bad.sum())


def _compare(
    output_name: str, out_shape: tuple, slot: _Slot, a: np.ndarray, n: np.ndarray, atol: float, rtol: float
) -> GradcheckFailure | None:
    if _allclose(a, n, atol, rtol):
        return None
    table, count = _entries_table(a, n, out_shape, slot.shape, atol, rtol)
    worst = float(np.max(np.abs(a - n)))
    summary = (
        f"d({output_name}, shape {out_shape}) / d({slot.name}, shape {slot.shape}, {slot.value.dtype}): "
        f"{count} of {a.size} Jacobian entries wrong, max abs error {worst:.3g}"
    )
    hints = _hints(a, n, slot.shape, out_shape, atol, rtol)
    if not hints and slot.value.dtype != np.float64:
        hints = [f"probably round-off: {slot.name} is {slot.value.dtype} (see warnings); check in float64"]
    return GradcheckFailure(output_name, slot.name, out_shape, slot.shape, a, n, hints, summary, table)


def _dtype_notes(
    slots: list[_Slot], outputs: tuple, indices: list[int], eps: float, output_names: Sequence[str]
) -> list[str]:
    notes = []
    for slot in slots:
        if slot.value.dtype != np.float64:
            notes.append(
                f"{slot.name} is {slot.value.dtype}, not float64: finite differences with eps={eps:g} in "
                f"{slot.value.dtype} are mostly round-off, so mismatches may be noise; check with "
                f"float64 inputs (Value(x.data.astype(np.float64), requires_grad=True))"
            )
    if not notes:
        for k in indices:
            if outputs[k].dtype != np.float64:
                notes.append(
                    f"{output_names[k]} is {outputs[k].dtype}, not float64: func casts to lower "
                    f"precision, so finite differences are mostly round-off"
                )
    return notes


def _kink_note(slot: _Slot, kink: _Kink, output_label: str, eps: float) -> str:
    return (
        f"{slot.name} element {_index(kink.element, slot.shape)} = {kink.value:.6g} is at (or within "
        f"eps={eps:g} of) a non-differentiable point: one-sided differences of {output_label} give "
        f"{kink.right:.6g} (right) and {kink.left:.6g} (left), so finite differences cannot check the "
        f"gradient there; move the point away from the kink (see strategies.arrays(avoid=...))"
    )


def _format_report(
    title: str,
    failures: list[GradcheckFailure],
    notes: list[str],
    eps: float,
    atol: float,
    rtol: float,
    culprits: list[_Culprit] | None = None,
) -> str:
    lines = [
        f"{title} failed: {len(failures)} gradient{'s' if len(failures) != 1 else ''} "
        f"do{'es' if len(failures) == 1 else ''} not match finite differences",
        f"  (central differences with eps={eps:g}; an entry is wrong when |analytic - numeric| > "
        f"atol + rtol * |numeric| with atol={atol:g}, rtol={rtol:g})",
    ]
    for failure in failures:
        lines.append("")
        lines.append(f"  {failure.summary}")
        if failure.table:
            lines.append(
                "    worst entries (output index, input index):"
                if failure.output_shape
                else "    worst entries (input index):"
            )
            lines.append(failure.table)
        for hint in failure.hints:
            lines.append(f"    hint: {hint}")
    lines.extend(_culprit_lines(culprits))
    if notes:
        lines.append("")
        lines.append("  warnings:")
        lines.extend(f"    - {note}" for note in notes)
    return "\n".join(lines)


def _finish(
    ok: bool, report: str, failures: list[GradcheckFailure], notes: list[str], raise_exception: bool
) -> bool:
    __tracebackhide__ = True
    if ok:
        if notes:
            warnings.warn(
                "gradient check passed, but:\n  - " + "\n  - ".join(notes), GradcheckWarning, stacklevel=3
            )
        return True
    if raise_exception:
        raise GradcheckError(report, failures)
    return False


# ----------------------------------------------------------------------------- gradcheck


@dataclass
class _Outcome:
    ok: bool
    report: str
    failures: list[GradcheckFailure]
    notes: list[str]


def _full_check(
    func: Callable,
    inputs: tuple,
    *,
    eps: float,
    atol: float,
    rtol: float,
    nondet_tol: float,
    title: str,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    zero_gradient_cause: str = "",
) -> _Outcome:
    slots = _checked_slots(inputs, input_names, title)
    with _writable(slots):
        outputs = _call(func, inputs, title)
        indices = _float_outputs(outputs)
        if not indices:
            raise ValueError(
                f"{title}: func returned no floating-point output to differentiate "
                f"(got dtypes {[str(o.dtype) for o in outputs]})"
            )
        names = (
            list(output_names) if output_names is not None else [f"output {k}" for k in range(len(outputs))]
        )
        shapes = [outputs[k].shape for k in indices]
        notes = _dtype_notes(slots, outputs, indices, eps, names)

        shape_problems = _audit_backward_shapes([outputs[k] for k in indices])
        if shape_problems:
            return _shape_outcome(title, shape_problems, notes, eps, atol, rtol)

        analytic, unused = _analytic_jacobians(outputs, indices, slots)
        failures = _reentrancy_failures(outputs, indices, slots, analytic, nondet_tol, names)
        f0 = _flat(outputs, indices)
        again = _evaluate(func, inputs, indices, shapes, title)
        if not np.all(np.abs(again - f0) <= nondet_tol) and not np.array_equal(again, f0, equal_nan=True):
            failures.append(
                GradcheckFailure(
                    "func",
                    "inputs",
                    (),
                    (),
                    None,
                    None,
                    [
                        "func is not deterministic, so finite differences are meaningless: random ops "
                        "(dropout, "
                        "sampling) must be seeded inside func, and modules put in eval mode"
                    ],
                    f"func returned different outputs for the same inputs (max difference "
                    f"{float(np.nanmax(np.abs(again - f0))):.3g})",
                )
            )
            return _Outcome(False, _format_report(title, failures, notes, eps, atol, rtol), failures, notes)

        for i, slot in enumerate(slots):
            numeric, kinks = _numeric_jacobian(
                func, inputs, slot, indices, shapes, f0, eps, atol, rtol, title
            )
            row = 0
            for k, shape in zip(indices, shapes, strict=False):
                size = outputs[k].size
                part = slice(row, row + size)
                failure = _compare(names[k], shape, slot, analytic[i][part], numeric[part], atol, rtol)
                if failure is not None:
                    _add_cause(failure, outputs[k], unused[i], zero_gradient_cause)
                    failures.append(failure)
                row += size
            _explain_by_kinks(failures, slot, kinks, atol, rtol)
            for kink in kinks:
                notes.append(
                    _kink_note(slot, kink, _output_label(kink.output_row, indices, outputs, names), eps)
                )
    if not failures:
        return _Outcome(True, "", failures, notes)
    culprits = _find_culprits([outputs[k] for k in indices], eps, atol, rtol)
    report = _format_report(title, failures, notes, eps, atol, rtol, culprits)
    return _Outcome(False, report, failures, notes)


def _explain_by_kinks(
    failures: list[GradcheckFailure], slot: _Slot, kinks: list[_Kink], atol: float, rtol: float
) -> None:
    """When every wrong entry of a failure sits at a detected kink, say so first."""
    if not kinks:
        return
    at_kink = {k.element for k in kinks}
    for failure in failures:
        if failure.input != slot.name or failure.analytic is None or failure.numeric is None:
            continue
        error = np.abs(failure.analytic - failure.numeric)
        bad_columns = set(
            np.nonzero(np.any(error > atol + rtol * np.abs(failure.numeric), axis=0))[0].tolist()
        )
        if bad_columns and bad_columns <= at_kink:
            failure.hints.insert(
                0,
                "every wrong entry is at a non-differentiable point of the input (see "
                "warnings): finite differences are not valid there, so this may be no bug",
            )


def _output_label(row: int, indices: list[int], outputs: tuple, names: Sequence[str]) -> str:
    for k in indices:
        if row < outputs[k].size:
            return f"{names[k]} element {_index(row, outputs[k].shape)}"
        row -= outputs[k].size
    return "the output"


def _add_cause(failure: GradcheckFailure, output: Value, unused: bool, zero_gradient_cause: str) -> None:
    if zero_gradient_cause and failure.hints and failure.hints[-1].startswith("zero gradient"):
        failure.hints.insert(0, zero_gradient_cause)
    elif not output.requires_grad:
        failure.hints.insert(
            0,
            f"{failure.output} does not require grad: func cut it off from the inputs "
            "(.data, .numpy(), .detach(), no_grad or NumPy functions inside func)",
        )
    elif unused:
        failure.hints.insert(
            0,
            f"backward produced no gradient (None) for {failure.input}: an op's backward "
            "returned None for it, or the forward reached it only through .data",
        )


def _reentrancy_failures(
    outputs: tuple,
    indices: list[int],
    slots: list[_Slot],
    analytic: list[np.ndarray],
    nondet_tol: float,
    names: Sequence[str],
) -> list[GradcheckFailure]:
    again, _ = _analytic_jacobians(outputs, indices, slots)
    failures = []
    for slot, first, second in zip(slots, analytic, again, strict=False):
        difference = float(np.max(np.abs(first - second), initial=0.0))
        if not difference <= nondet_tol:
            failures.append(
                GradcheckFailure(
                    "outputs",
                    slot.name,
                    (),
                    slot.shape,
                    first,
                    second,
                    [
                        "backward is not deterministic (not reentrant): two backward passes through the "
                        "same graph "
                        f"gave gradients for {slot.name} that differ by {difference:.3g} > "
                        f"nondet_tol={nondet_tol:g}; "
                        "backward must not depend on state it changes"
                    ],
                    f"backward is not reentrant for {slot.name}",
                )
            )
    return failures


def _shape_outcome(
    title: str, problems: list[_ShapeProblem], notes: list[str], eps: float, atol: float, rtol: float
) -> _Outcome:
    failures = []
    for p in problems:
        summary = (
            f"backward of op '{p.op_name}' ({p.where}) returned a gradient of shape {p.grad_shape} for "
            f"its input {p.parent_index} of shape {p.input_shape}"
        )
        failures.append(
            GradcheckFailure(
                f"op '{p.op_name}'",
                f"its input {p.parent_index}",
                p.grad_shape,
                p.input_shape,
                None,
                None,
                [_shape_hint(p)],
                summary,
            )
        )
    return _Outcome(False, _format_report(title, failures, notes, eps, atol, rtol), failures, notes)


def gradcheck(
    func: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
) -> bool:
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
    outcome = _full_check(
        func, _as_tuple(inputs), eps=eps, atol=atol, rtol=rtol, nondet_tol=nondet_tol, title="gradcheck"
    )
    return _finish(outcome.ok, outcome.report, outcome.failures, outcome.notes, raise_exception)


def _random_like(outputs: Sequence[Value], rng: np.random.Generator) -> tuple[Value, ...]:
    return tuple(
        Value(rng.standard_normal(out.shape).astype(out.dtype), requires_grad=True) for out in outputs
    )


def _differentiable_outputs(func: Callable, inputs: tuple, caller: str) -> list[Value]:
    outputs = _call(func, inputs, caller)
    return [outputs[k] for k in _float_outputs(outputs)]


def _first_order_function(
    func: Callable, n_inputs: int, positions: list[int], caller: str
) -> Callable[..., tuple]:
    """(inputs..., grad_outputs...) -> gradients of sum(grad_output * output) for each checked input."""

    def first_order(*args: Any) -> tuple:
        xs, grad_outputs = args[:n_inputs], args[n_inputs:]
        outputs = _differentiable_outputs(func, xs, caller)
        keep = [k for k, out in enumerate(outputs) if out.requires_grad]
        wrt = [xs[p] for p in positions]
        if keep:
            grads = autograd_grad(
                [outputs[k] for k in keep],
                wrt,
                grad_outputs=[grad_outputs[k] for k in keep],
                create_graph=True,
                allow_unused=True,
            )
        else:
            grads = (None,) * len(wrt)
        return tuple(
            g if g is not None else Value(np.zeros(x.shape, dtype=x.dtype))
            for g, x in zip(grads, wrt, strict=False)
        )

    return first_order


def _as_grad_outputs(grad_outputs: Any, outputs: list[Value], seed: int | None) -> tuple:
    if grad_outputs is None:
        return _random_like(outputs, np.random.default_rng(seed))
    given = tuple(
        v if isinstance(v, Value) else Value(np.asarray(v, dtype=np.float64)) for v in _as_tuple(grad_outputs)
    )
    if len(given) != len(outputs):
        raise ValueError(
            f"gradgradcheck: grad_outputs has {len(given)} entries but func returns {len(outputs)} "
            "floating-point outputs; give one per output"
        )
    for k, (g, out) in enumerate(zip(given, outputs, strict=False)):
        if g.shape != out.shape:
            raise ValueError(
                f"gradgradcheck: grad_outputs[{k}] has shape {g.shape} but output {k} has shape {out.shape}"
            )
    return given


NOT_TWICE_DIFFERENTIABLE = (
    "the first-order gradient does not depend on this input in the graph: a backward rule computes with "
    "NumPy (np.cos(x), x.data, np.asarray) instead of Value operations, so it is not differentiable; with "
    "create_graph=True backward receives Values: write it with operators and tinygrad_lab.ops functions"
)


def gradgradcheck(
    func: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    seed: int | None = 0,
) -> bool:
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
    title = "gradgradcheck"
    inputs = _as_tuple(inputs)
    slots = _checked_slots(inputs, None, title)
    outputs = _differentiable_outputs(func, inputs, title)
    given = _as_grad_outputs(grad_outputs, outputs, seed)
    first_order = _first_order_function(func, len(inputs), [s.position for s in slots], title)
    input_names = [_default_name(p, x) for p, x in enumerate(inputs)] + [
        f"grad_output {k}" for k in range(len(given))
    ]
    output_names = [f"grad of {slot.name}" for slot in slots]
    outcome = _full_check(
        first_order,
        inputs + given,
        eps=eps,
        atol=atol,
        rtol=rtol,
        nondet_tol=nondet_tol,
        title=title,
        input_names=input_names,
        output_names=output_names,
        zero_gradient_cause=NOT_TWICE_DIFFERENTIABLE,
    )
    return _finish(outcome.ok, outcome.report, outcome.failures, outcome.notes, raise_exception)


# ----------------------------------------------------------------------------- projection checks


def _unit_normals(shapes: Sequence[tuple], rng: np.random.Generator) -> list[np.ndarray]:
    vectors = [rng.standard_normal(shape) for shape in shapes]
    norm = math.sqrt(sum(float(np.vdot(v, v)) for v in vectors))
    return [v / norm for v in vectors] if norm > 0 else vectors


def _directional_numeric(
    func: Callable,
    inputs: tuple,
    slots: list[_Slot],
    directions: list[np.ndarray | None],
    u: list[np.ndarray],
    indices: list[int],
    shapes: list[tuple],
    f0: np.ndarray,
    eps: float,
    caller: str,
) -> tuple[float, float, float]:
    """Central, right and left differences of <u, f(x + t v)> at t = 0."""
    originals = [slot.value.data.copy() for slot in slots]
    flat_u = np.concatenate([w.ravel() for w in u]) if u else np.zeros(0)

    def shifted(t: float) -> float:
        for slot, original, v in zip(slots, originals, directions, strict=False):
            if v is not None:
                slot.value.data[...] = original + t * v
        return float(np.dot(flat_u, _evaluate(func, inputs, indices, shapes, caller)))

    try:
        plus, minus = shifted(eps), shifted(-eps)
    finally:
        for slot, original in zip(slots, originals, strict=False):
            slot.value.data[...] = original
    center = float(np.dot(flat_u, f0))
    return (plus - minus) / (2 * eps), (plus - center) / eps, (center - minus) / eps


def _projected_analytic(
    func: Callable, inputs: tuple, slots: list[_Slot], u: list[np.ndarray], indices: list[int], caller: str
) -> list[np.ndarray | None]:
    outputs = _call(func, inputs, caller)
    keep = [(k, w) for k, w in zip(indices, u, strict=False) if outputs[k].requires_grad]
    if not keep:
        return [None] * len(slots)
    return [
        None if g is None else np.asarray(g.data, dtype=np.float64)
        for g in autograd_grad(
            [outputs[k] for k, _ in keep],
            [s.value for s in slots],
            grad_outputs=[Value(w.astype(outputs[k].dtype)) for k, w in keep],
            allow_unused=True,
        )
    ]


def _dot(g: np.ndarray | None, v: np.ndarray) -> float:
    return 0.0 if g is None else float(np.vdot(g, v))


def _projection_check(
    func: Callable,
    inputs: tuple,
    *,
    eps: float,
    atol: float,
    rtol: float,
    rng: np.random.Generator,
    directions: int,
    title: str,
    what: str,
) -> _Outcome:
    slots = _checked_slots(inputs, None, title)
    with _writable(slots):
        outputs = _call(func, inputs, title)
        indices = _float_outputs(outputs)
        if not indices:
            raise ValueError(f"{title}: func returned no floating-point output to differentiate")
        shapes = [outputs[k].shape for k in indices]
        names = [f"output {k}" for k in range(len(outputs))]
        notes = _dtype_notes(slots, outputs, indices, eps, names)
        f0 = _flat(outputs, indices)
        for d in range(directions):
            u = _unit_normals(shapes, rng)
            v = [rng.standard_normal(s.shape) for s in slots]  # each element moves by ~eps, as in gradcheck
            grads = _projected_analytic(func, inputs, slots, u, indices, title)
            analytic = sum(_dot(g, w) for g, w in zip(grads, v, strict=False))
            numeric, right, left = _directional_numeric(
                func, inputs, slots, list(v), u, indices, shapes, f0, eps, title
            )
            gap = abs(right - left)
            if gap > atol + rtol * max(abs(right), abs(left)):  # a kink, or just curvature: retry with eps/10
                numeric10, right10, left10 = _directional_numeric(
                    func, inputs, slots, list(v), u, indices, shapes, f0, eps / 10, title
                )
                kink = abs(right10 - left10) > 0.5 * gap or abs(numeric10 - numeric) > atol + rtol * abs(
                    numeric10
                )
            else:
                kink = False
            if kink:
                notes.append(
                    f"along random direction {d + 1} the one-sided differences disagree ({right:.6g} "
                    f"right, {left:.6g} left): the inputs are at or near a non-differentiable point"
                )
            if abs(analytic - numeric) > atol + rtol * abs(numeric):
                report = _projection_report(
                    func,
                    inputs,
                    slots,
                    u,
                    grads,
                    v,
                    indices,
                    shapes,
                    f0,
                    analytic,
                    numeric,
                    d,
                    eps,
                    atol,
                    rtol,
                    title,
                    what,
                    notes,
                )
                failure = GradcheckFailure(
                    what, "inputs", (), (), np.array([[analytic]]), np.array([[numeric]]), [], report
                )
                return _Outcome(False, report, [failure], notes)
    return _Outcome(True, "", [], notes)


def _projection_report(
    func: Callable,
    inputs: tuple,
    slots: list[_Slot],
    u: list[np.ndarray],
    grads: list[np.ndarray | None],
    v: list[np.ndarray],
    indices: list[int],
    shapes: list[tuple],
    f0: np.ndarray,
    analytic: float,
    numeric: float,
    d: int,
    eps: float,
    atol: float,
    rtol: float,
    title: str,
    what: str,
    notes: list[str],
) -> str:
    """Localize a failing direction: the same check with the direction restricted to each input in turn."""
    rows = [("input", "analytic", "numeric", "abs err", "ratio", "")]
    hints = []
    for i, slot in enumerate(slots):
        only = [w if j == i else None for j, w in enumerate(v)]
        a_i = _dot(grads[i], v[i])
        n_i, _, _ = _directional_numeric(func, inputs, slots, only, u, indices, shapes, f0, eps, title)
        wrong = abs(a_i - n_i) > atol + rtol * abs(n_i)
        ratio = a_i / n_i if n_i != 0 else math.nan
        rows.append(
            (
                slot.name,
                f"{a_i:.6g}",
                f"{n_i:.6g}",
                f"{abs(a_i - n_i):.3g}",
                f"{ratio:.4g}",
                "WRONG" if wrong else "ok",
            )
        )
        if wrong:
            hints.append(_projection_hint(slot, grads[i], a_i, n_i, atol))
    widths = [max(len(r[c]) for r in rows) for c in range(6)]
    table = "\n".join(
        "      " + "  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=False)) for r in rows
    )
    lines = [
        f"{title} failed: the {what} along a random direction does not match finite differences",
        f"  (<u, J v> with u a random unit vector over the outputs, v standard normal over the inputs; "
        f"central differences "
        f"with eps={eps:g}; wrong when |analytic - numeric| > atol + rtol * |numeric| with atol={atol:g}, "
        f"rtol={rtol:g})",
        "",
        f"  direction {d + 1}: analytic {analytic:.6g}, numeric {numeric:.6g}, abs error "
        f"{abs(analytic - numeric):.3g}",
        "    the same direction restricted to one input at a time:",
        table,
    ]
    lines += [f"    hint: {h}" for h in hints if h]
    lines.append("    (run check_grads(..., method='full') on a smaller input to see the wrong elements)")
    outputs = _call(func, inputs, title)
    lines += _culprit_lines(_find_culprits([outputs[k] for k in indices], eps, atol, rtol))
    if notes:
        lines += ["", "  warnings:"] + [f"    - {note}" for note in notes]
    return "\n".join(lines)


def _projection_hint(slot: _Slot, g: np.ndarray | None, analytic: float, numeric: float, atol: float) -> str:
    if g is None or not np.any(np.abs(g) > atol):
        return (
            f"zero gradient for {slot.name}: backward returned None/zeros for it (or the graph was cut "
            "with .data/.detach()/no_grad)"
        )
    if numeric != 0 and math.isclose(analytic / numeric, -1, rel_tol=1e-3):
        return f"sign flipped for {slot.name}: analytic = -numeric along this direction"
    if numeric != 0:
        return (
            f"{slot.name}: analytic = {analytic / numeric:.4g} x numeric along this direction (a constant "
            "factor if method='full' confirms it)"
        )
    return ""


def _directional_first_order(
    func: Callable, n_inputs: int, positions: list[int], u: list[np.ndarray], v: list[np.ndarray], caller: str
) -> Callable[..., Value]:
    """x -> <grad(<u, func(x)>, x), v> as a differentiable scalar: its gradient holds second derivatives."""

    def directional_derivative(*xs: Any) -> Value:
        outputs = _differentiable_outputs(func, xs, caller)
        keep = [k for k, out in enumerate(outputs) if out.requires_grad]
        wrt = [xs[p] for p in positions]
        total: Any = Value(0.0)
        if not keep:
            return total
        grads = autograd_grad(
            [outputs[k] for k in keep],
            wrt,
            grad_outputs=[Value(u[k].astype(outputs[k].dtype)) for k in keep],
            create_graph=True,
            allow_unused=True,
        )
        for g, w in zip(grads, v, strict=False):
            if g is not None:
                total = total + (g * Value(w.astype(g.dtype))).sum()
        return total

    return directional_derivative


def check_grads(
    func: Callable[..., Any],
    inputs: Any,
    order: int = 1,
    method: str = "full",
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int | None = None,
    directions: int = 3,
    raise_exception: bool = True,
) -> bool:
    """Check first (``order=1``) or first and second (``order=2``) derivatives of `func` at `inputs`.

    ``method='full'`` compares whole Jacobians (:func:`gradcheck`, and :func:`gradgradcheck` for order 2).
    ``method='projection'`` compares random directional derivatives ``<u, J v>`` (u a random unit vector
    over the outputs, v standard normal over the checked inputs): one backward and two forward calls per
    direction, whatever
    the input size, so large inputs are cheap. Order 2 by projection checks the gradient of the
    (differentiable) directional derivative ``<grad(<u, f>), v>`` along a further random direction.
    `seed` makes the random directions (and grad_outputs) reproducible.

    Example:
        >>> import numpy as np
        >>> from tinygrad_lab import Value
        >>> x = Value(np.linspace(-1, 1, 10_000), requires_grad=True)
        >>> check_grads(lambda x: x.tanh() * x, (x,), order=2, method="projection", seed=0)
        True
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's frame
    if order not in (1, 2):
        raise ValueError(f"check_grads: order must be 1 or 2, got {order!r}")
    if method not in ("full", "projection"):
        raise ValueError(f"check_grads: method must be 'full' or 'projection', got {method!r}")
    inputs = _as_tuple(inputs)
    if method == "full":
        first = gradcheck(func, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
        if order == 1 or not first:
            return first
        return gradgradcheck(
            func,
            inputs,
            eps=eps,
            atol=atol,
            rtol=rtol,
            raise_exception=raise_exception,
            seed=0 if seed is None else seed,
        )
    rng = np.random.default_rng(seed)
    title = "check_grads(method='projection')"
    outcome = _projection_check(
        func,
        inputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        rng=rng,
        directions=directions,
        title=title,
        what="first derivative",
    )
    if outcome.ok and order == 2:
        slots = _checked_slots(inputs, None, title)
        outputs = _differentiable_outputs(func, inputs, title)
        u = _unit_normals([out.shape for out in outputs], rng)
        v = [rng.standard_normal(s.shape) for s in slots]
        second = _directional_first_order(func, len(inputs), [s.position for s in slots], u, v, title)
        outcome2 = _projection_check(
            second,
            inputs,
            eps=eps,
            atol=atol,
            rtol=rtol,
            rng=rng,
            directions=directions,
            title=f"{title}, order 2",
            what="second derivative u . d2f[v, w]",
        )
        outcome = _Outcome(outcome2.ok, outcome2.report, outcome2.failures, outcome.notes + outcome2.notes)
    return _finish(outcome.ok, outcome.report, outcome.failures, outcome.notes, raise_exception)


# ----------------------------------------------------------------------------- modules


def _default_loss(rng: np.random.Generator) -> Callable[[Any], Value]:
    weights: dict[int, np.ndarray] = {}

    def weighted_sum(output: Any) -> Value:
        outputs = _as_tuple(output)
        total: Any = Value(0.0)
        for k, out in enumerate(outputs):
            if not isinstance(out, Value) or out.dtype.kind != "f":
                continue
            if k not in weights:
                weights[k] = rng.standard_normal(out.shape)
            total = total + (out * Value(weights[k].astype(out.dtype))).sum()
        return total

    return weighted_sum


class _float64_copy_of:
    """Give every parameter float64 data (a copy) for the check; restore the module exactly afterwards.

    Parameters get their original arrays (same objects, same dtypes) and requires_grad flags back;
    buffers (running statistics that a forward may update) get their original objects and contents back.
    """

    def __init__(self, module: Any) -> None:
        self.module = module
        self.params: list[tuple[Value, np.ndarray, bool]] = []
        self.buffers: list[tuple[Any, str, Any, np.ndarray | None]] = []

    def __enter__(self) -> _float64_copy_of:
        seen: set[int] = set()
        for _, param in self.module.named_parameters():
            if isinstance(param, Value) and id(param) not in seen:
                seen.add(id(param))
                self.params.append((param, param.data, param.requires_grad))
                if param.dtype.kind == "f":
                    param.data = param.data.astype(
                        np.float64
                    )  # always a copy: the user's array is never touched
        modules = self.module.modules() if hasattr(self.module, "modules") else [self.module]
        for sub in modules:
            for name, buffer in dict(getattr(sub, "_buffers", None) or {}).items():
                array = buffer.data if isinstance(buffer, Value) else buffer
                self.buffers.append(
                    (sub, name, buffer, array.copy() if isinstance(array, np.ndarray) else None)
                )
        return self

    def __exit__(self, *exc: object) -> None:
        for param, data, requires_grad in reversed(self.params):
            param.data = data
            param.requires_grad = requires_grad
        for sub, name, buffer, contents in reversed(self.buffers):
            if getattr(sub, name, None) is not buffer:
                setattr(sub, name, buffer)
            array = buffer.data if isinstance(buffer, Value) else buffer
            if contents is not None and isinstance(array, np.ndarray) and array.flags.writeable:
                np.copyto(array, contents)


def gradcheck_module(
    module: Any,
    inputs: Any,
    loss_fn: Callable[[Any], Value] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int | None = 0,
    check_inputs: bool = True,
    raise_exception: bool = True,
) -> bool:
    """Check the gradients of every parameter (by name) and every float input of an ``nn.Module``.

    The scalar checked is ``loss_fn(module(*inputs))``; by default a sum of the outputs weighted by
    fixed random numbers (seeded by `seed`), which catches any wrong entry of the Jacobian. The check
    runs on float64 copies of the parameters, buffers and float inputs; the module is restored exactly
    afterwards (same arrays, same dtypes, even if the check raises), and no ``.grad`` is touched.
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
        raise TypeError(
            f"gradcheck_module: module must be an nn.Module (with named_parameters()), "
            f"got {type(module).__name__}"
        )
    loss = loss_fn if loss_fn is not None else _default_loss(np.random.default_rng(seed))
    raw_inputs = _as_tuple(inputs)
    with _float64_copy_of(module):
        params = [
            (name, p) for name, p in module.named_parameters() if p.requires_grad and p.dtype.kind == "f"
        ]
        model_inputs = tuple(_float64_input(x) if check_inputs else x for x in raw_inputs)
        n_params = len(params)

        def loss_of(*args: Any) -> Value:
            out = loss(module(*args[n_params:]))
            if not isinstance(out, Value):
                raise TypeError(f"{title}: loss_fn must return a Value, got {type(out).__name__}")
            return out

        names = [f"parameter {name!r}" for name, _ in params] + [
            _default_name(i, x) for i, x in enumerate(model_inputs)
        ]
        everything = tuple(p for _, p in params) + model_inputs
        outcome = _full_check(
            loss_of,
            everything,
            eps=eps,
            atol=atol,
            rtol=rtol,
            nondet_tol=0.0,
            title=title,
            input_names=names,
            output_names=["loss"],
        )
    return _finish(outcome.ok, outcome.report, outcome.failures, outcome.notes, raise_exception)


def _float64_input(x: Any) -> Any:
    if isinstance(x, Value):
        if x.dtype.kind == "f":
            return Value(x.data.astype(np.float64), requires_grad=True, label=x.label)
        return x
    if isinstance(x, (np.ndarray, list, float)) and np.asarray(x).dtype.kind == "f":
        return Value(np.asarray(x, dtype=np.float64), requires_grad=True)
    return x


# ----------------------------------------------------------------------------- assertions


def assert_grad_close(
    func: Callable[..., Any],
    inputs: Any,
    order: int = 1,
    method: str = "full",
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int | None = None,
    loss_fn: Callable[[Any], Value] | None = None,
) -> None:
    """Assert the gradients of `func` (a function, or an ``nn.Module``) match finite differences.

    For pytest: a failure raises :class:`GradcheckError` (an ``AssertionError``) whose message is the
    readable report, and this function's frame is hidden from the traceback. A module is checked with
    :func:`gradcheck_module` (with `loss_fn`); a function with :func:`check_grads`.

    Example:
        >>> from tinygrad_lab import Value
        >>> assert_grad_close(lambda x: x.sigmoid(), (Value([0.1, 2.0], requires_grad=True),))
    """
    __tracebackhide__ = True
    if hasattr(func, "named_parameters") and callable(func):
        gradcheck_module(
            func, inputs, loss_fn=loss_fn, eps=eps, atol=atol, rtol=rtol, seed=0 if seed is None else seed
        )
        return
    check_grads(func, inputs, order=order, method=method, eps=eps, atol=atol, rtol=rtol, seed=seed)
