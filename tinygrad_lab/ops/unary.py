"""Elementwise functions of one input: exp, log, sqrt, abs, tanh, sigmoid, log_sigmoid, relu, leaky_relu,
clip and cast.

Each lowercase function records its op on a Value and runs the op's own
`forward` on anything else (plain NumPy).

Example:
    >>> x = Value([1.0, 2.0], requires_grad=True)
    >>> y = exp(x).sum()
    >>> y.backward(); x.grad.data.round(4)
    array([2.7183, 7.3891])
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.function import Function, make_node
from ..autograd.value import Value, unwrap
from ..utils.fperrors import ignore_overflow, restore_errors
from ._dispatch import _array, _floating

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "log_sigmoid", "relu", "leaky_relu", "clip", "cast",
    "Exp", "Log", "Sqrt", "Abs", "Tanh", "Sigmoid", "LogSigmoid", "ReLU", "LeakyReLU", "Clip", "Cast",
]


_IN_PLACE_MIN_SIZE = 4096
"""Arrays from this size on are worth an `out=` argument; on smaller ones the allocation costs less than it."""


def _times_into(g: Any, t: Any) -> Any:
    """g * t, written into `t` when `t` is a temporary array of the rule and g an array of its shape and dtype
    (the same numbers, one buffer fewer); otherwise (Values under create_graph, broadcasting, mixed dtypes)
    the plain product.

    Example:
        >>> _times_into(np.array([2.0, 3.0]), np.array([4.0, 5.0]))
        array([ 8., 15.])
    """
    if (isinstance(t, np.ndarray) and isinstance(g, np.ndarray) and t.ndim and g.shape == t.shape
            and g.dtype == t.dtype):
        return np.multiply(g, t, out=t)
    return g * t


class Exp(Function):
    """y = exp(x);  dy/dx = y.

    Example:
        >>> Exp.forward(np.array([0.0]))
        array([1.])
    """

    name = "exp"

    @staticmethod
    def forward(x: np.ndarray) -> np.ndarray:
        x = _floating(x)
        return np.exp(x)

    @staticmethod
    def backward(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        return (g * out,)


def exp(x: Any) -> Any:
    """e ** x elementwise; d/dx = exp(x).

    Example:
        >>> exp(Value([0.0]))
        Value([1.])
    """
    return Exp.apply(x) if isinstance(x, Value) else Exp.forward(_array(x))


class Log(Function):
    """y = log(x);  dy/dx = 1/x.

    Example:
        >>> Log.forward(np.array([1.0]))
        array([0.])
    """

    name = "log"

    @staticmethod
    def forward(x: np.ndarray) -> np.ndarray:
        x = _floating(x)
        return np.log(x)

    @staticmethod
    def backward(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        return (g / x,)


def log(x: Any) -> Any:
    """Natural logarithm elementwise; d/dx = 1/x.

    Example:
        >>> log(Value([1.0]))
        Value([0.])
    """
    return Log.apply(x) if isinstance(x, Value) else Log.forward(_array(x))


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y).

    Example:
        >>> Sqrt.forward(np.array([4.0]))
        array([2.])
    """

    name = "sqrt"

    @staticmethod
    def forward(x: np.ndarray) -> np.ndarray:
        x = _floating(x)
        return np.sqrt(x)

    @staticmethod
    def backward(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        return (g / (2 * out),)


def sqrt(x: Any) -> Any:
    """Square root elementwise; d/dx = 1 / (2 sqrt(x)).

    Example:
        >>> sqrt(Value([4.0]))
        Value([2.])
    """
    return Sqrt.apply(x) if isinstance(x, Value) else Sqrt.forward(_array(x))


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0 and at NaN, as in PyTorch).

    Example:
        >>> Abs.forward(np.array([-2.0]))
        array([2.])
    """

    name = "abs"

    @staticmethod
    def forward(x: np.ndarray) -> np.ndarray:
        return np.abs(x)

    @staticmethod
    def backward(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        xd = unwrap(x)
        return (g * np.subtract(xd > 0, xd < 0, dtype=xd.dtype),)   # sign(x), but 0 at NaN (as PyTorch's sgn)


def abs(x: Any) -> Any:
    """Absolute value elementwise; d/dx = sign(x) (0 at 0).

    Example:
        >>> abs(Value([-2.0]))
        Value([2.])
    """
    return Abs.apply(x) if isinstance(x, Value) else Abs.forward(_array(x))


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y^2.

    Example:
        >>> Tanh.forward(np.array([0.0]))
        array([0.])
    """

    name = "tanh"

    @staticmethod
    def forward(x: np.ndarray) -> np.ndarray:
        x = _floating(x)
        return np.tanh(x)

    @staticmethod
    def backward(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        if out.size >= _IN_PLACE_MIN_SIZE and isinstance(out, np.ndarray):   # 1 - y^2 in one temporary, g times it
            t = np.multiply(out, out)
            return (_times_into(g, np.subtract(1, t, out=t)),)
        return (g * (1 - out * out),)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent elementwise; d/dx = 1 - tanh(x)^2.

    Example:
        >>> tanh(Value([0.0]))
        Value([0.])
    """
    return Tanh.apply(x) if isinstance(x, Value) else Tanh.forward(_array(x))


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y).

    PyTorch's formula: where exp(-x) overflows the result is exactly 0 (and so is its gradient), with
    no overflow warning; float16 is computed in float32 and rounded once (as PyTorch does on the CPU).

    Example:
        >>> Sigmoid.forward(np.array([0.0, -1000.0]))
        array([0.5, 0. ])
    """

    name = "sigmoid"

    @staticmethod
    def forward(x: np.ndarray) -> np.ndarray:
        if x.dtype.char == "e":   # float16 (a cheaper test than comparing dtypes)
            return Sigmoid.forward(x.astype(np.float32)).astype(np.float16)
        if x.dtype.kind != "f":   # bool and integers: float64 (-x of bool fails, of unsigned wraps around)
            x = _floating(x)
        token = ignore_overflow()
        try:
            if x.size < _IN_PLACE_MIN_SIZE or not isinstance(x, np.ndarray):
                return 1 / (1 + np.exp(-x))
            t = np.negative(x)        # large arrays: the same steps in one buffer (small: fewer calls win)
            np.exp(t, out=t)
            t += 1
            return np.divide(1, t, out=t)
        finally:
            restore_errors(token)

    @staticmethod
    def backward(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        if out.size >= _IN_PLACE_MIN_SIZE and isinstance(out, np.ndarray):   # (g y) (1 - y), one temporary fewer
            return (_times_into(np.subtract(1, out), g * out),)
        return (g * out * (1 - out),)


def sigmoid(x: Any) -> Any:
    """The logistic function 1 / (1 + exp(-x)) elementwise, exactly 0 where exp(-x) overflows; d/dx = y (1 - y).

    Example:
        >>> sigmoid(Value([0.0]))
        Value([0.5])
    """
    if isinstance(x, Value):
        return make_node(Sigmoid, Sigmoid.forward(x.data), (x,))
    return Sigmoid.forward(_array(x))


class LogSigmoid(Function):
    """y = log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) (stable);  dy/dx = 1 - sigmoid(x) = sigmoid(-x).

    Example:
        >>> LogSigmoid.forward(np.array([0.0])).round(6)
        array([-0.693147])
    """

    name = "log_sigmoid"

    @staticmethod
    def forward(x: np.ndarray) -> np.ndarray:
        x = _floating(x)
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        return (g * sigmoid(-x),)


def log_sigmoid(x: Any) -> Any:
    """log(sigmoid(x)) elementwise, computed stably (`torch.nn.functional.logsigmoid`); d/dx = sigmoid(-x).

    Example:
        >>> log_sigmoid(Value([0.0])).data.round(6)
        array([-0.693147])
    """
    return LogSigmoid.apply(x) if isinstance(x, Value) else LogSigmoid.forward(_array(x))


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 0 where x <= 0 else 1 (also at NaN, as PyTorch).

    Example:
        >>> ReLU.forward(np.array([-1.0, 2.0]))
        array([0., 2.])
    """

    name = "relu"

    @staticmethod
    def forward(x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    @staticmethod
    def backward(g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        return (g * (unwrap(out) != 0),)   # y = max(x, 0) is 0 exactly where x <= 0 (also -0.0) and NaN at NaN,
        # which passes the gradient, as PyTorch's threshold rule: one comparison


def relu(x: Any) -> Any:
    """max(x, 0) elementwise; d/dx = 1 where x > 0 else 0.

    Example:
        >>> relu(Value([-1.0, 2.0]))
        Value([0., 2.])
    """
    return ReLU.apply(x) if isinstance(x, Value) else ReLU.forward(_array(x))


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x;  dy/dx = 1 or slope.

    Example:
        >>> LeakyReLU.forward(np.array([-1.0, 2.0]), 0.5)
        array([-0.5,  2. ])
    """

    name = "leaky_relu"

    @staticmethod
    def forward(x: np.ndarray, negative_slope: float) -> np.ndarray:
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, negative_slope: float) -> tuple[Any, ...]:
        return (g * np.where(unwrap(x) > 0, 1.0, negative_slope).astype(unwrap(x).dtype),)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """x where x > 0, negative_slope * x elsewhere (as `torch.nn.functional.leaky_relu`).

    Example:
        >>> leaky_relu(Value([-1.0, 2.0]), 0.5)
        Value([-0.5,  2. ])
    """
    if isinstance(x, Value):
        return LeakyReLU.apply(x, negative_slope=negative_slope)
    return LeakyReLU.forward(_array(x), negative_slope)


class Clip(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi else 0 (PyTorch's clamp).

    Example:
        >>> Clip.forward(np.array([-2.0, 2.0]), -1.0, 1.0)
        array([-1.,  1.])
    """

    name = "clip"

    @staticmethod
    def forward(x: ArrayLike, min: float | None, max: float | None) -> np.ndarray:
        return np.clip(x, min, max)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, min: float | None, max: float | None) -> tuple[Any, ...]:
        xd = unwrap(x)
        inside = np.ones(xd.shape, dtype=bool)
        if min is not None:
            inside &= xd >= min
        if max is not None:
            inside &= xd <= max
        return (g * inside,)


def clip(x: Any, min: float | None = None, max: float | None = None) -> Any:
    """Limit x to [min, max] (either may be None), as `torch.clamp`; d/dx = 1 inside, 0 outside.

    Example:
        >>> clip(Value([-2.0, 0.5, 2.0]), -1.0, 1.0)
        Value([-1. ,  0.5,  1. ])
    """
    if min is None and max is None:
        raise ValueError("clip() needs at least one of min and max")
    if isinstance(x, Value):
        if x.data.dtype.kind == "f":     # array bounds are constants of the Value's dtype (docs/engine.md)
            min, max = (_bound_like(b, x.data.dtype) for b in (min, max))
        return Clip.apply(x, min=min, max=max)
    return Clip.forward(x, min, max)


def _bound_like(bound: Any, dtype: np.dtype) -> Any:
    if isinstance(bound, (list, tuple, np.ndarray, np.generic)):
        array = np.asarray(bound)
        if array.dtype.kind in "biuf":
            return array.astype(dtype)
    return bound


class Cast(Function):
    """y = x as another float dtype;  dy/dx = 1 (the gradient is cast back).

    Example:
        >>> Cast.forward(np.array([1.0]), np.float32).dtype
        dtype('float32')
    """

    name = "cast"

    @staticmethod
    def forward(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return x.astype(dtype)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, dtype: np.dtype) -> tuple[Any, ...]:
        return (cast(g, unwrap(x).dtype),)


def cast(x: Any, dtype: Any) -> Any:
    """x converted to `dtype` (differentiable between float dtypes; the gradient is cast back).

    Example:
        >>> cast(Value([1.0]), np.float32)
        Value([1.], dtype=float32)
    """
    target = np.dtype(dtype)
    if target.kind not in "biufc":
        raise TypeError(f"cast: the dtype must be numeric (bool, integer, floating or complex), got {target}")
    if isinstance(x, Value):
        return Cast.apply(x, dtype=target)
    return Cast.forward(_array(x), target)
