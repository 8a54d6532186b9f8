"""Reductions: sum, mean, max, min and logsumexp over an axis (None: all; `dim`/`keepdim` as in PyTorch).

Example:
    >>> x = Value([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> x.mean(axis=0).sum().backward(); x.grad
    Value([[0.5, 0.5],
           [0.5, 0.5]])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function, make_node
from ..autograd.value import Value, unwrap
from ._dispatch import _array, _axes, _floating, _kept_shape, _reduction_args, _sum_array

__all__ = ["sum", "mean", "max", "min", "logsumexp", "Sum", "Mean", "Max", "Min", "LogSumExp"]


def _unreduce(g: Any, shape: tuple, axis: Any, keepdims: bool) -> Any:
    """Bring the gradient of a reduction back to the input's shape (reshape, then broadcast)."""
    if not keepdims:
        g = reshape(g, _kept_shape(shape, axis))
    return broadcast_to(g, shape)



class Sum(Function):
    """y = sum of x over `axis`;  dy/dx = 1 (the gradient is broadcast back).

    Example:
        >>> Sum.forward(np.array([[1.0, 2.0]]), axis=1, keepdims=True)
        array([[3.]])
    """

    name = "sum"

    @staticmethod
    def forward(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
        return _sum_array(x, axis, keepdims)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> tuple[Any, ...]:
        return (_unreduce(g, x.shape, axis, keepdims),)


def sum(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Any:
    """Sum over `axis` (None: all; `dim`/`keepdim` accepted as in PyTorch).

    Example:
        >>> Value([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0)
        Value([4., 6.])
    """
    if dim is None and keepdim is None and type(axis) is not list:  # NumPy's names: nothing to translate
        keepdims = bool(keepdims)
    else:
        axis, keepdims = _reduction_args(axis, keepdims, dim, keepdim)
    if not isinstance(x, Value):
        return Sum.forward(_array(x), axis, keepdims)
    if axis is not None:
        _axes(axis, x.ndim)
    return make_node(Sum, Sum.forward(x.data, axis, keepdims), (x,), {"axis": axis, "keepdims": keepdims})


class Mean(Function):
    """y = mean of x over `axis`;  dy/dx = 1/n (n = number of elements averaged).

    Example:
        >>> float(Mean.forward(np.array([1.0, 2.0]), axis=None, keepdims=False))
        1.5
    """

    name = "mean"

    @staticmethod
    def forward(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
        if x.ndim == 0 and isinstance(axis, (int, np.integer)):   # dim 0 or -1 of a 0-d Value is all of it, as
            axis = None                                           # PyTorch and NumPy's sum (not its mean)
        if x.size == 0:   # a mean over no elements is nan, quietly as in PyTorch (NumPy warns)
            empty_sum = x.sum(axis=axis, keepdims=keepdims)
            return np.full_like(empty_sum, np.nan, dtype=x.dtype if x.dtype.kind in "fc" else np.float64)
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> tuple[Any, ...]:
        n = x.size // out.size if out.size and x.size else 1   # no elements: an empty gradient, whatever n
        return (_unreduce(g / n, x.shape, axis, keepdims),)


def mean(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
         keepdim: bool | None = None) -> Any:
    """Mean over `axis` (None: all elements).

    Example:
        >>> Value([[1.0, 2.0], [3.0, 5.0]]).mean(axis=1)
        Value([1.5, 4. ])
    """
    if dim is None and keepdim is None and type(axis) is not list:  # NumPy's names: nothing to translate
        keepdims = bool(keepdims)
    else:
        axis, keepdims = _reduction_args(axis, keepdims, dim, keepdim)
    if not isinstance(x, Value):
        return Mean.forward(_array(x), axis, keepdims)
    if axis is not None:
        _axes(axis, x.ndim)
    return make_node(Mean, Mean.forward(x.data, axis, keepdims), (x,), {"axis": axis, "keepdims": keepdims})


def _extreme_backward(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> tuple:
    """Gradient of max/min: to the extreme elements, split evenly between ties (as torch.amax)."""
    xd = unwrap(x)
    kept = unwrap(out) if keepdims else unwrap(out).reshape(_kept_shape(xd.shape, axis))
    hits = (xd == kept).astype(xd.dtype)
    share = hits / hits.sum(axis=axis, keepdims=True)
    return (_unreduce(g, xd.shape, axis, keepdims) * share,)


class Max(Function):
    """y = max of x over `axis`;  dy/dx = 1 at the maximum (ties share), 0 elsewhere.

    Example:
        >>> float(Max.forward(np.array([1.0, 2.0]), axis=None, keepdims=False))
        2.0
    """

    name = "max"

    @staticmethod
    def forward(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
        return x.max(axis=axis, keepdims=keepdims)

    backward = staticmethod(_extreme_backward)


class Min(Function):
    """y = min of x over `axis`;  dy/dx = 1 at the minimum (ties share), 0 elsewhere.

    Example:
        >>> float(Min.forward(np.array([1.0, 2.0]), axis=None, keepdims=False))
        1.0
    """

    name = "min"

    @staticmethod
    def forward(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
        return x.min(axis=axis, keepdims=keepdims)

    backward = staticmethod(_extreme_backward)


def _extreme(op: type[Function], x: Any, axis: Any, keepdims: bool, dim: Any, keepdim: Any) -> Any:
    axis, keepdims = _reduction_args(axis, keepdims, dim, keepdim)
    if not isinstance(x, Value):
        return op.forward(_array(x), axis, keepdims)
    axes = _axes(axis, x.ndim)
    if x.size == 0 and (axis is None or any(x.shape[a] == 0 for a in axes if x.ndim)):
        raise ValueError(f"{op.name}() of an empty Value (shape {x.shape}) over "
                         f"{'all axes' if axis is None else f'axis {axis}'}: there is no largest or smallest "
                         f"element; reduce over an axis of nonzero length")
    return make_node(op, op.forward(x.data, axis, keepdims), (x,), {"axis": axis, "keepdims": keepdims})


def max(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Any:
    """Largest element over `axis` (values only, as `torch.amax`; ties share the gradient).

    Example:
        >>> Value([[1.0, 2.0], [3.0, 5.0]]).max(axis=0)
        Value([3., 5.])
    """
    return _extreme(Max, x, axis, keepdims, dim, keepdim)


def min(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Any:
    """Smallest element over `axis` (values only, as `torch.amin`; ties share the gradient).

    Example:
        >>> Value([[1.0, 2.0], [3.0, 5.0]]).min()
        Value(1.)
    """
    return _extreme(Min, x, axis, keepdims, dim, keepdim)


class LogSumExp(Function):
    """y = log(sum(exp(x))) over `axis`, via the max shift;  dy/dx = exp(x - y) = softmax(x).

    Example:
        >>> float(LogSumExp.forward(np.array([1000.0, 1000.0]), axis=None, keepdims=False).round(6))
        1000.693147
    """

    name = "logsumexp"

    @staticmethod
    def forward(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
        x = _floating(x)
        if x.size == 0:   # a sum of no exponentials is 0: log 0 = -inf, as in PyTorch (max() has no identity)
            empty = _sum_array(x, axis, keepdims)
            return np.full_like(empty, -np.inf)
        if x.dtype.char == "e":   # float16 in float32, rounded once, as PyTorch (a float16 sum stops at 2048)
            return LogSumExp.forward(x.astype(np.float32), axis, keepdims).astype(np.float16)
        m = x.max(axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        y = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
        return y if keepdims else y.reshape(np.sum(x, axis=axis).shape)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> tuple[Any, ...]:
        kept = _kept_shape(x.shape, axis)
        return (_unreduce(g, x.shape, axis, keepdims) * exp(x - reshape(out, kept)),)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
              keepdim: bool | None = None) -> Any:
    """log(sum(exp(x))) over `axis`, computed stably (no overflow for large x).

    Example:
        >>> float(logsumexp(Value([0.0, 0.0])).data.round(6))
        0.693147
    """
    axis, keepdims = _reduction_args(axis, keepdims, dim, keepdim)
    if not isinstance(x, Value):
        return LogSumExp.forward(_array(x), axis, keepdims)
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)


from .movement import broadcast_to, reshape  # noqa: E402  (the backward rules use these ops)
from .unary import exp  # noqa: E402
