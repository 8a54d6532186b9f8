"""Normalisation: `batch_norm` (training with running statistics, or eval) and `layer_norm`, as in PyTorch.

Both normalise x over some axes to zero mean and unit (biased) variance,
x_hat = (x - mean) / sqrt(var + eps), then scale and shift: y = x_hat * weight + bias.
In training mode `batch_norm` is one op over the batch (and spatial) axes and
updates the running statistics in place (running_var with the unbiased
variance, as PyTorch); in eval mode it is an affine map with the running
statistics. The gradient rule recomputes the statistics with ops, so it is
itself differentiable.

Example:
    >>> x = Value([[1.0, 2.0], [3.0, 6.0]], requires_grad=True)
    >>> layer_norm(x, (2,)).data.round(4).tolist()
    [[-1.0, 1.0], [-1.0, 1.0]]
    >>> mean, var = np.zeros(2), np.ones(2)
    >>> y = batch_norm(x, mean, var, training=True, momentum=0.5)
    >>> mean.tolist(), var.tolist()        # half of the batch mean / unbiased variance
    ([1.0, 2.0], [1.5, 4.5])
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.value import Value, as_value, unwrap
from ..utils.capture import as_array, as_recorded
from ..utils.checks import is_integer, is_real
from ._dispatch import _array
from .movement import reshape
from .reduce import mean
from .reduce import sum as _sum
from .unary import sqrt

__all__ = ["batch_norm", "layer_norm"]


def _normalized(x: np.ndarray, axes: tuple, eps: float) -> np.ndarray:
    if x.dtype.char == "e":   # float16: statistics in float32, as PyTorch (a deviation of 256 squared is inf)
        return _normalized(x.astype(np.float32), axes, eps).astype(np.float16)
    m = x.mean(axis=axes, keepdims=True)
    centred = x - m
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / np.sqrt(var + eps)


def _affine(xhat: np.ndarray, weight: Any, bias: Any, shape: tuple) -> np.ndarray:
    if weight is not None:
        xhat = xhat * weight.reshape(shape)
    if bias is not None:
        xhat = xhat + bias.reshape(shape)
    return xhat


def _backward(g: Any, x: Any, weight: Any, bias: Any, axes: tuple, param_axes: tuple, shape: tuple,
              eps: float) -> tuple:
    """Gradients of y = x_hat * w + b in x, w, b, written with ops (differentiable again)."""
    if isinstance(x, np.ndarray) and x.dtype.char == "e":   # float16 in float32, as the forward (squares overflow
        wide = _backward(as_array(g).astype(np.float32), x.astype(np.float32),   # at 256; as_array: jit records it)
                         None if weight is None else as_array(weight).astype(np.float32), bias, axes, param_axes,
                         shape, eps)
        return tuple(grad.astype(np.float16) for grad in wide)
    centred = x - mean(x, axes, keepdims=True)
    invstd = 1 / sqrt(mean(centred * centred, axes, keepdims=True) + eps)
    xhat = centred * invstd
    dxhat = g * reshape(weight, shape) if weight is not None else g
    gx = invstd * (dxhat - mean(dxhat, axes, keepdims=True) - xhat * mean(dxhat * xhat, axes, keepdims=True))
    grads = [gx]
    if weight is not None:
        grads.append(reshape(_sum(g * xhat, axis=param_axes), weight.shape))
    if bias is not None:
        grads.append(reshape(_sum(g, axis=param_axes), bias.shape))
    return tuple(grads)


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over the batch (and spatial) axes;
    dx = invstd (dxhat - mean(dxhat) - x_hat mean(dxhat x_hat)) with dxhat = g weight,
    dweight = sum(g x_hat), dbias = sum(g) (sums over the same axes)."""

    name = "batch_norm"

    @staticmethod
    def forward(x: np.ndarray, weight: np.ndarray | None = None, bias: np.ndarray | None = None, *,
                axes: tuple[int, ...], shape: tuple[int, ...], eps: float, has_weight: bool) -> np.ndarray:
        if not has_weight:
            weight, bias = None, weight
        return _affine(_normalized(x, axes, eps), weight, bias, shape)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, weight: Any = None, bias: Any = None, *, axes: tuple[int, ...],
                 shape: tuple[int, ...], eps: float, has_weight: bool) -> tuple[Any, ...]:
        if not has_weight:
            weight, bias = None, weight
        return _backward(g, x, weight, bias, axes, axes, shape, eps)


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over the last axes of each sample;
    dx = invstd (dxhat - mean(dxhat) - x_hat mean(dxhat x_hat)) with dxhat = g weight,
    dweight = sum over the leading axes of g x_hat, dbias = sum of g."""

    name = "layer_norm"

    @staticmethod
    def forward(x: np.ndarray, weight: np.ndarray | None = None, bias: np.ndarray | None = None, *,
                axes: tuple[int, ...], eps: float, has_weight: bool) -> np.ndarray:
        if not has_weight:
            weight, bias = None, weight
        return _affine(_normalized(x, axes, eps), weight, bias, x.shape[x.ndim - len(axes):])

    @staticmethod
    def backward(g: Any, out: Any, x: Any, weight: Any = None, bias: Any = None, *, axes: tuple[int, ...], eps: float,
                 has_weight: bool) -> tuple[Any, ...]:
        if not has_weight:
            weight, bias = None, weight
        lead = tuple(range(x.ndim - len(axes)))
        return _backward(g, x, weight, bias, axes, lead, tuple(x.shape[x.ndim - len(axes):]), eps)


def _apply(op: type[Function], x: Any, weight: Any, bias: Any, **args: Any) -> Any:
    """Run a normalisation op: the affine parameters that are given follow x as inputs."""
    params = [p for p in (weight, bias) if p is not None]
    args["has_weight"] = weight is not None
    if not any(isinstance(v, Value) for v in (x, *params)):
        return op.forward(_array(x), *[_array(p) for p in params], **args)
    like = next(v for v in (x, *params) if isinstance(v, Value))
    return op.apply(as_value(x, like), *[as_value(p, like) for p in params], **args)


def check_eps(fn: str, eps: Any) -> float:
    """eps as a float, or a clear error: a finite number >= 0 (0 allowed, as PyTorch)."""
    if not is_real(eps):
        raise TypeError(f"{fn}: eps must be a number (e.g. 1e-5), got {type(eps).__name__} {eps!r}")
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"{fn}: eps must be a finite number >= 0 (it is added to the variance), got {eps!r}")
    return float(eps)


def check_momentum(fn: str, momentum: Any) -> None:
    """momentum: None or a number in [0, 1], or a clear error."""
    if momentum is None:
        return
    if not is_real(momentum):
        raise TypeError(f"{fn}: momentum must be a number in [0, 1] or None, got {type(momentum).__name__} "
                        f"{momentum!r}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"{fn}: momentum must be in [0, 1] or None (cumulative average), got {momentum!r}")


def _check_param(fn: str, name: str, value: Any, shape: tuple) -> None:
    if value is not None and tuple(np.shape(unwrap(value))) != tuple(shape):
        raise ValueError(f"{fn}: {name} must have shape {tuple(shape)}, got {tuple(np.shape(unwrap(value)))}")


def batch_norm(input: Any, running_mean: np.ndarray | None, running_var: np.ndarray | None, weight: Any = None,
               bias: Any = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Any:
    """Batch normalisation of `input` (N, C, ...) per channel C, as `F.batch_norm`.

    `training=True` uses the batch statistics and, when given (both or neither,
    as PyTorch), updates `running_mean` / `running_var` (floating-point NumPy
    arrays, changed in place) by `momentum`, a number in [0, 1]:
    r = (1 - momentum) r + momentum * batch statistic (the unbiased variance for
    running_var). `training=False` uses the running statistics (integer input
    is normalised in float64). An empty input gives an empty output in either mode,
    without running statistics and leaving them unchanged (as PyTorch).

    Example:
        >>> x = Value([[0.0], [2.0]])
        >>> batch_norm(x, None, None, training=True).data.round(4).ravel().tolist()
        [-1.0, 1.0]
    """
    fn = "batch_norm"
    eps = check_eps(fn, eps)
    if training:
        if momentum is None:
            raise TypeError(f"{fn}: momentum must be a number in [0, 1], got None (a BatchNorm layer's "
                            "momentum=None, the cumulative average, is passed as 1 / num_batches_tracked)")
        check_momentum(fn, momentum)
    shape = tuple(np.shape(unwrap(input)))
    if len(shape) < 2:
        raise ValueError(f"{fn}: input must be (N, C) or (N, C, ...) with channels on axis 1, got shape {shape}")
    c = shape[1]
    for name, value in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
        _check_param(fn, name, value, (c,))
    axes = (0, *range(2, len(shape)))
    bshape = (1, c) + (1,) * (len(shape) - 2)
    empty = math.prod(shape) == 0   # an empty output in either mode, statistics untouched (as PyTorch)
    if not training:
        if (running_mean is None or running_var is None) and not empty:
            raise ValueError(f"{fn}: running_mean and running_var are needed when training=False")
        return _eval_map(input, None if empty else running_mean, None if empty else running_var, weight, bias,
                         bshape, eps)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{fn}: running_mean and running_var must both be given or both be None when training")
    count = math.prod(shape[a] for a in axes)
    if count == 1:
        raise ValueError(f"{fn}: expected more than 1 value per channel when training, got input of shape {shape}")
    if count == 0:   # no value per channel: nothing to normalise, nor to learn the statistics from
        return _eval_map(input, None, None, weight, bias, bshape, eps)
    if running_mean is not None:
        means = _running_array(fn, "running_mean", running_mean)       # both checked before either changes
        variances = _running_array(fn, "running_var", running_var)
        x = as_array(unwrap(input))   # a jit capture's traced input stays traced: the statistics are recorded
        _update(means, x.mean(axis=axes), momentum)
        _update(variances, x.var(axis=axes, ddof=1), momentum)
    return _apply(BatchNorm, input, weight, bias, axes=axes, shape=bshape, eps=float(eps))


def _eval_map(input: Any, running_mean: Any, running_var: Any, weight: Any, bias: Any, bshape: tuple,
              eps: float) -> Any:
    """(input - running_mean) / sqrt(running_var + eps) * weight + bias, per channel; for an empty input (no
    statistics: None) mean 0 and factor 1, an empty result whose weight and bias get gradients 0, as in PyTorch."""
    data = np.asarray(unwrap(input))    # integer input: float64 statistics (as in training), not truncated
    dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float64)
    if running_mean is None:
        rm, invstd = np.zeros(bshape, dtype), np.ones(bshape, dtype)
    else:
        rm = _statistic(running_mean, dtype).reshape(bshape)
        invstd = (1 / np.sqrt(_statistic(running_var, dtype) + eps)).reshape(bshape)
    y = (input - rm) * invstd     # a Value, or an array for arrays and nested lists
    if weight is not None:
        y = y * reshape(weight, bshape)
    if bias is not None:
        y = y + reshape(bias, bshape)
    return y


def _running_array(fn: str, name: str, running: Any) -> np.ndarray:
    """The array a running statistic is updated in, or a clear error (before any statistic changes)."""
    array = running.data if isinstance(running, Value) else running
    if not isinstance(array, np.ndarray) or not array.flags.writeable or array.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be a writable floating-point NumPy array (it is updated in place)")
    return array


def _statistic(running: Any, dtype: np.dtype) -> np.ndarray:
    """A running statistic as `dtype`, read through a jit capture when one runs (not frozen at its value then)."""
    return as_recorded(np.asarray(unwrap(running))).astype(dtype, copy=False)


def _update(array: np.ndarray, batch: np.ndarray, momentum: float) -> None:
    array = as_recorded(array)   # in place, recorded by a jit capture: every replay updates the statistic
    array *= 1 - momentum
    array += momentum * batch.astype(array.dtype)


def layer_norm(input: Any, normalized_shape: int | Sequence[int], weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Any:
    """Layer normalisation over the last len(normalized_shape) axes of each sample, as `F.layer_norm`.

    Example:
        >>> layer_norm(Value([[1.0, 3.0]]), 2).data.round(4).tolist()
        [[-1.0, 1.0]]
    """
    fn = "layer_norm"
    eps = check_eps(fn, eps)
    if is_integer(normalized_shape):
        size: int = normalized_shape  # type: ignore[assignment]  # is_integer held (mypy cannot see it)
        norm_shape: tuple = (int(size),)
    elif isinstance(normalized_shape, (tuple, list)) and all(is_integer(s) for s in normalized_shape):
        norm_shape = tuple(int(s) for s in normalized_shape)
    else:
        raise TypeError(f"{fn}: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}")
    shape = tuple(np.shape(unwrap(input)))
    k = len(norm_shape)
    if k == 0 or shape[len(shape) - k:] != norm_shape:   # (a shorter input's tail is shorter than norm_shape)
        raise ValueError(f"{fn}: the input shape {shape} must end with normalized_shape {norm_shape}")
    _check_param(fn, "weight", weight, norm_shape)
    _check_param(fn, "bias", bias, norm_shape)
    axes = tuple(range(len(shape) - k, len(shape)))
    return _apply(LayerNorm, input, weight, bias, axes=axes, eps=float(eps))
