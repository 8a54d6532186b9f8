"""Helpers the ops share: dispatch on Values versus plain arrays, and axis arguments.

Example:
    >>> _axes(-1, 3), _kept_shape((2, 3), 1)
    ((2,), (2, 1))
"""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..autograd.function import Function, make_node
from ..autograd.value import Value, as_value
from ..utils.capture import as_array as _array  # noqa: F401  (np.asarray that keeps jit's traced arrays)
from ..utils.checks import is_integer

_max = builtins.max


def _is_value(*xs: Any) -> bool:
    """True when any argument is a Value (the op records); otherwise the op is plain NumPy."""
    return builtins.any(isinstance(x, Value) for x in xs)


def _binary(op: type[Function], a: Any, b: Any) -> Value:
    """Run a binary op on two operands, at least one a Value (the other a constant of its dtype)."""
    like = a if isinstance(a, Value) else b
    a, b = as_value(a, like), as_value(b, like)
    return make_node(op, op.forward(a.data, b.data), (a, b))


def _numpy_pair(a: Any, b: Any) -> tuple[Any, Any]:
    """Two operands without Values as NumPy sees them in a ufunc call (lists become arrays).

    Python numbers stay Python numbers (so they take the array's dtype); when
    neither operand is a NumPy object the first becomes one, so the result is a
    NumPy number as `np.add(2, 3)` gives.
    """
    a = np.asarray(a) if isinstance(a, (list, tuple)) else a
    b = np.asarray(b) if isinstance(b, (list, tuple)) else b
    if not isinstance(a, (np.ndarray, np.generic)) and not isinstance(b, (np.ndarray, np.generic)):
        a = np.asarray(a)
    return a, b


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """Normalise an axis argument (None, int or tuple; negatives allowed) to a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if is_integer(axis) else axis
    if not isinstance(axes, tuple) or not builtins.all(is_integer(a) for a in axes):
        raise TypeError(f"axis must be None, an int or a tuple of ints, not {axis!r}")
    return tuple(sorted(_norm_axis(a, ndim) for a in axes))


def _norm_axis(axis: int, ndim: int) -> int:
    """`axis` as an index in range(ndim) (negatives count from the end); a bool or non-integer is a TypeError."""
    if not is_integer(axis):
        raise TypeError(f"axis (dim) must be an int, not {type(axis).__name__} {axis!r}")
    if not -_max(ndim, 1) <= axis < _max(ndim, 1):
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for a Value with {ndim} dimension(s)")
    return int(axis) % _max(ndim, 1)


def _kept_shape(shape: tuple, axis: Any) -> tuple:
    """The shape of a reduction over `axis` with keepdims=True."""
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _reduction_args(axis: Any, keepdims: bool, dim: Any, keepdim: Any) -> tuple[Any, bool]:
    """Accept PyTorch's `dim`/`keepdim` as aliases of NumPy's `axis`/`keepdims`.

    With PyTorch's name an empty `dim` (`()` or `[]`) means every axis, as in PyTorch; NumPy's `axis=()` means
    none, as in NumPy.

    Example:
        >>> _reduction_args((), False, None, None), _reduction_args(None, False, (), True)
        (((), False), (None, True))
    """
    if dim is not None:
        axis = None if isinstance(dim, (tuple, list)) and len(dim) == 0 else dim
    if keepdim is not None:
        keepdims = keepdim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis, bool(keepdims)


def _sum_array(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """x.sum(axis, keepdims), float16 accumulated in float32 and rounded once (as PyTorch does on the CPU).

    NumPy adds float16 in float16: along a strided axis one by one, so a sum of a few thousand terms can be
    off in its first digit.

    Example:
        >>> x = np.full((4096, 2), 0.1, dtype=np.float16)
        >>> _sum_array(x, 0, False).tolist(), x.sum(axis=0).tolist()   # 409.6 rounded to float16, and NumPy's
        ([409.5, 409.5], [256.0, 256.0])
    """
    if x.dtype.char == "e":   # float16 (a cheaper test than comparing dtypes)
        return _add_reduce(x, axis=axis, dtype=np.float32, keepdims=keepdims).astype(np.float16)
    return _add_reduce(x, axis=axis, keepdims=keepdims)   # ndarray.sum's own sum, without its Python wrapper


_add_reduce: Any = np.add.reduce   # (typed loosely: NumPy's stubs want keepdims as a literal True or False)


def _floating(x: np.ndarray) -> np.ndarray:
    """`x` when it is floating point (or complex); bool and integer arrays as float64, as their results are.

    NumPy's float functions of bool, int8 and uint8 give float16 and of int16 float32, and `-x` wraps around for
    unsigned integers (sigmoid of uint8 1 would be 1 / (1 + exp(255))); PyTorch gives every one a float.

    Example:
        >>> _floating(np.array([True, False])).dtype, _floating(np.array([1.5], dtype=np.float32)).dtype
        (dtype('float64'), dtype('float32'))
    """
    return x if x.dtype.kind in "fc" else x.astype(np.float64)
