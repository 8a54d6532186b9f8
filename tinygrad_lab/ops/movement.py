"""Ops that move elements without computing: reshape, permute/transpose, broadcast_to, sum_to, concat, stack.

Example:
    >>> x = Value([[1.0, 2.0, 3.0]], requires_grad=True)
    >>> x.T.shape, reshape(x, (3,)).shape
    ((3, 1), (3,))
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function, make_node
from ..autograd.value import Value, as_value, unwrap
from ._dispatch import _array, _is_value, _norm_axis

__all__ = [
    "reshape", "permute", "transpose", "broadcast_to", "sum_to", "concat", "cat", "stack",
    "Reshape", "Permute", "BroadcastTo", "SumTo", "Concat", "Stack",
]


class Reshape(Function):
    """y = x with a new shape;  dx = g reshaped back.

    Example:
        >>> Reshape.forward(np.arange(4.0), (2, 2)).shape
        (2, 2)
    """

    name = "reshape"

    @staticmethod
    def forward(x, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(g, out, x, shape):
        return (reshape(g, x.shape),)


def reshape(x: Any, *shape: Any) -> Any:
    """x with a new shape (one -1 allowed): `reshape(x, (2, 3))` or `x.reshape(2, 3)`.

    Example:
        >>> reshape(Value([1.0, 2.0, 3.0, 4.0]), (2, 2))
        Value([[1., 2.],
               [3., 4.]])
    """
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not isinstance(x, Value):
        return Reshape.forward(_array(x), shape)
    if shape == x.data.shape:
        return x
    try:
        data = Reshape.forward(x.data, shape)
    except ValueError:
        raise ValueError(f"cannot reshape a Value of shape {x.shape} ({x.size} elements) into {shape}") from None
    return make_node(Reshape, data, (x,), {"shape": shape})


class Permute(Function):
    """y = x with its axes permuted;  dx = g with the inverse permutation.

    Example:
        >>> Permute.forward(np.zeros((2, 3)), (1, 0)).shape
        (3, 2)
    """

    name = "permute"

    @staticmethod
    def forward(x, axes):
        return x.transpose(axes)

    @staticmethod
    def backward(g, out, x, axes):
        return (permute(g, tuple(np.argsort(axes))),)


def permute(x: Any, *axes: Any) -> Any:
    """Reorder the axes of x (`torch.permute`; NumPy's `transpose(axes)`).

    Example:
        >>> permute(Value(np.zeros((2, 3, 4))), (2, 0, 1)).shape
        (4, 2, 3)
    """
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not isinstance(x, Value):
        return Permute.forward(_array(x), axes)
    axes = tuple(_norm_axis(a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute: {axes} is not a permutation of the {x.ndim} axes of shape {x.shape}")
    return make_node(Permute, Permute.forward(x.data, axes), (x,), {"axes": axes})


def transpose(x: Any, dim0: int | None = None, dim1: int | None = None) -> Any:
    """Swap two axes as `torch.transpose(x, dim0, dim1)`; with no axes, reverse them all (`.T`).

    Example:
        >>> transpose(Value(np.zeros((2, 3, 4))), 0, 2).shape
        (4, 3, 2)
    """
    ndim = np.ndim(unwrap(x))
    if dim0 is None and dim1 is None:
        axes = tuple(reversed(range(ndim)))
    elif dim0 is None or dim1 is None:
        raise TypeError("transpose() takes two axes to swap (or none, to reverse all axes); "
                        "use permute() for a full permutation")
    else:
        axes = list(range(ndim))
        d0, d1 = _norm_axis(dim0, ndim), _norm_axis(dim1, ndim)
        axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(x, tuple(axes))


class BroadcastTo(Function):
    """y = x broadcast to `shape`;  dx = g summed back to x's shape.

    Example:
        >>> BroadcastTo.forward(np.array([1.0]), (3,))
        array([1., 1., 1.])
    """

    name = "broadcast_to"

    @staticmethod
    def forward(x, shape):
        return _broadcast_array(x, shape)

    @staticmethod
    def backward(g, out, x, shape):
        return (sum_to(g, x.shape),)


def _broadcast_array(x: Any, shape: tuple) -> np.ndarray:
    """A new writable array of `shape` filled by broadcasting x (faster than np.broadcast_to for small arrays)."""
    x = _array(x)
    if x.shape == shape:
        return x
    out = np.empty(shape, dtype=x.dtype)
    out[...] = x
    return out


def broadcast_to(x: Any, shape: tuple) -> Any:
    """x repeated along new or size-1 axes to `shape` (NumPy's broadcasting).

    Example:
        >>> broadcast_to(Value([1.0, 2.0]), (2, 2))
        Value([[1., 2.],
               [1., 2.]])
    """
    shape = tuple(shape)
    if not isinstance(x, Value):
        return BroadcastTo.forward(x, shape)
    if x.shape == shape:
        return x
    return BroadcastTo.apply(x, shape=shape)


def _sum_to_array(g: np.ndarray, shape: tuple) -> np.ndarray:
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


class SumTo(Function):
    """y = x summed over broadcast axes down to `shape` (the transpose of broadcasting);  dx = g broadcast.

    Example:
        >>> SumTo.forward(np.ones((2, 3)), (3,))
        array([2., 2., 2.])
    """

    name = "sum_to"

    @staticmethod
    def forward(x, shape):
        return _sum_to_array(x, shape)

    @staticmethod
    def backward(g, out, x, shape):
        return (broadcast_to(g, x.shape),)


def sum_to(x: Any, shape: tuple) -> Any:
    """Sum x over the axes that broadcasting to x.shape would have added or stretched, giving `shape`.

    Example:
        >>> sum_to(Value([[1.0, 2.0], [3.0, 4.0]]), (1, 2))
        Value([[4., 6.]])
    """
    shape = tuple(shape)
    if not isinstance(x, Value):
        return SumTo.forward(_array(x), shape)
    if x.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


class Concat(Function):
    """y = the inputs joined along `axis`;  each input's gradient is its slice of g.

    Example:
        >>> Concat.forward(np.array([1.0]), np.array([2.0]), axis=0)
        array([1., 2.])
    """

    name = "concat"

    @staticmethod
    def forward(*xs, axis):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(g, out, *xs, axis):
        grads, start = [], 0
        lead = (slice(None),) * _norm_axis(axis, g.ndim)
        for x in xs:
            stop = start + x.shape[axis]
            grads.append(getitem(g, (*lead, slice(start, stop))))
            start = stop
        return tuple(grads)


class Stack(Function):
    """y = the inputs stacked along a new `axis`;  each input's gradient is g taken at its position.

    Example:
        >>> Stack.forward(np.array([1.0]), np.array([2.0]), axis=0)
        array([[1.],
               [2.]])
    """

    name = "stack"

    @staticmethod
    def forward(*xs, axis):
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(g, out, *xs, axis):
        lead = (slice(None),) * _norm_axis(axis, g.ndim)
        return tuple(getitem(g, (*lead, i)) for i in range(len(xs)))


def _joined(op: type[Function], values: Sequence[Any], axis: int) -> Any:
    values = list(values)
    if not values:
        raise ValueError(f"{op.name}() needs at least one Value")
    if not _is_value(*values):
        return op.forward(*[_array(v) for v in values], axis=axis)
    like = next(v for v in values if isinstance(v, Value))
    values = [as_value(v, like) for v in values]
    try:
        data = op.forward(*[v.data for v in values], axis=axis)
    except ValueError as err:
        raise ValueError(f"{op.name}: shapes {[v.shape for v in values]} do not fit along axis {axis}: "
                         f"{err}") from None
    return make_node(op, data, tuple(values), {"axis": axis})


def concat(values: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Any:
    """Join values along an existing axis (`torch.cat`).

    Example:
        >>> concat([Value([1.0]), Value([2.0, 3.0])])
        Value([1., 2., 3.])
    """
    return _joined(Concat, values, axis if dim is None else dim)


cat = concat


def stack(values: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Any:
    """Stack values of equal shape along a new axis (`torch.stack`).

    Example:
        >>> stack([Value([1.0, 2.0]), Value([3.0, 4.0])], axis=1)
        Value([[1., 3.],
               [2., 4.]])
    """
    return _joined(Stack, values, axis if dim is None else dim)


from .indexing import getitem  # noqa: E402  (the backward rules use it)
