"""Movement ops: `flip`, `repeat`, `expand`, `split`, `chunk` and constant `pad` (PyTorch's semantics).

`expand`, `split` and `chunk` are built on `broadcast_to` and indexing (no op of
their own); `flip`, `repeat` and `pad` are ops.

Example:
    >>> x = Value([[1.0, 2.0]], requires_grad=True)
    >>> y = repeat(x, 2, 2)                # tiled: shape (2, 4)
    >>> y.sum().backward(); x.grad         # each element was used 4 times
    Value([[4., 4.]])
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import Function, Value
from ..ops import _data, _norm_axis, broadcast_to, getitem, reshape
from ..ops import sum as _sum

__all__ = ["flip", "repeat", "expand", "split", "chunk", "pad"]


def _sizes(sizes: tuple) -> tuple:
    """`f(x, 2, 3)` and `f(x, (2, 3))` both give (2, 3)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    return int(value)


class Flip(Function):
    """y = x reversed along `dims`;  dx = g reversed along `dims`."""

    name = "flip"

    @staticmethod
    def forward(x, dims):
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(g, out, x, dims):
        return (flip(g, dims),)


def flip(x: Any, dims: Any) -> Any:
    """Reverse the order of elements along `dims` (an int or a tuple), as `torch.flip`.

    Example:
        >>> flip(Value([[1.0, 2.0], [3.0, 4.0]]), 1)
        Value([[2., 1.],
               [4., 3.]])
    """
    ndim = np.ndim(_data(x))
    items = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    axes = tuple(_norm_axis(_int(d, "flip dims"), ndim) for d in items)
    if len(set(axes)) != len(axes):
        raise ValueError(f"flip: dims {dims!r} name an axis more than once")
    if not isinstance(x, Value):
        return np.flip(x, axes).copy()
    return Flip.apply(x, dims=axes)


class Repeat(Function):
    """y = x tiled `repeats[i]` times along axis i (`Tensor.repeat`, NumPy's tile);  dx = g summed over the copies."""

    name = "repeat"

    @staticmethod
    def forward(x, repeats):
        return np.tile(x, repeats)

    @staticmethod
    def backward(g, out, x, repeats):
        shape = (1,) * (len(repeats) - x.ndim) + tuple(x.shape)
        blocks = tuple(v for pair in zip(repeats, shape) for v in pair)   # (r0, s0, r1, s1, ...)
        summed = _sum(reshape(g, blocks), axis=tuple(range(0, 2 * len(shape), 2)))
        return (reshape(summed, x.shape),)


def repeat(x: Any, *repeats: Any) -> Any:
    """Tile x: `repeat(x, 2, 3)` repeats it twice along axis 0 and 3 times along axis 1 (`Tensor.repeat`).

    There must be at least one repeat per axis of x; extra ones add leading axes.

    Example:
        >>> repeat(Value([1.0, 2.0]), 2)
        Value([1., 2., 1., 2.])
    """
    reps = tuple(_int(r, "repeat counts") for r in _sizes(repeats))
    ndim = np.ndim(_data(x))
    if len(reps) < ndim:
        raise ValueError(f"repeat: give one count per dimension: the Value has {ndim} dimension(s) but "
                         f"{len(reps)} count(s) were given ({reps})")
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat: counts must be >= 0, got {reps}")
    if not isinstance(x, Value):
        return np.tile(x, reps)
    return Repeat.apply(x, repeats=reps)


def expand(x: Any, *sizes: Any) -> Any:
    """x broadcast to `sizes` (-1 keeps a size), as `Tensor.expand`; differentiable through `broadcast_to`.

    Example:
        >>> expand(Value([[1.0], [2.0]]), -1, 3)
        Value([[1., 1., 1.],
               [2., 2., 2.]])
    """
    sizes = tuple(_int(s, "expand sizes") for s in _sizes(sizes))
    shape = tuple(np.shape(_data(x)))
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ValueError(f"expand: the number of sizes ({len(sizes)}) must be at least the number of dimensions "
                         f"({len(shape)}) of the Value of shape {shape}")
    target = []
    for i, size in enumerate(sizes):
        if i < lead:
            if size < 0:
                raise ValueError(f"expand: the new leading dimension {i} cannot be -1 (give its size)")
            target.append(size)
            continue
        old = shape[i - lead]
        if size == -1:
            size = old
        if old != size and old != 1:
            raise ValueError(f"expand: the size of dimension {i} ({old}) must match the new size ({size}) unless "
                             f"it is 1 (shape {shape} -> {sizes})")
        target.append(size)
    return broadcast_to(x, tuple(target))


def split(x: Any, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Cut x into pieces along `dim`: equal pieces of a given size (the last may be smaller) or a list of sizes.

    Each piece is a differentiable slice of x (as `torch.split`).

    Example:
        >>> [p.tolist() for p in split(Value([1.0, 2.0, 3.0]), 2)]
        [[1.0, 2.0], [3.0]]
    """
    shape = np.shape(_data(x))
    if not shape:
        raise ValueError("split: a 0-d Value cannot be split; reshape it first")
    axis = _norm_axis(_int(dim, "dim"), len(shape))
    n = shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)) and not isinstance(split_size_or_sections, bool):
        size = int(split_size_or_sections)
        if size <= 0 and n > 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sections = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    else:
        sections = [_int(s, "split sizes") for s in split_size_or_sections]
        if sum(sections) != n or any(s < 0 for s in sections):
            raise ValueError(f"split: the sizes {sections} must be >= 0 and add up to {n}, the size of dimension "
                             f"{dim}")
    lead = (slice(None),) * axis
    pieces, start = [], 0
    for size in sections:
        pieces.append(getitem(x, (*lead, slice(start, start + size))))
        start += size
    return tuple(pieces)


def chunk(x: Any, chunks: int, dim: int = 0) -> tuple:
    """Cut x into `chunks` pieces of size ceil(n / chunks) along `dim` (fewer if they run out), as `torch.chunk`.

    Example:
        >>> [p.tolist() for p in chunk(Value([1.0, 2.0, 3.0, 4.0, 5.0]), 3)]
        [[1.0, 2.0], [3.0, 4.0], [5.0]]
    """
    chunks = _int(chunks, "chunks")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    shape = np.shape(_data(x))
    if not shape:
        raise ValueError("chunk: a 0-d Value cannot be chunked; reshape it first")
    n = shape[_norm_axis(_int(dim, "dim"), len(shape))]
    return split(x, max(math.ceil(n / chunks), 1), dim)


class Pad(Function):
    """y = x with `widths` (before, after) per axis added, filled with `value` (negative widths crop);
    dx = g with the negated widths (the padding cut off, the cropped parts zero)."""

    name = "pad"

    @staticmethod
    def forward(x, widths, value):
        shape = tuple(s + b + a for s, (b, a) in zip(x.shape, widths))
        out = np.full(shape, value, dtype=x.dtype)
        src = tuple(slice(max(-b, 0), s - max(-a, 0)) for s, (b, a) in zip(x.shape, widths))
        dst = tuple(slice(max(b, 0), max(b, 0) + max(s - max(-b, 0) - max(-a, 0), 0))
                    for s, (b, a) in zip(x.shape, widths))
        out[dst] = x[src]
        return out

    @staticmethod
    def backward(g, out, x, widths, value):
        return (pad_widths(g, tuple((-b, -a) for b, a in widths)),)


def pad_widths(x: Any, widths: tuple, value: float = 0.0) -> Any:
    """x padded by ((before, after), ...) per axis, NumPy's layout (negative widths crop)."""
    if all(b == 0 and a == 0 for b, a in widths):
        return x
    if not isinstance(x, Value):
        return Pad.forward(np.asarray(x), widths, value)
    return Pad.apply(x, widths=widths, value=value)


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Any:
    """Pad with a constant, PyTorch's way: `pad` lists (before, after) pairs from the LAST axis backwards.

    `pad(x, (1, 2))` adds 1 in front of and 2 behind the last axis; `(1, 1, 2, 2)`
    also adds 2 rows above and below. Negative widths crop. Only `mode='constant'`.

    Example:
        >>> pad(Value([[1.0, 2.0]]), (1, 0, 0, 1), value=9.0)
        Value([[9., 1., 2.],
               [9., 9., 9.]])
    """
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; only mode='constant' is")
    widths_flat = [_int(p, "pad widths") for p in pad]
    ndim = np.ndim(_data(input))
    if len(widths_flat) % 2 or len(widths_flat) // 2 > ndim:
        raise ValueError(f"pad: the pad tuple must have an even length of at most 2 * ndim = {2 * ndim} "
                         f"(pairs for the last axes first), got {tuple(pad)}")
    widths = [(0, 0)] * ndim
    for i in range(len(widths_flat) // 2):
        widths[ndim - 1 - i] = (widths_flat[2 * i], widths_flat[2 * i + 1])
    shape = np.shape(_data(input))
    for axis, (s, (b, a)) in enumerate(zip(shape, widths)):
        if s + b + a < 0:
            raise ValueError(f"pad: the widths ({b}, {a}) would give axis {axis} of size {s} a negative size")
    return pad_widths(input, tuple(widths), 0.0 if value is None else value)
