"""The engine: `backward` and `grad` apply the chain rule over the recorded graph.

`backward` sorts the graph topologically (iteratively, so deep graphs are
fine) and walks it in reverse, calling each op's `backward` rule. This is the
one place where broadcasting is undone: a gradient that has the broadcast
output's shape is summed back to its input's shape (`_sum_to`).

The pass switches grad mode only in its own thread (off, or on for
`create_graph=True`) and restores it when done, so other threads keep
recording.

Example:
    >>> from tinygrad_lab import Value
    >>> x = Value([1.0, 2.0], requires_grad=True)
    >>> backward(x * x, [1.0, 1.0]); x.grad
    Value([2., 4.])
"""
from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..utils.capture import _active as _capture_active
from ..utils.capture import recorder as _capture_recorder
from .anomaly_mode import check_finite, detect_anomaly
from .function import constant, creation_order, make_node
from .grad_mode import _ALL_MODES, _MODES
from .hooks import VALUE_HOOKS, run_value_hooks
from .value import Value

if TYPE_CHECKING:
    from .function import Function

__all__ = ["backward", "grad"]


def backward(tensors: Value | Sequence[Value], grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, check_anomaly: bool = False) -> None:
    """Accumulate the gradients of `tensors` into every leaf's `.grad` (`torch.autograd.backward`).

    `tensors` is one Value (`grad_tensors` is then its gradient: required when
    it is not a scalar) or a sequence of Values (`grad_tensors` then has one
    entry per Value, None for scalars). `Value.backward` runs this;
    `check_anomaly=True` runs the pass inside `detect_anomaly()`.

    Example:
        >>> from tinygrad_lab import Value
        >>> x = Value(3.0, requires_grad=True)
        >>> backward([x * x, 2 * x]); float(x.grad.data)    # 2x + 2
        8.0
    """
    if check_anomaly and not _MODES.get().anomaly:
        with detect_anomaly():
            return backward(tensors, grad_tensors, retain_graph, create_graph)
    outputs: tuple[Value, ...]
    gradients: tuple[Any, ...]
    if isinstance(tensors, Value):
        outputs, gradients = (tensors,), (grad_tensors,)
    else:
        outputs = tuple(tensors)
        gradients = (None,) * len(outputs) if grad_tensors is None else tuple(grad_tensors)
        if len(gradients) != len(outputs):
            raise ValueError(f"backward(): grad_tensors has {len(gradients)} entries, but there are "
                             f"{len(outputs)} tensors; give one gradient (or None for a scalar) per tensor")
    seeds = []
    for out, gradient in zip(outputs, gradients):
        if not isinstance(out, Value):
            raise TypeError(f"backward() takes Values, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError("backward() on a Value that does not require grad: no input of its graph has "
                               "requires_grad=True (or it was computed inside no_grad())")
        seeds.append(_seed_gradient(out, gradient, "backward()"))
    keep = create_graph if retain_graph is None else retain_graph
    _run_backward(outputs, seeds, keep, create_graph, None)


def _seed_gradient(out: Value, gradient: Any, caller: str) -> Any:
    if gradient is None:
        if out.data.size != 1:
            raise RuntimeError(f"{caller} on a non-scalar output of shape {out.shape} needs `gradient` (the "
                               f"vector of the vector-Jacobian product), e.g. loss.sum().backward() or "
                               f"out.backward(gradient=np.ones({out.shape}))")
        data = out.data   # a 0-d output's seed is a NumPy scalar: the rules' arithmetic on it skips the ufuncs
        return data.dtype.type(1) if data.ndim == 0 else np.ones(data.shape, dtype=data.dtype)
    g = np.asarray(gradient, dtype=out.data.dtype)   # a Value, an array, a list or a number
    if g.shape != out.shape:
        raise ValueError(f"{caller}: gradient has shape {g.shape}, but the output has shape {out.shape}")
    return g


# ----------------------------------------------------------------------------- the pass

_FREED = ("this graph was already freed by an earlier backward(): to backward through it again (or to call "
          "grad() twice), pass retain_graph=True to the first backward()/grad()")


def _topological_order(roots: Sequence[Value]) -> list[Value]:
    """Nodes that require grad reachable from `roots`, parents before children.

    An iterative search collects the nodes; creation order (`_seq`) sorts them,
    since an op's inputs always exist before its output. Values hash by
    identity, so they are their own keys.
    """
    found = set(roots)
    stack = list(roots)
    push, pop, add = stack.append, stack.pop, found.add
    while stack:
        parents = pop()._prev
        if parents is None:
            raise RuntimeError(_FREED)
        for parent in parents:
            if parent.requires_grad and parent not in found:
                add(parent)
                push(parent)
    return sorted(found, key=creation_order)


def _leading_to(order: Sequence[Value], wanted: set[Value]) -> set[Value]:
    """The nodes of `order` (parents first) that are wanted or have a wanted ancestor."""
    leading: set[Value] = set()
    for node in order:
        if node in wanted or any(p in leading for p in node._prev or ()):
            leading.add(node)
    return leading


def _sum_to(g: Any, parent: Value, node: Value) -> Any:
    """Reduce a gradient that was broadcast to the output's shape back to its input's shape."""
    shape = parent.data.shape
    try:
        return sum_to(g, shape)   # a ValueError when broadcasting `shape` cannot give g's shape
    except ValueError:
        pass
    # the node's backward rule just ran: it is an op's result (`_op` set) whose graph is not freed yet
    op: type[Function] = node._op  # type: ignore[assignment]
    parents: tuple[Value, ...] = node._prev  # type: ignore[assignment]
    index = next(i for i, p in enumerate(parents) if p is parent)
    raise RuntimeError(f"backward of '{op.name}' returned a gradient of shape {g.shape} for its input "
                       f"{index}, which has shape {shape}; a gradient must have the input's shape (or the "
                       f"broadcast output's shape)")


def _run_backward(roots: Sequence[Value], seeds: Sequence[Any], retain_graph: bool, create_graph: bool,
                  inputs: Sequence[Value] | None) -> dict[Value, Any]:
    """The chain rule over the graph. With `inputs`, return their gradients instead of filling `.grad`
    (without, fill `.grad` and return an empty dict).

    Nodes are visited children first; each op's rule turns the gradient of its
    output into gradients of its inputs, which add up per input. Arrays flow
    through the rules unless `create_graph`, when Values do (recording the pass).
    """
    order = _topological_order(roots)
    grads: dict[Value, Any] = {}
    for root, seed in zip(roots, seeds):
        if create_graph and not isinstance(seed, Value):
            seed = constant(seed)
        grads[root] = grads[root] + seed if root in grads else seed
    anomaly = _MODES.get().anomaly
    fill_grads = inputs is None
    wanted = set() if inputs is None else set(inputs)
    # With `inputs`, only nodes that are one of them or have one among their ancestors pass gradients on:
    # a wanted intermediate value still passes its gradient on to the wanted values upstream of it.
    needed = None if fill_grads else _leading_to(order, wanted)
    found: dict[Value, Any] = {}
    value_hooks = VALUE_HOOKS   # Value.register_hook: usually empty
    special = bool(value_hooks) or not fill_grads   # the usual pass skips the per-node checks below
    # the pass records only for create_graph, in this thread only: other threads keep their grad mode
    token = _MODES.set(_ALL_MODES[bool(create_graph), anomaly])
    try:
        while order:
            node = order.pop()   # children first; popped, so a node the pass has used can be freed
            g = grads.pop(node, None)
            if g is None:
                continue
            if special:
                if value_hooks and id(node) in value_hooks:
                    g = run_value_hooks(node, g, create_graph)
                if node in wanted:
                    found[node] = g
                if needed is not None and node not in needed:
                    continue
            op = node._op
            if op is None:
                if fill_grads:
                    _accumulate(node, g, create_graph)
                continue
            if node._retains_grad and fill_grads:
                _accumulate(node, g, create_graph)
            # not None: _topological_order refused freed graphs, and this pass frees a node only after its visit
            parents: tuple[Value, ...] = node._prev  # type: ignore[assignment]
            args = node._args
            if create_graph:
                local = op.backward(g, node, *parents, **args) if args else op.backward(g, node, *parents)
            elif op.needs_input_grad_hint and not parents[0].requires_grad:   # e.g. a first layer's input
                local = op.backward(g, node.data, *map(_data, parents),
                                    needs_input_grad=[p.requires_grad for p in parents], **(args or {}))
            elif args:
                local = op.backward(g, node.data, *map(_data, parents), **args)
            else:
                local = op.backward(g, node.data, *map(_data, parents))
            if type(local) is not tuple:
                local = tuple(local) if isinstance(local, list) else (local,)
            if anomaly:
                _check_local(node, local)
            for parent, gp in zip(parents, local):
                if gp is None or not parent.requires_grad:
                    continue
                if gp.shape != parent.data.shape:
                    gp = _sum_to(gp, parent, node)
                prev = grads.get(parent)
                grads[parent] = gp if prev is None else prev + gp
            if not retain_graph:
                node._prev = None
    finally:
        _MODES.reset(token)
    return found


_data = operator.attrgetter("data")   # a parent's array (map with it: no comprehension frame per node)


def _check_local(node: Value, local: tuple) -> None:
    where = getattr(node, "_origin", None) or ("an unknown line (the forward pass ran outside detect_anomaly(); "
                                               "run it inside `with detect_anomaly():` to record where)")
    op: type[Function] = node._op  # type: ignore[assignment]  # the rule that just ran
    for g in local:
        if g is not None:
            check_finite(g, "backward", op.name, where)   # an array, or a Value under create_graph


def _accumulate(node: Value, g: Any, create_graph: bool) -> None:
    """Add `g` into `node.grad` (a Value); a fresh array, never a view shared with another gradient."""
    grad = node._grad      # the slot behind `.grad`, whose setter checks assignments: these gradients fit
    if create_graph:
        node._grad = g if grad is None else grad + g
        return
    if isinstance(g, Value):
        g = g.data
    if grad is None:
        dtype = node.data.dtype
        g = g.copy() if isinstance(g, np.ndarray) and (g.dtype is dtype or g.dtype == dtype) else np.array(g, dtype)
        node._grad = make_node(None, g)  # g: a fresh array of the node's dtype
    else:
        grad.data = grad.data + g
    if _capture_active[0]:
        capture = _capture_recorder()
        if capture is not None:      # tinygrad_lab.jit is recording: it keeps this gradient up to date
            capture.leaf_grad(node)


def _value_tuple(arg: Any, name: str, one: str) -> tuple[Value, ...]:
    """`grad`'s outputs or inputs as a tuple of Values; TypeError naming what is not a Value."""
    if isinstance(arg, Value):
        return (arg,)
    if isinstance(arg, (str, bytes, np.ndarray)) or not isinstance(arg, Iterable):
        raise TypeError(f"grad(): {name} must be a Value or a sequence of Values, got {type(arg).__name__} "
                        f"{arg!r:.60}")
    items = tuple(arg)
    for i, v in enumerate(items):
        if not isinstance(v, Value):
            raise TypeError(f"grad(): {name} must be Values, but {one} {i} is {type(v).__name__} {v!r:.60}")
    if not items:
        raise ValueError(f"grad(): {name} is empty; give at least one Value")
    return items


def grad(outputs: Value | Sequence[Value], inputs: Value | Sequence[Value],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Value | None, ...]:
    """Gradients of `outputs` with respect to `inputs`, without touching any `.grad` (`torch.autograd.grad`).

    Example:
        >>> x = Value(3.0, requires_grad=True)
        >>> (dx,) = grad(x ** 3, x, create_graph=True)    # 3x^2 = 27
        >>> (ddx,) = grad(dx, x)                          # 6x = 18
        >>> float(dx.data), float(ddx.data)
        (27.0, 18.0)
    """
    outputs = _value_tuple(outputs, "outputs", "output")
    inputs = _value_tuple(inputs, "inputs", "input")
    if grad_outputs is None or isinstance(grad_outputs, (Value, np.ndarray)) or np.isscalar(grad_outputs):
        grad_outputs = (grad_outputs,) * len(outputs) if len(outputs) == 1 or grad_outputs is None else None
    if grad_outputs is None or len(grad_outputs) != len(outputs):
        raise ValueError(f"grad_outputs must have one entry per output ({len(outputs)})")
    for i, v in enumerate(inputs):
        if not isinstance(v, Value) or not v.requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad; create it with requires_grad=True")
    roots, seeds = [], []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"grad(): output {i} does not require grad: it does not depend on any input "
                               "that requires grad")
        roots.append(out)
        seeds.append(_seed_gradient(out, g, "grad()") if not (create_graph and isinstance(g, Value)) else g)
    keep = create_graph if retain_graph is None else retain_graph
    found = _run_backward(roots, seeds, keep, create_graph, inputs)
    result = []
    for i, v in enumerate(inputs):
        g = found.get(v)
        if g is None and not allow_unused:
            raise RuntimeError(f"grad(): input {i} was not used to compute the outputs; pass allow_unused=True "
                               "to get None for it")
        if g is not None and not isinstance(g, Value):
            g = constant(np.array(g, dtype=v.data.dtype))
        result.append(g)
    return tuple(result)


from ..ops.movement import sum_to  # noqa: E402  (ops build on Value; the engine needs one op)
