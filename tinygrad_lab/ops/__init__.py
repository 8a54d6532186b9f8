"""Every differentiable op, one file per family; each op is a `Function` class and a lowercase function.

Each op lives in one place: its `Function` class holds its one forward (on
NumPy arrays) and its backward rule; the lowercase function and the `Value`
method only dispatch to it. Backward rules are written with operators and the
lowercase functions, which accept NumPy arrays as well as `Value`s: an
ordinary backward runs a rule on arrays (fast), `create_graph=True` runs the
same rule on Values (so the gradient is itself differentiable). Broadcasting
is undone once, by the engine, so elementwise rules never look at shapes.

Every lowercase function takes Values or arrays: with a Value among its inputs
it records the op; with arrays only it is plain NumPy.

Files: `arithmetic` (add, sub, mul, div, neg, pow), `unary` (exp, log, sqrt,
abs, tanh, sigmoid, log_sigmoid, relu, leaky_relu, clip, cast), `selection`
(maximum, minimum, where), `reduce` (sum, mean, max, min, logsumexp),
`movement` (reshape, permute, transpose, broadcast_to, sum_to, concat, stack),
`indexing` (getitem, index_add), `linalg` (matmul, linear), `softmax`
(softmax, log_softmax), `loss` (the loss ops behind `nn.functional`),
`statistics` (var, std, cumsum, argmax, argmin), `activation` (erf, gelu,
silu), `convolution` (conv1d, conv2d and their adjoints), `pooling` (max,
average and adaptive average pooling), `normalization` (batch_norm,
layer_norm). `indexing` also holds gather, scatter_add, masked_fill, one_hot
and embedding; `movement` also flip, repeat, expand, split, chunk and pad.

Example:
    >>> x = Value([1.0, 2.0], requires_grad=True)
    >>> y = exp(x).sum()
    >>> y.backward(); x.grad.data.round(4)
    array([2.7183, 7.3891])
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .activation import erf, gelu, silu
from .arithmetic import Add, Div, Mul, Neg, Pow, PowValueExponent, Sub, add, div, mul, neg, pow, sub
from .convolution import conv1d, conv2d, conv2d_input, conv2d_weight
from .indexing import GetItem, IndexAdd, embedding, gather, getitem, index_add, masked_fill, one_hot, scatter_add
from .linalg import Linear, MatMul, linear, matmul
from .loss import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropy, MSELoss
from .movement import (
    BroadcastTo,
    Concat,
    Permute,
    Reshape,
    Stack,
    SumTo,
    broadcast_to,
    cat,
    chunk,
    concat,
    expand,
    flip,
    pad,
    permute,
    repeat,
    reshape,
    split,
    stack,
    sum_to,
    transpose,
)
from .normalization import batch_norm, layer_norm
from .pooling import adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .reduce import LogSumExp, Max, Mean, Min, Sum, logsumexp, max, mean, min, sum
from .selection import Maximum, Minimum, Where, maximum, minimum, where
from .softmax import LogSoftmax, Softmax, log_softmax, softmax
from .statistics import argmax, argmin, cumsum, std, var
from .unary import (
    Abs,
    Cast,
    Clip,
    Exp,
    LeakyReLU,
    Log,
    LogSigmoid,
    ReLU,
    Sigmoid,
    Sqrt,
    Tanh,
    abs,
    cast,
    clip,
    exp,
    leaky_relu,
    log,
    log_sigmoid,
    relu,
    sigmoid,
    sqrt,
    tanh,
)

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "exp", "log", "sqrt", "abs", "tanh", "sigmoid",
    "log_sigmoid", "relu", "leaky_relu", "clip", "maximum", "minimum", "where", "sum", "mean", "max", "min",
    "reshape", "permute", "transpose", "getitem", "index_add", "broadcast_to", "sum_to", "concat", "cat",
    "stack", "softmax", "log_softmax", "logsumexp", "linear", "cast", "UFUNCS",
    "var", "std", "cumsum", "argmax", "argmin", "flip", "repeat", "expand", "split", "chunk", "pad",
    "gather", "scatter_add", "masked_fill", "one_hot", "embedding", "erf", "gelu", "silu",
    "conv1d", "conv2d", "conv2d_input", "conv2d_weight", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool2d", "batch_norm", "layer_norm",
    # the op classes
    "Add", "Sub", "Mul", "Div", "Neg", "Pow", "PowValueExponent", "MatMul", "Linear", "Exp", "Log", "Sqrt",
    "Abs", "Tanh", "Sigmoid", "LogSigmoid", "ReLU", "LeakyReLU", "Clip", "Cast", "Maximum", "Minimum", "Where",
    "Sum", "Mean", "Max", "Min", "LogSumExp", "Softmax", "LogSoftmax", "Reshape", "Permute", "BroadcastTo",
    "SumTo", "GetItem", "IndexAdd", "Concat", "Stack", "MSELoss", "BinaryCrossEntropy",
    "BinaryCrossEntropyWithLogits", "CrossEntropy",
]

UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: add, np.subtract: sub, np.multiply: mul, np.true_divide: div, np.negative: neg,
    np.power: pow, np.matmul: matmul, np.exp: exp, np.log: log, np.sqrt: sqrt, np.absolute: abs,
    np.tanh: tanh, np.maximum: maximum, np.minimum: minimum,
}
"""NumPy ufuncs that act on Values as the op of the same name (so `np.exp(v)` and `array * v` record)."""
