"""Convolution layers `Conv1d` and `Conv2d`, as in `torch.nn` (same arguments, defaults, initialisation and
state-dict keys `weight` (out_channels, in_channels/groups, *kernel_size) and `bias` (out_channels,)).

Example:
    >>> from tinygrad_lab import Value, nn
    >>> conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
    >>> conv
    Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> conv(Value(np.zeros((2, 1, 8, 8)))).shape
    (2, 4, 8, 8)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import conv1d, conv2d, pad
from ..ops.convolution import padding_pairs
from ..utils.checks import check_bool, int_tuple, is_integer
from . import init
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d"]


class _ConvNd(Module):
    """Shared constructor, initialisation and repr of the convolution layers."""

    _dims = 2
    _functional: Any = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        layer, n = type(self).__name__, self._dims
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not is_integer(value) or value <= 0:
                raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
        check_bool(bias, "bias", layer)
        if in_channels % groups:
            raise ValueError(f"{layer}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{layer}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{layer}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got "
                             f"{padding_mode!r}")
        if device not in (None, "cpu"):
            raise ValueError(f"{layer}: only device='cpu' exists here, got {device!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = int_tuple(kernel_size, n, "kernel_size", layer)
        if any(k <= 0 for k in self.kernel_size):
            raise ValueError(f"{layer}: kernel_size must be positive, got {kernel_size!r}")
        self.stride = int_tuple(stride, n, "stride", layer)
        self.dilation = int_tuple(dilation, n, "dilation", layer)
        for name, sizes in (("stride", self.stride), ("dilation", self.dilation)):
            if any(size < 1 for size in sizes):   # refused here, not at the first forward
                raise ValueError(f"{layer}: {name} must be >= 1, got {sizes}")
        pairs = padding_pairs(padding, n, self.kernel_size, self.stride, self.dilation, layer)  # the functions' check
        self.padding: Any = padding if isinstance(padding, str) else int_tuple(padding, n, "padding", layer)
        self.padding_mode = padding_mode
        # other modes pad the input first (F.pad's widths: the last axis first), then convolve without padding
        self._pad_widths = tuple(w for pair in reversed(pairs) for w in pair)
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        self.weight = Parameter(np.empty((out_channels, in_channels // groups, *self.kernel_size), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        """PyTorch's default: weight kaiming_uniform_(a=sqrt(5)), bias uniform in +-1/sqrt(fan_in)."""
        init.default_weight_and_bias_(self.weight, self.bias, generator)

    def forward(self, input: Any) -> Any:
        if self.padding_mode != "zeros":
            return type(self)._functional(pad(input, self._pad_widths, mode=self.padding_mode), self.weight,
                                          self.bias, self.stride, 0, self.dilation, self.groups)
        return type(self)._functional(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                                      self.groups)

    def extra_repr(self) -> str:
        n = self._dims
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) -> (N, C_out, L_out), as `torch.nn.Conv1d`.

    `padding`: int, (p,), 'valid' or 'same'; weight (C_out, C_in/groups, k),
    Kaiming-uniform (a=sqrt(5)) from `generator` or the global generator.

    Example:
        >>> from tinygrad_lab import Value
        >>> Conv1d(2, 3, 5, padding="same")(Value(np.zeros((4, 2, 10)))).shape
        (4, 3, 10)
    """

    _dims = 1
    _functional = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out), as `torch.nn.Conv2d`.

    `stride`, `padding` (int, pair, 'valid' or 'same'), `dilation` and `groups`
    as PyTorch; weight (C_out, C_in/groups, kh, kw), Kaiming-uniform (a=sqrt(5)),
    bias uniform in +-1/sqrt(fan_in), from `generator` or the global generator.

    Example:
        >>> from tinygrad_lab import Value
        >>> conv = Conv2d(3, 6, kernel_size=(3, 5), stride=2, groups=3, bias=False)
        >>> conv.weight.shape, conv(Value(np.zeros((1, 3, 9, 9)))).shape
        ((6, 1, 3, 5), (1, 6, 4, 3))
    """

    _dims = 2
    _functional = staticmethod(conv2d)
