"""`Embedding`: a lookup table of vectors indexed by integers, as `torch.nn.Embedding`.

Example:
    >>> from tinygrad_lab import nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(np.array([[0, 4, 4]])).shape, emb.weight.data[0].tolist()
    ((1, 3, 3), [0.0, 0.0, 0.0])
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import embedding
from ..ops.indexing import embedding_options
from ..random import resolve_generator
from ..utils.checks import check_bool, is_integer
from . import init
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Rows of `weight` (num_embeddings, embedding_dim) at integer indices, as `torch.nn.Embedding`.

    The weight is drawn from N(0, 1) (`generator` or the global generator);
    the row `padding_idx` starts at zero and never receives a gradient.

    Example:
        >>> from tinygrad_lab import Value
        >>> emb = Embedding(5, 2, generator=0)
        >>> out = emb(np.array([1, 1, 3]))
        >>> out.sum().backward(); emb.weight.grad.data[:, 0].tolist()   # row 1 was used twice
        [0.0, 2.0, 0.0, 1.0, 0.0]
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Any = None, _freeze: bool = False, device: Any = None,
                 dtype: Any = None, generator: Any = None) -> None:
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not is_integer(value) or value < 0:
                raise ValueError(f"Embedding: {name} must be a non-negative integer, got {value!r}")
        if device not in (None, "cpu"):
            raise ValueError(f"Embedding: only device='cpu' exists here, got {device!r}")
        check_bool(_freeze, "freeze", "Embedding")
        padding_idx, _, _, scale_grad_by_freq = embedding_options(   # max_norm and norm_type kept as given
            int(num_embeddings), padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, "Embedding")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters(generator)
        else:
            array = np.asarray(getattr(_weight, "data", _weight))
            if array.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({num_embeddings}, {embedding_dim}), got "
                                 f"{array.shape}")
            self.weight = Parameter(array, requires_grad=not _freeze)

    def reset_parameters(self, generator: Any = None) -> None:
        """Weight from N(0, 1); the padding row zero."""
        init.normal_(self.weight, generator=resolve_generator(generator))
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding holding a copy of `embeddings` (2-D); frozen unless `freeze=False`.

        Example:
            >>> Embedding.from_pretrained(np.eye(3))(np.array([2])).data.tolist()
            [[0.0, 0.0, 1.0]]
        """
        shape = np.shape(getattr(embeddings, "data", embeddings))
        if len(shape) != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {shape}")
        return cls(shape[0], shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)

    def forward(self, input: Any) -> Any:
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"   # the options torch.nn.Embedding shows
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return text
