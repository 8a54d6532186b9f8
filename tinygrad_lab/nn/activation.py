"""Activation layers: `Sigmoid`, `Tanh`, `ReLU`, `LeakyReLU`, `Softmax`, `LogSoftmax` (as `torch.nn`).

Each is a thin module around the function of the same name in
`tinygrad_lab.nn.functional` (one graph node per call).

Example:
    >>> from tinygrad_lab import Value, nn
    >>> nn.ReLU()(Value([-1.0, 2.0]))
    Value([0., 2.])
"""
from __future__ import annotations

from typing import Any

from ..utils.checks import check_bool, is_integer, is_real
from . import functional as F
from .module import Module

__all__ = ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "LogSoftmax"]


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise (stable for large |x|).

    Example:
        >>> from tinygrad_lab import Value
        >>> Sigmoid()(Value([0.0]))
        Value([0.5])
    """

    def forward(self, input: Any) -> Any:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x) elementwise.

    Example:
        >>> from tinygrad_lab import Value
        >>> Tanh()(Value([0.0]))
        Value([0.])
    """

    def forward(self, input: Any) -> Any:
        return F.tanh(input)


class ReLU(Module):
    """max(x, 0) elementwise (gradient 0 at 0, as PyTorch).

    Example:
        >>> from tinygrad_lab import Value
        >>> ReLU()(Value([-2.0, 3.0]))
        Value([0., 3.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        # accepted for ported PyTorch code; Values are never changed in place
        self.inplace = check_bool(inplace, "inplace", type(self).__name__)

    def forward(self, input: Any) -> Any:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x where x > 0, negative_slope * x elsewhere.

    Example:
        >>> from tinygrad_lab import Value
        >>> LeakyReLU(0.1)(Value([-2.0, 3.0]))
        Value([-0.2,  3. ])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        if not is_real(negative_slope):
            raise TypeError(f"LeakyReLU: negative_slope must be a number, got {type(negative_slope).__name__} "
                            f"{negative_slope!r}")
        self.negative_slope = negative_slope
        # accepted for ported PyTorch code; Values are never changed in place
        self.inplace = check_bool(inplace, "inplace", type(self).__name__)

    def forward(self, input: Any) -> Any:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim` (give `dim`; without it PyTorch's legacy choice applies, and warns).

    Example:
        >>> from tinygrad_lab import Value
        >>> Softmax(dim=1)(Value([[0.0, 0.0]]))
        Value([[0.5, 0.5]])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is not None and not is_integer(dim):
            raise TypeError(f"{type(self).__name__}: dim must be an integer or None, got {type(dim).__name__} "
                            f"{dim!r}")
        self.dim = dim

    def forward(self, input: Any) -> Any:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along `dim`, computed stably (pair it with `NLLLoss`).

    Example:
        >>> from tinygrad_lab import Value
        >>> LogSoftmax(dim=0)(Value([0.0, 0.0])).data.round(4).tolist()
        [-0.6931, -0.6931]
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is not None and not is_integer(dim):
            raise TypeError(f"{type(self).__name__}: dim must be an integer or None, got {type(dim).__name__} "
                            f"{dim!r}")
        self.dim = dim

    def forward(self, input: Any) -> Any:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# ---------------------------------------------------------------------------- smooth activations

class GELU(Module):
    """x * Phi(x) (Phi the standard normal CDF), or its tanh approximation with `approximate='tanh'`.

    Example:
        >>> from tinygrad_lab import Value
        >>> GELU()(Value([0.0, 1.0])).data.round(4).tolist()
        [0.0, 0.8413]
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Any) -> Any:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) elementwise (also called swish), as `torch.nn.SiLU`.

    Example:
        >>> from tinygrad_lab import Value
        >>> SiLU()(Value([0.0, 1.0])).data.round(4).tolist()
        [0.0, 0.7311]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        # accepted for ported PyTorch code; Values are never changed in place
        self.inplace = check_bool(inplace, "inplace", type(self).__name__)

    def forward(self, input: Any) -> Any:
        return F.silu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


__all__ += ["GELU", "SiLU"]
