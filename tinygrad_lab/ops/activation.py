"""Smooth activations: `erf`, `gelu` (exact and tanh forms) and `silu`.

`erf` uses `scipy.special.erf` when SciPy is installed and the C library's
`math.erf` otherwise (both accurate to float64 round-off).

Example:
    >>> x = Value([0.0, 1.0], requires_grad=True)
    >>> y = gelu(x)                       # x * P(N(0, 1) <= x)
    >>> y.data.round(6).tolist()
    [0.0, 0.841345]
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.value import Value
from ..utils.capture import as_array, not_replayable
from ._dispatch import _array, _floating
from .unary import Sigmoid, exp, sigmoid, tanh

__all__ = ["erf", "gelu", "silu"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_KAPPA = 0.044715


_ERF_IN_PYTHON = ("computes erf (GELU) without SciPy, with Python's math.erf element by element, which jit cannot "
                  "record; install SciPy to replay it")


def _erf_array(x: np.ndarray) -> np.ndarray:
    x = _floating(_array(x))
    if x.dtype.char == "e":   # float16: computed in float32 and rounded once (SciPy would return float32)
        return _erf_array(x.astype(np.float32)).astype(np.float16)
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # pragma: no cover - depends on the installation
        not_replayable(_ERF_IN_PYTHON)
        dtype = x.dtype if x.dtype.kind == "f" else np.float64
        return np.vectorize(math.erf, otypes=[dtype])(np.asarray(x))
    return scipy_erf(x)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt;  dy/dx = 2/sqrt(pi) * exp(-x^2)."""

    name = "erf"
    forward = staticmethod(_erf_array)

    @staticmethod
    def backward(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        return (g * exp(-(x * x)) * _TWO_OVER_SQRT_PI,)


def erf(x: Any) -> Any:
    """The error function elementwise (`torch.erf`).

    Example:
        >>> round(float(erf(Value(1.0)).data), 6)
        0.842701
    """
    return Erf.apply(x) if isinstance(x, Value) else _erf_array(x)


class GELU(Function):
    """Exact: y = x Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2;  dy/dx = Phi(x) + x phi(x), phi the normal pdf.
    approximate='tanh': y = x (1 + tanh(u)) / 2, u = sqrt(2/pi) (x + 0.044715 x^3);
    dy/dx = (1 + tanh u) / 2 + x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2."""

    name = "gelu"

    @staticmethod
    def forward(x: np.ndarray, approximate: str) -> np.ndarray:
        x = _floating(x)
        if x.dtype.char == "e":   # float16: computed in float32 and rounded once, as PyTorch does on the CPU
            return GELU.forward(x.astype(np.float32), approximate).astype(np.float16)
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _KAPPA * x * x * x)))
        return x * 0.5 * (1 + _erf_array(x * _SQRT_HALF))

    @staticmethod
    def backward(g: Any, out: Any, x: Any, approximate: str) -> tuple[Any, ...]:
        if isinstance(x, np.ndarray) and x.dtype.char == "e":   # float16 in float32, as its forward (x^3 overflows at
            x32, g32 = x.astype(np.float32), as_array(g).astype(np.float32)   # 40, and 0 * inf is NaN from 256 on)
            return (GELU.backward(g32, None, x32, approximate)[0].astype(np.float16),)
        if approximate == "tanh":
            t = tanh((x + x * x * x * _KAPPA) * _SQRT_2_OVER_PI)
            du = (x * x * (3 * _KAPPA) + 1) * _SQRT_2_OVER_PI
            return (g * ((t + 1) * 0.5 + x * (1 - t * t) * du * 0.5),)
        cdf = (erf(x * _SQRT_HALF) + 1) * 0.5
        pdf = exp(x * x * -0.5) * _INV_SQRT_2PI
        return (g * (cdf + x * pdf),)


def gelu(input: Any, approximate: str = "none") -> Any:
    """Gaussian error linear unit x * Phi(x) (`F.gelu`); `approximate='tanh'` for the tanh form.

    Example:
        >>> gelu(Value([1.0]), approximate="tanh").data.round(6).tolist()
        [0.841192]
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    if not isinstance(input, Value):
        return GELU.forward(_array(input), approximate)
    return GELU.apply(input, approximate=approximate)


class SiLU(Function):
    """y = x sigmoid(x);  dy/dx = s (1 + x (1 - s)) with s = sigmoid(x)."""

    name = "silu"

    @staticmethod
    def forward(x: np.ndarray) -> np.ndarray:
        x = _floating(x)
        return x * Sigmoid.forward(x)

    @staticmethod
    def backward(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        s = sigmoid(x)
        return (g * s * (x * (1 - s) + 1),)


def silu(input: Any, inplace: bool = False) -> Any:
    """Sigmoid linear unit x * sigmoid(x), also called swish (`F.silu`; `inplace` is accepted and ignored).

    Example:
        >>> silu(Value([0.0, 1.0])).data.round(6).tolist()
        [0.0, 0.731059]
    """
    if not isinstance(input, Value):
        return SiLU.forward(_array(input))
    return SiLU.apply(input)
