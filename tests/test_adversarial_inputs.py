"""Inputs at the edges of the ops: dtypes NumPy handles differently from PyTorch (bool, small and unsigned
integers, float16), empty and 0-d arrays, reductions over empty axes, non-finite values, ignored targets.

Each case was a crash or a silent wrong result found by comparing every op with PyTorch over dtypes, shapes
(0-d, empty, both sides of the 4096-element in-place threshold), strides and special values. The references
are closed forms or NumPy in float64, written here (not our own output); float16 results are compared with
the float64 reference rounded to float16.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_lab.nn.functional as F
from tinygrad_lab import Value, ops
from tinygrad_lab.autograd.value import unwrap

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# (name, our function, float64 reference); every function of a bool or integer array is float64
FLOAT_FUNCTIONS = [
    ("exp", ops.exp, np.exp),
    ("log", ops.log, np.log),
    ("sqrt", ops.sqrt, np.sqrt),
    ("tanh", ops.tanh, np.tanh),
    ("sigmoid", F.sigmoid, _sigmoid),
    ("log_sigmoid", ops.log_sigmoid, lambda x: np.log(_sigmoid(x))),
    ("silu", F.silu, lambda x: x * _sigmoid(x)),
    ("gelu", F.gelu, lambda x: x * (1 + _erf(x / math.sqrt(2))) / 2),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))) / 2),
    ("erf", ops.erf, _erf),
    ("softmax", lambda x: F.softmax(x, dim=-1), lambda x: _softmax(x, -1)),
    ("log_softmax", lambda x: F.log_softmax(x, dim=-1), lambda x: np.log(_softmax(x, -1))),
    ("logsumexp", lambda x: ops.logsumexp(x, dim=-1), lambda x: np.log(np.exp(x).sum(axis=-1))),
]


@pytest.mark.parametrize("size", [3, 4097])          # both sides of the in-place threshold (4096)
@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32])
@pytest.mark.parametrize("name, fn, reference", FLOAT_FUNCTIONS, ids=[c[0] for c in FLOAT_FUNCTIONS])
def test_float_functions_of_bool_and_integer_arrays_are_float64(name, fn, reference, dtype, size):
    """NumPy gives bool, int8 and uint8 a float16 result and int16 a float32 one, and -x wraps around for
    unsigned integers: sigmoid of a bool array raised NumPy's TypeError, sigmoid of uint8 [1, 2, 200] was
    [0, 0, 0] (float16), exp of a bool array was float16. PyTorch gives all of them a float."""
    values = np.arange(size) % 7 + 1 if dtype is not np.bool_ else np.arange(size) % 2 == 0
    x = values.astype(dtype)
    with np.errstate(divide="ignore"):                      # log 0 = -inf (the bool False)
        expected = reference(x.astype(np.float64))
        outs = (fn(Value(x)).data, np.asarray(fn(x)))       # recorded, and on plain arrays
    for out in outs:
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("name, fn, reference", [c for c in FLOAT_FUNCTIONS if c[0] in ("erf", "gelu", "gelu_tanh")],
                         ids=["erf", "gelu", "gelu_tanh"])
def test_erf_and_gelu_keep_float16(name, fn, reference, rng):
    """float16 gave float32 (erf) and float64 (gelu) results; computed in float32 and rounded once, as PyTorch."""
    x = (rng.standard_normal(50) * 3).astype(np.float16)
    out = fn(Value(x)).data
    assert out.dtype == np.float16
    np.testing.assert_allclose(out, reference(x.astype(np.float64)).astype(np.float16), rtol=2e-3, atol=1e-4)


# ============================================================================ float16 accumulation

def test_float16_sums_accumulate_in_float32():
    """NumPy adds float16 along a strided axis one by one in float16: 4096 times 0.1 came out as 256."""
    x = np.full((4096, 2), 0.1, dtype=np.float16)
    expected = np.float16(4096 * float(np.float16(0.1)))         # 409.6 rounded to float16
    for out in (Value(x).sum(axis=0).data, ops.sum(x, axis=0), ops.sum_to(x, (1, 2))):
        assert out.dtype == np.float16
        np.testing.assert_array_equal(np.ravel(out), [expected, expected])


def test_float16_gradients_of_broadcasts_and_biases_accumulate_in_float32(rng):
    """The engine undoes broadcasting with sum_to, and linear's bias gradient is a sum over the batch."""
    g = rng.standard_normal((4096, 2)).astype(np.float16)
    expected = g.astype(np.float64).sum(axis=0)
    b = Value(np.zeros((1, 2), dtype=np.float16), requires_grad=True)
    (Value(np.zeros((4096, 1), dtype=np.float16)) + b).backward(g)
    bias = Value(np.zeros(2, dtype=np.float16), requires_grad=True)
    weight = Value(np.zeros((2, 3), dtype=np.float16), requires_grad=True)
    F.linear(Value(np.ones((4096, 3), dtype=np.float16)), weight, bias).backward(g)
    for grad in (b.grad.data.ravel(), bias.grad.data):
        assert grad.dtype == np.float16
        np.testing.assert_allclose(grad, expected, rtol=1e-3)


def test_float16_mse_mean_does_not_overflow():
    """A mean of 4097 squares of 4 summed in float16 overflowed to inf (PyTorch: 16)."""
    x = Value(np.full(4097, 4.0, dtype=np.float16))
    loss = F.mse_loss(x, np.zeros(4097, dtype=np.float16))
    assert loss.dtype == np.float16 and loss.item() == 16.0


@pytest.mark.parametrize("norm", ["layer_norm", "batch_norm"])
def test_float16_normalisation_statistics_do_not_overflow(norm):
    """Deviations over 256 squared are inf in float16: the normalised values were all 0 (PyTorch computes the
    statistics in float32)."""
    row = np.array([-88.8, 710.0, -710.0, 20.0])
    x = row.astype(np.float16)
    centred = x.astype(np.float64) - x.astype(np.float64).mean()
    expected = centred / np.sqrt((centred ** 2).mean() + 1e-5)
    g = np.array([1.0, 2.0, 3.0, 4.0])
    xhat_grad = (g - g.mean() - expected * (g * expected).mean()) / np.sqrt((centred ** 2).mean() + 1e-5)
    v = Value(x[None, :] if norm == "layer_norm" else x[:, None], requires_grad=True)
    if norm == "layer_norm":
        y = F.layer_norm(v, 4)
    else:
        y = F.batch_norm(v, None, None, training=True)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.data.ravel(), expected, rtol=2e-3)
    y.backward(g.astype(np.float16).reshape(y.shape))   # the gradient too (it was all 0)
    assert v.grad.dtype == np.float16
    np.testing.assert_allclose(v.grad.data.ravel(), xhat_grad, rtol=5e-3)


@pytest.mark.parametrize("fn, reference", [
    (lambda x: F.softmax(x, dim=0), lambda x: _softmax(x, 0)),
    (lambda x: F.log_softmax(x, dim=0), lambda x: np.log(_softmax(x, 0))),
    (lambda x: ops.logsumexp(x, dim=0), lambda x: np.log(np.exp(x).sum(axis=0))),
], ids=["softmax", "log_softmax", "logsumexp"])
def test_float16_softmax_family_over_a_long_axis(fn, reference, rng):
    """A float16 sum of ones stops at 2048 (2048 + 1 rounds to 2048): softmax over 4096 equal logits was 1/2048
    and logsumexp 7.625 instead of log 4096 = 8.318. PyTorch computes them in float32."""
    x = np.zeros((4096, 3), dtype=np.float16)
    x[:, 1] = rng.standard_normal(4096)
    out = fn(Value(x)).data
    assert out.dtype == np.float16
    np.testing.assert_allclose(out, reference(x.astype(np.float64)), rtol=2e-3, atol=1e-6)


def test_float16_softmax_gradient_over_a_long_axis(rng):
    x = Value(np.zeros((4096, 2), dtype=np.float16), requires_grad=True)
    g = rng.standard_normal((4096, 2))
    F.softmax(x, dim=0).backward(g.astype(np.float16))
    y = np.full((4096, 2), 1 / 4096)
    gh = g.astype(np.float16).astype(np.float64)
    expected = y * (gh - (gh * y).sum(axis=0))
    np.testing.assert_allclose(x.grad.data, expected, rtol=0, atol=2e-6)


# ============================================================================ empty and 0-d Values

@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_of_empty_values_is_empty(fn, dim):
    """max() of an empty axis has no identity: NumPy's ValueError leaked out (PyTorch returns the empty input)."""
    x = Value(np.zeros((0, 3)), requires_grad=True)
    y = getattr(F, fn)(x, dim=dim)
    assert y.shape == (0, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 3)


def test_logsumexp_over_an_empty_axis_is_minus_inf():
    """log of an empty sum of exponentials is log 0 = -inf (NumPy's ValueError leaked out before)."""
    out = ops.logsumexp(Value(np.zeros((0, 3))), dim=0)
    np.testing.assert_array_equal(out.data, [-np.inf, -np.inf, -np.inf])
    np.testing.assert_array_equal(ops.logsumexp(np.zeros((0, 3)), dim=0), [-np.inf] * 3)


@pytest.mark.parametrize("fn", [ops.max, ops.min])
def test_max_and_min_over_a_nonempty_axis_of_an_empty_value(fn):
    """Shape (0, 3) over dim 1 has 0 rows of 3 elements each: an empty result, not "max() of an empty Value";
    over dim 0 (or all) there is no element, and the error says so."""
    x = Value(np.zeros((0, 3)), requires_grad=True)
    y = fn(x, dim=1)
    assert y.shape == (0,)
    assert fn(x, dim=-1, keepdim=True).shape == (0, 1)
    y.sum().backward()
    assert x.grad.shape == (0, 3)
    for axis in (0, None):
        with pytest.raises(ValueError, match="nonzero length"):
            fn(x, axis)


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("fn", [lambda x, d: ops.mean(x, dim=d), lambda x, d: ops.mean(x, dim=d, keepdim=True),
                                lambda x, d: ops.flip(x, d)], ids=["mean", "mean_keepdim", "flip"])
def test_dim_0_and_minus_1_of_a_0d_value(fn, dim):
    """PyTorch accepts dim 0 and -1 for a 0-d tensor (and so did sum, max and softmax here); mean and flip
    raised NumPy's AxisError."""
    x = Value(np.float64(3.0), requires_grad=True)
    y = fn(x, dim)
    assert y.shape == () and y.item() == 3.0
    y.backward()
    assert x.grad.item() == 1.0


# ============================================================================ dtypes of mixed operands

def test_a_value_exponent_promotes_like_any_two_values():
    """A constant Value exponent (no grad) was cast to the base's dtype: float32 2.0001 became float16 2.0,
    so (-2) ** 2.0001 came out as 4 instead of nan, and the dtype depended on requires_grad."""
    base = Value(np.array([-2.0, 3.0], dtype=np.float16))
    exponent = np.array([2.0001, 2.0001], dtype=np.float32)
    with np.errstate(invalid="ignore"):
        constant = base ** Value(exponent)
        differentiable = base ** Value(exponent, requires_grad=True)
        expected = base.data.astype(np.float32) ** exponent     # NumPy's promotion: float32
    for out in (constant, differentiable):
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out.data, expected)
    assert np.isnan(constant.data[0])


# ============================================================================ non-finite values

def _adaptive_reference(x, out):
    h, w = x.shape[-2:]
    y = np.empty(x.shape[:-2] + out)
    for i in range(out[0]):
        r0, r1 = (i * h) // out[0], math.ceil((i + 1) * h / out[0])
        for j in range(out[1]):
            c0, c1 = (j * w) // out[1], math.ceil((j + 1) * w / out[1])
            y[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-2, -1))
    return y


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("out", [(2, 2), (3, 2), (None, 3), (5, 6)])
def test_adaptive_avg_pool2d_keeps_nonfinite_values_in_their_windows(rng, bad, out):
    """Averaging by matrix products spread an inf or nan to every window of its row and column (0 * inf)."""
    x = rng.standard_normal((2, 3, 5, 6))
    x[0, 1, 0, 0] = bad
    x[1, 2, 4, 3] = bad
    size = tuple(x.shape[2 + i] if o is None else o for i, o in enumerate(out))
    expected = _adaptive_reference(x, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # inf - inf in the reference
        np.testing.assert_allclose(F.adaptive_avg_pool2d(Value(x), out).data, expected, rtol=1e-14)
        np.testing.assert_allclose(F.adaptive_avg_pool2d(x, out), expected, rtol=1e-14)
    assert np.isfinite(expected).sum() > 0


# ============================================================================ ignored class targets

@pytest.mark.parametrize("targets", [[-100, -100, -100], [2, -100, 0]])
@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_ignored_class_targets_get_no_gradient(fn, targets, rng):
    """PyTorch never touches the rows of ignored targets; with every target ignored the mean is 0 / 0 = nan and
    the gradient was nan too (nan * 0 in the rule), where PyTorch's is 0."""
    x = Value(rng.standard_normal((3, 4)), requires_grad=True)
    t = np.array(targets)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = fn(x, t)
        loss.backward()
    ignored = t == -100
    np.testing.assert_array_equal(x.grad.data[ignored], 0.0)
    if ignored.all():
        assert np.isnan(loss.item())
    else:
        assert np.isfinite(x.grad.data).all() and np.abs(x.grad.data[~ignored]).sum() > 0


# ============================================================================ masked_fill of integer and bool Values

@pytest.mark.parametrize("dtype, value, expected", [
    (np.int32, 7.5, [7, 2, 7]),          # truncated to the input's dtype, as PyTorch
    (np.int64, -1, [-1, 2, -1]),
    (np.uint8, -1, [255, 2, 255]),       # negatives wrap around for unsigned integers, as PyTorch
    (np.bool_, 0.5, [True, False, True]),
])
def test_masked_fill_keeps_integer_and_bool_dtypes(dtype, value, expected):
    """NumPy's where(mask, 7.5, int array) is float64: masked_fill of an int or bool Value came out float64
    (a bool mask filled with 7.0), where PyTorch keeps the input's dtype."""
    mask = np.array([True, False, True])
    x = np.array([1, 2, 3], dtype=dtype) if dtype is not np.bool_ else np.array([False, False, False])
    for out in (ops.masked_fill(Value(x), mask, value).data, np.asarray(ops.masked_fill(x, mask, value))):
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, np.array(expected, dtype=dtype) if dtype is not np.bool_
                                      else [True, False, True])


@pytest.mark.parametrize("dtype, value", [(np.uint8, 300), (np.int32, 2 ** 31), (np.int32, 1e20), (np.int64, np.nan),
                                          (np.int64, np.inf)])
def test_masked_fill_refuses_values_that_do_not_fit_an_integer_dtype(dtype, value):
    with pytest.raises(ValueError, match="without overflow"):
        ops.masked_fill(Value(np.array([1, 2], dtype=dtype)), np.array([True, False]), value)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_float16_class_loss_means_do_not_overflow(fn):
    """4096 losses of about 16 sum to more than float16's largest number (65504): the mean was inf. Summed
    and divided in float32 it is the mean of the losses. (PyTorch's CPU kernels for float16 also return inf;
    MSELoss there accumulates in float32.)"""
    x = np.zeros((4096, 3), dtype=np.float16)
    x[:, 0] = 16.0
    x[:, 1] = -16.0
    target = np.ones(4096, dtype=np.int64)
    logits = x.astype(np.float64)
    losses = -(logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)))[:, 1] if fn is F.cross_entropy \
        else -logits[:, 1]
    v = Value(x, requires_grad=True)
    loss = fn(v, target)
    assert loss.dtype == np.float16
    np.testing.assert_allclose(loss.item(), losses.mean(), rtol=1e-3)
    loss.backward()
    assert v.grad.dtype == np.float16 and np.isfinite(v.grad.data).all()


# ============================================================================ linear with a broadcast bias

@pytest.mark.parametrize("x_shape, bias_shape", [((3, 4), (3, 5)), ((3, 4), (1, 5)), ((3, 4), ()), ((2, 3, 4), (1, 5)),
                                                 ((4,), (1,))])
def test_linear_with_a_bias_broadcast_over_the_batch(rng, x_shape, bias_shape):
    """PyTorch adds any bias that broadcasts to the output; a (3, 5) or (1, 5) bias ran forward and then crashed in
    backward (the op's bias gradient, summed over the batch, had shape (5,))."""
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((5, 4)), rng.standard_normal(bias_shape)
    xv, wv, bv = (Value(a, requires_grad=True) for a in (x, w, b))
    y = F.linear(xv, wv, bv)
    expected = x @ w.T + b
    np.testing.assert_allclose(y.data, expected, rtol=1e-14)
    np.testing.assert_allclose(F.linear(x, w, b), expected, rtol=1e-14)
    g = rng.standard_normal(expected.shape)
    y.backward(g)
    lead = g.ndim - b.ndim
    db = g.sum(axis=tuple(range(lead)) + tuple(lead + i for i, s in enumerate(b.shape) if s == 1), keepdims=True)
    np.testing.assert_allclose(bv.grad.data, db.reshape(b.shape), rtol=1e-13)
    np.testing.assert_allclose(xv.grad.data, g @ w, rtol=1e-13)
    np.testing.assert_allclose(wv.grad.data, g.reshape(-1, 5).T @ x.reshape(-1, 4), rtol=1e-13)


@pytest.mark.parametrize("x_shape, bias_shape", [((3, 4), (4,)), ((4,), (3, 5)), ((2, 3, 4), (3, 1)),
                                                 ((2, 3, 4), (6, 5))])
def test_linear_refuses_a_bias_that_does_not_fit_the_output(x_shape, bias_shape):
    """As PyTorch: the bias may not grow the output (nor, for a batch of more than one axis, fail to fit its rows)."""
    with pytest.raises(ValueError, match="does not broadcast to the output shape"):
        F.linear(Value(np.ones(x_shape)), Value(np.ones((5, 4))), Value(np.ones(bias_shape)))
    with pytest.raises(ValueError, match="does not broadcast to the output shape"):
        F.linear(np.ones(x_shape), np.ones((5, 4)), np.ones(bias_shape))


def test_linear_of_integer_arrays_with_a_float_bias():
    """The integer product was the buffer of an in-place `+= bias`: NumPy's casting error (as sigmoid's was)."""
    x, w, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(4, 3), np.array([0.5, 1.5, 2.5, 3.5])
    expected = x.astype(np.float64) @ w.T.astype(np.float64) + b
    for out in (F.linear(x, w, b), F.linear(Value(x), Value(w), Value(b)).data):
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("product", [lambda a, b: a @ b, lambda a, b: F.linear(a, b)], ids=["matmul", "linear"])
@pytest.mark.parametrize("which", ["left", "right", "both"])
def test_products_of_bool_values_are_refused(product, which):
    """NumPy's product of booleans is a logical or of ands (True, not 2): a silent wrong count; PyTorch refuses."""
    mask, ones = np.ones((2, 2), dtype=bool), np.ones((2, 2))
    a = Value(mask if which in ("left", "both") else ones)
    b = Value(mask if which in ("right", "both") else ones)
    with pytest.raises(TypeError, match="boolean"):
        product(a, b)


# ============================================================================ gradients at NaN (PyTorch's conventions)

@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_relu_and_abs_gradients_at_nan(dtype):
    """PyTorch's relu rule zeroes the gradient where x <= 0 (so a NaN passes it) and abs's is sgn(x), 0 at NaN;
    ours gave 0 (x > 0 is False at NaN) and NaN (NumPy's sign)."""
    values = np.array([np.nan, -1.0, -0.0, 0.0, 2.0, np.inf, -np.inf], dtype=dtype)
    x = Value(values, requires_grad=True)
    ops.relu(x).backward(np.ones(7, dtype=dtype))
    np.testing.assert_array_equal(x.grad.data, [1, 0, 0, 0, 1, 1, 0])
    x = Value(values, requires_grad=True)
    ops.abs(x).backward(np.ones(7, dtype=dtype))
    np.testing.assert_array_equal(x.grad.data, [0, -1, 0, 0, 1, 1, -1])
    assert x.grad.dtype == dtype


# ============================================================================ losses of integer predictions

@pytest.mark.parametrize("fn, reference", [
    (F.mse_loss, lambda x, y: ((x - y) ** 2).mean()),
    (F.l1_loss, lambda x, y: np.abs(x - y).mean()),
    (F.binary_cross_entropy_with_logits, lambda x, y: (np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))).mean()),
], ids=["mse_loss", "l1_loss", "binary_cross_entropy_with_logits"])
def test_losses_of_integer_values_do_not_truncate_float_targets(fn, reference):
    """The target was cast to the input's dtype: with an int64 Value input a target of 0.5 became 0, a silently
    different loss (2.5 instead of 1.25 for mse_loss([1, 2], [0.5, 0.5])); integer arrays were right."""
    x, y = np.array([1, 2, -3]), np.array([0.5, 0.25, 1.0])
    expected = reference(x.astype(np.float64), y)
    for out in (fn(Value(x), y), fn(x, y)):
        assert np.asarray(unwrap(out)).dtype == np.float64
        np.testing.assert_allclose(unwrap(out), expected, rtol=1e-14)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_float16_gelu_gradient_of_large_inputs(approximate):
    """The tanh form's rule in float16 overflowed (x^3 at 40, x^2 at 256: 0 * inf = NaN); the gradient of gelu is 1
    far right and 0 far left. Computed in float32 as the forward (and PyTorch) does."""
    x = Value(np.array([-700.0, -300.0, 300.0, 700.0, 60000.0], dtype=np.float16), requires_grad=True)
    F.gelu(x, approximate=approximate).backward(np.ones(5, dtype=np.float16))
    assert x.grad.dtype == np.float16
    np.testing.assert_array_equal(x.grad.data, [0, 0, 1, 1, 1])


def test_float16_gelu_gradient_matches_float64(rng):
    x = (rng.standard_normal(200) * 3).astype(np.float16)
    for approximate in ("none", "tanh"):
        v16, v64 = Value(x, requires_grad=True), Value(x.astype(np.float64), requires_grad=True)
        F.gelu(v16, approximate=approximate).sum().backward()
        F.gelu(v64, approximate=approximate).sum().backward()
        np.testing.assert_allclose(v16.grad.data, v64.grad.data, rtol=2e-3, atol=2e-4)


def test_float16_cross_entropy_with_probability_targets_does_not_overflow():
    x = np.zeros((4096, 3), dtype=np.float16)
    x[:, 0], x[:, 1] = 16.0, -16.0
    target = np.zeros((4096, 3), dtype=np.float16)
    target[:, 1] = 1.0
    logits = x.astype(np.float64)
    expected = -(logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)))[:, 1].mean()
    v = Value(x, requires_grad=True)
    loss = F.cross_entropy(v, target)
    assert loss.dtype == np.float16
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-3)
    loss.backward()
    assert v.grad.dtype == np.float16 and np.isfinite(v.grad.data).all()


# ============================================================================ an empty dim

@pytest.mark.parametrize("name, reference", [("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min),
                                             ("logsumexp", lambda a: np.log(np.exp(a).sum()))])
def test_an_empty_torch_dim_reduces_every_axis(name, reference, rng):
    """PyTorch's dim=() (or []) reduces over all axes; it reduced over none (NumPy's axis=(), which keeps that
    meaning under NumPy's name)."""
    a = rng.standard_normal((2, 3))
    x = Value(a, requires_grad=True)
    for dim in ((), []):
        out = getattr(ops, name)(x, dim=dim)
        assert out.shape == ()
        np.testing.assert_allclose(out.data, reference(a), rtol=1e-14)
    out.backward()
    assert x.grad.shape == (2, 3)
    if name in ("sum", "mean"):
        np.testing.assert_array_equal(getattr(ops, name)(x, axis=()).data, a)
