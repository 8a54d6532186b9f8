"""Pooling layers `MaxPool1d/2d`, `AvgPool1d/2d` and `AdaptiveAvgPool2d`, as in `torch.nn` (no parameters).

Example:
    >>> from tinygrad_lab import Value, nn
    >>> nn.MaxPool2d(2)(Value(np.arange(16.0).reshape(1, 1, 4, 4))).data[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
"""
from __future__ import annotations

from typing import Any

from ..ops import adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _single(value: Any) -> Any:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class _MaxPoolNd(Module):
    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """The maximum of each window over (N, C, L), as `torch.nn.MaxPool1d` (stride defaults to kernel_size).

    Example:
        >>> from tinygrad_lab import Value
        >>> MaxPool1d(2)(Value([[[1.0, 4.0, 2.0, 3.0]]])).data.tolist()
        [[[4.0, 3.0]]]
    """

    def forward(self, input: Any) -> Any:
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """The maximum of each window over (N, C, H, W), as `torch.nn.MaxPool2d` (stride defaults to kernel_size).

    The gradient goes to each window's first maximum (PyTorch's tie rule).

    Example:
        >>> from tinygrad_lab import Value
        >>> MaxPool2d(2, stride=1)(Value(np.arange(9.0).reshape(1, 1, 3, 3))).data[0, 0].tolist()
        [[4.0, 5.0], [7.0, 8.0]]
    """

    def forward(self, input: Any) -> Any:
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class AvgPool1d(Module):
    """The mean of each window over (N, C, L), as `torch.nn.AvgPool1d`.

    Example:
        >>> from tinygrad_lab import Value
        >>> AvgPool1d(2)(Value([[[1.0, 3.0, 2.0, 4.0]]])).data.tolist()
        [[[2.0, 3.0]]]
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)      # stored as 1-tuples, as torch.nn.AvgPool1d does
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Any) -> Any:
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean of each window over (N, C, H, W), as `torch.nn.AvgPool2d` (`count_include_pad`,
    `divisor_override`, `ceil_mode` as PyTorch).

    Example:
        >>> from tinygrad_lab import Value
        >>> AvgPool2d(2)(Value(np.arange(16.0).reshape(1, 1, 4, 4))).data[0, 0].tolist()
        [[2.5, 4.5], [10.5, 12.5]]
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Any) -> Any:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (an int, or a pair with None to keep an input size), as
    `torch.nn.AdaptiveAvgPool2d`.

    Example:
        >>> from tinygrad_lab import Value
        >>> AdaptiveAvgPool2d((1, 2))(Value(np.ones((3, 5, 7, 6)))).shape
        (3, 5, 1, 2)
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Any) -> Any:
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
