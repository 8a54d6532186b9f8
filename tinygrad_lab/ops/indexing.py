"""Indexing: getitem (NumPy's basic and advanced indexing) and its adjoint index_add.

Example:
    >>> x = Value([1.0, 2.0, 3.0], requires_grad=True)
    >>> x[[0, 0, 2]].sum().backward(); x.grad        # index 0 taken twice
    Value([2., 0., 1.])

Also the indexing ops `gather`, `scatter_add`, `masked_fill`, `one_hot` and `embedding` (PyTorch's semantics).
"""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..autograd.function import Function, make_node
from ..autograd.value import Value, as_value, unwrap
from ..utils.capture import as_recorded
from ..utils.checks import check_bool, is_integer, is_real
from ._dispatch import _array, _norm_axis
from .selection import where

__all__ = [
    "getitem", "index_add", "GetItem", "IndexAdd", "gather", "scatter_add", "masked_fill", "one_hot", "embedding"
]


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
    def forward(x: np.ndarray, index: Any) -> np.ndarray:
        # as_recorded: a jit capture records a constant array indexed by data (class weights at the targets)
        return (as_recorded(x) if type(x) is np.ndarray else x)[index]

    @staticmethod
    def backward(g: Any, out: Any, x: Any, index: Any) -> tuple[Any, ...]:
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
    def forward(x: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
        out = as_recorded(np.zeros(shape, dtype=x.dtype))   # a jit capture records the additions into it
        if _is_basic(index):
            out[index] = x
        else:
            np.add.at(out, index, x)
        return out

    @staticmethod
    def backward(g: Any, out: Any, x: Any, index: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
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


# ---------------------------------------------------------------- gather, scatter_add, masked_fill, one_hot, embedding


def _positions(dim: int, index: np.ndarray) -> tuple:
    """The full NumPy index that picks element index[i][j][k] along `dim` (and i, j, k along the others)."""
    grid: list[np.ndarray] = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def _checked_index(fn: str, shape: tuple, dim: int, index: Any, other: tuple | None = None) -> tuple[int, np.ndarray]:
    """(normalised dim, int64 index array) after PyTorch's checks, in the user's terms."""
    index = np.asarray(unwrap(index))
    ndim = len(shape)
    dim = _norm_axis(dim, ndim)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{fn}: index must hold integers (e.g. int64), got dtype {index.dtype}")
    if index.ndim != ndim:
        raise ValueError(f"{fn}: index must have as many dimensions as the input ({ndim}), got shape {index.shape}")
    for d in range(ndim):
        if d != dim and index.shape[d] > shape[d]:
            raise ValueError(f"{fn}: index shape {index.shape} is larger than the input shape {shape} in "
                             f"dimension {d} (only dimension {dim} may differ)")
        if other is not None and index.shape[d] > other[d]:
            raise ValueError(f"{fn}: index shape {index.shape} is larger than the src shape {other} in dimension {d}")
    if index.size and (index.min() < 0 or index.max() >= shape[dim]):
        bad = index[(index < 0) | (index >= shape[dim])].flat[0]
        raise IndexError(f"{fn}: index {bad} is out of bounds for dimension {dim} with size {shape[dim]}")
    return dim, index.astype(np.int64, copy=False)


class Gather(Function):
    """y[i][j] = x[index[i][j]][j] for dim=0 (any rank, any dim);  dx = scatter_add(0, dim, index, g)."""

    name = "gather"

    @staticmethod
    def forward(x: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
        return x[_positions(dim, index)]

    @staticmethod
    def backward(g: Any, out: Any, x: Any, dim: int, index: np.ndarray) -> tuple[Any, ...]:
        zeros = np.zeros(x.shape, dtype=unwrap(g).dtype)
        return (scatter_add(zeros, dim, index, g),)


def gather(input: Any, dim: int, index: Any) -> Any:
    """Values of `input` along `dim` at `index` (same rank as input), as `torch.gather`.

    Example:
        >>> gather(Value([10.0, 20.0, 30.0]), 0, np.array([2, 0]))
        Value([30., 10.])
    """
    shape = np.shape(unwrap(input))
    dim, index = _checked_index("gather", shape, dim, index)
    if not isinstance(input, Value):
        return Gather.forward(_array(input), dim, index)
    return Gather.apply(input, dim=dim, index=index)


class ScatterAdd(Function):
    """y = x with src[i][j] added at y[index[i][j]][j] (dim=0; repeated indices add up);
    dx = g,  dsrc = gather(g, dim, index) (zero where src is outside index's shape)."""

    name = "scatter_add"

    @staticmethod
    def forward(x: np.ndarray, src: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
        out = np.array(x, copy=True)
        src = src[tuple(slice(0, s) for s in index.shape)]
        if out.dtype.kind == "f" and out.size:   # np.bincount sums like np.add.at, much faster (in float64)
            flat = np.ravel_multi_index(np.broadcast_arrays(*_positions(dim, index)), out.shape)
            out += np.bincount(flat.ravel(), weights=src.ravel(), minlength=out.size).reshape(out.shape)
        else:
            np.add.at(out, _positions(dim, index), src)
        return out

    @staticmethod
    def backward(g: Any, out: Any, x: Any, src: Any, dim: int, index: np.ndarray) -> tuple[Any, ...]:
        taken = gather(g, dim, index)
        if taken.shape != src.shape:
            taken = pad_widths(taken, tuple((0, s - t) for s, t in zip(src.shape, taken.shape)))
        return g, taken


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Any:
    """A copy of `input` with `src` added at `index` along `dim` (repeated indices add up), as `torch.scatter_add`.

    Example:
        >>> scatter_add(Value(np.zeros(3)), 0, np.array([0, 2, 0]), Value([1.0, 2.0, 3.0]))
        Value([4., 0., 2.])
    """
    shape = np.shape(unwrap(input))
    src_shape = np.shape(unwrap(src))
    if len(src_shape) != len(shape):
        raise ValueError(f"scatter_add: src must have as many dimensions as the input ({len(shape)}), got shape "
                         f"{src_shape}")
    dim, index = _checked_index("scatter_add", shape, dim, index, src_shape)
    if not isinstance(input, Value) and not isinstance(src, Value):
        return ScatterAdd.forward(_array(input), _array(src), dim, index)
    like = input if isinstance(input, Value) else src
    return ScatterAdd.apply(as_value(input, like), as_value(src, like), dim=dim, index=index)


def masked_fill(input: Any, mask: Any, value: float) -> Any:
    """`input` with `value` wherever the boolean `mask` (broadcast) is True, as `Tensor.masked_fill`.

    The gradient flows to the elements that were kept (through `where`).

    Example:
        >>> masked_fill(Value([1.0, 2.0, 3.0]), np.array([True, False, True]), 0.0)
        Value([0., 2., 0.])
    """
    m = np.asarray(unwrap(mask))
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be boolean, got dtype {m.dtype} (compare first, e.g. x > 0)")
    shape = np.shape(unwrap(input))
    if np.broadcast_shapes(m.shape, shape) != shape:
        raise ValueError(f"masked_fill: the mask of shape {m.shape} does not broadcast to the input shape {shape}")
    fill = unwrap(value)
    if np.ndim(fill) != 0:
        raise ValueError("masked_fill: value must be a number (or a 0-d Value)")
    dtype = np.asarray(unwrap(input)).dtype
    if dtype.kind in "biu":   # the input keeps its dtype, as in PyTorch (NumPy's where would give float64)
        info = np.iinfo(np.int64 if dtype.kind == "b" else dtype)
        low = min(info.min, -(2 ** (8 * dtype.itemsize - 1)))   # unsigned: negatives wrap around, as PyTorch
        if not (np.isfinite(fill) and low <= fill <= info.max):
            raise ValueError(f"masked_fill: value {fill} cannot be converted to the input's dtype {dtype} "
                             f"without overflow")
        fill = np.asarray(fill).astype(dtype)[()]
    return where(m, fill, input)


def one_hot(tensor: Any, num_classes: int = -1) -> Any:
    """Integer class indices -> int64 one-hot vectors in a new last axis of size `num_classes` (`F.one_hot`).

    With `num_classes=-1` the size is the largest index + 1. Not differentiable.

    Example:
        >>> one_hot(np.array([0, 2]), 3).tolist()
        [[1, 0, 0], [0, 0, 1]]
    """
    labels = np.asarray(unwrap(tensor))
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: class values must be integers (int64), got dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {labels.min()}")
    if not is_integer(num_classes):
        raise TypeError(f"one_hot: num_classes must be an int (-1: the largest class value + 1), got "
                        f"{num_classes!r}")
    if num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be >= 0 (or -1 to infer it), got {num_classes}")
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty input; pass num_classes")
        num_classes = int(labels.max()) + 1
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"one_hot: class value {labels.max()} is too large for num_classes={num_classes}")
    out = (labels[..., None] == np.arange(num_classes)).astype(np.int64)
    return Value(out) if isinstance(tensor, Value) else out


class Embedding(Function):
    """y = weight[indices] (rows);  dweight = g added into the rows `indices` (nothing into `padding_idx`),
    each row's share divided by how often it occurs in `indices` when `scale_grad_by_freq`."""

    name = "embedding"

    @staticmethod
    def forward(weight: np.ndarray, indices: np.ndarray, padding_idx: int | None,
                scale_grad_by_freq: bool = False) -> np.ndarray:
        return weight[indices]

    @staticmethod
    def backward(g: Any, out: Any, weight: Any, indices: np.ndarray, padding_idx: int | None,
                 scale_grad_by_freq: bool = False) -> tuple[Any, ...]:
        dtype = unwrap(g).dtype
        if padding_idx is not None:
            g = g * (indices != padding_idx)[..., None].astype(dtype)
        if scale_grad_by_freq:   # PyTorch's rule: each occurrence's gradient times 1 / (occurrences in the batch)
            counts = np.bincount(indices.ravel(), minlength=weight.shape[0])
            g = g * (1.0 / counts[indices])[..., None].astype(dtype)
        return (index_add(g, indices, weight.shape),)


def embedding_options(n: int, padding_idx: Any, max_norm: Any, norm_type: Any, scale_grad_by_freq: Any, sparse: Any,
                      where: str) -> tuple[int | None, float | None, float, bool]:
    """Check `embedding`'s options for `n` rows in the user's terms: (padding_idx in 0..n-1 or None, max_norm,
    norm_type, scale_grad_by_freq). `nn.Embedding` checks them at construction with the same function.

    Example:
        >>> embedding_options(5, -1, None, 2.0, False, False, "embedding")
        (4, None, 2.0, False)
    """
    if padding_idx is not None:
        if not is_integer(padding_idx):
            raise TypeError(f"{where}: padding_idx must be an int or None, got {padding_idx!r}")
        if not -n <= padding_idx < n:
            raise ValueError(f"{where}: padding_idx must be within num_embeddings ({n}), got {padding_idx}")
        padding_idx = int(padding_idx) % n
    if max_norm is not None and (not is_real(max_norm, finite=True) or max_norm <= 0):
        raise ValueError(f"{where}: max_norm must be a positive number or None, got {max_norm!r}")
    if not is_real(norm_type) or norm_type <= 0:
        raise ValueError(f"{where}: norm_type must be a positive number (the p of the p-norm), got {norm_type!r}")
    scale = check_bool(scale_grad_by_freq, "scale_grad_by_freq", where)
    if check_bool(sparse, "sparse", where):
        raise NotImplementedError(f"{where}: sparse gradients do not exist here (every gradient is a dense array); "
                                  "use sparse=False")
    return padding_idx, None if max_norm is None else float(max_norm), float(norm_type), scale


def _renorm_rows(weight: np.ndarray, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """PyTorch's `embedding_renorm_`: each row used whose p-norm exceeds `max_norm` is scaled in place to
    max_norm / (norm + 1e-7) of itself (outside the graph)."""
    rows = np.unique(indices)
    norms = np.linalg.norm(weight[rows], ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        weight[rows[over]] *= (max_norm / (norms[over] + 1e-7))[:, None].astype(weight.dtype)


def embedding(input: Any, weight: Any, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Any:
    """Rows of `weight` (num_embeddings, dim) at the integer `input` indices (`F.embedding`).

    The row `padding_idx` gets no gradient. With `max_norm`, each row looked up
    whose `norm_type`-norm exceeds it is first rescaled IN PLACE to that norm
    (as PyTorch does: the weight changes). `scale_grad_by_freq` divides each
    occurrence's gradient by how often its index occurs in `input`. `sparse`
    gradients do not exist here (it raises).

    Example:
        >>> w = Value([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> embedding(np.array([[1, 2, 1]]), w).shape
        (1, 3, 2)
        >>> embedding(np.array([2]), w, max_norm=1.0).data.round(6).tolist(), w.data[2].round(6).tolist()
        ([[0.6, 0.8]], [0.6, 0.8])
    """
    indices = np.asarray(unwrap(input))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers (int64), got dtype {indices.dtype}; convert them "
                        "with .astype(np.int64)")
    w = weight if isinstance(weight, Value) else np.asarray(weight)
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {w.shape}")
    n = w.shape[0]
    padding_idx, max_norm, norm_type, scale = embedding_options(n, padding_idx, max_norm, norm_type,
                                                                scale_grad_by_freq, sparse, "embedding")
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        bad = indices[(indices < 0) | (indices >= n)].flat[0]
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings (valid: 0..{n - 1})")
    indices = indices.astype(np.int64, copy=False)
    if max_norm is not None and indices.size:   # every check passed: only now is the weight changed
        _renorm_rows(unwrap(w), indices, max_norm, norm_type)
    if not isinstance(w, Value):
        return w[indices]
    args: dict[str, Any] = {"indices": indices, "padding_idx": padding_idx}
    if scale:
        args["scale_grad_by_freq"] = True
    return Embedding.apply(w, **args)


from .movement import pad_widths  # noqa: E402  (movement's rules use getitem from here)
