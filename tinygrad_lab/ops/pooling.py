"""Pooling: `max_pool1d/2d`, `avg_pool1d/2d` and `adaptive_avg_pool2d`, with PyTorch's numbers and conventions.

Windows are strided views of the padded input (no Python loop over the batch
or pixels). Max pooling pads with -inf and sends each window's gradient to its
first maximum among the input's elements, or its last NaN (PyTorch's choices); average pooling divides by the
window size counted PyTorch's way (`count_include_pad`, `divisor_override`,
`ceil_mode`); its gradient is a transposed convolution with a window of ones,
so gradients of gradients come free. Adaptive average pooling averages the
windows of one axis, then of the other (slices and means, so an inf or nan stays in its own windows).

Example:
    >>> x = Value(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    >>> y = max_pool2d(x, 2)
    >>> y.data[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    >>> y.sum().backward(); x.grad.data[0, 0].tolist()
    [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.value import Value, unwrap
from ..utils.checks import check_bool, int_tuple, is_integer
from .convolution import _conv2d_input, _pad2d, _windows
from .indexing import scatter_add
from .movement import concat, pad_widths, reshape
from .reduce import mean

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d"]


def _pool_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool, fn: str) -> tuple[int, int]:
    """(output size, padding after) along one axis, PyTorch's rule: floor((size + 2p - span) / s) + 1 windows,
    or with ceil_mode the ceiling, less a last window that would start in the right padding (every window
    starts inside the input or the left padding). A window may then run past the padded input: it pools
    what it covers (a partial window), as in PyTorch. Fewer than one window is an error."""
    span = d * (k - 1) + 1
    out = (size + 2 * p - span + ((s - 1) if ceil_mode else 0)) // s + 1   # // rounds down, as PyTorch's div_rtn
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    if out < 1:
        partial = not ceil_mode and size + 2 * p - span > -s   # ceil_mode=True would pool a partial window
        raise ValueError(f"{fn}: the (dilated) window of size {span} is larger than the padded input of size "
                         f"{size + 2 * p}, so there is no output: use a smaller kernel_size or dilation"
                         + (", or ceil_mode=True to pool the partial window" if partial else ""))
    after = max((out - 1) * s + span - size - p, 0)
    return out, after


def _geometry(fn: str, shape: tuple, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool) -> dict:
    kernel = int_tuple(kernel_size, 2, "kernel_size", fn, 1)
    ceil_mode = check_bool(ceil_mode, "ceil_mode", fn)
    stride_ = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else \
        int_tuple(stride, 2, "stride", fn, 1)
    pad = int_tuple(padding, 2, "padding", fn, 0)
    dil = int_tuple(dilation, 2, "dilation", fn, 1)
    for p, k in zip(pad, kernel):
        if p > k // 2:
            raise ValueError(f"{fn}: padding ({p}) should be at most half of the kernel size ({k}), as PyTorch "
                             "requires")
    sizes = [_pool_size(size, k, s, p, d, ceil_mode, fn) for size, k, s, p, d in zip(shape[2:], kernel, stride_, pad,
                                                                                     dil)]
    return {"kernel": kernel, "stride": stride_, "dilation": dil,
            "padding": ((pad[0], sizes[0][1]), (pad[1], sizes[1][1])), "out": (sizes[0][0], sizes[1][0])}


def _max_array(x: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple,
               out_size: tuple) -> np.ndarray:
    """The window maxima: one np.maximum per kernel offset over strided slices (NaN wins, as in PyTorch)."""
    xp = _pad2d(x, padding, -np.inf)
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_size
    out = None
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            part = xp[:, :, rows, j * dw: j * dw + sw * (wo - 1) + 1: sw]
            out = part.copy() if out is None else np.maximum(out, part, out=out)
    assert out is not None  # the kernel has at least one offset
    return out


def _max_hits(x: np.ndarray, out: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple,
              out_size: tuple) -> Iterator[tuple[int, slice, slice, np.ndarray]]:
    """(offset i * kw + j, rows, columns, hit) per kernel offset; hit (N, C, Ho, Wo) marks the windows whose
    maximum `out` sits at that offset in the padded input, by PyTorch's rule: the first element equal to it
    (the padding is NaN here and equals nothing, so a window of -inf takes its first own element), or, for a
    NaN maximum, the window's last NaN (found from the end, after the other windows)."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_size
    offsets = [(i * kw + j, slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
                slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)) for i in range(kh) for j in range(kw)]
    xp = _pad2d(x, padding, np.nan)
    taken = np.zeros(out.shape, dtype=bool)
    for offset, rows, cols in offsets:
        hit = xp[:, :, rows, cols] == out
        hit &= ~taken
        taken |= hit
        yield offset, rows, cols, hit
    nan = np.isnan(out)
    if nan.any():   # rare: a second pass, over the NaN windows only
        nan_p = _pad2d(np.isnan(x), padding)   # a bool array: padded with False
        for offset, rows, cols in reversed(offsets):
            hit = nan & nan_p[:, :, rows, cols]
            hit &= ~taken
            taken |= hit
            yield offset, rows, cols, hit


def _max_spread(g: np.ndarray, x: np.ndarray, out: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple,
                padding: tuple, out_size: tuple) -> np.ndarray:
    """g added at each window's maximum (`_max_hits`), one masked strided add per kernel offset."""
    (pt, pb), (pl, pr) = padding
    dxp = np.zeros((*x.shape[:2], x.shape[2] + pt + pb, x.shape[3] + pl + pr), dtype=g.dtype)
    for _, rows, cols, hit in _max_hits(x, out, kernel, stride, dilation, padding, out_size):
        dxp[:, :, rows, cols] += g * hit
    return dxp[:, :, pt:pt + x.shape[2], pl:pl + x.shape[3]]


def _max_positions(x: np.ndarray, out: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple,
                   out_size: tuple) -> np.ndarray:
    """(N, C, Ho*Wo) flat positions in the padded plane of each window's maximum (`_max_hits`)."""
    choice = np.zeros(out.shape, dtype=np.int64)
    for offset, _, _, hit in _max_hits(x, out, kernel, stride, dilation, padding, out_size):
        choice[hit] = offset
    n, c, ho, wo = out.shape
    kw = kernel[1]
    rows = np.arange(ho)[:, None] * stride[0] + (choice // kw) * dilation[0]
    cols = np.arange(wo)[None, :] * stride[1] + (choice % kw) * dilation[1]
    width = x.shape[3] + padding[1][0] + padding[1][1]
    return (rows * width + cols).reshape(n, c, ho * wo)


class MaxPool2d(Function):
    """y = the maximum of each window (padding is -inf);
    dx = g added at each window's maximum (`_max_hits`; as a scatter_add, whose gradient is gather)."""

    name = "max_pool2d"

    @staticmethod
    def forward(x: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple,
                out_size: tuple) -> np.ndarray:
        return _max_array(x, kernel, stride, dilation, padding, out_size)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, kernel: tuple, stride: tuple, dilation: tuple, padding: tuple,
                 out_size: tuple) -> tuple[Any, ...]:
        xd = unwrap(x)
        if not isinstance(g, Value):   # the same sum, one masked add per kernel offset (fast)
            return (_max_spread(g, xd, unwrap(out), kernel, stride, dilation, padding, out_size),)
        n, c, h, w = xd.shape
        (pt, pb), (pl, pr) = padding
        hp, wp = h + pt + pb, w + pl + pr
        flat = _max_positions(xd, unwrap(out), kernel, stride, dilation, padding, out_size)
        zeros = np.zeros((n, c, hp * wp), dtype=unwrap(g).dtype)
        spread = scatter_add(zeros, 2, flat, reshape(g, (n, c, out_size[0] * out_size[1])))
        return (pad_widths(reshape(spread, (n, c, hp, wp)), ((0, 0), (0, 0), (-pt, -pb), (-pl, -pr))),)


def _unbatched(fn: str, input: Any, spatial: int) -> tuple[Any, bool]:
    shape = np.shape(unwrap(input))
    if len(shape) not in (spatial + 1, spatial + 2):
        layout = "(N, C, L)" if spatial == 1 else "(N, C, H, W)"
        raise ValueError(f"{fn}: input must be {layout} or unbatched without N, got shape {shape}")
    if np.asarray(unwrap(input)).dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {np.asarray(unwrap(input)).dtype}")
    if 0 in shape[len(shape) - spatial - 1:]:
        raise ValueError(f"{fn}: the input of shape {shape} is empty; only the batch size may be 0 (channels and "
                         "spatial sizes must be at least 1: a window of padding only has no value)")
    if len(shape) == spatial + 1:
        return reshape(input, (1, *shape)), False
    return input, True


def _run_max_pool(x: Any, geometry: dict, return_indices: bool) -> Any:
    args = {k: geometry[k] for k in ("kernel", "stride", "dilation", "padding")}
    args["out_size"] = geometry["out"]
    xd = np.asarray(unwrap(x))
    y = MaxPool2d.apply(x, **args) if isinstance(x, Value) else _max_array(xd, **args)
    if not return_indices:
        return y, None
    flat = _max_positions(xd, np.asarray(unwrap(y)), geometry["kernel"], geometry["stride"], geometry["dilation"],
                          geometry["padding"], geometry["out"])
    (pt, pb), (pl, pr) = geometry["padding"]
    wp = xd.shape[3] + pl + pr
    rows, cols = flat // wp - pt, flat % wp - pl
    indices = (rows * xd.shape[3] + cols).reshape(np.shape(unwrap(y))).astype(np.int64)
    return y, indices


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each (dilated) window of `input` (N, C, H, W), as `F.max_pool2d` (stride defaults to the
    kernel size; padding counts as -inf). With `return_indices`, also the int64 flat positions (in H*W)
    of the maxima. `ceil_mode` adds a last, partial window on each axis where one starts inside the input or
    the left padding, even past the padded input (PyTorch's output size).

    Example:
        >>> max_pool2d(Value(np.arange(9.0).reshape(1, 1, 3, 3)), 2, stride=1).data[0, 0].tolist()
        [[4.0, 5.0], [7.0, 8.0]]
    """
    x, batched = _unbatched("max_pool2d", input, 2)
    return_indices = check_bool(return_indices, "return_indices", "max_pool2d")
    geometry = _geometry("max_pool2d", np.shape(unwrap(x)), kernel_size, stride, padding, dilation, ceil_mode)
    y, indices = _run_max_pool(x, geometry, return_indices)
    if not batched:
        y = reshape(y, np.shape(unwrap(y))[1:])
        indices = None if indices is None else indices[0]
    if return_indices:
        return y, (Value(indices) if isinstance(input, Value) else indices)
    return y


def _single(value: Any, name: str, fn: str, minimum: int) -> int:
    return int_tuple(value, 1, name, fn, minimum)[0]


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each window of `input` (N, C, L), as `F.max_pool1d` (a 2-D pool of height 1).

    Example:
        >>> max_pool1d(Value([[[1.0, 3.0, 2.0, 0.0]]]), 2)
        Value([[[3., 2.]]])
    """
    x, batched = _unbatched("max_pool1d", input, 1)
    n, c, length = np.shape(unwrap(x))
    k = _single(kernel_size, "kernel_size", "max_pool1d", 1)
    s = k if stride is None else _single(stride, "stride", "max_pool1d", 1)
    return_indices = check_bool(return_indices, "return_indices", "max_pool1d")
    geometry = _geometry("max_pool1d", (n, c, 1, length), (1, k), (1, s), (0, _single(padding, "padding",
                                                                                       "max_pool1d", 0)),
                         (1, _single(dilation, "dilation", "max_pool1d", 1)), ceil_mode)
    y, indices = _run_max_pool(reshape(x, (n, c, 1, length)), geometry, return_indices)
    out_shape = (n, c, geometry["out"][1]) if batched else (c, geometry["out"][1])
    y = reshape(y, out_shape)
    if return_indices:
        indices = indices.reshape(out_shape)
        return y, (Value(indices) if isinstance(input, Value) else indices)
    return y


def _avg_divisor(shape: tuple, geometry: dict, count_include_pad: bool, divisor_override: Any,
                 dtype: np.dtype) -> np.ndarray:
    """The (Ho, Wo) divisors of PyTorch's avg_pool2d."""
    if divisor_override is not None:
        return np.full(geometry["out"], divisor_override, dtype=dtype)
    counts = []
    for size, k, s, (p, _), o in zip(shape[2:], geometry["kernel"], geometry["stride"], geometry["padding"],
                                     geometry["out"]):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            counts.append(end - start)
        else:
            counts.append(np.minimum(end, size) - np.maximum(start, 0))
    return (counts[0][:, None] * counts[1][None, :]).astype(dtype)


class AvgPool2d(Function):
    """y = the sum of each window / its divisor (padding counts as 0);
    dx = g / divisor spread over each window (conv2d_input with a window of ones)."""

    name = "avg_pool2d"

    @staticmethod
    def forward(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, out_size: tuple,
                divisor: np.ndarray) -> np.ndarray:
        win = _windows(_pad2d(x, padding), kernel, stride, (1, 1), out_size)   # padded with zeros
        return win.sum(axis=(4, 5)) / divisor

    @staticmethod
    def backward(g: Any, out: Any, x: Any, kernel: tuple, stride: tuple, padding: tuple, out_size: tuple,
                 divisor: np.ndarray) -> tuple[Any, ...]:
        n, c = x.shape[:2]
        ones = np.ones((c, 1, *kernel), dtype=unwrap(g).dtype)
        geometry = {"stride": stride, "padding": padding, "dilation": (1, 1), "groups": c}
        return (_conv2d_input(g / divisor, ones, tuple(x.shape), geometry),)


def _run_avg_pool(x: Any, geometry: dict, count_include_pad: bool, divisor_override: Any) -> Any:
    xd = np.asarray(unwrap(x))
    divisor = _avg_divisor(xd.shape, geometry, count_include_pad, divisor_override, xd.dtype)
    args = {"kernel": geometry["kernel"], "stride": geometry["stride"], "padding": geometry["padding"],
            "out_size": geometry["out"], "divisor": divisor}
    return AvgPool2d.apply(x, **args) if isinstance(x, Value) else AvgPool2d.forward(xd, **args)


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Any:
    """The mean of each window of `input` (N, C, H, W), as `F.avg_pool2d` (stride defaults to the kernel size).

    Padding counts as zeros; `count_include_pad=False` divides by the number of
    real elements in the window instead; `divisor_override` by a fixed number. A partial window of
    `ceil_mode` (past the padded input, as `max_pool2d`) counts only what it covers of the padded input.

    Example:
        >>> avg_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), 2).data[0, 0].tolist()
        [[2.5, 4.5], [10.5, 12.5]]
    """
    if divisor_override is not None and (not is_integer(divisor_override) or divisor_override == 0):
        raise ValueError(f"avg_pool2d: divisor_override must be a non-zero integer, got {divisor_override!r}")
    x, batched = _unbatched("avg_pool2d", input, 2)
    count_include_pad = check_bool(count_include_pad, "count_include_pad", "avg_pool2d")
    geometry = _geometry("avg_pool2d", np.shape(unwrap(x)), kernel_size, stride, padding, 1, ceil_mode)
    y = _run_avg_pool(x, geometry, count_include_pad, divisor_override)
    return y if batched else reshape(y, np.shape(unwrap(y))[1:])


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Any:
    """The mean of each window of `input` (N, C, L), as `F.avg_pool1d` (a 2-D pool of height 1).

    Example:
        >>> avg_pool1d(Value([[[1.0, 3.0, 2.0, 0.0]]]), 2)
        Value([[[2., 1.]]])
    """
    x, batched = _unbatched("avg_pool1d", input, 1)
    n, c, length = np.shape(unwrap(x))
    k = _single(kernel_size, "kernel_size", "avg_pool1d", 1)
    s = k if stride is None else _single(stride, "stride", "avg_pool1d", 1)
    p = _single(padding, "padding", "avg_pool1d", 0)
    count_include_pad = check_bool(count_include_pad, "count_include_pad", "avg_pool1d")
    geometry = _geometry("avg_pool1d", (n, c, 1, length), (1, k), (1, s), (0, p), 1, ceil_mode)
    y = _run_avg_pool(reshape(x, (n, c, 1, length)), geometry, count_include_pad, None)
    return reshape(y, (n, c, geometry["out"][1]) if batched else (c, geometry["out"][1]))


def _window_means(x: Any, axis: int, size: int, out: int) -> Any:
    """The means of `out` adaptive windows along `axis` (window i spans floor(i size / out) ..
    ceil((i + 1) size / out) - 1), each the mean of its own slice: an inf or nan stays in its windows (a product
    with an averaging matrix would spread it as 0 * inf = nan to every window of its row and column)."""
    if out == size:   # every window is one element
        return x
    parts = []
    for i in range(out):
        start, end = (i * size) // out, math.ceil((i + 1) * size / out)
        parts.append(mean(x[(slice(None),) * axis + (slice(start, end),)], axis=axis, keepdims=True))
    return concat(parts, axis)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
    """Average pooling to a fixed output size (H_out, W_out) (None keeps that input size), as
    `F.adaptive_avg_pool2d`: window i spans floor(i H / H_out) .. ceil((i + 1) H / H_out).

    Example:
        >>> adaptive_avg_pool2d(Value(np.arange(16.0).reshape(1, 1, 4, 4)), 1).data.ravel().tolist()
        [7.5]
    """
    x, batched = _unbatched("adaptive_avg_pool2d", input, 2)
    shape = np.shape(unwrap(x))
    sizes = (output_size, output_size) if is_integer(output_size) or output_size is None \
        else tuple(output_size) if isinstance(output_size, (tuple, list)) else ()
    if len(sizes) != 2 or not all(s is None or is_integer(s) for s in sizes):
        raise TypeError(f"adaptive_avg_pool2d: output_size must be an int or a pair of ints (None keeps a size), "
                        f"got {output_size!r}")
    out = tuple(shape[2 + i] if s is None else int(s) for i, s in enumerate(sizes))
    if any(o <= 0 for o in out):
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    y = _window_means(_window_means(x, 2, shape[2], out[0]), 3, shape[3], out[1])   # arrays in, an array out
    return y if batched else reshape(y, np.shape(unwrap(y))[1:])
