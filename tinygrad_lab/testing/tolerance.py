"""The finite-difference step and tolerances of a gradient check: validated, and the comparisons they define.

An entry of a Jacobian is wrong when ``|analytic - numeric| > atol + rtol * |numeric|``; one-sided
differences that disagree by more than that mark a kink (or strong curvature) within `eps`.

Example:
    >>> tol = checked_tolerance("gradcheck", eps=1e-6, atol=1e-5, rtol=1e-3)
    >>> tol.close(np.array([1.0, 2.0]), np.array([1.0, 2.001]))
    True
    >>> checked_tolerance("gradcheck", eps=0, atol=1e-5, rtol=1e-3)
    Traceback (most recent call last):
    ...
    ValueError: gradcheck: eps must be a positive finite number (the finite-difference step; 1e-6 suits float64), got 0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..utils.checks import is_real

__all__ = ["Tolerance", "checked_tolerance", "check_nonnegative"]


@dataclass(frozen=True)
class Tolerance:
    """The finite-difference step `eps` and the tolerances `atol`, `rtol` of a check, and their comparisons.

    Example:
        >>> tol = Tolerance(eps=1e-6, atol=1e-5, rtol=1e-3)
        >>> tol.wrong(np.array([1.0, 3.0, np.nan]), np.array([1.0, 6.0, 1.0]))
        array([False,  True,  True])
    """

    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3

    def bound(self, numeric: Any) -> Any:
        """The allowed error for each entry: atol + rtol * |numeric|."""
        return self.atol + self.rtol * np.abs(numeric)

    def wrong(self, analytic: Any, numeric: Any) -> Any:
        """Elementwise |analytic - numeric| > atol + rtol * |numeric|, or not comparable (a NaN is wrong, as in
        :meth:`close`: a NaN gradient must never pass a check)."""
        return ~(np.abs(analytic - numeric) <= self.bound(numeric))

    def close(self, analytic: Any, numeric: Any) -> bool:
        """Every entry is within the tolerance (a NaN is not)."""
        return bool(np.all(np.abs(analytic - numeric) <= self.bound(numeric)))

    def sides_differ(self, right: Any, left: Any) -> Any:
        """The one-sided differences disagree: a kink (or strong curvature) within eps."""
        return np.abs(right - left) > self.bound(np.maximum(np.abs(right), np.abs(left)))

    def rule(self) -> str:
        """The rule for a wrong entry, in words, for reports."""
        return f"|analytic - numeric| > atol + rtol * |numeric| with atol={self.atol:g}, rtol={self.rtol:g}"


def check_nonnegative(caller: str, name: str, value: Any) -> float:
    """`value` as a float when it is a finite real number >= 0; otherwise a clear TypeError or ValueError.

    Example:
        >>> check_nonnegative("gradcheck", "atol", 1e-5)
        1e-05
        >>> check_nonnegative("gradcheck", "atol", float("nan"))
        Traceback (most recent call last):
        ...
        ValueError: gradcheck: atol must be a finite number >= 0, got nan
    """
    if not is_real(value):
        raise TypeError(f"{caller}: {name} must be a real number, got {type(value).__name__} {value!r}")
    if not is_real(value, finite=True) or value < 0:
        raise ValueError(f"{caller}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def checked_tolerance(caller: str, eps: Any, atol: Any, rtol: Any) -> Tolerance:
    """A :class:`Tolerance` from the user's arguments, refusing a step or tolerance that would give no verdict.

    `eps` must be a finite number > 0 (eps = 0 divides by zero; a negative eps only flips the
    differences' sides); `atol` and `rtol` finite numbers >= 0 (an infinite or NaN tolerance would
    pass or fail everything).

    Example:
        >>> checked_tolerance("check_grads", 1e-6, float("inf"), 1e-3)
        Traceback (most recent call last):
        ...
        ValueError: check_grads: atol must be a finite number >= 0, got inf
    """
    if not is_real(eps):
        raise TypeError(f"{caller}: eps must be a real number, got {type(eps).__name__} {eps!r}")
    if not is_real(eps, finite=True) or eps <= 0:
        raise ValueError(f"{caller}: eps must be a positive finite number (the finite-difference step; 1e-6 "
                         f"suits float64), got {eps!r}")
    return Tolerance(float(eps), check_nonnegative(caller, "atol", atol), check_nonnegative(caller, "rtol", rtol))
