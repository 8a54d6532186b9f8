"""nn.init: fans, gains, bounds and statistics of each initialiser, seeded reproducibility, in-place fills."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_lab import Value, nn
from tinygrad_lab.nn import init
from tinygrad_lab.random import manual_seed


def big(shape=(200, 300)):
    return nn.Parameter(np.empty(shape))


@pytest.mark.parametrize("shape, fans", [((4, 2), (2, 4)), ((8, 3, 5), (15, 40)), ((6, 2, 3, 3), (18, 54))])
def test_fan_in_and_fan_out_follow_torch_conventions(shape, fans):
    assert init._calculate_fan_in_and_fan_out(nn.Parameter(np.empty(shape))) == fans


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(np.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(big(), mode="fan_avg")


@pytest.mark.parametrize("name, param, gain", [
    ("linear", None, 1), ("conv2d", None, 1), ("sigmoid", None, 1), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
    ("selu", None, 0.75),
])
def test_calculate_gain(name, param, gain):
    assert init.calculate_gain(name, param) == pytest.approx(gain, rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


def check_uniform(data, bound):
    n = data.size
    assert np.abs(data).max() <= bound and np.abs(data).max() > 0.99 * bound
    assert abs(data.mean()) < 5 * bound / math.sqrt(3 * n)
    assert data.var() == pytest.approx(bound ** 2 / 3, rel=0.03)


def check_normal(data, std, mean=0.0):
    n = data.size
    assert abs(data.mean() - mean) < 5 * std / math.sqrt(n)
    assert data.std() == pytest.approx(std, rel=0.03)


def test_uniform_and_normal():
    w = init.uniform_(big(), -0.5, 1.5, generator=0)
    assert w.data.min() >= -0.5 and w.data.max() < 1.5
    assert w.data.mean() == pytest.approx(0.5, abs=0.01)
    check_normal(init.normal_(big(), 2.0, 0.3, generator=0).data, 0.3, mean=2.0)
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(big(), 1.0, 0.0)
    with pytest.raises(ValueError, match="std >= 0"):
        init.normal_(big(), 0.0, -1.0)


def test_constant_zeros_ones():
    w = big((2, 3))
    assert init.constant_(w, 0.25) is w and np.all(w.data == 0.25)
    assert np.all(init.zeros_(w).data == 0) and np.all(init.ones_(w).data == 1)


def test_xavier():
    w = big()   # fan_in 300, fan_out 200
    check_uniform(init.xavier_uniform_(w, gain=2.0, generator=0).data, 2.0 * math.sqrt(6 / 500))
    check_normal(init.xavier_normal_(w, generator=1).data, math.sqrt(2 / 500))


@pytest.mark.parametrize("mode, fan", [("fan_in", 300), ("fan_out", 200)])
def test_kaiming(mode, fan):
    w = big()
    gain = math.sqrt(2.0)
    check_uniform(init.kaiming_uniform_(w, mode=mode, nonlinearity="relu", generator=0).data,
                  gain * math.sqrt(3 / fan))
    check_normal(init.kaiming_normal_(w, mode=mode, nonlinearity="relu", generator=0).data,
                 gain / math.sqrt(fan))
    check_normal(init.kaiming_normal_(w, a=0.5, mode=mode, generator=0).data,
                 math.sqrt(2 / 1.25) / math.sqrt(fan))


def test_linear_default_is_kaiming_uniform_with_a_sqrt5():
    w = init.kaiming_uniform_(big(), a=math.sqrt(5), generator=0)
    check_uniform(w.data, 1 / math.sqrt(300))


def test_initialisers_fill_in_place_without_graph_and_keep_dtype():
    w = nn.Parameter(np.zeros((3, 4), dtype=np.float32))
    data = w.data
    out = init.xavier_uniform_(w, generator=0)
    assert out is w and w.data is data and w.dtype == np.float32
    assert w.is_leaf and w.grad is None and w.requires_grad
    array = np.zeros((2, 2))
    assert init.normal_(array, generator=0) is array and array.any()
    plain = Value(np.zeros(3))
    init.ones_(plain)
    assert plain.data.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(TypeError, match="floating-point"):
        init.zeros_(np.zeros(2, dtype=np.int64))
    with pytest.raises(TypeError, match="fill a Parameter"):
        init.zeros_([0.0, 0.0])


def test_seeded_reproducibility():
    for fill in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_,
                 init.kaiming_uniform_, init.kaiming_normal_):
        a = fill(big((5, 4)), generator=42).data
        b = fill(big((5, 4)), generator=np.random.default_rng(42)).data
        manual_seed(42)
        c = fill(big((5, 4))).data
        manual_seed(42)
        d = fill(big((5, 4))).data
        assert np.array_equal(a, b) and np.array_equal(c, d) and np.array_equal(a, c)
    with pytest.raises(TypeError, match="generator must be"):
        init.uniform_(big(), generator="seed")


def test_zero_element_tensor_warns_and_is_left_alone():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(nn.Parameter(np.empty((0, 3))))
