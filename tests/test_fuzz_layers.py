"""Hypothesis fuzzing of the issue-11 layers and ops, the LR schedulers and state-dict loading.

Same contract as tests/test_fuzz_api.py (whose helpers this file uses): each call either gives the right
result (checked against a direct NumPy computation: convolution by an explicit loop, pooling by explicit
windows, ...) or raises a documented error type (TypeError, ValueError, IndexError, RuntimeError) with a
message; never an unrelated exception. Refused loads leave the model or optimizer unchanged.
"""
import math

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_fuzz_api import WRONG_THINGS, assert_matches, attempt, tol
from test_fuzz_api import fuzz as _fuzz

import tinygrad_lab
from tinygrad_lab import Value, nn, optim
from tinygrad_lab import ops as O
from tinygrad_lab.nn import functional as F
from tinygrad_lab.optim import lr_scheduler as L

fuzz = _fuzz  # the same settings (TINYGRAD_LAB_FUZZ_EXAMPLES examples per test)

SMALL = st.integers(0, 4)
BAD_GEOM = st.one_of(st.integers(-1, 0), st.tuples(st.integers(0, 3), st.integers(0, 3)),
                     st.sampled_from([True, 1.0, "1", None, (1,), (1, 1, 1), [1, 2]]))
GEOM = st.one_of(st.integers(-1, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)),
                 st.sampled_from([True, 1.0, "1", None, (1,), (1, 1, 1), [1, 2]]))


def mostly_valid(low, high, n=2):
    """Kernel sizes, strides, paddings, dilations: mostly valid (an int or n of them), sometimes wrong."""
    good = st.one_of(st.integers(low, high), st.tuples(*[st.integers(low, high)] * n))
    return st.one_of(good, good, good, good, good, good, good, good, good, BAD_GEOM)


def float_input(shape, dtype=np.float64):
    return hnp.arrays(dtype, shape, elements=st.floats(-4, 4, width=32))


def _pairs(v, n=2):
    return (v,) * n if isinstance(v, int) else tuple(v)


# ---------------------------------------------------------------------------- requires_grad

@pytest.mark.parametrize("flag", ["yes", 1, 0, None, 1.0, [True]])
def test_requires_grad_must_be_a_bool(flag):
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        Value([1.0], requires_grad=flag)
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        nn.Parameter([1.0], requires_grad=flag)
    x = Value([1.0])
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        x.requires_grad_(flag)
    assert x.requires_grad is False
    assert Value([1.0], requires_grad=np.bool_(True)).requires_grad is True


# ---------------------------------------------------------------------------- convolution

def conv2d_reference(x, w, b, stride, padding, dilation, groups):
    """Cross-correlation by an explicit loop over every output element."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    per_group = o // groups
    for b_ in range(n):
        for oc in range(o):
            g = oc // per_group
            for i in range(ho):
                for j in range(wo):
                    acc = 0.0
                    for ic in range(cg):
                        for p in range(kh):
                            for q in range(kw):
                                acc += xp[b_, g * cg + ic, i * sh + p * dh, j * sw + q * dw] * w[oc, ic, p, q]
                    out[b_, oc, i, j] = acc + (b[oc] if b is not None else 0.0)
    return out


@fuzz
@given(data=st.data(), n=st.sampled_from([1, 2, 0]), groups=st.integers(1, 3), cg=st.sampled_from([1, 2, 0]),
       og=st.sampled_from([1, 2, 1, 2, 0]),
       k=st.tuples(st.sampled_from([1, 2, 3, 1, 2, 3, 0]), st.sampled_from([1, 2, 3, 1, 2, 3, 0])),
       size=st.tuples(st.sampled_from([3, 4, 5, 1, 2, 0]), st.sampled_from([3, 4, 5, 1, 2, 0])),
       stride=mostly_valid(1, 2), padding=st.one_of(mostly_valid(0, 2), mostly_valid(0, 2),
                                                   st.sampled_from(["same", "valid", "full"])),
       dilation=mostly_valid(1, 2),
       use_bias=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       wrong_groups=st.sampled_from([False, False, False, True]),
       unbatched=st.booleans())
def test_conv2d_matches_an_explicit_loop_or_raises_a_documented_error(data, n, groups, cg, og, k, size, stride,
                                                                      padding, dilation, use_bias, dtype,
                                                                      wrong_groups, unbatched):
    c, o = cg * groups, og * groups
    x = data.draw(float_input((n, c, *size), dtype))
    w = data.draw(float_input((o, cg, *k), dtype))
    b = data.draw(float_input((o,), dtype)) if use_bias else None
    given_groups = data.draw(st.sampled_from([groups + 1, 0, 1.0, "1", True, -1])) if wrong_groups else groups
    xv = Value(x[0] if unbatched and n else x, requires_grad=True)
    wv = Value(w, requires_grad=True)
    out, err = attempt(F.conv2d, xv, wv, None if b is None else Value(b), stride=stride, padding=padding,
                       dilation=dilation, groups=given_groups)
    if err is not None:
        event(str(err)[:45])
        return
    assert not isinstance(given_groups, (bool, float, str)), f"groups={given_groups!r} accepted"
    assert min(k) >= 1 and o >= 1, f"a weight of shape {w.shape} accepted"
    st_, di = _pairs(stride), _pairs(dilation)
    assert all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in st_ + di)
    if padding == "same":
        pad = tuple(d * (kk - 1) // 2 for d, kk in zip(di, k))
        assert all(d * (kk - 1) % 2 == 0 for d, kk in zip(di, k)) or True
    elif padding == "valid":
        pad = (0, 0)
    else:
        pad = _pairs(padding)
    if padding == "same":
        # PyTorch pads the extra row/column at the end: compare with an explicit asymmetric pad
        total = [d * (kk - 1) for d, kk in zip(di, k)]
        xs = x if not (unbatched and n) else x[:1]
        xs = np.pad(xs, ((0, 0), (0, 0), (total[0] // 2, total[0] - total[0] // 2),
                         (total[1] // 2, total[1] - total[1] // 2)))
        expected = conv2d_reference(xs, w, b, st_, (0, 0), di, groups)
    else:
        xs = x if not (unbatched and n) else x[:1]
        expected = conv2d_reference(xs, w, b, st_, pad, di, groups)
    if unbatched and n:
        expected = expected[0]
    assert out.dtype == dtype
    event("compared with the reference")
    assert_matches(out, expected, rtol=tol(dtype) * 64, atol=tol(dtype) * 64)
    attempt(out.sum().backward)
    assert xv.grad is None or xv.grad.shape == xv.shape
    assert wv.grad is None or wv.grad.shape == wv.shape


@fuzz
@given(data=st.data(), n=st.integers(1, 2), c=st.integers(1, 2), o=st.integers(1, 2), k=st.integers(1, 3),
       length=st.integers(0, 6), stride=mostly_valid(1, 2, 1), padding=mostly_valid(0, 2, 1),
       dilation=mostly_valid(1, 2, 1),
       weight_dtype=st.sampled_from([np.float64, np.float64, np.float64, np.float32, np.int64]))
def test_conv1d_matches_conv2d_of_height_one_or_raises_a_documented_error(data, n, c, o, k, length, stride,
                                                                          padding, dilation, weight_dtype):
    x = data.draw(float_input((n, c, length)))
    w = data.draw(float_input((o, c, k))).astype(weight_dtype)
    out, err = attempt(F.conv1d, Value(x), Value(w), stride=stride, padding=padding, dilation=dilation)
    if err is not None:
        return
    assert weight_dtype == np.float64, "conv1d accepted a weight of another dtype than the input"
    s, p, d = (_pairs(v, 1)[0] for v in (stride, padding, dilation))
    expected = conv2d_reference(x[:, :, None, :], w[:, :, None, :], None, (1, s), (0, p), (1, d), 1)[:, :, 0]
    event("compared with the reference")
    assert_matches(out, expected, rtol=1e-10, atol=1e-10)


@fuzz
@given(in_c=st.one_of(st.integers(-1, 3), WRONG_THINGS), out_c=st.one_of(st.integers(-1, 3), st.just(2.0)),
       kernel=GEOM, stride=GEOM, padding=st.one_of(GEOM, st.sampled_from(["same", "valid", "bogus"])),
       dilation=GEOM, groups=st.one_of(st.integers(-1, 3), st.just(True)), bias=st.sampled_from([True, False, 1]),
       padding_mode=st.sampled_from(["zeros", "reflect", "bogus", 0]),
       dtype=st.sampled_from([None, np.float32, np.int64, "bogus"]), one_d=st.booleans())
def test_conv_layers_construct_or_refuse_cleanly(in_c, out_c, kernel, stride, padding, dilation, groups, bias,
                                                 padding_mode, dtype, one_d):
    cls = nn.Conv1d if one_d else nn.Conv2d
    layer, err = attempt(cls, in_c, out_c, kernel, stride=stride, padding=padding, dilation=dilation,
                         groups=groups, bias=bias, padding_mode=padding_mode, dtype=dtype)
    if err is not None:
        return
    assert isinstance(in_c, int) and in_c >= 1 and out_c >= 1 and not isinstance(groups, bool)
    assert in_c % groups == 0 and out_c % groups == 0
    assert layer.weight.dtype.kind == "f"
    spatial = 1 if one_d else 2
    x = Value(np.ones((1, in_c) + (5,) * spatial, dtype=layer.weight.dtype))
    out, err = attempt(layer, x)
    if err is None:
        out.sum().backward()
        assert layer.weight.grad.shape == layer.weight.shape


# ---------------------------------------------------------------------------- pooling

def pool_reference(x, kernel, stride, padding, dilation, ceil_mode, how, count_include_pad=True):
    """Max or mean over explicit windows (2-D, batched); padded positions are -inf (max) or 0 (avg)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = x.shape

    def out_size(size, k, s, p, d):
        span = size + 2 * p - d * (k - 1) - 1
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= size + p:
            o -= 1
        return o
    ho, wo = out_size(h, kh, sh, ph, dh), out_size(w, kw, sw, pw, dw)
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            vals, count = [], 0
            for p in range(kh):
                for q in range(kw):
                    r, s = i * sh - ph + p * dh, j * sw - pw + q * dw
                    if how == "avg" and r < h + ph and s < w + pw:
                        count += 1                      # inside the padded input
                    if 0 <= r < h and 0 <= s < w:
                        vals.append(x[:, :, r, s])
            if how == "max":      # a dilated window can hold padding only: -inf, as PyTorch
                out[:, :, i, j] = np.max(vals, axis=0) if vals else -np.inf
            else:
                divisor = count if count_include_pad else len(vals)
                out[:, :, i, j] = np.sum(vals, axis=0) / divisor
    return out


@fuzz
@given(data=st.data(), n=st.integers(0, 2), c=st.integers(1, 2), size=st.tuples(st.integers(0, 6), st.integers(1, 6)),
       kernel=mostly_valid(1, 3), stride=st.one_of(st.none(), mostly_valid(1, 2)), padding=mostly_valid(0, 1),
       dilation=mostly_valid(1, 2), ceil_mode=st.booleans(),
       how=st.sampled_from(["max", "avg"]), count_include_pad=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_pool2d_matches_explicit_windows_or_raises_a_documented_error(data, n, c, size, kernel, stride, padding,
                                                                      dilation, ceil_mode, how, count_include_pad,
                                                                      dtype):
    x = data.draw(float_input((n, c, *size), dtype))
    xv = Value(x, requires_grad=True)
    if how == "max":
        out, err = attempt(F.max_pool2d, xv, kernel, stride, padding, dilation, ceil_mode)
    else:
        out, err = attempt(F.avg_pool2d, xv, kernel, stride, padding, ceil_mode, count_include_pad)
    if err is not None:
        return
    k = _pairs(kernel)
    s = k if stride is None else _pairs(stride)
    p = _pairs(padding)
    d = _pairs(dilation) if how == "max" else (1, 1)
    for v in k + s + d:
        assert isinstance(v, int) and not isinstance(v, bool) and v >= 1, (kernel, stride, dilation)
    assert all(isinstance(v, int) and 0 <= v <= kk // 2 for v, kk in zip(p, k)), f"padding {padding} accepted"
    expected = pool_reference(x.astype(np.float64), k, s, p, d, ceil_mode, how, count_include_pad)
    assert out.dtype == dtype
    event("compared with the reference")
    assert_matches(out, expected, rtol=tol(dtype) * 8, atol=tol(dtype) * 8)
    attempt(out.sum().backward)
    assert xv.grad is None or xv.grad.shape == xv.shape


@fuzz
@given(data=st.data(), size=st.tuples(st.integers(0, 5), st.integers(0, 5)),
       output_size=st.one_of(st.integers(-1, 4), st.tuples(st.integers(0, 4), st.one_of(st.none(),
                                                                                        st.integers(0, 4))),
                             st.sampled_from([None, 1.0, "2", (1,), True])))
def test_adaptive_avg_pool2d_matches_explicit_windows_or_raises_a_documented_error(data, size, output_size):
    x = data.draw(float_input((1, 2, *size)))
    out, err = attempt(F.adaptive_avg_pool2d, Value(x), output_size)
    if err is not None:
        return
    oh, ow = (output_size, output_size) if isinstance(output_size, int) or output_size is None else output_size
    oh, ow = size[0] if oh is None else oh, size[1] if ow is None else ow
    assert oh >= 1 and ow >= 1 and min(size) >= 1, f"{output_size} from {size} accepted"
    expected = np.zeros((1, 2, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, r1 = i * size[0] // oh, -(-(i + 1) * size[0] // oh)
            c0, c1 = j * size[1] // ow, -(-(j + 1) * size[1] // ow)
            expected[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    event("compared with the reference")
    assert_matches(out, expected, rtol=1e-12, atol=1e-12)


@fuzz
@given(kind=st.sampled_from(["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d"]),
       kernel=GEOM, stride=st.one_of(st.none(), GEOM), padding=GEOM, flag=st.sampled_from([True, False, 1, "no"]))
def test_pooling_layers_construct_or_refuse_cleanly(kind, kernel, stride, padding, flag):
    cls = getattr(nn, kind)
    if kind == "AdaptiveAvgPool2d":
        layer, err = attempt(cls, kernel)
    elif kind.startswith("Max"):
        layer, err = attempt(cls, kernel, stride, padding, ceil_mode=flag)
    else:
        layer, err = attempt(cls, kernel, stride, padding, ceil_mode=flag)
    if err is not None:
        return
    x = Value(np.arange(50.0).reshape((1, 2, 25) if kind.endswith("1d") else (1, 2, 5, 5)))
    attempt(layer, x)


# ---------------------------------------------------------------------------- normalization and statistics

@fuzz
@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
                    elements=st.floats(-100, 100)),
       axis=st.one_of(st.none(), st.integers(-4, 4), st.tuples(st.integers(-3, 3)), st.just("0")),
       correction=st.one_of(st.integers(-1, 3), st.floats(0, 2), st.sampled_from([None, "1", True, math.nan])),
       keepdims=st.booleans(), which=st.sampled_from(["var", "std"]))
def test_var_and_std_match_numpy_or_raise_a_documented_error(a, axis, correction, keepdims, which):
    x = Value(a, requires_grad=True)
    out, err = attempt(getattr(O, which), x, axis, correction, keepdims)
    if err is not None:
        return
    assert not isinstance(correction, (str, bool)), f"correction={correction!r} accepted"
    ddof = 1 if correction is None else correction
    np_axis = None if a.ndim == 0 else axis   # dim 0 or -1 of a 0-d Value is all of it (PyTorch; NumPy refuses)
    expected = getattr(np, which)(a, axis=np_axis, ddof=ddof, keepdims=keepdims)
    assert_matches(out, np.asarray(expected), rtol=1e-9, atol=1e-9)
    attempt(out.sum().backward)


@fuzz
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3),
       training=st.booleans(), eps=st.one_of(st.floats(1e-6, 1e-3), st.sampled_from([0.0, -1.0, "1e-5", math.nan])),
       momentum=st.one_of(st.floats(0, 1), st.sampled_from([None, -0.5, 2.0, "0.1"])),
       affine=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]))
def test_batch_norm_matches_numpy_or_raises_a_documented_error(data, shape, training, eps, momentum, affine, dtype):
    x = data.draw(float_input(shape, dtype))
    channels = shape[1] if len(shape) > 1 else shape[0]
    cls = nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d
    layer, err = attempt(cls, channels, eps=eps, momentum=momentum, affine=affine, dtype=dtype)
    if err is not None:
        return
    assert isinstance(eps, float) and eps >= 0, f"eps={eps!r} accepted"   # eps=0 as PyTorch
    layer.train(training)
    before = {k: v.copy() for k, v in layer.state_dict().items()}
    out, err = attempt(layer, Value(x))
    if err is not None:
        for key, value in layer.state_dict().items():
            np.testing.assert_array_equal(value, before[key])
        return
    assert len(shape) in (2, 3) or (len(shape) == 1 and False) or len(shape) == 2, f"input shape {shape} accepted"
    axes = (0,) if x.ndim == 2 else (0, 2)
    if training:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    else:
        mean = np.zeros((1, channels) + (1,) * (x.ndim - 2))
        var = np.ones_like(mean)
    expected = (x - mean) / np.sqrt(var + eps)
    assert out.dtype == dtype
    event("compared with the reference")
    assert_matches(out, expected, rtol=tol(dtype) * 64, atol=tol(dtype) * 64)


@fuzz
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
       normalized=st.one_of(st.integers(-1, 3), st.lists(st.integers(0, 3), max_size=3).map(tuple),
                            st.sampled_from([None, "3", 2.0, True])),
       elementwise_affine=st.sampled_from([True, False, "no"]))
def test_layer_norm_matches_numpy_or_raises_a_documented_error(data, shape, normalized, elementwise_affine):
    x = data.draw(float_input(shape))
    layer, err = attempt(nn.LayerNorm, normalized, elementwise_affine=elementwise_affine)
    if err is not None:
        return
    norm = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    assert norm and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in norm), normalized
    out, err = attempt(layer, Value(x))
    if err is not None:
        return
    assert tuple(shape[len(shape) - len(norm):]) == norm, f"LayerNorm({normalized}) accepted shape {shape}"
    axes = tuple(range(len(shape) - len(norm), len(shape)))
    expected = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)
    event("compared with the reference")
    assert_matches(out, expected, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------- indexing

INDEX_DIM = st.one_of(st.integers(-4, 4), st.sampled_from([None, 1.0, "0", True]))


@fuzz
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), dim=INDEX_DIM,
       index_dtype=st.sampled_from([np.int64, np.int32, np.float64, bool]))
def test_gather_matches_take_along_axis_or_raises_a_documented_error(data, shape, dim, index_dtype):
    a = data.draw(float_input(shape))
    index_shape = data.draw(st.one_of(st.just(shape), hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)))
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-4, 4))).astype(index_dtype)
    x = Value(a, requires_grad=True)
    out, err = attempt(O.gather, x, dim, index)
    if err is not None:
        return
    assert index_dtype in (np.int64, np.int32), f"an index of dtype {index.dtype} accepted"
    assert isinstance(dim, int) and not isinstance(dim, bool)
    d = dim % a.ndim
    assert index.ndim == a.ndim and ((0 <= index) & (index < a.shape[d])).all(), f"index {index} accepted"
    assert all(i <= s for j, (i, s) in enumerate(zip(index.shape, a.shape)) if j != d)
    expected = np.take_along_axis(a[tuple(slice(0, s) if j != d else slice(None)
                                          for j, s in enumerate(index.shape))], index, d)
    event("compared with the reference")
    assert_matches(out, expected, rtol=0)
    out.sum().backward()
    assert x.grad.shape == x.shape


@fuzz
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3), dim=INDEX_DIM,
       src_kind=st.sampled_from(["same", "number", "wrong", "int"]))
def test_scatter_add_matches_an_explicit_loop_or_raises_a_documented_error(data, shape, dim, src_kind):
    a = data.draw(float_input(shape))
    index_shape = data.draw(st.one_of(st.just(shape), hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)))
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-3, 3)))
    src = {"same": data.draw(float_input(index_shape)), "number": 1.5, "wrong": data.draw(WRONG_THINGS),
           "int": np.ones(index_shape, dtype=np.int64)}[src_kind]
    out, err = attempt(O.scatter_add, Value(a), dim, index, src)
    if err is not None:
        return
    assert src_kind == "same" or (src_kind == "int"), f"src {src!r} accepted"
    d = dim % a.ndim
    assert ((0 <= index) & (index < a.shape[d])).all(), f"index {index} accepted"
    expected = a.copy()
    src_arr = np.asarray(src, dtype=np.float64)
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[d] = index[pos]
        expected[tuple(target)] += src_arr[pos]
    event("compared with the reference")
    assert_matches(out, expected, rtol=1e-12, atol=1e-12)


@fuzz
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
       mask_kind=st.sampled_from(["bool", "broadcast", "int", "float", "wrong", "value"]),
       value=st.one_of(st.floats(-5, 5), st.integers(-3, 3), st.sampled_from([math.inf, math.nan, "1", None,
                                                                               [1.0]])))
def test_masked_fill_matches_numpy_where_or_raises_a_documented_error(data, shape, mask_kind, value):
    a = data.draw(float_input(shape, np.float32))
    mask_shape = shape if mask_kind != "broadcast" else data.draw(
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    mask = data.draw(hnp.arrays(bool, mask_shape))
    given_mask = {"bool": mask, "broadcast": mask, "int": mask.astype(np.int64), "float": mask.astype(float),
                  "wrong": data.draw(WRONG_THINGS), "value": Value(mask)}[mask_kind]
    out, err = attempt(O.masked_fill, Value(a, requires_grad=True), given_mask, value)
    if err is not None:
        return
    assert mask_kind in ("bool", "broadcast", "value"), f"mask {given_mask!r} accepted"
    assert isinstance(value, (int, float)), f"value {value!r} accepted"
    expected = np.where(mask, np.float32(value), a)
    assert out.dtype == np.float32
    event("compared with the reference")
    assert_matches(out, expected, rtol=0)


@fuzz
@given(labels=st.one_of(hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4),
                                   elements=st.integers(-2, 5)),
                        st.sampled_from([np.array([0.0, 1.0]), np.array([True]), [0, 2], 3, "a", None])),
       num_classes=st.one_of(st.integers(-2, 6), st.sampled_from([2.0, "3", True, None])))
def test_one_hot_matches_numpy_or_raises_a_documented_error(labels, num_classes):
    out, err = attempt(F.one_hot, labels if not isinstance(labels, np.ndarray) else Value(labels)
                       if labels.dtype.kind in "iu" else labels, num_classes)
    if err is not None:
        return
    arr = np.asarray(labels)
    assert arr.dtype.kind in "iu", f"labels {labels!r} accepted"
    assert isinstance(num_classes, int) and not isinstance(num_classes, bool)
    n = num_classes if num_classes != -1 else (int(arr.max()) + 1 if arr.size else 0)
    assert ((0 <= arr) & (arr < n)).all(), f"labels {arr} with num_classes={num_classes} accepted"
    expected = (arr[..., None] == np.arange(n)).astype(np.int64)
    event("compared with the reference")
    assert_matches(out, expected, rtol=0)


@fuzz
@given(data=st.data(), num=st.integers(1, 4), dim=st.integers(1, 3),
       index=st.one_of(hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
                                  elements=st.integers(0, 1)),
                       hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
                                  elements=st.integers(-2, 5)),
                       st.sampled_from([np.array([0.5]), np.array([True]), "a", None, [0, 1]])),
       padding_idx=st.one_of(st.none(), st.integers(-5, 5), st.just(1.0)),
       max_norm=st.one_of(st.none(), st.none(), st.floats(0.1, 2), st.sampled_from([-1.0, 0.0, "1"])))
def test_embedding_matches_numpy_indexing_or_raises_a_documented_error(data, num, dim, index, padding_idx,
                                                                       max_norm):
    tinygrad_lab.manual_seed(0)
    layer, err = attempt(nn.Embedding, num, dim, padding_idx=padding_idx, max_norm=max_norm)
    if err is not None:
        return
    assert padding_idx is None or (isinstance(padding_idx, int) and -num <= padding_idx < num)
    weight = layer.weight.data.copy()
    out, err = attempt(layer, index if not isinstance(index, np.ndarray) else Value(index))
    if err is not None:
        np.testing.assert_array_equal(layer.weight.data, weight)
        return
    arr = np.asarray(index)
    assert arr.dtype.kind in "iu" and ((0 <= arr) & (arr < num)).all(), f"index {index!r} accepted"
    if max_norm is not None:
        norms = np.linalg.norm(weight, axis=1, keepdims=True)
        used = np.zeros(num, bool)
        used[arr.ravel()] = True
        scale = np.where(used[:, None] & (norms > max_norm), max_norm / (norms + 1e-7), 1.0)
        weight = weight * scale
    event("compared with the reference")
    assert_matches(out, weight[arr], rtol=1e-6, atol=1e-12)


# ---------------------------------------------------------------------------- movement

@fuzz
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
       which=st.sampled_from(["flip", "repeat", "expand", "split", "chunk", "pad"]))
def test_movement_ops_match_numpy_or_raise_a_documented_error(data, shape, which):
    a = data.draw(float_input(shape))
    x = Value(a, requires_grad=True)
    ints = st.lists(st.integers(-4, 4), max_size=4)
    if which == "flip":
        dims = data.draw(st.one_of(st.integers(-4, 4), ints.map(tuple), st.sampled_from([None, "0", 1.0])))
        out, err = attempt(O.flip, x, dims)
        if err is None:
            expected = np.flip(a, dims) if a.ndim else a   # dim 0 or -1 of a 0-d Value, as PyTorch (NumPy refuses)
    elif which == "repeat":
        reps = data.draw(st.one_of(st.lists(st.integers(-1, 3), max_size=4), st.just([1.0]), st.just(["2"])))
        out, err = attempt(O.repeat, x, *reps)
        if err is None:
            assert len(reps) >= a.ndim and all(isinstance(r, int) and r >= 0 for r in reps), reps
            expected = np.tile(a, reps) if reps else a
    elif which == "expand":
        sizes = data.draw(st.one_of(st.lists(st.integers(-2, 3), max_size=4), st.just([1.5])))
        out, err = attempt(O.expand, x, *sizes)
        if err is None:
            lead = len(sizes) - a.ndim
            target = tuple(a.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
            expected = np.broadcast_to(a, target)
    elif which in ("split", "chunk"):
        arg = data.draw(st.one_of(st.integers(-1, 4), st.lists(st.integers(-1, 3), max_size=3),
                                  st.sampled_from([1.0, "2", None, True])))
        dim = data.draw(INDEX_DIM)
        out, err = attempt(getattr(O, which), x, arg, dim)
        if err is None:
            assert isinstance(dim, int) and not isinstance(dim, bool)
            d = dim % a.ndim
            n = a.shape[d]
            if which == "chunk":
                assert isinstance(arg, int) and arg >= 1
                size = -(-n // arg) if n else 0
                sizes = [min(size, n - i) for i in range(0, n, size)] if size else [0]
            elif isinstance(arg, int):
                assert arg >= 1 or (arg == 0 and n == 0)
                sizes = [min(arg, n - i) for i in range(0, n, arg)] if n else [0]
            else:
                sizes = arg
            assert [p.shape[d] for p in out] == sizes, (arg, n, [p.shape for p in out])
            expected = np.concatenate([p.data for p in out], axis=d) if out else a
            out = Value(expected)
            expected = a
    else:
        widths = data.draw(st.one_of(st.lists(st.integers(-2, 2), max_size=6), st.just([1.0, 1])))
        value = data.draw(st.one_of(st.floats(-2, 2), st.sampled_from([None, "0"])))
        out, err = attempt(F.pad, x, widths, value=value)
        if err is None:
            assert len(widths) % 2 == 0 and len(widths) // 2 <= a.ndim
            assert all(isinstance(w, int) for w in widths)
            pairs = [(0, 0)] * a.ndim
            for i in range(len(widths) // 2):
                pairs[a.ndim - 1 - i] = (widths[2 * i], widths[2 * i + 1])
            grown = np.pad(a, [(max(b, 0), max(e, 0)) for b, e in pairs] or 0, constant_values=value or 0.0)
            expected = grown[tuple(slice(-min(b, 0), grown.shape[i] + min(e, 0))
                                   for i, (b, e) in enumerate(pairs))]
    if err is not None:
        return
    event(f"{which} compared with the reference")
    assert_matches(out, np.asarray(expected), rtol=0)
    if out.requires_grad:
        out.sum().backward()
        assert x.grad.shape == x.shape


# ---------------------------------------------------------------------------- small layers

@fuzz
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
       dim=INDEX_DIM, sizes=st.one_of(st.lists(st.integers(-1, 4), max_size=3).map(tuple),
                                      st.sampled_from([None, 4, "2", (2.0, 2), [2, 2]])))
def test_unflatten_matches_numpy_reshape_or_raises_a_documented_error(data, shape, dim, sizes):
    a = data.draw(float_input(shape))
    layer, err = attempt(nn.Unflatten, dim, sizes)
    if err is not None:
        return
    out, err = attempt(layer, Value(a))
    if err is not None:
        return
    assert isinstance(dim, int) and not isinstance(dim, bool)
    d = dim % a.ndim
    expected = a.reshape(a.shape[:d] + tuple(sizes) + a.shape[d + 1:])
    event("compared with the reference")
    assert_matches(out, expected, rtol=0)


@fuzz
@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), elements=st.floats(-20, 20)),
       which=st.sampled_from(["GELU", "SiLU"]), arg=st.sampled_from(["none", "tanh", "bogus", None, True, False, 1]))
def test_gelu_and_silu_match_numpy_or_raise_a_documented_error(a, which, arg):
    from math import erf

    layer, err = attempt(getattr(nn, which), arg)
    if err is not None:
        return
    out, err = attempt(layer, Value(a))
    assert err is None, err
    if which == "SiLU":
        expected = a / (1 + np.exp(-a))
    elif arg == "tanh":
        expected = 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a ** 3)))
    else:
        assert arg == "none", f"GELU(approximate={arg!r}) accepted"
        expected = 0.5 * a * (1 + np.vectorize(erf, otypes=[float])(a / np.sqrt(2)))
    assert_matches(out, np.asarray(expected), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------- LR schedulers

SCHED_ARG = st.one_of(st.integers(-2, 5), st.floats(-1, 2), st.sampled_from(
    [None, "0.1", True, math.nan, math.inf, [0.5], lambda e: 0.5 ** e, [lambda e: 1.0], "min", "max", "abs"]))


@fuzz
@given(kind=st.sampled_from(["StepLR", "ExponentialLR", "LambdaLR", "ReduceLROnPlateau"]), a=SCHED_ARG,
       b=SCHED_ARG, c=SCHED_ARG, last_epoch=st.one_of(st.integers(-2, 3), st.sampled_from([1.0, "0"])),
       optimizer=st.sampled_from(["sgd", "adam", "none", "params"]))
def test_lr_scheduler_constructors_accept_or_refuse_cleanly_and_step(kind, a, b, c, last_epoch, optimizer):
    p = nn.Parameter([1.0, -2.0])
    opt = {"sgd": lambda: optim.SGD([p], lr=0.1), "adam": lambda: optim.Adam([p], lr=0.1),
           "none": lambda: None, "params": lambda: [p]}[optimizer]()
    make = {"StepLR": lambda: L.StepLR(opt, a, gamma=b, last_epoch=last_epoch),
            "ExponentialLR": lambda: L.ExponentialLR(opt, a, last_epoch=last_epoch),
            "LambdaLR": lambda: L.LambdaLR(opt, a, last_epoch=last_epoch),
            "ReduceLROnPlateau": lambda: L.ReduceLROnPlateau(opt, mode=a, factor=b, patience=c,
                                                             threshold_mode=a, min_lr=c)}[kind]
    lr_before = None if not hasattr(opt, "param_groups") else [g["lr"] for g in opt.param_groups]
    sched, err = attempt(make)
    if err is not None:
        if lr_before is not None and last_epoch == -1:
            assert [g["lr"] for g in opt.param_groups] == lr_before, "a refused scheduler changed the optimizer"
        return
    assert optimizer in ("sgd", "adam"), f"{kind} accepted optimizer {opt!r}"
    (p * p).sum().backward()
    opt.step()
    _, err = attempt(sched.step, 1.0) if kind == "ReduceLROnPlateau" else attempt(sched.step)
    for group in opt.param_groups:
        assert isinstance(group["lr"], float) and math.isfinite(group["lr"]) or err is not None, group["lr"]
    attempt(sched.state_dict)


# ---------------------------------------------------------------------------- state-dict loading

def _mutated(state, data, fill=WRONG_THINGS):
    """The state dict with one key dropped, renamed, added, or one value of another shape, dtype or type."""
    state = dict(state)
    key = data.draw(st.sampled_from(sorted(state)))
    how = data.draw(st.sampled_from(["drop", "rename", "extra", "shape", "dtype", "type", "int", "value", "same"]))
    value = state[key]
    if how in ("shape", "dtype", "int", "value") and not isinstance(value, (np.ndarray, np.generic, Value, int, float)):
        how = "type"
    if how == "drop":
        del state[key]
    elif how == "rename":
        state[key + "_"] = state.pop(key)
    elif how == "extra":
        state["extra.weight"] = np.zeros(2)
    elif how == "shape":
        state[key] = np.zeros(np.asarray(value).shape + (1,))
    elif how == "dtype":
        state[key] = np.asarray(value).astype(np.float32 if np.asarray(value).dtype != np.float32 else np.float64)
    elif how == "type":
        state[key] = data.draw(fill)
        how = "type" if state[key] is not None else "none"
    elif how == "int":
        state[key] = np.asarray(value).astype(np.int64)
    elif how == "value":
        state[key] = Value(np.asarray(value))
    return state, how, key


@fuzz
@given(data=st.data(), strict=st.sampled_from([True, False, "yes"]),
       arch=st.sampled_from(["mlp", "conv", "bn", "emb"]))
def test_module_load_state_dict_loads_or_refuses_and_leaves_the_model_unchanged(data, strict, arch):
    tinygrad_lab.manual_seed(0)
    make = {"mlp": lambda: nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1)),
            "conv": lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2)),
            "bn": lambda: nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.LayerNorm(3)),
            "emb": lambda: nn.Embedding(4, 2)}[arch]
    model, donor = make(), make()
    for p in donor.parameters():
        p.data[...] = p.data + 1.0
    before = {k: v.copy() for k, v in model.state_dict().items()}
    state, how, key = _mutated(donor.state_dict(), data)
    result, err = attempt(model.load_state_dict, state, strict=strict)
    after = model.state_dict()
    if err is not None:
        for k, v in after.items():
            np.testing.assert_array_equal(v, before[k])
            assert v.dtype == before[k].dtype
        return
    assert isinstance(strict, bool), f"strict={strict!r} accepted"
    assert how in ("same", "value", "int", "dtype") or not strict, f"{how} of {key!r} accepted with strict=True"
    for k, v in after.items():
        assert v.dtype == before[k].dtype, f"loading changed the dtype of {k}"
        if k in state and how not in ("type",):
            np.testing.assert_allclose(v, np.asarray(state[k].data if isinstance(state[k], Value) else state[k],
                                                     dtype=np.float64), rtol=1e-6)
    assert how != "type" or key not in state or strict is False


@fuzz
@given(data=st.data(), kind=st.sampled_from(["SGD", "Adam"]), other=st.sampled_from(["SGD", "Adam"]),
       part=st.sampled_from(["top", "state", "group"]))
def test_optimizer_load_state_dict_loads_or_refuses_and_leaves_the_optimizer_unchanged(data, kind, other, part):
    p = nn.Parameter([1.0, -2.0])
    q = nn.Parameter([0.5])
    make = {"SGD": lambda params: optim.SGD(params, lr=0.1, momentum=0.9),
            "Adam": lambda params: optim.Adam(params, lr=0.01)}
    opt = make[kind]([p, q])
    donor_p, donor_q = nn.Parameter([1.0, -2.0]), nn.Parameter([0.5])
    donor = make[other]([donor_p, donor_q])
    for o, params in ((opt, (p, q)), (donor, (donor_p, donor_q))):
        for _ in range(2):
            o.zero_grad()
            sum((v * v).sum() for v in params).backward()
            o.step()
    state = donor.state_dict()
    before = opt.state_dict()
    if part == "top":
        mutated, how, key = _mutated(state, data)
    elif part == "state":
        inner, how, key = _mutated(state["state"][0], data) if state["state"].get(0) else ({}, "same", None)
        mutated = {**state, "state": {**state["state"], 0: inner}}
    else:
        group, how, key = _mutated(state["param_groups"][0], data)
        mutated = {**state, "param_groups": [group]}
    _, err = attempt(opt.load_state_dict, mutated)
    if err is not None:
        assert_same_state(opt.state_dict(), before)
        return
    assert kind == other, f"a {other} state dict loaded into {kind}"
    # per-parameter state is free-form in PyTorch: a dropped buffer restarts (e.g. SGD's momentum)
    # and extra keys are kept or ignored, as PyTorch does
    # and a one-element 'step' is read as the count, as PyTorch keeps it as a tensor
    assert how in ("same", "value", "int", "dtype", "extra") or (part, how) in (
        ("state", "drop"), ("state", "none")) or (key == "step" and how == "shape"), \
        f"{how} of {key!r} in {part} accepted"
    opt.zero_grad()
    ((p * p).sum() + (q * q).sum()).backward()
    _, err = attempt(opt.step)
    assert err is None, f"step() after a load failed: {err}"


def assert_same_state(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert sorted(map(str, a)) == sorted(map(str, b))
        for k in a:
            assert_same_state(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_state(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b or (a != a and b != b)


# ---------------------------------------------------------------------------- checkpoints

LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=False), st.text(max_size=3),
                   hnp.arrays(hnp.scalar_dtypes(), hnp.array_shapes(min_dims=0, max_dims=2, max_side=2)),
                   st.sampled_from([math.nan, math.inf, np.float32(1.5), np.int64(3), object(), {1, 2}, b"x",
                                    1 + 2j, Value([1.0]), nn.Parameter([2.0])]))
TREES = st.recursive(LEAVES, lambda children: st.one_of(
    st.lists(children, max_size=3), st.lists(children, max_size=2).map(tuple),
    st.dictionaries(st.one_of(st.text(max_size=3), st.integers(-2, 2), st.sampled_from([1.5, None, (1,)])),
                    children, max_size=3)), max_leaves=6)


def assert_same_tree(a, b):
    if isinstance(a, Value):
        assert type(a) is type(b) and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.data, b.data)
    elif isinstance(a, dict):
        assert type(b) is dict and list(a) == list(b)
        for k in a:
            assert_same_tree(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_tree(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_array_equal(a, b)
    else:
        assert type(a) is type(b) and (a == b or (a != a and b != b)), (a, b)


@fuzz
@given(tree=TREES)
def test_checkpoint_save_and_load_round_trip_or_refuse(tree, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "c.ckpt"
    _, err = attempt(tinygrad_lab.save, tree, path)
    if err is not None:
        assert not path.exists(), "a refused save wrote a file"
        return
    loaded, err = attempt(tinygrad_lab.load, path)
    assert err is None, f"a saved checkpoint did not load: {err}"
    assert_same_tree(tree, loaded)


# ---------------------------------------------------------------------------- the bugs the fuzzing found

def _sgd():
    return optim.SGD([nn.Parameter([1.0])], lr=0.1)


@pytest.mark.parametrize(("call", "error", "match"), [
    # a window made of padding only gave -inf (max) or nan (avg); PyTorch refuses empty images
    (lambda: F.max_pool2d(Value(np.zeros((1, 1, 0, 0))), 2, padding=1), ValueError, "only the batch size"),
    (lambda: F.avg_pool2d(Value(np.zeros((1, 1, 0, 0))), 2, padding=1, count_include_pad=False), ValueError,
     "only the batch size"),
    (lambda: F.adaptive_avg_pool2d(Value(np.zeros((1, 2, 0, 0))), 1), ValueError, "only the batch size"),
    (lambda: F.adaptive_avg_pool2d(Value(np.zeros((1, 2, 3, 3))), True), TypeError, "output_size"),
    (lambda: F.adaptive_avg_pool2d(Value(np.zeros((1, 2, 3, 3))), (2.5, 2)), TypeError, "output_size"),
    # PyTorch: padding at most half the (undilated) kernel size
    (lambda: F.max_pool2d(Value(np.zeros((1, 1, 5, 5))), 2, padding=2, dilation=3), ValueError, "half"),
    (lambda: F.conv2d(Value(np.zeros((1, 1, 3, 3))), Value(np.zeros((1, 1, 0, 2)))), ValueError, "empty"),
    (lambda: F.conv2d(Value(np.zeros((1, 2, 3, 3))), Value(np.zeros((0, 2, 2, 2)))), ValueError, "empty"),
    (lambda: F.one_hot(np.array([0, 1]), 2.0), TypeError, "num_classes must be an int"),
    (lambda: F.one_hot(np.array([0, 1]), -2), ValueError, "num_classes"),
    (lambda: nn.Embedding(2, 1, padding_idx=1.0), TypeError, "padding_idx"),
    (lambda: F.embedding(np.array([0]), Value(np.ones((2, 1))), padding_idx=1.0), TypeError, "padding_idx"),
    (lambda: O.gather(Value(np.zeros((1, 1))), True, np.zeros((1, 1), np.int64)), TypeError, "must be an int"),
    (lambda: O.split(Value(np.zeros(0)), -1), ValueError, "split_size"),
    (lambda: nn.BatchNorm1d(2, eps=-1.0), ValueError, "eps"),
    (lambda: nn.BatchNorm1d(2, eps="1e-5"), TypeError, "eps"),
    (lambda: nn.BatchNorm1d(2, momentum="0.1"), TypeError, "momentum"),
    (lambda: nn.LayerNorm(2, eps=math.nan), ValueError, "eps"),
    (lambda: F.layer_norm(Value(np.ones((1, 2))), 2, eps="1e-5"), TypeError, "eps"),
    (lambda: F.batch_norm(Value(np.ones((2, 2))), None, None, training=True, eps=-1.0), ValueError, "eps"),
    (lambda: nn.Linear(2, 1).load_state_dict(nn.Linear(2, 1).state_dict(), strict="yes"), TypeError, "strict"),
    # the resume error was a KeyError (a bug by docs/engine.md "Errors")
    (lambda: L.StepLR(_sgd(), 1, last_epoch=0), ValueError, "initial_lr"),
    (lambda: L.LambdaLR(None, [lambda e: 1.0]), TypeError, "is not an Optimizer"),      # was AttributeError
    (lambda: L.StepLR(_sgd(), 1, gamma=math.nan), ValueError, "gamma"),               # lr became nan
    (lambda: L.StepLR(_sgd(), 1, gamma="0.1"), TypeError, "gamma"),
    (lambda: L.ExponentialLR(_sgd(), None), TypeError, "gamma"),
    (lambda: L.StepLR(_sgd(), 1, last_epoch=1.0), TypeError, "last_epoch"),
    (lambda: L.ReduceLROnPlateau(_sgd(), factor="0.1"), TypeError, "factor"),
    (lambda: L.ReduceLROnPlateau(_sgd(), patience=1.5), TypeError, "patience"),
    (lambda: L.ReduceLROnPlateau(_sgd(), min_lr=-1.0), ValueError, "min_lr"),
])
def test_bugs_found_by_fuzzing_are_refused_clearly(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_refused_scheduler_leaves_the_optimizer_unchanged():
    opt = _sgd()
    with pytest.raises(ValueError):
        L.StepLR(opt, 1, gamma=math.inf)
    assert opt.param_groups[0]["lr"] == 0.1
