"""Loss modules (`MSELoss`, `L1Loss`, `BCELoss`, `BCEWithLogitsLoss`, `CrossEntropyLoss`, `NLLLoss`).

Each holds its options and calls the function of the same name in
`tinygrad_lab.nn.functional`: `loss_fn(prediction, target)`. Class weights are
registered buffers, so they appear in `state_dict()` as in PyTorch.

Example:
    >>> from tinygrad_lab import Value, nn
    >>> nn.MSELoss()(Value([1.0, 3.0]), np.array([1.0, 1.0]))
    Value(2.)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import functional as F
from .module import Module

__all__ = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss"]


def _as_array(x: Any) -> np.ndarray | None:
    """An optional weight (array, list or Value) as a NumPy array copy."""
    return None if x is None else np.array(getattr(x, "data", x))


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    weight: np.ndarray | None  # a buffer (register_buffer)

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", _as_array(weight))


class MSELoss(_Loss):
    """Mean squared error, reduce((input - target)^2); shapes must match.

    Example:
        >>> from tinygrad_lab import Value
        >>> MSELoss(reduction="sum")(Value([1.0, 2.0]), np.array([0.0, 0.0]))
        Value(5.)
    """

    def forward(self, input: Any, target: Any) -> Any:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error, reduce(|input - target|).

    Example:
        >>> from tinygrad_lab import Value
        >>> L1Loss()(Value([1.0, -3.0]), np.array([0.0, 0.0]))
        Value(2.)
    """

    def forward(self, input: Any, target: Any) -> Any:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (logs clamped at -100); `weight` rescales elements.

    Example:
        >>> from tinygrad_lab import Value
        >>> round(BCELoss()(Value([0.5]), np.array([1.0])).item(), 6)   # log 2
        0.693147
    """

    def forward(self, input: Any, target: Any) -> Any:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross-entropy on raw scores, stable; `pos_weight` weighs positive targets.

    Example:
        >>> from tinygrad_lab import Value
        >>> round(BCEWithLogitsLoss()(Value([0.0]), np.array([0.0])).item(), 6)   # log 2
        0.693147
    """

    pos_weight: np.ndarray | None  # a buffer (register_buffer)

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", _as_array(pos_weight))

    def forward(self, input: Any, target: Any) -> Any:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits with class indices (or class probabilities).

    Options as PyTorch: `weight` per class, `ignore_index` (default -100),
    `reduction`, `label_smoothing`.

    Example:
        >>> from tinygrad_lab import Value
        >>> loss_fn = CrossEntropyLoss()
        >>> round(loss_fn(Value([[0.0, 0.0]]), np.array([1])).item(), 6)   # log 2
        0.693147
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, reduction)
        F._check_smoothing(label_smoothing, "CrossEntropyLoss")
        self.ignore_index = F._check_ignore_index(ignore_index, "CrossEntropyLoss")
        self.label_smoothing = label_smoothing

    def forward(self, input: Any, target: Any) -> Any:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (e.g. after `LogSoftmax(dim=1)`) at class indices.

    Example:
        >>> from tinygrad_lab import Value
        >>> NLLLoss()(Value([[-1.0, -2.0]]), np.array([1]))
        Value(2.)
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = F._check_ignore_index(ignore_index, "NLLLoss")

    def forward(self, input: Any, target: Any) -> Any:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)
