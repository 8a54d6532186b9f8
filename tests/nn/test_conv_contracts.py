"""conv1d contracts without PyTorch: values and gradients (input, weight, bias) against a direct NumPy loop of
PyTorch's definition, over stride / padding (int, 1-tuple, 'valid', 'same') / dilation / groups / bias, batched
and unbatched, Value and plain-array inputs; the defaults; every bad argument refused with a message naming
conv1d and the argument.

The loop: y[n, o, l] = bias[o] + sum over c < C/groups and t < k of
weight[o, c, t] * x_padded[n, (o // (O/groups)) * C/groups + c, l * stride + t * dilation], with
L_out = floor((L + p_left + p_right - dilation (k - 1) - 1) / stride) + 1; 'same' pads dilation (k - 1) in all,
the smaller half on the left.
"""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lab import Value, grad
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
    batched = len(x_shape) == 3
    x3 = x if batched else x[None]
    stride, dilation = kwargs.get("stride", 1), kwargs.get("dilation", 1)
    stride, dilation = (v[0] if isinstance(v, tuple) else v for v in (stride, dilation))
    pads = _pads(kwargs.get("padding", 0), w_shape[2], dilation)
    y3 = ref_conv1d(x3, w, b, None, stride, pads, dilation, kwargs.get("groups", 1))[0]
    g3 = rng.normal(size=y3.shape)
    y3, dx3, dw, db = ref_conv1d(x3, w, b, g3, stride, pads, dilation, kwargs.get("groups", 1))
    y, g, dx = (y3, g3, dx3) if batched else (y3[0], g3[0], dx3[0])

    plain = F.conv1d(x, w, b, **kwargs)
    assert isinstance(plain, np.ndarray) and plain.shape == y.shape
    np.testing.assert_allclose(plain, y, rtol=1e-12, atol=1e-13)

    xv, wv = Value(x, requires_grad=True), Value(w, requires_grad=True)
    bv = None if b is None else Value(b, requires_grad=True)
    out = F.conv1d(xv, wv, bv, **kwargs)
    assert isinstance(out, Value) and out.shape == y.shape
    np.testing.assert_allclose(out.data, y, rtol=1e-12, atol=1e-13)
    (out * g).sum().backward()
    np.testing.assert_allclose(xv.grad.data, dx, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(wv.grad.data, dw, rtol=1e-12, atol=1e-13)
    if b is not None:
        np.testing.assert_allclose(bv.grad.data, db, rtol=1e-12, atol=1e-13)


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
