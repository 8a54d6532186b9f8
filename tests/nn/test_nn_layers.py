"""Layers (Linear, Identity, Flatten, Dropout) and activations, against their formulas written out."""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_lab import Value, nn
from tinygrad_lab.nn import functional as F
from tinygrad_lab.random import get_generator, manual_seed
from tinygrad_lab.testing import gradcheck, gradcheck_module

# ---------------------------------------------------------------------------- Linear


def test_linear_shapes_and_formula():
    layer = nn.Linear(3, 2)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    x = np.random.default_rng(0).normal(size=(5, 3))
    out = layer(Value(x))
    assert out.shape == (5, 2)
    np.testing.assert_allclose(out.data, x @ layer.weight.data.T + layer.bias.data, rtol=0, atol=1e-15)
    assert out._op.name == "linear"           # one fused node


def test_linear_without_bias_and_batched_input():
    layer = nn.Linear(3, 4, bias=False)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    x = np.random.default_rng(1).normal(size=(2, 5, 3))
    np.testing.assert_allclose(layer(Value(x)).data, x @ layer.weight.data.T, atol=1e-15)


def test_linear_default_init_is_uniform_in_one_over_sqrt_fan_in():
    layer = nn.Linear(25, 400, generator=0)
    bound = 1 / math.sqrt(25)
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound
    w = layer.weight.data.ravel()
    # U(-b, b): mean 0, variance b^2 / 3 (10000 draws: generous 5-sigma bands)
    assert abs(w.mean()) < 5 * bound / math.sqrt(3 * w.size)
    assert abs(w.var() - bound ** 2 / 3) < 0.05 * bound ** 2 / 3
    assert np.abs(w).max() > 0.98 * bound


def test_linear_init_is_reproducible_from_seed_or_generator():
    manual_seed(7)
    a = nn.Linear(3, 3)
    manual_seed(7)
    b = nn.Linear(3, 3)
    assert np.array_equal(a.weight.data, b.weight.data) and np.array_equal(a.bias.data, b.bias.data)
    c, d = nn.Linear(3, 3, generator=5), nn.Linear(3, 3, generator=np.random.default_rng(5))
    assert np.array_equal(c.weight.data, d.weight.data)
    assert not np.array_equal(c.weight.data.ravel()[:3], c.bias.data)   # bias is a fresh draw


def test_linear_dtype_and_errors():
    layer = nn.Linear(2, 2, dtype=np.float32)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert layer(Value(np.ones((1, 2), dtype=np.float32))).dtype == np.float32
    with pytest.raises(ValueError, match="in_features must be a non-negative integer"):
        nn.Linear(2.5, 3)
    with pytest.raises(ValueError, match="features"):
        nn.Linear(3, 2)(Value(np.ones((1, 4))))


def test_linear_gradients_match_finite_differences():
    layer = nn.Linear(3, 2, generator=0)
    x = Value(np.random.default_rng(3).normal(size=(4, 3)), requires_grad=True)
    assert gradcheck_module(layer, (x,))
    assert gradcheck_module(nn.Linear(3, 2, bias=False, dtype=np.float32), (x,))


def test_reset_parameters_redraws():
    layer = nn.Linear(4, 4, generator=0)
    before = layer.weight.data.copy()
    layer.reset_parameters(generator=1)
    assert not np.array_equal(before, layer.weight.data)


# ---------------------------------------------------------------------------- Identity, Flatten

def test_identity_returns_input():
    x = Value([1.0, 2.0])
    assert nn.Identity(54, unused=True)(x) is x


@pytest.mark.parametrize("shape, start, end, expected", [
    ((2, 3, 4), 1, -1, (2, 12)),
    ((2, 3, 4), 0, -1, (24,)),
    ((2, 3, 4, 5), 1, 2, (2, 12, 5)),
    ((2, 3), 1, -1, (2, 3)),
    ((5,), 0, -1, (5,)),
])
def test_flatten_shapes(shape, start, end, expected):
    x = Value(np.arange(np.prod(shape), dtype=float).reshape(shape), requires_grad=True)
    out = nn.Flatten(start, end)(x)
    assert out.shape == expected
    assert np.array_equal(out.data.ravel(), x.data.ravel())
    out.sum().backward()
    assert x.grad.shape == shape


def test_flatten_errors_and_repr():
    with pytest.raises(IndexError, match="do not exist"):
        nn.Flatten(3)(Value(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="must not come after"):
        nn.Flatten(2, 1)(Value(np.zeros((2, 3, 4))))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


# ---------------------------------------------------------------------------- Dropout

def test_dropout_scales_kept_elements_and_zeros_the_rest():
    drop = nn.Dropout(0.25, generator=0)
    x = Value(np.full((200, 50), 3.0), requires_grad=True)
    y = drop(x)
    kept = y.data != 0
    assert np.allclose(y.data[kept], 3.0 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02            # 10000 Bernoulli(0.75) draws
    y.sum().backward()
    assert np.array_equal(x.grad.data, kept / 0.75)  # gradient flows through the same mask


def test_dropout_eval_and_p_zero_return_input_unchanged():
    x = Value(np.ones(10))
    assert nn.Dropout(0.5).eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_p_one_gives_zeros():
    x = Value(np.ones(6), requires_grad=True)
    y = nn.Dropout(1.0)(x)
    assert not y.data.any()
    y.sum().backward()
    assert not x.grad.data.any()


def test_dropout_is_reproducible_with_the_global_seed():
    x = Value(np.ones(100))
    manual_seed(3)
    a = nn.Dropout(0.5)(x).data
    manual_seed(3)
    b = nn.Dropout(0.5)(x).data
    c = nn.Dropout(0.5)(x).data
    assert np.array_equal(a, b) and not np.array_equal(b, c)
    first, second = nn.Dropout(0.5, generator=7), nn.Dropout(0.5, generator=7)   # a module's own stream
    masks = [first(x).data, first(x).data]
    assert np.array_equal(masks[0], second(x).data) and not np.array_equal(*masks)


def test_dropout_keeps_float32():
    y = nn.Dropout(0.5, generator=1)(Value(np.ones(8, dtype=np.float32)))
    assert y.dtype == np.float32 and set(np.unique(y.data)) <= {0.0, 2.0}


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_bad_probabilities(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Dropout("half"), "dropout probability must be a number between 0 and 1, got str 'half'"),
    (lambda: nn.Dropout(None), "dropout probability must be a number between 0 and 1, got NoneType None"),
    (lambda: nn.Flatten("1"), "Flatten: start_dim must be an integer (a dimension), got str '1'"),
    (lambda: nn.Flatten(1, -1.0), "Flatten: end_dim must be an integer (a dimension), got float -1.0"),
    (lambda: nn.LeakyReLU("0.1"), "LeakyReLU: negative_slope must be a number, got str '0.1'"),
    (lambda: nn.Softmax(dim="1"), "Softmax: dim must be an integer or None, got str '1'"),
    (lambda: nn.LogSoftmax(dim=1.0), "LogSoftmax: dim must be an integer or None, got float 1.0"),
])
def test_layer_arguments_of_the_wrong_type_are_a_type_error_naming_the_type(make, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        make()


def test_dropout_repr():
    assert repr(nn.Dropout(0.3)) == "Dropout(p=0.3, inplace=False)"  # as PyTorch
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)" and repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU(0.2, inplace=True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"


def test_global_generator_is_replaced_by_manual_seed():
    g = manual_seed(11)
    assert get_generator() is g
    with pytest.raises(ValueError, match=">= 0"):
        manual_seed(-1)
    with pytest.raises(TypeError, match="integer seed"):
        manual_seed(1.5)


# ---------------------------------------------------------------------------- activations

values = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-30, 30, allow_nan=False))


@settings(max_examples=30, deadline=None)
@given(values)
def test_elementwise_activations_match_their_formulas(x):
    v = Value(x)
    np.testing.assert_allclose(nn.Sigmoid()(v).data, 1 / (1 + np.exp(-x)), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(nn.Tanh()(v).data, np.tanh(x), rtol=1e-13)
    np.testing.assert_array_equal(nn.ReLU()(v).data, np.where(x > 0, x, 0.0))
    np.testing.assert_array_equal(nn.LeakyReLU()(v).data, np.where(x > 0, x, 0.01 * x))
    np.testing.assert_array_equal(nn.LeakyReLU(0.2)(v).data, np.where(x > 0, x, 0.2 * x))


@settings(max_examples=30, deadline=None)
@given(values)
def test_softmax_and_log_softmax_match_their_formulas(x):
    dim = x.ndim - 1
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    expected = e / e.sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(nn.Softmax(dim=dim)(Value(x)).data, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(nn.LogSoftmax(dim=-1)(Value(x)).data,
                               x - x.max(axis=dim, keepdims=True) - np.log(e.sum(axis=dim, keepdims=True)),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("module", [nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.3), nn.Softmax(dim=0),
                                    nn.LogSoftmax(dim=1)])
def test_activation_gradients_match_finite_differences(module):
    x = Value(np.array([[-1.3, 0.4, 2.1], [0.7, -0.2, -2.5]]), requires_grad=True)
    weights = np.arange(6.0).reshape(2, 3)
    assert gradcheck(lambda x: (module(x) * weights).sum(), (x,))


def test_softmax_without_dim_warns_and_uses_torch_legacy_choice():
    x = Value(np.random.default_rng(0).normal(size=(2, 3)))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = nn.Softmax()(x)
    np.testing.assert_allclose(y.data.sum(axis=1), 1.0)          # 2-D: dim 1
    with pytest.warns(UserWarning, match="log_softmax"):
        z = F.log_softmax(Value(np.zeros(4)))                     # 1-D: dim 0
    np.testing.assert_allclose(z.data, np.log(0.25))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.softmax(x, dim=0)


def test_activation_reprs():
    assert repr(nn.Sigmoid()) == "Sigmoid()"
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.LogSoftmax(dim=-1)) == "LogSoftmax(dim=-1)"


def test_activations_accept_plain_arrays():
    x = np.array([-1.0, 1.0])
    assert isinstance(nn.ReLU()(x), np.ndarray)
    assert isinstance(F.sigmoid(x), np.ndarray)
