"""Normalisation layers `BatchNorm1d`, `BatchNorm2d` and `LayerNorm`, as in `torch.nn`.

Batch norm keeps `running_mean`, `running_var` and `num_batches_tracked` as
buffers (in the state dict, not parameters): training mode normalises with
the batch statistics and updates the buffers, `eval()` uses the buffers.

Example:
    >>> from tinygrad_lab import Value, nn
    >>> bn = nn.BatchNorm1d(2)
    >>> list(bn.state_dict())
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    >>> _ = bn(Value([[1.0, 2.0], [3.0, 6.0]]))
    >>> bn.running_mean.tolist(), int(bn.num_batches_tracked)
    ([0.2, 0.4], 1)
"""
from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..autograd import unwrap
from ..ops import batch_norm, layer_norm
from ..ops.normalization import check_eps, check_momentum
from ..utils.capture import as_recorded
from ..utils.checks import check_bool, is_integer
from . import init
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(Module):
    """Shared state and forward of the batch-norm layers (the subclasses check the input's rank)."""

    _ranks: tuple[int, ...] = ()
    # buffers (register_buffer): arrays while track_running_stats, else None
    running_mean: np.ndarray | None
    running_var: np.ndarray | None
    num_batches_tracked: np.ndarray | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        layer = type(self).__name__
        if not is_integer(num_features) or num_features <= 0:
            raise ValueError(f"{layer}: num_features must be a positive integer, got {num_features!r}")
        check_eps(layer, eps)
        check_momentum(layer, momentum)
        for name, flag in (("affine", affine), ("track_running_stats", track_running_stats), ("bias", bias)):
            check_bool(flag, name, layer)
        if device not in (None, "cpu"):
            raise ValueError(f"{layer}: only device='cpu' exists here, got {device!r}")
        self.num_features = int(num_features)
        # Python numbers (as torch): an np.float32 momentum made the running statistics' update float32 arithmetic
        self.eps = eps.item() if isinstance(eps, np.generic) else eps
        self.momentum = momentum.item() if isinstance(momentum, np.generic) else momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:  # then the buffers are arrays
            cast(np.ndarray, self.running_mean)[...] = 0
            cast(np.ndarray, self.running_var)[...] = 1
            cast(np.ndarray, self.num_batches_tracked)[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics, weight to 1 and bias to 0."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input: Any) -> None:
        shape = tuple(np.shape(unwrap(input)))   # a Value, an array or nested lists, as the other layers take
        layer = type(self).__name__
        if len(shape) not in self._ranks:
            wanted = " or ".join(f"{r}D" for r in self._ranks)
            raise ValueError(f"{layer}: expected {wanted} input (got {len(shape)}D input of shape {shape})")
        if shape[1] != self.num_features:
            raise ValueError(f"{layer}: the input has {shape[1]} channels (axis 1, shape {shape}), but the layer "
                             f"was built for num_features={self.num_features}")
        if self.training and int(np.prod(shape)) // shape[1] == 1:   # (an empty batch is fine, as in PyTorch)
            raise ValueError(f"{layer}: expected more than 1 value per channel when training, got input of shape "
                             f"{shape} (use a batch of at least 2, or eval())")

    def forward(self, input: Any) -> Any:
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        counts = self.training and self.track_running_stats and self.num_batches_tracked is not None
        if counts and self.momentum is None:   # the cumulative average, this batch counted
            factor = 1.0 / (float(cast(np.ndarray, self.num_batches_tracked)) + 1)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        out = batch_norm(input, self.running_mean if keep else None, self.running_var if keep else None,
                         self.weight, self.bias, use_batch, factor, self.eps)   # (an empty batch as PyTorch)
        if counts:   # only once the batch went through: a refused input leaves the count as it was
            count = as_recorded(cast(np.ndarray, self.num_batches_tracked))   # a jit replay counts too
            count += 1
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) per channel, as `torch.nn.BatchNorm1d`.

    Example:
        >>> from tinygrad_lab import Value
        >>> bn = BatchNorm1d(1)
        >>> bn(Value([[1.0], [3.0]])).data.round(4).ravel().tolist()
        [-1.0, 1.0]
        >>> bn.eval()(Value([[1.0]])).data.round(4).ravel().tolist()   # running stats: mean 0.2, var 1.1
        [0.7628]
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) per channel, as `torch.nn.BatchNorm2d`.

    Example:
        >>> from tinygrad_lab import Value
        >>> BatchNorm2d(3)(Value(np.random.default_rng(0).normal(size=(4, 3, 2, 2)))).shape
        (4, 3, 2, 2)
    """

    _ranks = (4,)


class LayerNorm(Module):
    """Normalise the last len(normalized_shape) axes of each sample, then scale and shift (`torch.nn.LayerNorm`).

    Example:
        >>> from tinygrad_lab import Value
        >>> ln = LayerNorm(3)
        >>> ln(Value([[1.0, 2.0, 3.0]])).data.round(4).tolist()
        [[-1.2247, 0.0, 1.2247]]
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if is_integer(normalized_shape):
            shape: tuple = (normalized_shape,)
        elif isinstance(normalized_shape, (tuple, list)):
            shape = tuple(normalized_shape)
        else:
            raise TypeError(f"LayerNorm: normalized_shape must be a positive int or a tuple of them (the sizes of "
                            f"the last axes), got {type(normalized_shape).__name__} {normalized_shape!r}")
        if not shape or not all(is_integer(s) and int(s) > 0 for s in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be a positive int or a tuple of them, got "
                             f"{normalized_shape!r}")
        if device not in (None, "cpu"):
            raise ValueError(f"LayerNorm: only device='cpu' exists here, got {device!r}")
        check_eps("LayerNorm", eps)
        check_bool(elementwise_affine, "elementwise_affine", "LayerNorm")
        check_bool(bias, "bias", "LayerNorm")
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Any) -> Any:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")
