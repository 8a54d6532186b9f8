"""Matrix products: matmul (NumPy's rules, batched) and linear (x @ W^T + b, one node for `nn.Linear`).

Example:
    >>> A = Value([[1.0, 2.0]], requires_grad=True)
    >>> (A @ Value([[3.0], [4.0]])).backward(); A.grad
    Value([[3., 4.]])
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function, make_node
from ..autograd.value import Value, as_value, unwrap
from ._dispatch import _array, _is_value, _numpy_pair, _sum_array

__all__ = ["matmul", "linear", "MatMul", "Linear"]


def _swap_last(x: Any) -> Any:
    if x.ndim == 2:
        return x.T
    return permute(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))


class MatMul(Function):
    """C = A @ B (2-D or batched);  dA = dC @ B^T,  dB = A^T @ dC (batch dims reduced by the engine).

    Example:
        >>> MatMul.forward(np.eye(2), np.array([[1.0], [2.0]]))
        array([[1.],
               [2.]])
    """

    name = "matmul"

    @staticmethod
    def forward(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a @ b

    @staticmethod
    def backward(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        return matmul(g, _swap_last(b)), matmul(_swap_last(a), g)


def _same_float_dtype(op: str, a: Value, b: Value, first: str = "left operand", second: str = "right operand") -> None:
    """TypeError when two floating-point Values of a matrix product differ in dtype, or one is boolean (PyTorch
    refuses both; NumPy's product of booleans is a logical or of ands, not a sum of products)."""
    da, db = a.data.dtype, b.data.dtype
    if da.kind == "b" or db.kind == "b":
        raise TypeError(f"{op}: the {first if da.kind == 'b' else second} is boolean, and a product of booleans "
                        f"is a logical or of ands, not a sum of products (PyTorch refuses it); convert it first, "
                        f"e.g. x.astype(np.float64)")
    if da != db and da.kind == "f" and db.kind == "f":
        raise TypeError(f"{op}: expected both Values to have the same dtype, but the {first} is {da} and the "
                        f"{second} is {db}; convert one (x.float(), x.double(), model.float() or model.double())")


def matmul(a: Any, b: Any) -> Any:
    """Matrix product with NumPy's rules (1-D operands are promoted, batch dims broadcast).

    Example:
        >>> A = Value([[1.0, 2.0]], requires_grad=True)
        >>> (A @ Value([[3.0], [4.0]])).backward(); A.grad
        Value([[3., 4.]])
    """
    if not _is_value(a, b):
        return MatMul.forward(*_numpy_pair(a, b))
    like = a if isinstance(a, Value) else b
    a, b = as_value(a, like), as_value(b, like)
    _same_float_dtype("matmul", a, b)
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
    return make_node(MatMul, MatMul.forward(a.data, b.data), (a, b))


_OUTER_MIN_SIZE = 4096
_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _product(a: Any, b: Any) -> Any:
    """a @ b, for every product of `Linear`'s rules (the one place that picks the path). A large outer product of
    2-D float32/float64 arrays (inner dimension 1: a last layer with one output, one input feature, a batch of
    one) is computed as a broadcast product, which is 2-5x faster than OpenBLAS's GEMM with k = 1 and gives the
    same numbers bit for bit: each entry is one rounded product either way, and `+= 0.0` gives a zero product
    the sign the GEMM's zero-started sum gives it (+0).

    Example:
        >>> _product(np.full((64, 1), 2.0), np.full((1, 64), -0.5))[0, :3]
        array([-1., -1., -1.])
    """
    if (a.shape[-1] == 1 and a.ndim == 2 and b.ndim == 2 and a.shape[0] * b.shape[1] >= _OUTER_MIN_SIZE
            and isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
            and a.dtype in _BLAS_FLOATS):
        out = np.multiply(a, b)
        out += 0.0
        return out
    return a @ b


class Linear(Function):
    """y = x @ W^T + b (one node for `nn.Linear`);  dx = dy @ W,  dW = dy^T @ x,  db = sum of dy.

    Example:
        >>> Linear.forward(np.array([[1.0, 2.0]]), np.array([[1.0, 1.0]]), np.array([0.5]))
        array([[3.5]])
    """

    name = "linear"
    needs_input_grad_hint = True

    @staticmethod
    def forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
        y = _product(x, weight.T)
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(g: Any, out: Any, x: Any, weight: Any, bias: Any = None,
                 needs_input_grad: Sequence[bool] | None = None) -> tuple[Any, ...]:
        gx = _product(g, weight) if needs_input_grad is None or needs_input_grad[0] else None   # not for a first layer
        if x.ndim == 2:   # arrays: ndarray.sum's Python wrapper costs more than the sum of a small batch
            return gx, _product(g.T, x), _sum_array(g, 0, False) if isinstance(g, np.ndarray) else g.sum(axis=0)
        items = math.prod(x.shape[:-1])   # not -1: a reshape cannot infer it when x has no features (x.size 0)
        rows = reshape(g, (items, g.shape[-1]))
        return gx, _product(rows.T, reshape(x, (items, x.shape[-1]))), rows.sum(axis=0)


def _check_shapes(xshape: tuple[int, ...], wshape: tuple[int, ...]) -> None:
    """ValueError unless the weight is 2-D (out_features, in_features) and the input's last dimension is
    in_features (a weight of another rank would broadcast into a result of the wrong shape, silently)."""
    if len(wshape) != 2:
        raise ValueError(f"linear: the weight must be 2-D (out_features, in_features), got shape {wshape}; a 1-D "
                         "weight of in_features is w.reshape(1, -1) (the output then has a last axis of size 1)")
    if xshape[-1:] != wshape[1:]:
        raise ValueError(f"linear: input has {xshape[-1] if xshape else 'no'} features (shape {xshape}), but the "
                         f"weight of shape {wshape} expects {wshape[1]}")


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """x @ weight.T + bias, as `torch.nn.functional.linear` (weight has shape (out, in)).

    Example:
        >>> linear(Value([[1.0, 2.0]]), Value([[1.0, 1.0]]), Value([0.5]))
        Value([[3.5]])
    """
    if not (isinstance(x, Value) and isinstance(weight, Value) and (bias is None or isinstance(bias, Value))):
        if not _is_value(x, weight, bias):
            x, weight = _array(x), _array(weight)
            _check_shapes(x.shape, weight.shape)
            if bias is not None:
                bias = _array(bias)
                if bias.shape != weight.shape[:1] or bias.dtype != weight.dtype or x.dtype != weight.dtype:
                    return _linear_plus(x, weight, bias)   # NumPy's broadcasting and dtype promotion
            return Linear.forward(x, weight, bias)
        like = next(v for v in (weight, x, bias) if isinstance(v, Value))
        x, weight = as_value(x, like), as_value(weight, like)
        bias = None if bias is None else as_value(bias, like)
    wdtype = weight.data.dtype
    if x.data.dtype is not wdtype or wdtype.char == "?":   # the usual case is one float dtype: checks otherwise
        _same_float_dtype("linear", x, weight, "input", "weight")
    mixed_bias = bias is not None and bias.data.dtype is not wdtype
    if mixed_bias:
        _same_float_dtype("linear", bias, weight, "bias", "weight")
    _check_shapes(x.data.shape, weight.data.shape)
    if bias is None:
        return make_node(Linear, Linear.forward(x.data, weight.data), (x, weight))
    if mixed_bias or bias.data.shape != weight.data.shape[:1]:   # (an integer product plus a float bias: no
        return _linear_plus(x, weight, bias)                      # in-place add into the integer result)
    return make_node(Linear, Linear.forward(x.data, weight.data, bias.data), (x, weight, bias))


def _linear_plus(x: Any, weight: Any, bias: Any) -> Any:
    """x @ weight.T + bias for a bias that is not one number per output (0-d, or broadcast over the batch, as
    PyTorch allows): the product's node and an ordinary add, which broadcasts (and undoes it in the gradient)."""
    y = linear(x, weight)
    bias_shape = tuple(np.shape(unwrap(bias)))
    shapes = [tuple(y.shape)]
    if y.ndim > 2:   # PyTorch adds the bias to the product of the input's rows: (batch items, out_features)
        shapes.append((int(np.prod(y.shape[:-1])), y.shape[-1]))
    try:
        fits = all(np.broadcast_shapes(bias_shape, shape) == shape for shape in shapes)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"linear: the bias of shape {bias_shape} does not broadcast to the output shape "
                         f"{tuple(y.shape)}; pass one bias per output feature, shape ({y.shape[-1]},)")
    return add(y, bias)


from .arithmetic import add  # noqa: E402
from .movement import permute, reshape  # noqa: E402  (the backward rules use these ops)
