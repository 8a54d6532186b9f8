"""NumPy's floating-point error state, switched cheaply: overflow ignored for a block of NumPy calls.

`np.errstate(over="ignore")` costs about 1 us per use, as much as a sigmoid of a small array. NumPy 2 keeps
the error state in a context variable, so setting it directly costs a tenth of that; older NumPy (or a
future one without it) falls back to `np.errstate`. The state is per thread and per context, as
`np.errstate`'s is. Used by `sigmoid` (exact zeros where exp overflows, without a warning) and by
`tinygrad_lab.jit`'s replay of such steps.

Example:
    >>> token = ignore_overflow()
    >>> float(np.exp(np.float64(1000.0)))
    inf
    >>> restore_errors(token)
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ignore_overflow", "restore_errors"]


try:   # NumPy 2 keeps the error state in a context variable: set it directly
    from numpy._core._ufunc_config import _extobj_contextvar as _STATE  # type: ignore[attr-defined]

    with np.errstate(over="ignore"):
        _IGNORING = _STATE.get()
except (ImportError, AttributeError):  # pragma: no cover - depends on the NumPy version
    _STATE = None


def ignore_overflow() -> Any:
    """Turn NumPy's overflow warning off in this thread and context; returns the token for `restore_errors`.

    Example:
        >>> restore_errors(ignore_overflow())
    """
    if _STATE is not None:
        return _STATE.set(_IGNORING)
    manager = np.errstate(over="ignore")  # pragma: no cover - older NumPy
    manager.__enter__()
    return manager


def restore_errors(token: Any) -> None:
    """Put back the error state that `ignore_overflow` replaced.

    Example:
        >>> before = np.geterr()
        >>> token = ignore_overflow(); restore_errors(token); np.geterr() == before
        True
    """
    if _STATE is not None:
        _STATE.reset(token)
    else:  # pragma: no cover - older NumPy
        token.__exit__(None, None, None)
