"""Ops that move elements without computing: reshape, permute/transpose, broadcast_to, sum_to, concat, stack.

Example:
    >>> x = Value([[1.0, 2.0, 3.0]], requires_grad=True)
    >>> x.T.shape, reshape(x, (3,)).shape
    ((3, 1), (3,))

Also the movement ops `flip`, `repeat`, `expand`, `split`, `chunk` and constant `pad` (PyTorch's semantics).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from ..autograd.function import Function, make_node
from ..autograd.value import Value, as_value, unwrap
from ..utils.capture import TRACED_TYPES
from ..utils.checks import is_integer
from ._dispatch import _array, _is_value, _norm_axis, _sum_array

__all__ = [
    "reshape", "permute", "transpose", "broadcast_to", "sum_to", "concat", "cat", "stack", "Reshape", "Permute",
    "BroadcastTo", "SumTo", "Concat", "Stack", "flip", "repeat", "expand", "split", "chunk", "pad"
]


class Reshape(Function):
    """y = x with a new shape;  dx = g reshaped back.

    Example:
        >>> Reshape.forward(np.arange(4.0), (2, 2)).shape
        (2, 2)
    """

    name = "reshape"

    @staticmethod
    def forward(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return x.reshape(shape)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
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
    def forward(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        return x.transpose(axes)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, axes: tuple[int, ...]) -> tuple[Any, ...]:
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
    axes: tuple[int, ...] | list[int]
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
    def forward(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return _broadcast_array(x, shape)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
        return (sum_to(g, x.shape),)


def _broadcast_array(x: Any, shape: tuple) -> np.ndarray:
    """A new writable array of `shape` filled by broadcasting x (faster than np.broadcast_to for small arrays)."""
    x = _array(x)
    if x.shape == shape:
        return x
    if type(x) is not np.ndarray and type(x) in TRACED_TYPES:   # a jit capture: calls it records (an assignment
        return np.broadcast_to(x, shape).copy()                  # into a new array would not be)
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
    if np.ndim(unwrap(x)) > len(shape):             # an assignment would drop leading 1s silently; NumPy refuses
        raise ValueError(f"broadcast_to: cannot broadcast shape {np.shape(unwrap(x))} to {shape}, which has fewer "
                         f"dimensions")
    if not isinstance(x, Value):
        return BroadcastTo.forward(x, shape)
    if x.shape == shape and _int_shape(shape):
        return x
    return BroadcastTo.apply(x, shape=shape)


def _int_shape(shape: tuple) -> bool:
    """True for a shape of integers; TypeError otherwise (an equal shape of floats is not a shape)."""
    for s in shape:
        if not is_integer(s):
            raise TypeError(f"a shape must be a tuple of integers, got {shape!r}")
    return True


def _sum_to_array(g: np.ndarray, shape: tuple) -> np.ndarray:
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
    if axes:
        g = _sum_array(g, axes, True)
    return g.reshape(shape)


class SumTo(Function):
    """y = x summed over broadcast axes down to `shape` (the transpose of broadcasting);  dx = g broadcast.

    Example:
        >>> SumTo.forward(np.ones((2, 3)), (3,))
        array([2., 2., 2.])
    """

    name = "sum_to"

    @staticmethod
    def forward(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return _sum_to_array(x, shape)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
        return (broadcast_to(g, x.shape),)


def sum_to(x: Any, shape: tuple) -> Any:
    """Sum x over the axes that broadcasting to x.shape would have added or stretched, giving `shape`.

    Example:
        >>> sum_to(Value([[1.0, 2.0], [3.0, 4.0]]), (1, 2))
        Value([[4., 6.]])
    """
    shape = tuple(shape)
    if not isinstance(x, Value):
        x = _array(x)
        _check_sum_to(x.shape, shape)
        return SumTo.forward(x, shape)
    if x.shape == shape and _int_shape(shape):
        return x
    _check_sum_to(x.shape, shape)
    return SumTo.apply(x, shape=shape)


def _check_sum_to(have: tuple, shape: tuple) -> None:
    """ValueError unless broadcasting `shape` could have given `have` (so summing back is defined)."""
    lead = len(have) - len(shape)
    if lead < 0 or not all(isinstance(s, (int, np.integer)) and s in (1, d) for s, d in zip(shape, have[lead:])):
        raise ValueError(f"sum_to: shape {have} cannot be summed to {shape}: broadcasting {shape} does not give "
                         f"{have} (each size must be 1 or equal, with the same number of dimensions or fewer)")


class Concat(Function):
    """y = the inputs joined along `axis`;  each input's gradient is its slice of g.

    Example:
        >>> Concat.forward(np.array([1.0]), np.array([2.0]), axis=0)
        array([1., 2.])
    """

    name = "concat"

    @staticmethod
    def forward(*xs: np.ndarray, axis: int) -> np.ndarray:
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(g: Any, out: Any, *xs: Any, axis: int) -> tuple[Any, ...]:
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
    def forward(*xs: np.ndarray, axis: int) -> np.ndarray:
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(g: Any, out: Any, *xs: Any, axis: int) -> tuple[Any, ...]:
        lead = (slice(None),) * _norm_axis(axis, g.ndim)
        return tuple(getitem(g, (*lead, i)) for i in range(len(xs)))


def _joined(op: type[Function], values: Sequence[Any], axis: int) -> Any:
    values = list(values)
    if not values:
        raise ValueError(f"{op.name}() needs at least one Value")
    if not is_integer(axis):
        raise TypeError(f"{op.name}: axis (dim) must be an int, not {type(axis).__name__} {axis!r}")
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



# ---------------------------------------------------------------------------- flip, repeat, expand, split, chunk, pad


def _sizes(sizes: tuple) -> tuple:
    """`f(x, 2, 3)` and `f(x, (2, 3))` both give (2, 3)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        return tuple(sizes[0])
    return tuple(sizes)


def _int(value: Any, what: str) -> int:
    if not is_integer(value):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    return int(value)


class Flip(Function):
    """y = x reversed along `dims`;  dx = g reversed along `dims`."""

    name = "flip"

    @staticmethod
    def forward(x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(g: Any, out: Any, x: Any, dims: tuple[int, ...]) -> tuple[Any, ...]:
        return (flip(g, dims),)


def flip(x: Any, dims: Any) -> Any:
    """Reverse the order of elements along `dims` (an int or a tuple), as `torch.flip`.

    Example:
        >>> flip(Value([[1.0, 2.0], [3.0, 4.0]]), 1)
        Value([[2., 1.],
               [4., 3.]])
    """
    ndim = np.ndim(unwrap(x))
    items = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    axes = tuple(_norm_axis(_int(d, "flip dims"), ndim) for d in items)
    if len(set(axes)) != len(axes):
        raise ValueError(f"flip: dims {dims!r} name an axis more than once")
    if ndim == 0:    # dim 0 or -1 of a 0-d Value: nothing to reverse, as in PyTorch (NumPy has no axis)
        axes = ()
    if not isinstance(x, Value):
        return np.flip(x, axes).copy()
    return Flip.apply(x, dims=axes)


class Repeat(Function):
    """y = x tiled `repeats[i]` times along axis i (`Tensor.repeat`, NumPy's tile);  dx = g summed over the copies."""

    name = "repeat"

    @staticmethod
    def forward(x: np.ndarray, repeats: tuple[int, ...]) -> np.ndarray:
        return np.tile(x, repeats)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, repeats: tuple[int, ...]) -> tuple[Any, ...]:
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
    ndim = np.ndim(unwrap(x))
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
    shape = tuple(np.shape(unwrap(x)))
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
    shape = np.shape(unwrap(x))
    if not shape:
        raise ValueError("split: a 0-d Value cannot be split; reshape it first")
    axis = _norm_axis(_int(dim, "dim"), len(shape))
    n = shape[axis]
    if is_integer(split_size_or_sections):
        size = int(cast(int, split_size_or_sections))   # is_integer held (mypy cannot see it)
        if size < 0 or (size == 0 and n > 0):
            raise ValueError(f"split: split_size must be positive (0 only for an empty dimension), got {size}")
        sections = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    else:
        sections = [_int(s, "split sizes") for s in cast("Sequence[Any]", split_size_or_sections)]
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
    shape = np.shape(unwrap(x))
    if not shape:
        raise ValueError("chunk: a 0-d Value cannot be chunked; reshape it first")
    n = shape[_norm_axis(_int(dim, "dim"), len(shape))]
    return split(x, max(math.ceil(n / chunks), 1), dim)


class Pad(Function):
    """y = x with `widths` (before, after) per axis added, filled with `value` (negative widths crop);
    dx = g with the negated widths (the padding cut off, the cropped parts zero)."""

    name = "pad"

    @staticmethod
    def forward(x: np.ndarray, widths: tuple[tuple[int, int], ...], value: float) -> np.ndarray:
        shape = tuple(s + b + a for s, (b, a) in zip(x.shape, widths))
        out = np.full(shape, value, dtype=x.dtype)
        src = tuple(slice(max(-b, 0), s - max(-a, 0)) for s, (b, a) in zip(x.shape, widths))
        dst = tuple(slice(max(b, 0), max(b, 0) + max(s - max(-b, 0) - max(-a, 0), 0))
                    for s, (b, a) in zip(x.shape, widths))
        out[dst] = x[src]
        return out

    @staticmethod
    def backward(g: Any, out: Any, x: Any, widths: tuple[tuple[int, int], ...], value: float) -> tuple[Any, ...]:
        return (pad_widths(g, tuple((-b, -a) for b, a in widths)),)


def pad_widths(x: Any, widths: tuple, value: float = 0.0) -> Any:
    """x padded by ((before, after), ...) per axis, NumPy's layout (negative widths crop)."""
    if all(b == 0 and a == 0 for b, a in widths):
        return x
    if not isinstance(x, Value):
        return Pad.forward(_array(x), widths, value)
    return Pad.apply(x, widths=widths, value=value)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Any:
    """Pad PyTorch's way (`torch.nn.functional.pad`): `pad` lists (before, after) pairs from the LAST axis backwards.

    `pad(x, (1, 2))` adds 1 in front of and 2 behind the last axis; `(1, 1, 2, 2)`
    also adds 2 rows above and below. `mode='constant'` fills with `value` (0 by
    default; negative widths crop). The other modes take their values from `x`:
    'reflect' mirrors it without repeating the edge (widths < the axis size),
    'replicate' repeats the edge, 'circular' wraps around (widths <= the axis
    size). Their gradient adds each copy's gradient back into the element it
    came from (they are integer-array reads of `x`).

    Example:
        >>> pad(Value([[1.0, 2.0]]), (1, 0, 0, 1), value=9.0)
        Value([[9., 1., 2.],
               [9., 9., 9.]])
        >>> pad(Value([1.0, 2.0, 3.0]), (2, 1), mode="reflect")
        Value([3., 2., 1., 2., 3., 2.])
    """
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, _PAD_MODES))}, got {mode!r}")
    widths_flat = [_int(p, "pad widths") for p in pad]
    ndim = np.ndim(unwrap(input))
    if len(widths_flat) % 2 or len(widths_flat) // 2 > ndim:
        raise ValueError(f"pad: the pad tuple must have an even length of at most 2 * ndim = {2 * ndim} "
                         f"(pairs for the last axes first), got {tuple(pad)}")
    widths = [(0, 0)] * ndim
    for i in range(len(widths_flat) // 2):
        widths[ndim - 1 - i] = (widths_flat[2 * i], widths_flat[2 * i + 1])
    shape = np.shape(unwrap(input))
    if mode == "constant":
        for axis, (s, (b, a)) in enumerate(zip(shape, widths)):
            if s + b + a < 0:
                raise ValueError(f"pad: the widths ({b}, {a}) would give axis {axis} of size {s} a negative size")
        return pad_widths(input, tuple(widths), 0.0 if value is None else value)
    if value is not None:
        raise ValueError(f"pad: mode {mode!r} takes its values from the input; it has no `value` argument")
    out = input
    for axis, (s, (b, a)) in enumerate(zip(shape, widths)):
        if b == 0 and a == 0:
            continue
        out = getitem(out, (slice(None),) * axis + (_pad_source(mode, s, b, a, axis),))
    return out


def _pad_source(mode: str, size: int, before: int, after: int, axis: int) -> np.ndarray:
    """For each position of a padded axis, the index of the element of `x` it copies ('reflect', 'replicate',
    'circular'), with the widths checked as PyTorch checks them."""
    if before < 0 or after < 0:
        raise ValueError(f"pad: mode {mode!r} needs non-negative widths, got ({before}, {after}) for axis {axis}")
    if mode == "replicate":
        if size == 0:
            raise ValueError(f"pad: mode 'replicate' repeats the edge, but axis {axis} is empty")
    elif max(before, after) > (size - 1 if mode == "reflect" else size):
        which = "less than" if mode == "reflect" else "at most"
        raise ValueError(f"pad: with mode {mode!r} the widths must be {which} the axis size, but axis {axis} has "
                         f"size {size} and the widths are ({before}, {after})")
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    return (size - 1) - np.abs((size - 1) - np.abs(positions))   # reflect: mirror at 0 and at size - 1


from .indexing import getitem  # noqa: E402  (the backward rules use it)
from .reduce import sum as _sum  # noqa: E402
