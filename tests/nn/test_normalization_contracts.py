"""batch_norm and layer_norm (the ops under nn's layers) without PyTorch: values against NumPy formulas
(training and eval, every combination of affine parameters, NumPy arrays or Values, 2-D to 4-D input),
the running statistics (momentum, its bounds, the unbiased variance, a Value as a buffer), PyTorch's
defaults (training=False, momentum=0.1, eps=1e-5), the dtype rule, and every bad argument refused with a
message naming the function and the argument, before anything the caller had is changed.

The expected values are written from PyTorch's documented formulas: y = (x - mean) / sqrt(var + eps) *
weight + bias with the biased variance, and running = (1 - momentum) running + momentum * batch statistic
with the unbiased variance for running_var."""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lab import Value
from tinygrad_lab.ops import batch_norm, layer_norm

AFFINE = ["none", "weight", "bias", "both"]


def _channel(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _params(rng, size, affine, dtype=np.float64):
    shape = size if isinstance(size, tuple) else (size,)
    weight = rng.uniform(0.5, 2.0, size=shape).astype(dtype) if affine in ("weight", "both") else None
    bias = rng.normal(size=shape).astype(dtype) if affine in ("bias", "both") else None
    return weight, bias


def _bn_reference(x, mean, var, weight, bias, eps):
    y = (x - _channel(mean, x.ndim)) / np.sqrt(_channel(var, x.ndim) + eps)
    if weight is not None:
        y = y * _channel(weight, x.ndim)
    if bias is not None:
        y = y + _channel(bias, x.ndim)
    return y


def _ln_reference(x, k, weight, bias, eps):
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def _data(y):
    return y.data if isinstance(y, Value) else np.asarray(y)


def _wrap(a, as_value):
    return None if a is None else (Value(a) if as_value else a)


# ---------------------------------------------------------------- batch_norm: values


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5)])
@pytest.mark.parametrize("affine", AFFINE)
@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_batch_norm_training_uses_the_batch_statistics(rng, shape, affine, as_value):
    x = rng.normal(2.0, 3.0, size=shape)
    weight, bias = _params(rng, shape[1], affine)
    axes = (0, *range(2, len(shape)))
    y = batch_norm(_wrap(x, as_value), None, None, _wrap(weight, as_value), _wrap(bias, as_value), training=True)
    assert isinstance(y, Value) == as_value
    want = _bn_reference(x, x.mean(axis=axes), x.var(axis=axes), weight, bias, 1e-5)
    np.testing.assert_allclose(_data(y), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 3), (2, 3, 4, 5)])
@pytest.mark.parametrize("affine", AFFINE)
@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
@pytest.mark.parametrize("eps", [None, 0.25])
def test_batch_norm_eval_uses_the_running_statistics(rng, shape, affine, as_value, eps):
    x = rng.normal(size=shape)
    mean, var = rng.normal(size=shape[1]), rng.uniform(0.1, 2.0, size=shape[1])
    weight, bias = _params(rng, shape[1], affine)
    args = {} if eps is None else {"eps": eps}
    saved = mean.copy(), var.copy()
    # training=False is the default, as F.batch_norm
    y = batch_norm(_wrap(x, as_value), mean, var, _wrap(weight, as_value), _wrap(bias, as_value), **args)
    assert isinstance(y, Value) == as_value
    want = _bn_reference(x, mean, var, weight, bias, 1e-5 if eps is None else eps)
    np.testing.assert_allclose(_data(y), want, rtol=1e-12, atol=1e-12)
    assert np.array_equal(mean, saved[0]) and np.array_equal(var, saved[1])   # eval never updates them


@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_batch_norm_eval_keeps_the_input_dtype(rng, as_value):
    """float32 input, float64 statistics: float32 out (PyTorch's output has the input's dtype)."""
    x = rng.normal(size=(4, 3)).astype(np.float32)
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2.0, size=3)
    y = batch_norm(_wrap(x, as_value), mean, var)
    assert _data(y).dtype == np.float32
    np.testing.assert_allclose(_data(y), _bn_reference(x.astype(np.float64), mean, var, None, None, 1e-5),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_batch_norm_eval_computes_in_the_input_dtype(rng, as_value):
    """float64 input, float32 statistics: the statistics are read in float64 (no float32 rounding)."""
    x = rng.normal(size=(4, 3))
    mean, var = rng.normal(size=3).astype(np.float32), rng.uniform(0.5, 2.0, size=3).astype(np.float32)
    y = batch_norm(_wrap(x, as_value), mean, var)
    assert _data(y).dtype == np.float64
    want = _bn_reference(x, mean.astype(np.float64), var.astype(np.float64), None, None, 1e-5)
    np.testing.assert_allclose(_data(y), want, rtol=1e-14, atol=1e-15)


# ---------------------------------------------------------------- batch_norm: running statistics


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
@pytest.mark.parametrize("momentum", [None, 0.3, 0.0, 1.0], ids=["default", "0.3", "0", "1"])
@pytest.mark.parametrize("as_value", [False, True], ids=["arrays", "Values"])
def test_running_statistics_follow_pytorchs_update(rng, shape, momentum, as_value):
    x = rng.normal(1.0, 2.0, size=shape)
    axes = (0, *range(2, len(shape)))
    mean0, var0 = rng.normal(size=shape[1]), rng.uniform(0.5, 2.0, size=shape[1])
    mean, var = mean0.copy(), var0.copy()
    running = (Value(mean), Value(var)) if as_value else (mean, var)
    args = {} if momentum is None else {"momentum": momentum}
    y = batch_norm(Value(x), *running, training=True, **args)
    m = 0.1 if momentum is None else momentum
    got_mean, got_var = (running[0].data, running[1].data) if as_value else (mean, var)
    np.testing.assert_allclose(got_mean, (1 - m) * mean0 + m * x.mean(axis=axes), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(got_var, (1 - m) * var0 + m * x.var(axis=axes, ddof=1), rtol=1e-13, atol=1e-15)
    # the output uses the batch statistics (biased variance), not the running ones
    np.testing.assert_allclose(y.data, _bn_reference(x, x.mean(axis=axes), x.var(axis=axes), None, None, 1e-5),
                               rtol=1e-10)


def test_running_statistics_in_float32_stay_float32_arrays(rng):
    x = rng.normal(size=(8, 2)).astype(np.float32)
    mean, var = np.zeros(2, dtype=np.float32), np.ones(2, dtype=np.float32)
    before = id(mean), id(var)
    batch_norm(Value(x), mean, var, training=True, momentum=0.5)
    assert (id(mean), id(var)) == before and mean.dtype == var.dtype == np.float32
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, 0.5 * x64.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(var, 0.5 + 0.5 * x64.var(axis=0, ddof=1), rtol=1e-6)


@pytest.mark.parametrize("shape, ok", [((1, 3), False), ((1, 3, 1), False), ((1, 3, 1, 1), False),
                                       ((2, 3), True), ((1, 3, 2), True), ((1, 3, 1, 2), True)])
def test_training_needs_more_than_one_value_per_channel(rng, shape, ok):
    x = Value(rng.normal(size=shape))
    if ok:
        y = batch_norm(x, None, None, training=True)
        assert y.shape == shape and np.all(np.isfinite(y.data))
    else:
        with pytest.raises(ValueError, match=r"^batch_norm: expected more than 1 value per channel"):
            batch_norm(x, None, None, training=True)


# ---------------------------------------------------------------- batch_norm: refusals


def _bad_bn_calls():
    ok = {"weight": np.ones(3), "bias": np.zeros(3), "running_mean": np.zeros(3), "running_var": np.ones(3)}
    calls = []
    for name in ok:
        calls.append((f"{name} shape", {**ok, name: np.ones(4)}, True, ValueError,
                      rf"^batch_norm: {name} must have shape \(3,\), got \(4,\)"))
    calls += [
        ("eps type", {"eps": "small"}, True, TypeError, r"^batch_norm: eps must be a number"),
        ("eps < 0", {"eps": -1e-5}, True, ValueError, r"^batch_norm: eps must be a finite number >= 0"),
        ("eps nan", {"eps": float("nan")}, False, ValueError, r"^batch_norm: eps must be a finite number >= 0"),
        ("momentum > 1", {"momentum": 1.5}, True, ValueError, r"^batch_norm: momentum must be in \[0, 1\]"),
        ("momentum < 0", {"momentum": -0.1}, True, ValueError, r"^batch_norm: momentum must be in \[0, 1\]"),
        ("momentum type", {"momentum": "0.1"}, True, TypeError, r"^batch_norm: momentum must be a number"),
        ("momentum None", {"momentum": None}, True, TypeError, r"^batch_norm: momentum must be a number"),
        ("only running_mean", {"running_mean": np.zeros(3), "running_var": None}, True, ValueError,
         r"^batch_norm: running_mean and running_var must both be given or both be None"),
        ("only running_var", {"running_mean": None, "running_var": np.ones(3)}, True, ValueError,
         r"^batch_norm: running_mean and running_var must both be given or both be None"),
        ("eval without running_var", {"running_mean": np.zeros(3), "running_var": None}, False, ValueError,
         r"^batch_norm: running_mean and running_var are needed when training=False"),
        ("eval without running_mean", {"running_mean": None, "running_var": np.ones(3)}, False, ValueError,
         r"^batch_norm: running_mean and running_var are needed when training=False"),
    ]
    return [pytest.param(*call[1:], id=call[0]) for call in calls]


@pytest.mark.parametrize("kwargs, training, error, message", _bad_bn_calls())
def test_batch_norm_refuses_a_bad_argument_naming_it(rng, kwargs, training, error, message):
    args = {"running_mean": None, "running_var": None, **kwargs}
    saved = {k: v.copy() for k, v in args.items() if isinstance(v, np.ndarray)}
    with pytest.raises(error, match=message):
        batch_norm(Value(rng.normal(size=(4, 3, 2))), training=training, **args)
    for k, v in saved.items():
        assert np.array_equal(args[k], v), f"{k} changed by a failed call"


def _read_only(a):
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("bad", ["running_mean", "running_var"])
@pytest.mark.parametrize("kind", ["read-only", "list", "int64"])
def test_a_running_statistic_that_cannot_be_updated_is_refused_before_either_changes(rng, bad, kind):
    bad_value = {"read-only": _read_only(np.zeros(3)), "list": [0.0, 0.0, 0.0],
                 "int64": np.zeros(3, dtype=np.int64)}[kind]
    stats = {"running_mean": np.full(3, 0.5), "running_var": np.full(3, 2.0)}
    saved = {k: v.copy() for k, v in stats.items()}
    stats[bad] = bad_value
    with pytest.raises(TypeError, match=rf"^batch_norm: {bad} must be a writable floating-point NumPy array"):
        batch_norm(Value(rng.normal(size=(4, 3))), training=True, momentum=0.5, **stats)
    other = "running_var" if bad == "running_mean" else "running_mean"
    assert np.array_equal(stats[other], saved[other])
    assert np.array_equal(np.asarray(bad_value), np.zeros(3))


def test_momentum_bounds_are_accepted(rng):
    x = rng.normal(size=(5, 2))
    mean, var = np.full(2, 0.25), np.full(2, 3.0)
    batch_norm(Value(x), mean, var, training=True, momentum=0.0)     # 0: the statistics stay
    assert np.array_equal(mean, np.full(2, 0.25)) and np.array_equal(var, np.full(2, 3.0))
    batch_norm(Value(x), mean, var, training=True, momentum=1.0)     # 1: the batch's statistics
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(var, x.var(axis=0, ddof=1), rtol=1e-14)


# ---------------------------------------------------------------- layer_norm


@pytest.mark.parametrize("shape, normalized_shape", [
    ((4, 6), 6), ((4, 6), (6,)), ((2, 3, 4), [3, 4]), ((2, 3, 4), (4,)), ((5,), 5), ((3, 4), (3, 4)),
    ((2, 1, 3, 2), (1, 3, 2)),
])
@pytest.mark.parametrize("affine", AFFINE)
@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_layer_norm_normalises_the_last_axes(rng, shape, normalized_shape, affine, as_value):
    x = rng.normal(3.0, 2.0, size=shape)
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    weight, bias = _params(rng, tuple(shape[len(shape) - k:]), affine)
    y = layer_norm(_wrap(x, as_value), normalized_shape, _wrap(weight, as_value), _wrap(bias, as_value))
    assert isinstance(y, Value) == as_value
    np.testing.assert_allclose(_data(y), _ln_reference(x, k, weight, bias, 1e-5), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("eps", [0.0, 1e-3, 2.0])
def test_layer_norm_eps_is_added_to_the_variance(rng, eps):
    x = rng.normal(size=(3, 4)) * 0.05     # a variance near eps, so eps shows
    np.testing.assert_allclose(layer_norm(Value(x), 4, eps=eps).data, _ln_reference(x, 1, None, None, eps),
                               rtol=1e-12)


@pytest.mark.parametrize("normalized_shape, error, message", [
    ((2.5,), TypeError, r"^layer_norm: normalized_shape must be an int or a tuple of ints"),
    (("3",), TypeError, r"^layer_norm: normalized_shape must be an int or a tuple of ints"),
    ((3, 2.0), TypeError, r"^layer_norm: normalized_shape must be an int or a tuple of ints"),
    (3.0, TypeError, r"^layer_norm: normalized_shape must be an int or a tuple of ints"),
    ((), ValueError, r"^layer_norm: the input shape \(2, 3\) must end with normalized_shape \(\)"),
    (2, ValueError, r"^layer_norm: the input shape \(2, 3\) must end with normalized_shape \(2,\)"),
    ((1, 2, 3), ValueError, r"^layer_norm: the input shape \(2, 3\) must end with normalized_shape \(1, 2, 3\)"),
])
def test_layer_norm_refuses_a_bad_normalized_shape(rng, normalized_shape, error, message):
    with pytest.raises(error, match=message):
        layer_norm(Value(rng.normal(size=(2, 3))), normalized_shape)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"weight": np.ones(4)}, ValueError, r"^layer_norm: weight must have shape \(3,\), got \(4,\)"),
    ({"bias": np.ones((1, 3))}, ValueError, r"^layer_norm: bias must have shape \(3,\), got \(1, 3\)"),
    ({"weight": np.ones(3), "bias": np.ones(2)}, ValueError, r"^layer_norm: bias must have shape \(3,\)"),
    ({"eps": -1.0}, ValueError, r"^layer_norm: eps must be a finite number >= 0"),
    ({"eps": "1e-5"}, TypeError, r"^layer_norm: eps must be a number"),
])
def test_layer_norm_refuses_a_bad_argument_naming_it(rng, kwargs, error, message):
    with pytest.raises(error, match=message):
        layer_norm(Value(rng.normal(size=(2, 3))), 3, **kwargs)


# ---------------------------------------------------------------- the dtype rule for mixed operands


@pytest.mark.parametrize("op", ["batch_norm", "layer_norm"])
@pytest.mark.parametrize("value_side", ["input", "weight", "bias"])
def test_arrays_mixed_with_a_float32_value_take_its_dtype(rng, op, value_side):
    """NumPy float64 operands next to a float32 Value are constants of float32 (docs/engine.md)."""
    x = rng.normal(size=(4, 3))
    weight, bias = rng.uniform(0.5, 2.0, size=3), rng.normal(size=3)
    operands = {"input": x, "weight": weight, "bias": bias}
    operands[value_side] = Value(operands[value_side].astype(np.float32))
    if op == "batch_norm":
        y = batch_norm(operands["input"], None, None, operands["weight"], operands["bias"], training=True)
        want = _bn_reference(x, x.mean(axis=0), x.var(axis=0), weight, bias, 1e-5)
    else:
        y = layer_norm(operands["input"], 3, operands["weight"], operands["bias"])
        want = _ln_reference(x, 1, weight, bias, 1e-5)
    assert isinstance(y, Value) and y.dtype == np.float32
    np.testing.assert_allclose(y.data, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "training"])
@pytest.mark.parametrize("kind", ["Value", "ndarray", "list"])
def test_integer_input_is_normalised_in_float64(training, kind):
    """Integer input gives float64 output with the statistics as they are (not truncated to integers)."""
    x = np.array([[1, 2], [3, 5], [4, 4]])
    mean, var = np.array([0.5, 2.25]), np.array([1.5, 0.75])
    given = {"Value": Value(x), "ndarray": x, "list": x.tolist()}[kind]
    y = batch_norm(given, mean.copy(), var.copy(), training=training)
    xf = x.astype(np.float64)
    want = (_bn_reference(xf, xf.mean(axis=0), xf.var(axis=0), None, None, 1e-5) if training
            else _bn_reference(xf, mean, var, None, None, 1e-5))
    assert _data(y).dtype == np.float64
    np.testing.assert_allclose(_data(y), want, rtol=1e-12)
