"""Convolution: `conv2d`, `conv1d` and their two adjoints `conv2d_input` / `conv2d_weight` (PyTorch's numbers).

Cross-correlation as in PyTorch, computed on strided views: the padded input,
held batch-last (C, H, W, N) so that window rows are long contiguous runs even
for small images, is viewed as windows (`as_strided`, no copy), gathered once
into an im2col matrix and multiplied with the weight in one BLAS call (one per
group, batched). No Python loop runs over the batch or over pixels; the input
gradient scatters the column gradient back with one strided add per kernel
offset.

The three ops close under differentiation: the gradients of `conv2d` are
`conv2d_input` (a transposed convolution) and `conv2d_weight`, whose own
gradients are `conv2d` and each other, so gradients of gradients come free.

Geometry (static arguments, normalised once): `stride` (sh, sw),
`padding` ((top, bottom), (left, right)), `dilation` (dh, dw), `groups`.

Example:
    >>> x = Value(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> w = Value(np.ones((1, 1, 2, 2)), requires_grad=True)
    >>> y = conv2d(x, w, stride=2)        # sums of the 2x2 blocks
    >>> y.data[0, 0].tolist()
    [[10.0, 18.0], [42.0, 50.0]]
    >>> y.sum().backward(); w.grad.data[0, 0].tolist()
    [[20.0, 24.0], [36.0, 40.0]]
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd.function import Function
from ..autograd.value import Value, as_value, unwrap
from ..utils.checks import int_tuple, is_integer
from .movement import reshape
from .reduce import sum as _sum

__all__ = ["conv1d", "conv2d", "conv2d_input", "conv2d_weight"]

Geometry = dict  # stride, padding, dilation, groups


# ---------------------------------------------------------------------------- array kernels

def _pad2d(x: np.ndarray, padding: tuple, value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) with ((top, bottom), (left, right)) rows/columns of `value` added."""
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    out = np.full((*x.shape[:2], x.shape[2] + pt + pb, x.shape[3] + pl + pr), value, dtype=x.dtype)
    out[:, :, pt:pt + x.shape[2], pl:pl + x.shape[3]] = x
    return out


def _windows(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, out_size: tuple) -> np.ndarray:
    """A read-only strided view (N, C, Ho, Wo, kh, kw) of the first `out_size` (Ho, Wo) windows of the padded
    input (no copy; the caller's geometry guarantees they lie inside it)."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_size
    n, c = xp.shape[:2]
    s0, s1, s2, s3 = xp.strides
    return as_strided(xp, (n, c, ho, wo, kh, kw), (s0, s1, s2 * sh, s3 * sw, s2 * dh, s3 * dw), writeable=False)


def _out_size(size: int, k: int, s: int, p: tuple, d: int) -> int:
    return (size + p[0] + p[1] - d * (k - 1) - 1) // s + 1


def _batch_last(x: np.ndarray, padding: tuple) -> np.ndarray:
    """The padded input as (C, Hp, Wp, N): with the batch innermost, every window row is a long contiguous run."""
    n, c, h, w = x.shape
    (pt, pb), (pl, pr) = padding
    out = np.zeros((c, h + pt + pb, w + pl + pr, n), dtype=x.dtype)
    out[:, pt:pt + h, pl:pl + w, :] = x.transpose(1, 2, 3, 0)
    return out


def _columns(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
             groups: int) -> np.ndarray:
    """The im2col matrix (G, C/G*kh*kw, Ho*Wo*N): one copy of a strided view of the batch-last input."""
    xt = _batch_last(x, padding)
    c, hp, wp, n = xt.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    s0, s1, s2, s3 = xt.strides
    view = as_strided(xt, (c, kh, kw, ho, wo, n), (s0, s1 * dh, s2 * dw, s1 * sh, s2 * sw, s3), writeable=False)
    return view.reshape(groups, c // groups * kh * kw, ho * wo * n)


def _batch_last_grad(g: np.ndarray, groups: int) -> np.ndarray:
    """The output gradient (N, O, Ho, Wo) as (G, O/G, Ho*Wo*N), matching the columns."""
    n, o, ho, wo = g.shape
    return g.transpose(1, 2, 3, 0).reshape(groups, o // groups, ho * wo * n)


def _conv_array(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple, padding: tuple,
                dilation: tuple, groups: int) -> np.ndarray:
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    ho = _out_size(x.shape[2], kh, stride[0], padding[0], dilation[0])
    wo = _out_size(x.shape[3], kw, stride[1], padding[1], dilation[1])
    cols = _columns(x, (kh, kw), stride, padding, dilation, groups)
    out = w.reshape(groups, o // groups, cg * kh * kw) @ cols                # (G, O/G, Ho*Wo*N): one GEMM per group
    out = np.ascontiguousarray(out.reshape(o, ho, wo, n).transpose(3, 0, 1, 2))
    if b is not None:
        out += b.reshape(1, o, 1, 1)
    return out


def _conv_input_array(g: np.ndarray, w: np.ndarray, input_shape: tuple, stride: tuple, padding: tuple,
                      dilation: tuple, groups: int) -> np.ndarray:
    """The adjoint of conv2d in its input (a transposed convolution): W^T @ g, then col2im.

    The column gradient comes out as (G, kh, kw, C/G, Ho, Wo, N), so each kernel offset adds one block with
    long contiguous rows into the padded input gradient, held batch-last and transposed once at the end.
    """
    n, o, ho, wo = g.shape
    _, cg, kh, kw = w.shape
    (pt, pb), (pl, pr) = padding
    h, wd = input_shape[2], input_shape[3]
    wt = w.reshape(groups, o // groups, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(groups, kh * kw * cg,
                                                                                    o // groups)
    dcols = (wt @ _batch_last_grad(g, groups)).reshape(groups, kh, kw, cg, ho, wo, n)
    dxt = np.zeros((groups, cg, h + pt + pb, wd + pl + pr, n), dtype=dcols.dtype)
    (sh, sw), (dh, dw) = stride, dilation
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            dxt[:, :, rows, j * dw: j * dw + sw * (wo - 1) + 1: sw, :] += dcols[:, i, j]
    dx = dxt[:, :, pt:pt + h, pl:pl + wd, :].reshape(groups * cg, h, wd, n)
    return np.ascontiguousarray(dx.transpose(3, 0, 1, 2))


def _conv_weight_array(x: np.ndarray, g: np.ndarray, weight_shape: tuple, stride: tuple, padding: tuple,
                       dilation: tuple, groups: int) -> np.ndarray:
    """The adjoint of conv2d in its weight: g @ im2col(x)^T, per group."""
    cols = _columns(x, tuple(weight_shape[2:]), stride, padding, dilation, groups)
    return (_batch_last_grad(g, groups) @ cols.transpose(0, 2, 1)).reshape(weight_shape)


# ---------------------------------------------------------------------------- the three ops

class Conv2d(Function):
    """y = x (N, C, H, W) cross-correlated with weight (O, C/groups, kh, kw), plus bias (O,);
    dx = conv2d_input(g, weight) (transposed convolution), dweight = conv2d_weight(x, g), dbias = g summed
    over (N, H, W)."""

    name = "conv2d"

    @staticmethod
    def forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, *, stride: tuple, padding: tuple,
                dilation: tuple, groups: int, input_grad: bool) -> np.ndarray:
        return _conv_array(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(g: Any, out: Any, x: Any, weight: Any, bias: Any = None, *, stride: tuple, padding: tuple,
                 dilation: tuple, groups: int, input_grad: bool) -> tuple[Any, ...]:
        geometry = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        gx = _conv2d_input(g, weight, tuple(x.shape), geometry) if input_grad else None
        gw = _conv2d_weight(x, g, tuple(weight.shape), geometry)
        if bias is None:
            return gx, gw
        return gx, gw, _sum(g, axis=(0, 2, 3))


class Conv2dInput(Function):
    """y = the gradient of conv2d in its input for output gradient g (a transposed convolution);
    it is linear in g and in weight:  dg = conv2d(gy, weight),  dweight = conv2d_weight(gy, g)."""

    name = "conv2d_input"

    @staticmethod
    def forward(g: np.ndarray, weight: np.ndarray, *, input_shape: tuple, stride: tuple, padding: tuple,
                dilation: tuple, groups: int) -> np.ndarray:
        return _conv_input_array(g, weight, input_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(gy: Any, out: Any, g: Any, weight: Any, *, input_shape: tuple, stride: tuple, padding: tuple,
                 dilation: tuple, groups: int) -> tuple[Any, ...]:
        geometry = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        return _conv2d(gy, weight, None, geometry), _conv2d_weight(gy, g, tuple(weight.shape), geometry)


class Conv2dWeight(Function):
    """y = the gradient of conv2d in its weight for input x and output gradient g (linear in both):
    dx = conv2d_input(g, gy),  dg = conv2d(x, gy)."""

    name = "conv2d_weight"

    @staticmethod
    def forward(x: np.ndarray, g: np.ndarray, *, weight_shape: tuple, stride: tuple, padding: tuple, dilation: tuple,
                groups: int) -> np.ndarray:
        return _conv_weight_array(x, g, weight_shape, stride, padding, dilation, groups)

    @staticmethod
    def backward(gy: Any, out: Any, x: Any, g: Any, *, weight_shape: tuple, stride: tuple, padding: tuple,
                 dilation: tuple, groups: int) -> tuple[Any, ...]:
        geometry = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        return _conv2d_input(g, gy, tuple(x.shape), geometry), _conv2d(x, gy, None, geometry)


def _values(*items: Any) -> list:
    like = next(v for v in items if isinstance(v, Value))
    return [None if v is None else as_value(v, like) for v in items]


def _conv2d(x: Any, weight: Any, bias: Any, geometry: Geometry) -> Any:
    if not any(isinstance(v, Value) for v in (x, weight, bias)):
        return _conv_array(np.asarray(x), np.asarray(weight), None if bias is None else np.asarray(bias),
                           **geometry)
    x, weight, bias = _values(x, weight, bias)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d.apply(*inputs, input_grad=x.requires_grad, **geometry)


def _conv2d_input(g: Any, weight: Any, input_shape: tuple, geometry: Geometry) -> Any:
    if not isinstance(g, Value) and not isinstance(weight, Value):
        return _conv_input_array(np.asarray(g), np.asarray(weight), input_shape, **geometry)
    g, weight = _values(g, weight)
    return Conv2dInput.apply(g, weight, input_shape=input_shape, **geometry)


def _conv2d_weight(x: Any, g: Any, weight_shape: tuple, geometry: Geometry) -> Any:
    if not isinstance(x, Value) and not isinstance(g, Value):
        return _conv_weight_array(np.asarray(x), np.asarray(g), weight_shape, **geometry)
    x, g = _values(x, g)
    return Conv2dWeight.apply(x, g, weight_shape=weight_shape, **geometry)


# ---------------------------------------------------------------------------- argument handling

def padding_pairs(padding: Any, n: int, kernel: tuple, stride: tuple, dilation: tuple, fn: str) -> tuple:
    """Padding as ((before, after), ...) per spatial axis; 'same' pads (d (k - 1)) split as PyTorch does.

    The one check of a convolution's padding: the functions call it, and `nn.Conv1d`/`nn.Conv2d` at
    construction.

    Example:
        >>> padding_pairs("same", 2, (3, 3), (1, 1), (1, 1), "conv2d")
        ((1, 1), (1, 1))
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions (stride "
                                 f"{stride}); use an explicit padding")
            total = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise ValueError(f"{fn}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    return tuple((p, p) for p in int_tuple(padding, n, "padding", fn, 0))


def _checked(fn: str, x: Any, weight: Any, bias: Any, groups: Any, spatial: int) -> tuple[bool, int]:
    """Check shapes and dtypes in the user's terms; (batched?, groups)."""
    xs, ws = np.shape(unwrap(x)), np.shape(unwrap(weight))
    if len(xs) not in (spatial + 1, spatial + 2):
        layout = "(N, C, L)" if spatial == 1 else "(N, C, H, W)"
        raise ValueError(f"{fn}: input must be {layout} or unbatched without N, got shape {xs}")
    if len(ws) != spatial + 2:
        raise ValueError(f"{fn}: weight must have {spatial + 2} dimensions (out_channels, in_channels/groups, "
                         f"kernel...), got shape {ws}")
    if ws[0] == 0 or 0 in ws[2:]:
        raise ValueError(f"{fn}: the weight of shape {ws} is empty; out_channels and the kernel size must be "
                         "at least 1")
    if not is_integer(groups) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive integer, got {groups!r}")
    batched = len(xs) == spatial + 2
    channels = xs[1] if batched else xs[0]
    if channels != ws[1] * groups:
        raise ValueError(f"{fn}: the input has {channels} channels, but the weight of shape {ws} with "
                         f"groups={groups} expects {ws[1] * groups} (= weight.shape[1] * groups)")
    if ws[0] % groups:
        raise ValueError(f"{fn}: out_channels ({ws[0]}) must be divisible by groups ({groups})")
    if bias is not None and np.shape(unwrap(bias)) != (ws[0],):
        raise ValueError(f"{fn}: bias must have shape ({ws[0]},) (one per output channel), got "
                         f"{np.shape(unwrap(bias))}")
    dtypes = {np.asarray(unwrap(v)).dtype for v in (x, weight, bias) if v is not None}
    if len(dtypes) > 1 or any(d.kind != "f" for d in dtypes):
        raise TypeError(f"{fn}: input, weight and bias must have the same floating dtype, got "
                        f"{sorted(str(d) for d in dtypes)}; convert the input (e.g. x.astype(np.float32)) or the "
                        "model (model.to(...))")
    return batched, int(groups)


def _check_fits(fn: str, spatial_shape: tuple, kernel: tuple, padding: tuple, dilation: tuple) -> None:
    for size, k, p, d in zip(spatial_shape, kernel, padding, dilation):
        if size + p[0] + p[1] < d * (k - 1) + 1:
            raise ValueError(f"{fn}: the (dilated) kernel of size {d * (k - 1) + 1} is larger than the padded "
                             f"input of size {size + p[0] + p[1]} (input {spatial_shape}, kernel {kernel})")


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """2-D cross-correlation of `input` (N, C, H, W) with `weight` (O, C/groups, kh, kw), as `F.conv2d`.

    `padding` is an int, a pair, 'valid' or 'same' (zeros; 'same' needs stride 1).
    An unbatched input (C, H, W) gives an unbatched output.

    Example:
        >>> y = conv2d(Value(np.ones((2, 3, 5, 5))), Value(np.ones((4, 3, 3, 3))), padding="same")
        >>> y.shape, float(y.data[0, 0, 2, 2]), float(y.data[0, 0, 0, 0])
        ((2, 4, 5, 5), 27.0, 12.0)
    """
    batched, groups = _checked("conv2d", input, weight, bias, groups, 2)
    kernel = tuple(np.shape(unwrap(weight))[2:])
    stride_ = int_tuple(stride, 2, "stride", "conv2d", 1)
    dilation_ = int_tuple(dilation, 2, "dilation", "conv2d", 1)
    padding_ = padding_pairs(padding, 2, kernel, stride_, dilation_, "conv2d")
    if not batched:
        input = reshape(input, (1, *np.shape(unwrap(input))))
    _check_fits("conv2d", np.shape(unwrap(input))[2:], kernel, padding_, dilation_)
    out = _conv2d(input, weight, bias, {"stride": stride_, "padding": padding_, "dilation": dilation_,
                                        "groups": groups})
    return out if batched else reshape(out, np.shape(unwrap(out))[1:])


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """1-D cross-correlation of `input` (N, C, L) with `weight` (O, C/groups, k), as `F.conv1d`.

    Runs as a 2-D convolution of height 1 (the same op and gradients).

    Example:
        >>> conv1d(Value([[[1.0, 2.0, 3.0, 4.0]]]), Value([[[1.0, -1.0]]]))
        Value([[[-1., -1., -1.]]])
    """
    batched, groups = _checked("conv1d", input, weight, bias, groups, 1)
    kernel = tuple(np.shape(unwrap(weight))[2:])
    stride_ = int_tuple(stride, 1, "stride", "conv1d", 1)
    dilation_ = int_tuple(dilation, 1, "dilation", "conv1d", 1)
    padding_ = padding_pairs(padding, 1, kernel, stride_, dilation_, "conv1d")
    shape = np.shape(unwrap(input))
    if not batched:
        shape = (1, *shape)
    _check_fits("conv1d", shape[2:], kernel, padding_, dilation_)
    x4 = reshape(input, (shape[0], shape[1], 1, shape[2]))
    w_shape = np.shape(unwrap(weight))
    w4 = reshape(weight, (w_shape[0], w_shape[1], 1, w_shape[2]))
    out = _conv2d(x4, w4, bias, {"stride": (1, stride_[0]), "padding": ((0, 0), padding_[0]),
                                 "dilation": (1, dilation_[0]), "groups": groups})
    out_shape = np.shape(unwrap(out))
    return reshape(out, (out_shape[0], out_shape[1], out_shape[3]) if batched else (out_shape[1], out_shape[3]))


def _geometry(fn: str, stride: Any, padding: Any, dilation: Any, groups: int, kernel: tuple) -> Geometry:
    stride_ = int_tuple(stride, 2, "stride", fn, 1)
    dilation_ = int_tuple(dilation, 2, "dilation", fn, 1)
    return {"stride": stride_, "padding": padding_pairs(padding, 2, kernel, stride_, dilation_, fn),
            "dilation": dilation_, "groups": int(groups)}


def conv2d_input(input_size: tuple, weight: Any, grad_output: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1) -> Any:
    """The gradient of conv2d in its input of shape `input_size` (`torch.nn.grad.conv2d_input`).

    Example:
        >>> g = conv2d_input((1, 1, 3, 3), Value(np.ones((1, 1, 2, 2))), Value(np.ones((1, 1, 2, 2))))
        >>> g.data[0, 0].tolist()          # how many windows cover each pixel
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    geometry = _geometry("conv2d_input", stride, padding, dilation, groups, tuple(np.shape(unwrap(weight))[2:]))
    return _conv2d_input(grad_output, weight, tuple(input_size), geometry)


def conv2d_weight(input: Any, weight_size: tuple, grad_output: Any, stride: Any = 1, padding: Any = 0,
                  dilation: Any = 1, groups: int = 1) -> Any:
    """The gradient of conv2d in its weight of shape `weight_size` (`torch.nn.grad.conv2d_weight`).

    Example:
        >>> gw = conv2d_weight(Value(np.ones((1, 1, 3, 3))), (1, 1, 2, 2), Value(np.ones((1, 1, 2, 2))))
        >>> gw.data[0, 0].tolist()
        [[4.0, 4.0], [4.0, 4.0]]
    """
    geometry = _geometry("conv2d_weight", stride, padding, dilation, groups, tuple(weight_size)[2:])
    return _conv2d_weight(input, grad_output, tuple(weight_size), geometry)
