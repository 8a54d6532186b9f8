"""Loss ops (the single-node losses behind `nn.functional`): mse_loss, binary_cross_entropy,
binary_cross_entropy_with_logits and cross_entropy with class-index targets.

The formulas, reductions and gradients are PyTorch's. Arguments are checked by
the functions of `tinygrad_lab.nn.functional`, which only dispatch to these ops.

Example:
    >>> pred = Value([0.2, 0.9], requires_grad=True)
    >>> loss = MSELoss.apply(pred, np.array([0.0, 1.0]), reduction="mean", target_grad=False)
    >>> round(loss.item(), 6), pred.requires_grad
    (0.025, True)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.value import Value, unwrap
from ..utils.capture import as_recorded
from .movement import reshape
from .selection import maximum
from .softmax import LogSoftmax, Softmax, softmax
from .unary import LogSigmoid, log, log_sigmoid, sigmoid

__all__ = ["MSELoss", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy"]


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    """np.mean / np.sum of all elements, minus their Python-level wrappers (the same sums, bit for bit).

    float16 is summed (and averaged) in float32 and rounded once, as PyTorch does on the CPU: summed in float16,
    a mean of a few thousand squares of about 4 overflows to inf."""
    if loss.dtype.char == "e" and reduction != "none":
        return _reduce(loss.astype(np.float32), reduction).astype(np.float16)
    if reduction == "mean":
        n = loss.size
        return np.add.reduce(loss, axis=None) / n if n else loss.dtype.type(np.nan)   # empty: nan, as PyTorch
    if reduction == "sum":
        return np.add.reduce(loss, axis=None)
    return loss


def _per_element(g: Any, n: int, reduction: str, factor: float = 1.0) -> Any:
    """`factor` times the gradient that reaches each element of the unreduced loss (an empty input has no
    elements: the nan of its empty mean only meets empty arrays, so its gradient is empty, as PyTorch).

    For 'mean' it is g * (factor / n): with factor 2 the same number as g * 2 * (1 / n), since scaling by
    two is exact, in one multiplication instead of two."""
    if reduction != "mean":
        return g if factor == 1.0 else g * factor
    return g * (factor / n) if n else g * float("nan")


class MSELoss(Function):
    """loss = reduce((x - y)^2);  dx = g * 2 (x - y) [/ n for 'mean'],  dy = -dx.

    Example:
        >>> float(MSELoss.forward(np.array([1.0, 2.0]), np.array([0.0, 0.0]), 'sum', False))
        5.0
    """

    name = "mse_loss"

    @staticmethod
    def forward(input: np.ndarray, target: np.ndarray, reduction: str, target_grad: bool) -> np.ndarray:
        d = input - target
        return _reduce(d * d, reduction)

    @staticmethod
    def backward(g: Any, out: Any, input: Any, target: Any, reduction: str, target_grad: bool) -> tuple[Any, ...]:
        d = input - target
        gi = _per_element(g, d.size, reduction, 2.0) * d
        return gi, (-gi if target_grad else None)


# ============================================================================ binary classification

_BCE_EPSILON = float(np.float32(1e-12))
"""PyTorch's clamp of (1 - x) x in the BCE gradient: the float32 constant 1e-12f (9.99999996e-13)."""


class BinaryCrossEntropy(Function):
    """loss = -w [y max(log x, -100) + (1 - y) max(log(1 - x), -100)];
    dx = g w (x - y) / max((1 - x) x, 1e-12f) (PyTorch's rule),  dy = g w (log(1 - x) - log x).

    Example:
        >>> float(BinaryCrossEntropy.forward(np.array([0.5]), np.array([1.0]), None, 'mean', False).round(6))
        0.693147
    """

    name = "binary_cross_entropy"

    @staticmethod
    def forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None, reduction: str,
                target_grad: bool) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(input), -100.0)
            log_1mx = np.maximum(np.log1p(-input), -100.0)
        loss = (target - 1) * log_1mx - target * log_x
        if weight is not None:
            loss = loss * weight
        return _reduce(loss, reduction)

    @staticmethod
    def backward(g: Any, out: Any, input: Any, target: Any, weight: np.ndarray | None, reduction: str,
                 target_grad: bool) -> tuple[Any, ...]:
        g = _per_element(g, input.size, reduction)
        if weight is not None:
            g = g * weight
        gi = g * (input - target) / maximum((1 - input) * input, _BCE_EPSILON)
        gt = g * (log(1 - input) - log(input)) if target_grad else None
        return gi, gt


class BinaryCrossEntropyWithLogits(Function):
    """loss = w [(1 - y) x - (1 + (p - 1) y) log sigmoid(x)] (p = pos_weight, 1 if absent);
    dx = g w [(p y + 1 - y) sigmoid(x) - p y],  dy = -g w [x + (p - 1) log sigmoid(x)].

    Example:
        >>> loss = BinaryCrossEntropyWithLogits.forward(np.array([0.0]), np.array([1.0]), None, None, 'mean', False)
        >>> round(float(loss), 6)
        0.693147
    """

    name = "binary_cross_entropy_with_logits"

    @staticmethod
    def forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None, pos_weight: np.ndarray | None,
                reduction: str, target_grad: bool) -> np.ndarray:
        log_sig = LogSigmoid.forward(input)
        if pos_weight is None:
            loss = (1 - target) * input - log_sig
        else:
            loss = (1 - target) * input - ((pos_weight - 1) * target + 1) * log_sig
        if weight is not None:
            loss = loss * weight
        return _reduce(loss, reduction)

    @staticmethod
    def backward(g: Any, out: Any, input: Any, target: Any, weight: np.ndarray | None, pos_weight: np.ndarray | None,
                 reduction: str, target_grad: bool) -> tuple[Any, ...]:
        g = _per_element(g, input.size, reduction)
        if weight is not None:
            g = g * weight
        s = sigmoid(input)
        if pos_weight is None:
            gi = g * (s - target)
        else:
            pt = pos_weight * target
            gi = g * ((pt + 1 - target) * s - pt)
        gt = None
        if target_grad:
            if pos_weight is None:
                gt = -(g * input)
            else:
                gt = -(g * (input + (pos_weight - 1) * log_sigmoid(input)))
        return gi, gt


# ============================================================================ multi-class classification

class CrossEntropy(Function):
    """Softmax cross-entropy of logits (N, C) with integer class targets (N,), PyTorch's formula:

    loss_n = (1 - ls) w[y_n] (-log p[n, y_n]) + (ls / C) sum_c w_c (-log p[n, c]),
    0 where y_n == ignore_index; 'mean' divides the sum by sum_n w[y_n] over the counted targets.
    dx_n = g [((1 - ls) w[y_n] + (ls / C) sum(w)) p_n - (1 - ls) w[y_n] onehot(y_n) - (ls / C) w]
    (divided by that sum for 'mean').

    Example:
        >>> float(CrossEntropy.forward(np.zeros((1, 2)), np.array([0]), None, -100, 'mean', 0.0).round(6))
        0.693147
    """

    name = "cross_entropy"

    @staticmethod
    def forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None, ignore_index: int, reduction: str,
                label_smoothing: float) -> np.ndarray:
        if input.dtype.char == "e":   # float16 in float32, rounded once (in float16 a sum of 4096 losses of 20 is
            # inf, which PyTorch's CPU kernel returns as the mean)
            return CrossEntropy.forward(input.astype(np.float32), target, None if weight is None else
                                        weight.astype(np.float32), ignore_index, reduction,
                                        label_smoothing).astype(np.float16)
        n, c = input.shape
        weight = None if weight is None else as_recorded(weight)   # indexed by the targets: recorded by jit
        logp = LogSoftmax.forward(input, 1)
        valid = target != ignore_index
        all_valid = bool(valid.all())
        safe = target if all_valid else np.where(valid, target, 0)
        loss = -logp[np.arange(n), safe]
        w_n = None
        if weight is not None:
            w_n = weight[safe] * valid
        elif not all_valid:
            w_n = valid.astype(input.dtype)
        if w_n is not None:
            loss = loss * w_n
        if label_smoothing > 0:
            smooth = -(logp * weight).sum(axis=1) if weight is not None else -logp.sum(axis=1)
            if not all_valid:
                smooth = smooth * valid
            loss = (1 - label_smoothing) * loss + (label_smoothing / c) * smooth
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "sum":
            return total
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / (w_n.sum() if w_n is not None else input.dtype.type(n))

    @staticmethod
    def backward(g: Any, out: Any, input: Any, target: np.ndarray, weight: np.ndarray | None, ignore_index: int,
                 reduction: str, label_smoothing: float) -> tuple[Any, ...]:
        n, c = input.shape
        rows = np.arange(n)
        dtype = unwrap(input).dtype
        weight = None if weight is None else as_recorded(weight)   # indexed by the targets: recorded by jit
        valid = target != ignore_index
        if (not isinstance(g, Value) and weight is None and label_smoothing == 0 and valid.all()
                and reduction != "none"):
            grad = Softmax.forward(input, 1)   # fast path: (softmax - onehot) * g [/ n]
            grad[rows, target] -= 1
            return (grad * (g / n if reduction == "mean" else g),)
        safe = np.where(valid, target, 0)
        w_n = (weight[safe] if weight is not None else np.ones(n, dtype=dtype)) * valid
        ls = label_smoothing
        row = (1 - ls) * w_n
        const = np.zeros_like(unwrap(input), dtype=dtype)   # (n, c); like the input, so a jit capture records it
        const[rows, safe] = row
        if ls > 0:
            total_w = weight.sum() if weight is not None else c
            row = row + (ls / c) * total_w * valid
            const += (ls / c) * (weight if weight is not None else 1.0) * valid[:, None]
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                denom = w_n.sum()
                row, const = row / denom, const / denom
            if not valid.all():   # ignored targets get no gradient, even when all are ignored (0 / 0)
                row, const = np.where(valid, row, 0), np.where(valid[:, None], const, 0)
        grad = softmax(input, 1) * row.astype(dtype)[:, None] - const.astype(dtype)
        if reduction == "none":
            g = reshape(g, (n, 1))
        return (grad * g,)
