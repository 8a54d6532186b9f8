"""The dtype rule (issue 10, item 6; docs/engine.md "dtypes"): numbers and plain arrays mixed into an op are
constants of the Value's dtype; matmul/linear between Values of different float dtypes are a TypeError naming
both; elementwise ops between Values promote as NumPy does."""
import numpy as np
import pytest

from tinygrad_lab import Value, nn, optim
from tinygrad_lab import ops as O
from tinygrad_lab.nn import functional as F
from tinygrad_lab.train import evaluate, fit

F32, F64 = np.float32, np.float64


@pytest.fixture
def x32():
    return Value(np.linspace(-1, 1, 6, dtype=F32).reshape(2, 3), requires_grad=True)


@pytest.mark.parametrize("make", [
    lambda x: x * 2.5, lambda x: 2.5 * x, lambda x: x + np.ones(3), lambda x: np.ones(3) + x,
    lambda x: x - [1.0, 2.0, 3.0], lambda x: x / np.float64(3.0), lambda x: x * np.arange(3),
    lambda x: x ** np.array([2.0, 1.0, 3.0]), lambda x: x ** np.float64(2.0), lambda x: x.clip(None, [0.5, 0.5, 0.5]),
    lambda x: O.maximum(x, np.zeros(3)), lambda x: O.where(x.data > 0, x, np.zeros((2, 3))),
    lambda x: O.concat([x, np.zeros((1, 3))]), lambda x: x @ np.ones((3, 2)), lambda x: np.ones((4, 2)) @ x,
    lambda x: O.linear(x, np.ones((4, 3)), np.zeros(4)),
])
def test_numbers_and_plain_arrays_take_the_values_dtype(x32, make):
    out = make(x32)
    assert out.dtype == F32
    out.sum().backward()
    assert x32.grad.dtype == F32


def test_the_constant_is_converted_before_the_op_so_the_numbers_are_float32_numbers(x32):
    third = np.array([1 / 3, 1 / 3, 1 / 3])                 # float64: rounds to the float32 1/3 first
    np.testing.assert_array_equal((x32 * third).data, x32.data * np.float32(1 / 3))


def test_elementwise_ops_between_values_promote_as_numpy_does(x32):
    x64 = Value(np.ones((2, 3)), requires_grad=True)
    for out in (x32 + x64, x64 * x32, O.maximum(x32, x64), O.where(x32.data > 0, x32, x64)):
        assert out.dtype == np.result_type(F32, F64) == F64
    (x32 * x64).sum().backward()
    assert x32.grad.dtype == F32 and x64.grad.dtype == F64      # each gradient in its input's dtype


@pytest.mark.parametrize("make, names", [
    (lambda a, b: a @ b, ("left operand is float32", "right operand is float64")),
    (lambda a, b: b.T @ a.T, ("left operand is float64", "right operand is float32")),
    (lambda a, b: O.matmul(a, b), ("float32", "float64")),
    (lambda a, b: O.linear(Value(np.ones((2, 3))), a.T), ("input is float64", "weight is float32")),
    (lambda a, b: O.linear(a, Value(np.ones((4, 3)))), ("input is float32", "weight is float64")),
    (lambda a, b: O.linear(Value(np.ones((2, 3))), b.T, Value(np.ones(3), dtype=F32)),
     ("bias is float32", "weight is float64")),
])
def test_matrix_products_of_different_float_dtypes_are_a_type_error_naming_both(make, names):
    a = Value(np.ones((2, 3), dtype=F32), requires_grad=True)
    b = Value(np.ones((3, 3)), requires_grad=True)
    with pytest.raises(TypeError, match="expected both Values to have the same dtype") as info:
        make(a, b)
    for name in names:
        assert name in str(info.value)
    assert "x.float(), x.double()" in str(info.value)


def test_a_float32_model_given_a_float64_value_is_refused_and_an_array_is_converted():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1)).float()
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    with pytest.raises(TypeError, match="input is float64 and the weight is float32"):
        model(Value(x))
    assert model(x).dtype == F32                              # a plain array is a constant of the model's dtype
    assert model(Value(x).float()).dtype == F32
    assert model.double()(Value(x)).dtype == F64


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
def test_losses_follow_the_rule_for_value_and_array_targets(loss):
    pred = Value(np.array([[0.25], [0.75]], dtype=F32), requires_grad=True)
    target = np.array([[0.0], [1.0]])
    assert loss(pred, target).dtype == F32                    # a float64 array target: float32
    assert loss(pred, target.tolist()).dtype == F32
    assert loss(pred, Value(target)).dtype == F64             # a float64 Value target: NumPy's promotion
    assert loss(pred, Value(target, dtype=F32)).dtype == F32


@pytest.mark.parametrize("batch_size", [None, 5])
def test_fit_trains_a_float32_model_on_float64_arrays_in_float32(batch_size):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(20, 2)), (rng.random((20, 1)) > 0.5).astype(np.float64)
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1), nn.Sigmoid()).float()
    history = fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5), epochs=3,
                  batch_size=batch_size, seed=0)
    assert len(history.loss) == 3
    assert all(p.dtype == F32 and p.grad.dtype == F32 for p in model.parameters())
    assert evaluate(model, X, Y).outputs.dtype == F32
