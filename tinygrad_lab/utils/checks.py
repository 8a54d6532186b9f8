"""Argument checks shared by every layer: one home for "an int, not a bool" and its kin.

Python's `bool` is a subclass of `int`, so `isinstance(True, int)` holds; a
user who passes `True` as an epoch count or a learning rate has made a mistake
that these predicates catch.

Example:
    >>> is_integer(3), is_integer(True), is_integer(3.0)
    (True, False, False)
    >>> is_real(0.5), is_real(False), is_real(float("nan")), is_real(float("nan"), finite=True)
    (True, False, True, False)
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["is_bool", "check_bool", "is_integer", "is_real", "int_tuple"]


def is_bool(value: Any) -> bool:
    """True for Python and NumPy bools only (not 0/1, not "yes"): flags such as `requires_grad`.

    Example:
        >>> import numpy as np
        >>> is_bool(True), is_bool(np.bool_(False)), is_bool(1), is_bool("yes")
        (True, True, False, False)
    """
    return isinstance(value, (bool, np.bool_))


def check_bool(value: Any, name: str, where: str) -> bool:
    """`value` as a bool if it is one (`is_bool`); a TypeError naming `where` and `name` otherwise (a string such
    as "no" is truthy: taking it would silently turn the flag on).

    Example:
        >>> check_bool(False, "ceil_mode", "max_pool2d")
        False
        >>> check_bool("no", "ceil_mode", "max_pool2d")
        Traceback (most recent call last):
        TypeError: max_pool2d: ceil_mode must be True or False, got str 'no'
    """
    if not is_bool(value):
        raise TypeError(f"{where}: {name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def is_integer(value: Any) -> bool:
    """True for Python and NumPy integers, False for bools and everything else.

    Example:
        >>> import numpy as np
        >>> is_integer(np.int64(2)), is_integer(np.bool_(True))
        (True, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: Any, finite: bool = False) -> bool:
    """True for real numbers (ints, floats, NumPy scalars) other than bools; with `finite`, also not inf/nan.

    Example:
        >>> is_real(1), is_real("1"), is_real(float("inf"), finite=True)
        (True, False, False)
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return not finite or math.isfinite(value)


def int_tuple(value: Any, n: int, name: str, where: str, minimum: int | None = None) -> tuple[int, ...]:
    """An int or a sequence of `n` ints as a tuple of `n` ints (kernel sizes, strides, paddings).

    A TypeError names `where` and `name` for anything else; with `minimum`, a smaller entry is a ValueError.

    Example:
        >>> int_tuple(3, 2, "stride", "conv2d"), int_tuple([1, 2], 2, "stride", "conv2d")
        ((3, 3), (1, 2))
        >>> int_tuple((1, True), 2, "stride", "conv2d")
        Traceback (most recent call last):
        TypeError: conv2d: stride must be an int or a tuple of 2 ints, got (1, True)
    """
    items = (value,) * n if is_integer(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if items is None or len(items) != n or not all(is_integer(v) for v in items):
        raise TypeError(f"{where}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if minimum is not None and any(v < minimum for v in items):
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {value!r}")
    return tuple(int(v) for v in items)
