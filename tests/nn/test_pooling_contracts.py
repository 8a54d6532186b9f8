"""Pooling contracts without PyTorch: every function (1-D and 2-D, batched and unbatched, Value and plain array
inputs, float64 and float32) against a direct NumPy loop written from PyTorch's documented rules, and every bad
argument refused with a message naming the function and the argument.

The loops follow PyTorch's CPU kernels: the output size is floor((L + 2p - d(k - 1) - 1) / s) + 1 (ceil with
`ceil_mode`, dropping a last window that would start in the right padding); a max window starts at its first
element inside the input with -inf and moves on `v > best or isnan(v)` (so: the first maximum among the input's
elements, never the padding, and the last NaN); an average window [i s - p, min(i s - p + k, L + p)) divides by
its length (`count_include_pad`) or by the number of input elements in it, or by `divisor_override`; an adaptive
window spans floor(i L / O) .. ceil((i + 1) L / O).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_lab import Value, grad
from tinygrad_lab.nn import functional as F

# ---------------------------------------------------------------------------- the reference loops

def _out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = (size + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(span) if ceil_mode else math.floor(span)) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _out_shape(x: np.ndarray, k, s, p, d, ceil_mode) -> tuple:
    return (*x.shape[:2], *(_out(x.shape[2 + i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(2)))


def _pairs(dims: int, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, **_) -> tuple:
    """(k, s, p, d) as (height, width) pairs; a 1-D pool is a 2-D pool of height 1."""
    def pair(v):
        if dims == 1:
            return (1, v[0] if isinstance(v, tuple) else v)
        return v if isinstance(v, tuple) else (v, v)
    k = pair(kernel_size)
    s = k if stride is None else pair(stride)
    p = (0, pair(padding)[1]) if dims == 1 else pair(padding)
    return k, s, p, pair(dilation), ceil_mode


def ref_max_pool(x: np.ndarray, g: np.ndarray, k, s, p, d, ceil_mode) -> tuple:
    """(output, flat indices in H*W, input gradient for the output gradient g) of x (N, C, H, W)."""
    n_, c_, h_, w_ = x.shape
    ho, wo = _out(h_, k[0], s[0], p[0], d[0], ceil_mode), _out(w_, k[1], s[1], p[1], d[1], ceil_mode)
    y, idx, dx = np.empty((n_, c_, ho, wo)), np.empty((n_, c_, ho, wo), dtype=np.int64), np.zeros(x.shape)
    for n in range(n_):
        for c in range(c_):
            for i in range(ho):
                for j in range(wo):
                    rows = [r for r in range(i * s[0] - p[0], i * s[0] - p[0] + d[0] * k[0], d[0]) if 0 <= r < h_]
                    cols = [q for q in range(j * s[1] - p[1], j * s[1] - p[1] + d[1] * k[1], d[1]) if 0 <= q < w_]
                    best, where = -np.inf, (rows[0], cols[0])
                    for r in rows:
                        for q in cols:
                            if x[n, c, r, q] > best or np.isnan(x[n, c, r, q]):
                                best, where = x[n, c, r, q], (r, q)
                    y[n, c, i, j], idx[n, c, i, j] = best, where[0] * w_ + where[1]
                    dx[n, c, where[0], where[1]] += g[n, c, i, j]
    return y, idx, dx


def ref_avg_pool(x: np.ndarray, g: np.ndarray, k, s, p, ceil_mode, count_include_pad=True,
                 divisor_override=None) -> tuple:
    """(output, input gradient for the output gradient g) of x (N, C, H, W)."""
    n_, c_, h_, w_ = x.shape
    ho, wo = _out(h_, k[0], s[0], p[0], 1, ceil_mode), _out(w_, k[1], s[1], p[1], 1, ceil_mode)
    y, dx = np.empty((n_, c_, ho, wo)), np.zeros(x.shape)
    for i in range(ho):
        for j in range(wo):
            r0, q0 = i * s[0] - p[0], j * s[1] - p[1]
            r1, q1 = min(r0 + k[0], h_ + p[0]), min(q0 + k[1], w_ + p[1])
            size = (r1 - r0) * (q1 - q0)
            r0, q0, r1, q1 = max(r0, 0), max(q0, 0), min(r1, h_), min(q1, w_)
            divisor = divisor_override or (size if count_include_pad else (r1 - r0) * (q1 - q0))
            y[:, :, i, j] = x[:, :, r0:r1, q0:q1].sum(axis=(2, 3)) / divisor
            dx[:, :, r0:r1, q0:q1] += g[:, :, i, j, None, None] / divisor
    return y, dx


def ref_adaptive_avg_pool(x: np.ndarray, out: tuple) -> np.ndarray:
    n_, c_, h_, w_ = x.shape
    y = np.empty((n_, c_, *out))
    for i in range(out[0]):
        for j in range(out[1]):
            rows = slice(i * h_ // out[0], math.ceil((i + 1) * h_ / out[0]))
            cols = slice(j * w_ // out[1], math.ceil((j + 1) * w_ / out[1]))
            y[:, :, i, j] = x[:, :, rows, cols].mean(axis=(2, 3))
    return y


def _as4d(x: np.ndarray, dims: int) -> np.ndarray:
    """x (batched or not, 1-D or 2-D) as (N, C, H, W)."""
    if x.ndim == dims + 1:
        x = x[None]
    return x[:, :, None, :] if dims == 1 else x


def _like(y4: np.ndarray, x: np.ndarray, dims: int) -> np.ndarray:
    """A (N, C, H, W) result in the layout of the input x."""
    y = y4[:, :, 0, :] if dims == 1 else y4
    return y if x.ndim == dims + 2 else y[0]


def _data(rng, shape: tuple, kind: str) -> np.ndarray:
    """'ties': small integers (many ties and zeros); 'negative': every value below zero (padding must not win)."""
    if kind == "ties":
        return rng.integers(-2, 3, size=shape).astype(np.float64)
    return -1.0 - rng.random(shape)


# ---------------------------------------------------------------------------- max pooling

MAX_CASES = [   # (dims, input shape, keyword arguments); kernel_size is the first
    (2, (2, 3, 5, 6), dict(kernel_size=2)),                                    # defaults: stride = kernel, no padding
    (2, (2, 3, 5, 6), dict(kernel_size=3, stride=1, padding=1)),
    (2, (1, 2, 5, 6), dict(kernel_size=2, stride=2, padding=1)),               # padding after < padding before
    (2, (2, 1, 5, 6), dict(kernel_size=2, padding=(1, 0))),                    # padding on the top only
    (2, (2, 1, 5, 7), dict(kernel_size=2, stride=2, ceil_mode=True)),          # a last window past the input
    (2, (1, 2, 7, 6), dict(kernel_size=2, stride=1, dilation=(2, 1))),
    (2, (1, 2, 6, 7), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(1, 2))),
    (2, (2, 2, 6, 5), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True)),
    (2, (3, 5, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),  # unbatched
    (2, (3, 4, 5), dict(kernel_size=2)),                                       # unbatched, defaults
    (1, (2, 3, 9), dict(kernel_size=2)),                                       # defaults
    (1, (2, 3, 9), dict(kernel_size=1)),
    (1, (2, 3, 9), dict(kernel_size=2, stride=1)),
    (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    (1, (2, 3, 9), dict(kernel_size=2, stride=1, dilation=2)),
    (1, (2, 3, 9), dict(kernel_size=2, stride=2, ceil_mode=True)),
    (1, (3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),     # unbatched
    (1, (3, 8), dict(kernel_size=2)),                                          # unbatched, defaults
]


def _max_pool(dims: int):
    return F.max_pool1d if dims == 1 else F.max_pool2d


@pytest.mark.parametrize("kind", ["ties", "negative"])
@pytest.mark.parametrize(("dims", "shape", "kwargs"), MAX_CASES)
def test_max_pool_matches_the_loop(rng, dims, shape, kwargs, kind):
    """Values, indices (int64 positions in the input plane) and the input gradient (first order, and through the
    differentiable path that create_graph takes), for a Value and for a plain array."""
    x = _data(rng, shape, kind)
    k, s, p, d, ceil_mode = _pairs(dims, **kwargs)
    g4 = rng.normal(size=_out_shape(_as4d(x, dims), k, s, p, d, ceil_mode))
    y4, idx4, dx4 = ref_max_pool(_as4d(x, dims), g4, k, s, p, d, ceil_mode)
    y, idx, g, dx = _like(y4, x, dims), _like(idx4, x, dims), _like(g4, x, dims), _like(dx4, x, dims)

    plain = _max_pool(dims)(x, **kwargs)
    assert isinstance(plain, np.ndarray) and plain.shape == y.shape and np.array_equal(plain, y)
    plain, plain_idx = _max_pool(dims)(x, **kwargs, return_indices=True)
    assert isinstance(plain_idx, np.ndarray) and plain_idx.dtype == np.int64 and np.array_equal(plain_idx, idx)
    assert np.array_equal(plain, y)

    xv = Value(x, requires_grad=True)
    out = _max_pool(dims)(xv, **kwargs)
    assert isinstance(out, Value) and out.shape == y.shape and np.array_equal(out.data, y)
    (out * g).sum().backward()
    np.testing.assert_allclose(xv.grad.data, dx, rtol=1e-12, atol=1e-15)
    out, out_idx = _max_pool(dims)(xv, **kwargs, return_indices=True)
    assert isinstance(out_idx, Value) and out_idx.dtype == np.int64 and np.array_equal(out_idx.data, idx)
    (dx_graph,) = grad((out * g).sum(), xv, create_graph=True)
    np.testing.assert_allclose(dx_graph.data, dx, rtol=1e-12, atol=1e-15)


def test_max_pool_default_arguments_are_pytorchs(rng):
    """stride = kernel_size, padding 0, dilation 1, ceil_mode False, no indices: the same as the explicit call."""
    x2, x1 = rng.normal(size=(1, 2, 7, 7)), rng.normal(size=(1, 2, 7))
    explicit = dict(padding=0, dilation=1, ceil_mode=False)
    assert np.array_equal(F.max_pool2d(x2, 2), F.max_pool2d(x2, 2, 2, **explicit, return_indices=False))
    assert F.max_pool2d(x2, 2).shape == (1, 2, 3, 3) and F.max_pool1d(x1, 2).shape == (1, 2, 3)
    assert np.array_equal(F.max_pool1d(x1, 2), F.max_pool1d(x1, 2, 2, **explicit, return_indices=False))
    assert not isinstance(F.max_pool1d(Value(x1), 2), tuple) and not isinstance(F.max_pool2d(Value(x2), 2), tuple)


@pytest.mark.parametrize(("row", "kwargs", "values", "index", "gradient"), [
    # ties: the first maximum, even with a smaller element between the tied ones
    ([5.0, 1.0, 5.0], dict(kernel_size=3), [5.0], [0], [1.0, 0.0, 0.0]),
    ([5.0, 1.0, 5.0, 5.0], dict(kernel_size=2, stride=1), [5.0, 5.0, 5.0], [0, 2, 2], [1.0, 0.0, 2.0, 0.0]),
    # NaN wins, and of several NaNs the last
    ([1.0, np.nan, 2.0, 0.0], dict(kernel_size=4), [np.nan], [1], [0.0, 1.0, 0.0, 0.0]),
    ([1.0, np.nan, 2.0, np.nan], dict(kernel_size=4), [np.nan], [3], [0.0, 0.0, 0.0, 1.0]),
    ([np.nan, 1.0, 2.0, 3.0], dict(kernel_size=2, padding=1), [np.nan, 2.0, 3.0], [0, 2, 3], [1.0, 0.0, 1.0, 1.0]),
    ([3.0, np.nan, 2.0, 7.0], dict(kernel_size=2), [np.nan, 7.0], [1, 3], [0.0, 1.0, 0.0, 1.0]),
    ([0.0, 1.0, 2.0, np.nan], dict(kernel_size=2, padding=1), [0.0, 2.0, np.nan], [0, 2, 3], [1.0, 0.0, 1.0, 1.0]),
    ([1.0, 2.0, 3.0, np.nan, np.nan, 0.0], dict(kernel_size=2), [2.0, np.nan, np.nan], [1, 3, 4],
     [0.0, 1.0, 0.0, 1.0, 1.0, 0.0]),
    # infinities next to the padding: padding is never the maximum, even of a window of -inf
    ([np.inf, 1.0, 2.0], dict(kernel_size=2, padding=1), [np.inf, 2.0], [0, 2], [1.0, 0.0, 1.0]),
    ([-np.inf, -np.inf, 2.0, 3.0], dict(kernel_size=2, padding=1), [-np.inf, 2.0, 3.0], [0, 2, 3],
     [1.0, 0.0, 1.0, 1.0]),
    ([0.0, -1.0, 0.0], dict(kernel_size=3, stride=1, padding=1), [0.0, 0.0, 0.0], [0, 0, 2], [2.0, 0.0, 1.0]),
])
def test_max_pool_ties_nan_and_infinities(row, kwargs, values, index, gradient):
    """PyTorch's conventions, written down: each window starts at its first input element with -inf and takes
    an element that is larger or NaN; the 2-D form (the row as one image row) and both gradient paths agree."""
    for dims, x in [(1, np.array([[row]])), (2, np.array([[[row]]]))]:
        kw = kwargs if dims == 1 else {key: (0 if key == "padding" else 1, v) for key, v in kwargs.items()}
        xv = Value(x, requires_grad=True)
        y, idx = _max_pool(dims)(xv, **kw, return_indices=True)
        np.testing.assert_array_equal(y.data.ravel(), values)
        assert idx.data.ravel().tolist() == index
        (dx,) = grad(y.sum(), xv, create_graph=True)
        assert dx.data.ravel().tolist() == gradient
        y.sum().backward()
        assert xv.grad.data.ravel().tolist() == gradient
        assert np.array_equal(ref_max_pool(_as4d(x, dims), np.ones((1, 1, 1, len(values))),
                                           *_pairs(dims, **kw))[2].ravel(), gradient)


# ---------------------------------------------------------------------------- average pooling

AVG_CASES = [
    (2, (2, 3, 5, 6), dict(kernel_size=2)),
    (2, (2, 3, 5, 6), dict(kernel_size=3, stride=1, padding=1)),
    (2, (2, 3, 5, 6), dict(kernel_size=3, stride=1, padding=1, count_include_pad=False)),
    (2, (2, 1, 5, 7), dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1), ceil_mode=True)),
    (2, (2, 1, 5, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (2, (2, 1, 5, 7), dict(kernel_size=3, stride=2, padding=1, divisor_override=4)),
    (2, (2, 1, 5, 6), dict(kernel_size=2, padding=(1, 0), divisor_override=1)),        # window sums
    (2, (3, 5, 6), dict(kernel_size=3, stride=2, padding=1)),                          # unbatched
    (1, (2, 3, 9), dict(kernel_size=2)),
    (1, (2, 3, 9), dict(kernel_size=1)),
    (1, (2, 3, 9), dict(kernel_size=2, stride=1)),
    (1, (2, 3, 9), dict(kernel_size=3, padding=1)),                                    # count_include_pad default
    (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    (1, (2, 3, 9), dict(kernel_size=2, ceil_mode=True)),
    (1, (2, 3, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (1, (3, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),             # unbatched
    (1, (3, 8), dict(kernel_size=2)),                                                  # unbatched, defaults
]


def _avg_pool(dims: int):
    return F.avg_pool1d if dims == 1 else F.avg_pool2d


@pytest.mark.parametrize(("dims", "shape", "kwargs"), AVG_CASES)
def test_avg_pool_matches_the_loop(rng, dims, shape, kwargs):
    x = rng.normal(size=shape)
    k, s, p, _, ceil_mode = _pairs(dims, **kwargs)
    extra = {key: kwargs[key] for key in ("count_include_pad", "divisor_override") if key in kwargs}
    g4 = rng.normal(size=_out_shape(_as4d(x, dims), k, s, p, (1, 1), ceil_mode))
    y4, dx4 = ref_avg_pool(_as4d(x, dims), g4, k, s, p, ceil_mode, **extra)
    y, g, dx = _like(y4, x, dims), _like(g4, x, dims), _like(dx4, x, dims)

    plain = _avg_pool(dims)(x, **kwargs)
    assert isinstance(plain, np.ndarray) and plain.shape == y.shape
    np.testing.assert_allclose(plain, y, rtol=1e-13, atol=1e-15)
    xv = Value(x, requires_grad=True)
    out = _avg_pool(dims)(xv, **kwargs)
    assert isinstance(out, Value) and out.shape == y.shape
    np.testing.assert_allclose(out.data, y, rtol=1e-13, atol=1e-15)
    (dx_graph,) = grad((out * g).sum(), xv, create_graph=True)
    np.testing.assert_allclose(dx_graph.data, dx, rtol=1e-13, atol=1e-15)
    (out * g).sum().backward()
    np.testing.assert_allclose(xv.grad.data, dx, rtol=1e-13, atol=1e-15)


def test_avg_pool_default_arguments_are_pytorchs(rng):
    """stride = kernel_size, padding 0, ceil_mode False, count_include_pad True, no divisor_override."""
    x2, x1 = rng.normal(size=(1, 2, 7, 7)), rng.normal(size=(1, 2, 7))
    assert np.array_equal(F.avg_pool2d(x2, 2), F.avg_pool2d(x2, 2, 2, 0, False, True, None))
    assert np.array_equal(F.avg_pool1d(x1, 2), F.avg_pool1d(x1, 2, 2, 0, False, True))
    assert F.avg_pool2d(x2, 2).shape == (1, 2, 3, 3) and F.avg_pool1d(x1, 2).shape == (1, 2, 3)
    # with padding, the default counts the padding in the divisor
    assert np.array_equal(F.avg_pool1d(_X1, 3, 1, 1), F.avg_pool1d(_X1, 3, 1, 1, count_include_pad=True))
    assert F.avg_pool1d(np.ones((1, 1, 3)), 3, 1, 1).ravel().tolist() == pytest.approx([2 / 3, 1.0, 2 / 3])


# ---------------------------------------------------------------------------- adaptive average pooling

@pytest.mark.parametrize(("shape", "output_size", "expected"), [
    ((2, 3, 5, 7), 3, (3, 3)),
    ((2, 3, 5, 7), (2, 4), (2, 4)),
    ((2, 3, 5, 7), (None, 3), (5, 3)),       # None keeps that input size
    ((2, 3, 5, 7), (4, None), (4, 7)),
    ((2, 3, 5, 7), None, (5, 7)),
    ((3, 5, 7), (2, 3), (2, 3)),             # unbatched
    ((3, 6, 4), (None, 3), (6, 3)),          # unbatched
])
def test_adaptive_avg_pool2d_matches_the_loop(rng, shape, output_size, expected):
    x = rng.normal(size=shape)
    y = _like(ref_adaptive_avg_pool(_as4d(x, 2), expected), x, 2)
    plain = F.adaptive_avg_pool2d(x, output_size)
    assert isinstance(plain, np.ndarray) and plain.shape == y.shape
    np.testing.assert_allclose(plain, y, rtol=1e-13, atol=1e-15)
    xv = Value(x, requires_grad=True)
    out = F.adaptive_avg_pool2d(xv, output_size)
    assert isinstance(out, Value) and out.shape == y.shape
    np.testing.assert_allclose(out.data, y, rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------- float32 stays float32

@pytest.mark.parametrize(("call", "dims"), [
    (lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), 2),
    (lambda x: F.max_pool1d(x, 3, 2, 1), 1),
    (lambda x: F.avg_pool2d(x, 3, 2, 1), 2),
    (lambda x: F.avg_pool2d(x, 3, 2, 1, divisor_override=4), 2),
    (lambda x: F.avg_pool1d(x, 3, 2, 1), 1),
    (lambda x: F.adaptive_avg_pool2d(x, (2, 3)), 2),
])
def test_float32_stays_float32(rng, call, dims):
    """The output and both gradient paths keep the input's dtype (a float64 intermediate would upcast them)."""
    x = rng.normal(size=(2, 3, 5, 7) if dims == 2 else (2, 3, 7)).astype(np.float32)
    assert call(x).dtype == np.float32
    xv = Value(x, requires_grad=True)
    out = call(xv)
    assert out.dtype == np.float32
    (dx,) = grad(out.sum(), xv, create_graph=True)
    assert dx.dtype == np.float32
    out.sum().backward()
    assert xv.grad.dtype == np.float32


# ---------------------------------------------------------------------------- bad arguments

_X1, _X2 = np.zeros((1, 2, 6)), np.zeros((1, 2, 6, 6))
BAD = [   # (call, error, message): each message names the function and the argument
    (lambda: F.max_pool1d(np.zeros((6,)), 2), ValueError, r"^max_pool1d: input must be \(N, C, L\)"),
    (lambda: F.max_pool1d(_X1.astype(int), 2), TypeError, "^max_pool1d: input must be floating point"),
    (lambda: F.max_pool1d(_X1, 0), ValueError, "^max_pool1d: kernel_size must be >= 1, got 0$"),
    (lambda: F.max_pool1d(_X1, 2.0), TypeError,
     "^max_pool1d: kernel_size must be an int or a tuple of 1 ints, got 2.0$"),
    (lambda: F.max_pool1d(_X1, 2, 0), ValueError, "^max_pool1d: stride must be >= 1, got 0$"),
    (lambda: F.max_pool1d(_X1, 2, 1.0), TypeError, "^max_pool1d: stride must be an int or a tuple of 1 ints, got 1.0$"),
    (lambda: F.max_pool1d(_X1, 2, 1, -1), ValueError, "^max_pool1d: padding must be >= 0, got -1$"),
    (lambda: F.max_pool1d(_X1, 2, 1, "same"), TypeError, "^max_pool1d: padding must be an int"),
    (lambda: F.max_pool1d(_X1, 2, 1, 2), ValueError, r"^max_pool1d: padding \(2\) should be at most half"),
    (lambda: F.max_pool1d(_X1, 2, 1, 0, 0), ValueError, "^max_pool1d: dilation must be >= 1, got 0$"),
    (lambda: F.max_pool1d(_X1, 2, 1, 0, 1.5), TypeError, "^max_pool1d: dilation must be an int"),
    (lambda: F.max_pool1d(_X1, 4, 1, 0, 2), ValueError, r"^max_pool1d: the \(dilated\) window of size 7"),
    (lambda: F.max_pool1d(_X1, 2, ceil_mode="no"), TypeError, "^max_pool1d: ceil_mode must be True or False"),
    (lambda: F.max_pool1d(_X1, 2, return_indices="yes"), TypeError,
     "^max_pool1d: return_indices must be True or False"),
    (lambda: F.max_pool2d(np.zeros((6, 6)), 2), ValueError, r"^max_pool2d: input must be \(N, C, H, W\)"),
    (lambda: F.max_pool2d(_X2, 2, return_indices=1), TypeError, "^max_pool2d: return_indices must be True or False"),
    (lambda: F.max_pool2d(_X2, 0), ValueError, "^max_pool2d: kernel_size must be >= 1, got 0$"),
    (lambda: F.max_pool2d(_X2, 2, 0), ValueError, "^max_pool2d: stride must be >= 1, got 0$"),
    (lambda: F.max_pool2d(_X2, 2, 1.5), TypeError, "^max_pool2d: stride must be an int or a tuple of 2 ints, got 1.5$"),
    (lambda: F.max_pool2d(_X2, 2, 1, 0, 0), ValueError, "^max_pool2d: dilation must be >= 1, got 0$"),
    (lambda: F.max_pool2d(_X2, 2, 1, 0, (1,)), TypeError,
     r"^max_pool2d: dilation must be an int or a tuple of 2 ints, got \(1,\)$"),
    (lambda: F.max_pool2d(np.zeros((1, 1, 2, 6)), 2, 1, 1, 4), ValueError,   # 2 + 2 padding < 5 < 2 + 3 padding
     r"^max_pool2d: the \(dilated\) window of size 5 is larger than the padded input of size 4"),
    (lambda: F.avg_pool2d(_X2, 2, 1, -1), ValueError, "^avg_pool2d: padding must be >= 0, got -1$"),
    (lambda: F.avg_pool2d(_X2, 2, 1, "same"), TypeError,
     "^avg_pool2d: padding must be an int or a tuple of 2 ints, got 'same'$"),
    (lambda: F.avg_pool2d(_X2, 2, 1, (0, 2)), ValueError, r"^avg_pool2d: padding \(2\) should be at most half"),
    (lambda: F.avg_pool2d(_X2, (2, 7)), ValueError, r"^avg_pool2d: the \(dilated\) window of size 7"),
    (lambda: F.avg_pool2d(_X2, 2, divisor_override=0), ValueError,
     "^avg_pool2d: divisor_override must be a non-zero integer, got 0$"),
    (lambda: F.avg_pool2d(_X2, 2, divisor_override=2.5), ValueError,
     "^avg_pool2d: divisor_override must be a non-zero integer, got 2.5$"),
    (lambda: F.max_pool2d(np.zeros((0, 4, 4)), 2), ValueError, r"^max_pool2d: the input of shape \(0, 4, 4\) is empty"),
    (lambda: F.avg_pool1d(np.zeros((6,)), 2), ValueError, r"^avg_pool1d: input must be \(N, C, L\)"),
    (lambda: F.avg_pool1d(_X1, 0), ValueError, "^avg_pool1d: kernel_size must be >= 1, got 0$"),
    (lambda: F.avg_pool1d(_X1, (2, 2)), TypeError, r"^avg_pool1d: kernel_size must be an int or a tuple of 1 ints"),
    (lambda: F.avg_pool1d(_X1, 2, 0), ValueError, "^avg_pool1d: stride must be >= 1, got 0$"),
    (lambda: F.avg_pool1d(_X1, 2, "1"), TypeError, "^avg_pool1d: stride must be an int"),
    (lambda: F.avg_pool1d(_X1, 2, 1, -1), ValueError, "^avg_pool1d: padding must be >= 0, got -1$"),
    (lambda: F.avg_pool1d(_X1, 2, 1, 0.5), TypeError, "^avg_pool1d: padding must be an int"),
    (lambda: F.avg_pool1d(_X1, 2, 1, 2), ValueError, r"^avg_pool1d: padding \(2\) should be at most half"),
    (lambda: F.avg_pool1d(_X1, 7), ValueError, r"^avg_pool1d: the \(dilated\) window of size 7"),
    (lambda: F.avg_pool1d(_X1, 2, count_include_pad="no"), TypeError,
     "^avg_pool1d: count_include_pad must be True or False"),
    (lambda: F.avg_pool2d(np.zeros((6, 6)), 2), ValueError, r"^avg_pool2d: input must be \(N, C, H, W\)"),
    (lambda: F.adaptive_avg_pool2d(np.zeros((6, 6)), 2), ValueError,
     r"^adaptive_avg_pool2d: input must be \(N, C, H, W\)"),
    (lambda: F.adaptive_avg_pool2d(np.zeros((1, 0, 6, 6)), 2), ValueError,
     "^adaptive_avg_pool2d: the input of shape .* is empty"),
]


@pytest.mark.parametrize("call", [
    lambda x: F.max_pool2d(x, 2), lambda x: F.avg_pool2d(x, 2), lambda x: F.adaptive_avg_pool2d(x, 3),
    lambda x: F.max_pool1d(x[:, :, 0], 2), lambda x: F.avg_pool1d(x[:, :, 0], 2),
])
def test_an_empty_batch_gives_an_empty_batch(call):
    """A batch of size 0 is not an error (as in PyTorch); only the channels and spatial sizes must be >= 1."""
    out = call(np.zeros((0, 2, 6, 6)))
    assert out.shape[:2] == (0, 2) and out.size == 0


@pytest.mark.parametrize(("call", "error", "message"), BAD)
def test_bad_arguments_name_the_function_and_the_argument(call, error, message):
    """The message names the function and the argument, and quotes the value as the user passed it (a 1-D pool
    runs as a 2-D pool of height 1: its message must not show the (1, k) the argument becomes)."""
    with pytest.raises(error, match=message):
        call()
