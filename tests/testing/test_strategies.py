"""The hypothesis strategies keep their promises, and correct ops raise no false alarm on what they draw."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_lab as tl
from tinygrad_lab import Value, nn
from tinygrad_lab.testing import check_grads, gradcheck, gradcheck_module, gradgradcheck
from tinygrad_lab.testing import strategies as tst

FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- what the strategies draw


@SOME
@given(tst.arrays(min_value=-2.0, max_value=5.0, avoid=(0.0, 1.0), min_gap=0.2))
def test_arrays_are_bounded_finite_float64_and_avoid_kinks(x):
    assert x.dtype == np.float64 and np.all(np.isfinite(x))
    assert np.all((x >= -2.0) & (x <= 5.0))
    assert np.all(np.abs(x) >= 0.2) and np.all(np.abs(x - 1.0) >= 0.2)


@SOME
@given(tst.arrays(shape=tst.shapes(min_dims=1, max_dims=2, max_side=5), avoid=(0.0,), distinct=True))
def test_distinct_arrays_have_no_near_ties(x):
    flat = np.sort(x.ravel())
    assert np.all(np.diff(flat) >= 0.1 - 1e-12)
    assert np.all(np.abs(x) >= 0.1)


@FEW
@given(tst.arrays((2, 3), dtype=np.float32), tst.arrays(4))
def test_arrays_take_fixed_shapes_and_dtypes(x, y):
    assert x.shape == (2, 3) and x.dtype == np.float32
    assert y.shape == (4,)


def test_arrays_reject_impossible_requests():
    with pytest.raises(ValueError, match="min_value < max_value"):
        tst.arrays(min_value=1.0, max_value=0.0)
    with pytest.raises(ValueError, match="leaves no room"):
        tst.arrays(min_value=-0.1, max_value=0.1, avoid=(0.0,), min_gap=0.1)
    with pytest.raises(ValueError, match="floating-point dtype"):
        tst.arrays(dtype=np.int64)
    with pytest.raises(ValueError, match="do not fit"):
        tst.arrays((100,), min_value=0.0, max_value=1.0, distinct=True)
    with pytest.raises(ValueError, match="min_value must be > 0"):
        tst.positive_arrays(min_value=0.0)


@SOME
@given(tst.shapes(min_dims=1, max_dims=3, max_side=3))
def test_shapes_respect_bounds(shape):
    assert 1 <= len(shape) <= 3 and all(1 <= s <= 3 for s in shape)


@SOME
@given(tst.broadcastable_shapes(n=3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)


@SOME
@given(tst.matmul_shapes(), tst.matmul_shapes(vectors=False))
def test_matmul_shapes_multiply(pair, matrices):
    np.zeros(pair[0]) @ np.zeros(pair[1])
    assert min(len(matrices[0]), len(matrices[1])) >= 2
    np.zeros(matrices[0]) @ np.zeros(matrices[1])


@SOME
@given(tst.positive_arrays(), tst.values((2, 2)), tst.values(positive=True, requires_grad=False))
def test_positive_arrays_and_values(x, v, p):
    assert np.all(x >= 0.1)
    assert isinstance(v, Value) and v.requires_grad and v.shape == (2, 2) and v.dtype == np.float64
    assert not p.requires_grad and np.all(p.data > 0)


@FEW
@given(tst.sequential_networks(in_features=3, out_features=2, activations=("tanh", "relu")))
def test_sequential_networks_are_float64_sequentials(net):
    assert isinstance(net, nn.Sequential)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert linears[0].in_features == 3 and linears[-1].out_features == 2
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert all(isinstance(m, (nn.Linear, nn.Tanh, nn.ReLU)) for m in net)


def test_sequential_networks_reject_unknown_activations():
    with pytest.raises(ValueError, match="activations must be names"):
        tst.sequential_networks(activations=("swish",))


# ----------------------------------------------------------------------------- no false alarms


@SOME
@given(tst.values(), st.sampled_from(["tanh", "sigmoid", "exp"]))
def test_no_false_alarm_unary(x, name):
    assert gradcheck(lambda x: getattr(x, name)(), (x,))


@SOME
@given(
    tst.broadcastable_shapes().flatmap(lambda s: st.tuples(tst.values(s[0]), tst.values(s[1], avoid=(0.0,))))
)
def test_no_false_alarm_broadcasting_binary_ops(pair):
    assert gradcheck(lambda a, b: a * b + a / b - b, pair)


@FEW
@given(tst.matmul_shapes().flatmap(lambda s: st.tuples(tst.values(s[0]), tst.values(s[1]))))
def test_no_false_alarm_matmul(pair):
    assert gradcheck(lambda a, b: a @ b, pair)


@SOME
@given(tst.values(avoid=(0.0,)))
def test_no_false_alarm_at_kinks_avoided(x):
    assert gradcheck(lambda x: (x.abs(), x.relu()), (x,))


@SOME
@given(tst.values(shape=tst.shapes(min_dims=1, max_dims=2), distinct=True))
def test_no_false_alarm_max_without_ties(x):
    assert gradcheck(lambda x: x.max(axis=-1), (x,))


@SOME
@given(tst.values(positive=True))
def test_no_false_alarm_log_and_sqrt(x):
    assert gradcheck(lambda x: (x.log(), x.sqrt()), (x,))


@FEW
@given(tst.values(shape=tst.shapes(min_dims=1, max_dims=2)), st.sampled_from([tl.softmax, tl.log_softmax]))
def test_no_false_alarm_second_order(x, func):
    assert gradgradcheck(lambda x: func(x * x.tanh()), (x,))
    assert check_grads(lambda x: func(x), (x,), order=2, method="projection", seed=0)


@FEW
@given(tst.networks_with_inputs(max_hidden_layers=2))
def test_no_false_alarm_networks(pair):
    net, x = pair
    assert x.shape[1] == net[0].in_features
    assert gradcheck_module(net, x)
