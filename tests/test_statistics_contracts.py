"""var, std, cumsum, argmax and argmin without PyTorch, as torch documents them: every way to pass the
arguments (positional, axis/keepdims, dim/keepdim, unbiased, correction=None), NumPy arrays and Values,
gradients against the formulas, std's zero gradient where it is 0, no degrees of freedom (inf or nan and
one warning, as PyTorch; gradients inf or nan, never finite, without NumPy warnings, create_graph too),
cumsum of a 0-d input, and argmax/argmin's first index on ties and their errors.

Expected values come from NumPy formulas written here (sums of squares over counts, Python loops for the
first extremum), never from the functions under test."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import tinygrad_lab as tg
from tinygrad_lab import Value
from tinygrad_lab.ops import argmax, argmin, cumsum, std, var


def _var_reference(x, axis=None, correction=1, keepdims=False):
    axes = tuple(range(x.ndim)) if axis is None else tuple(a % x.ndim for a in np.atleast_1d(axis))
    mean = x.mean(axis=axes, keepdims=True)
    n = int(np.prod([x.shape[a] for a in axes]))
    out = ((x - mean) ** 2).sum(axis=axes, keepdims=True) / (n - correction)
    return out if keepdims else out.reshape([s for i, s in enumerate(x.shape) if i not in axes])


def _std_reference(x, axis=None, correction=1, keepdims=False):
    return np.sqrt(_var_reference(x, axis, correction, keepdims))


def _data(y):
    return y.data if isinstance(y, Value) else np.asarray(y)


# (call, reference keyword arguments): every spelling of the arguments, PyTorch's defaults included
SPREAD_CALLS = [
    ("f(x)", lambda f, x: f(x), {}),
    ("f(x, 1)", lambda f, x: f(x, 1), {"axis": 1}),
    ("f(x, 0, 0)", lambda f, x: f(x, 0, 0), {"axis": 0, "correction": 0}),
    ("f(x, 1, 1, True)", lambda f, x: f(x, 1, 1, True), {"axis": 1, "keepdims": True}),
    ("axis=-1, keepdims", lambda f, x: f(x, axis=-1, keepdims=True), {"axis": -1, "keepdims": True}),
    ("dim=1", lambda f, x: f(x, dim=1), {"axis": 1}),
    ("dim=0, keepdim", lambda f, x: f(x, dim=0, keepdim=True), {"axis": 0, "keepdims": True}),
    ("dim=(0, 1)", lambda f, x: f(x, dim=(0, 1)), {"axis": (0, 1)}),
    ("dim=[0, 1], keepdim", lambda f, x: f(x, dim=[0, 1], keepdim=True), {"axis": (0, 1), "keepdims": True}),
    ("keepdims=True", lambda f, x: f(x, keepdims=True), {"keepdims": True}),
    ("keepdim=False wins", lambda f, x: f(x, 1, keepdims=True, keepdim=False), {"axis": 1}),
    ("unbiased=False", lambda f, x: f(x, unbiased=False), {"correction": 0}),
    ("unbiased=True", lambda f, x: f(x, correction=0, unbiased=True), {"correction": 1}),
    ("dim, unbiased=False", lambda f, x: f(x, dim=1, unbiased=False), {"axis": 1, "correction": 0}),
    ("correction=None", lambda f, x: f(x, 1, correction=None), {"axis": 1, "correction": 1}),
    ("correction=0.5", lambda f, x: f(x, 0, correction=0.5), {"axis": 0, "correction": 0.5}),
    ("correction=2", lambda f, x: f(x, dim=1, correction=2), {"axis": 1, "correction": 2}),
]


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("call, kwargs", [pytest.param(c, k, id=i) for i, c, k in SPREAD_CALLS])
@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_var_and_std_arguments(rng, name, call, kwargs, as_value):
    x = rng.normal(1.0, 2.0, size=(3, 4))
    f, reference = (var, _var_reference) if name == "var" else (std, _std_reference)
    y = call(f, Value(x) if as_value else x)
    assert isinstance(y, Value) == as_value
    want = reference(x, **kwargs)
    assert _data(y).shape == want.shape
    np.testing.assert_allclose(_data(y), want, rtol=1e-12)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("axis, keepdim, correction", [
    (None, False, 1), (None, True, 0), (0, False, 1), (1, False, 1), (1, True, 0), (-2, True, 2),
    ((0, 1), False, 1), ((0, 2), True, 1), (2, False, 0),
])
def test_var_and_std_gradients_follow_the_formula(rng, name, axis, keepdim, correction):
    """d var / dx = 2 (x - mean) / (n - correction);  d std / dx = (x - mean) / ((n - correction) std)."""
    x = rng.normal(size=(3, 4, 2))
    xv = Value(x, requires_grad=True)
    f = var if name == "var" else std
    y = f(xv, dim=axis, correction=correction, keepdim=keepdim)
    upstream = rng.normal(size=y.shape)
    (y * upstream).sum().backward()
    axes = tuple(range(3)) if axis is None else tuple(a % 3 for a in np.atleast_1d(axis))
    n = int(np.prod([x.shape[a] for a in axes]))
    g = upstream if keepdim else np.expand_dims(upstream, axes)
    centred = x - x.mean(axis=axes, keepdims=True)
    if name == "var":
        want = g * 2 * centred / (n - correction)
    else:
        want = g * centred / ((n - correction) * _std_reference(x, axes, correction, keepdims=True))
    np.testing.assert_allclose(xv.grad.data, want, rtol=1e-10, atol=1e-14)


def test_std_gradient_is_zero_where_std_is_zero():
    """PyTorch masks std's gradient to 0 where std == 0, even if x - mean is not exactly 0 (it underflows)."""
    x = Value(np.array([[0.0, 1e-170], [2.0, 3.0], [5.0, 5.0]]), requires_grad=True)
    y = std(x, dim=1)
    assert y.data[0] == 0.0 and y.data[2] == 0.0
    y.sum().backward()
    assert np.array_equal(x.grad.data[0], [0.0, 0.0]) and np.array_equal(x.grad.data[2], [0.0, 0.0])
    np.testing.assert_allclose(x.grad.data[1], [-0.5, 0.5] / (1 * y.data[1]), rtol=1e-12)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("data, correction, want", [([1.0, 2.0], 2, np.inf), ([1.0, 2.0], 3, np.inf),
                                                    ([4.0], 1, np.nan), ([1.0, 1.0], 2, np.nan)])
@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_no_degrees_of_freedom_give_inf_or_nan_with_one_warning(name, data, correction, want, as_value):
    """sum((x - mean)^2) / (n - correction) as PyTorch: inf (or nan for 0 / 0) and a degrees-of-freedom
    warning, not also NumPy's division warnings."""
    f = var if name == "var" else std
    if name == "std":
        want = np.sqrt(want)     # inf stays inf, nan stays nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = f(Value(np.array(data)) if as_value else np.array(data), correction=correction)
    assert np.array_equal(_data(y), want, equal_nan=True)
    assert caught and all("degrees of freedom" in str(w.message).lower() for w in caught), \
        [str(w.message) for w in caught]


# ------------------------------------------------ gradients without degrees of freedom (n - correction <= 0)
# PyTorch's var_backward for a full reduction: g * (nan where x == mean, inf elsewhere); std's is then nan
# (g / (2 inf) times that). Used for every reduction here (PyTorch's dim reductions give finite numbers).

# rows: a slice whose middle element is its mean, an all-equal slice, a slice without ties to its mean
NO_DOF_DATA = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0], [-1.0, 0.5, 4.0]])


def _no_dof_gradient_reference(name, x, upstream, axis, keepdims):
    """The convention written out: upstream broadcast back, times inf (x != mean) or nan (x == mean); std: nan."""
    axes = tuple(range(x.ndim)) if axis is None else tuple(a % x.ndim for a in np.atleast_1d(axis))
    g = np.broadcast_to(upstream if keepdims else np.expand_dims(upstream, axes), x.shape)
    if name == "std":
        return np.full(x.shape, np.nan)
    with np.errstate(invalid="ignore"):
        return g * np.where(x == x.mean(axis=axes, keepdims=True), np.nan, np.inf)


def _forward_quietly(f, x, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the forward's degrees-of-freedom warning is tested above
        return f(x, **kwargs)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("extra", [0, 1, 2.5], ids=["correction=n", "correction=n+1", "correction=n+2.5"])
def test_gradient_without_degrees_of_freedom_is_never_finite(rng, name, axis, keepdim, extra):
    """correction >= n: var's gradient is +-inf where x differs from its slice's mean and nan where it equals it;
    std's is nan. The same for full and dim reductions, with and without keepdim, and no NumPy warning."""
    x = NO_DOF_DATA
    n = x.size if axis is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis)]))
    f = var if name == "var" else std
    xv = Value(x, requires_grad=True)
    y = _forward_quietly(f, xv, dim=axis, correction=n + extra, keepdim=keepdim)
    assert not np.isfinite(y.data).any()
    upstream = rng.choice([-1.0, 1.0], size=y.shape) * rng.uniform(0.5, 2.0, size=y.shape)   # both signs, no 0
    with np.errstate(invalid="ignore"):   # the loss sums +-inf: nan, not what is tested
        loss = (y * upstream).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss.backward()
    want = _no_dof_gradient_reference(name, x, upstream, axis, keepdim)
    assert np.array_equal(xv.grad.data, want, equal_nan=True), (xv.grad.data, want)
    assert not np.isfinite(xv.grad.data).any()


@pytest.mark.parametrize("axis, keepdim", [(None, False), (None, True), (1, False), (1, True)])
def test_var_gradient_without_degrees_of_freedom_by_hand(axis, keepdim):
    """[1, 2, 4] with correction 4 (PyTorch's dim reduction would give [2.67, 0.67, -3.33]); [1, 2, 3] has its
    mean 2 in the middle (nan there); an all-equal slice is nan everywhere; a negative upstream flips inf."""
    x = Value(np.array([[1.0, 2.0, 4.0]]) if axis is None else np.array([[1.0, 2.0, 4.0], [1.0, 2.0, 3.0],
                                                                         [5.0, 5.0, 5.0]]), requires_grad=True)
    y = _forward_quietly(var, x, dim=axis, correction=4 if axis is None else 3, keepdim=keepdim)
    (y * -1.0).sum().backward()
    inf, nan = np.inf, np.nan
    want = [[-inf, -inf, -inf]] if axis is None else [[-inf, -inf, -inf], [-inf, nan, -inf], [nan, nan, nan]]
    assert np.array_equal(x.grad.data, want, equal_nan=True), x.grad.data


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("data, dim", [([2.0, 2.0], None), ([[2.0, 2.0], [3.0, 3.0]], 1), ([[7.0, 7.0]], 0)])
def test_all_equal_slices_without_degrees_of_freedom_give_nan_everywhere(name, data, dim):
    x = Value(np.array(data), requires_grad=True)
    n = x.size if dim is None else x.shape[dim]
    y = _forward_quietly(var if name == "var" else std, x, dim=dim, correction=n)
    assert np.isnan(y.data).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.sum().backward()
    assert np.isnan(x.grad.data).all()


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("shape, dim", [((), None), ((1,), None), ((1,), 0), ((3, 1), 1), ((1, 1), (0, 1))])
def test_one_element_with_correction_one_has_a_nan_gradient_without_warnings(rng, name, shape, dim):
    """0 / 0 as PyTorch: nan forward and gradient, and NumPy's 'invalid value' warning is not shown."""
    x = Value(rng.normal(size=shape), requires_grad=True)
    y = _forward_quietly(var if name == "var" else std, x, dim=dim, correction=1)
    assert np.isnan(y.data).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.sum().backward()
    assert x.grad.shape == shape and np.isnan(x.grad.data).all()


def test_a_zero_upstream_gradient_without_degrees_of_freedom_gives_nan_quietly():
    """0 * inf is nan (PyTorch multiplies the same way), without NumPy's warning."""
    x = Value(np.array([[1.0, 2.0], [3.0, 5.0]]), requires_grad=True)
    y = _forward_quietly(var, x, dim=1, correction=2)
    with np.errstate(invalid="ignore"):   # the loss is 0 * inf + inf: nan, not what is tested
        loss = (y * np.array([0.0, 1.0])).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss.backward()
    assert np.isnan(x.grad.data[0]).all() and np.array_equal(x.grad.data[1], [np.inf, np.inf])


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("axis, keepdim", [(None, False), (None, True), (1, False), (0, True)])
def test_gradient_without_degrees_of_freedom_is_the_same_with_create_graph(rng, name, axis, keepdim):
    """The backward rule gets Values under create_graph=True: the same numbers, still no warning."""
    x = NO_DOF_DATA
    n = x.size if axis is None else x.shape[axis]
    f = var if name == "var" else std
    results = []
    for create_graph in (False, True):
        xv = Value(x, requires_grad=True)
        y = _forward_quietly(f, xv, dim=axis, correction=n + 1, keepdim=keepdim)
        upstream = np.random.default_rng(5).uniform(-2.0, 2.0, size=y.shape)
        with np.errstate(invalid="ignore"):   # the loss sums +-inf: nan, not what is tested
            loss = (y * upstream).sum()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            (g,) = tg.grad(loss, xv, create_graph=create_graph)
        assert isinstance(g, Value)
        results.append(g.data)
    assert np.array_equal(results[0], results[1], equal_nan=True)
    assert np.array_equal(results[1], _no_dof_gradient_reference(name, x, upstream, axis, keepdim), equal_nan=True)


@pytest.mark.parametrize("correction, want_value, want_grad", [(0, 0.0, 0.0), (1, np.nan, np.nan)])
def test_var_of_a_0d_value(correction, want_value, want_grad):
    """One element: var is 0 / (1 - correction), the gradient 2 * 0 / (1 - correction) (nan for 0/0, PyTorch)."""
    x = Value(np.array(2.0), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = var(x, correction=correction)
        y.backward()
    assert y.shape == () and np.array_equal(y.data, want_value, equal_nan=True)
    assert np.array_equal(x.grad.data, want_grad, equal_nan=True)


def test_a_correction_that_is_not_a_number_is_refused():
    for f, name in ((var, "var"), (std, "std")):
        with pytest.raises(TypeError, match=rf"^{name}\(\): correction must be a number"):
            f(Value([1.0, 2.0]), correction="1")


# ---------------------------------------------------------------- cumsum


def _cumsum_reference(x, axis):
    out = np.zeros_like(x)
    moved, result = np.moveaxis(x, axis, 0), np.moveaxis(out, axis, 0)
    total = np.zeros_like(moved[0])
    for i in range(moved.shape[0]):
        total = total + moved[i]
        result[i] = total
    return out


@pytest.mark.parametrize("axis", [0, 1, -1, 2, -3])
@pytest.mark.parametrize("spelling", ["positional", "axis", "dim"])
@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_cumsum_values_and_gradient(rng, axis, spelling, as_value):
    x = rng.normal(size=(2, 3, 4))
    arg = {"positional": ((axis,), {}), "axis": ((), {"axis": axis}), "dim": ((), {"dim": axis})}[spelling]
    xv = Value(x, requires_grad=True) if as_value else x
    y = cumsum(xv, *arg[0], **arg[1])
    assert isinstance(y, Value) == as_value
    np.testing.assert_allclose(_data(y), _cumsum_reference(x, axis), rtol=1e-12)
    if as_value:
        upstream = rng.normal(size=x.shape)
        (y * upstream).sum().backward()
        # dx_j = sum of the upstream gradient over i >= j along the axis
        flipped = np.flip(upstream, axis)
        np.testing.assert_allclose(xv.grad.data, np.flip(_cumsum_reference(flipped, axis), axis), rtol=1e-12)


def test_cumsum_keeps_an_integer_dtype():
    assert cumsum(Value(np.array([1, 2, 3])), dim=0).data.dtype == np.int64
    assert np.array_equal(cumsum(Value(np.array([1, 2, 3])), dim=0).data, [1, 3, 6])
    y = cumsum(Value(np.array(4)), dim=0)
    assert y.shape == () and y.data.dtype == np.int64 and y.data == 4


@pytest.mark.parametrize("make", [lambda: np.array(3.5), lambda: np.float64(3.5)], ids=["0-d array", "scalar"])
@pytest.mark.parametrize("axis", [0, -1])
def test_cumsum_of_a_0d_array_is_a_0d_copy(make, axis):
    """torch.cumsum of a 0-d tensor (dim 0 or -1) is a 0-d tensor with the same value."""
    x = make()
    y = cumsum(x, dim=axis)
    assert isinstance(y, np.ndarray) and y.shape == () and y == 3.5
    y[...] = 0.0
    assert x == 3.5      # a copy


def test_cumsum_of_a_0d_value_has_gradient_one():
    x = Value(np.array(3.5), requires_grad=True)
    y = cumsum(x, dim=0)
    assert y.shape == () and y.data == 3.5 and y is not x
    (y * 2.0).backward()
    assert x.grad.data == 2.0


def test_cumsum_needs_an_axis():
    with pytest.raises(TypeError, match=r"^cumsum\(\) needs the axis"):
        cumsum(Value([1.0, 2.0]))


# ---------------------------------------------------------------- argmax / argmin


def _first_extremum(x, axis, largest):
    """The first index of the largest (smallest) element along `axis` (None: of the flattened x), by loops."""
    if axis is None:
        flat = list(x.ravel())
        best = max(flat) if largest else min(flat)
        return np.array(flat.index(best))
    moved = np.moveaxis(x, axis, -1)
    out = np.zeros(moved.shape[:-1], dtype=np.int64)
    for index in itertools.product(*map(range, moved.shape[:-1])):
        row = list(moved[index])
        out[index] = row.index(max(row) if largest else min(row))
    return out


ARG_CALLS = [
    ("f(x)", lambda f, x: f(x), None, False),
    ("f(x, 1)", lambda f, x: f(x, 1), 1, False),
    ("f(x, 0, True)", lambda f, x: f(x, 0, True), 0, True),
    ("axis=-1, keepdims", lambda f, x: f(x, axis=-1, keepdims=True), -1, True),
    ("dim=1", lambda f, x: f(x, dim=1), 1, False),
    ("dim=0, keepdim", lambda f, x: f(x, dim=0, keepdim=True), 0, True),
    ("dim=2", lambda f, x: f(x, dim=2), 2, False),
    ("keepdim without dim", lambda f, x: f(x, keepdim=True), None, True),
    ("keepdim=False wins", lambda f, x: f(x, 1, keepdims=True, keepdim=False), 1, False),
]


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("call, axis, keepdims", [pytest.param(c, a, k, id=i) for i, c, a, k in ARG_CALLS])
@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_argmax_and_argmin_take_the_first_extremum(rng, name, call, axis, keepdims, as_value):
    x = rng.integers(0, 3, size=(3, 4, 5)).astype(np.float64)     # many ties: the first index wins
    f = argmax if name == "argmax" else argmin
    y = call(f, Value(x) if as_value else x)
    assert isinstance(y, Value) == as_value
    want = _first_extremum(x, None if axis is None else axis % 3, name == "argmax")
    if keepdims:
        want = np.expand_dims(want, tuple(range(3)) if axis is None else axis % 3)
    got = _data(y)
    assert got.dtype == np.int64 and got.shape == want.shape and np.array_equal(got, want)
    if as_value:
        assert not y.requires_grad


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_and_argmin_of_one_element_is_zero(name):
    f = argmax if name == "argmax" else argmin
    assert f(Value([7.0])).data == 0 and f(Value(np.array(7.0))).data == 0
    assert np.array_equal(f(Value([[7.0]]), dim=1).data, [0])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("x, kwargs, error, message", [
    (np.zeros((0,)), {}, ValueError, r"\(\) of an empty Value \(shape \(0,\)\)"),
    (np.zeros((2, 0)), {"dim": 1}, ValueError, r"\(\) of an empty Value \(shape \(2, 0\)\)"),
    (np.zeros((2, 3)), {"dim": (0, 1)}, TypeError, r"\(\) takes one axis \(an int\) or None, got \(0, 1\)"),
    (np.zeros((2, 3)), {"dim": [0, 1]}, TypeError, r"\(\) takes one axis \(an int\) or None, got \(0, 1\)"),
])
def test_argmax_and_argmin_errors_name_the_function(name, x, kwargs, error, message):
    f = argmax if name == "argmax" else argmin
    with pytest.raises(error, match=rf"^{name}{message}"):
        f(Value(x), **kwargs)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim, error, message", [
    (1.5, TypeError, r"^axis must be None, an int or a tuple of ints, not 1\.5"),
    (True, TypeError, r"^axis must be None, an int or a tuple of ints, not True"),
    (2, np.exceptions.AxisError, r"^axis 2 is out of bounds for a Value with 2 dimension"),
    ((0, -3), np.exceptions.AxisError, r"^axis -3 is out of bounds for a Value with 2 dimension"),
])
@pytest.mark.parametrize("as_value", [True, False], ids=["Value", "ndarray"])
def test_var_and_std_refuse_a_bad_dim_with_the_same_message_for_arrays(name, dim, error, message, as_value):
    x = np.zeros((2, 3))
    with pytest.raises(error, match=message):
        (var if name == "var" else std)(Value(x) if as_value else x, dim=dim)
