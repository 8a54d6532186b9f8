"""The Value API beyond the op table: shape helpers (flatten, squeeze, unsqueeze), comparisons, NumPy
interop, repr, zero_grad, requires_grad_, the grad-mode and anomaly switches, and how gradients accumulate.

Expected values follow PyTorch's documented semantics (`Tensor.flatten`, `Tensor.squeeze`, ...), written out
with NumPy. Each test pins behaviour a mutation run found unchecked (docs/mutation.md).
"""
from __future__ import annotations

import operator
import warnings

import numpy as np
import pytest

import tinygrad_lab as tg
from tinygrad_lab import Value
from tinygrad_lab.autograd import AnomalyError, detect_anomaly, is_grad_enabled, no_grad, set_grad_enabled

X = np.arange(24.0).reshape(2, 3, 1, 4)


# ---------------------------------------------------------------------------- shape helpers

@pytest.mark.parametrize("start, end, shape", [(0, -1, (24,)), (1, 2, (2, 3, 4)), (1, -1, (2, 12)),
                                               (-2, -1, (2, 3, 4)), (2, 3, (2, 3, 4)), (0, 0, (2, 3, 1, 4))])
def test_flatten(start, end, shape):
    x = Value(X, requires_grad=True)
    out = x.flatten(start, end)
    assert out.shape == shape
    np.testing.assert_array_equal(out.data.ravel(), X.ravel())
    out.sum().backward()
    assert x.grad.shape == X.shape


def test_flatten_by_default_flattens_everything():
    assert Value(X).flatten().shape == (24,)


def test_flatten_of_a_scalar_is_one_element():
    assert Value(3.0).flatten().shape == (1,)
    assert Value(3.0).flatten().data.tolist() == [3.0]


@pytest.mark.parametrize("dim, shape", [(None, (2, 3, 4)), (2, (2, 3, 4)), (-2, (2, 3, 4)), (1, (2, 3, 1, 4)),
                                        (-1, (2, 3, 1, 4))])
def test_squeeze(dim, shape):
    x = Value(X, requires_grad=True)
    out = x.squeeze(dim)
    assert out.shape == shape
    out.sum().backward()
    assert x.grad.shape == X.shape


def test_squeeze_of_a_scalar_and_of_all_ones():
    s = Value(2.0)
    assert s.squeeze().shape == () and s.squeeze(0) is s
    assert Value(np.ones((1, 1))).squeeze().shape == ()


@pytest.mark.parametrize("dim, shape", [(0, (1, 2, 3)), (2, (2, 3, 1)), (-1, (2, 3, 1)), (-3, (1, 2, 3)),
                                        (1, (2, 1, 3))])
def test_unsqueeze(dim, shape):
    x = Value(np.ones((2, 3)), requires_grad=True)
    out = x.unsqueeze(dim)
    assert out.shape == shape
    out.sum().backward()
    assert x.grad.shape == (2, 3)


# ---------------------------------------------------------------------------- methods with PyTorch's names

def test_reduction_methods_take_dim_and_keepdim():
    a = np.array([[1.0, 4.0, 2.0], [3.0, -1.0, 0.5]])
    v = Value(a)
    assert v.sum(dim=0, keepdim=True).data.tolist() == [[4.0, 3.0, 2.5]]
    assert v.mean(dim=1).data.tolist() == [7 / 3, 2.5 / 3]
    assert v.max(dim=1, keepdim=True).data.tolist() == [[4.0], [3.0]]
    assert v.min(dim=0).data.tolist() == [1.0, -1.0, 0.5]
    np.testing.assert_allclose(v.logsumexp(dim=1).data, np.log(np.exp(a).sum(axis=1)), rtol=1e-15)
    np.testing.assert_allclose(v.logsumexp(axis=0, keepdims=True).data, np.log(np.exp(a).sum(axis=0, keepdims=True)),
                               rtol=1e-15)


def test_softmax_methods_take_an_axis_or_dim():
    a = np.array([[1.0, 2.0], [3.0, 5.0]])
    e0 = np.exp(a) / np.exp(a).sum(axis=0)
    e1 = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(Value(a).softmax().data, e1, rtol=1e-15)
    np.testing.assert_allclose(Value(a).softmax(0).data, e0, rtol=1e-15)
    np.testing.assert_allclose(Value(a).softmax(dim=0).data, e0, rtol=1e-15)
    np.testing.assert_allclose(Value(a).log_softmax().data, np.log(e1), rtol=1e-14)
    np.testing.assert_allclose(Value(a).log_softmax(dim=0).data, np.log(e0), rtol=1e-14)


def test_pow_and_matmul_methods():
    a = Value([[1.0, 2.0]], requires_grad=True)
    assert a.pow(3).data.tolist() == [[1.0, 8.0]]
    b = Value([[3.0], [4.0]], requires_grad=True)
    out = a.matmul(b)
    assert out.data.tolist() == [[11.0]]
    out.backward()
    assert a.grad.data.tolist() == [[3.0, 4.0]] and b.grad.data.tolist() == [[1.0], [2.0]]


def test_a_list_on_the_left_of_at():
    v = Value([[1.0], [2.0]], requires_grad=True)
    out = [[3.0, 4.0]] @ v
    assert isinstance(out, Value) and out.data.tolist() == [[11.0]]
    out.backward()
    assert v.grad.data.tolist() == [[3.0], [4.0]]


# ---------------------------------------------------------------------------- comparisons

@pytest.mark.parametrize("op", [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne])
def test_comparisons_are_constant_boolean_values(op):
    a = np.array([1.0, 2.0, 3.0])
    x = Value(a, requires_grad=True)
    for other in (2.0, np.array([3.0, 2.0, 1.0]), Value([3.0, 2.0, 1.0])):
        out = op(x, other)
        expected = op(a, np.asarray(getattr(other, "data", other)))
        assert isinstance(out, Value) and not out.requires_grad and out._op is None
        assert out.dtype == np.bool_ and out.data.tolist() == expected.tolist()


# ---------------------------------------------------------------------------- conversions and NumPy

def test_bool_iter_float_double_detach():
    assert bool(Value(1.0)) and not bool(Value(0.0))
    with pytest.raises(ValueError):
        bool(Value([1.0, 2.0]))
    rows = list(Value(np.arange(6.0).reshape(3, 2), requires_grad=True))
    assert [r.data.tolist() for r in rows] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert all(isinstance(r, Value) and r.requires_grad for r in rows)
    x = Value([1.5], requires_grad=True)
    assert x.float().dtype == np.float32 and x.float().requires_grad
    assert x.float().double().dtype == np.float64
    d = x.detach()
    assert d.data is x.data and not d.requires_grad and d._op is None


def test_astype_to_an_integer_dtype_is_a_constant():
    out = Value([1.7, -2.2], requires_grad=True).astype(np.int64)
    assert out.dtype == np.int64 and out.data.tolist() == [1, -2]


def test_numpy_sees_values_as_arrays():
    x = Value([1.0, 2.0], requires_grad=True)
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    y = np.exp(x)
    assert isinstance(y, Value) and y.requires_grad
    summed = np.add.reduce(x)                   # not a plain call: NumPy on the array
    assert not isinstance(summed, Value) and summed == 3.0
    cast = np.add(x, 1.0, dtype=np.float32)      # keyword arguments: NumPy on the array
    assert not isinstance(cast, Value) and cast.dtype == np.float32
    assert np.mean(x) == 1.5 and not isinstance(np.mean(x), Value)
    joined = np.concatenate([x, x])
    assert isinstance(joined, np.ndarray) and joined.tolist() == [1.0, 2.0, 1.0, 2.0]
    assert np.round(x, decimals=0).tolist() == [1.0, 2.0]
    assert np.where(x, x, 0).tolist() == [1.0, 2.0]


def test_repr():
    assert repr(Value(2.0)) == "Value(2.)"
    assert repr(Value([1.0, 2.5], requires_grad=True)) == "Value([1. , 2.5], requires_grad=True)"
    assert repr(Value(np.float32(1.0))) == "Value(1., dtype=float32)"
    assert repr(Value(1.0, requires_grad=True) * 2) == "Value(2., op=mul)"
    x = Value([3.0])
    x.label = "w"
    assert repr(x) == "Value([3.], label='w')"


# ---------------------------------------------------------------------------- grads

def test_zero_grad_to_none_or_to_zeros_in_place():
    x = Value([1.0, 2.0], requires_grad=True)
    x.zero_grad(set_to_none=False)
    assert x.grad is None
    (x * 3).sum().backward()
    grad = x.grad
    array = grad.data
    x.zero_grad(set_to_none=False)
    assert x.grad is grad and x.grad.data is array and array.tolist() == [0.0, 0.0]
    x.zero_grad()
    assert x.grad is None


def test_zero_grad_of_a_differentiable_grad_makes_new_zeros():
    x = Value([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    x.zero_grad(set_to_none=False)
    assert x.grad is not first and x.grad.data.tolist() == [0.0, 0.0] and not x.grad.requires_grad
    assert first.data.tolist() == [2.0, 4.0]


def test_requires_grad_():
    x = Value([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    assert x.requires_grad_(False) is x and not x.requires_grad
    with pytest.raises(RuntimeError, match="only change leaves"):
        (Value([1.0], requires_grad=True) * 2).requires_grad_()
    with pytest.raises(TypeError, match="only real floating-point Values can require gradients"):
        Value(np.array([1, 2])).requires_grad_()
    assert Value(np.array([1, 2])).requires_grad_(False).requires_grad is False


def test_gradients_are_fresh_arrays_of_the_leafs_dtype():
    a = Value([1.0, 2.0], requires_grad=True)
    b = Value([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (a + b).backward(gradient=seed)
    assert a.grad.data is not b.grad.data and a.grad.data is not seed
    a.grad.data[0] = 100.0
    assert b.grad.data.tolist() == [1.0, 1.0] and seed.tolist() == [1.0, 1.0]
    (a + b).backward(gradient=[2.0, 2.0])                    # accumulates
    assert a.grad.data.tolist() == [102.0, 3.0] and b.grad.data.tolist() == [3.0, 3.0]
    h = Value(np.array([1.0], dtype=np.float32), requires_grad=True)
    h.backward(gradient=np.array([2.0]))                     # a float64 seed: the grad keeps the leaf's dtype
    assert h.grad.dtype == np.float32


def test_create_graph_accumulates_values():
    x = Value(2.0, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    (x ** 2).backward(create_graph=True)
    assert x.grad.data == 16.0 and x.grad.requires_grad   # 3x^2 + 2x


# ---------------------------------------------------------------------------- switches

def test_set_grad_enabled_as_a_context_and_a_call():
    x = Value(1.0, requires_grad=True)
    with set_grad_enabled(False):
        assert not is_grad_enabled() and not (x * 2).requires_grad
        with set_grad_enabled(1):
            assert is_grad_enabled() and (x * 2).requires_grad
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with no_grad():
        set_grad_enabled(True)                               # a plain call switches at once
        assert is_grad_enabled()
    assert is_grad_enabled()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own divide-by-zero warnings
def test_detect_anomaly_switch_and_messages():
    x = Value([0.0, 1.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        y = x.log()                                          # checks off: no error
    with pytest.raises(AnomalyError, match="^forward of 'log' produced inf"):
        with detect_anomaly():
            x.log()
    with pytest.raises(AnomalyError, match="^forward of 'sqrt' produced nan"):
        with detect_anomaly():
            Value([-1.0], requires_grad=True).sqrt()
    with pytest.raises(AnomalyError, match="^backward of 'log' produced inf"):
        y.sum().backward(detect_anomaly=True)
    z = Value([0.0, 1.0], requires_grad=True)
    z.log().sum().backward()                                 # the switch is off again afterwards
    assert z.grad.data[0] == np.inf


# ---------------------------------------------------------------------------- Function.apply

class Twice(tg.Function):
    @staticmethod
    def forward(x):
        return 2 * x

    @staticmethod
    def backward(g, out, x):
        return (2 * g,)


def test_apply_takes_arrays_and_numbers_as_constants():
    out = Twice.apply(np.array([1.0, 2.0]))
    assert isinstance(out, Value) and not out.requires_grad and out.data.tolist() == [2.0, 4.0]
    assert Twice.apply(3.0).data == 6.0
    assert Twice.name == "twice"
    x = Value([1.0], requires_grad=True)
    Twice.apply(x).sum().backward()
    assert x.grad.data.tolist() == [2.0]


# ---------------------------------------------------------------------------- more: the mutation run's second pass

def test_nested_anomaly_contexts_restore_the_outer_setting():
    x = Value([0.0], requires_grad=True)
    with detect_anomaly():
        with detect_anomaly(check_nan=False):
            with np.errstate(divide="ignore"):
                x.log()                                      # inner: off
        with pytest.raises(AnomalyError), np.errstate(divide="ignore"):
            x.log()                                          # outer: on again
    with np.errstate(divide="ignore"):
        x.log()                                              # outside: off


class ToFloat(tg.Function):
    @staticmethod
    def forward(x):
        return float(x.sum())                                # a Python number, not an array

    @staticmethod
    def backward(g, out, x):
        return (g * np.ones_like(x),)


def test_a_forward_that_returns_a_number_gives_an_array():
    out = ToFloat.apply(Value([1.0, 2.0], requires_grad=True))
    assert isinstance(out.data, np.ndarray) and out.data.shape == () and out.data == 3.0


def test_zero_grad_replaces_a_read_only_gradient():
    x = Value([1.0, 2.0], requires_grad=True)
    x.grad = Value([5.0, 5.0])
    x.grad.data = np.broadcast_to(np.array(5.0), (2,))      # a read-only view
    x.zero_grad(set_to_none=False)
    assert x.grad.data.tolist() == [0.0, 0.0] and x.grad.data.flags.writeable


def test_repr_of_large_and_two_dimensional_values():
    assert "..." in repr(Value(np.arange(65.0))) and "..." not in repr(Value(np.arange(64.0)))
    assert repr(Value([[1.0, 2.0], [3.0, 4.0]])) == "Value([[1., 2.],\n       [3., 4.]])"
    assert repr(Value(np.float32(1.0), requires_grad=True) * 2) == "Value(2., dtype=float32, op=mul)"
    assert repr(Value(np.float32(1.0), requires_grad=True)) == "Value(1., dtype=float32, requires_grad=True)"


def test_backward_with_detect_anomaly_passes_every_argument_on():
    x = Value([1.0, 2.0], requires_grad=True)
    y = x * x
    y.backward(gradient=np.array([1.0, 10.0]), retain_graph=True, detect_anomaly=True)
    assert x.grad.data.tolist() == [2.0, 40.0]
    y.backward(gradient=np.array([1.0, 1.0]), create_graph=True, detect_anomaly=True)   # the graph was kept
    assert x.grad.data.tolist() == [4.0, 44.0] and x.grad.requires_grad


def test_backward_errors_name_backward():
    x = Value([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^backward\(\) on a non-scalar output of shape \(2,\) needs `gradient`"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"^backward\(\): gradient has shape \(3,\), but the output has shape"):
        (x * 2).backward(gradient=np.ones(3))


def test_create_graph_keeps_the_graph_for_another_backward():
    x = Value(3.0, requires_grad=True)
    y = x ** 3
    y.backward(create_graph=True)
    y.backward()                                             # PyTorch: create_graph implies retain_graph
    assert x.grad.data == 54.0


def test_reduction_methods_take_positional_arguments():
    a = np.array([[1.0, 4.0], [3.0, -1.0]])
    v = Value(a)
    assert v.sum(0, True).shape == (1, 2) and v.mean(0, True).shape == (1, 2)
    assert v.mean(0).data.tolist() == [2.0, 1.5] and v.max(1, True).data.tolist() == [[4.0], [3.0]]
    np.testing.assert_allclose(v.log_softmax(0).data, a - np.log(np.exp(a).sum(axis=0)), rtol=1e-12)


def test_shape_helpers_on_one_dimension_with_negative_dims():
    v = Value([1.0, 2.0, 3.0])
    assert v.flatten(-1).shape == (3,) and v.flatten(-1, -1).shape == (3,)
    assert Value([5.0]).squeeze(-1).shape == ()


def test_numpy_functions_get_their_keyword_arguments():
    v = Value([[1.0, 2.0], [3.0, 5.0]])
    assert np.mean(v, axis=0).tolist() == [2.0, 3.5]
    assert np.concatenate([v, v], axis=1).shape == (2, 4)


def test_draw_returns_the_graph():
    x = Value([1.0], requires_grad=True)
    x.label = "x"
    graph = (x * 2).sum().draw(rankdir="BT")
    assert "rankdir=BT" in graph.source and "x" in graph.source


def test_anomaly_report_says_when_the_forward_ran_outside():
    x = Value([0.0, 1.0], requires_grad=True)
    y = x.sqrt().sum()                                       # finite forward, infinite gradient at 0
    with pytest.raises(AnomalyError) as outside, np.errstate(divide="ignore"):
        y.backward(detect_anomaly=True)
    assert str(outside.value).endswith("the node was created at an unknown line (the forward pass ran outside "
                                       "detect_anomaly(); run it inside `with detect_anomaly():` to record where)")
    with detect_anomaly():
        y = x.sqrt().sum()
    with pytest.raises(AnomalyError) as inside, np.errstate(divide="ignore"):
        y.backward(detect_anomaly=True)
    assert str(inside.value).startswith("backward of 'sqrt' produced inf") and "unknown line" not in str(inside.value)


def test_a_float32_leaf_gets_a_float32_gradient_from_float64_ops():
    h = Value(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    (h * Value(np.array([3.0, 4.0]))).sum().backward()       # the product is float64
    assert h.grad.dtype == np.float32 and h.grad.data.tolist() == [3.0, 4.0]


def test_grad_function_arguments():
    x = Value(2.0, requires_grad=True)
    (g,) = tg.grad(x ** 2, x)
    assert g.data == 4.0 and not g.requires_grad                # create_graph is off by default
    (g,) = tg.grad(x ** 2, x, grad_outputs=3.0)                 # a scalar weight
    assert g.data == 12.0
    y1, y2 = x ** 2, x ** 3
    (g,) = tg.grad([y1, y2], [x], retain_graph=True)            # several outputs, no weights
    assert g.data == 4.0 + 12.0
    (g,) = tg.grad([y1, y2], x, grad_outputs=[1.0, 2.0], retain_graph=True)
    assert g.data == 4.0 + 24.0
    with pytest.raises(ValueError, match=r"grad_outputs must have one entry per output \(2\)"):
        tg.grad([y1, y2], x, grad_outputs=[1.0])
    with pytest.raises(RuntimeError, match="grad\\(\\): input 0 does not require grad"):
        tg.grad(y1, Value(1.0))


class WrongShapeSecond(tg.Function):
    @staticmethod
    def forward(a, b):
        return a + b

    @staticmethod
    def backward(g, out, a, b):
        return g, np.ones(5)


def test_a_wrong_gradient_shape_names_the_input():
    a, b = Value(np.ones(2), requires_grad=True), Value(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"'wrongshapesecond' returned a gradient of shape \(5,\) for its input 1,"):
        WrongShapeSecond.apply(a, b).sum().backward()


# ---------------------------------------------------------------------------- third pass

def test_value_of_a_value_and_with_a_dtype():
    v = Value([1.0, 2.0])
    w = Value(v)
    assert w.data.tolist() == [1.0, 2.0] and w.data is not v.data
    for made in (Value([1, 2], dtype=np.float32), Value(v, dtype=np.float32)):
        assert made.data.tolist() == [1.0, 2.0] and made.dtype == np.float32


def test_arithmetic_functions_forward_directly():
    from tinygrad_lab.ops import Add, Div, Mul, Neg, Sub
    a, b = Value([1.0, 6.0]), Value([4.0, 2.0])
    assert Add.apply(a, b).data.tolist() == [5.0, 8.0] and Sub.apply(a, b).data.tolist() == [-3.0, 4.0]
    assert Mul.apply(a, b).data.tolist() == [4.0, 12.0] and Div.apply(a, b).data.tolist() == [0.25, 3.0]
    assert Neg.apply(a).data.tolist() == [-1.0, -6.0]


def test_non_leaf_gradients_are_not_kept_unless_asked():
    x = Value([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = x * 3
    z.retain_grad()
    (y + z).sum().backward()
    assert y.grad is None and z.grad.data.tolist() == [1.0, 1.0] and x.grad.data.tolist() == [5.0, 5.0]
    assert x.detach().grad is None and x.detach().label is None


class HalfNone(tg.Function):
    @staticmethod
    def forward(a, b):
        return a * b

    @staticmethod
    def backward(g, out, a, b):
        return g * b, None                                   # no gradient for b: as zero (PyTorch's None)


class BareArray(tg.Function):
    @staticmethod
    def forward(a):
        return 3 * a

    @staticmethod
    def backward(g, out, a):
        return 3 * g                                         # not a tuple


class ListOfOne(tg.Function):
    @staticmethod
    def forward(a):
        return 3 * a

    @staticmethod
    def backward(g, out, a):
        return [Value(3 * g)]                                # a list, holding a Value


def test_backward_rules_may_return_none_a_bare_array_or_a_list():
    a, b = Value([2.0], requires_grad=True), Value([5.0], requires_grad=True)
    (HalfNone.apply(a, b) * 1.0 + b * 0.0).sum().backward()
    assert a.grad.data.tolist() == [5.0] and b.grad.data.tolist() == [0.0]
    c = Value([2.0], requires_grad=True)
    (HalfNone.apply(c, Value([7.0], requires_grad=True))).sum().backward()
    assert c.grad.data.tolist() == [7.0]
    x = Value([1.0], requires_grad=True)
    BareArray.apply(x).sum().backward()
    ListOfOne.apply(x).sum().backward()
    assert x.grad.data.tolist() == [6.0] and isinstance(x.grad.data, np.ndarray)


def test_the_same_output_twice_adds_its_weights():
    x = Value(2.0, requires_grad=True)
    y = x ** 2
    (g,) = tg.grad([y, y], x, retain_graph=True)
    assert g.data == 8.0
    (g,) = tg.grad([y, y], x, grad_outputs=[1.0, 3.0])
    assert g.data == 16.0


def test_shared_subexpressions_are_visited_once():
    x = Value(1.0, requires_grad=True)
    y = x
    for _ in range(40):
        y = y + y                                            # 2^40 paths, 41 nodes
    y.backward()
    assert x.grad.data == 2.0 ** 40


def test_grad_errors_and_dtypes():
    x = Value([1.0, 2.0], requires_grad=True)
    y1, y2 = (x * 2).sum(), (x * 3).sum()
    with pytest.raises(ValueError, match="one entry per output"):
        tg.grad([y1, y2], x, grad_outputs=np.array(1.0))
    with pytest.raises(RuntimeError, match=r"^grad\(\) on a non-scalar output"):
        tg.grad(x * 2, x)
    h = Value(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    (g,) = tg.grad((h * Value(np.array([3.0, 4.0]))).sum(), h)
    assert g.dtype == np.float32 and g.data.tolist() == [3.0, 4.0]


def test_forward_anomaly_names_a_line():
    with pytest.raises(AnomalyError) as info, np.errstate(divide="ignore"), detect_anomaly():
        Value([0.0], requires_grad=True).log()
    assert not str(info.value).endswith("created at None")


def test_reductions_of_everything_are_scalars_by_default():
    v = Value(np.arange(6.0).reshape(2, 3))
    for name in ("sum", "mean", "max", "min", "logsumexp"):
        assert getattr(v, name)().shape == (), name


# ---------------------------------------------------------------------------- value hooks: what a hook may return

def test_a_hook_may_return_an_array_or_a_list_of_another_dtype():
    x = Value(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: np.asarray(g.data, dtype=np.float64) * 2)    # float64 array for a float32 Value
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.data.tolist() == [6.0, 6.0]
    z = Value([1.0, 2.0], requires_grad=True)
    z.register_hook(lambda g: [5.0, 7.0])                                 # a list
    (z * 1).sum().backward()
    assert z.grad.data.tolist() == [5.0, 7.0]


def test_under_create_graph_hooks_get_values_and_may_return_arrays():
    seen = []
    x = Value(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x ** 2
    y.register_hook(lambda g: seen.append(type(g)) or np.full(2, 3.0))     # an array: a constant gradient
    (gx,) = tg.grad(y.sum(), x, create_graph=True)
    assert seen == [Value] and isinstance(gx, Value) and gx.dtype == np.float32
    assert gx.data.tolist() == [6.0, 12.0]                                # 3 * 2x
    (ggx,) = tg.grad(gx.sum(), x)
    assert ggx.data.tolist() == [6.0, 6.0]                                # d/dx (3 * 2x); the array is constant


def test_a_hook_changing_the_shape_is_named_in_the_error():
    x = Value([1.0, 2.0], requires_grad=True)
    y = x * 1

    def squash(g):
        return g.sum()
    y.register_hook(squash)
    with pytest.raises(RuntimeError, match=r"hook 'squash' returned a gradient of shape \(\), but the Value has "
                                           r"shape \(2,\)"):
        y.sum().backward()
    with pytest.raises(TypeError, match="register_hook\\(\\) takes a function"):
        x.register_hook("not a function")


# ---------------------------------------------------------------------------- second mutation pass: the Value API

def test_autograd_backward_defaults_build_no_graph_and_check_nothing():
    x = Value([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = x.log()                                      # -inf at 0: backward gives an inf gradient
        tg.autograd.backward(y.sum())                    # no anomaly check by default: no error
    assert np.isinf(x.grad.data[0]) and x.grad.data[1] == 1.0
    assert x.grad._op is None and not x.grad.requires_grad     # create_graph=False: a plain gradient


@pytest.mark.parametrize("call, name", [
    (lambda v: v.flatten(start_dim=0.5), "start_dim"),
    (lambda v: v.flatten(end_dim="1"), "end_dim"),
    (lambda v: v.unsqueeze(1.0), "dim"),
    (lambda v: v.squeeze(0.0), "dim"),
])
def test_dimension_arguments_are_named_in_type_errors(call, name):
    with pytest.raises(TypeError, match=f"^{name} must be an integer"):
        call(Value(np.zeros((2, 3))))


@pytest.mark.parametrize("call, message", [
    (lambda v: v.flatten(start_dim=5), r"expected start_dim to be in range of \[-2, 1\], but got 5"),
    (lambda v: v.flatten(end_dim=-3), r"expected end_dim to be in range of \[-2, 1\], but got -3"),
    (lambda v: v.unsqueeze(4), r"expected dim to be in range of \[-3, 2\], but got 4"),
    (lambda v: v.squeeze(2), r"expected dim to be in range of \[-2, 1\], but got 2"),
])
def test_dimension_arguments_are_named_in_index_errors(call, message):
    with pytest.raises(IndexError, match=message):
        call(Value(np.zeros((2, 3))))


def test_requires_grad_flag_is_checked_and_named():
    with pytest.raises(TypeError, match=r"requires_grad_\(\): requires_grad must be True or False, got str"):
        Value([1.0]).requires_grad_("yes")


def test_reflected_operators_give_python_numbers_the_values_dtype():
    v = Value(np.array([1.0, 2.0], dtype=np.float32))
    for out in (2.0 + v, 2.0 - v, 2.0 * v, 2.0 / v, 2.0 ** v, [[1.0, 2.0]] @ v):
        assert out.dtype == np.float32, out
    np.testing.assert_allclose((2.0 ** v).data, [2.0, 4.0])
    np.testing.assert_allclose(([[1.0, 2.0]] @ v).data, [5.0])


def test_value_methods_pass_their_arguments_on():
    a = np.array([[1.0, 4.0, 2.0], [0.5, -1.0, 3.0]])
    v = Value(a)
    np.testing.assert_allclose(v.var().data, np.var(a, ddof=1), rtol=1e-14)       # correction=1 by default
    np.testing.assert_allclose(v.std().data, np.std(a, ddof=1), rtol=1e-14)
    assert v.var().shape == () and v.std().shape == ()                           # keepdims=False by default
    np.testing.assert_allclose(v.var(1, 0, True).data, np.var(a, axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(v.std(0, 0).data, np.std(a, axis=0), rtol=1e-14)
    np.testing.assert_allclose(v.var(dim=1).data, np.var(a, axis=1, ddof=1), rtol=1e-14)
    np.testing.assert_allclose(v.std(dim=0, keepdim=True).data, np.std(a, axis=0, ddof=1, keepdims=True),
                               rtol=1e-14)
    np.testing.assert_array_equal(v.cumsum(1).data, np.cumsum(a, axis=1))
    assert v.argmax().item() == 1 and v.argmin().item() == 4                      # over all elements
    assert v.argmax(1).data.tolist() == [1, 2] and v.argmin(0).data.tolist() == [1, 1, 0]
    assert v.argmax(0, True).shape == (1, 3) and v.argmin(1, True).data.tolist() == [[0], [1]]
    assert v.argmax().shape == () and v.argmin(1).shape == (2,)                   # keepdims=False by default
    assert v.argmin(dim=1).data.tolist() == [0, 1] and v.argmax(dim=0, keepdim=True).shape == (1, 3)
    assert v.std(0, 0, True).shape == (1, 3) and v.var(1, 0, False).shape == (2,)
    assert [p.shape for p in v.chunk(2, 1)] == [(2, 2), (2, 1)]
    assert [p.shape for p in v.split(2, 1)] == [(2, 2), (2, 1)]
    col = Value([[1.0], [2.0]], requires_grad=True)
    wide = col.expand_as(v)
    assert wide.data.tolist() == [[1.0] * 3, [2.0] * 3]
    wide.sum().backward()
    assert col.grad.data.tolist() == [[3.0], [3.0]]
    np.testing.assert_array_equal(v.flip(0, 1).data, a[::-1, ::-1])
    np.testing.assert_array_equal(v.flip(1).data, a[:, ::-1])


def test_removing_one_of_two_hooks_keeps_the_other():
    from tinygrad_lab.autograd.hooks import VALUE_HOOKS
    x = Value([1.0], requires_grad=True)
    first = x.register_hook(lambda g: g * 2)
    second = x.register_hook(lambda g: g * 3)
    first.remove()
    (x * 1).sum().backward()
    assert x.grad.item() == 3.0 and id(x) in VALUE_HOOKS
    second.remove()
    assert id(x) not in VALUE_HOOKS                      # the last hook gone: the table entry too
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.item() == 1.0


def test_grad_names_the_bad_output_or_input_by_position():
    x = Value([1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"grad\(\): outputs must be Values, but output 1 is list"):
        tg.grad([x * 2, [1.0]], x)
    with pytest.raises(TypeError, match=r"grad\(\): inputs must be Values, but input 0 is float"):
        tg.grad(x * 2, [1.0])


def test_a_hook_returning_none_passes_the_gradient_on_to_the_next_hook():
    seen = []
    x = Value([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.register_hook(lambda g: seen.append(type(g)))          # looks only: returns None
    y.register_hook(lambda g: g * 5)
    y.sum().backward()
    assert seen == [Value]                                   # hooks get Values in a plain backward too
    assert x.grad.data.tolist() == [5.0, 5.0]
