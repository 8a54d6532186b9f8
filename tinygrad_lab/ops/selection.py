"""Elementwise selection between inputs: maximum, minimum and where.

Example:
    >>> a = Value([1.0, 5.0], requires_grad=True)
    >>> maximum(a, 3.0).sum().backward(); a.grad
    Value([0., 1.])
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.function import Function, constant, make_node
from ..autograd.value import Value, as_value, unwrap
from ._dispatch import _binary, _is_value

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["maximum", "minimum", "where", "Maximum", "Minimum", "Where"]


def _tie_split(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 where a wins, 0 where b wins, 1/2 on ties (PyTorch splits the gradient evenly)."""
    return (a > b) + 0.5 * (a == b)


class Maximum(Function):
    """y = max(a, b) elementwise;  dy/da = 1 where a > b, 0 where a < b, 1/2 on ties (dy/db likewise).

    Example:
        >>> Maximum.forward(np.array([1.0]), np.array([2.0]))
        array([2.])
    """

    name = "maximum"

    @staticmethod
    def forward(a: ArrayLike, b: ArrayLike) -> np.ndarray:
        return np.maximum(a, b)

    @staticmethod
    def backward(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        share = _tie_split(unwrap(a), unwrap(b)).astype(unwrap(out).dtype)
        return g * share, g * (1 - share)


class Minimum(Function):
    """y = min(a, b) elementwise;  dy/da = 1 where a < b, 0 where a > b, 1/2 on ties (dy/db likewise).

    Example:
        >>> Minimum.forward(np.array([1.0]), np.array([2.0]))
        array([1.])
    """

    name = "minimum"

    @staticmethod
    def forward(a: ArrayLike, b: ArrayLike) -> np.ndarray:
        return np.minimum(a, b)

    @staticmethod
    def backward(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        share = _tie_split(unwrap(b), unwrap(a)).astype(unwrap(out).dtype)
        return g * share, g * (1 - share)


def maximum(a: Any, b: Any) -> Any:
    """Elementwise maximum with broadcasting; the gradient goes to the larger input (ties share it).

    Example:
        >>> maximum(Value([1.0, 5.0]), 3.0)
        Value([3., 5.])
    """
    return _binary(Maximum, a, b) if _is_value(a, b) else Maximum.forward(a, b)


def minimum(a: Any, b: Any) -> Any:
    """Elementwise minimum with broadcasting; the gradient goes to the smaller input (ties share it).

    Example:
        >>> minimum(Value([1.0, 5.0]), 3.0)
        Value([1., 3.])
    """
    return _binary(Minimum, a, b) if _is_value(a, b) else Minimum.forward(a, b)


class Where(Function):
    """y = a where cond else b;  dy/da = cond, dy/db = not cond (cond is a constant).

    Example:
        >>> Where.forward(np.array([True, False]), np.array([1.0, 1.0]), np.array([2.0, 2.0]))
        array([1., 2.])
    """

    name = "where"

    @staticmethod
    def forward(cond: ArrayLike, a: ArrayLike, b: ArrayLike) -> np.ndarray:
        return np.where(cond, a, b)

    @staticmethod
    def backward(g: Any, out: Any, cond: Any, a: Any, b: Any) -> tuple[Any, ...]:
        c = unwrap(cond)
        return None, where(c, g, 0.0), where(c, 0.0, g)


def where(cond: Any, a: Any, b: Any) -> Any:
    """Choose a where `cond` is true, b elsewhere (broadcasting), as `torch.where`.

    Example:
        >>> x = Value([-1.0, 2.0], requires_grad=True)
        >>> where(x.data > 0, x, 0.0)
        Value([0., 2.], op=where)
    """
    if not _is_value(a, b):
        return Where.forward(unwrap(cond), a, b)
    like = a if isinstance(a, Value) else b
    a, b = as_value(a, like), as_value(b, like)
    cond = constant(np.asarray(unwrap(cond), dtype=bool))
    return make_node(Where, Where.forward(cond.data, a.data, b.data), (cond, a, b))
