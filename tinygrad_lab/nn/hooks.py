"""Forward hooks of `Module`: `register_forward_pre_hook` / `register_forward_hook`, run in PyTorch's order.

A module with hooks sets `_hooks_active` on itself, so `Module.__call__` pays one attribute read when a
module has none. Pre-hooks run in registration order and may replace the inputs; then `forward`; then the
hooks, which may replace the output (`always_call` hooks also run when `forward` raises).

Example:
    >>> from tinygrad_lab import Value, nn
    >>> relu = nn.ReLU()
    >>> handle = relu.register_forward_hook(lambda module, args, out: out * 2)
    >>> relu(Value([1.0, -1.0]))
    Value([2., 0.])
    >>> handle.remove(); relu(Value([1.0, -1.0]))
    Value([1., 0.])
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from ..utils.checks import check_bool
from ..utils.hooks import RemovableHandle

__all__ = ["add_forward_hook", "forward_with_hooks"]


def add_forward_hook(module: Any, table_name: str, hook: Callable[..., Any], prepend: bool, with_kwargs: bool,
                     always_call: bool) -> RemovableHandle:
    """Add `hook` to the module's table `table_name` (`_forward_pre_hooks` or `_forward_hooks`); return its handle."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    for name, flag in (("prepend", prepend), ("with_kwargs", with_kwargs), ("always_call", always_call)):
        check_bool(flag, name, "register_forward_hook()" if table_name == "_forward_hooks"
                   else "register_forward_pre_hook()")
    d = module.__dict__
    table = d.setdefault(table_name, {})
    ref = weakref.ref(module)

    def refresh() -> None:
        owner = ref()
        if owner is not None:
            owner.__dict__["_hooks_active"] = bool(owner.__dict__.get("_forward_pre_hooks")
                                                   or owner.__dict__.get("_forward_hooks"))

    handle = RemovableHandle(table, refresh)
    entry = (hook, with_kwargs, always_call)
    if prepend:
        items = list(table.items())
        table.clear()
        table[handle.id] = entry
        table.update(items)
    else:
        table[handle.id] = entry
    d["_hooks_active"] = True
    return handle


def forward_with_hooks(module: Any, args: tuple, kwargs: dict) -> Any:
    """forward() between the pre-hooks (which may replace the inputs) and the hooks (which may replace the
    output), PyTorch's order."""
    for hook, with_kwargs, _ in list(module.__dict__.get("_forward_pre_hooks", {}).values()):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("a forward pre-hook registered with with_kwargs=True must return None "
                                       f"or a tuple (args, kwargs), got {type(result).__name__}")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    hooks = list(module.__dict__.get("_forward_hooks", {}).values())
    try:
        out = module.forward(*args, **kwargs)
    except Exception:
        for hook, with_kwargs, always_call in hooks:
            if always_call:
                try:
                    hook(module, args, kwargs, None) if with_kwargs else hook(module, args, None)
                except Exception:  # noqa: BLE001 - the forward error is the one to report
                    pass
        raise
    for hook, with_kwargs, _ in hooks:
        result = hook(module, args, kwargs, out) if with_kwargs else hook(module, args, out)
        if result is not None:
            out = result
    return out
