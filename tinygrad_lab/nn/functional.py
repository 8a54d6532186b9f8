"""Functions behind the layers: activations, dropout and the losses (`torch.nn.functional`).

Losses take the prediction first and the target second; a target may be a
`Value` or a NumPy array, and every loss takes `reduction='mean'|'sum'|'none'`.
The formulas, reductions and gradients are PyTorch's. `mse_loss`,
`binary_cross_entropy`, `binary_cross_entropy_with_logits` and `cross_entropy`
(class-index targets) are single graph nodes (fast and exact), ops of
`tinygrad_lab.ops.loss`; the functions here check the arguments and dispatch to
them. The other losses are built from `Value` ops.

Example:
    >>> from tinygrad_lab import Value
    >>> pred = Value([[0.2], [0.9]], requires_grad=True)
    >>> loss = mse_loss(pred, np.array([[0.0], [1.0]]))
    >>> round(loss.item(), 6)                    # ((0.2 - 0)^2 + (0.9 - 1)^2) / 2
    0.025
    >>> loss.backward(); pred.grad.data.ravel().round(6).tolist()   # 2 (pred - y) / n
    [0.2, -0.1]
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.value import Value
from ..autograd.value import unwrap as _data
from ..ops import (  # computed by ops; nn.functional is where PyTorch users look for them
    abs,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    batch_norm,
    cast,
    conv1d,
    conv2d,
    embedding,
    gelu,
    layer_norm,
    leaky_relu,
    linear,
    max_pool1d,
    max_pool2d,
    one_hot,
    pad,
    permute,
    relu,
    reshape,
    sigmoid,
    silu,
    tanh,
)
from ..ops import log_softmax as _log_softmax
from ..ops import softmax as _softmax
from ..ops.loss import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropy, MSELoss
from ..random import resolve_generator
from ..utils.capture import as_array, as_recorded
from ..utils.checks import is_integer, is_real

__all__ = [
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax", "log_softmax", "dropout",
    "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "nll_loss", "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d",
    "batch_norm", "layer_norm", "embedding", "one_hot", "pad", "gelu", "silu",
]

_REDUCTIONS = ("mean", "sum", "none")


# ============================================================================ activations

def _implicit_dim(name: str, ndim: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  f"Change the call to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Any, dim: int | None = None) -> Any:
    """exp(x) / sum(exp(x)) along `dim` (stable).

    Example:
        >>> softmax(Value([[1.0, 1.0]]), dim=1)
        Value([[0.5, 0.5]])
    """
    if dim is None:
        dim = _implicit_dim("softmax", np.ndim(_data(input)))
    return _softmax(input, dim)


def log_softmax(input: Any, dim: int | None = None) -> Any:
    """log(softmax(x)) along `dim`, computed stably.

    Example:
        >>> log_softmax(Value([0.0, 0.0]), dim=0).data.round(4).tolist()
        [-0.6931, -0.6931]
    """
    if dim is None:
        dim = _implicit_dim("log_softmax", np.ndim(_data(input)))
    return _log_softmax(input, dim)


def dropout(input: Any, p: float = 0.5, training: bool = True, generator: Any = None) -> Any:
    """Zero each element with probability `p` and scale the rest by 1/(1-p) (inverted dropout).

    Returns `input` itself when not `training` or `p == 0`. The mask is drawn
    from `generator` (a `numpy.random.Generator` or an int seed) or the global
    generator (`tinygrad_lab.random.manual_seed`).

    Example:
        >>> x = Value(np.ones((2, 4)))
        >>> y = dropout(x, 0.5, generator=0)
        >>> sorted(set(y.data.ravel().tolist()))   # kept ones are scaled by 1 / (1 - 0.5)
        [0.0, 2.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    array = np.asarray(_data(input))
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)
    if p == 1.0:
        mask = np.zeros(array.shape, dtype=dtype)
    else:
        keep = resolve_generator(generator).random(array.shape) < 1.0 - p
        mask = keep.astype(dtype)
        mask /= dtype.type(1.0 - p)
    return input * mask


# ============================================================================ loss helpers

def _check_reduction(reduction: str, fn: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _input(x: Any) -> Any:
    """The prediction as a Value (kept; bool or integer data as float64) or a float array.

    Integer predictions become float64 as integer arrays do: a float target is cast to the input's dtype, and an
    int64 one would have cut a target of 0.5 to 0."""
    if isinstance(x, Value):
        return x if x.data.dtype.kind in "fc" else cast(x, np.float64)
    array = as_array(x)    # (as_array: a jit capture's traced arrays stay traced, so it records their use)
    if array.dtype.kind not in "f":
        array = array.astype(np.float64)
    return array


def _float_target(target: Any, input: Any, fn: str) -> Any:
    """A real-valued target of exactly the input's shape (Value kept; arrays cast to the input's dtype)."""
    dtype = _data(input).dtype
    t: Value | np.ndarray
    if isinstance(target, Value):
        t = target
    else:
        t = as_array(target)
        if t.dtype.kind not in "biuf":
            raise TypeError(f"{fn}: target must be numeric, got dtype {t.dtype}")
        if t.dtype != dtype:
            t = t.astype(dtype)
    if t.shape != input.shape:
        raise ValueError(f"{fn}: target shape {tuple(t.shape)} does not match input shape "
                         f"{tuple(input.shape)}; reshape one of them (broadcasting them would silently "
                         "compute a different loss)")
    return t


def _constant(x: Any, what: str, fn: str, dtype: np.dtype, shape: tuple | None = None) -> np.ndarray:
    """A weight (not None) as a float array of `dtype`, broadcastable to `shape`."""
    array = as_array(_data(x))
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: {what} must be numeric, got dtype {array.dtype}")
    array = array.astype(dtype, copy=False)
    if shape is not None:
        try:
            full = np.broadcast_shapes(array.shape, shape)
        except ValueError:
            full = None
        if full != tuple(shape):
            raise ValueError(f"{fn}: {what} of shape {array.shape} does not broadcast to the input shape "
                             f"{tuple(shape)}")
    return array


def _needs_grad(x: Any) -> bool:
    return isinstance(x, Value) and x.requires_grad


def _apply(op: type[Function], input: Any, target: Any, **args: Any) -> Any:
    """Run a loss Function: recorded when a Value is involved, plain NumPy otherwise."""
    if isinstance(input, Value) or isinstance(target, Value):
        return op.apply(input, target, **args)
    return np.asarray(op.forward(input, target, **args))


# ============================================================================ regression losses

def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean squared error: reduce((input - target)^2) (`torch.nn.functional.mse_loss`).

    The shapes must match exactly (PyTorch only warns and broadcasts).

    Example:
        >>> mse_loss(Value([1.0, 2.0]), np.array([0.0, 0.0]), reduction="sum")
        Value(5.)
    """
    if type(input) is Value and type(target) is Value and input.shape == target.shape \
            and reduction in _REDUCTIONS:   # the training hot path: checks done, one node
        return MSELoss.apply(input, target, reduction=reduction, target_grad=target.requires_grad)
    _check_reduction(reduction, "mse_loss")
    input = _input(input)
    target = _float_target(target, input, "mse_loss")
    return _apply(MSELoss, input, target, reduction=reduction, target_grad=_needs_grad(target))


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean absolute error: reduce(|input - target|) (gradient sign(input - target), 0 at 0).

    Example:
        >>> l1_loss(Value([1.0, -2.0]), np.array([0.0, 0.0]))
        Value(1.5)
    """
    _check_reduction(reduction, "l1_loss")
    input = _input(input)
    target = _float_target(target, input, "l1_loss")
    loss = abs(input - target)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ============================================================================ binary classification

def binary_cross_entropy(input: Any, target: Any, weight: Any = None, *, reduction: str = "mean") -> Any:
    """Binary cross-entropy of probabilities `input` (in [0, 1]) and targets in [0, 1].

    Logs are clamped at -100 like PyTorch, so a confident wrong answer costs 100,
    not inf. `weight` rescales each element (broadcast to the input's shape).
    Targets outside [0, 1] are refused, as in PyTorch (unless the target requires
    grad, so that gradient checks may perturb it).

    Example:
        >>> round(binary_cross_entropy(Value([0.8]), np.array([1.0])).item(), 6)   # -log(0.8)
        0.223144
    """
    _check_reduction(reduction, "binary_cross_entropy")
    input = _input(input)
    target = _float_target(target, input, "binary_cross_entropy")
    x = _data(input)
    if x.size and not np.all((x >= 0) & (x <= 1)):
        raise ValueError(f"binary_cross_entropy: input values must be probabilities in [0, 1] (got min "
                         f"{np.nanmin(x) if not np.isnan(x).all() else 'nan'}, max "
                         f"{np.nanmax(x) if not np.isnan(x).all() else 'nan'}"
                         f"{', with NaN' if np.isnan(x).any() else ''}); apply sigmoid first, or use "
                         f"binary_cross_entropy_with_logits on raw scores")
    y = _data(target)   # labels are checked; a target that requires grad may be perturbed (gradcheck)
    if not _needs_grad(target) and y.size and not np.all((y >= 0) & (y <= 1)):
        raise ValueError(f"binary_cross_entropy: target values must be between 0 and 1 (got min "
                         f"{np.nanmin(y) if not np.isnan(y).all() else 'nan'}, max "
                         f"{np.nanmax(y) if not np.isnan(y).all() else 'nan'}"
                         f"{', with NaN' if np.isnan(y).any() else ''}), as PyTorch requires")
    w = None if weight is None else _constant(weight, "weight", "binary_cross_entropy", x.dtype, x.shape)
    return _apply(BinaryCrossEntropy, input, target, weight=w, reduction=reduction,
                  target_grad=_needs_grad(target))


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, *,
                                     reduction: str = "mean", pos_weight: Any = None) -> Any:
    """Sigmoid + binary cross-entropy in one stable formula: max(x, 0) - x y + log(1 + exp(-|x|)).

    `pos_weight` multiplies the loss of positive targets (broadcast along the
    last dimension: one weight per class); `weight` rescales each element.

    Example:
        >>> round(binary_cross_entropy_with_logits(Value([0.0]), np.array([1.0])).item(), 6)   # log 2
        0.693147
    """
    fn = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, fn)
    input = _input(input)
    target = _float_target(target, input, fn)
    dtype, shape = _data(input).dtype, input.shape
    w = None if weight is None else _constant(weight, "weight", fn, dtype, shape)
    pw = None if pos_weight is None else _constant(pos_weight, "pos_weight", fn, dtype, shape)
    return _apply(BinaryCrossEntropyWithLogits, input, target, weight=w, pos_weight=pw, reduction=reduction,
                  target_grad=_needs_grad(target))


# ============================================================================ multi-class classification

def _class_layout(x: Any, fn: str) -> tuple[int, int]:
    """(class axis, number of classes) of an input of shape (C,), (N, C) or (N, C, d1, ...)."""
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must have a class dimension: shape (C,), (N, C) or (N, C, d1, ...), "
                         "got a scalar")
    axis = 0 if x.ndim == 1 else 1
    return axis, x.shape[axis]


def _class_weight(weight: Any, c: int, dtype: np.dtype, fn: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = _constant(weight, "weight", fn, dtype)
    if w.shape != (c,):
        raise ValueError(f"{fn}: weight must have one entry per class, shape ({c},), got shape {w.shape}")
    return as_recorded(w)   # indexed by the targets: a jit capture records it


def _class_targets(target: Any, x: Any, axis: int, c: int, ignore_index: int, fn: str) -> np.ndarray:
    """Integer class targets of the input's shape without the class axis, checked to be in range."""
    t = as_array(_data(target))
    expected = x.shape[:axis] + x.shape[axis + 1:]
    if t.dtype.kind not in "iu":
        hint = ""
        if t.dtype.kind == "f":
            hint = ("; convert class indices with .astype(np.int64), or pass class probabilities with the "
                    f"input's shape {tuple(x.shape)}")
        raise TypeError(f"{fn}: class-index targets must be integers (e.g. int64), got dtype {t.dtype} with "
                        f"shape {t.shape}{hint}")
    if t.shape != expected:
        raise ValueError(f"{fn}: target shape {t.shape} does not fit input shape {tuple(x.shape)}: "
                         f"class-index targets need shape {expected} (the input's shape without the class "
                         "dimension)")
    if t.size and (t.min() < 0 or t.max() >= c):
        bad = t[(t != ignore_index) & ((t < 0) | (t >= c))]
        if bad.size:
            raise IndexError(f"{fn}: target {bad.flat[0]} is out of bounds for {c} classes (valid "
                             f"targets are "
                             f"0..{c - 1}, or ignore_index={ignore_index})")
    return t


def _rows(x: Any, t: np.ndarray) -> tuple[Any, np.ndarray]:
    """Inputs as (M, C) rows and targets as (M,): the class axis moved last and the rest flattened."""
    if x.ndim == 1:
        return reshape(x, (1, x.shape[0])), t.ravel()
    if x.ndim > 2:
        x = permute(x, (0, *range(2, x.ndim), 1))
        x = reshape(x, (-1, x.shape[-1]))
    return x, t.ravel()


def _check_smoothing(label_smoothing: Any, fn: str) -> None:
    """A number in [0, 1] (the weight of the uniform distribution in the target), or a clear error."""
    if not is_real(label_smoothing):
        raise TypeError(f"{fn}: label_smoothing must be a number between 0.0 and 1.0, got "
                        f"{type(label_smoothing).__name__} {label_smoothing!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")


def _check_ignore_index(ignore_index: Any, fn: str) -> int:
    """An int (targets equal to it are skipped): a float, bool or string would match no target, silently."""
    if not is_integer(ignore_index):
        raise TypeError(f"{fn}: ignore_index must be an int (a class index to skip, default -100), got "
                        f"{type(ignore_index).__name__} {ignore_index!r}")
    return int(ignore_index)


def cross_entropy(input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Any:
    """Softmax cross-entropy of logits `input` with class targets (`torch.nn.functional.cross_entropy`).

    `input`: (N, C), (C,) or (N, C, d1, ...). `target`: integer class indices
    of the input's shape without C (a Value or array), or class probabilities
    of the input's shape. `weight` (C,) rescales classes; targets equal to
    `ignore_index` count for nothing; `label_smoothing` mixes the target with
    the uniform distribution. 'mean' divides by the summed weights of the
    counted targets (by N for probability targets), exactly as PyTorch.

    Example:
        >>> logits = Value([[2.0, 0.0, 0.0]], requires_grad=True)
        >>> loss = cross_entropy(logits, np.array([0]))
        >>> round(loss.item(), 6)      # -log(e^2 / (e^2 + 2))
        0.239545
    """
    fn = "cross_entropy"
    _check_reduction(reduction, fn)
    _check_smoothing(label_smoothing, fn)
    ignore_index = _check_ignore_index(ignore_index, fn)
    x = _input(input)
    axis, c = _class_layout(x, fn)
    dtype = _data(x).dtype
    w = _class_weight(weight, c, dtype, fn)
    if np.shape(_data(target)) == x.shape:
        kind = np.asarray(_data(target)).dtype
        if kind.kind != "f":
            raise TypeError(f"{fn}: a target with the input's shape {tuple(x.shape)} holds class "
                            f"probabilities and must be floating point, got dtype {kind}; class indices need "
                            f"shape {x.shape[:axis] + x.shape[axis + 1:]}")
        return _soft_cross_entropy(x, target, w, axis, c, reduction, label_smoothing)
    t = _class_targets(target, x, axis, c, ignore_index, fn)
    rows, flat = _rows(x, t)
    args: dict[str, Any] = dict(target=flat, weight=w, ignore_index=ignore_index, reduction=reduction,
                label_smoothing=float(label_smoothing))
    loss: Value | np.ndarray
    if isinstance(rows, Value):
        loss = CrossEntropy.apply(rows, **args)
    else:
        loss = np.asarray(CrossEntropy.forward(rows, **args))
    return reshape(loss, t.shape) if reduction == "none" else loss


def _soft_cross_entropy(x: Any, target: Any, w: np.ndarray | None, axis: int, c: int, reduction: str,
                        label_smoothing: float) -> Any:
    """Cross-entropy with class-probability targets: -sum_c w_c t_c log p_c; 'mean' divides by numel / C."""
    if _data(x).dtype.char == "e":   # float16 in float32, rounded once (as the class-index form)
        loss = _soft_cross_entropy(cast(x, np.float32), cast(target, np.float32), w, axis, c, reduction,
                                   label_smoothing)
        return cast(loss, np.float16)
    t = target if isinstance(target, Value) else as_array(target).astype(_data(x).dtype, copy=False)
    if label_smoothing > 0:
        t = t * (1 - label_smoothing) + label_smoothing / c
    if w is not None:
        t = t * w.reshape((c,) + (1,) * (x.ndim - 1 - axis))
    loss = -(_log_softmax(x, axis) * t).sum(axis=axis)
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total / (x.size // c)


def nll_loss(input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100,
             reduction: str = "mean") -> Any:
    """Negative log-likelihood of log-probabilities `input` (N, C) at integer class targets (N,).

    loss_n = -weight[y_n] * input[n, y_n] (0 where y_n == ignore_index); 'mean'
    divides by the summed weights of the counted targets. Also (C,) and
    (N, C, d1, ...) inputs. `cross_entropy(x, y) == nll_loss(log_softmax(x, 1), y)`.

    Example:
        >>> nll_loss(Value([[-0.5, -1.0], [-2.0, -0.1]]), np.array([0, 1]))
        Value(0.3)
    """
    fn = "nll_loss"
    _check_reduction(reduction, fn)
    ignore_index = _check_ignore_index(ignore_index, fn)
    x = _input(input)
    axis, c = _class_layout(x, fn)
    dtype = _data(x).dtype
    w = _class_weight(weight, c, dtype, fn)
    t = _class_targets(target, x, axis, c, ignore_index, fn)
    rows, flat = _rows(x, t)
    valid = flat != ignore_index
    safe = np.where(valid, flat, 0)
    w_n = None if w is None and valid.all() else \
        (w[safe] if w is not None else np.ones(flat.shape[0], dtype=dtype)) * valid
    if reduction == "none":
        picked = rows[np.arange(flat.shape[0]), safe]
        return reshape(-picked if w_n is None else picked * -w_n, t.shape)
    half = dtype.char == "e"
    if half:   # float16 summed and divided in float32, rounded once (in float16, 4096 losses of 16 sum to inf;
               # PyTorch's CPU kernel returns that inf)
        rows, dtype = cast(rows, np.float32), np.dtype(np.float32)
        w_n = None if w_n is None else w_n.astype(dtype)
    if w_n is None:
        total, total_weight = -rows[np.arange(flat.shape[0]), flat].sum(), dtype.type(flat.shape[0])
    else:   # only the counted targets: ignored ones get no gradient (not 0 * inf = nan when all are ignored)
        kept = np.flatnonzero(valid)
        total, total_weight = (rows[kept, flat[kept]] * -w_n[kept]).sum(), w_n.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            total = total / total_weight
    return cast(total, np.float16) if half else total
