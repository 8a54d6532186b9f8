"""nn.functional at its edges: error messages that name the function and the argument, implicit softmax
dims, dropout's corner cases, dtypes kept through every loss, empty batches, plain-array inputs, and
class-probability targets with weights on (N, C, d) inputs.

Each test pins behaviour a mutation run found unchecked (docs/mutation.md). Expected values are the
formulas written out in NumPy.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_lab import Value
from tinygrad_lab.nn import functional as F


def log_softmax_ref(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


# ---------------------------------------------------------------------------- messages

FLOAT_TARGET_LOSSES = {
    "mse_loss": F.mse_loss,
    "l1_loss": F.l1_loss,
    "binary_cross_entropy": lambda x, t, **kw: F.binary_cross_entropy(x, t, **kw),
    "binary_cross_entropy_with_logits": lambda x, t, **kw: F.binary_cross_entropy_with_logits(x, t, **kw),
}


@pytest.mark.parametrize("name", FLOAT_TARGET_LOSSES)
def test_float_target_losses_name_themselves_in_their_errors(name):
    fn = FLOAT_TARGET_LOSSES[name]
    x = Value([0.5, 0.25])
    with pytest.raises(ValueError, match=f"^{name}: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        fn(x, np.array([1.0, 0.0]), reduction="avg")
    with pytest.raises(TypeError, match=f"^{name}: target must be numeric, got dtype <U1"):
        fn(x, np.array(["a", "b"]))
    with pytest.raises(ValueError, match=rf"^{name}: target shape \(3,\) does not match input shape \(2,\)"):
        fn(x, np.array([1.0, 0.0, 1.0]))


def test_mse_between_two_values_checks_shape_and_reduction_too():
    a, b = Value(np.ones((2, 3))), Value(np.ones(3))
    with pytest.raises(ValueError, match="does not match input shape"):
        F.mse_loss(a, b)
    with pytest.raises(ValueError, match="reduction must be"):
        F.mse_loss(a, Value(np.ones((2, 3))), reduction="avg")


@pytest.mark.parametrize("name, call", [
    ("binary_cross_entropy", lambda w: F.binary_cross_entropy(Value([0.5, 0.25]), np.array([1.0, 0.0]), w)),
    ("binary_cross_entropy_with_logits",
     lambda w: F.binary_cross_entropy_with_logits(Value([0.5, 0.25]), np.array([1.0, 0.0]), w)),
])
def test_bce_weights_are_checked_and_named(name, call):
    with pytest.raises(ValueError, match=rf"^{name}: weight of shape \(3,\) does not broadcast to the input "
                                         r"shape \(2,\)"):
        call(np.ones(3))
    with pytest.raises(TypeError, match=f"^{name}: weight must be numeric"):
        call(np.array(["a", "b"]))


def test_bce_with_logits_pos_weight_is_checked_and_named():
    fn = "binary_cross_entropy_with_logits"
    x, y = Value(np.zeros((2, 2))), np.ones((2, 2))
    with pytest.raises(ValueError, match=rf"^{fn}: pos_weight of shape \(3,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, y, pos_weight=np.ones(3))
    with pytest.raises(TypeError, match=f"^{fn}: pos_weight must be numeric"):
        F.binary_cross_entropy_with_logits(x, y, pos_weight=np.array(["a", "b"]))


def test_bce_refuses_targets_above_one():
    with pytest.raises(ValueError, match="target values must be between 0 and 1"):
        F.binary_cross_entropy(Value([0.5]), np.array([1.5]))


@pytest.mark.parametrize("name, fn", [("cross_entropy", F.cross_entropy), ("nll_loss", F.nll_loss)])
def test_class_losses_name_themselves_in_their_errors(name, fn):
    x, t = Value(np.zeros((2, 3))), np.array([0, 2])
    with pytest.raises(ValueError, match=f"^{name}: reduction must be"):
        fn(x, t, reduction="avg")
    with pytest.raises(ValueError, match=f"^{name}: input must have a class dimension"):
        fn(Value(1.0), np.array(0))
    with pytest.raises(ValueError, match=rf"^{name}: weight must have one entry per class, shape \(3,\)"):
        fn(x, t, weight=np.ones(2))
    with pytest.raises(TypeError, match=f"^{name}: weight must be numeric"):
        fn(x, t, weight=np.array(["a", "b", "c"]))
    with pytest.raises(TypeError, match=f"^{name}: class-index targets must be integers.* with shape \\(2,\\); "
                                        r"convert class indices with \.astype\(np\.int64\)"):
        fn(x, np.array([0.0, 2.0]))
    with pytest.raises(TypeError, match=f"^{name}: class-index targets must be integers") as info:
        fn(x, np.array([True, False]))
    assert str(info.value).endswith("got dtype bool with shape (2,)")    # the hint is for float targets only
    with pytest.raises(ValueError, match=rf"^{name}: target shape \(3,\) does not fit input shape \(2, 3\)"):
        fn(x, np.array([0, 1, 2]))
    with pytest.raises(IndexError, match=f"^{name}: target 3 is out of bounds for 3 classes"):
        fn(x, np.array([0, 3]))


def test_label_smoothing_range():
    x, t = Value(np.zeros((2, 3))), np.array([0, 2])
    with pytest.raises(ValueError, match="^cross_entropy: label_smoothing must be between 0.0 and 1.0, got 1.5"):
        F.cross_entropy(x, t, label_smoothing=1.5)


def test_label_smoothing_of_one_is_the_uniform_target():
    x = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0]])
    loss = F.cross_entropy(Value(x), np.array([0, 2]), label_smoothing=1.0, reduction="none")
    np.testing.assert_allclose(loss.data, -log_softmax_ref(x, 1).mean(axis=1), rtol=1e-14)


# ---------------------------------------------------------------------------- softmax's implicit dim

@pytest.mark.parametrize("shape, dim", [((), 0), ((3,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 1, 3, 2), 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_implicit_dim_is_pytorchs_legacy_choice(shape, dim, name, rng):
    x = rng.normal(size=shape)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been deprecated"):
        out = getattr(F, name)(Value(x))
    expected = log_softmax_ref(x, dim) if x.ndim else np.zeros(())
    np.testing.assert_allclose(out.data, expected if name == "log_softmax" else np.exp(expected), rtol=1e-13,
                               atol=1e-15)


def test_implicit_dim_warning_points_at_the_callers_line():
    with pytest.warns(UserWarning, match="Implicit dimension") as caught:
        F.softmax(Value([1.0, 2.0]))
    assert caught[0].filename == __file__


def test_log_softmax_explicit_dim(rng):
    x = rng.normal(size=(3, 4))
    np.testing.assert_allclose(F.log_softmax(Value(x), dim=0).data, log_softmax_ref(x, 0), rtol=1e-13)


# ---------------------------------------------------------------------------- dropout

def test_dropout_probability_range_and_identity():
    x = Value(np.ones(4))
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            F.dropout(x, p)
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.5, training=False) is x


def test_dropout_of_arrays_and_integers():
    out = F.dropout(np.ones((50, 4)), 0.5, generator=0)
    assert isinstance(out, np.ndarray) and set(np.unique(out)) == {0.0, 2.0}
    out = F.dropout(np.ones((50, 4), dtype=np.int64), 0.75, generator=0)
    assert out.dtype == np.float64 and set(np.unique(out)) == {0.0, 4.0}


def test_dropout_keeps_float32():
    x = Value(np.ones((10, 10), dtype=np.float32))
    assert F.dropout(x, 1.0).dtype == np.float32 and not F.dropout(x, 1.0).data.any()
    assert F.dropout(x, 0.5, generator=1).dtype == np.float32


# ---------------------------------------------------------------------------- inputs, dtypes, empty batches

def test_losses_of_plain_arrays_keep_float32_and_accept_integers():
    x32, y32 = np.array([0.5, 0.25], dtype=np.float32), np.array([1.0, 0.0], dtype=np.float32)
    assert np.asarray(F.mse_loss(x32, y32)).dtype == np.float32
    assert float(F.l1_loss(np.array([1, 2]), np.array([0, 0]))) == 1.5


def test_losses_keep_float32_with_weights():
    x = Value(np.array([[0.5, 0.25, 0.75]], dtype=np.float32))
    y = np.array([[1.0, 0.0, 1.0]])
    w = np.array([1.0, 2.0, 0.5])
    assert F.binary_cross_entropy(x, y, w).dtype == np.float32
    assert F.binary_cross_entropy_with_logits(x, y, w, pos_weight=w).dtype == np.float32
    assert F.cross_entropy(x, np.array([1]), weight=w).dtype == np.float32
    assert F.nll_loss(x, np.array([1]), weight=w).dtype == np.float32
    assert F.cross_entropy(x, np.array([[0.2, 0.3, 0.5]])).dtype == np.float32   # float64 probabilities


def test_empty_batches_mean_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(F.mse_loss(Value(np.zeros(0)), np.zeros(0)).item())
        loss = F.cross_entropy(Value(np.zeros((0, 3))), np.zeros(0, dtype=np.int64))
        assert np.isnan(loss.item())
        assert F.cross_entropy(Value(np.zeros((0, 3))), np.zeros(0, dtype=np.int64), reduction="sum").item() == 0


def test_mse_target_gradient_when_only_the_target_is_a_value():
    x, y = np.array([1.0, -2.0]), Value([0.5, 0.5], requires_grad=True)
    F.mse_loss(x, y).backward()
    np.testing.assert_allclose(y.grad.data, -(x - y.data), rtol=1e-15)   # -2 (x - y) / 2


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_plain_arrays(reduction, rng):
    x, t = rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])
    out = F.cross_entropy(x, t, reduction=reduction)
    per = -log_softmax_ref(x, 1)[np.arange(4), t]
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction], rtol=1e-13)


def test_cross_entropy_single_sample_keeps_the_target_shape():
    loss = F.cross_entropy(Value([1.0, 2.0, 0.5]), np.array(1), reduction="none")
    assert loss.shape == ()
    np.testing.assert_allclose(loss.data, -log_softmax_ref(np.array([1.0, 2.0, 0.5]), 0)[1], rtol=1e-14)


def test_cross_entropy_gradient_for_rows_of_very_different_scales():
    x = np.array([[1000.0, 1001.0, 999.0], [0.0, 1.0, -1.0]])
    xv = Value(x, requires_grad=True)
    F.cross_entropy(xv, np.array([1, 0])).backward()
    p = np.exp(log_softmax_ref(x, 1))
    np.testing.assert_allclose(xv.grad.data, (p - np.eye(3)[[1, 0]]) / 2, rtol=1e-13, atol=1e-16)


def test_probability_targets_with_weights_on_nd_inputs(rng):
    x = rng.normal(size=(2, 3, 4))                      # (N, C, d)
    t = rng.dirichlet(np.ones(3), (2, 4)).transpose(0, 2, 1)
    w = np.array([0.5, 1.0, 2.0])
    for ls in (0.0, 0.2):
        loss = F.cross_entropy(Value(x), t, weight=w, label_smoothing=ls)
        smoothed = t * (1 - ls) + ls / 3
        per = -(log_softmax_ref(x, 1) * smoothed * w[None, :, None]).sum(axis=1)
        np.testing.assert_allclose(loss.data, per.sum() / 8, rtol=1e-13)    # 'mean' divides by N * d


def test_nll_loss_with_one_class_and_an_ignored_target():
    loss = F.nll_loss(Value([[-0.5], [-0.2]]), np.array([0, -100]))
    assert loss.item() == 0.5


# ---------------------------------------------------------------------------- class losses: more paths


def test_nll_loss_with_weights_and_every_target_counted(rng):
    logp = log_softmax_ref(rng.normal(size=(4, 3)), 1)
    t, w = np.array([0, 2, 1, 2]), np.array([0.5, 1.0, 2.0])
    picked = -logp[np.arange(4), t] * w[t]
    np.testing.assert_allclose(F.nll_loss(Value(logp), t, weight=w).data, picked.sum() / w[t].sum(), rtol=1e-14)
    np.testing.assert_allclose(F.cross_entropy(Value(logp), t, weight=w).data, picked.sum() / w[t].sum(),
                               rtol=1e-14)


@pytest.mark.parametrize("fn", [F.nll_loss, F.cross_entropy])
def test_class_losses_of_float32_arrays_with_ignored_targets_stay_float32(fn):
    x = np.array([[-0.5, -1.0, -2.0], [-0.1, -3.0, -0.7]], dtype=np.float32)
    out = fn(x, np.array([1, -100]))
    assert not isinstance(out, Value) and np.asarray(out).dtype == np.float32


@pytest.mark.parametrize("fn", [F.nll_loss, F.cross_entropy])
def test_all_targets_ignored_mean_is_nan_without_warnings(fn):
    x = Value(np.zeros((2, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = fn(x, np.array([-100, -100]))
        assert np.isnan(loss.item())
        if fn is F.cross_entropy:   # (nll_loss's backward goes through a division by 0 and NumPy warns)
            loss.backward()         # ignored targets get no gradient, as in PyTorch (not 0 / 0 = nan)
            np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


def test_cross_entropy_with_one_class_and_an_ignored_target():
    x = Value([[0.3], [-2.0]], requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, -100]), label_smoothing=0.1)
    assert loss.item() == 0.0                 # log softmax over one class is 0
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0], [0.0]])


def test_cross_entropy_gradient_with_full_label_smoothing(rng):
    x = rng.normal(size=(3, 4))
    xv = Value(x, requires_grad=True)
    F.cross_entropy(xv, np.array([0, 3, 1]), label_smoothing=1.0).backward()
    p = np.exp(log_softmax_ref(x, 1))
    np.testing.assert_allclose(xv.grad.data, (p - 1 / 4) / 3, rtol=1e-13, atol=1e-16)


def test_cross_entropy_of_large_logits_is_finite():
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -999.0]])
    loss = F.cross_entropy(Value(x), np.array([1, 0]), reduction="none")
    np.testing.assert_allclose(loss.data, -log_softmax_ref(x, 1)[[0, 1], [1, 0]], rtol=1e-14)


def test_bce_at_zero_and_one_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(Value([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0]), reduction="none")
    assert loss.data.tolist() == [100.0, 100.0, 0.0, 0.0]


def test_dropout_default_probability_is_one_half():
    out = F.dropout(np.ones(1000), generator=0)
    assert set(np.unique(out)) == {0.0, 2.0}


# ---------------------------------------------------------------------------- second mutation pass

@pytest.mark.parametrize("p", [0.5, 1.0])
def test_dropout_of_a_float32_array_stays_float32(p):
    out = F.dropout(np.ones((8, 8), dtype=np.float32), p, generator=0)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert set(np.unique(out)) <= {0.0, 1 / (1 - p) if p < 1 else 0.0}


@pytest.mark.parametrize("loss", [
    lambda x: F.mse_loss(x, np.zeros(0)),
    lambda x: F.binary_cross_entropy(x, np.zeros(0)),
    lambda x: F.binary_cross_entropy_with_logits(x, np.zeros(0), pos_weight=np.ones(0)),
])
def test_an_empty_batchs_nan_mean_has_an_empty_gradient_without_warnings(loss):
    x = Value(np.zeros(0), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = loss(x)
        out.backward()
    assert np.isnan(out.item())
    assert x.grad.shape == (0,) and x.grad.dtype == np.float64


def test_cross_entropy_without_reduction_sends_each_rows_upstream_gradient_to_that_row(rng):
    x = Value(rng.normal(size=(3, 3)), requires_grad=True)   # N == C: a row/column mix-up still broadcasts
    t = np.array([2, 0, 1])
    upstream = np.array([1.0, -2.0, 0.5])
    (F.cross_entropy(x, t, reduction="none") * upstream).sum().backward()
    p = np.exp(log_softmax_ref(x.data, 1))
    np.testing.assert_allclose(x.grad.data, (p - np.eye(3)[t]) * upstream[:, None], rtol=1e-12, atol=1e-15)
    x = Value(rng.normal(size=(2, 4)), requires_grad=True)    # N != C
    (F.cross_entropy(x, np.array([3, 1]), reduction="none") * np.array([2.0, 0.0])).sum().backward()
    p = np.exp(log_softmax_ref(x.data, 1))
    np.testing.assert_allclose(x.grad.data, (p - np.eye(4)[[3, 1]]) * np.array([[2.0], [0.0]]), rtol=1e-12,
                               atol=1e-15)


def test_mse_loss_takes_a_list_input_with_a_value_target():
    y = Value([0.5, 0.5], requires_grad=True)
    loss = F.mse_loss([1.0, -2.0], y)
    assert loss.item() == pytest.approx((0.5 ** 2 + 2.5 ** 2) / 2, rel=1e-15)


def _op_names(out):
    seen, stack, names = set(), [out], []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node._op is not None:
            names.append(node._op.name)
        stack.extend(node._prev)
    return names


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_class_losses_of_two_dimensional_inputs_need_no_reshaping(fn):
    x = Value(np.zeros((2, 3)), requires_grad=True)
    names = _op_names(fn(x, np.array([0, 2])))
    assert "permute" not in names and "reshape" not in names       # (N, C) rows are used as they are
    names = _op_names(fn(Value(np.zeros((2, 3, 4)), requires_grad=True), np.zeros((2, 4), dtype=np.int64)))
    assert "permute" in names and "reshape" in names               # (N, C, d): classes moved last, rows flattened


def test_probability_targets_as_nested_lists_with_label_smoothing():
    x = Value([[2.0, 0.0, -1.0]], requires_grad=True)
    target = [[0.0, 1.0, 0.0]]                             # a Python list of class probabilities
    loss = F.cross_entropy(x, target, label_smoothing=0.3)
    smoothed = np.array(target) * 0.7 + 0.3 / 3
    expected = -(log_softmax_ref(x.data, 1) * smoothed).sum()
    assert loss.item() == pytest.approx(expected, rel=1e-14)


def test_nll_loss_of_float32_arrays_with_weights_stays_float32():
    x = np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], dtype=np.float32))
    out = F.nll_loss(x, np.array([2, 0]), weight=np.array([1.0, 2.0, 3.0]))   # float64 weights
    assert np.asarray(out).dtype == np.float32
    assert float(out) == pytest.approx(-(3 * np.log(0.5) + 1 * np.log(0.6)) / 4, rel=1e-6)


def test_probability_targets_on_float32_arrays_stay_float32():
    x = np.array([[2.0, 0.0, -1.0]], dtype=np.float32)
    out = F.cross_entropy(x, np.array([[0.25, 0.5, 0.25]]))          # float64 probabilities
    assert np.asarray(out).dtype == np.float32
    expected = -(log_softmax_ref(x.astype(np.float64), 1) * [0.25, 0.5, 0.25]).sum()
    assert float(out) == pytest.approx(expected, rel=1e-6)
