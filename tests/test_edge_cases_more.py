"""Edge cases found by adversarial testing against PyTorch 2.13, each fixed: var/std over dim 0 or -1 of a 0-d
Value, argmax/argmin of an empty Value over a dim of nonzero size, float16 var/std/cumsum computed in float32
and rounded once, pooling with ceil_mode where a window runs past the padded input (a partial window), linear
without input features, batch_norm of an empty input, and cross_entropy/nll_loss's ignore_index and
label_smoothing checks.

Expected values are closed forms or NumPy formulas written here (float64 references rounded to float16 once);
the PyTorch parity tests at the end skip without torch.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_lab.nn.functional as F
from tinygrad_lab import Value, nn
from tinygrad_lab.ops import argmax, argmin, cumsum, linear, std, var


def _torch():
    return pytest.importorskip("torch", reason="PyTorch parity needs torch (pip install torch)")


# ---------------------------------------------------------------------------- var / std of a 0-d Value


@pytest.mark.parametrize("dim", [0, -1, (0,), [-1]])
@pytest.mark.parametrize("op", [var, std])
def test_var_and_std_of_a_0d_value_over_dim_0_or_minus_1(op, dim):
    # one element: population spread 0 (gradient 0: var's 2 (x - mean) / 1, std's 0 where std is 0);
    # the sample spread (correction 1) has no degrees of freedom: nan, gradient nan (PyTorch's rule)
    x = Value(2.0, requires_grad=True)
    y = op(x, dim=dim, correction=0)
    assert y.shape == () and y.item() == 0.0
    y.backward()
    assert x.grad.item() == 0.0
    x = Value(2.0, requires_grad=True)
    with pytest.warns(RuntimeWarning):
        y = op(x, dim=dim)
    assert y.shape == () and np.isnan(y.item())
    y.backward()
    assert np.isnan(x.grad.item())
    assert op(Value(2.0), dim=dim, correction=0, keepdim=True).shape == ()
    assert float(op(np.float64(2.0), dim=dim, correction=0)) == 0.0


@pytest.mark.parametrize("dim", [1, -2])
def test_var_of_a_0d_value_refuses_other_dims(dim):
    with pytest.raises(IndexError, match="out of bounds for a Value with 0 dimension"):
        var(Value(2.0), dim=dim)


@pytest.mark.parametrize("shape, dim", [((), (0, -1)), ((2, 3), (0, 0)), ((2, 3), (1, -1))])
def test_var_and_std_refuse_a_repeated_dim(shape, dim):
    for op in (var, std):
        with pytest.raises(ValueError, match=r"names an axis twice: give each axis once"):
            op(Value(np.ones(shape)), dim=dim)


# ---------------------------------------------------------------------------- argmax / argmin of empty Values


@pytest.mark.parametrize("op", [argmax, argmin])
@pytest.mark.parametrize("shape, dim, expected", [
    ((2, 0, 3), 2, (2, 0)), ((2, 0, 3), -1, (2, 0)), ((2, 0, 3), 0, (0, 3)), ((3, 0), 0, (0,)), ((0, 3), 1, (0,)),
])
def test_argmax_and_argmin_over_a_nonzero_dim_of_an_empty_value(op, shape, dim, expected):
    # PyTorch: an empty int64 result (nothing to pick, but no slice without elements either)
    for x in (Value(np.zeros(shape)), np.zeros(shape)):
        out = op(x, dim=dim)
        assert np.shape(getattr(out, "data", out)) == expected
        assert np.asarray(getattr(out, "data", out)).dtype == np.int64
        kept = op(x, dim=dim, keepdim=True)
        assert np.shape(getattr(kept, "data", kept)) == tuple(1 if i == dim % len(shape) else s
                                                              for i, s in enumerate(shape))


@pytest.mark.parametrize("op", [argmax, argmin])
@pytest.mark.parametrize("shape, dim", [((0, 3), 0), ((3, 0), 1), ((3, 0), -1), ((0,), 0), ((0, 3), None)])
def test_argmax_and_argmin_refuse_a_dim_of_size_0(op, shape, dim):
    with pytest.raises(ValueError, match=r"of an empty Value .*there is no element to pick"):
        op(Value(np.zeros(shape)), dim=dim)


# ---------------------------------------------------------------------------- float16 accumulation


def test_float16_var_of_ones_is_zero_along_a_strided_axis():
    x = Value(np.ones((4096, 2), dtype=np.float16))
    for op in (var, std):
        out = op(x, dim=0)
        assert out.data.dtype == np.float16
        np.testing.assert_array_equal(out.data, np.zeros(2, dtype=np.float16))


def _half_rounded(reference):
    return np.asarray(reference).astype(np.float16).astype(np.float64)


def test_float16_var_and_std_are_the_float64_values_rounded(rng):
    x = (rng.standard_normal((4096, 3)) + 10).astype(np.float16)
    wide = x.astype(np.float64)
    for dim in (0, None):
        for correction in (0, 1):
            expected_var = wide.var(axis=dim, ddof=correction)
            got = var(Value(x), dim=dim, correction=correction).data
            assert got.dtype == np.float16
            np.testing.assert_allclose(got, _half_rounded(expected_var), rtol=1e-3)   # one float16 rounding
            got = std(Value(x), dim=dim, correction=correction).data
            np.testing.assert_allclose(got, _half_rounded(np.sqrt(expected_var)), rtol=1e-3)


@pytest.mark.parametrize("shape, dim", [((4096,), 0), ((4096, 2), 0), ((2, 4096), 1)])
def test_float16_cumsum_is_the_float64_sum_rounded(shape, dim):
    x = np.full(shape, 0.1, dtype=np.float16)
    expected = _half_rounded(np.cumsum(x.astype(np.float64), axis=dim))   # the last is 4096 * 0.0999755859375
    for got in (cumsum(Value(x), dim=dim).data, cumsum(x, dim=dim)):
        assert got.dtype == np.float16
        np.testing.assert_allclose(got, expected, rtol=1e-3)
        assert got.max() == np.float16(409.5)


def test_float16_cumsum_gradient_is_the_reversed_sum_rounded():
    x = Value(np.zeros(4096, dtype=np.float16), requires_grad=True)
    cumsum(x, dim=0).backward(Value(np.full(4096, 0.1, dtype=np.float16)))
    g = np.full(4096, 0.1, dtype=np.float16).astype(np.float64)
    expected = _half_rounded(np.cumsum(g[::-1])[::-1])   # dx_j = sum of g_i for i >= j
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-3)


# ---------------------------------------------------------------------------- pooling with ceil_mode


def test_max_pool1d_with_ceil_mode_pools_a_window_larger_than_the_input():
    # PyTorch: (1 - 2 + (3 - 1)) // 3 + 1 = 1 window, starting inside the input: it pools what it covers
    x = Value([[[5.0]]], requires_grad=True)
    y = nn.MaxPool1d(2, 3, ceil_mode=True)(x)
    assert y.data.tolist() == [[[5.0]]]
    y.backward()
    assert x.grad.data.tolist() == [[[1.0]]]
    y, idx = F.max_pool1d(x, 2, 3, ceil_mode=True, return_indices=True)
    assert idx.data.tolist() == [[[0]]]


def test_max_pool2d_partial_windows_and_gradient():
    # 2 x 3 input, 3x3 windows, stride 2, ceil_mode: rows ceil((2 - 3) / 2) + 1 = 1, columns ceil(0 / 2) + 1 = 1;
    # the one window covers the whole input
    data = np.array([[[[1.0, 7.0, 3.0], [4.0, 2.0, 6.0]]]])
    x = Value(data, requires_grad=True)
    y = F.max_pool2d(x, 3, 2, ceil_mode=True)
    assert y.data.tolist() == [[[[7.0]]]]
    y.backward()
    np.testing.assert_array_equal(x.grad.data, (data == 7.0).astype(float))


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool1d_partial_window_divides_by_what_it_covers_of_the_padded_input(count_include_pad):
    # [a, b] = [1, 4], kernel 3, stride 2, padding 1, ceil_mode: windows start at -1 and 1;
    # the first covers pad, a, b; the second b, pad, (past the padded input). PyTorch's divisor counts the
    # padding when count_include_pad (3, then 2) and not otherwise (2, then 1), never what is past it.
    x = Value([[[1.0, 4.0]]], requires_grad=True)
    y = F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=count_include_pad)
    d1, d2 = (3.0, 2.0) if count_include_pad else (2.0, 1.0)
    np.testing.assert_allclose(y.data, [[[5.0 / d1, 4.0 / d2]]], rtol=1e-15)
    y.backward(Value([[[1.0, 10.0]]]))
    np.testing.assert_allclose(x.grad.data, [[[1.0 / d1, 1.0 / d1 + 10.0 / d2]]], rtol=1e-15)


def test_avg_pool_partial_window_of_one_element():
    x = Value([[[[5.0]]]], requires_grad=True)
    assert nn.AvgPool1d(2, 3, ceil_mode=True)(Value([[[5.0]]])).data.tolist() == [[[5.0]]]
    y = F.avg_pool2d(x, 2, 3, ceil_mode=True)
    assert y.data.tolist() == [[[[5.0]]]]   # a divisor of 1: the window covers one element and no padding
    y.backward()
    assert x.grad.data.tolist() == [[[[1.0]]]]
    assert F.avg_pool2d(x, 2, 3, ceil_mode=True, divisor_override=3).data.tolist() == [[[[5.0 / 3]]]]


@pytest.mark.parametrize("call", [
    lambda x: F.max_pool1d(x, 2, 3), lambda x: F.avg_pool1d(x, 2, 3), lambda x: F.max_pool1d(x, 3, 1, ceil_mode=True),
])
def test_pooling_without_any_window_is_refused(call):
    # without ceil_mode floor((1 - 2) / 3) + 1 = 0 windows; a window of 3 with stride 1 fits none either way
    with pytest.raises(ValueError, match=r"is larger than the padded input of size 1, so there is no output"):
        call(Value([[[5.0]]]))


def test_pooling_refusal_suggests_ceil_mode_only_when_it_helps():
    with pytest.raises(ValueError, match=r"or ceil_mode=True to pool the partial window$"):
        F.max_pool1d(Value([[[5.0]]]), 2, 3)
    with pytest.raises(ValueError, match=r"kernel_size or dilation$"):
        F.max_pool1d(Value([[[5.0]]]), 3, 1)


# ---------------------------------------------------------------------------- linear without input features


@pytest.mark.parametrize("shape", [(4, 0), (2, 3, 0), (0, 0), (2, 0, 0), (0,)])
def test_linear_without_input_features_is_the_bias(shape):
    # y = x @ W^T + b with no terms in the product: y = b; dW is empty, db = the number of rows y has
    x = Value(np.zeros(shape), requires_grad=True)
    w = Value(np.zeros((3, 0)), requires_grad=True)
    b = Value(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = linear(x, w, b)
    assert y.shape == (*shape[:-1], 3)
    np.testing.assert_array_equal(y.data, np.broadcast_to([1.0, 2.0, 3.0], y.shape))
    y.sum().backward()
    assert x.grad.shape == shape and w.grad.shape == (3, 0)
    rows = int(np.prod(shape[:-1]))
    np.testing.assert_array_equal(b.grad.data, [rows] * 3)
    z = linear(Value(np.zeros(shape), requires_grad=True), w)   # without a bias: zeros
    np.testing.assert_array_equal(z.data, np.zeros((*shape[:-1], 3)))
    z.sum().backward()


def test_linear_layer_with_zero_in_features_trains_its_bias():
    layer = nn.Linear(0, 2)
    layer(Value(np.zeros((2, 3, 0)))).sum().backward()
    np.testing.assert_array_equal(layer.bias.grad.data, [6.0, 6.0])
    assert layer.weight.grad.shape == (2, 0)


# ---------------------------------------------------------------------------- batch_norm of an empty input


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4), (2, 3, 0)])
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("stats", [False, True])
def test_batch_norm_of_an_empty_input_is_empty(shape, training, stats):
    # PyTorch: an empty output in either mode, running statistics unchanged and not needed; weight and bias
    # get gradients 0 (sums over no elements)
    running_mean = np.full(3, 5.0) if stats else None
    running_var = np.full(3, 7.0) if stats else None
    x = Value(np.zeros(shape, dtype=np.float32), requires_grad=True)
    w = Value(np.ones(3, dtype=np.float32), requires_grad=True)
    b = Value(np.ones(3, dtype=np.float32), requires_grad=True)
    y = F.batch_norm(x, running_mean, running_var, w, b, training=training)
    assert y.shape == shape and y.data.dtype == np.float32
    y.sum().backward()
    assert x.grad.shape == shape
    np.testing.assert_array_equal(w.grad.data, np.zeros(3))
    np.testing.assert_array_equal(b.grad.data, np.zeros(3))
    if stats:
        np.testing.assert_array_equal(running_mean, np.full(3, 5.0))
        np.testing.assert_array_equal(running_var, np.full(3, 7.0))


def test_batch_norm_still_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="running_mean and running_var are needed when training=False"):
        F.batch_norm(Value(np.zeros((1, 3))), None, None, training=False)
    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        F.batch_norm(Value(np.zeros((1, 3))), None, None, training=True)
    with pytest.raises(ValueError, match="must both be given or both be None"):
        F.batch_norm(Value(np.zeros((0, 3))), np.zeros(3), None, training=True)


# ---------------------------------------------------------------------------- loss options


_LOGITS = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]])


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("value", [1.5, 1.0, "1", True, None])
def test_functional_losses_refuse_a_non_integer_ignore_index(loss, value):
    # 1.5 or "1" matched no target: nothing was ignored, silently
    with pytest.raises(TypeError, match=rf"^{loss.__name__}: ignore_index must be an int"):
        loss(Value(_LOGITS), np.array([0, 1]), ignore_index=value)


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_functional_losses_take_a_numpy_integer_ignore_index(loss):
    # row 1's target is ignored: the mean is row 0's loss alone
    full = loss(Value(_LOGITS), np.array([0, 1]), reduction="none").data
    got = loss(Value(_LOGITS), np.array([0, 1]), ignore_index=np.int64(1))
    assert got.item() == pytest.approx(full[0], rel=1e-15)


@pytest.mark.parametrize("value", ["0.1", None, True, [0.1]])
def test_cross_entropy_refuses_a_non_number_label_smoothing(value):
    with pytest.raises(TypeError, match=r"^cross_entropy: label_smoothing must be a number between 0.0 and 1.0"):
        F.cross_entropy(Value(_LOGITS), np.array([0, 1]), label_smoothing=value)


def test_loss_modules_share_the_checks():
    with pytest.raises(TypeError, match="^CrossEntropyLoss: label_smoothing must be a number"):
        nn.CrossEntropyLoss(label_smoothing="0.1")
    with pytest.raises(TypeError, match="^NLLLoss: ignore_index must be an int"):
        nn.NLLLoss(ignore_index=1.5)


# ---------------------------------------------------------------------------- PyTorch parity


def test_float16_var_std_cumsum_match_pytorch(rng):
    torch = _torch()
    x = (rng.standard_normal((4096, 2)) + 10).astype(np.float16)
    t = torch.tensor(x)
    for dim in (0, 1, None):
        for correction in (0, 1):
            np.testing.assert_array_equal(var(Value(x), dim=dim, correction=correction).data,
                                          torch.var(t, dim=dim, correction=correction).numpy())
            np.testing.assert_array_equal(std(Value(x), dim=dim, correction=correction).data,
                                          torch.std(t, dim=dim, correction=correction).numpy())
    for dim in (0, 1):
        np.testing.assert_array_equal(cumsum(Value(x), dim=dim).data, torch.cumsum(t, dim).numpy())


def test_ceil_mode_pooling_matches_pytorch(rng):
    torch = _torch()
    tf = torch.nn.functional
    cases = [  # (size, kernel, stride, padding, dilation): windows past the padded input with ceil_mode
        ((1, 1), 2, 3, 0, 1), ((2, 5), (3, 2), (3, 2), 0, 1), ((4, 3), (3, 3), 2, 1, 1), ((2, 3), 4, 3, 2, 1),
        ((3, 4), 2, (2, 3), 0, 2), ((1, 2), (2, 3), 3, (1, 1), 1),
    ]
    for size, kernel, stride, padding, dilation in cases:
        x = rng.standard_normal((2, 2, *size))
        for kind in ("max", "avg_in", "avg_out"):
            if kind != "max" and dilation != 1:
                continue
            tx = torch.tensor(x, requires_grad=True)
            ours = Value(x, requires_grad=True)
            if kind == "max":
                ty = tf.max_pool2d(tx, kernel, stride, padding, dilation, ceil_mode=True)
                y = F.max_pool2d(ours, kernel, stride, padding, dilation, ceil_mode=True)
            else:
                cip = kind == "avg_in"
                ty = tf.avg_pool2d(tx, kernel, stride, padding, ceil_mode=True, count_include_pad=cip)
                y = F.avg_pool2d(ours, kernel, stride, padding, ceil_mode=True, count_include_pad=cip)
            g = rng.standard_normal(tuple(ty.shape))
            ty.backward(torch.tensor(g))
            y.backward(Value(g))
            np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(ours.grad.data, tx.grad.numpy(), rtol=1e-14, atol=1e-15)


def test_linear_without_input_features_matches_pytorch():
    torch = _torch()
    w = torch.zeros((3, 0), dtype=torch.float64, requires_grad=True)
    b = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    x = torch.zeros((2, 3, 0), dtype=torch.float64, requires_grad=True)
    torch.nn.functional.linear(x, w, b).sum().backward()
    ours_w, ours_b = Value(np.zeros((3, 0)), requires_grad=True), Value([1.0, 2.0, 3.0], requires_grad=True)
    ours_x = Value(np.zeros((2, 3, 0)), requires_grad=True)
    linear(ours_x, ours_w, ours_b).sum().backward()
    np.testing.assert_array_equal(ours_b.grad.data, b.grad.numpy())
    assert ours_w.grad.shape == tuple(w.grad.shape) and ours_x.grad.shape == tuple(x.grad.shape)
