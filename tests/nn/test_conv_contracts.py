"""conv1d / conv2d contracts without PyTorch: values and gradients (input, weight, bias) against a direct NumPy loop of
PyTorch's definition, over stride / padding (int, 1-tuple, 'valid', 'same') / dilation / groups / bias, batched
and unbatched, Value and plain-array inputs; conv2d_input / conv2d_weight (`torch.nn.grad`) as those
gradients; the defaults; every bad argument refused with a message naming the function and the argument.

The loop: y[n, o, l] = bias[o] + sum over c < C/groups and t < k of
weight[o, c, t] * x_padded[n, (o // (O/groups)) * C/groups + c, l * stride + t * dilation], with
L_out = floor((L + p_left + p_right - dilation (k - 1) - 1) / stride) + 1; 'same' pads dilation (k - 1) in all,
the smaller half on the left. conv2d is the same loop over two spatial axes.
"""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lab import Value, grad
from tinygrad_lab import ops as tg
from tinygrad_lab.nn import functional as F


def ref_conv1d(x: np.ndarray, w: np.ndarray, b, g: np.ndarray | None, stride: int, pads: tuple, dilation: int,
               groups: int) -> tuple:
    """(output, dx, dw, db) for x (N, C, L), w (O, C/groups, k), the output gradient g (or None: only the output)."""
    n_, c_, length = x.shape
    o_, cg, k = w.shape
    xp = np.zeros((n_, c_, length + pads[0] + pads[1]))
    xp[:, :, pads[0]:pads[0] + length] = x
    lo = (xp.shape[2] - dilation * (k - 1) - 1) // stride + 1
    y, dxp, dw = np.zeros((n_, o_, lo)), np.zeros(xp.shape), np.zeros(w.shape)
    for n in range(n_):
        for o in range(o_):
            first = (o // (o_ // groups)) * cg
            for t in range(lo):
                for c in range(cg):
                    for j in range(k):
                        at = t * stride + j * dilation
                        y[n, o, t] += w[o, c, j] * xp[n, first + c, at]
                        if g is not None:
                            dxp[n, first + c, at] += w[o, c, j] * g[n, o, t]
                            dw[o, c, j] += xp[n, first + c, at] * g[n, o, t]
    if b is not None:
        y += b[None, :, None]
    db = None if g is None or b is None else g.sum(axis=(0, 2))
    return y, dxp[:, :, pads[0]:pads[0] + length], dw, db


def _pads(padding, k: int, dilation: int) -> tuple:
    if padding == "same":
        total = dilation * (k - 1)
        return total // 2, total - total // 2
    if padding == "valid":
        return 0, 0
    p = padding[0] if isinstance(padding, tuple) else padding
    return p, p


CASES = [   # (x shape, weight shape, bias?, keyword arguments)
    ((3, 2, 9), (4, 2, 3), True, {}),                                       # defaults; N != C != O
    ((3, 2, 9), (4, 2, 3), False, dict(stride=2)),
    ((3, 2, 9), (4, 2, 3), True, dict(padding=1)),
    ((3, 2, 9), (4, 2, 3), True, dict(padding=(2,), stride=3)),
    ((2, 3, 9), (3, 3, 2), True, dict(dilation=2)),
    ((2, 3, 9), (3, 3, 2), True, dict(padding="same", dilation=3)),         # padding (1, 2)
    ((2, 3, 9), (3, 3, 4), False, dict(padding="same")),
    ((2, 3, 9), (3, 3, 4), True, dict(padding="valid", stride=(2,), dilation=(2,))),
    ((2, 4, 9), (6, 2, 3), True, dict(groups=2, padding=1)),
    ((2, 9), (3, 2, 3), True, dict(padding=1, stride=2)),                   # unbatched
    ((4, 7), (6, 2, 2), True, dict(groups=2, dilation=2)),                  # unbatched, groups
    ((2, 9), (5, 2, 3), False, {}),                                         # unbatched, defaults
]


@pytest.mark.parametrize(("x_shape", "w_shape", "bias", "kwargs"), CASES)
def test_conv1d_matches_the_loop(rng, x_shape, w_shape, bias, kwargs):
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[0]) if bias else None
    stride, dilation = kwargs.get("stride", 1), kwargs.get("dilation", 1)
    stride, dilation = (v[0] if isinstance(v, tuple) else v for v in (stride, dilation))
    pads = _pads(kwargs.get("padding", 0), w_shape[2], dilation)
    y, g, grads = _reference(rng, ref_conv1d, x, w, b, len(x_shape) == 3,
                             stride, pads, dilation, kwargs.get("groups", 1))
    _matches_reference(F.conv1d, x, w, b, kwargs, y, g, grads)


def _reference(rng, ref, x, w, b, batched, *args):
    """The loop reference `ref` on `x` (given a batch axis when unbatched), with a random output gradient:
    (y, g, (dx, dw, db)) in `x`'s own layout."""
    xb = x if batched else x[None]
    g = rng.normal(size=ref(xb, w, b, None, *args)[0].shape)
    y, dx, dw, db = ref(xb, w, b, g, *args)
    return (y, g, (dx, dw, db)) if batched else (y[0], g[0], (dx[0], dw, db))


def _matches_reference(conv, x, w, b, kwargs, y, g, grads):
    """`conv` on plain arrays gives the reference output `y`; on Values also the reference input, weight and bias
    gradients `grads` for the output gradient `g`."""
    plain = conv(x, w, b, **kwargs)
    assert isinstance(plain, np.ndarray) and plain.shape == y.shape
    np.testing.assert_allclose(plain, y, rtol=1e-12, atol=1e-13)
    xv, wv = Value(x, requires_grad=True), Value(w, requires_grad=True)
    bv = None if b is None else Value(b, requires_grad=True)
    out = conv(xv, wv, bv, **kwargs)
    assert isinstance(out, Value) and out.shape == y.shape
    np.testing.assert_allclose(out.data, y, rtol=1e-12, atol=1e-13)
    (out * g).sum().backward()
    for leaf, expected in zip((xv, wv, bv), grads):
        if leaf is not None:
            np.testing.assert_allclose(leaf.grad.data, expected, rtol=1e-12, atol=1e-13)


def test_conv1d_default_arguments_are_pytorchs(rng):
    """No bias, stride 1, padding 0, dilation 1, groups 1: the same as the explicit call."""
    x, w = rng.normal(size=(2, 3, 8)), rng.normal(size=(4, 3, 3))
    assert np.array_equal(F.conv1d(x, w), F.conv1d(x, w, None, 1, 0, 1, 1))
    assert F.conv1d(x, w).shape == (2, 4, 6)


def test_conv1d_second_order_through_an_unbatched_input(rng):
    """The input gradient of an unbatched conv1d is differentiable in the weight: d/dw sum(dx * v)."""
    x, w, v = rng.normal(size=(2, 7)), rng.normal(size=(3, 2, 3)), rng.normal(size=(2, 7))
    xv, wv = Value(x, requires_grad=True), Value(w, requires_grad=True)
    (dx,) = grad(F.conv1d(xv, wv, stride=2, padding=1).sum(), xv, create_graph=True)
    (dw,) = grad((dx * v).sum(), wv)
    # sum(dx * v) = sum over outputs of sum_{c, j} w[o, c, j] v_padded[c, t s + j d]: dw is the sum of v's windows
    vp = np.pad(v, ((0, 0), (1, 1)))
    expected = np.array([[[vp[c, j:j + 2 * 3 + 1:2][:4].sum() for j in range(3)] for c in range(2)]] * 3)
    np.testing.assert_allclose(dw.data, expected, rtol=1e-12, atol=1e-13)


_X, _W = np.zeros((1, 2, 6)), np.zeros((3, 2, 3))
BAD = [   # (call, error, message): each message names conv1d and the argument
    (lambda: F.conv1d(np.zeros((1, 1, 2, 6)), _W), ValueError, r"^conv1d: input must be \(N, C, L\)"),
    (lambda: F.conv1d(_X, np.zeros((3, 2, 3, 3))), ValueError, "^conv1d: weight must have 3 dimensions"),
    (lambda: F.conv1d(_X, _W, np.zeros(4)), ValueError, r"^conv1d: bias must have shape \(3,\)"),
    (lambda: F.conv1d(_X, _W, groups=0), ValueError, "^conv1d: groups must be a positive integer"),
    (lambda: F.conv1d(_X, np.zeros((3, 1, 3))), ValueError, "^conv1d: the input has 2 channels"),
    (lambda: F.conv1d(_X, _W, stride=0), ValueError, "^conv1d: stride must be >= 1"),
    (lambda: F.conv1d(_X, _W, stride=1.5), TypeError, "^conv1d: stride must be an int or a tuple of 1 ints"),
    (lambda: F.conv1d(_X, _W, stride=(1, 1)), TypeError, "^conv1d: stride must be an int or a tuple of 1 ints"),
    (lambda: F.conv1d(_X, _W, dilation=0), ValueError, "^conv1d: dilation must be >= 1"),
    (lambda: F.conv1d(_X, _W, dilation="2"), TypeError, "^conv1d: dilation must be an int or a tuple of 1 ints"),
    (lambda: F.conv1d(_X, _W, padding=-1), ValueError, "^conv1d: padding must be >= 0"),
    (lambda: F.conv1d(_X, _W, padding=(1, 1)), TypeError, "^conv1d: padding must be an int or a tuple of 1 ints"),
    (lambda: F.conv1d(_X, _W, padding="full"), ValueError, "^conv1d: padding must be an int, a tuple, 'valid' or"),
    (lambda: F.conv1d(_X, _W, stride=2, padding="same"), ValueError, "^conv1d: padding='same' is not supported"),
    (lambda: F.conv1d(_X, np.zeros((3, 2, 7))), ValueError, r"^conv1d: the \(dilated\) kernel of size 7"),
    (lambda: F.conv1d(_X, _W, dilation=3), ValueError, r"^conv1d: the \(dilated\) kernel of size 7"),
    (lambda: F.conv1d(_X[0], _W, dilation=3), ValueError, r"^conv1d: the \(dilated\) kernel of size 7"),
    (lambda: F.conv1d(_X[0], _W, padding=1, dilation=4), ValueError, r"^conv1d: the \(dilated\) kernel of size 9"),
    (lambda: F.conv1d(_X.astype(np.float32), _W), TypeError, "^conv1d: input, weight and bias must have the same"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD)
def test_bad_arguments_name_conv1d_and_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------------------- conv2d and its two adjoints

def ref_conv2d(x: np.ndarray, w: np.ndarray, b, g: np.ndarray | None, stride: tuple, pads: tuple,
               dilation: tuple, groups: int) -> tuple:
    """(output, dx, dw, db) for x (N, C, H, W), w (O, C/groups, kh, kw); pads ((top, bottom), (left, right))."""
    n_, c_, h_, w_ = x.shape
    o_, cg, kh, kw = w.shape
    (pt, pb), (pl, pr) = pads
    xp = np.zeros((n_, c_, h_ + pt + pb, w_ + pl + pr))
    xp[:, :, pt:pt + h_, pl:pl + w_] = x
    ho = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y, dxp, dw = np.zeros((n_, o_, ho, wo)), np.zeros(xp.shape), np.zeros(w.shape)
    for o in range(o_):
        first = (o // (o_ // groups)) * cg
        for i in range(ho):
            for j in range(wo):
                for a in range(kh):
                    for q in range(kw):
                        r, col = i * stride[0] + a * dilation[0], j * stride[1] + q * dilation[1]
                        patch = xp[:, first:first + cg, r, col]                    # (N, C/groups)
                        y[:, o, i, j] += patch @ w[o, :, a, q]
                        if g is not None:
                            dxp[:, first:first + cg, r, col] += np.outer(g[:, o, i, j], w[o, :, a, q])
                            dw[o, :, a, q] += g[:, o, i, j] @ patch
    if b is not None:
        y += b[None, :, None, None]
    db = None if g is None or b is None else g.sum(axis=(0, 2, 3))
    return y, dxp[:, :, pt:pt + h_, pl:pl + w_], dw, db


def _pads2d(padding, kernel: tuple, dilation: tuple) -> tuple:
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if padding == "valid":
        return (0, 0), (0, 0)
    p = padding if isinstance(padding, tuple) else (padding, padding)
    return (p[0], p[0]), (p[1], p[1])


def _pair(v) -> tuple:
    return v if isinstance(v, tuple) else (v, v)


CASES2D = [   # (x shape, weight shape, bias?, keyword arguments)
    ((3, 2, 6, 7), (4, 2, 3, 2), True, {}),                                   # defaults; N != C != O
    ((3, 2, 6, 7), (4, 2, 3, 3), False, dict(stride=(2, 1), padding=(1, 2))),
    ((2, 3, 7, 6), (3, 3, 2, 3), True, dict(padding="same", dilation=(1, 2))),  # padding (0, 1), (2, 2)
    ((2, 3, 7, 6), (3, 3, 3, 2), True, dict(padding="valid", stride=2, dilation=2)),
    ((2, 4, 5, 6), (6, 2, 3, 3), True, dict(groups=2, padding=1)),
    ((2, 6, 5), (3, 2, 3, 2), True, dict(padding=(1, 0), stride=(1, 2))),    # unbatched
    ((2, 5, 6), (5, 2, 2, 2), False, {}),                                     # unbatched, defaults
]


@pytest.mark.parametrize(("x_shape", "w_shape", "bias", "kwargs"), CASES2D)
def test_conv2d_and_its_adjoints_match_the_loop(rng, x_shape, w_shape, bias, kwargs):
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[0]) if bias else None
    stride, dilation, groups = _pair(kwargs.get("stride", 1)), _pair(kwargs.get("dilation", 1)), kwargs.get("groups", 1)
    pads = _pads2d(kwargs.get("padding", 0), w_shape[2:], dilation)
    batched = len(x_shape) == 4
    y, g, grads = _reference(rng, ref_conv2d, x, w, b, batched, stride, pads, dilation, groups)
    _matches_reference(F.conv2d, x, w, b, kwargs, y, g, grads)

    # torch.nn.grad.conv2d_input / conv2d_weight: the same two gradients, from the output gradient
    if batched:
        dx, dw, _ = grads
        dx_adj = tg.conv2d_input(x.shape, Value(w), Value(g), **kwargs)
        np.testing.assert_allclose(dx_adj.data, dx, rtol=1e-12, atol=1e-13)
        dw_adj = tg.conv2d_weight(Value(x), w.shape, Value(g), **kwargs)
        np.testing.assert_allclose(dw_adj.data, dw, rtol=1e-12, atol=1e-13)


def test_conv2d_default_arguments_are_pytorchs(rng):
    """No bias, stride 1, padding 0, dilation 1, groups 1, for conv2d and its adjoints."""
    x, w = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 2))
    g = rng.normal(size=(2, 4, 4, 4))
    assert np.array_equal(F.conv2d(x, w), F.conv2d(x, w, None, 1, 0, 1, 1))
    assert F.conv2d(x, w).shape == (2, 4, 4, 4)
    assert np.array_equal(tg.conv2d_input(x.shape, w, g), tg.conv2d_input(x.shape, w, g, 1, 0, 1, 1))
    assert np.array_equal(tg.conv2d_weight(x, w.shape, g), tg.conv2d_weight(x, w.shape, g, 1, 0, 1, 1))


_X4, _W4 = np.zeros((1, 2, 6, 6)), np.zeros((3, 2, 3, 3))
_G4 = np.zeros((1, 3, 4, 4))
BAD2D = [
    (lambda: F.conv2d(np.zeros((1, 1, 2, 6, 6)), _W4), ValueError, r"^conv2d: input must be \(N, C, H, W\)"),
    (lambda: F.conv2d(_X4, _W4, np.zeros(4)), ValueError, r"^conv2d: bias must have shape \(3,\)"),
    (lambda: F.conv2d(_X4, _W4, stride=0), ValueError, "^conv2d: stride must be >= 1, got 0$"),
    (lambda: F.conv2d(_X4, _W4, stride=1.5), TypeError, "^conv2d: stride must be an int or a tuple of 2 ints"),
    (lambda: F.conv2d(_X4, _W4, dilation=(1, 0)), ValueError, r"^conv2d: dilation must be >= 1, got \(1, 0\)$"),
    (lambda: F.conv2d(_X4, _W4, dilation=(1,)), TypeError, "^conv2d: dilation must be an int or a tuple of 2 ints"),
    (lambda: F.conv2d(_X4, _W4, padding=-1), ValueError, "^conv2d: padding must be >= 0"),
    (lambda: F.conv2d(_X4, _W4, padding="full"), ValueError, "^conv2d: padding must be an int, a tuple, 'valid'"),
    (lambda: F.conv2d(_X4, _W4, stride=2, padding="same"), ValueError, "^conv2d: padding='same' is not supported"),
    (lambda: F.conv2d(np.zeros((1, 2, 2, 6)), _W4), ValueError, r"^conv2d: the \(dilated\) kernel of size 3"),
    (lambda: F.conv2d(np.zeros((2, 6, 2)), _W4), ValueError, r"^conv2d: the \(dilated\) kernel of size 3"),
    (lambda: tg.conv2d_input(_X4.shape, _W4, _G4, stride=0), ValueError, "^conv2d_input: stride must be >= 1, got 0$"),
    (lambda: tg.conv2d_input(_X4.shape, _W4, _G4, stride="1"), TypeError, "^conv2d_input: stride must be an int"),
    (lambda: tg.conv2d_input(_X4.shape, _W4, _G4, dilation=0), ValueError,
     "^conv2d_input: dilation must be >= 1, got 0$"),
    (lambda: tg.conv2d_input(_X4.shape, _W4, _G4, dilation=1.0), TypeError, "^conv2d_input: dilation must be an int"),
    (lambda: tg.conv2d_input(_X4.shape, _W4, _G4, padding=-1), ValueError, "^conv2d_input: padding must be >= 0"),
    (lambda: tg.conv2d_input(_X4.shape, _W4, _G4, stride=2, padding="same"), ValueError,
     "^conv2d_input: padding='same' is not supported"),
    (lambda: tg.conv2d_weight(_X4, _W4.shape, _G4, stride=0), ValueError,
     "^conv2d_weight: stride must be >= 1, got 0$"),
    (lambda: tg.conv2d_weight(_X4, _W4.shape, _G4, padding="full"), ValueError,
     "^conv2d_weight: padding must be an int, a tuple, 'valid' or 'same'"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD2D)
def test_bad_arguments_name_conv2d_and_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("weight_shape", [(4, 3, 3, 3), (4, 3, 2, 3), (4, 3, 3, 2)])
def test_the_adjoints_take_same_padding_from_the_kernel(rng, weight_shape):
    """padding='same' in conv2d_input / conv2d_weight is the padding conv2d used (from the kernel and dilation)."""
    x, w = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=weight_shape)
    g = rng.normal(size=(2, 4, 6, 5))
    pads = _pads2d("same", weight_shape[2:], (2, 1))
    _, dx, dw, _ = ref_conv2d(x, w, None, g, (1, 1), pads, (2, 1), 1)
    np.testing.assert_allclose(tg.conv2d_input(x.shape, w, g, padding="same", dilation=(2, 1)), dx, rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(tg.conv2d_weight(x, weight_shape, g, padding="same", dilation=(2, 1)), dw,
                               rtol=1e-12, atol=1e-13)


def test_the_adjoints_of_a_grouped_convolution(rng):
    """groups defaults to 1 and is honoured: a grouped weight (O, C/groups, ...) with groups=2."""
    x, w = rng.normal(size=(2, 4, 5, 5)), rng.normal(size=(6, 2, 3, 3))
    g = rng.normal(size=(2, 6, 3, 3))
    _, dx, dw, _ = ref_conv2d(x, w, None, g, (1, 1), ((0, 0), (0, 0)), (1, 1), 2)
    np.testing.assert_allclose(tg.conv2d_input(x.shape, w, g, groups=2), dx, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(tg.conv2d_weight(x, w.shape, g, groups=2), dw, rtol=1e-12, atol=1e-13)
    w1 = rng.normal(size=(6, 4, 3, 3))
    _, dx1, _, _ = ref_conv2d(x, w1, None, g, (1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    np.testing.assert_allclose(tg.conv2d_input(x.shape, w1, g), dx1, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs", "pads", "dilation"), [
    ((1, 2, 3, 4), (1, 2, 3, 4), {}, ((0, 0), (0, 0)), (1, 1)),                        # the kernel is the input
    ((1, 2, 1, 3), (1, 2, 3, 3), dict(padding=(1, 0)), ((1, 1), (0, 0)), (1, 1)),        # 1 + 2 padding = 3
    ((1, 2, 5), (1, 2, 3), dict(dilation=2), ((0, 0), (0, 0)), (1, 2)),                  # conv1d: span 5 = 5
])
def test_a_kernel_that_just_fits_gives_one_output(rng, x_shape, w_shape, kwargs, pads, dilation):
    """A (dilated) kernel exactly as large as the padded input is allowed: one output position per axis."""
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    if len(x_shape) == 3:
        out = F.conv1d(x, w, **kwargs)
        expected = ref_conv2d(x[:, :, None], w[:, :, None], None, None, (1, 1), pads, dilation, 1)[0][:, :, 0]
    else:
        out = F.conv2d(x, w, **kwargs)
        expected = ref_conv2d(x, w, None, None, (1, 1), pads, dilation, 1)[0]
    assert out.shape == (1, 1) + (1,) * (len(x_shape) - 2)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-13)


def test_the_adjoints_follow_the_dtype_rule(rng):
    """A plain float64 array meeting a float32 Value is a constant of the Value's dtype (docs/engine.md's rule),
    in conv2d_input and conv2d_weight as everywhere."""
    x = Value(rng.normal(size=(1, 2, 5, 5)).astype(np.float32))
    w = Value(rng.normal(size=(3, 2, 3, 3)).astype(np.float32))
    g = rng.normal(size=(1, 3, 3, 3))
    assert tg.conv2d_input(x.shape, w, g).dtype == np.float32
    assert tg.conv2d_weight(x, w.shape, g).dtype == np.float32
