"""`torch.nn.functional` names for custom models (issue 11): convolution, pooling, normalisation,
embeddings, padding, one-hot and the smooth activations. Re-exported by `nn.functional`.

Example:
    >>> from tinygrad_lab import Value
    >>> from tinygrad_lab.nn import functional as F
    >>> F.one_hot(np.array([1, 0]), num_classes=2).tolist()
    [[0, 1], [1, 0]]
"""
from __future__ import annotations

from .._ops_extra.activation import gelu, silu
from .._ops_extra.convolution import conv1d, conv2d
from .._ops_extra.indexing import embedding, one_hot
from .._ops_extra.movement import pad
from .._ops_extra.normalization import batch_norm, layer_norm
from .._ops_extra.pooling import adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d

__all__ = [
    "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d",
    "batch_norm", "layer_norm", "embedding", "one_hot", "pad", "gelu", "silu",
]
