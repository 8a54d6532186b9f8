"""Layers: `Linear`, `Identity`, `Flatten` and `Dropout`, as in `torch.nn`.

Example:
    >>> from tinygrad_lab import Value, nn
    >>> layer = nn.Linear(3, 2)
    >>> layer.weight.shape, layer.bias.shape        # weight is (out_features, in_features)
    ((2, 3), (2,))
    >>> layer(Value(np.ones((5, 3)))).shape
    (5, 2)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import unwrap
from ..ops import linear, reshape
from ..random import resolve_generator
from ..utils.checks import check_bool, is_integer, is_real
from . import init
from .functional import dropout
from .module import Module
from .parameter import Parameter

__all__ = ["Linear", "Identity", "Flatten", "Dropout"]


def _check_size(value: Any, name: str, layer: str) -> int:
    if not is_integer(value) or value < 0:
        raise ValueError(f"{layer}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features) as in PyTorch.

    Initialised like `torch.nn.Linear`: weight and bias uniform in
    ±1/sqrt(in_features) (`kaiming_uniform_(a=sqrt(5))`), drawn from
    `generator` (a `numpy.random.Generator` or an int seed) or the global one.
    `dtype` (default float64) sets the parameters' dtype.

    Example:
        >>> from tinygrad_lab import Value
        >>> layer = Linear(2, 1, generator=0)
        >>> layer
        Linear(in_features=2, out_features=1, bias=True)
        >>> x = Value([[1.0, 2.0]])
        >>> bool(np.allclose(layer(x).data, x.data @ layer.weight.data.T + layer.bias.data))
        True
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None,
                 generator: Any = None) -> None:
        super().__init__()
        self.in_features = _check_size(in_features, "in_features", "Linear")
        self.out_features = _check_size(out_features, "out_features", "Linear")
        check_bool(bias, "bias", "Linear")
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        """Re-draw weight and bias with PyTorch's default initialisation."""
        init.default_weight_and_bias_(self.weight, self.bias, generator)

    def forward(self, input: Any) -> Any:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (a placeholder layer; extra arguments are ignored).

    Example:
        >>> from tinygrad_lab import Value
        >>> x = Value([1.0]); Identity()(x) is x
        True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Flatten(Module):
    """Merge the dimensions start_dim..end_dim into one (default: all but the batch dimension).

    Example:
        >>> from tinygrad_lab import Value
        >>> Flatten()(Value(np.zeros((2, 3, 4)))).shape
        (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for name, dim in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not is_integer(dim):
                raise TypeError(f"Flatten: {name} must be an integer (a dimension), got {type(dim).__name__} "
                                f"{dim!r}")
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Any) -> Any:
        shape = tuple(np.shape(unwrap(input)))   # a Value, an array or nested lists, as the other layers take
        ndim = len(shape)
        start, end = self.start_dim, self.end_dim
        if ndim == 0:   # as torch: a 0-d input has the one dimension 0 (or -1) to name
            if start not in (0, -1) or end not in (0, -1):
                raise IndexError(f"Flatten: dimensions start_dim={start}, end_dim={end} do not exist in a 0-d "
                                 "input (only 0 or -1 do: Flatten(0, -1) turns it into shape (1,))")
            return reshape(input, (1,))
        if not (-ndim <= start < ndim and -ndim <= end < ndim):
            raise IndexError(f"Flatten: dimensions start_dim={start}, end_dim={end} do not exist in an input "
                             f"with {ndim} dimension(s) (shape {shape})")
        start, end = start % ndim, end % ndim
        if start > end:
            raise ValueError(f"Flatten: start_dim ({self.start_dim}) must not come after end_dim "
                             f"({self.end_dim}) for an input of shape {shape}")
        merged = int(np.prod(shape[start:end + 1]))   # not -1: with a 0-size batch, reshape could not infer it
        return reshape(input, shape[:start] + (merged,) + shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """During training, zero each element with probability `p` and scale the rest by 1/(1-p).

    In eval mode (`model.eval()`) it returns its input unchanged. Masks come
    from `generator` (a `numpy.random.Generator` or an int seed, turned into a
    generator once) or, by default, the global generator (`manual_seed`).

    Example:
        >>> from tinygrad_lab import Value
        >>> drop = Dropout(0.5, generator=0)
        >>> sorted(set(drop(Value(np.ones(8))).data.tolist()))
        [0.0, 2.0]
        >>> x = Value(np.ones(8)); drop.eval()(x) is x
        True
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, generator: Any = None) -> None:
        super().__init__()
        if not is_real(p):
            raise TypeError(f"dropout probability must be a number between 0 and 1, got {type(p).__name__} {p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = float(p)
        # accepted for ported PyTorch code; Values are never changed in place
        self.inplace = check_bool(inplace, "inplace", "Dropout")
        self.generator = None if generator is None else resolve_generator(generator)

    def forward(self, input: Any) -> Any:
        if not self.training or self.p == 0.0:
            return input
        return dropout(input, self.p, True, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


# ---------------------------------------------------------------------------- reshaping layers

class Unflatten(Module):
    """Split dimension `dim` into `unflattened_size` (the inverse of Flatten), as `torch.nn.Unflatten`.

    Example:
        >>> from tinygrad_lab import Value
        >>> Unflatten(1, (2, 5))(Value(np.zeros((3, 10)))).shape
        (3, 2, 5)
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        if not is_integer(dim):
            raise TypeError(f"Unflatten: dim must be an int, got {dim!r}")
        if not isinstance(unflattened_size, (tuple, list)) or not all(is_integer(s) for s in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        if not unflattened_size:
            raise ValueError("Unflatten: unflattened_size must not be empty (give the sizes the dimension is split "
                             "into, e.g. (2, 5))")
        self.dim = int(dim)
        self.unflattened_size = tuple(int(s) for s in unflattened_size)

    def forward(self, input: Any) -> Any:
        shape = tuple(np.shape(unwrap(input)))
        ndim = len(shape)
        if not -ndim <= self.dim < ndim:
            raise IndexError(f"Unflatten: dim {self.dim} does not exist in an input of shape {shape}")
        dim = self.dim % ndim
        sizes = self.unflattened_size
        known = int(np.prod([s for s in sizes if s != -1]))
        if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != shape[dim]) or (
                sizes.count(-1) == 1 and (known == 0 or shape[dim] % known)):
            raise ValueError(f"Unflatten: unflattened_size {sizes} does not fit dimension {self.dim} of size "
                             f"{shape[dim]} (its product must equal the size; one -1 allowed)")
        if -1 in sizes:   # inferred from this dimension alone (reshape could not with a 0-size batch)
            sizes = tuple(shape[dim] // known if s == -1 else s for s in sizes)
        return reshape(input, shape[:dim] + sizes + shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ += ["Unflatten"]
