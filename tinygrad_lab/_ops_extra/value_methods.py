"""Tensor-style `Value` methods for the ops of this package (`x.var()`, `x.gather(dim, index)`, ...).

They only dispatch to the lowercase functions, with PyTorch's method names and
argument orders, and are attached to `Value` once, when this module is imported.

Example:
    >>> from tinygrad_lab import Value
    >>> x = Value([[1.0, 2.0], [3.0, 4.0]])
    >>> x.flip(0).cumsum(dim=1)
    Value([[3., 7.],
           [1., 3.]])
"""
from __future__ import annotations

from typing import Any

from ..engine import Value
from ..hooks import register_hook
from . import activation, indexing, movement, statistics

__all__: list[str] = []


def _var(self: Value, axis: Any = None, correction: float | None = 1, keepdims: bool = False,
         **torch_names: Any) -> Value:
    """Variance over `axis` with `correction` (1 by default), as `Tensor.var`."""
    return statistics.var(self, axis, correction, keepdims, **torch_names)


def _std(self: Value, axis: Any = None, correction: float | None = 1, keepdims: bool = False,
         **torch_names: Any) -> Value:
    """Standard deviation over `axis` with `correction` (1 by default), as `Tensor.std`."""
    return statistics.std(self, axis, correction, keepdims, **torch_names)


def _argmax(self: Value, axis: int | None = None, keepdims: bool = False, **torch_names: Any) -> Value:
    """Index of the largest element (an int64 Value, no gradient), as `Tensor.argmax`."""
    return statistics.argmax(self, axis, keepdims, **torch_names)


def _argmin(self: Value, axis: int | None = None, keepdims: bool = False, **torch_names: Any) -> Value:
    """Index of the smallest element (an int64 Value, no gradient), as `Tensor.argmin`."""
    return statistics.argmin(self, axis, keepdims, **torch_names)


def _cumsum(self: Value, axis: int | None = None, *, dim: int | None = None) -> Value:
    """Cumulative sum along `dim`, as `Tensor.cumsum`."""
    return statistics.cumsum(self, axis, dim=dim)


def _gather(self: Value, dim: int, index: Any) -> Value:
    """Values along `dim` at `index`, as `Tensor.gather`."""
    return indexing.gather(self, dim, index)


def _scatter_add(self: Value, dim: int, index: Any, src: Any) -> Value:
    """A copy with `src` added at `index` along `dim`, as `Tensor.scatter_add`."""
    return indexing.scatter_add(self, dim, index, src)


def _masked_fill(self: Value, mask: Any, value: float) -> Value:
    """`value` where `mask` is True, as `Tensor.masked_fill`."""
    return indexing.masked_fill(self, mask, value)


def _split(self: Value, split_size: Any, dim: int = 0) -> tuple:
    """Pieces along `dim` (a size or a list of sizes), as `Tensor.split`."""
    return movement.split(self, split_size, dim)


def _chunk(self: Value, chunks: int, dim: int = 0) -> tuple:
    """`chunks` nearly equal pieces along `dim`, as `Tensor.chunk`."""
    return movement.chunk(self, chunks, dim)


def _expand(self: Value, *sizes: Any) -> Value:
    """Broadcast to `sizes` (-1 keeps a size), as `Tensor.expand`."""
    return movement.expand(self, *sizes)


def _expand_as(self: Value, other: Any) -> Value:
    """Broadcast to the shape of `other`, as `Tensor.expand_as`."""
    return movement.expand(self, tuple(other.shape))


def _repeat(self: Value, *repeats: Any) -> Value:
    """Tile `repeats` times per axis, as `Tensor.repeat`."""
    return movement.repeat(self, *repeats)


def _flip(self: Value, *dims: Any) -> Value:
    """Reverse along `dims`, as `Tensor.flip`."""
    return movement.flip(self, dims[0] if len(dims) == 1 else dims)


def _register_hook(self: Value, hook: Any) -> Any:
    """Call `hook(grad)` when this Value's gradient is computed; it may return a replacement (`Tensor.register_hook`).

    Returns a handle whose `.remove()` takes the hook out.
    """
    return register_hook(self, hook)


def _erf(self: Value) -> Value:
    """The error function elementwise, as `Tensor.erf`."""
    return activation.erf(self)


METHODS = {
    "var": _var, "std": _std, "argmax": _argmax, "argmin": _argmin, "cumsum": _cumsum,
    "gather": _gather, "scatter_add": _scatter_add, "masked_fill": _masked_fill,
    "split": _split, "chunk": _chunk, "expand": _expand, "expand_as": _expand_as, "repeat": _repeat,
    "flip": _flip, "erf": _erf, "register_hook": _register_hook,
}
"""Method name -> function; attached to `Value` below (an existing method of the same name is never replaced)."""

for _name, _method in METHODS.items():
    if _name not in Value.__dict__:
        _method.__name__ = _method.__qualname__ = _name
        setattr(Value, _name, _method)
