"""Each op of a graph checked on its own: which op's backward is wrong, and on which line it returns.

After a failed check, every op node behind the outputs is checked in isolation: its backward
against central differences of its own forward, in float64, on the inputs it saw (ops with a large
local Jacobian along one random direction instead). Before any value is compared, every backward
is called once to make sure its gradients can be summed to the input shapes.

A wrong op is located by the line of its backward's ``return`` statement that ran (found by
watching the call), not by the line where the method is declared.

Example:
    >>> from tinygrad_lab import Function
    >>> class Half(Function):
    ...     @staticmethod
    ...     def forward(x):
    ...         return x * x
    ...     @staticmethod
    ...     def backward(g, out, x):
    ...         return (g * x,)
    >>> x = Value([1.0, 2.0], requires_grad=True)
    >>> [(c.op_name, c.parent_index, c.wrong) for c in find_culprits([Half.apply(x).exp()], Tolerance())]
    [('half', 0, 2)]
"""

from __future__ import annotations

import ast
import inspect
import linecache
import math
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

import numpy as np

from ..autograd import Function, Value, unwrap
from .diagnosis import JacobianPair, diagnose, shape_mismatch
from .errors import GradcheckFailure
from .tolerance import Tolerance

__all__ = [
    "MAX_LOCAL_ENTRIES", "MAX_LOCAL_NODES", "SourceLine", "graph_nodes", "call_backward", "backward_location",
    "audit_backward_shapes", "Culprit", "check_op", "find_culprits",
]

MAX_LOCAL_ENTRIES = 20_000
"""Ops whose local Jacobian (output size x input size) is larger than this are not checked one by one."""

MAX_LOCAL_NODES = 200
"""At most this many graph nodes are checked one by one after a failure."""


# ----------------------------------------------------------------------------- where a backward returns


@dataclass(frozen=True)
class SourceLine:
    """A line of source code: ``str()`` gives 'file:line', `code` the line's text.

    Example:
        >>> str(SourceLine("my_ops.py", 9, "return (g * x,)"))
        'my_ops.py:9'
    """

    file: str
    line: int
    code: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def _source_line(file: str, line: int) -> SourceLine:
    return SourceLine(file, line, linecache.getline(file, line).strip())


def _called_with_return_line(function: Callable, *args: Any, **kwargs: Any) -> tuple[Any, int | None]:
    """function(*args, **kwargs) and the line of its return statement that ran (None if it cannot be watched)."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    if code is None or sys.getprofile() is not None:  # a builtin, or a profiler already running: do not disturb
        return function(*args, **kwargs), None
    lines: list[int] = []

    def watch(frame: FrameType, event: str, arg: Any) -> None:
        if event == "return" and frame.f_code is code:
            lines.append(frame.f_lineno)

    sys.setprofile(watch)
    try:
        result = function(*args, **kwargs)
    finally:
        sys.setprofile(None)
    return result, (lines[-1] if lines else None)


def _last_return_line(function: Callable) -> SourceLine | None:
    """The source line of the last return statement of `function` (its def line if it has none), read statically."""
    function = inspect.unwrap(function)
    try:
        source, start = inspect.getsourcelines(function)
        file = inspect.getsourcefile(function)
    except (OSError, TypeError):
        return None
    if file is None:
        return None
    try:
        tree = ast.parse(textwrap.dedent("".join(source)))
    except SyntaxError:
        return _source_line(file, start)
    definition = tree.body[0]
    returns, stack = [], list(ast.iter_child_nodes(definition))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            returns.append(node.lineno)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    line = max(returns) if returns else getattr(definition, "lineno", 1)
    return _source_line(file, start + line - 1)


def _as_tuple(local: Any) -> tuple:
    return local if isinstance(local, tuple) else tuple(local) if isinstance(local, list) else (local,)


def call_backward(op: type[Function], seed: np.ndarray, out: np.ndarray, datas: list, args: dict | None) -> tuple:
    """op.backward's gradients as a tuple (a backward may return a single gradient).

    Example:
        >>> from tinygrad_lab import Function
        >>> class Twice(Function):
        ...     @staticmethod
        ...     def forward(x):
        ...         return 2 * x
        ...     @staticmethod
        ...     def backward(g, out, x):
        ...         return 2 * g
        >>> call_backward(Twice, np.ones(2), np.zeros(2), [np.zeros(2)], None)
        (array([2., 2.]),)
    """
    return _as_tuple(op.backward(seed, out, *datas, **(args or {})))


def backward_location(op: type[Function], seed: np.ndarray, out: np.ndarray, datas: list,
                      args: dict | None) -> SourceLine | None:
    """Where op.backward returned when called with these arguments: the return statement that ran.

    Falls back to the last return statement of its source when the call cannot be watched (or fails),
    and to None when there is no source.

    Example:
        >>> from tinygrad_lab import Function
        >>> class Sign(Function):
        ...     @staticmethod
        ...     def forward(x):
        ...         return x
        ...     @staticmethod
        ...     def backward(g, out, x):
        ...         if x[0] > 0:
        ...             return (g,)
        ...         return (-g,)
        >>> positive = backward_location(Sign, np.ones(1), np.ones(1), [np.ones(1)], None)
        >>> negative = backward_location(Sign, np.ones(1), -np.ones(1), [-np.ones(1)], None)
        >>> negative.line - positive.line, negative.code
        (1, 'return (-g,)')
    """
    backward = op.backward
    try:
        _, line = _called_with_return_line(backward, seed, out, *datas, **(args or {}))
    except Exception:
        line = None
    if line is not None:
        file = inspect.getsourcefile(inspect.unwrap(backward)) or backward.__code__.co_filename
        return _source_line(file, line)
    return _last_return_line(backward)


def _where(location: SourceLine | None) -> str:
    return str(location) if location is not None else "<unknown file>"


# ----------------------------------------------------------------------------- the graph's ops


def _recorded(node: Value) -> tuple[type[Function] | None, tuple[Value, ...] | None, dict[str, Any] | None]:
    """(op, parents, op arguments) that `make_node` recorded in `node`: (None, (), None) for a leaf; the parents
    are None once `backward()` freed the graph."""
    return node._op, node._prev, node._args


def graph_nodes(outputs: Sequence[Value], limit: float = math.inf) -> list[Value]:
    """The op nodes (not leaves) behind `outputs` through Values that require grad, depth first.

    Example:
        >>> x = Value([1.0], requires_grad=True)
        >>> [node._op.name for node in graph_nodes([(x * 2).exp()])]
        ['exp', 'mul']
    """
    nodes: list[Value] = []
    seen: set[int] = set()
    stack = [out for out in outputs if out.requires_grad]
    while stack and len(nodes) < limit:
        node = stack.pop()
        op, parents, _ = _recorded(node)
        if id(node) in seen or op is None or not parents:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(p for p in parents if p.requires_grad)
    return nodes


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


def audit_backward_shapes(outputs: Sequence[Value]) -> list[GradcheckFailure]:
    """Call each op's backward once and check every gradient it returns can be summed to its input's shape.

    The engine sums a gradient that has broadcast axes back to the input's shape; a gradient that cannot
    be (a transposed gradient, a reduction over the wrong axis, a missing reduction of an axis the
    forward added in the middle) would otherwise fail with a cryptic error, or be silently reshaped.

    Example:
        >>> x = Value([[1.0, 2.0]], requires_grad=True)
        >>> audit_backward_shapes([(x * 3).sum()])
        []
    """
    failures = []
    for node in graph_nodes(outputs):
        op, recorded_parents, args = _recorded(node)
        parents = recorded_parents or ()
        assert op is not None  # graph_nodes gives op nodes only
        seed = np.ones(node.shape, dtype=node.dtype)
        datas = [p.data for p in parents]
        try:
            local = call_backward(op, seed, node.data, datas, args)
        except Exception:  # the real backward below reports it with its own traceback
            continue
        for index, (parent, g) in enumerate(zip(parents, local)):
            if g is None or not parent.requires_grad:
                continue
            grad_shape = tuple(np.shape(unwrap(g)))
            if grad_shape != parent.shape and not _reducible(grad_shape, parent.shape):
                where = _where(backward_location(op, seed, node.data, datas, args))
                summary = (f"backward of op '{op.name}' ({where}) returned a gradient of shape {grad_shape} for "
                           f"its input {index} of shape {parent.shape}")
                failures.append(GradcheckFailure(f"op '{op.name}'", f"its input {index}", grad_shape, parent.shape,
                                                 None, None, [shape_mismatch(grad_shape, parent.shape)], summary))
    return failures


# ----------------------------------------------------------------------------- one op against its own forward


@dataclass
class Culprit:
    """An op whose backward disagrees with finite differences of its own forward.

    Example:
        >>> Culprit("square", SourceLine("my_ops.py", 9), 0, (3,), 3, 9, 3.0, []).location.line
        9
    """

    op_name: str
    location: SourceLine | None
    parent_index: int
    parent_shape: tuple
    wrong: int
    total: int
    max_error: float
    hints: list[str]


def _forward_with(op: type[Function], datas: list, args: dict, i: int, x: np.ndarray) -> np.ndarray:
    """op.forward in float64 with its input i replaced by x."""
    return np.asarray(op.forward(*datas[:i], x, *datas[i + 1 :], **args), dtype=np.float64)


def _local_gradients(op: type[Function], seed: np.ndarray, out: np.ndarray, datas: list, args: dict,
                     checked: list[int]) -> dict[int, np.ndarray | None]:
    """op.backward at `seed` for each checked input in float64, summed to the input's shape (zeros when the
    backward returns None; None when the gradient cannot be summed to that shape: the shape audit reports it)."""
    local = call_backward(op, seed, out, datas, args)
    grads: dict[int, np.ndarray | None] = {}
    for i in checked:
        g = local[i] if i < len(local) else None
        g = np.zeros(datas[i].shape) if g is None else np.asarray(unwrap(g), float)
        if g.shape != datas[i].shape:
            g = _sum_to_shape(g, datas[i].shape) if _reducible(g.shape, datas[i].shape) else None
        grads[i] = g
    return grads


def _local_numeric(op: type[Function], datas: list, args: dict, i: int, out: np.ndarray, tol: Tolerance) -> tuple:
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


def _local_projection(op: type[Function], args: dict, datas: list, out: np.ndarray, checked: list[int],
                      tol: Tolerance) -> list[Culprit]:
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
            location = backward_location(op, u, out, datas, args)
            culprits.append(Culprit(op.name, location, i, datas[i].shape, 1, 1, abs(analytic - numeric), [hint]))
    return culprits


def check_op(node: Value, tol: Tolerance) -> list[Culprit]:
    """Check one op in isolation: its backward against central differences of its forward, in float64.

    An op whose forward gives a lower-precision float even on float64 inputs (a cast) is not checked.

    Example:
        >>> x = Value([0.5, 1.5], requires_grad=True)
        >>> check_op(x.tanh(), Tolerance())
        []
    """
    op, recorded_parents, recorded_args = _recorded(node)
    args, parents = recorded_args or {}, recorded_parents or ()
    if op is None:
        return []  # a leaf: nothing to check
    datas = [np.array(p.data, dtype=np.float64) if p.data.dtype.kind == "f" else p.data for p in parents]
    out = np.asarray(op.forward(*datas, **args))
    if out.dtype.kind == "f" and out.dtype.itemsize < 8:
        return []  # a cast to lower precision: its differences are round-off even on float64 inputs
    out = out.astype(np.float64)
    checked = [i for i, p in enumerate(parents) if p.requires_grad and p.data.dtype.kind == "f"]
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
            hints = diagnose(JacobianPair(a, n, datas[i].shape, out.shape, tol)) if np.all(smooth) else []
            location = backward_location(op, np.ones(out.shape), out, datas, args)
            culprits.append(Culprit(op.name, location, i, datas[i].shape, int(bad.sum()), bad.size,
                                    float(np.max(np.abs(a - n))), hints))
    return culprits


def find_culprits(outputs: Sequence[Value], tol: Tolerance) -> list[Culprit] | None:
    """Check every op of the graph one by one; None when the graph has no op to check.

    Example:
        >>> x = Value([0.5, 1.5], requires_grad=True)
        >>> find_culprits([(x * x).sum()], Tolerance()), find_culprits([x], Tolerance())
        ([], None)
    """
    nodes = graph_nodes(outputs, MAX_LOCAL_NODES)
    if not nodes:
        return None
    culprits: list[Culprit] = []
    reported: set[tuple[str, int]] = set()
    for node in nodes:
        try:
            found = check_op(node, tol)
        except Exception:  # an op that cannot run on float64 copies: skip it
            continue
        for culprit in found:
            key = (culprit.op_name, culprit.parent_index)
            if key not in reported:
                reported.add(key)
                culprits.append(culprit)
    return culprits
