"""Statistics ops: `var`, `std` (PyTorch's `correction`), `cumsum`, and the index reductions `argmax`/`argmin`.

Example:
    >>> x = Value([1.0, 2.0, 4.0], requires_grad=True)
    >>> v = var(x)                      # sum((x - 7/3)^2) / (3 - 1)
    >>> round(v.item(), 6)
    2.333333
    >>> v.backward(); x.grad.data.round(6).tolist()   # 2 (x - mean) / (n - 1)
    [-1.333333, -0.333333, 1.666667]
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.value import Value, unwrap
from ..utils.checks import is_real
from ._dispatch import _array, _axes, _norm_axis, _reduction_args
from .movement import flip
from .reduce import _unreduce, mean
from .selection import where

__all__ = ["var", "std", "cumsum", "argmax", "argmin"]


def _count(shape: tuple, axis: Any) -> int:
    """How many elements one reduction over `axis` combines."""
    return math.prod(shape[a] for a in _axes(axis, len(shape)))   # 1 for a 0-d input (an empty product)


def _float16_in_float32(fn: Any, x: np.ndarray, **kwargs: Any) -> np.ndarray:
    """fn(x, **kwargs), float16 computed in float32 and rounded once (PyTorch's CPU rule; see `_sum_array`)."""
    if x.dtype.char == "e":
        return fn(x.astype(np.float32), **kwargs).astype(np.float16)
    return fn(x, **kwargs)


def _dof_factor(n: int, correction: float, dtype: np.dtype) -> Any:
    """1 / (n - correction) in `dtype`, for n - correction > 0 (NumPy's warnings off: a tiny one may overflow)."""
    with np.errstate(divide="ignore", over="ignore"):
        return np.divide(dtype.type(1), dtype.type(n - correction))


def _no_dof_backward(g: Any, x: Any, axis: Any, keepdims: bool, dtype: np.dtype) -> Any:
    """var's gradient without degrees of freedom (n - correction <= 0, so var is inf, or nan for 0 / 0):
    g * (inf where x differs from the mean of its slice, nan where it equals it), PyTorch's rule for a full
    reduction, used here for every reduction. 0 * inf and the like give nan without NumPy's warnings."""
    xd = unwrap(x)
    equal = xd == mean(xd, axis, keepdims=True)
    undefined = where(equal, dtype.type(np.nan), dtype.type(np.inf))
    with np.errstate(invalid="ignore"):
        return _unreduce(g, xd.shape, axis, keepdims) * undefined


class Var(Function):
    """y = sum((x - mean)^2) / (n - correction) over `axis`;  dy/dx = 2 (x - mean) / (n - correction).

    Without degrees of freedom (n - correction <= 0: y is inf, or nan where all x are equal) dy/dx is inf
    where x != mean and nan where x == mean (PyTorch's rule for a full reduction), for every `axis`.
    """

    name = "var"

    @staticmethod
    def forward(x: np.ndarray, axis: Any, correction: float, keepdims: bool) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _float16_in_float32(np.var, x, axis=axis, ddof=correction, keepdims=keepdims)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, axis: Any, correction: float, keepdims: bool) -> tuple[Any, ...]:
        n, dtype = _count(x.shape, axis), unwrap(out).dtype
        if n - correction <= 0:
            return (_no_dof_backward(g, x, axis, keepdims, dtype),)
        factor = 2 * _dof_factor(n, correction, dtype)
        centred = x - mean(x, axis, keepdims=True)
        return (_unreduce(g, x.shape, axis, keepdims) * centred * factor,)


class Std(Function):
    """y = sqrt(var(x)) over `axis`;  dy/dx = (x - mean) / ((n - correction) y), and 0 where y == 0 (PyTorch).

    Without degrees of freedom (n - correction <= 0: y is inf or nan) dy/dx is nan: var's gradient there
    (inf or nan) times g / (2 y) (0 or nan), as PyTorch for a full reduction, for every `axis`.
    """

    name = "std"

    @staticmethod
    def forward(x: np.ndarray, axis: Any, correction: float, keepdims: bool) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _float16_in_float32(np.std, x, axis=axis, ddof=correction, keepdims=keepdims)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, axis: Any, correction: float, keepdims: bool) -> tuple[Any, ...]:
        n, dtype = _count(x.shape, axis), unwrap(out).dtype
        if n - correction <= 0:   # d std = d var / (2 std), std inf or nan
            with np.errstate(invalid="ignore"):   # an infinite g over an infinite std
                scaled = g / (2 * out)
            return (_no_dof_backward(scaled, x, axis, keepdims, dtype),)
        factor = _dof_factor(n, correction, dtype)
        zero = unwrap(out) == 0
        scaled = where(zero, 0.0, g / where(zero, 1.0, out)) * factor
        centred = x - mean(x, axis, keepdims=True)
        return (_unreduce(scaled, x.shape, axis, keepdims) * centred,)


def _spread(op: type[Function], x: Any, axis: Any, correction: Any, keepdims: bool, dim: Any, keepdim: Any,
            unbiased: Any) -> Any:
    axis, keepdims = _reduction_args(axis, keepdims, dim, keepdim)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if correction is None:
        correction = 1
    if not is_real(correction):
        raise TypeError(f"{op.name}(): correction must be a number (1: sample, 0: population), got {correction!r}")
    if axis is not None:   # checked and normalised for arrays too (the same errors as for a Value)
        ndim = np.ndim(unwrap(x))
        axis = _axes(axis, ndim)
        if len(set(axis)) < len(axis):
            raise ValueError(f"{op.name}(): dim {sorted(axis)} names an axis twice: give each axis once")
        if ndim == 0:   # dim 0 or -1 of a 0-d Value is all of it, as in PyTorch
            axis = None
    if not isinstance(x, Value):
        return op.forward(_array(x), axis, correction, keepdims)
    return op.apply(x, axis=axis, correction=correction, keepdims=keepdims)


def var(x: Any, axis: Any = None, correction: float | None = 1, keepdims: bool = False, *, dim: Any = None,
        keepdim: bool | None = None, unbiased: bool | None = None) -> Any:
    """Variance over `axis` (None: all; dim 0 or -1 of a 0-d Value is all of it) with Bessel's `correction`
    (1 by default, as `torch.var`). float16 is computed in float32 and rounded once, as PyTorch does.

    The gradient is 2 (x - mean) / (n - correction), n the number of elements per reduction. Without degrees
    of freedom (n - correction <= 0) var is inf (nan where all elements are equal) and its gradient is inf
    where x differs from its slice's mean and nan where it equals it. That is PyTorch's rule for a full
    reduction; PyTorch gives a reduction over `dim` the finite, wrong-signed 2 (x - mean) / (n - correction)
    instead, where we keep the full-reduction rule (the one difference from PyTorch).

    Example:
        >>> var(Value([1.0, 3.0])).item(), var(Value([1.0, 3.0]), correction=0).item()
        (2.0, 1.0)
    """
    return _spread(Var, x, axis, correction, keepdims, dim, keepdim, unbiased)


def std(x: Any, axis: Any = None, correction: float | None = 1, keepdims: bool = False, *, dim: Any = None,
        keepdim: bool | None = None, unbiased: bool | None = None) -> Any:
    """Standard deviation over `axis` (`correction=1` by default, as `torch.std`; gradient 0 where it is 0).
    Its axes, and float16, as `var`.

    The gradient is (x - mean) / ((n - correction) std). Without degrees of freedom (n - correction <= 0)
    std is inf (nan where all elements are equal) and its gradient nan, PyTorch's rule for a full reduction;
    PyTorch gives a reduction over `dim` finite gradients (0 where std is inf) instead, where we keep the
    full-reduction rule (the one difference from PyTorch).

    Example:
        >>> std(Value([[1.0, 3.0], [2.0, 2.0]]), dim=1)
        Value([1.41421356, 0.        ])
    """
    return _spread(Std, x, axis, correction, keepdims, dim, keepdim, unbiased)


class CumSum(Function):
    """y_i = sum of x_j for j <= i along `axis`;  dx_j = sum of g_i for i >= j (a reversed cumulative sum)."""

    name = "cumsum"

    @staticmethod
    def forward(x: np.ndarray, axis: int) -> np.ndarray:
        return _float16_in_float32(np.cumsum, x, axis=axis)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, axis: int) -> tuple[Any, ...]:
        return (flip(cumsum(flip(g, axis), axis), axis),)


def cumsum(x: Any, axis: int | None = None, *, dim: int | None = None) -> Any:
    """Cumulative sum along `axis` (`dim`), as `torch.cumsum` (float16 summed in float32, each sum rounded once).

    Example:
        >>> cumsum(Value([1.0, 2.0, 3.0]), dim=0)
        Value([1., 3., 6.])
    """
    axis = axis if dim is None else dim
    if axis is None:
        raise TypeError("cumsum() needs the axis to sum along: cumsum(x, dim=0) (flatten first for a 1-D sum)")
    ndim = np.ndim(unwrap(x))
    axis = _norm_axis(axis, ndim)
    if not isinstance(x, Value):
        return CumSum.forward(_array(x), axis) if ndim else np.asarray(x).copy()
    if ndim == 0:
        return x * 1
    return CumSum.apply(x, axis=axis)


def _index_reduction(fn: Any, name: str, x: Any, axis: Any, keepdims: bool, dim: Any, keepdim: Any) -> Any:
    axis, keepdims = _reduction_args(axis, keepdims, dim, keepdim)
    array = np.asarray(unwrap(x))
    if isinstance(axis, tuple):
        raise TypeError(f"{name}() takes one axis (an int) or None, got {axis!r}")
    if axis is not None:
        axis = _norm_axis(axis, array.ndim)
    if array.size == 0 and (axis is None or array.shape[axis] == 0):   # other empty axes: an empty result
        along = "" if axis is None else f" over dim {axis}, of size 0"
        raise ValueError(f"{name}() of an empty Value (shape {array.shape}){along}: there is no element to pick "
                         "(an empty Value has an index only along a dim of nonzero size)")
    result = fn(array, axis=axis, keepdims=keepdims).astype(np.int64)
    return Value(result) if isinstance(x, Value) else result


def argmax(x: Any, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
           keepdim: bool | None = None) -> Any:
    """Index of the largest element along `axis` (None: of the flattened Value); the first one on ties.
    An empty Value has indices only along a dim of nonzero size (an empty result, as `torch.argmax`).

    Not differentiable: the result is an int64 Value without a graph (as `torch.argmax`).

    Example:
        >>> argmax(Value([[1.0, 5.0, 5.0], [7.0, 0.0, 1.0]]), dim=1)
        Value([1, 0], dtype=int64)
    """
    return _index_reduction(np.argmax, "argmax", x, axis, keepdims, dim, keepdim)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
           keepdim: bool | None = None) -> Any:
    """Index of the smallest element along `axis` (None: of the flattened Value); the first one on ties.

    Example:
        >>> argmin(Value([3.0, 1.0, 1.0]))
        Value(1, dtype=int64)
    """
    return _index_reduction(np.argmin, "argmin", x, axis, keepdims, dim, keepdim)
