"""Indexing: getitem (NumPy's basic and advanced indexing) and its adjoint index_add.

Example:
    >>> x = Value([1.0, 2.0, 3.0], requires_grad=True)
    >>> x[[0, 0, 2]].sum().backward(); x.grad        # index 0 taken twice
    Value([2., 0., 1.])
"""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..autograd.function import Function, make_node
from ..autograd.value import Value, unwrap
from ._dispatch import _array

__all__ = ["getitem", "index_add", "GetItem", "IndexAdd"]


def _plain_index(index: Any) -> Any:
    """An index with Values replaced by their arrays (integer arrays, masks)."""
    if isinstance(index, tuple):
        return tuple(unwrap(i) for i in index)
    return unwrap(index)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return builtins.all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


class GetItem(Function):
    """y = x[index] (basic or integer-array indexing);  dx = zeros with g added at `index`.

    Example:
        >>> float(GetItem.forward(np.array([1.0, 2.0]), 1))
        2.0
    """

    name = "getitem"

    @staticmethod
    def forward(x, index):
        return x[index]

    @staticmethod
    def backward(g, out, x, index):
        return (index_add(g, index, x.shape),)


def getitem(x: Any, index: Any) -> Any:
    """x[index] with NumPy's indexing (slices, integers, integer arrays, boolean masks).

    Example:
        >>> getitem(Value([1.0, 2.0, 3.0]), slice(1, None))
        Value([2., 3.])
    """
    index = _plain_index(index)
    if not isinstance(x, Value):
        return GetItem.forward(_array(x), index)
    try:
        data = GetItem.forward(x.data, index)
    except IndexError as err:
        raise IndexError(f"index {index!r} does not fit a Value of shape {x.shape}: {err}") from None
    return make_node(GetItem, data, (x,), {"index": index})


class IndexAdd(Function):
    """y = zeros(shape) with x added at `index` (repeated indices add up);  dx = g[index].

    Example:
        >>> IndexAdd.forward(np.array([1.0, 2.0]), np.array([2, 2]), (3,))
        array([0., 0., 3.])
    """

    name = "index_add"

    @staticmethod
    def forward(x, index, shape):
        out = np.zeros(shape, dtype=x.dtype)
        if _is_basic(index):
            out[index] = x
        else:
            np.add.at(out, index, x)
        return out

    @staticmethod
    def backward(g, out, x, index, shape):
        return (getitem(g, index),)


def index_add(x: Any, index: Any, shape: tuple) -> Any:
    """A zero array of `shape` with x added at `index` (the adjoint of indexing).

    Example:
        >>> index_add(Value([1.0, 2.0]), np.array([0, 0]), (3,))
        Value([3., 0., 0.])
    """
    if not isinstance(x, Value):
        return IndexAdd.forward(_array(x), index, tuple(shape))
    return IndexAdd.apply(x, index=_plain_index(index), shape=tuple(shape))
