"""Removable handles: what every hook registration returns (`handle.remove()` takes the hook out again).

As `torch/utils/hooks.py`. Used by `Value.register_hook` and by `Module`'s forward hooks.

Example:
    >>> table = {}
    >>> handle = RemovableHandle(table)
    >>> table[handle.id] = print
    >>> handle.remove(); table
    {}
"""
from __future__ import annotations

import itertools
from collections.abc import Callable

__all__ = ["RemovableHandle"]

_next_id = itertools.count().__next__


class RemovableHandle:
    """What `register_hook` and the module hook registrations return: `.remove()` takes the hook out again.

    Also a context manager (the hook is removed at the end of the `with` block), as in PyTorch.

    Example:
        >>> from tinygrad_lab import Value
        >>> x = Value([1.0], requires_grad=True)
        >>> with x.register_hook(print):
        ...     (x * 2).sum().backward()
        Value([2.])
    """

    def __init__(self, table: dict, on_remove: Callable[[], None] | None = None) -> None:
        self.id = _next_id()
        self._table = table
        self._on_remove = on_remove

    def remove(self) -> None:
        """Remove the hook (removing it twice is harmless)."""
        if self._table.pop(self.id, None) is not None and self._on_remove is not None:
            self._on_remove()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
