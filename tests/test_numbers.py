"""Numbers at the edges (issue 10): sigmoid below the float's range, x ** 0 at x = 0, BCE of a saturated
sigmoid. Conventions are checked without PyTorch; the parity tests at the end compare with it when present."""
import warnings

import numpy as np
import pytest

from tinygrad_lab import Value, grad
from tinygrad_lab.nn import functional as F

FLOATS = [np.float16, np.float32, np.float64]


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_far_below_the_range_is_exactly_zero_with_a_zero_gradient_and_no_warning(dtype):
    x = Value(np.array([-1000.0, -800.0, -750.0, 1000.0], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # no overflow warning either
        y = x.sigmoid()
        y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert y.data.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert x.grad.data.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_sigmoid_becomes_zero_exactly_where_exp_overflows():
    # float32: exp(88) = 1.65e38 is finite, exp(89) is not (max 3.4e38)
    y = Value(np.array([-88.0, -89.0], dtype=np.float32)).sigmoid().data
    assert y[0] == np.float32(1) / (np.float32(1) + np.exp(np.float32(88))) and y[0] > 0
    assert y[1] == 0
    y = Value(np.array([-709.0, -710.0])).sigmoid().data   # float64: exp(709) finite, exp(710) not
    assert y[0] == 1 / (1 + np.exp(709.0)) and y[0] > 0 and y[1] == 0


def test_float16_sigmoid_is_the_float32_result_rounded_once():
    x = np.array([-17.0, -12.0, -11.0, -3.0, 0.0, 5.0], dtype=np.float16)
    exact = 1 / (1 + np.exp(-x.astype(np.float64)))
    y = Value(x).sigmoid().data
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y, exact.astype(np.float32).astype(np.float16))
    assert y[1] > 6e-6                                      # was 1.67e-5 with exp's argument capped at 11


@pytest.mark.parametrize("x, loss", [(-89.0, 100.0), (-95.0, 100.0), (-104.0, 100.0), (-1000.0, 100.0)])
def test_float32_bce_of_a_saturated_sigmoid_is_clamped_at_100(x, loss):
    p = Value(np.array([x], dtype=np.float32)).sigmoid()
    out = F.binary_cross_entropy(p, np.array([1.0], dtype=np.float32))
    assert out.dtype == np.float32 and out.item() == loss


def test_float32_bce_just_inside_the_range_is_minus_log_p():
    p = Value(np.array([-88.0], dtype=np.float32)).sigmoid()
    out = F.binary_cross_entropy(p, np.array([1.0], dtype=np.float32))
    assert out.item() == -np.log(p.data[0])                 # 88.0: the float32 log of 6.05e-39


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_gradient_of_x_to_the_zero_is_zero_also_at_zero(dtype):
    x = Value(np.array([0.0, 2.0, -1.0], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x ** 0).sum().backward()
    assert x.grad.dtype == dtype and x.grad.data.tolist() == [0.0, 0.0, 0.0]
    (g,) = grad((x ** 0).sum(), x, create_graph=True)        # the same rule with Values
    assert g.data.tolist() == [0.0, 0.0, 0.0]


def test_an_array_exponent_with_zeros_gives_zero_gradient_there_and_the_formula_elsewhere():
    x = Value([0.0, 0.0, 3.0, 3.0], requires_grad=True)
    p = np.array([0.0, 2.0, 0.0, 2.0])
    (x ** p).sum().backward()
    assert x.grad.data.tolist() == [0.0, 0.0, 0.0, 6.0]


def test_a_value_exponent_of_zero_gives_the_base_a_zero_gradient():
    a = Value([0.0, 2.0], requires_grad=True)
    b = Value([0.0, 0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (a ** b).sum().backward()
    assert a.grad.data.tolist() == [0.0, 0.0]
    assert b.grad.data.tolist() == [0.0, float(np.log(2.0))]   # d/db = y log a, 0 at a = 0


@pytest.mark.parametrize("exponent", [None, "2", {2}, object()])
def test_an_exponent_that_is_not_a_number_is_a_type_error(exponent):
    with pytest.raises(TypeError, match="the exponent must be a number, an array or a Value, got"):
        Value([1.0]) ** exponent


# ---------------------------------------------------------------------------- parity with PyTorch

@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_matches_torch_across_the_whole_range(dtype):
    torch = pytest.importorskip("torch", reason="PyTorch parity needs torch (pip install torch)")
    xs = np.concatenate([np.linspace(-1000, 1000, 2001), [-745, -710, -709, -104, -89, -88, -17, -12, 0]])
    x = Value(xs.astype(dtype), requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    t = torch.tensor(xs.astype(dtype), requires_grad=True)
    ty = torch.sigmoid(t)
    ty.sum().backward()
    rtol = {np.float16: 0, np.float32: 1e-6, np.float64: 1e-15}[dtype]
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=rtol, atol=0)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=rtol * 4, atol=0)
    assert ((y.data == 0) == (ty.detach().numpy() == 0)).all()          # exact zeros in the same places


def test_pow_zero_gradients_match_torch():
    torch = pytest.importorskip("torch", reason="PyTorch parity needs torch (pip install torch)")
    base = np.array([0.0, 2.0, -1.0, 0.0])
    p = np.array([0.0, 0.0, 2.0, 3.0])
    x = Value(base, requires_grad=True)
    (x ** 0).sum().backward()
    (x ** p).sum().backward()
    t = torch.tensor(base, requires_grad=True)
    (t ** 0).sum().backward()
    (t ** torch.tensor(p)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())
    base = np.abs(base)                                     # log of a negative base: nan in both
    a, b = Value(base, requires_grad=True), Value(p, requires_grad=True)
    (a ** b).sum().backward()
    ta, tb = torch.tensor(base, requires_grad=True), torch.tensor(p, requires_grad=True)
    (ta ** tb).sum().backward()
    np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-15)


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_a_loss_of_no_elements_is_nan_mean_zero_sum_and_an_empty_gradient(loss, reduction):
    x = Value(np.zeros((0, 1)), requires_grad=True)
    with np.errstate(all="ignore"):
        out = loss(x, np.zeros((0, 1)), reduction=reduction)
        out.sum().backward()                                # was ZeroDivisionError for 'mean'
    expected = {"mean": [np.nan], "sum": [0.0], "none": []}[reduction]
    np.testing.assert_array_equal(np.ravel(out.data), expected)
    assert x.grad.shape == (0, 1)
