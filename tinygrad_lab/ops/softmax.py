"""Softmax and log-softmax over an axis (the default is the last; `dim` as in PyTorch).

Example:
    >>> softmax(Value([[0.0, 0.0]]))
    Value([[0.5, 0.5]])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.value import Value
from ._dispatch import _array, _axes, _floating

__all__ = ["softmax", "log_softmax", "Softmax", "LogSoftmax"]


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) over `axis`;  dx = y * (g - sum(g * y)).

    Example:
        >>> Softmax.forward(np.array([0.0, 0.0]), axis=0)
        array([0.5, 0.5])
    """

    name = "softmax"

    @staticmethod
    def forward(x: np.ndarray, axis: int) -> np.ndarray:
        x = _floating(x)
        if x.size == 0:   # nothing to normalise (max() of an empty axis has no identity)
            return x.copy()
        if x.dtype.char == "e":   # float16 in float32, rounded once, as PyTorch (a float16 sum stops at 2048)
            return Softmax.forward(x.astype(np.float32), axis).astype(np.float16)
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, axis: int) -> tuple[Any, ...]:
        return (out * (g - sum(g * out, axis, keepdims=True)),)   # sum: float16 accumulated in float32


class LogSoftmax(Function):
    """y = x - logsumexp(x) over `axis`;  dx = g - exp(y) * sum(g).

    Example:
        >>> LogSoftmax.forward(np.array([0.0, 0.0]), axis=0).round(4)
        array([-0.6931, -0.6931])
    """

    name = "log_softmax"

    @staticmethod
    def forward(x: np.ndarray, axis: int) -> np.ndarray:
        x = _floating(x)
        if x.size == 0:   # nothing to normalise (max() of an empty axis has no identity)
            return x.copy()
        if x.dtype.char == "e":   # float16 in float32, rounded once, as PyTorch (a float16 sum stops at 2048)
            return LogSoftmax.forward(x.astype(np.float32), axis).astype(np.float16)
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    @staticmethod
    def backward(g: Any, out: Any, x: Any, axis: int) -> tuple[Any, ...]:
        return (g - exp(out) * sum(g, axis, keepdims=True),)


def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Any:
    """Softmax over `axis` (default the last; `dim` as in PyTorch).

    Example:
        >>> softmax(Value([0.0, 0.0]))
        Value([0.5, 0.5])
    """
    axis = axis if dim is None else dim
    if not isinstance(x, Value):
        return Softmax.forward(_array(x), axis)
    _axes(axis, x.ndim)
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Any:
    """log(softmax(x)) over `axis`, computed stably.

    Example:
        >>> log_softmax(Value([0.0, 0.0])).data.round(4)
        array([-0.6931, -0.6931])
    """
    axis = axis if dim is None else dim
    if not isinstance(x, Value):
        return LogSoftmax.forward(_array(x), axis)
    _axes(axis, x.ndim)
    return LogSoftmax.apply(x, axis=axis)


from .reduce import sum  # noqa: E402  (the backward rules use these ops)
from .unary import exp  # noqa: E402
