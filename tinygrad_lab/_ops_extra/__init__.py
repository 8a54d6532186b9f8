"""Ops added for custom models (issue 11): statistics, movement, indexing, smooth activations, convolution,
pooling and normalisation. Each file is one op family; `value_methods` attaches the tensor-style methods
(`x.var()`, `x.gather(...)`, ...) to `Value`.

These modules will move into the `tinygrad_lab.ops` package unchanged (only their import lines change).

Example:
    >>> from tinygrad_lab import Value
    >>> Value([[1.0, 2.0], [3.0, 5.0]]).var(dim=1)
    Value([0.5, 2. ])
"""
from . import value_methods as _value_methods  # noqa: F401  (attaches the Value methods)
from .activation import erf, gelu, silu
from .convolution import conv1d, conv2d, conv2d_input, conv2d_weight
from .indexing import embedding, gather, masked_fill, one_hot, scatter_add
from .movement import chunk, expand, flip, pad, repeat, split
from .normalization import batch_norm, layer_norm
from .pooling import adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .statistics import argmax, argmin, cumsum, std, var

__all__ = [
    "var", "std", "cumsum", "argmax", "argmin",
    "flip", "repeat", "expand", "split", "chunk", "pad",
    "gather", "scatter_add", "masked_fill", "one_hot", "embedding",
    "erf", "gelu", "silu",
    "conv1d", "conv2d", "conv2d_input", "conv2d_weight",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d",
    "batch_norm", "layer_norm",
]
