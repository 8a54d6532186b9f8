"""Elementwise arithmetic: add, sub, mul, div, neg and pow (with broadcasting).

The forwards of Add, Sub, Mul, Div and Neg are Python's operators (NumPy's
ufuncs on arrays, NumPy's fast scalar math on 0-d values); `Value`'s
operators call them. Broadcasting is undone by the engine, so these rules
never look at shapes.

Example:
    >>> x = Value([1.0, 2.0], requires_grad=True)
    >>> y = (x * x + 1.0 / x).sum()
    >>> y.backward(); x.grad            # 2x - 1/x^2
    Value([1.  , 3.75])
"""
from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.value import Value, unwrap
from ._dispatch import _array, _binary, _is_value, _numpy_pair

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "Add", "Sub", "Mul", "Div", "Neg", "Pow", "PowValueExponent"]


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1 (broadcasting is reduced by the engine).

    Example:
        >>> Add.forward(np.array([1.0]), np.array([2.0]))
        array([3.])
    """

    name = "add"
    forward = staticmethod(operator.add)

    @staticmethod
    def backward(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        return g, g


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1.

    Example:
        >>> Sub.forward(np.array([1.0]), np.array([2.0]))
        array([-1.])
    """

    name = "sub"
    forward = staticmethod(operator.sub)

    @staticmethod
    def backward(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        return g, -g


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a.

    Example:
        >>> Mul.forward(np.array([3.0]), np.array([2.0]))
        array([6.])
    """

    name = "mul"
    forward = staticmethod(operator.mul)

    @staticmethod
    def backward(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        return g * b, g * a


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b^2 = -z/b.

    Example:
        >>> Div.forward(np.array([3.0]), np.array([2.0]))
        array([1.5])
    """

    name = "div"
    forward = staticmethod(operator.truediv)

    @staticmethod
    def backward(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        gb = g / b
        return gb, -gb * out


class Neg(Function):
    """z = -a;  dz/da = -1.

    Example:
        >>> Neg.forward(np.array([3.0]))
        array([-3.])
    """

    name = "neg"
    forward = staticmethod(operator.neg)

    @staticmethod
    def backward(g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        return (-g,)


def add(a: Any, b: Any) -> Any:
    """a + b with broadcasting; d/da = 1, d/db = 1.

    Example:
        >>> add(Value([1.0]), 2.0)
        Value([3.])
    """
    return _binary(Add, a, b) if _is_value(a, b) else Add.forward(*_numpy_pair(a, b))


def sub(a: Any, b: Any) -> Any:
    """a - b with broadcasting; d/da = 1, d/db = -1.

    Example:
        >>> sub(Value([1.0]), 2.0)
        Value([-1.])
    """
    return _binary(Sub, a, b) if _is_value(a, b) else Sub.forward(*_numpy_pair(a, b))


def mul(a: Any, b: Any) -> Any:
    """a * b with broadcasting; d/da = b, d/db = a.

    Example:
        >>> mul(Value([3.0]), 2.0)
        Value([6.])
    """
    return _binary(Mul, a, b) if _is_value(a, b) else Mul.forward(*_numpy_pair(a, b))


def div(a: Any, b: Any) -> Any:
    """a / b with broadcasting; d/da = 1/b, d/db = -a/b^2.

    Example:
        >>> div(Value([3.0]), 2.0)
        Value([1.5])
    """
    return _binary(Div, a, b) if _is_value(a, b) else Div.forward(*_numpy_pair(a, b))


def neg(a: Any) -> Any:
    """-a; d/da = -1.

    Example:
        >>> neg(Value([3.0]))
        Value([-3.])
    """
    return Neg.apply(a) if isinstance(a, Value) else Neg.forward(_array(a))


class Pow(Function):
    """y = x ** p for a constant exponent p (a static argument);  dy/dx = p * x ** (p - 1), and 0 where p = 0
    (also at x = 0, where the formula gives 0 * inf; PyTorch's rule).

    Example:
        >>> Pow.forward(np.array([3.0]), exponent=2)
        array([9.])
    """

    name = "pow"

    @staticmethod
    def forward(x: Any, exponent: Any) -> np.ndarray:
        return x ** exponent

    @staticmethod
    def backward(g: Any, out: Any, x: Any, exponent: Any) -> tuple[Any, ...]:
        if np.ndim(exponent) == 0:
            return (g * exponent * pow(x, exponent - 1),) if exponent != 0 else (where(True, 0.0, g),)
        zero = np.equal(exponent, 0)           # x ** (p - 1) there would be inf at x = 0: use x ** 0 = 1 (any x)
        return (where(zero, 0.0, g * exponent * pow(x, np.where(zero, 0, exponent - 1))),)


class PowValueExponent(Function):
    """y = a ** b with a differentiable exponent b;  dy/da = b * a ** (b - 1) (0 where b = 0),  dy/db = y * log(a).

    Where a == 0 the exponent's gradient is 0, and where b == 0 the base's (0 ** -1 would make it nan at
    a == 0), as in PyTorch.

    Example:
        >>> PowValueExponent.forward(np.array([2.0]), np.array([3.0]))
        array([8.])
    """

    name = "pow_value_exponent"

    @staticmethod
    def forward(a: Any, b: Any) -> np.ndarray:
        return a ** b

    @staticmethod
    def backward(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        log_a = log(where(unwrap(a) == 0, 1.0, a))
        zero = (unwrap(a) == 0) & (unwrap(b) == 0)     # 0 * 0 ** -1 = 0 * inf: the gradient is 0 there
        if not zero.any():                               # (elsewhere the formula is 0 at b = 0 by itself and
            return g * b * pow(a, b - 1), g * out * log_a  # stays differentiable in b)
        return where(zero, 0.0, g * b * pow(a, where(zero, 1.0, b - 1))), g * out * log_a


def pow(x: Any, exponent: Any) -> Any:
    """x ** exponent. A constant exponent (number, array or Value without grad) is a static argument.

    Example:
        >>> x = Value(3.0, requires_grad=True)
        >>> (x ** 2).backward(); float(x.grad.data)
        6.0
    """
    if not isinstance(exponent, (Value, numbers.Number, np.ndarray, np.generic, list, tuple)):
        raise TypeError(f"the exponent must be a number, an array or a Value, got {type(exponent).__name__} "
                        f"{exponent!r}")
    if isinstance(exponent, Value) and exponent.requires_grad:
        return _binary(PowValueExponent, x, exponent)
    if not isinstance(x, Value):
        return Pow.forward(*_numpy_pair(x, unwrap(exponent)))
    p = unwrap(exponent)
    if isinstance(p, (list, tuple)):
        p = np.asarray(p)
    if (isinstance(p, (np.ndarray, np.generic)) and not isinstance(exponent, Value) and x.data.dtype.kind == "f"
            and p.dtype.kind in "biuf"):
        p = p.astype(x.data.dtype)       # a constant exponent takes the Value's dtype (docs/engine.md, dtypes);
    return Pow.apply(x, exponent=p)      # a Value exponent promotes as NumPy does, as between any two Values


from .selection import where  # noqa: E402  (the backward rules use these ops)
from .unary import log  # noqa: E402
