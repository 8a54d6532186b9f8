"""The engine: Value construction, the graph, backward, grad(), grad modes, custom ops, dtypes."""
import warnings

import numpy as np
import pytest

import tinygrad_lab as tg
from tinygrad_lab import Function, Value, grad, no_grad

# ---------------------------------------------------------------------------- construction

def test_python_numbers_and_lists_become_float64():
    assert Value(2).dtype == np.float64
    assert Value([1, 2, 3]).dtype == np.float64
    assert Value(2.5).shape == ()
    assert Value(2).item() == 2.0 and isinstance(Value(2).item(), float)


def test_numpy_arrays_keep_their_dtype_and_are_copied():
    labels = np.array([0, 2, 1])
    v = Value(labels)
    assert v.dtype == np.int64
    labels[0] = 5
    assert v.data[0] == 0
    assert Value(np.ones(2, np.float32)).dtype == np.float32
    assert Value(np.ones(2), dtype=np.float32).dtype == np.float32


def test_integer_values_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        Value(np.array([1, 2]), requires_grad=True)


def test_non_numeric_data_is_refused():
    with pytest.raises(TypeError, match="numbers"):
        Value("abc")


def test_attributes_and_conversions():
    v = Value([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, label="w")
    assert v.shape == (2, 2) and v.ndim == 2 and v.size == 4 and v.is_leaf
    assert np.asarray(v) is v.data and v.numpy() is v.data
    assert np.mean(v) == 2.5
    assert v.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert "requires_grad=True" in repr(v) and "label='w'" in repr(v)
    assert "op=mul" in repr(v * 2)
    with pytest.raises(ValueError, match="one element"):
        v.item()


def test_detach_shares_data_but_leaves_the_graph():
    x = Value([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad
    assert np.array_equal(d.data, [2.0, 4.0])


# ---------------------------------------------------------------------------- the newcomer's example

def test_scalar_example_from_the_readme():
    a = Value(2.0, requires_grad=True)
    (a * a + a.exp()).backward()
    assert a.grad.data == pytest.approx(2 * 2.0 + np.exp(2.0))
    assert isinstance(a.grad, Value)


def test_array_example():
    a = Value([1.0, 2.0, 3.0], requires_grad=True)
    (a * a + a.exp()).sum().backward()
    np.testing.assert_allclose(a.grad.data, 2 * a.data + np.exp(a.data))


# ---------------------------------------------------------------------------- operators

def test_operators_with_scalars_on_both_sides():
    x = Value(3.0, requires_grad=True)
    y = 2 + x - 1 - (4 - x) + 2 * x / 3 + 6 / x + x ** 2 + 2 ** x + (-x)
    y.backward()
    expected = 1 + 1 + 2 / 3 - 6 / 9 + 2 * 3 + np.log(2) * 8 - 1
    assert x.grad.data == pytest.approx(expected)


def test_numpy_array_on_the_left_records_the_op():
    x = Value([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Value) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])
    assert isinstance(np.exp(x), Value)


def test_comparisons_are_boolean_and_not_differentiable():
    x = Value([1.0, 3.0], requires_grad=True)
    mask = x > 2
    assert mask.dtype == np.bool_ and not mask.requires_grad
    assert (x == 1.0).tolist() == [True, False]
    assert ((x <= 1) | np.array([False, False])).tolist() == [True, False]


def test_values_are_immutable_in_the_graph():
    with pytest.raises(TypeError, match="immutable"):
        Value([1.0])[0] = 2.0


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 3\)"):
        Value(np.ones((2, 3))) @ Value(np.ones((2, 3)))
    with pytest.raises(ValueError, match="cannot reshape"):
        Value(np.ones(6)).reshape(4, 2)


def test_torch_style_transpose_swaps_two_axes():
    x = Value(np.arange(24.0).reshape(2, 3, 4))
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.T.shape == (4, 3, 2)
    assert x.permute(1, 0, 2).shape == (3, 2, 4)
    assert Value(np.ones((2, 3))).transpose(0, 1).shape == (3, 2)


# ---------------------------------------------------------------------------- backward

def test_non_scalar_backward_needs_a_gradient():
    x = Value([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-scalar"):
        (x * 2).backward()
    (x * 2).backward(gradient=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 20.0])
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(gradient=np.ones(3))


def test_backward_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Value(1.0).backward()


def test_gradients_accumulate_across_backward_calls():
    x = Value(2.0, requires_grad=True)
    (x * 3).backward()
    (x * x).backward()
    assert x.grad.data == pytest.approx(3 + 4)
    x.zero_grad()
    assert x.grad is None


def test_second_backward_through_freed_graph_names_retain_graph():
    x = Value(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = Value(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.data == pytest.approx(8.0)


def test_reuse_and_diamonds():
    a = Value(3.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.data == 4.0
    x = Value(1.5, requires_grad=True)
    top, left, right = x.exp(), x * 2, x * x
    (top * left + top * right).backward()  # d/dx e^x (2x + x^2) = e^x (2x + x^2 + 2 + 2x)
    assert x.grad.data == pytest.approx(np.exp(1.5) * (3 + 2.25 + 2 + 3))


def test_deep_chain_needs_no_recursion():
    x = Value(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.backward()
    assert x.grad.data == 1.0


def test_grads_of_distinct_leaves_are_distinct_arrays():
    a, b = Value([1.0], requires_grad=True), Value([2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data += 1
    assert b.grad.data[0] == 1.0


def test_broadcast_gradients_are_reduced_to_each_operand():
    w = Value(np.ones(3), requires_grad=True)
    b = Value(np.ones((2, 1)), requires_grad=True)
    x = Value(np.arange(6.0).reshape(2, 3))
    (x * w + b).sum().backward()
    np.testing.assert_array_equal(w.grad.data, x.data.sum(axis=0))
    np.testing.assert_array_equal(b.grad.data, [[3.0], [3.0]])


def test_retain_grad_keeps_non_leaf_gradients():
    x = Value([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad.data, 2 * h.data)
    assert (x * 1).grad is None
    with pytest.raises(RuntimeError):
        Value(1.0).retain_grad()


# ---------------------------------------------------------------------------- grad modes

def test_no_grad_records_nothing_and_restores():
    w = Value([1.0], requires_grad=True)
    with no_grad():
        y = w * 2 + 1
        assert not tg.is_grad_enabled()
        with tg.enable_grad():
            z = w * 2
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y._prev == ()
    assert z.requires_grad


def test_no_grad_as_decorator():
    @no_grad()
    def step(w):
        return w * 2

    assert not step(Value(1.0, requires_grad=True)).requires_grad
    assert tg.is_grad_enabled()


def test_set_grad_enabled():
    with tg.set_grad_enabled(False):
        assert not (Value(1.0, requires_grad=True) * 2).requires_grad
    assert tg.is_grad_enabled()


# ---------------------------------------------------------------------------- grad() and higher order

def test_grad_returns_gradients_without_touching_dot_grad():
    x = Value([1.0, 2.0], requires_grad=True)
    y = Value([3.0, 4.0], requires_grad=True)
    gx, gy = grad((x * y).sum(), [x, y])
    np.testing.assert_array_equal(gx.data, y.data)
    np.testing.assert_array_equal(gy.data, x.data)
    assert x.grad is None and y.grad is None


def test_grad_with_respect_to_an_intermediate():
    x = Value(2.0, requires_grad=True)
    h = x * 3
    (gh,) = grad(h * h, h)
    assert gh.data == pytest.approx(12.0)


def test_grad_unused_inputs():
    x, unused = Value(1.0, requires_grad=True), Value(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad(x * 2, [x, unused], retain_graph=True)
    gx, gu = grad(x * 2, [x, unused], allow_unused=True)
    assert gx.data == 2.0 and gu is None


def test_second_and_third_derivatives():
    x = Value(0.7, requires_grad=True)
    (d1,) = grad(x.tanh(), x, create_graph=True)
    (d2,) = grad(d1, x, create_graph=True)
    (d3,) = grad(d2, x)
    t = np.tanh(0.7)
    assert d1.data == pytest.approx(1 - t ** 2)
    assert d2.data == pytest.approx(-2 * t * (1 - t ** 2))
    assert d3.data == pytest.approx(-2 * (1 - t ** 2) ** 2 + 4 * t ** 2 * (1 - t ** 2))


def test_hessian_vector_product():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 3))
    A = A + A.T
    x = Value(rng.standard_normal(3), requires_grad=True)
    f = 0.5 * (x @ (Value(A) @ x)) + (x ** 3).sum()   # Hessian: A + diag(6x)
    (g,) = grad(f, x, create_graph=True)
    v = rng.standard_normal(3)
    (hv,) = grad((g * v).sum(), x)
    np.testing.assert_allclose(hv.data, (A + np.diag(6 * x.data)) @ v)


def test_backward_create_graph_gives_differentiable_dot_grad():
    x = Value(3.0, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    first = x.grad
    assert first.data == 27.0 and first.requires_grad
    x.grad = None
    first.backward()
    assert x.grad.data == 18.0


# ---------------------------------------------------------------------------- custom ops

class Cube(Function):
    name = "cube"

    @staticmethod
    def forward(x):
        return x ** 3

    @staticmethod
    def backward(g, out, x):
        return (g * 3 * x * x,)


class ScaledSum(Function):
    """A user op with a static argument and two inputs."""

    @staticmethod
    def forward(a, b, scale):
        return scale * (a + b).sum()

    @staticmethod
    def backward(g, out, a, b, scale):
        ones = np.ones(np.broadcast_shapes(a.shape, b.shape))
        return g * scale * ones, g * scale * ones   # the engine sums b's gradient back to b's shape


def test_custom_function_first_and_second_order():
    x = Value(2.0, requires_grad=True)
    y = Cube.apply(x)
    assert y._op is Cube and y._op.name == "cube"
    (d1,) = grad(y, x, create_graph=True)
    (d2,) = grad(d1, x)
    assert (d1.data, d2.data) == (12.0, 12.0)


def test_custom_function_with_static_args_and_broadcasting():
    a = Value(np.ones((2, 3)), requires_grad=True)
    b = Value(np.ones(3), requires_grad=True)
    ScaledSum.apply(a, b, scale=2.0).backward()
    np.testing.assert_array_equal(b.grad.data, np.full(3, 4.0))  # 2 rows x scale 2
    assert ScaledSum.name == "scaledsum"


class WrongShape(Function):
    @staticmethod
    def forward(x):
        return x.sum()

    @staticmethod
    def backward(g, out, x):
        return (np.ones(7),)


class Transposed(Function):
    @staticmethod
    def forward(x):
        return x.sum()

    @staticmethod
    def backward(g, out, x):
        return (np.ones(x.shape[::-1]),)   # same size, wrong shape: must not be reshaped silently


def test_a_gradient_of_the_wrong_shape_is_named():
    with pytest.raises(RuntimeError, match=r"'wrongshape'.*shape \(7,\).*\(2, 3\)"):
        WrongShape.apply(Value(np.ones((2, 3)), requires_grad=True)).backward()
    with pytest.raises(RuntimeError, match=r"'transposed'.*shape \(3, 2\).*\(2, 3\)"):
        Transposed.apply(Value(np.ones((2, 3)), requires_grad=True)).backward()


# ---------------------------------------------------------------------------- dtypes and numerics

def test_float32_stays_float32_through_forward_and_backward():
    x = Value(np.ones((2, 3), np.float32), requires_grad=True)
    w = Value(np.ones((3, 1), np.float32), requires_grad=True)
    y = ((x @ w) * 2.0 + 1).sigmoid().tanh().exp().log().mean()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_astype_is_differentiable():
    x = Value(np.ones(2, np.float32), requires_grad=True)
    x.double().sum().backward()
    assert x.grad.dtype == np.float32


def test_sigmoid_is_stable_for_large_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Value([-1000.0, -30.0, 0.0, 30.0, 1000.0], requires_grad=True)
        y = x.sigmoid()
        y.sum().backward()
    assert 0.0 <= y.data[0] < 1e-300 and y.data[-1] == 1.0
    assert y.data[1] == pytest.approx(np.exp(-30.0), rel=1e-12)
    assert np.all(np.isfinite(x.grad.data))


def test_log_softmax_and_logsumexp_are_stable():
    x = Value([[1000.0, 1000.0], [-1000.0, 0.0]])
    np.testing.assert_allclose(tg.logsumexp(x, axis=1).data, [1000 + np.log(2), 0.0])
    np.testing.assert_allclose(tg.log_softmax(x, axis=1).data, [[-np.log(2)] * 2, [-1000.0, 0.0]])
    assert np.all(np.isfinite(tg.softmax(x).data))


def test_pow_with_constant_exponent_value_gives_no_nan_for_negative_base():
    base = Value([-2.0, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (base ** Value(2.0)).sum().backward()
    np.testing.assert_array_equal(base.grad.data, [-4.0, 6.0])


def test_pow_exponent_gradient():
    e = Value(2.0, requires_grad=True)
    (Value(3.0) ** e).backward()
    assert e.grad.data == pytest.approx(9 * np.log(3))
    z = Value(0.0, requires_grad=True)
    (z ** e).backward()
    assert e.grad.data == pytest.approx(9 * np.log(3))  # 0 ** e contributes 0, as in PyTorch


def test_max_ties_share_the_gradient():
    x = Value([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5])
    y = Value([2.0, 2.0], requires_grad=True)
    tg.maximum(y, Value([2.0, 1.0])).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [0.5, 1.0])


def test_getitem_with_repeated_indices_accumulates():
    x = Value(np.arange(4.0), requires_grad=True)
    x[np.array([1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 2.0, 0.0, 1.0])


def test_reduction_axis_errors():
    with pytest.raises(np.exceptions.AxisError):
        Value(np.ones((2, 2))).sum(axis=2)
    with pytest.raises(TypeError, match="axis"):
        Value(np.ones((2, 2))).sum(axis="rows")


def test_torch_names_for_reductions():
    x = Value(np.arange(6.0).reshape(2, 3))
    assert x.sum(dim=1, keepdim=True).shape == (2, 1)
    assert x.mean(dim=0).shape == (3,)
    assert tg.softmax(x, dim=0).shape == (2, 3)
    assert tg.cat([x, x], dim=1).shape == (2, 6)


def test_one_element_values_convert_to_python_numbers():
    assert float(Value([2.5])) == 2.5 and int(Value([[3.0]])) == 3
    with pytest.raises(ValueError, match="one element"):
        float(Value([1.0, 2.0]))


def test_zero_grad_in_place_keeps_the_array():
    x = Value([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    grad_array = x.grad.data
    x.zero_grad(set_to_none=False)
    assert x.grad.data is grad_array and not grad_array.any()
    x.zero_grad()
    assert x.grad is None
