"""Hypothesis fuzzing of the public API: random shapes, dtypes, values and wrong types.

Every call either matches NumPy's result or raises one of the library's documented error types
(docs/engine.md, "Errors"): TypeError, ValueError, IndexError or RuntimeError (NumPy's AxisError is
both a ValueError and an IndexError). Never an unrelated exception: AttributeError, KeyError,
ZeroDivisionError, RecursionError, UnboundLocalError, ... which would mean the library let a bad
input through to a place that did not expect it.

Search harder with ``TINYGRAD_LAB_FUZZ_EXAMPLES=2000`` (examples per test; default 60).
"""
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lab
from tinygrad_lab import Value, nn, optim
from tinygrad_lab import ops as O
from tinygrad_lab.nn import functional as F

#: The documented error types (docs/engine.md, "Errors").
DOCUMENTED = (TypeError, ValueError, IndexError, RuntimeError)
#: Subclasses of the documented ones that still mean "a bad input slipped through".
UNRELATED = (RecursionError, KeyError, UnboundLocalError, ZeroDivisionError, AttributeError)

EXAMPLES = int(os.environ.get("TINYGRAD_LAB_FUZZ_EXAMPLES", "60"))
fuzz = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])


def attempt(fn, *args, **kwargs):
    """(result, None) or (None, error) where the error is of a documented type, else the test fails."""
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs), None
    except DOCUMENTED as err:
        assert not isinstance(err, UNRELATED), f"{type(err).__name__}: {err}"
        assert str(err), f"{type(err).__name__} without a message"
        return None, err
    except Exception as err:  # noqa: BLE001 - that is the point of the test
        pytest.fail(f"{fn.__name__ if hasattr(fn, '__name__') else fn} raised an undocumented "
                    f"{type(err).__name__}: {err}")


def numpy_result(fn, *args, **kwargs):
    """NumPy's own result, or the exception NumPy raises (None when it raised)."""
    try:
        with np.errstate(all="ignore"):
            return np.asarray(fn(*args, **kwargs)), None
    except Exception as err:  # noqa: BLE001
        return None, err


def assert_matches(ours, expected, rtol=1e-6, atol=0.0):
    ours = np.asarray(ours.data if isinstance(ours, Value) else ours)
    assert ours.shape == expected.shape, (ours.shape, expected.shape)
    if expected.dtype.kind in "fc" or ours.dtype.kind in "fc":
        np.testing.assert_allclose(ours.astype(np.complex128 if ours.dtype.kind == "c" else np.float64),
                                   expected.astype(np.complex128 if expected.dtype.kind == "c" else np.float64),
                                   rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(ours, expected)


# ---------------------------------------------------------------------------- strategies

FLOATS = [np.float16, np.float32, np.float64]
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


def float_arrays(dtypes=FLOATS, shape=SHAPES, elements=None):
    def arrays(dt):
        values = elements if elements is not None else st.floats(-1e3, 1e3, width=16 if dt == np.float16 else 32)
        return hnp.arrays(dt, shape, elements=values)
    return st.sampled_from(dtypes).flatmap(arrays)


def tol(*dtypes):
    """A relative tolerance fitting the least precise dtype involved."""
    eps = max(np.finfo(np.dtype(d)).eps if np.dtype(d).kind in "fc" else 2.0 ** -52 for d in dtypes)
    return max(64 * eps, 1e-12)


WRONG_THINGS = st.sampled_from([None, "abc", "1.5", b"x", {"a": 1}, {1, 2}, object(), [[1.0], [1.0, 2.0]],
                                [1, "a"], lambda x: x, slice(1), Ellipsis, np.array(["a", "b"]),
                                np.array([None, 1.0], dtype=object), 1 + 2j, np.datetime64("2020-01-01")])
AXES = st.one_of(st.none(), st.integers(-4, 4), st.tuples(st.integers(-4, 4)),
                 st.tuples(st.integers(-4, 4), st.integers(-4, 4)), st.lists(st.integers(-3, 3), max_size=2),
                 st.sampled_from([1.0, "0", True, (0, 0), (None,), np.int64(0)]))


def operand_for(shape):
    """Another operand: a Value or array of a broadcastable (or not) shape, a number, or a wrong thing."""
    near = st.lists(st.sampled_from([0, 1, 2, 3]), min_size=0, max_size=3).map(tuple)
    arrays = float_arrays(FLOATS, shape=st.one_of(st.just(shape), near))
    return st.one_of(arrays.map(Value), arrays, st.floats(-10, 10), st.integers(-5, 5), WRONG_THINGS,
                     arrays.map(lambda a: a.astype(np.int64)).map(Value))


# ---------------------------------------------------------------------------- construction

@fuzz
@given(data=st.one_of(float_arrays(), hnp.arrays(hnp.scalar_dtypes(), SHAPES), st.floats(), st.integers(-10, 10),
                      st.booleans(), st.lists(st.floats(allow_nan=False), max_size=3), WRONG_THINGS,
                      st.lists(st.lists(st.integers(-3, 3), max_size=2), max_size=2)),
       requires_grad=st.sampled_from([False, True, 0, 1, "yes", None]),
       dtype=st.sampled_from([None, np.float32, np.float64, "float32", np.int64, "bogus", float, 3, object]),
       label=st.sampled_from([None, "x", 3]))
def test_value_construction_matches_numpy_or_raises_a_documented_error(data, requires_grad, dtype, label):
    value, err = attempt(Value, data, requires_grad=requires_grad, dtype=dtype, label=label)
    if err is not None:
        return
    assert value.dtype.kind in "biufc", f"non-numeric data accepted: {data!r} -> {value.dtype}"
    source = np.asarray(data) if not isinstance(data, (list, dict, set)) else None
    assert source is None or source.dtype.kind in "biufc", f"non-numeric data accepted: {data!r}"
    expected, np_err = numpy_result(np.array, data, dtype=dtype)
    assert np_err is None, f"Value accepted {data!r} (dtype={dtype!r}) that NumPy refuses: {np_err}"
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)) and expected.dtype.kind in "biu":
        expected = expected.astype(np.float64)          # Python numbers and lists become float64
    assert_matches(value, expected, rtol=0)
    if value.requires_grad:
        assert value.dtype.kind in "fc"


# ---------------------------------------------------------------------------- operators

BINARY = {"+": (lambda a, b: a + b, np.add), "-": (lambda a, b: a - b, np.subtract),
          "*": (lambda a, b: a * b, np.multiply), "/": (lambda a, b: a / b, np.divide),
          "@": (lambda a, b: a @ b, np.matmul), "max": (tinygrad_lab.maximum, np.maximum),
          "min": (tinygrad_lab.minimum, np.minimum)}


def _plain(x):
    return x.data if isinstance(x, Value) else x


def _np_operand(x):
    """What NumPy gets: arrays as arrays, Python numbers as they are (NEP 50: they take the array's dtype)."""
    return x if isinstance(x, (int, float)) else np.asarray(_plain(x))


@fuzz
@given(a=float_arrays(), op=st.sampled_from(sorted(BINARY)), data=st.data(), swap=st.booleans(),
       requires_grad=st.booleans())
def test_binary_operators_match_numpy_or_raise_a_documented_error(a, op, data, swap, requires_grad):
    ours_fn, np_fn = BINARY[op]
    x = Value(a, requires_grad=requires_grad and a.dtype.kind == "f")
    other = data.draw(operand_for(a.shape))
    left, right = (other, x) if swap else (x, other)
    out, err = attempt(ours_fn, left, right)
    if err is not None:
        return
    assert not (isinstance(other, np.ndarray) and other.dtype.kind not in "biufc"), "non-numeric operand accepted"
    expected, np_err = numpy_result(np_fn, _np_operand(left), _np_operand(right))
    assert np_err is None, f"{op} accepted operands NumPy refuses: {np_err}"
    assert isinstance(out, Value)
    if not isinstance(other, Value) and np.asarray(_plain(other)).dtype.kind in "biuf":
        assert out.dtype == a.dtype, f"a constant must take the Value's dtype {a.dtype}, got {out.dtype}"
        expected = numpy_result(np_fn, *[np.asarray(v.data if isinstance(v, Value) else v, dtype=a.dtype)
                                         for v in (left, right)])[0]
    elif op == "@" and out.dtype != np.result_type(a.dtype, other.dtype):
        pytest.fail("matmul of different float dtypes must be refused")
    assert_matches(out, expected, rtol=tol(out.dtype, a.dtype), atol=tol(out.dtype, a.dtype) * 10)
    if out.requires_grad:
        attempt(out.sum().backward)
        assert x.grad is None or x.grad.shape == x.shape


@fuzz
@given(a=float_arrays(elements=st.floats(-5, 5, width=16)),
       exponent=st.one_of(st.integers(-3, 3), st.floats(-3, 3), st.sampled_from([0, 0.5, 2.0, "2", None])))
def test_power_matches_numpy_or_raises_a_documented_error(a, exponent):
    x = Value(a, requires_grad=True)
    out, err = attempt(lambda: x ** exponent)
    if err is not None:
        return
    expected, np_err = numpy_result(np.power, a, exponent)
    assert np_err is None
    assert_matches(out, expected.astype(a.dtype), rtol=tol(a.dtype), atol=tol(a.dtype))
    attempt(out.sum().backward)
    assert x.grad.shape == x.shape


UNARY = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "tanh": np.tanh,
         "sigmoid": lambda a: 1 / (1 + np.exp(-a.astype(np.float64))), "relu": lambda a: np.maximum(a, 0),
         "neg": np.negative}


@fuzz
@given(a=float_arrays(), name=st.sampled_from(sorted(UNARY)), as_method=st.booleans())
def test_unary_ops_match_numpy(a, name, as_method):
    x = Value(a, requires_grad=True)
    fn = (lambda v: -v) if name == "neg" else (getattr(Value, name) if as_method else getattr(O, name))
    out, err = attempt(fn, x)
    assert err is None, f"{name} refused a float array: {err}"
    expected = np.asarray(UNARY[name](a))
    assert out.dtype == a.dtype
    assert_matches(out, expected.astype(a.dtype), rtol=tol(a.dtype), atol=1e-30)
    attempt(out.sum().backward)
    assert x.grad.shape == x.shape and x.grad.dtype == a.dtype


@fuzz
@given(a=float_arrays(), low=st.one_of(st.none(), st.floats(-10, 10), st.just("0")),
       high=st.one_of(st.none(), st.floats(-10, 10), st.just([1.0])),
       slope=st.one_of(st.floats(-2, 2), st.just("0.1"), st.just(None)))
def test_clip_and_leaky_relu_match_numpy_or_raise_a_documented_error(a, low, high, slope):
    x = Value(a, requires_grad=True)
    out, err = attempt(x.clip, low, high)
    if err is None:
        expected, np_err = numpy_result(np.clip, a, low, high)
        assert np_err is None, f"clip accepted {low!r}, {high!r}: NumPy says {np_err}"
        assert out.dtype == a.dtype, "bounds are constants that take the Value's dtype"
        assert_matches(out, np.clip(a, np.asarray(low, a.dtype) if low is not None else None,
                                    np.asarray(high, a.dtype) if high is not None else None), rtol=tol(a.dtype))
    out, err = attempt(O.leaky_relu, x, slope)
    if err is None:
        expected = np.where(a > 0, a, a * slope).astype(a.dtype)
        assert_matches(out, expected, rtol=tol(a.dtype), atol=tol(a.dtype))


# ---------------------------------------------------------------------------- reductions

REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
              "logsumexp": lambda a, axis=None, keepdims=False: _logsumexp(a.astype(np.float64), axis, keepdims)}


def _logsumexp(a, axis, keepdims):
    m = np.max(a, axis=axis, keepdims=True) if a.size else np.zeros((1,) * a.ndim)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


@fuzz
@given(a=float_arrays(), name=st.sampled_from(sorted(REDUCTIONS)), axis=AXES,
       keepdims=st.sampled_from([False, True, 0, 1]), torch_names=st.booleans())
def test_reductions_match_numpy_or_raise_a_documented_error(a, name, axis, keepdims, torch_names):
    x = Value(a, requires_grad=True)
    method = getattr(x, name)
    out, err = attempt(method, dim=axis, keepdim=keepdims) if torch_names else attempt(method, axis, keepdims)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    if a.ndim == 0 and isinstance(np_axis, (int, np.integer)) and np_axis in (0, -1):   # dim 0 or -1 of a 0-d
        np_axis = None                                                                 # Value is all of it (PyTorch)
    if torch_names and isinstance(np_axis, tuple) and not np_axis:   # PyTorch's dim=() reduces every axis
        np_axis = None
    expected, np_err = numpy_result(REDUCTIONS[name], a, axis=np_axis, keepdims=bool(keepdims))
    if err is not None:
        return
    assert np_err is None, f"{name}(axis={axis!r}) accepted what NumPy refuses: {np_err!r}"
    assert_matches(out, expected.astype(out.dtype), rtol=tol(a.dtype) * 8, atol=tol(a.dtype) * 8)
    attempt(out.sum().backward)
    assert x.grad is None or x.grad.shape == x.shape


@fuzz
@given(a=float_arrays(), axis=st.one_of(st.integers(-4, 4), st.sampled_from([None, "1", 1.0, (0,)])),
       log=st.booleans())
def test_softmax_matches_numpy_or_raises_a_documented_error(a, axis, log):
    x = Value(a, requires_grad=True)
    fn = tinygrad_lab.log_softmax if log else tinygrad_lab.softmax
    out, err = attempt(fn, x, axis)
    if err is not None:
        return
    b = a.astype(np.float64)
    shifted = b - np.max(b, axis=axis, keepdims=True) if b.size else b
    lse = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    expected = shifted - lse if log else np.exp(shifted - lse)
    assert_matches(out, expected, rtol=tol(a.dtype) * 16, atol=tol(a.dtype) * 16)


# ---------------------------------------------------------------------------- movement and indexing

@fuzz
@given(a=float_arrays(), shape=st.one_of(st.lists(st.integers(-1, 4), max_size=3).map(tuple),
                                         st.sampled_from([(), ("2",), (1.5,), (None,), ((2, 3),)])))
def test_reshape_matches_numpy_or_raises_a_documented_error(a, shape):
    x = Value(a, requires_grad=True)
    out, err = attempt(x.reshape, *shape)
    expected, np_err = numpy_result(np.reshape, a, shape[0] if len(shape) == 1 and isinstance(shape[0], tuple)
                                    else shape)
    if err is not None:
        return
    assert np_err is None, f"reshape{shape} accepted what NumPy refuses: {np_err}"
    assert_matches(out, expected, rtol=0)
    attempt(out.sum().backward)
    assert x.grad.shape == x.shape


@fuzz
@given(a=float_arrays(), dims=st.lists(st.integers(-4, 4), max_size=4),
       which=st.sampled_from(["permute", "transpose", "T", "flatten", "squeeze", "unsqueeze"]))
def test_movement_ops_match_numpy_or_raise_a_documented_error(a, dims, which):
    x = Value(a, requires_grad=True)
    if which == "permute":
        out, err = attempt(x.permute, *dims)
        expected, np_err = numpy_result(np.transpose, a, dims)
    elif which == "transpose":
        d = (dims + [0, 1])[:2]
        out, err = attempt(x.transpose, *d)
        expected, np_err = numpy_result(np.swapaxes, a, *d)
    elif which == "T":
        out, err = attempt(lambda: x.T)
        expected, np_err = numpy_result(np.transpose, a)
    elif which == "flatten":
        start, end = (dims + [0, -1])[:2]
        out, err = attempt(x.flatten, start, end)
        n = max(a.ndim, 1)
        if -n <= start < n and -n <= end < n and start % n <= end % n:      # PyTorch's rule
            s, e = start % n, end % n
            expected, np_err = (a.reshape(a.shape[:s] + (int(np.prod(a.shape[s:e + 1])),) + a.shape[e + 1:])
                                if a.ndim else a.reshape(1)), None
        else:
            expected, np_err = None, "start_dim/end_dim out of range or in the wrong order"
    elif which == "squeeze":
        d = dims[0] if dims else None
        out, err = attempt(x.squeeze, d)
        expected, np_err = numpy_result(np.squeeze, a, d if d is None or a.ndim == 0 or
                                        (-a.ndim <= d < a.ndim and a.shape[d] == 1) else ())
    else:
        d = dims[0] if dims else 0
        out, err = attempt(x.unsqueeze, d)
        expected, np_err = numpy_result(np.expand_dims, a, d)
    if err is not None:
        return
    assert np_err is None, f"{which}{tuple(dims)} accepted what NumPy refuses: {np_err}"
    assert_matches(out, expected, rtol=0)
    attempt(out.sum().backward)
    assert x.grad.shape == x.shape


INDICES = st.one_of(st.integers(-4, 4), st.slices(4), st.tuples(st.integers(-3, 3), st.slices(3)),
                    st.lists(st.integers(-4, 4), max_size=3), st.just(Ellipsis), st.none(),
                    st.sampled_from([(Ellipsis, 0), (None, 0), "a", 1.5, [True, False], (0, 0, 0, 0),
                                     np.array([0, 1]), np.array([True]), [[0, 1]], [0.5]]))


@fuzz
@given(a=float_arrays(), index=INDICES)
def test_indexing_matches_numpy_or_raises_a_documented_error(a, index):
    x = Value(a, requires_grad=True)
    out, err = attempt(x.__getitem__, index)
    expected, np_err = numpy_result(a.__getitem__, index)
    if err is not None:
        return
    assert np_err is None, f"x[{index!r}] accepted what NumPy refuses: {np_err}"
    assert_matches(out, expected, rtol=0)
    attempt(out.sum().backward)
    assert x.grad.shape == x.shape


@fuzz
@given(arrays=st.lists(float_arrays(dtypes=[np.float64]), min_size=0, max_size=3),
       axis=st.one_of(st.integers(-3, 3), st.sampled_from([None, "0", 1.0])), stack=st.booleans(),
       wrong=st.one_of(st.none(), WRONG_THINGS))
def test_concat_and_stack_match_numpy_or_raise_a_documented_error(arrays, axis, stack, wrong):
    values = [Value(a, requires_grad=True) for a in arrays] + ([] if wrong is None else [wrong])
    fn, np_fn = (tinygrad_lab.stack, np.stack) if stack else (tinygrad_lab.concat, np.concatenate)
    out, err = attempt(fn, values, axis)
    if err is not None:
        return
    expected, np_err = numpy_result(np_fn, [_plain(v) for v in values], axis)
    assert np_err is None, f"accepted what NumPy refuses: {np_err}"
    assert_matches(out, expected, rtol=0)


# ---------------------------------------------------------------------------- nn layers and losses

SIZES = st.one_of(st.integers(-1, 4), st.sampled_from([2.0, "3", None, True, np.int64(2)]))


@fuzz
@given(in_features=SIZES, out_features=SIZES, bias=st.sampled_from([True, False, "no", None]),
       batch=st.lists(st.integers(0, 3), max_size=2).map(tuple), width=st.integers(0, 4),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_linear_layers_match_numpy_or_raise_a_documented_error(in_features, out_features, bias, batch, width,
                                                              dtype):
    tinygrad_lab.manual_seed(0)
    layer, err = attempt(nn.Linear, in_features, out_features, bias=bias)
    if err is not None:
        return
    x = np.linspace(-1, 1, int(np.prod(batch + (width,)))).reshape(batch + (width,)).astype(dtype)
    out, err = attempt(layer, Value(x))
    if err is not None:
        return
    w = layer.weight.data
    expected = x @ w.T + (layer.bias.data if layer.bias is not None else 0)
    assert_matches(out, expected, rtol=tol(dtype), atol=tol(dtype))
    attempt(out.sum().backward)


LOSSES = {"mse": (F.mse_loss, lambda p, t: (p - t) ** 2), "l1": (F.l1_loss, lambda p, t: np.abs(p - t)),
          "bce": (F.binary_cross_entropy, lambda p, t: -(t * np.maximum(np.log(p), -100)
                                                         + (1 - t) * np.maximum(np.log1p(-p), -100))),
          "bce_logits": (F.binary_cross_entropy_with_logits,
                         lambda x, t: np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))))}


@fuzz
@given(name=st.sampled_from(sorted(LOSSES)), pred=float_arrays(dtypes=[np.float32, np.float64],
                                                                elements=st.floats(0, 1)),
       data=st.data(), reduction=st.sampled_from(["mean", "sum", "none", "avg", None, 1]),
       target_kind=st.sampled_from(["array", "value", "list", "number", "wrong"]))
def test_losses_match_numpy_or_raise_a_documented_error(name, pred, data, reduction, target_kind):
    shape = data.draw(st.one_of(st.just(pred.shape), SHAPES))
    target = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1)))
    given_target = {"array": target, "value": Value(target), "list": target.tolist(),
                    "number": 0.5, "wrong": data.draw(WRONG_THINGS)}[target_kind]
    if target_kind == "number":
        target = np.asarray(0.5)
    if target_kind == "list":   # the reference takes what the loss took: a (0, 0) array's tolist() is [], of shape (0,)
        target = np.asarray(given_target, dtype=np.float64)
    x = Value(pred, requires_grad=True)
    fn, ref = LOSSES[name]
    out, err = attempt(fn, x, given_target, reduction=reduction)
    if err is not None:
        return
    assert target_kind != "wrong" or given_target is None, f"{name} accepted the target {given_target!r}"
    elementwise = ref(pred.astype(np.float64), np.broadcast_to(target, pred.shape))
    expected = {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](elementwise)
    assert_matches(out, np.asarray(expected), rtol=tol(pred.dtype) * 64, atol=tol(pred.dtype) * 64)
    attempt(out.sum().backward)
    assert x.grad.shape == x.shape


@fuzz
@given(logits=float_arrays(dtypes=[np.float64], shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)),
       data=st.data(), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy_matches_numpy_or_raises_a_documented_error(logits, data, reduction):
    n_classes = logits.shape[-1]
    batch = logits.shape[:-1]
    target = data.draw(st.one_of(
        hnp.arrays(np.int64, batch, elements=st.integers(-2, n_classes + 1)),
        hnp.arrays(np.float64, logits.shape, elements=st.floats(0, 1)),
        hnp.arrays(np.int64, data.draw(SHAPES), elements=st.integers(0, 2)), WRONG_THINGS))
    x = Value(logits, requires_grad=True)
    out, err = attempt(F.cross_entropy, x, target, reduction=reduction)
    if err is not None:
        return
    log_p = logits - np.max(logits, axis=-1, keepdims=True)
    log_p = log_p - np.log(np.sum(np.exp(log_p), axis=-1, keepdims=True))
    target = np.asarray(target)
    if target.dtype.kind == "f":
        per = -(target * log_p).sum(-1)
        expected = {"mean": per.mean() if per.ndim else per, "sum": per.sum(), "none": per}[reduction]
    else:
        assert ((0 <= target) & (target < n_classes)).all(), f"class indices {target} accepted"
        per = -np.take_along_axis(log_p, target[..., None], -1)[..., 0]
        expected = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    assert_matches(out, np.asarray(expected), rtol=1e-9, atol=1e-12)
    attempt(out.sum().backward)


# ---------------------------------------------------------------------------- optimizers

HYPER = st.one_of(st.floats(-1, 2), st.sampled_from([0, 1e-3, "0.1", None, True, [0.1], math.nan, math.inf]))


@fuzz
@given(kind=st.sampled_from(["SGD", "Adam", "AdamW", "RMSprop"]), lr=HYPER, second=HYPER, third=HYPER,
       weight_decay=HYPER, betas=st.one_of(st.tuples(HYPER, HYPER), HYPER, st.just((0.9,))),
       flag=st.sampled_from([True, False]))
def test_optimizer_constructors_accept_or_refuse_cleanly_and_step(kind, lr, second, third, weight_decay, betas,
                                                                  flag):
    p = nn.Parameter([1.0, -2.0])
    make = {"SGD": lambda: optim.SGD([p], lr=lr, momentum=second, dampening=third, weight_decay=weight_decay,
                                     nesterov=flag),
            "Adam": lambda: optim.Adam([p], lr=lr, betas=betas, eps=second, weight_decay=weight_decay,
                                       amsgrad=flag),
            "AdamW": lambda: optim.AdamW([p], lr=lr, betas=betas, eps=second, weight_decay=weight_decay),
            "RMSprop": lambda: optim.RMSprop([p], lr=lr, alpha=second, eps=third, weight_decay=weight_decay,
                                             momentum=second, centered=flag)}[kind]
    opt, err = attempt(make)
    if err is not None:
        assert p.tolist() == [1.0, -2.0]
        return
    (p * p).sum().backward()
    attempt(opt.step)
    attempt(opt.state_dict)


# ---------------------------------------------------------------------------- backward and grad

@fuzz
@given(a=float_arrays(dtypes=[np.float32, np.float64]), data=st.data(),
       kind=st.sampled_from(["none", "array", "value", "number", "wrong"]))
def test_backward_with_any_seed_gradient_works_or_raises_a_documented_error(a, data, kind):
    x = Value(a, requires_grad=True)
    y = x * 2.0
    seed = {"none": None, "number": 1.0, "wrong": data.draw(WRONG_THINGS),
            "array": data.draw(float_arrays(shape=st.one_of(st.just(a.shape), SHAPES))),
            "value": Value(data.draw(float_arrays(shape=st.one_of(st.just(a.shape), SHAPES))))}[kind]
    _, err = attempt(y.backward, seed)
    if err is None:
        assert x.grad.shape == x.shape
        expected = 2.0 * np.broadcast_to(np.asarray(_plain(seed) if seed is not None else 1.0, np.float64), a.shape)
        assert_matches(x.grad, expected, rtol=tol(a.dtype, x.grad.dtype), atol=tol(a.dtype))
        assert seed is not None or a.size == 1, "backward() without a gradient needs a one-element Value"


@fuzz
@given(a=float_arrays(dtypes=[np.float64]), inputs=st.one_of(st.just("x"), st.just("both"), st.just("list"),
                                                             WRONG_THINGS, st.just("constant")),
       allow_unused=st.booleans())
def test_grad_works_or_raises_a_documented_error(a, inputs, allow_unused):
    x = Value(a, requires_grad=True)
    z = Value(a.copy(), requires_grad=True)
    y = (x * x).sum()
    given_inputs = {"x": x, "both": (x, z), "list": [x], "constant": Value(a)}.get(inputs, inputs) \
        if isinstance(inputs, str) else inputs
    out, err = attempt(tinygrad_lab.grad, y, given_inputs, allow_unused=allow_unused)
    if err is None:
        assert_matches(out[0], 2 * a, rtol=1e-12)


# ---------------------------------------------------------------------------- other modules

@fuzz
@given(a=float_arrays(dtypes=[np.float32, np.float64]),
       module=st.sampled_from(["Flatten", "Dropout", "Softmax", "LogSoftmax", "LeakyReLU", "Identity", "ReLU"]),
       arg=st.one_of(st.integers(-4, 4), st.floats(-1, 2), st.sampled_from([None, "1", True, 0.5, 1.0])),
       train=st.booleans())
def test_modules_work_or_raise_a_documented_error(a, module, arg, train):
    tinygrad_lab.manual_seed(0)
    cls = getattr(nn, module)
    layer, err = attempt(cls) if arg is None else attempt(cls, arg)
    if err is not None:
        return
    layer.train(train)
    x = Value(a, requires_grad=True)
    out, err = attempt(layer, x)
    if err is not None:
        return
    if module in ("Identity", "ReLU") or (module == "Dropout" and (not train or layer.p == 0)):
        assert_matches(out, np.maximum(a, 0) if module == "ReLU" else a, rtol=0)
    elif module == "Dropout":
        kept = out.data != 0
        assert_matches(out.data[kept], a[kept] / (1 - layer.p), rtol=tol(a.dtype))
    elif module == "LeakyReLU":
        assert_matches(out, np.where(a > 0, a, a * layer.negative_slope).astype(a.dtype), rtol=tol(a.dtype),
                       atol=tol(a.dtype))
    elif module == "Flatten":
        start = layer.start_dim % max(a.ndim, 1)
        assert out.size == a.size and out.shape[:start] == a.shape[:start]
    attempt(out.sum().backward)
    assert x.grad is None or x.grad.shape == x.shape


def test_the_documented_error_types_are_the_ones_this_file_allows():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "engine.md").read_text()
    section = text.split("## Errors", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1].strip().strip("`") for line in section.splitlines() if line.startswith("| `")]
    assert rows == [t.__name__ for t in DOCUMENTED] + ["AnomalyError"]
    assert issubclass(tinygrad_lab.AnomalyError, FloatingPointError)
    assert issubclass(np.exceptions.AxisError, IndexError) and issubclass(np.exceptions.AxisError, ValueError)


# ---------------------------------------------------------------------------- broadcasting, casts, comparisons

@fuzz
@given(a=float_arrays(), shape=st.one_of(st.lists(st.integers(0, 3), max_size=4).map(tuple),
                                         st.sampled_from([(-1,), ("2",), (2.0,), None, 3])),
       which=st.sampled_from(["broadcast_to", "sum_to"]))
def test_broadcast_to_and_sum_to_match_numpy_or_raise_a_documented_error(a, shape, which):
    x = Value(a, requires_grad=True)
    out, err = attempt(getattr(tinygrad_lab, which), x, shape)
    if err is not None:
        return
    if which == "broadcast_to":
        expected, np_err = numpy_result(np.broadcast_to, a, shape)
    else:
        lead = a.ndim - len(shape)
        ok = lead >= 0 and all(s in (1, d) for s, d in zip(shape, a.shape[lead:], strict=True))
        expected, np_err = (None, "not a shape a broadcast could have come from") if not ok else (
            np.sum(a.astype(np.float64), axis=tuple(range(lead)) + tuple(
                lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1),
                keepdims=False).reshape(shape), None)
    assert np_err is None, f"{which}{shape!r} accepted what NumPy refuses: {np_err}"
    assert_matches(out, expected, rtol=tol(a.dtype) * 8, atol=tol(a.dtype) * 8)
    attempt(out.sum().backward)
    assert x.grad.shape == x.shape


@fuzz
@given(a=float_arrays(), dtype=st.sampled_from([np.float16, np.float32, np.float64, np.int64, bool, "float32",
                                                 "bogus", object, str, None, np.complex128]))
def test_astype_matches_numpy_or_raises_a_documented_error(a, dtype):
    x = Value(a, requires_grad=True)
    out, err = attempt(x.astype, dtype)
    if err is not None:
        return
    expected, np_err = numpy_result(a.astype, dtype)
    assert np_err is None and np.dtype(dtype).kind in "biufc", f"astype({dtype!r}) accepted"
    assert out.dtype == expected.dtype
    assert_matches(out, expected, rtol=0)


@fuzz
@given(a=float_arrays(), data=st.data(), op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
def test_comparisons_match_numpy_or_raise_a_documented_error(a, data, op):
    other = data.draw(operand_for(a.shape))
    fn = {"<": lambda p, q: p < q, "<=": lambda p, q: p <= q, ">": lambda p, q: p > q,
          ">=": lambda p, q: p >= q, "==": lambda p, q: p == q, "!=": lambda p, q: p != q}[op]
    out, err = attempt(fn, Value(a), other)
    if err is not None:
        return
    expected, np_err = numpy_result(fn, a, _np_operand(other))
    assert np_err is None, f"{op} accepted what NumPy refuses: {np_err}"
    assert isinstance(out, Value) and not out.requires_grad
    assert_matches(out, expected, rtol=0)
