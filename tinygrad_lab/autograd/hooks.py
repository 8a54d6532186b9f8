"""`Value.register_hook`: see or replace a gradient during backward.

A Value's hooks run, in registration order, when its gradient has been fully
summed during `backward()` / `grad()`: each gets the gradient (a Value) and may
return a replacement (same shape), which the next hook receives and which then
flows on (into `.grad` for leaves and retained values, and to the inputs of
the op that made it). The hook table is consulted only where a node's
gradient is ready, and only when some Value has a hook at all.

Example:
    >>> from tinygrad_lab import Value
    >>> x = Value([1.0, 2.0], requires_grad=True)
    >>> y = x * 3
    >>> handle = y.register_hook(lambda g: g * 10)     # scale the gradient flowing through y
    >>> y.sum().backward(); x.grad
    Value([30., 30.])
    >>> handle.remove(); x.grad = None
    >>> (x * 3).sum().backward(); x.grad
    Value([3., 3.])
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from ..utils.hooks import RemovableHandle

__all__ = ["register_hook", "run_value_hooks", "VALUE_HOOKS"]

VALUE_HOOKS: dict[int, dict[int, Callable]] = {}
"""id(value) -> {handle id: hook}; an entry exists only while its Value is alive and has hooks."""

def _forget(key: int) -> None:
    VALUE_HOOKS.pop(key, None)


def register_hook(value: Any, hook: Callable[[Any], Any]) -> RemovableHandle:
    """Register `hook(grad) -> None or a new grad` on a Value that requires grad (`Tensor.register_hook`).

    Example:
        >>> from tinygrad_lab import Value
        >>> w = Value([1.0, -1.0], requires_grad=True)
        >>> _ = w.register_hook(lambda g: g.clip(-0.5, 0.5))   # clip this parameter's gradient
        >>> (w * 4).sum().backward(); w.grad
        Value([0.5, 0.5])
    """
    if not callable(hook):
        raise TypeError(f"register_hook() takes a function grad -> None or a new grad, got {type(hook).__name__}")
    if not value.requires_grad:
        raise RuntimeError("cannot register a hook on a Value that does not require grad (it gets no gradient); "
                           "create it with requires_grad=True")
    key = id(value)
    table = VALUE_HOOKS.get(key)
    if table is None:
        table = VALUE_HOOKS[key] = {}
        weakref.finalize(value, _forget, key)

    def drop_empty() -> None:
        if not table and VALUE_HOOKS.get(key) is table:
            del VALUE_HOOKS[key]

    handle = RemovableHandle(table, drop_empty)
    table[handle.id] = hook
    return handle


def run_value_hooks(node: Any, g: Any, create_graph: bool) -> Any:
    """Pass the summed gradient `g` of `node` through its hooks (called by the engine)."""
    for hook in list(VALUE_HOOKS[id(node)].values()):
        result = hook(g if isinstance(g, Value) else constant(g, node.data))
        if result is None:
            continue
        shape = np.shape(unwrap(result))
        if shape != node.data.shape:
            raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape {shape}, but "
                               f"the Value has shape {node.data.shape}; a hook may change the gradient's values, "
                               "not its shape")
        if create_graph:
            g = result if isinstance(result, Value) else constant(np.asarray(result, node.data.dtype), node.data)
        else:
            g = np.asarray(unwrap(result), dtype=node.data.dtype)
    return g


from .function import constant  # noqa: E402  (function and value import this module's table)
from .value import Value, unwrap  # noqa: E402
