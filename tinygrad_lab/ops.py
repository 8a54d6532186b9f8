"""Every differentiable op: a `Function` class (forward on arrays, backward rule) and a lowercase function.

Each backward rule is written with operators and the lowercase functions of
this module, which accept NumPy arrays as well as `Value`s: an ordinary
backward runs the rule on arrays (fast), `create_graph=True` runs the same rule
on Values (so the gradient is itself differentiable). Broadcasting is undone
once, by the engine, so elementwise rules never look at shapes.

Every lowercase function takes Values or arrays: with a Value among its inputs
it records the op; with arrays only it is plain NumPy.

Example:
    >>> x = Value([1.0, 2.0], requires_grad=True)
    >>> y = exp(x).sum()
    >>> y.backward(); x.grad.data.round(4)
    array([2.7183, 7.3891])
"""
from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from .engine import Add, Div, Function, Mul, Neg, Sub, Value, _const, _data, _make

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "exp", "log", "sqrt", "abs", "tanh", "sigmoid",
    "relu", "leaky_relu", "clip", "maximum", "minimum", "where", "sum", "mean", "max", "min", "reshape",
    "permute", "transpose", "getitem", "index_add", "broadcast_to", "sum_to", "concat", "cat", "stack",
    "softmax", "log_softmax", "logsumexp", "linear", "cast",
]

_max, _min, _abs, _sum = builtins.max, builtins.min, builtins.abs, builtins.sum


def _is_value(*xs: Any) -> bool:
    return builtins.any(isinstance(x, Value) for x in xs)


def _value(x: Any, like: Any) -> Value:
    """`x` as a Value; numbers take the float dtype of `like` (a Value or array)."""
    if isinstance(x, Value):
        return x
    return _const(x, like.data if isinstance(like, Value) else np.asarray(like))


def _binary(op: type[Function], a: Any, b: Any) -> Value:
    like = a if isinstance(a, Value) else b
    a, b = _value(a, like), _value(b, like)
    return _make(op, op.forward(a.data, b.data), (a, b))


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """Normalise an axis argument (None, int or tuple; negatives allowed) to a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    if not isinstance(axes, tuple) or not builtins.all(isinstance(a, (int, np.integer)) for a in axes):
        raise TypeError(f"axis must be None, an int or a tuple of ints, not {axis!r}")
    return tuple(sorted(_norm_axis(a, ndim) for a in axes))


def _norm_axis(axis: int, ndim: int) -> int:
    if not -_max(ndim, 1) <= axis < _max(ndim, 1):
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for a Value with {ndim} dimension(s)")
    return axis % _max(ndim, 1)


def _kept_shape(shape: tuple, axis: Any) -> tuple:
    """The shape of a reduction over `axis` with keepdims=True."""
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _unreduce(g: Any, shape: tuple, axis: Any, keepdims: bool) -> Any:
    """Bring the gradient of a reduction back to the input's shape (reshape, then broadcast)."""
    if not keepdims:
        g = reshape(g, _kept_shape(shape, axis))
    return broadcast_to(g, shape)


def _reduction_args(axis: Any, keepdims: bool, dim: Any, keepdim: Any) -> tuple[Any, bool]:
    """Accept PyTorch's `dim`/`keepdim` as aliases of NumPy's `axis`/`keepdims`."""
    if dim is not None:
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis, bool(keepdims)


# ============================================================================ elementwise arithmetic

def add(a: Any, b: Any) -> Any:
    """a + b with broadcasting; d/da = 1, d/db = 1."""
    return _binary(Add, a, b) if _is_value(a, b) else np.add(a, b)


def sub(a: Any, b: Any) -> Any:
    """a - b with broadcasting; d/da = 1, d/db = -1."""
    return _binary(Sub, a, b) if _is_value(a, b) else np.subtract(a, b)


def mul(a: Any, b: Any) -> Any:
    """a * b with broadcasting; d/da = b, d/db = a."""
    return _binary(Mul, a, b) if _is_value(a, b) else np.multiply(a, b)


def div(a: Any, b: Any) -> Any:
    """a / b with broadcasting; d/da = 1/b, d/db = -a/b^2."""
    return _binary(Div, a, b) if _is_value(a, b) else np.divide(a, b)


def neg(a: Any) -> Any:
    """-a; d/da = -1."""
    return Neg.apply(a) if isinstance(a, Value) else np.negative(a)


class PowScalar(Function):
    """y = x ** p for a constant exponent p;  dy/dx = p * x ** (p - 1)."""

    name = "pow"

    @staticmethod
    def forward(x, exponent):
        return x ** exponent

    @staticmethod
    def backward(g, out, x, exponent):
        return (g * exponent * pow(x, exponent - 1),)


class Pow(Function):
    """y = a ** b with both differentiable;  dy/da = b * a ** (b - 1),  dy/db = y * log(a).

    Where a == 0 the exponent's gradient is 0, as in PyTorch.
    """

    name = "pow_value"

    @staticmethod
    def forward(a, b):
        return a ** b

    @staticmethod
    def backward(g, out, a, b):
        log_a = log(where(_data(a) == 0, 1.0, a))
        return g * b * pow(a, b - 1), g * out * log_a


def pow(x: Any, exponent: Any) -> Any:
    """x ** exponent. A constant exponent (number, array or Value without grad) is a static argument.

    Example:
        >>> x = Value(3.0, requires_grad=True)
        >>> (x ** 2).backward(); float(x.grad.data)
        6.0
    """
    if isinstance(exponent, Value) and exponent.requires_grad:
        return _binary(Pow, x, exponent)
    if not isinstance(x, Value):
        return np.power(x, _data(exponent))
    p = _data(exponent)
    if isinstance(p, np.ndarray) and x.data.dtype.kind == "f" and p.dtype.kind in "iub":
        p = p.astype(x.data.dtype)
    return PowScalar.apply(x, exponent=p)


# ============================================================================ matrix product

def _swap_last(x: Any) -> Any:
    if x.ndim == 2:
        return x.T
    return permute(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


class MatMul(Function):
    """C = A @ B (2-D or batched);  dA = dC @ B^T,  dB = A^T @ dC (batch dims reduced by the engine)."""

    name = "matmul"

    @staticmethod
    def forward(a, b):
        return a @ b

    @staticmethod
    def backward(g, out, a, b):
        return matmul(g, _swap_last(b)), matmul(_swap_last(a), g)


def matmul(a: Any, b: Any) -> Any:
    """Matrix product with NumPy's rules (1-D operands are promoted, batch dims broadcast).

    Example:
        >>> A = Value([[1.0, 2.0]], requires_grad=True)
        >>> (A @ Value([[3.0], [4.0]])).backward(); A.grad
        Value([[3., 4.]])
    """
    if not _is_value(a, b):
        return np.matmul(a, b)
    like = a if isinstance(a, Value) else b
    a, b = _value(a, like), _value(b, like)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs operands with at least 1 dimension, got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                         f"{a.shape[-1]} (last dim of the left) != "
                         f"{b.shape[-2 if b.ndim > 1 else 0]} ({'second-to-last' if b.ndim > 1 else 'only'} "
                         f"dim of the right)")
    if a.ndim == 1 and b.ndim == 1:
        return reshape(MatMul.apply(reshape(a, (1, -1)), reshape(b, (-1, 1))), ())
    if a.ndim == 1:
        return reshape(MatMul.apply(reshape(a, (1, -1)), b), b.shape[:-2] + b.shape[-1:])
    if b.ndim == 1:
        return reshape(MatMul.apply(a, reshape(b, (-1, 1))), a.shape[:-1])
    return _make(MatMul, a.data @ b.data, (a, b))


class Linear(Function):
    """y = x @ W^T + b (one node for `nn.Linear`);  dx = dy @ W,  dW = dy^T @ x,  db = sum of dy."""

    name = "linear"

    @staticmethod
    def forward(x, weight, bias=None):
        y = x @ weight.T
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(g, out, x, weight, bias=None):
        if x.ndim == 2:
            return g @ weight, g.T @ x, g.sum(axis=0)
        rows = reshape(g, (-1, g.shape[-1]))
        return g @ weight, rows.T @ reshape(x, (-1, x.shape[-1])), rows.sum(axis=0)


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """x @ weight.T + bias, as `torch.nn.functional.linear` (weight has shape (out, in)).

    Example:
        >>> linear(Value([[1.0, 2.0]]), Value([[1.0, 1.0]]), Value([0.5]))
        Value([[3.5]])
    """
    if not (isinstance(x, Value) and isinstance(weight, Value) and (bias is None or isinstance(bias, Value))):
        if not _is_value(x, weight, bias):
            return Linear.forward(np.asarray(x), np.asarray(weight), bias)
        like = weight if isinstance(weight, Value) else x
        x, weight = _value(x, like), _value(weight, like)
        bias = None if bias is None else _value(bias, like)
    if x.data.shape[-1:] != weight.data.shape[1:2]:
        raise ValueError(f"linear: input has {x.shape[-1:] or 'no'} features (shape {x.shape}), but the weight "
                         f"of shape {weight.shape} expects {weight.shape[1]}")
    if bias is None:
        return _make(Linear, x.data @ weight.data.T, (x, weight))
    return _make(Linear, Linear.forward(x.data, weight.data, bias.data), (x, weight, bias))


# ============================================================================ unary elementwise

class Exp(Function):
    """y = exp(x);  dy/dx = y."""

    name = "exp"

    @staticmethod
    def forward(x):
        return np.exp(x)

    @staticmethod
    def backward(g, out, x):
        return (g * out,)


def exp(x: Any) -> Any:
    """e ** x elementwise."""
    return Exp.apply(x) if isinstance(x, Value) else np.exp(x)


class Log(Function):
    """y = log(x);  dy/dx = 1/x."""

    name = "log"

    @staticmethod
    def forward(x):
        return np.log(x)

    @staticmethod
    def backward(g, out, x):
        return (g / x,)


def log(x: Any) -> Any:
    """Natural logarithm elementwise."""
    return Log.apply(x) if isinstance(x, Value) else np.log(x)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)."""

    name = "sqrt"

    @staticmethod
    def forward(x):
        return np.sqrt(x)

    @staticmethod
    def backward(g, out, x):
        return (g / (2 * out),)


def sqrt(x: Any) -> Any:
    """Square root elementwise."""
    return Sqrt.apply(x) if isinstance(x, Value) else np.sqrt(x)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0, as in PyTorch)."""

    name = "abs"

    @staticmethod
    def forward(x):
        return np.abs(x)

    @staticmethod
    def backward(g, out, x):
        return (g * np.sign(_data(x)),)


def abs(x: Any) -> Any:
    """Absolute value elementwise."""
    return Abs.apply(x) if isinstance(x, Value) else np.abs(x)


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y^2."""

    name = "tanh"

    @staticmethod
    def forward(x):
        return np.tanh(x)

    @staticmethod
    def backward(g, out, x):
        return (g * (1 - out * out),)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent elementwise."""
    return Tanh.apply(x) if isinstance(x, Value) else np.tanh(x)


# the largest t with a finite exp(t) for each float dtype, rounded down
_EXP_CAP = {np.dtype(np.float64): 709.0, np.dtype(np.float32): 88.0, np.dtype(np.float16): 11.0}


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), with -x capped where exp would overflow (there the result is 0 to within 1e-38)."""
    return 1 / (1 + np.exp(np.minimum(-x, _EXP_CAP.get(x.dtype, 11.0))))


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)) (no overflow for large |x|);  dy/dx = y (1 - y)."""

    name = "sigmoid"
    forward = staticmethod(_sigmoid_array)

    @staticmethod
    def backward(g, out, x):
        return (g * out * (1 - out),)


def sigmoid(x: Any) -> Any:
    """The logistic function 1 / (1 + exp(-x)) elementwise, stable for large |x|."""
    if isinstance(x, Value):
        return _make(Sigmoid, _sigmoid_array(x.data), (x,))
    return _sigmoid_array(np.asarray(x))


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0 else 0."""

    name = "relu"

    @staticmethod
    def forward(x):
        return np.maximum(x, 0)

    @staticmethod
    def backward(g, out, x):
        return (g * (_data(x) > 0),)


def relu(x: Any) -> Any:
    """max(x, 0) elementwise."""
    return ReLU.apply(x) if isinstance(x, Value) else np.maximum(x, 0)


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x;  dy/dx = 1 or slope."""

    name = "leaky_relu"

    @staticmethod
    def forward(x, negative_slope):
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(g, out, x, negative_slope):
        return (g * np.where(_data(x) > 0, 1.0, negative_slope).astype(_data(x).dtype),)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """x where x > 0, negative_slope * x elsewhere (as `torch.nn.functional.leaky_relu`)."""
    if isinstance(x, Value):
        return LeakyReLU.apply(x, negative_slope=negative_slope)
    return LeakyReLU.forward(np.asarray(x), negative_slope)


class Clip(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi else 0 (PyTorch's clamp)."""

    name = "clip"

    @staticmethod
    def forward(x, min, max):
        return np.clip(x, min, max)

    @staticmethod
    def backward(g, out, x, min, max):
        xd = _data(x)
        inside = np.ones(xd.shape, dtype=bool)
        if min is not None:
            inside &= xd >= min
        if max is not None:
            inside &= xd <= max
        return (g * inside,)


def clip(x: Any, min: float | None = None, max: float | None = None) -> Any:
    """Limit x to [min, max] (either may be None), as `torch.clamp`."""
    if min is None and max is None:
        raise ValueError("clip() needs at least one of min and max")
    if isinstance(x, Value):
        return Clip.apply(x, min=min, max=max)
    return np.clip(x, min, max)


class Cast(Function):
    """y = x as another float dtype;  dy/dx = 1 (cast back)."""

    name = "cast"

    @staticmethod
    def forward(x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(g, out, x, dtype):
        return (cast(g, _data(x).dtype),)


def cast(x: Any, dtype: Any) -> Any:
    """x converted to `dtype` (differentiable between float dtypes)."""
    if isinstance(x, Value):
        return Cast.apply(x, dtype=np.dtype(dtype))
    return np.asarray(x).astype(dtype)


# ============================================================================ binary selections

def _tie_split(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 where a wins, 0 where b wins, 1/2 on ties (PyTorch splits the gradient evenly)."""
    return (a > b) + 0.5 * (a == b)


class Maximum(Function):
    """y = max(a, b) elementwise;  the gradient goes to the larger, split evenly on ties."""

    name = "maximum"

    @staticmethod
    def forward(a, b):
        return np.maximum(a, b)

    @staticmethod
    def backward(g, out, a, b):
        share = _tie_split(_data(a), _data(b)).astype(_data(out).dtype)
        return g * share, g * (1 - share)


class Minimum(Function):
    """y = min(a, b) elementwise;  the gradient goes to the smaller, split evenly on ties."""

    name = "minimum"

    @staticmethod
    def forward(a, b):
        return np.minimum(a, b)

    @staticmethod
    def backward(g, out, a, b):
        share = _tie_split(_data(b), _data(a)).astype(_data(out).dtype)
        return g * share, g * (1 - share)


def maximum(a: Any, b: Any) -> Any:
    """Elementwise maximum with broadcasting (ties share the gradient)."""
    return _binary(Maximum, a, b) if _is_value(a, b) else np.maximum(a, b)


def minimum(a: Any, b: Any) -> Any:
    """Elementwise minimum with broadcasting (ties share the gradient)."""
    return _binary(Minimum, a, b) if _is_value(a, b) else np.minimum(a, b)


class Where(Function):
    """y = a where cond else b;  the gradient goes to a where cond, to b elsewhere (cond is constant)."""

    name = "where"

    @staticmethod
    def forward(cond, a, b):
        return np.where(cond, a, b)

    @staticmethod
    def backward(g, out, cond, a, b):
        c = _data(cond)
        return None, where(c, g, 0.0), where(c, 0.0, g)


def where(cond: Any, a: Any, b: Any) -> Any:
    """Choose a where `cond` is true, b elsewhere (broadcasting), as `torch.where`.

    Example:
        >>> x = Value([-1.0, 2.0], requires_grad=True)
        >>> where(x.data > 0, x, 0.0)
        Value([0., 2.], op=where)
    """
    if not _is_value(a, b):
        return np.where(_data(cond), a, b)
    like = a if isinstance(a, Value) else b
    a, b = _value(a, like), _value(b, like)
    cond = _const(np.asarray(_data(cond), dtype=bool), like.data)
    return _make(Where, np.where(cond.data, a.data, b.data), (cond, a, b))


# ============================================================================ reductions

class Sum(Function):
    """y = sum of x over `axis`;  dy/dx = 1 (the gradient is broadcast back)."""

    name = "sum"

    @staticmethod
    def forward(x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, out, x, axis, keepdims):
        return (_unreduce(g, x.shape, axis, keepdims),)


def sum(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Any:
    """Sum over `axis` (None: all; `dim`/`keepdim` accepted as in PyTorch).

    Example:
        >>> Value([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0)
        Value([4., 6.])
    """
    axis, keepdims = _reduction_args(axis, keepdims, dim, keepdim)
    if not isinstance(x, Value):
        return np.sum(x, axis=axis, keepdims=keepdims)
    if axis is not None:
        _axes(axis, x.ndim)
    return _make(Sum, x.data.sum(axis=axis, keepdims=keepdims), (x,), {"axis": axis, "keepdims": keepdims})


class Mean(Function):
    """y = mean of x over `axis`;  dy/dx = 1/n (n = number of elements averaged)."""

    name = "mean"

    @staticmethod
    def forward(x, axis, keepdims):
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, out, x, axis, keepdims):
        n = x.size // _max(out.size, 1) if out.size else 1
        return (_unreduce(g / n, x.shape, axis, keepdims),)


def mean(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
         keepdim: bool | None = None) -> Any:
    """Mean over `axis` (None: all elements)."""
    axis, keepdims = _reduction_args(axis, keepdims, dim, keepdim)
    if not isinstance(x, Value):
        return np.mean(x, axis=axis, keepdims=keepdims)
    if axis is not None:
        _axes(axis, x.ndim)
    return _make(Mean, x.data.mean(axis=axis, keepdims=keepdims), (x,), {"axis": axis, "keepdims": keepdims})


def _extreme_backward(g: Any, out: Any, x: Any, axis: Any, keepdims: bool) -> tuple:
    """Gradient of max/min: to the extreme elements, split evenly between ties (as torch.amax)."""
    xd = _data(x)
    kept = _data(out) if keepdims else _data(out).reshape(_kept_shape(xd.shape, axis))
    hits = (xd == kept).astype(xd.dtype)
    share = hits / hits.sum(axis=axis, keepdims=True)
    return (_unreduce(g, xd.shape, axis, keepdims) * share,)


class Max(Function):
    """y = max of x over `axis`;  dy/dx = 1 at the maximum (ties share), 0 elsewhere."""

    name = "max"

    @staticmethod
    def forward(x, axis, keepdims):
        return x.max(axis=axis, keepdims=keepdims)

    backward = staticmethod(_extreme_backward)


class Min(Function):
    """y = min of x over `axis`;  dy/dx = 1 at the minimum (ties share), 0 elsewhere."""

    name = "min"

    @staticmethod
    def forward(x, axis, keepdims):
        return x.min(axis=axis, keepdims=keepdims)

    backward = staticmethod(_extreme_backward)


def _extreme(op: type[Function], x: Any, axis: Any, keepdims: bool, dim: Any, keepdim: Any) -> Any:
    axis, keepdims = _reduction_args(axis, keepdims, dim, keepdim)
    if not isinstance(x, Value):
        return op.forward(np.asarray(x), axis, keepdims)
    if x.size == 0:
        raise ValueError(f"{op.name}() of an empty Value (shape {x.shape})")
    if axis is not None:
        _axes(axis, x.ndim)
    return _make(op, op.forward(x.data, axis, keepdims), (x,), {"axis": axis, "keepdims": keepdims})


def max(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Any:
    """Largest element over `axis` (values only, as `torch.amax`; ties share the gradient)."""
    return _extreme(Max, x, axis, keepdims, dim, keepdim)


def min(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Any:
    """Smallest element over `axis` (values only, as `torch.amin`; ties share the gradient)."""
    return _extreme(Min, x, axis, keepdims, dim, keepdim)


class LogSumExp(Function):
    """y = log(sum(exp(x))) over `axis`, via the max shift;  dy/dx = exp(x - y) = softmax(x)."""

    name = "logsumexp"

    @staticmethod
    def forward(x, axis, keepdims):
        m = x.max(axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        y = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
        return y if keepdims else y.reshape(np.sum(x, axis=axis).shape)

    @staticmethod
    def backward(g, out, x, axis, keepdims):
        kept = _kept_shape(x.shape, axis)
        return (_unreduce(g, x.shape, axis, keepdims) * exp(x - reshape(out, kept)),)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
              keepdim: bool | None = None) -> Any:
    """log(sum(exp(x))) over `axis`, computed stably (no overflow for large x)."""
    axis, keepdims = _reduction_args(axis, keepdims, dim, keepdim)
    if not isinstance(x, Value):
        return LogSumExp.forward(np.asarray(x), axis, keepdims)
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) over `axis`;  dx = y * (g - sum(g * y))."""

    name = "softmax"

    @staticmethod
    def forward(x, axis):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    @staticmethod
    def backward(g, out, x, axis):
        return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)


class LogSoftmax(Function):
    """y = x - logsumexp(x) over `axis`;  dx = g - exp(y) * sum(g)."""

    name = "log_softmax"

    @staticmethod
    def forward(x, axis):
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    @staticmethod
    def backward(g, out, x, axis):
        return (g - exp(out) * g.sum(axis=axis, keepdims=True),)


def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Any:
    """Softmax over `axis` (default the last; `dim` as in PyTorch)."""
    axis = axis if dim is None else dim
    if not isinstance(x, Value):
        return Softmax.forward(np.asarray(x), axis)
    _axes(axis, x.ndim)
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Any:
    """log(softmax(x)) over `axis`, computed stably."""
    axis = axis if dim is None else dim
    if not isinstance(x, Value):
        return LogSoftmax.forward(np.asarray(x), axis)
    _axes(axis, x.ndim)
    return LogSoftmax.apply(x, axis=axis)


# ============================================================================ shapes

class Reshape(Function):
    """y = x with a new shape;  dx = g reshaped back."""

    name = "reshape"

    @staticmethod
    def forward(x, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(g, out, x, shape):
        return (reshape(g, x.shape),)


def reshape(x: Any, *shape: Any) -> Any:
    """x with a new shape (one -1 allowed): `reshape(x, (2, 3))` or `x.reshape(2, 3)`."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not isinstance(x, Value):
        return np.reshape(x, shape)
    if shape == x.data.shape:
        return x
    try:
        data = x.data.reshape(shape)
    except ValueError:
        raise ValueError(f"cannot reshape a Value of shape {x.shape} ({x.size} elements) into {shape}") from None
    return _make(Reshape, data, (x,), {"shape": shape})


class Permute(Function):
    """y = x with its axes permuted;  dx = g with the inverse permutation."""

    name = "transpose"

    @staticmethod
    def forward(x, axes):
        return x.transpose(axes)

    @staticmethod
    def backward(g, out, x, axes):
        return (permute(g, tuple(np.argsort(axes))),)


def permute(x: Any, *axes: Any) -> Any:
    """Reorder the axes of x (`torch.permute`; NumPy's `transpose(axes)`)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not isinstance(x, Value):
        return np.transpose(x, axes)
    axes = tuple(_norm_axis(a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute: {axes} is not a permutation of the {x.ndim} axes of shape {x.shape}")
    return _make(Permute, x.data.transpose(axes), (x,), {"axes": axes})


def transpose(x: Any, dim0: int | None = None, dim1: int | None = None) -> Any:
    """Swap two axes as `torch.transpose(x, dim0, dim1)`; with no axes, reverse them all (`.T`)."""
    ndim = np.ndim(_data(x))
    if dim0 is None and dim1 is None:
        axes = tuple(reversed(range(ndim)))
    elif dim0 is None or dim1 is None:
        raise TypeError("transpose() takes two axes to swap (or none, to reverse all axes); "
                        "use permute() for a full permutation")
    else:
        axes = list(range(ndim))
        d0, d1 = _norm_axis(dim0, ndim), _norm_axis(dim1, ndim)
        axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(x, tuple(axes))


class BroadcastTo(Function):
    """y = x broadcast to `shape`;  dx = g summed back to x's shape."""

    name = "broadcast_to"

    @staticmethod
    def forward(x, shape):
        return _broadcast_array(x, shape)

    @staticmethod
    def backward(g, out, x, shape):
        return (sum_to(g, x.shape),)


def _broadcast_array(x: Any, shape: tuple) -> np.ndarray:
    """A new writable array of `shape` filled by broadcasting x (faster than np.broadcast_to for small arrays)."""
    x = np.asarray(x)
    if x.shape == shape:
        return x
    out = np.empty(shape, dtype=x.dtype)
    out[...] = x
    return out


def broadcast_to(x: Any, shape: tuple) -> Any:
    """x repeated along new or size-1 axes to `shape` (NumPy's broadcasting)."""
    shape = tuple(shape)
    if not isinstance(x, Value):
        return _broadcast_array(x, shape)
    if x.shape == shape:
        return x
    return BroadcastTo.apply(x, shape=shape)


def _sum_to_array(g: np.ndarray, shape: tuple) -> np.ndarray:
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


class SumTo(Function):
    """y = x summed over broadcast axes down to `shape` (the transpose of broadcasting);  dx = g broadcast."""

    name = "sum_to"

    @staticmethod
    def forward(x, shape):
        return _sum_to_array(x, shape)

    @staticmethod
    def backward(g, out, x, shape):
        return (broadcast_to(g, x.shape),)


def sum_to(x: Any, shape: tuple) -> Any:
    """Sum x over the axes that broadcasting to x.shape would have added or stretched, giving `shape`."""
    shape = tuple(shape)
    if not isinstance(x, Value):
        return _sum_to_array(x if isinstance(x, np.ndarray) else np.asarray(x), shape)
    if x.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


def _plain_index(index: Any) -> Any:
    """An index with Values replaced by their arrays (integer arrays, masks)."""
    if isinstance(index, tuple):
        return tuple(_data(i) for i in index)
    return _data(index)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return builtins.all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


class GetItem(Function):
    """y = x[index] (basic or integer-array indexing);  dx = zeros with g added at `index`."""

    name = "getitem"

    @staticmethod
    def forward(x, index):
        return x[index]

    @staticmethod
    def backward(g, out, x, index):
        return (index_add(g, index, x.shape),)


def getitem(x: Any, index: Any) -> Any:
    """x[index] with NumPy's indexing (slices, integers, integer arrays, boolean masks)."""
    index = _plain_index(index)
    if not isinstance(x, Value):
        return np.asarray(x)[index]
    try:
        data = x.data[index]
    except IndexError as err:
        raise IndexError(f"index {index!r} does not fit a Value of shape {x.shape}: {err}") from None
    return _make(GetItem, data, (x,), {"index": index})


class IndexAdd(Function):
    """y = zeros(shape) with x added at `index` (repeated indices add up);  dx = g[index]."""

    name = "index_add"

    @staticmethod
    def forward(x, index, shape):
        out = np.zeros(shape, dtype=x.dtype)
        if _is_basic(index):
            out[index] = x
        else:
            np.add.at(out, index, x)
        return out

    @staticmethod
    def backward(g, out, x, index, shape):
        return (getitem(g, index),)


def index_add(x: Any, index: Any, shape: tuple) -> Any:
    """A zero array of `shape` with x added at `index` (the adjoint of indexing)."""
    if not isinstance(x, Value):
        return IndexAdd.forward(np.asarray(x), index, tuple(shape))
    return IndexAdd.apply(x, index=_plain_index(index), shape=tuple(shape))


class Concat(Function):
    """y = the inputs joined along `axis`;  each input's gradient is its slice of g."""

    name = "concat"

    @staticmethod
    def forward(*xs, axis):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(g, out, *xs, axis):
        grads, start = [], 0
        lead = (slice(None),) * _norm_axis(axis, g.ndim)
        for x in xs:
            stop = start + x.shape[axis]
            grads.append(getitem(g, (*lead, slice(start, stop))))
            start = stop
        return tuple(grads)


class Stack(Function):
    """y = the inputs stacked along a new `axis`;  each input's gradient is g taken at its position."""

    name = "stack"

    @staticmethod
    def forward(*xs, axis):
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(g, out, *xs, axis):
        lead = (slice(None),) * _norm_axis(axis, g.ndim)
        return tuple(getitem(g, (*lead, i)) for i in range(len(xs)))


def _joined(op: type[Function], values: Sequence[Any], axis: int) -> Any:
    values = list(values)
    if not values:
        raise ValueError(f"{op.name}() needs at least one Value")
    if not _is_value(*values):
        return op.forward(*[np.asarray(v) for v in values], axis=axis)
    like = next(v for v in values if isinstance(v, Value))
    values = [_value(v, like) for v in values]
    try:
        data = op.forward(*[v.data for v in values], axis=axis)
    except ValueError as err:
        raise ValueError(f"{op.name}: shapes {[v.shape for v in values]} do not fit along axis {axis}: "
                         f"{err}") from None
    return _make(op, data, tuple(values), {"axis": axis})


def concat(values: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Any:
    """Join values along an existing axis (`torch.cat`).

    Example:
        >>> concat([Value([1.0]), Value([2.0, 3.0])])
        Value([1., 2., 3.])
    """
    return _joined(Concat, values, axis if dim is None else dim)


cat = concat


def stack(values: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Any:
    """Stack values of equal shape along a new axis (`torch.stack`)."""
    return _joined(Stack, values, axis if dim is None else dim)


# ============================================================================ NumPy ufuncs on Values

UFUNCS = {
    np.add: add, np.subtract: sub, np.multiply: mul, np.true_divide: div, np.negative: neg,
    np.power: pow, np.matmul: matmul, np.exp: exp, np.log: log, np.sqrt: sqrt, np.absolute: abs,
    np.tanh: tanh, np.maximum: maximum, np.minimum: minimum,
}
"""NumPy ufuncs that act on Values as the op of the same name (so `np.exp(v)` and `array * v` record)."""
