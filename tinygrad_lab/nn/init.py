"""Weight initialisers with PyTorch's names, formulas and fan conventions (`torch.nn.init`).

Each one fills a Parameter's (or Value's, or array's) data in place, records
no graph, and returns its argument. For a weight of shape (out, in, *kernel):
fan_in = in * prod(kernel), fan_out = out * prod(kernel). Every initialiser
takes `generator=` (a `numpy.random.Generator` or an int seed); without it the
global generator of `tinygrad_lab.random` is used (see `manual_seed`).

Example:
    >>> from tinygrad_lab import nn
    >>> w = nn.Parameter(np.empty((4, 2)))
    >>> _ = nn.init.xavier_uniform_(w, generator=0)
    >>> bound = np.sqrt(6 / (2 + 4))
    >>> bool(np.all(np.abs(w.data) <= bound))
    True
"""
from __future__ import annotations

import math
import warnings
from typing import Any, TypeVar

import numpy as np

from ..autograd import unwrap
from ..random import resolve_generator
from ..utils.checks import is_real

__all__ = [
    "calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "xavier_uniform_",
    "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "default_weight_and_bias_",
]

T = TypeVar("T")

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "sigmoid")


def _array(tensor: Any) -> np.ndarray:
    """The array to fill in place (a Value's data, or the array itself)."""
    array = unwrap(tensor)
    if not isinstance(array, np.ndarray):
        raise TypeError("initialisers fill a Parameter, a Value or a NumPy array in place, got "
                        f"{type(tensor).__name__}")
    if array.dtype.kind != "f":
        raise TypeError(f"initialisers need floating-point data, got dtype {array.dtype}")
    return array


def _fill(tensor: T, values: Any) -> T:
    _array(tensor)[...] = values
    return tensor


def _empty_warning(array: np.ndarray) -> bool:
    if array.size == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear/conv/sigmoid: 1, tanh: 5/3, relu: sqrt(2),
    leaky_relu: sqrt(2 / (1 + negative_slope^2)) (slope `param`, default 0.01), selu: 3/4.

    Example:
        >>> calculate_gain("tanh")
        1.6666666666666667
    """
    if nonlinearity in _LINEAR_FNS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif is_real(param):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}; use one of linear, conv1d, conv2d, conv3d, "
                     "conv_transpose1d/2d/3d, sigmoid, tanh, relu, leaky_relu, selu")


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in*receptive, out*receptive.

    Example:
        >>> _calculate_fan_in_and_fan_out(np.empty((4, 2)))
        (2, 4)
    """
    shape = np.shape(unwrap(tensor))
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
                         f"(shape {tuple(shape)})")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    mode = mode.lower() if isinstance(mode, str) else mode
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: T, a: float = 0.0, b: float = 1.0, generator: Any = None) -> T:
    """Fill with values drawn uniformly from [a, b).

    Example:
        >>> w = uniform_(np.empty(1000), -2.0, 2.0, generator=0)
        >>> bool(w.min() >= -2.0 and w.max() < 2.0)
        True
    """
    array = _array(tensor)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"uniform_ expects finite bounds a and b, got a={a}, b={b}")
    if a > b:
        raise ValueError(f"uniform_ expects a <= b, got a={a}, b={b}")
    rng = resolve_generator(generator)
    return _fill(tensor, rng.uniform(a, b, size=array.shape))


def normal_(tensor: T, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> T:
    """Fill with values drawn from the normal distribution N(mean, std^2).

    Example:
        >>> w = normal_(np.empty(10000), 1.0, 0.5, generator=0)
        >>> round(float(w.mean()), 1), round(float(w.std()), 1)
        (1.0, 0.5)
    """
    array = _array(tensor)
    if not std >= 0:   # nan too: it would fill the tensor with nan
        raise ValueError(f"normal_ expects std >= 0, got {std}")
    rng = resolve_generator(generator)
    return _fill(tensor, rng.normal(mean, std, size=array.shape))


def constant_(tensor: T, val: float) -> T:
    """Fill with the constant `val`.

    Example:
        >>> constant_(np.empty(2), 0.5).tolist()
        [0.5, 0.5]
    """
    return _fill(tensor, val)


def zeros_(tensor: T) -> T:
    """Fill with 0."""
    return _fill(tensor, 0.0)


def ones_(tensor: T) -> T:
    """Fill with 1."""
    return _fill(tensor, 1.0)


def xavier_uniform_(tensor: T, gain: float = 1.0, generator: Any = None) -> T:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Example:
        >>> w = xavier_uniform_(np.empty((30, 20)), generator=0)
        >>> bool(np.abs(w).max() <= np.sqrt(6 / 50))
        True
    """
    array = _array(tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor: T, gain: float = 1.0, generator: Any = None) -> T:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    array = _array(tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator=generator)


def kaiming_uniform_(tensor: T, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Any = None) -> T:
    """He uniform: U(-bound, bound), bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).

    `nn.Linear` uses `a=sqrt(5)`, which gives bound = 1 / sqrt(fan_in).

    Example:
        >>> w = kaiming_uniform_(np.empty((8, 4)), a=math.sqrt(5), generator=0)
        >>> bool(np.abs(w).max() <= 1 / math.sqrt(4))
        True
    """
    array = _array(tensor)
    if _empty_warning(array):
        return tensor
    fan = _calculate_correct_fan(array, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(tensor: T, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Any = None) -> T:
    """He normal: N(0, std^2), std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    array = _array(tensor)
    if _empty_warning(array):
        return tensor
    fan = _calculate_correct_fan(array, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator=generator)


def default_weight_and_bias_(weight: Any, bias: Any = None, generator: Any = None) -> None:
    """PyTorch's default initialisation of `Linear` and `Conv` layers, in place.

    weight: `kaiming_uniform_(a=sqrt(5))`, that is uniform in +-1/sqrt(fan_in); bias (if not None): uniform
    in +-1/sqrt(fan_in) (zeros when fan_in is 0), drawn from the same generator after the weight.

    Example:
        >>> from tinygrad_lab.nn import Parameter
        >>> w, b = Parameter(np.empty((3, 4))), Parameter(np.empty(3))
        >>> default_weight_and_bias_(w, b, generator=0)
        >>> bool(np.all(np.abs(w.data) <= 0.5)) and bool(np.all(np.abs(b.data) <= 0.5))
        True
    """
    rng = resolve_generator(generator)
    kaiming_uniform_(weight, a=math.sqrt(5), generator=rng)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound, generator=rng)
