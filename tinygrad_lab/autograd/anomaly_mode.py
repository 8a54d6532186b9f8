"""Anomaly mode: find the first op that produces NaN or inf, per thread (`torch.autograd.detect_anomaly`).

Inside `detect_anomaly()` every op's output, and every gradient an op's
backward returns, is checked; the first non-finite one raises `AnomalyError`
naming the op and the line of the user's code that created the node. The
switch is per thread (and asyncio task), like grad mode, in the same context variable.

Example:
    >>> from tinygrad_lab import Value
    >>> x = Value([0.0, 1.0], requires_grad=True)
    >>> with detect_anomaly():
    ...     y = x.log()                      # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    AnomalyError: forward of 'log' produced -inf ...
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .grad_mode import _MODES, set_modes

__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_enabled", "check_finite"]


class AnomalyError(FloatingPointError):
    """Raised in `detect_anomaly()` mode by the first op that produces NaN or inf.

    Example:
        >>> issubclass(AnomalyError, FloatingPointError)
        True
    """


class detect_anomaly:
    """Check every op's output and gradient for NaN/inf in this thread (context manager).

    `check_nan=False` turns the checks off inside the block.

    Example:
        >>> with detect_anomaly():
        ...     is_anomaly_enabled()
        True
        >>> is_anomaly_enabled()
        False
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> detect_anomaly:
        self.prev = _MODES.get().anomaly
        set_modes(anomaly=bool(self.check_nan))
        return self

    def __exit__(self, *exc: object) -> None:
        set_modes(anomaly=self.prev)


def is_anomaly_enabled() -> bool:
    """True inside `detect_anomaly()` in this thread (`torch.is_anomaly_enabled`).

    Example:
        >>> is_anomaly_enabled()
        False
    """
    return _MODES.get().anomaly


def check_finite(array: Any, what: str, op_name: str, where: str) -> None:
    """Raise `AnomalyError` if the float `array` holds NaN or inf (`what`: 'forward' or 'backward').

    Example:
        >>> check_finite(np.array([1.0]), "forward", "exp", "here")
        >>> check_finite(np.array([np.nan]), "forward", "exp", "here")   # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        AnomalyError: forward of 'exp' produced nan; the node was created at here
    """
    array = np.asarray(array)
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        bad = "nan" if np.any(np.isnan(array)) else "inf"
        raise AnomalyError(f"{what} of '{op_name}' produced {bad}; the node was created at {where}")
