"""Module-call tags for drawings: each `Module.__call__` tags the values it made with `(module, start)`.

`start` is a creation number the call takes before its forward runs (`autograd.function.next_creation_number`):
the values the call made are the ones reachable from its outputs that were created after it (`_seq > start`),
its inputs the ones created before. `Value._calls` holds the tags, innermost call first; `tinygrad_lab.viz`
reads them to draw one cluster per module call. A tag holds no reference to any other value, so it never keeps
a graph alive; it costs one tuple per call.

Example:
    >>> from tinygrad_lab import Value, nn
    >>> x = Value([[1.0, 2.0]])
    >>> layer = nn.Linear(2, 1)
    >>> y = layer(x)
    >>> (module, start), = y._calls
    >>> module is layer, x._seq < start < y._seq
    (True, True)
"""
from __future__ import annotations

from typing import Any

from ..autograd import Value

__all__ = ["tag_outputs"]


def tag_outputs(module: Any, start: int, out: Any) -> None:
    """Tag the `Value`s in `out` (one, or a tuple of them) made by the call of `module` that took creation
    number `start`, with one shared `(module, start)` tag.

    Values made before the call (inputs passed through, as by `Identity`, and parameters) stay untagged, so
    tags cannot pile up on long-lived values.

    Example:
        >>> from tinygrad_lab import nn
        >>> a = Value([1.0])
        >>> start = a._seq
        >>> made = a * 2
        >>> tag_outputs(nn.Identity(), start, (a, made)); a._calls, len(made._calls)
        ((), 1)
    """
    call = (module, start)
    for v in (out if type(out) is tuple else (out,)):
        if isinstance(v, Value) and v._seq > start:
            v._calls += (call,)
