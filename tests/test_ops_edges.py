"""The op functions beyond their gradients: plain arrays in, plain arrays out (the NumPy result); an array on
either side of a Value; float32 kept through forward and backward; and each op's `forward` (what
`Function.apply` and gradcheck's op-by-op report call) agreeing with the function that records it.

Each test pins behaviour a mutation run found unchecked (docs/mutation.md).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_lab as tg
from tinygrad_lab import Value, ops

A = np.array([[0.5, -1.5, 2.0], [-0.25, 1.0, 3.0]])
B = np.array([1.5, 0.5, -2.0])
POS = np.abs(A) + 0.5
COND = np.array([True, False, True])

# (name, our function on arrays, NumPy's answer)
ARRAY_CASES = [
    ("add", lambda: ops.add(A, B), A + B),
    ("sub", lambda: ops.sub(A, B), A - B),
    ("mul", lambda: ops.mul(A, B), A * B),
    ("div", lambda: ops.div(A, B), A / B),
    ("neg", lambda: ops.neg(A), -A),
    ("pow", lambda: ops.pow(POS, B), POS ** B),
    ("exp", lambda: ops.exp(A), np.exp(A)),
    ("log", lambda: ops.log(POS), np.log(POS)),
    ("sqrt", lambda: ops.sqrt(POS), np.sqrt(POS)),
    ("abs", lambda: ops.abs(A), np.abs(A)),
    ("tanh", lambda: ops.tanh(A), np.tanh(A)),
    ("sigmoid", lambda: ops.sigmoid(A), 1 / (1 + np.exp(-A))),
    ("relu", lambda: ops.relu(A), np.where(A > 0, A, 0.0)),
    ("leaky_relu", lambda: ops.leaky_relu(A, 0.2), np.where(A > 0, A, 0.2 * A)),
    ("leaky_relu_default", lambda: ops.leaky_relu(A), np.where(A > 0, A, 0.01 * A)),
    ("clip", lambda: ops.clip(A, -1.0, 1.0), np.minimum(np.maximum(A, -1.0), 1.0)),
    ("clip_min", lambda: ops.clip(A, min=0.0), np.maximum(A, 0.0)),
    ("clip_max", lambda: ops.clip(A, max=0.0), np.minimum(A, 0.0)),
    ("maximum", lambda: ops.maximum(A, B), np.where(A > B, A, B)),
    ("minimum", lambda: ops.minimum(A, B), np.where(A < B, A, B)),
    ("where", lambda: ops.where(COND, A, B), np.array([[0.5, 0.5, 2.0], [-0.25, 0.5, 3.0]])),
    ("sum", lambda: ops.sum(A, axis=1), A.sum(axis=1)),
    ("sum_keepdims", lambda: ops.sum(A, axis=1, keepdims=True), A.sum(axis=1, keepdims=True)),
    ("softmax", lambda: ops.softmax(A, 0), np.exp(A) / np.exp(A).sum(axis=0)),
    ("log_softmax", lambda: ops.log_softmax(A, dim=0), A - np.log(np.exp(A).sum(axis=0))),
    ("linear", lambda: ops.linear(A, A, B[:2]), A @ A.T + B[:2]),
    ("linear_no_bias", lambda: ops.linear(A, A), A @ A.T),
    ("permute", lambda: ops.permute(A, 1, 0), A.T),
    ("transpose", lambda: ops.transpose(A), A.T),
    ("mean", lambda: ops.mean(A, axis=0, keepdims=True), A.mean(axis=0, keepdims=True)),
    ("matmul", lambda: ops.matmul(A, B), A @ B),
    ("max", lambda: ops.max(A, axis=1, keepdims=True), A.max(axis=1, keepdims=True)),
    ("max_torch_names", lambda: ops.max(A, dim=0, keepdim=True), A.max(axis=0, keepdims=True)),
    ("min", lambda: ops.min(A, axis=(0, 1)), A.min()),
    ("min_torch_names", lambda: ops.min(A, dim=1, keepdim=True), A.min(axis=1, keepdims=True)),
    ("mean_torch_names", lambda: ops.mean(A, dim=[0], keepdim=True), A.mean(axis=0, keepdims=True)),
    ("logsumexp", lambda: ops.logsumexp(A, axis=1), np.log(np.exp(A).sum(axis=1))),
    ("logsumexp_keepdims", lambda: ops.logsumexp(A, dim=0, keepdim=True),
     np.log(np.exp(A).sum(axis=0, keepdims=True))),
    ("reshape", lambda: ops.reshape(A, (3, 2)), A.reshape(3, 2)),
    ("concat", lambda: ops.concat([A, B[None]], axis=0), np.concatenate([A, B[None]])),
    ("stack", lambda: ops.stack([B, B], axis=1), np.stack([B, B], axis=1)),
]


@pytest.mark.parametrize("name, ours, expected", ARRAY_CASES, ids=[c[0] for c in ARRAY_CASES])
def test_arrays_in_arrays_out(name, ours, expected):
    out = ours()
    assert not isinstance(out, Value)
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=0)


def test_cast_of_arrays():
    out = ops.cast(A, np.float32)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, A.astype(np.float32))


# (name, function of (array, Value), d out / d value for the sum of the outputs)
MIXED_CASES = [
    ("add", lambda a, v: ops.add(a, v), lambda a, b: np.ones_like(b)),
    ("sub", lambda a, v: ops.sub(a, v), lambda a, b: -np.ones_like(b)),
    ("mul", lambda a, v: ops.mul(a, v), lambda a, b: a),
    ("div", lambda a, v: ops.div(a, v), lambda a, b: -a / b ** 2),
    ("pow", lambda a, v: ops.pow(a, v), lambda a, b: a ** b * np.log(a)),
    ("maximum", lambda a, v: ops.maximum(a, v), lambda a, b: (b > a).astype(float)),
    ("minimum", lambda a, v: ops.minimum(a, v), lambda a, b: (b < a).astype(float)),
    ("where", lambda a, v: ops.where(COND, a, v), lambda a, b: (~COND).astype(float)),
]


@pytest.mark.parametrize("name, fn, grad", MIXED_CASES, ids=[c[0] for c in MIXED_CASES])
def test_an_array_on_the_left_of_a_value_is_a_constant(name, fn, grad):
    a, b = np.array([0.5, 2.0, 3.0]), np.array([1.5, 1.0, 4.0])
    v = Value(b, requires_grad=True)
    out = fn(a, v)
    assert isinstance(out, Value) and out.requires_grad
    out.sum().backward()
    np.testing.assert_allclose(v.grad.data, grad(a, b), rtol=1e-14)


# ---------------------------------------------------------------------------- float32


FLOAT32_CASES = [
    ("leaky_relu", lambda x: ops.leaky_relu(x, 0.2)),
    ("maximum", lambda x: ops.maximum(x, x * 0.5)),
    ("minimum", lambda x: ops.minimum(x, x * 0.5)),
    ("clip", lambda x: x.clip(-0.5, 0.5)),
    ("relu", lambda x: x.relu()),
    ("abs", lambda x: x.abs()),
    ("where", lambda x: ops.where(np.array([True, False, True, False]), x, x * 2)),
    ("pow_value", lambda x: ops.pow(x.abs() + 1, x)),
    ("max", lambda x: x.max()),
    ("sigmoid", lambda x: x.sigmoid()),
]


@pytest.mark.parametrize("name, fn", FLOAT32_CASES, ids=[c[0] for c in FLOAT32_CASES])
def test_float32_stays_float32_forward_and_backward(name, fn):
    x = Value(np.array([-1.0, 0.25, 2.0, -0.5], dtype=np.float32), requires_grad=True)
    out = fn(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_cast_changes_the_dtype_and_casts_the_gradient_back():
    x = Value(np.array([0.1, -2.5]), requires_grad=True)
    y = ops.cast(x, np.float32)
    assert y.dtype == np.float32 and y.data.tolist() == np.float32([0.1, -2.5]).tolist()
    (y * np.float32(3)).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.data.tolist() == [3.0, 3.0]
    x32 = Value(np.array([0.5], dtype=np.float32), requires_grad=True)
    z = x32.astype("float64")
    assert z.dtype == np.float64
    (z * 2).sum().backward()
    assert x32.grad.dtype == np.float32


# ---------------------------------------------------------------------------- forward agrees with the function


FORWARD_CASES = [
    ("sum", ops.Sum, dict(axis=1, keepdims=True), lambda v: ops.sum(v, axis=1, keepdims=True)),
    ("mean", ops.Mean, dict(axis=(0, 1), keepdims=False), lambda v: ops.mean(v, axis=(0, 1))),
    ("mean_axis", ops.Mean, dict(axis=1, keepdims=True), lambda v: ops.mean(v, axis=1, keepdims=True)),
    ("clip", ops.Clip, dict(min=-1.0, max=1.0), lambda v: v.clip(-1.0, 1.0)),
    ("max", ops.Max, dict(axis=0, keepdims=False), lambda v: ops.max(v, axis=0)),
    ("permute", ops.Permute, dict(axes=(1, 0)), lambda v: ops.permute(v, 1, 0)),
    ("reshape", ops.Reshape, dict(shape=(3, 2)), lambda v: ops.reshape(v, (3, 2))),
    ("softmax", ops.Softmax, dict(axis=0), lambda v: ops.softmax(v, 0)),
    ("log_softmax", ops.LogSoftmax, dict(axis=1), lambda v: ops.log_softmax(v, 1)),
    ("logsumexp", ops.LogSumExp, dict(axis=1, keepdims=False), lambda v: ops.logsumexp(v, 1)),
    ("sigmoid", ops.Sigmoid, dict(), lambda v: v.sigmoid()),
    ("broadcast_to", ops.BroadcastTo, dict(shape=(2, 2, 3)), lambda v: ops.broadcast_to(v, (2, 2, 3))),
]


@pytest.mark.parametrize("name, op, args, fn", FORWARD_CASES, ids=[c[0] for c in FORWARD_CASES])
def test_each_ops_forward_agrees_with_its_function(name, op, args, fn):
    recorded = fn(Value(A))
    direct = op.apply(Value(A), **args)
    np.testing.assert_allclose(direct.data, recorded.data, rtol=1e-15)
    assert direct.shape == recorded.shape


def test_where_forward_with_a_broadcast_condition():
    out = ops.Where.apply(Value(COND), Value(A), Value(B))
    np.testing.assert_array_equal(out.data, np.where(COND, A, B))
    np.testing.assert_array_equal(tg.where(COND, Value(A), Value(B)).data, out.data)


# ---------------------------------------------------------------------------- PyTorch's names for reductions


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "logsumexp"])
def test_reductions_take_dim_and_keepdim(name):
    reference = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
                 "logsumexp": lambda a, axis, keepdims: np.log(np.exp(a).sum(axis=axis, keepdims=keepdims))}[name]
    x = Value(A, requires_grad=True)
    out = getattr(ops, name)(x, dim=1, keepdim=True)
    np.testing.assert_allclose(out.data, reference(A, axis=1, keepdims=True), rtol=1e-14)
    out.sum().backward()
    assert x.grad.shape == A.shape
    numpy_names = getattr(ops, name)(Value(A), axis=[0, 1], keepdims=False)
    np.testing.assert_allclose(numpy_names.data, reference(A, axis=(0, 1), keepdims=False), rtol=1e-14)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "logsumexp"])
def test_reductions_refuse_bad_axes(name):
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of bounds for"):
        getattr(ops, name)(Value(A), axis=2)
    if name == "logsumexp":
        pytest.xfail("logsumexp leaves axis checks to NumPy: 'float' object cannot be interpreted as an integer")
    with pytest.raises(TypeError, match="axis must be None, an int or a tuple of ints"):
        getattr(ops, name)(Value(A), axis=1.5)


def test_permute_of_a_3d_value_and_of_one_axis():
    x = np.arange(24.0).reshape(2, 3, 4)
    out = ops.Permute.apply(Value(x), axes=(1, 0, 2))
    np.testing.assert_array_equal(out.data, x.transpose(1, 0, 2))
    np.testing.assert_array_equal(ops.permute(Value(x), (2, 0, 1)).data, x.transpose(2, 0, 1))
    assert ops.permute(Value([1.0, 2.0]), 0).data.tolist() == [1.0, 2.0]


def test_transpose_takes_two_axes_or_none():
    x = Value(np.zeros((2, 3, 4)))
    assert x.transpose().shape == (4, 3, 2) and x.transpose(0, 2).shape == (4, 3, 2)
    assert x.transpose(-1, 1).shape == (2, 4, 3)
    for args in [(0, None), (None, 1)]:
        with pytest.raises(TypeError, match="transpose\\(\\) takes two axes"):
            ops.transpose(x, *args)


# ---------------------------------------------------------------------------- a Value on the left, arrays on the right


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_a_value_on_the_left_of_an_array(name):
    a, b = np.array([0.5, 2.0]), np.array([1.5, 4.0])
    v = Value(a, requires_grad=True)
    out = getattr(ops, name)(v, b)
    assert isinstance(out, Value)
    out.sum().backward()
    expected = {"add": np.ones(2), "sub": np.ones(2), "mul": b, "div": 1 / b}[name]
    np.testing.assert_allclose(v.grad.data, expected, rtol=1e-15)


def test_neg_of_a_value():
    v = Value([1.0, -2.0], requires_grad=True)
    out = ops.neg(v)
    assert out.data.tolist() == [-1.0, 2.0]
    out.sum().backward()
    assert v.grad.data.tolist() == [-1.0, -1.0]


# Python numbers (and a list bias) take the Value's dtype: a float32 Value stays float32 (NumPy arrays promote)
LIKE_CASES = [
    ("add", lambda v: ops.add(v, 2.0)), ("add_left", lambda v: ops.add(2.0, v)),
    ("maximum", lambda v: ops.maximum(0.5, v)), ("minimum", lambda v: ops.minimum(v, 0.5)),
    ("where", lambda v: ops.where(np.array([True, False]), 0.5, v)),
    ("where_right", lambda v: ops.where(np.array([True, False]), v, 0.5)),
    ("linear_bias", lambda v: ops.linear(v, v, [0.5, -0.5])),
    ("pow_int_array", lambda v: ops.pow(v, np.array([[2, 3], [1, 2]]))),
]


@pytest.mark.parametrize("name, fn", LIKE_CASES, ids=[c[0] for c in LIKE_CASES])
def test_constants_take_the_values_dtype(name, fn):
    v = Value(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), requires_grad=True)
    out = fn(v)
    assert out.dtype == np.float32
    out.sum().backward()
    assert v.grad is not None


def test_linear_with_mixed_values_and_arrays():
    x, w, b = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [5.0, 6.0]]), np.array([0.5, -0.5])
    for xs, ws, bs in [(Value(x), w, b), (x, Value(w), b), (x, w, Value(b)), (Value(x), Value(w), b),
                       (Value(x), w, None)]:
        out = ops.linear(xs, ws, bs)
        assert isinstance(out, Value)
        np.testing.assert_allclose(out.data, x @ w.T + (b if bs is not None else 0), rtol=1e-15)


def test_matmul_shapes_of_vectors_and_scalars():
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    assert (a @ b).shape == () and (a @ b).data == 11.0
    m = Value(np.ones((3, 2, 4)))
    assert ops.matmul(a, m).shape == (3, 4) and ops.matmul(m.transpose(1, 2), a).shape == (3, 4)
    with pytest.raises(ValueError):
        ops.matmul(Value(2.0), a)
    with pytest.raises(ValueError):
        ops.matmul(a, Value(np.ones((3, 2))))


# ---------------------------------------------------------------------------- gradients of reductions, exactly

@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_gradients_along_an_axis(keepdims):
    x = np.array([[1.0, 4.0, 2.0], [3.0, -1.0, 0.5]])
    w = np.array([[2.0], [5.0]]) if keepdims else np.array([2.0, 5.0])
    cases = {
        "sum": (lambda v: ops.sum(v, 1, keepdims), np.repeat([[2.0], [5.0]], 3, axis=1)),
        "mean": (lambda v: ops.mean(v, 1, keepdims), np.repeat([[2.0], [5.0]], 3, axis=1) / 3),
        "max": (lambda v: ops.max(v, 1, keepdims), np.array([[0.0, 2.0, 0.0], [5.0, 0.0, 0.0]])),
        "logsumexp": (lambda v: ops.logsumexp(v, 1, keepdims),
                      np.exp(x) / np.exp(x).sum(axis=1, keepdims=True) * [[2.0], [5.0]]),
    }
    for name, (fn, expected) in cases.items():
        v = Value(x, requires_grad=True)
        (fn(v) * w).sum().backward()
        np.testing.assert_allclose(v.grad.data, expected, rtol=1e-14, err_msg=name)


@pytest.mark.parametrize("axis", [0, 1])
def test_softmax_gradients_along_an_axis(axis):
    x = np.array([[1.0, 4.0, 2.0], [3.0, -1.0, 0.5]])
    w = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    p = np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True)
    v = Value(x, requires_grad=True)
    (ops.log_softmax(v, axis) * w).sum().backward()
    np.testing.assert_allclose(v.grad.data, w - p * w.sum(axis=axis, keepdims=True), rtol=1e-13)
    v = Value(x, requires_grad=True)
    (ops.softmax(v, dim=axis) * w).sum().backward()
    np.testing.assert_allclose(v.grad.data, p * (w - (p * w).sum(axis=axis, keepdims=True)), rtol=1e-13)


def test_reduction_axes_are_checked_against_the_dimensions():
    with pytest.raises(np.exceptions.AxisError):
        Value([1.0, 2.0]).sum(axis=1)
    with pytest.raises(np.exceptions.AxisError):
        Value([1.0, 2.0]).sum(axis=-2)
    assert Value(2.0).sum(axis=0).data == 2.0 and Value(2.0).sum(axis=-1).data == 2.0
    with pytest.raises(np.exceptions.AxisError):
        Value(2.0).sum(axis=1)
    for fn in (ops.softmax, ops.log_softmax):
        with pytest.raises(np.exceptions.AxisError):
            fn(Value(np.ones((2, 3))), 2)


def test_logsumexp_keepdims_positional_on_values():
    x = np.array([[1.0, 4.0, 2.0], [3.0, -1.0, 0.5]])
    assert ops.logsumexp(Value(x), 1, True).shape == (2, 1)
    assert Value(x).logsumexp(0, True).shape == (1, 3)


def test_stack_and_softmax_take_dim():
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    assert ops.stack([a, b], dim=1).data.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(ops.softmax(Value(x), dim=0).data, np.exp(x) / np.exp(x).sum(axis=0), rtol=1e-15)
    np.testing.assert_allclose(ops.log_softmax(Value(x), dim=0).data, x - np.log(np.exp(x).sum(axis=0)),
                               rtol=1e-14)


def test_float16_sigmoid_without_overflow_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Value(np.array([-20.0, 0.0, 20.0], dtype=np.float16)).sigmoid()
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.data.astype(float), [0.0, 0.5, 1.0], atol=2e-5)


def test_broadcast_and_index_add_keep_float32():
    a32 = np.ones(3, dtype=np.float32)
    assert ops.broadcast_to(a32, (2, 3)).dtype == np.float32
    assert ops.broadcast_to(Value(a32), (2, 3)).dtype == np.float32
    out = ops.index_add(Value(a32), np.array([0, 2, 2]), (4,))
    assert out.dtype == np.float32 and out.data.tolist() == [1.0, 0.0, 2.0, 0.0]


def test_clip_forward_against_numpy():
    np.testing.assert_array_equal(ops.Clip.apply(Value(A), min=-1.0, max=1.0).data, np.clip(A, -1.0, 1.0))
    np.testing.assert_array_equal(ops.Clip.apply(Value(A), min=None, max=0.5).data, np.minimum(A, 0.5))


@pytest.mark.parametrize("left_is_value", [True, False])
def test_matmul_of_a_value_and_an_array(left_is_value):
    m, v = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5], [-1.0]])
    a, b = (Value(m, requires_grad=True), v) if left_is_value else (m, Value(v, requires_grad=True))
    out = ops.matmul(a, b)
    assert isinstance(out, Value)
    np.testing.assert_array_equal(out.data, m @ v)
    out.sum().backward()
    grad = (a if left_is_value else b).grad.data
    np.testing.assert_array_equal(grad, np.ones((2, 1)) @ v.T if left_is_value else m.T @ np.ones((2, 1)))


def test_default_axes_are_pytorchs():
    a, b = Value(np.ones((3, 4))), Value(np.zeros((3, 4)))
    assert ops.concat([a, b]).shape == (6, 4) and ops.stack([a, b]).shape == (2, 3, 4)
    assert ops.min(a).shape == () and ops.max(a).shape == () and ops.sum(a).shape == ()


@pytest.mark.parametrize(("shape", "axis", "keepdims"), [((0, 3), 0, False), ((0, 3), 1, False), ((2, 0), 1, True),
                                                         ((0,), None, False), ((0, 2), None, True)])
def test_a_mean_over_no_elements_is_nan_without_a_warning(shape, axis, keepdims):
    """PyTorch returns nan quietly; NumPy's own mean would warn "Mean of empty slice". An empty result stays empty."""
    x = Value(np.zeros(shape, dtype=np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.mean(axis=axis, keepdims=keepdims)
        out.sum().backward()
    expected_shape = np.zeros(shape).sum(axis=axis, keepdims=keepdims).shape
    assert out.shape == expected_shape and out.dtype == np.float32
    assert np.isnan(out.data).all()
    assert x.grad.shape == shape


# ---------------------------------------------------------------------------- split, chunk, expand (PyTorch's rules)

X6 = np.arange(12.0).reshape(2, 6)


def _pieces(parts):
    return [np.asarray(p.data if isinstance(p, Value) else p) for p in parts]


def test_split_by_a_list_of_sizes_along_a_dim():
    parts = _pieces(ops.split(Value(X6), [1, 3, 0, 2], dim=1))
    assert [p.shape for p in parts] == [(2, 1), (2, 3), (2, 0), (2, 2)]         # zero-size pieces allowed
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), X6)
    np.testing.assert_array_equal(parts[1], X6[:, 1:4])


def test_split_by_a_size_the_last_piece_smaller():
    parts = _pieces(ops.split(Value(X6), 4, dim=-1))
    assert [p.shape for p in parts] == [(2, 4), (2, 2)]
    parts = _pieces(ops.split(Value(np.arange(3.0)), 1))
    assert [p.tolist() for p in parts] == [[0.0], [1.0], [2.0]]


def test_split_of_an_empty_dimension_gives_one_empty_piece():
    for size in (0, 2):                                  # size 0 is allowed only for an empty dimension
        parts = _pieces(ops.split(Value(np.zeros((0, 3))), size))
        assert [p.shape for p in parts] == [(0, 3)]


@pytest.mark.parametrize("call, error, message", [
    (lambda: ops.split(Value(np.zeros(1)), 0), ValueError, "split_size must be positive"),
    (lambda: ops.split(Value(X6), 0, dim=1), ValueError, "split_size must be positive"),
    (lambda: ops.split(Value(X6), -1), ValueError, "split_size must be positive"),
    (lambda: ops.split(Value(X6), [2, -1, 5], dim=1), ValueError, "must be >= 0 and add up to 6"),
    (lambda: ops.split(Value(X6), 2, dim=0.5), TypeError, "dim must be an integer, got 0.5"),
    (lambda: ops.split(Value(X6), [1.5, 4.5], dim=1), TypeError, "split sizes must be an integer, got 1.5"),
    (lambda: ops.chunk(Value(X6), 2.0), TypeError, "chunks must be an integer, got 2.0"),
    (lambda: ops.chunk(Value(X6), 2, dim="1"), TypeError, "dim must be an integer, got '1'"),
    (lambda: ops.chunk(Value(X6), 0), ValueError, "chunks must be positive, got 0"),
    (lambda: ops.expand(Value([1.0]), 2.5), TypeError, "expand sizes must be an integer, got 2.5"),
    (lambda: ops.expand(Value([1.0]), -1, 1), ValueError, "new leading dimension 0 cannot be -1"),
])
def test_split_chunk_expand_arguments_are_named_in_errors(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert message in str(caught.value)


def test_chunk_sizes_are_ceil_n_over_chunks_along_dim():
    assert [p.shape for p in _pieces(ops.chunk(Value(X6), 4, dim=1))] == [(2, 2), (2, 2), (2, 2)]
    assert [p.tolist() for p in _pieces(ops.chunk(Value(np.arange(3.0)), 3))] == [[0.0], [1.0], [2.0]]
    assert [p.shape for p in _pieces(ops.chunk(Value(X6), 1, dim=1))] == [(2, 6)]


def test_expand_to_a_new_leading_dimension_of_size_zero():
    assert ops.expand(Value([1.0, 2.0]), 0, 2).shape == (0, 2)
    assert ops.expand(Value([1.0, 2.0]), (3, -1)).shape == (3, 2)


# ---------------------------------------------------------------------------- masked_fill, one_hot, embedding

def test_masked_fill_checks_its_mask_and_value():
    x = Value(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"mask of shape \(4, 2, 3\) does not broadcast to the input shape"):
        ops.masked_fill(x, np.ones((4, 2, 3), dtype=bool), 1.0)      # would broadcast the input up
    with pytest.raises(ValueError, match="value must be a number"):
        ops.masked_fill(x, np.ones(3, dtype=bool), np.array([1.0, 2.0, 3.0]))
    out = ops.masked_fill(x, np.array([True, False, True]), Value(5.0))  # a 0-d Value is a number
    np.testing.assert_array_equal(out.data, [[5.0, 0.0, 5.0]] * 2)


def test_one_hot_sizes_dtypes_and_checks():
    out = ops.one_hot(np.array([2, 0]), -1)
    assert out.dtype == np.int64 and out.tolist() == [[0, 0, 1], [1, 0, 0]] and not isinstance(out, Value)
    single = ops.one_hot(np.array([2]))
    assert single.tolist() == [[0, 0, 1]]
    wrapped = ops.one_hot(Value(np.array([1, 0])), 2)
    assert isinstance(wrapped, Value) and wrapped.data.tolist() == [[0, 1], [1, 0]]
    assert ops.one_hot(np.zeros(0, dtype=np.int64), 3).shape == (0, 3)
    with pytest.raises(ValueError, match="cannot infer num_classes from an empty input"):
        ops.one_hot(np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match="num_classes must be >= 0"):
        ops.one_hot(np.array([0]), -2)


def test_embedding_checks_indices_and_padding_idx():
    w = Value(np.arange(8.0).reshape(4, 2), requires_grad=True)
    for bad, shown in (([0, 4, 1], 4), ([-1, 2], -1), ([0, 5, -2], 5)):
        with pytest.raises(IndexError) as caught:
            ops.embedding(np.array(bad), w)
        assert str(caught.value).startswith(f"embedding: index {shown} is out of range for 4 embeddings")
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        ops.embedding(np.array([0]), w, padding_idx=4)
    with pytest.raises(NotImplementedError, match="sparse gradients do not exist here"):
        ops.embedding(np.array([0]), w, sparse=True)
    import inspect
    assert inspect.signature(ops.embedding).parameters["norm_type"].default == 2.0   # PyTorch's signature


@pytest.mark.parametrize("padding_idx, padded_row", [(None, None), (1, 1), (-1, 3), (-4, 0)])
def test_embedding_padding_row_gets_no_gradient(padding_idx, padded_row):
    w = Value(np.arange(8.0).reshape(4, 2), requires_grad=True)
    idx = np.array([[0, 1, 3], [3, 1, 2]])
    out = ops.embedding(idx, w, padding_idx=padding_idx)
    np.testing.assert_array_equal(out.data, w.data[idx])
    (out * np.array([1.0, 2.0])).sum().backward()
    counts = np.bincount(idx.ravel(), minlength=4).astype(float)
    if padded_row is not None:
        counts[padded_row] = 0.0
    np.testing.assert_array_equal(w.grad.data, counts[:, None] * [1.0, 2.0])


def test_embedding_of_plain_arrays_and_lists():
    weight = [[0.0, 1.0], [2.0, 3.0]]
    out = ops.embedding(np.array([1, 0, 1]), weight)
    assert isinstance(out, np.ndarray) and out.tolist() == [[2.0, 3.0], [0.0, 1.0], [2.0, 3.0]]


# ---------------------------------------------------------------------------- pad, flip (PyTorch's layout)

def test_pad_widths_run_from_the_last_axis_and_may_crop():
    x = np.arange(6.0).reshape(2, 3)
    out = ops.pad(Value(x), (1, 2))                             # last axis: 1 before, 2 after
    np.testing.assert_array_equal(out.data, np.pad(x, ((0, 0), (1, 2))))
    out = ops.pad(Value(x), (0, -1, 1, 0), value=7.0)          # crop one column at the end, a row of 7s on top
    np.testing.assert_array_equal(out.data, [[7.0, 7.0], [0.0, 1.0], [3.0, 4.0]])
    out = ops.pad(Value(x), (-1, 1))                           # crop in front, pad behind
    np.testing.assert_array_equal(out.data, [[1.0, 2.0, 0.0], [4.0, 5.0, 0.0]])
    assert ops.pad(Value(x), (-3, 0)).shape == (2, 0)          # cropped to nothing: allowed
    plain = ops.pad(x, (1, 1))
    assert isinstance(plain, np.ndarray) and plain.shape == (2, 5)


def test_pad_keeps_float32_and_sends_the_gradient_to_the_kept_part():
    x = Value(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    out = ops.pad(x, (1, -1), value=2.0)
    assert out.dtype == np.float32 and out.data.tolist() == [[2.0, 1.0, 1.0]] * 2
    (out * np.arange(3.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 2.0, 0.0]] * 2)


@pytest.mark.parametrize("widths, error, message", [
    ((1, 1, 1, 1, 1, 1), ValueError, r"even length of at most 2 \* ndim = 4"),
    ((1, 1, 1), ValueError, "even length"),
    ((1.5, 1), TypeError, "pad widths must be an integer, got 1.5"),
    ((-2, -2), ValueError, r"widths \(-2, -2\) would give axis 1 of size 3 a negative size"),
])
def test_pad_checks_its_widths(widths, error, message):
    with pytest.raises(error, match=message):
        ops.pad(Value(np.zeros((2, 3))), widths)


def test_flip_names_its_bad_dims():
    with pytest.raises(TypeError, match="flip dims must be an integer, got 0.5"):
        ops.flip(Value(np.zeros((2, 2))), (0.5,))


# ---------------------------------------------------------------------------- sigmoid, clip, arithmetic, pow

def test_sigmoid_of_a_large_array_matches_the_formula(rng):
    x = rng.normal(scale=5.0, size=(80, 80))                    # 6400 elements: the one-buffer path
    expected = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(ops.sigmoid(x), expected, rtol=1e-15)
    np.testing.assert_allclose(Value(x).sigmoid().data, expected, rtol=1e-15)
    assert not np.shares_memory(ops.sigmoid(x), x)


def test_clip_with_array_bounds_keeps_the_values_dtype():
    x = Value(np.array([-3.0, 0.25, 3.0], dtype=np.float32))
    out = ops.clip(x, np.array([-1.0, 0.5, -2.0]), [1.0, 1.0, 2.0])   # float64 array and a list
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.array([-1.0, 0.5, 2.0], dtype=np.float32))
    out = ops.clip(Value([-3.0, 3.0]), (-1, 0), None)                  # integer bounds
    assert out.dtype == np.float64 and out.data.tolist() == [-1.0, 3.0]


@pytest.mark.parametrize("fn, expected", [(ops.sub, A - B), (ops.mul, A * B), (ops.div, A / B)])
def test_a_value_on_the_left_of_an_array_is_recorded(fn, expected):
    a = Value(A, requires_grad=True)
    out = fn(a, B)
    assert isinstance(out, Value)
    np.testing.assert_allclose(out.data, expected, rtol=1e-15)
    out.sum().backward()
    assert a.grad is not None


def test_log_sigmoid_of_an_array_is_an_array():
    out = ops.log_sigmoid(np.array([0.0, 2.0]))
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, -np.log1p(np.exp(-np.array([0.0, 2.0]))), rtol=1e-15)


def test_pow_with_an_array_exponent_of_zeros_at_zero_and_infinity():
    x = Value([0.0, 2.0, 0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                          # no 0 ** -1 on the way
        ops.pow(x, np.array([0.0, 3.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 12.0, 0.0])   # d/dx x**0 = 0 (PyTorch), also at 0
    x = Value([np.inf, 2.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        ops.pow(x, np.array([0.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 12.0])          # ... and at infinity


def test_pow_value_exponent_with_a_zero_base_and_exponent_among_others():
    a = Value([0.0, 2.0, 0.5], requires_grad=True)
    b = Value([0.0, 3.0, -1.0], requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(a.grad.data, [0.0, 12.0, -4.0], rtol=1e-15)        # b a^(b-1); 0 at 0 ** 0
    np.testing.assert_allclose(b.grad.data, [0.0, 8 * np.log(2.0), 2 * np.log(0.5)], rtol=1e-15)


def test_linear_input_gradient_with_a_frozen_weight():
    x = Value(np.ones((2, 3)), requires_grad=True)
    w = Value(np.arange(12.0).reshape(4, 3))                    # no gradient wanted for the weight
    ops.linear(x, w, Value(np.zeros(4), requires_grad=True)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.tile(w.data.sum(axis=0), (2, 1)))
    assert w.grad is None


# ---------------------------------------------------------------------------- scatter_add and index checks

def _scatter_add_loop(x, dim, index, src):
    """PyTorch's definition: out[index[i][j]][j] += src[i][j] (dim 0), out[i][index[i][j]] += src[i][j] (dim 1)."""
    out = np.array(x, copy=True)
    for i in range(index.shape[0]):
        for j in range(index.shape[1]):
            target = (index[i, j], j) if dim == 0 else (i, index[i, j])
            out[target] += src[i, j]
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_add_matches_its_definition(dtype, dim, rng):
    x = rng.integers(-5, 5, size=(3, 4)).astype(dtype)
    index = np.array([[0, 2, 1], [2, 2, 0]]) if dim == 0 else np.array([[3, 3], [0, 1], [1, 1]])
    src = rng.integers(-5, 5, size=(3, 4)).astype(dtype)       # larger than index: only its corner is used
    expected, before = _scatter_add_loop(x, dim % 2, index, src), x.copy()
    out = ops.scatter_add(x, dim, index, src)
    assert isinstance(out, np.ndarray) and out.dtype == dtype   # arrays in, an array out
    np.testing.assert_array_equal(out, expected)
    if dtype != np.int64:
        value = ops.scatter_add(Value(x), dim, index, Value(src))
        np.testing.assert_array_equal(value.data, expected)
    np.testing.assert_array_equal(x, before)                    # the input is not changed in place


@pytest.mark.parametrize("call, error, message", [
    (lambda: ops.gather(np.zeros((2, 3)), 1, np.zeros((2, 3))), TypeError, "gather: index must hold integers"),
    (lambda: ops.gather(np.zeros((2, 3)), 1, np.zeros(3, dtype=int)), ValueError,
     r"gather: index must have as many dimensions as the input \(2\), got shape \(3,\)"),
    (lambda: ops.gather(np.zeros((2, 3)), 1, np.zeros((3, 1), dtype=int)), ValueError,
     r"gather: index shape \(3, 1\) is larger than the input shape \(2, 3\) in dimension 0"),
    (lambda: ops.scatter_add(np.zeros((4, 3)), 0, np.zeros((2, 3), dtype=int), np.zeros((2, 2))), ValueError,
     r"scatter_add: index shape \(2, 3\) is larger than the src shape \(2, 2\) in dimension 1"),
    (lambda: ops.scatter_add(np.zeros((4, 3)), 0, np.zeros((2, 3), dtype=int), np.zeros(6)), ValueError,
     "scatter_add: src must have as many dimensions as the input"),
    (lambda: ops.gather(np.zeros((2, 3)), 1, np.array([[0, 3], [1, -1]])), IndexError,
     "gather: index 3 is out of bounds for dimension 1 with size 3"),
    (lambda: ops.gather(np.zeros((2, 3)), -1, np.array([[0, 1], [-1, 2]])), IndexError,
     "gather: index -1 is out of bounds for dimension 1 with size 3"),
])
def test_index_checks_name_the_op_and_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_gather_along_the_last_dim_with_an_index_smaller_than_the_input():
    x = np.arange(12.0).reshape(3, 4)
    index = np.array([[3, 0], [1, 1]])                          # 2 rows of 3, 2 columns of 4
    np.testing.assert_array_equal(ops.gather(x, -1, index), [[3.0, 0.0], [5.0, 5.0]])
    v = Value(x, requires_grad=True)
    ops.gather(v, 1, index).sum().backward()
    expected = np.zeros((3, 4))
    expected[0, 3] = expected[0, 0] = 1.0
    expected[1, 1] = 2.0
    np.testing.assert_array_equal(v.grad.data, expected)


# ---------------------------------------------------------------------------- NumPy operands, repeat, matmul

def test_binary_ops_without_values_follow_numpys_operand_rules():
    out = ops.add([1.0, 2.0], (3.0, 4.0))                       # lists become arrays
    assert isinstance(out, np.ndarray) and out.tolist() == [4.0, 6.0]
    out = ops.add(2, 3)                                         # two Python numbers: a NumPy number, as np.add
    assert isinstance(out, np.integer) and out == 5
    assert ops.sub(np.float32(1.5), 2.0).dtype == np.float32    # a Python number takes the array's dtype
    assert ops.mul(0.5, np.array([1.0], dtype=np.float32)).dtype == np.float32
    assert ops.div([3.0], np.float32(2.0)).dtype == np.float64  # a list is a float64 array
    assert ops.matmul([[1.0, 2.0]], [[3.0], [4.0]]).tolist() == [[11.0]]


def test_repeat_counts():
    x = Value([[1.0, 2.0]])
    assert ops.repeat(x, 2, 0, 1).shape == (2, 0, 2)            # an extra leading axis, a zero count
    np.testing.assert_array_equal(ops.repeat(x, (1, 2)).data, [[1.0, 2.0, 1.0, 2.0]])
    np.testing.assert_array_equal(ops.repeat(np.array([1, 2]), 2), [1, 2, 1, 2])
    with pytest.raises(ValueError, match=r"the Value has 2 dimension\(s\) but 1 count\(s\) were given"):
        ops.repeat(x, 2)
    with pytest.raises(ValueError, match="counts must be >= 0"):
        ops.repeat(x, 1, -1)
    with pytest.raises(TypeError, match="repeat counts must be an integer, got 2.0"):
        ops.repeat(x, 1, 2.0)


def test_matmul_shapes_and_alignment_messages():
    a, b3 = Value(np.ones(3)), Value(np.ones((2, 3, 4)))
    assert ops.matmul(a, b3).shape == (2, 4)
    assert ops.matmul(Value(np.ones((2, 3))), a).shape == (2,)
    assert ops.matmul(a, a).shape == ()
    with pytest.raises(ValueError, match=r"3 \(last dim of the left\) != 4 \(only dim of the right\)"):
        ops.matmul(Value(np.ones((2, 3))), Value(np.ones(4)))
    with pytest.raises(ValueError, match=r"3 \(last dim of the left\) != 4 \(second-to-last dim of the right\)"):
        ops.matmul(Value(np.ones((2, 3))), Value(np.ones((4, 5))))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        ops.matmul(Value(2.0), Value(np.ones(3)))


def test_broadcast_to_and_sum_to_refuse_impossible_shapes():
    x = Value(np.ones((1, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast shape \(1, 3\) to \(3,\)"):
        ops.broadcast_to(x, (3,))                                # would drop a leading 1 silently
    y = Value(np.ones((2, 3)))
    for shape in [(4, 3), (1, 2, 3), (1.0, 3), (2,)]:
        with pytest.raises(ValueError, match=r"sum_to: shape \(2, 3\) cannot be summed to"):
            ops.sum_to(y, shape)
    with pytest.raises(TypeError, match="a shape must be a tuple of integers"):
        ops.sum_to(y, (2.0, 3))
    same = ops.sum_to(y, (2, 3))                                 # the same shape: the Value itself
    assert same is y
    assert ops.broadcast_to(y, (2, 3)) is y
    np.testing.assert_array_equal(ops.sum_to(y, (1, 3)).data, [[2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(ops.sum_to(y, (3,)).data, [2.0, 2.0, 2.0])   # leading axes summed away


@pytest.mark.parametrize("fn, reduce", [(ops.sum, np.sum), (ops.mean, np.mean)])
def test_reductions_take_pytorchs_dim_and_keepdim_and_list_axes(fn, reduce):
    x = Value(A)
    np.testing.assert_allclose(fn(x, dim=1).data, reduce(A, axis=1), rtol=1e-15)
    assert fn(x, axis=1, keepdim=True).shape == (2, 1)
    assert fn(x, dim=0, keepdim=True).shape == (1, 3)
    np.testing.assert_allclose(fn(x, axis=[0]).data, reduce(A, axis=0), rtol=1e-15)
    assert fn(x, axis=[1], keepdims=True).shape == (2, 1)
    assert fn(x, axis=[0, 1]).shape == ()


def test_scatter_add_of_a_list_into_a_float32_value_is_float32():
    src = Value(np.array([1.0, 2.0, 3.0], dtype=np.float32), requires_grad=True)
    out = ops.scatter_add([0.0, 0.0, 0.0], 0, np.array([0, 2, 0]), src)
    assert out.dtype == np.float32 and out.data.tolist() == [4.0, 0.0, 2.0]
    out = ops.scatter_add(Value(np.zeros(3, dtype=np.float32)), 0, np.array([1, 1, 0]), [1.0, 2.0, 3.0])
    assert out.dtype == np.float32 and out.data.tolist() == [3.0, 3.0, 0.0]


def test_an_index_equal_to_the_size_is_out_of_bounds():
    with pytest.raises(IndexError, match="gather: index 3 is out of bounds for dimension 1 with size 3"):
        ops.gather(np.zeros((2, 3)), 1, np.array([[0, 3]]))


def test_padding_by_nothing_is_the_value_itself():
    x = Value(np.ones((2, 3)))
    assert ops.pad(x, (0, 0)) is x and ops.pad(x, (0, 0, 0, 0)) is x
    assert ops.pad(x, (1, 0)) is not x


def test_a_list_exponent_is_an_array_exponent():
    x = Value([2.0, 3.0], requires_grad=True)
    out = x ** [2, 0.5]
    np.testing.assert_allclose(out.data, [4.0, np.sqrt(3.0)], rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, [4.0, 0.5 / np.sqrt(3.0)], rtol=1e-15)


def test_an_axis_below_minus_ndim_is_refused_for_one_dimension_too():
    with pytest.raises(np.exceptions.AxisError, match="axis -2 is out of bounds for a Value with 1 dimension"):
        ops.sum(Value([1.0, 2.0]), axis=-2)


@pytest.mark.parametrize("call, op", [
    (lambda a, b: ops.matmul(a, b.T), "matmul"),
    (lambda a, b: ops.linear(a, b), "linear"),
    (lambda a, b: ops.linear(a, a, Value(np.zeros(2), dtype=np.float32)), "linear"),
])
def test_mixed_dtype_errors_name_the_op(call, op):
    a = Value(np.ones((2, 2)))
    b = Value(np.ones((2, 2), dtype=np.float32))
    with pytest.raises(TypeError, match=f"^{op}: expected both Values to have the same dtype"):
        call(a, b)


def test_an_array_exponent_of_zero_has_a_zero_gradient_without_a_warning_at_zero_and_inf():
    x = Value(np.array([0.0, np.inf, 2.0, -3.0]), requires_grad=True)
    exponent = np.array([0.0, 0.0, 0.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x ** exponent
        y.sum().backward()
    assert y.tolist() == [1.0, 1.0, 1.0, 9.0]
    assert x.grad.tolist() == [0.0, 0.0, 0.0, -6.0]   # d/dx x^0 = 0 everywhere; d/dx x^2 = 2x
