"""Losses: values for every reduction against the formulas written out in NumPy, float64 gradient checks,
targets as Values or arrays, and the errors for wrong targets."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_lab import Value, nn
from tinygrad_lab.nn import functional as F
from tinygrad_lab.testing import gradcheck, gradgradcheck

REDUCTIONS = ["mean", "sum", "none"]


def reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](loss)


def log_softmax_ref(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


# ---------------------------------------------------------------------------- MSE and L1

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1_match_formulas(reduction, rng):
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(F.mse_loss(Value(x), y, reduction=reduction).data,
                               reduce((x - y) ** 2, reduction), rtol=1e-14)
    np.testing.assert_allclose(nn.L1Loss(reduction=reduction)(Value(x), Value(y)).data,
                               reduce(np.abs(x - y), reduction), rtol=1e-14)


def test_mse_mean_is_one_node_with_the_hand_written_gradient(rng):
    x, y = rng.normal(size=(21, 1)), rng.normal(size=(21, 1))
    pred = Value(x, requires_grad=True)
    loss = nn.MSELoss()(pred, Value(y))
    assert loss._op.name == "mse_loss" and loss._prev[0] is pred
    loss.backward()
    np.testing.assert_allclose(pred.grad.data, 2 * (x - y) / len(x), rtol=1e-14, atol=0)   # d/dx mean((x-y)^2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss])
def test_regression_gradients_for_input_and_target(fn, reduction, rng):
    x = Value(rng.normal(size=(3, 2)), requires_grad=True)
    y = Value(rng.normal(size=(3, 2)), requires_grad=True)
    assert gradcheck(lambda a, b: fn(a, b, reduction=reduction), (x, y))
    if fn is F.mse_loss:
        assert gradgradcheck(lambda a, b: fn(a, b, reduction=reduction), (x, y))


def test_mse_shape_mismatch_is_an_error_not_a_broadcast():
    with pytest.raises(ValueError, match=r"target shape \(21,\) does not match input shape \(21, 1\)"):
        F.mse_loss(Value(np.zeros((21, 1))), np.zeros(21))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(TypeError, match="numeric"):
        F.l1_loss(Value([1.0]), np.array(["a"]))


def test_regression_losses_keep_float32_and_accept_arrays():
    x = Value(np.ones((2, 2), dtype=np.float32))
    assert F.mse_loss(x, np.zeros((2, 2))).dtype == np.float32      # array target cast to the input's dtype
    out = F.mse_loss(np.ones(3), np.zeros(3))
    assert isinstance(out, np.ndarray) and float(out) == 1.0


# ---------------------------------------------------------------------------- BCE

def bce_ref(p, y, w=None):
    loss = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))
    return loss if w is None else loss * w


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_formula_with_and_without_weight(reduction, rng):
    p, y, w = rng.uniform(0.01, 0.99, (5, 2)), rng.uniform(0, 1, (5, 2)), rng.uniform(0.5, 2, (5, 2))
    np.testing.assert_allclose(F.binary_cross_entropy(Value(p), y, reduction=reduction).data,
                               reduce(bce_ref(p, y), reduction), rtol=1e-13)
    np.testing.assert_allclose(nn.BCELoss(weight=w[0], reduction=reduction)(Value(p), Value(y)).data,
                               reduce(bce_ref(p, y, w[0]), reduction), rtol=1e-13)


def test_bce_clamps_logs_at_minus_100():
    p, y = Value([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(p, y, reduction="none")
    assert loss.data.tolist() == [100.0, 100.0, 0.0, 0.0]


def test_bce_gradient_is_torch_rule_with_epsilon():
    p = Value([0.25, 0.5, 1.0], requires_grad=True)
    y = np.array([1.0, 0.0, 1.0])
    F.binary_cross_entropy(p, y, reduction="sum").backward()
    # d/dp -(y log p + (1 - y) log(1 - p)) = -y/p + (1 - y)/(1 - p): -4 at (0.25, 1), 2 at (0.5, 0); at p = 1,
    # y = 1 it is 0/0, which PyTorch's rule (p - y) / max(p (1 - p), 1e-12f) makes 0: finite even at p = 1
    np.testing.assert_allclose(p.grad.data, [-1 / 0.25, 1 / (1 - 0.5), 0.0], rtol=1e-15, atol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_gradients(reduction, rng):
    p = Value(rng.uniform(0.1, 0.9, (3, 2)), requires_grad=True)
    y = Value(rng.uniform(0, 1, (3, 2)), requires_grad=True)
    w = rng.uniform(0.5, 2, (3, 2))
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, w, reduction=reduction), (p, y))
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), (p, y))


def test_bce_rejects_inputs_outside_zero_one():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*apply sigmoid"):
        F.binary_cross_entropy(Value([0.5, 1.2]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="NaN"):
        F.binary_cross_entropy(Value([0.5, np.nan]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"target values must be between 0 and 1 \(got min -1(\.0)?, max 2"):
        nn.BCELoss()(Value([0.5, 0.5]), np.array([2.0, -1.0]))     # PyTorch refuses such targets too
    with pytest.raises(ValueError, match="target values must be between 0 and 1"):
        F.binary_cross_entropy(Value([0.5, 0.5]), Value([-1.0, 1.0]))   # labels in {-1, 1}: a common slip
    soft = Value([1.0 + 1e-6, 0.5], requires_grad=True)   # a differentiable target may be perturbed
    assert np.isfinite(F.binary_cross_entropy(Value([0.5, 0.5]), soft).item())
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) does not broadcast"):
        F.binary_cross_entropy(Value([0.5, 0.5]), np.array([1.0, 0.0]), np.ones(3))


# ---------------------------------------------------------------------------- BCE with logits

def bce_logits_ref(x, y, w=None, pw=None):
    s = 1 / (1 + np.exp(-x))
    pw = 1.0 if pw is None else pw
    loss = -(pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    return loss if w is None else loss * w


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_formula(reduction, rng):
    x, y = rng.normal(size=(6, 3)) * 3, rng.uniform(0, 1, (6, 3))
    w, pw = rng.uniform(0.5, 2, (6, 3)), rng.uniform(0.5, 4, 3)
    for kwargs in [{}, {"weight": w}, {"pos_weight": pw}, {"weight": w[0], "pos_weight": pw}]:
        got = F.binary_cross_entropy_with_logits(Value(x), y, kwargs.get("weight"), reduction=reduction,
                                                 pos_weight=kwargs.get("pos_weight"))
        expected = reduce(bce_logits_ref(x, y, kwargs.get("weight"), kwargs.get("pos_weight")), reduction)
        np.testing.assert_allclose(got.data, expected, rtol=1e-12)


def test_bce_with_logits_is_stable_for_large_scores():
    x = np.array([1000.0, -1000.0, 40.0, -40.0, 0.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(Value(x), y, reduction="none").data
    stable = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    # PyTorch's form (1 - y) x - log sigmoid(x), used here, gives 0 (not 4e-18) at x = -40, y = 0
    np.testing.assert_allclose(loss, stable, rtol=1e-15, atol=1e-17)
    assert loss[0] == 1000.0 and loss[1] == 1000.0 and np.all(np.isfinite(loss))
    xv = Value(x, requires_grad=True)
    F.binary_cross_entropy_with_logits(xv, y, reduction="sum").backward()
    with np.errstate(over="ignore"):
        expected = 1 / (1 + np.exp(-x)) - y
    np.testing.assert_allclose(xv.grad.data, expected, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_gradients(reduction, rng):
    x = Value(rng.normal(size=(4, 2)), requires_grad=True)
    y = Value(rng.uniform(0, 1, (4, 2)), requires_grad=True)
    pw, w = np.array([0.5, 3.0]), rng.uniform(0.5, 2, (4, 2))
    loss_fn = nn.BCEWithLogitsLoss(weight=w, reduction=reduction, pos_weight=pw)
    assert gradcheck(loss_fn, (x, y))
    assert gradgradcheck(loss_fn, (x, y))
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction), (x, y))


# ---------------------------------------------------------------------------- cross-entropy and NLL

def ce_ref(x, t, w=None, ignore_index=-100, reduction="mean", ls=0.0):
    """Straight from PyTorch's documented formula, one sample at a time."""
    n, c = x.shape
    w = np.ones(c) if w is None else w
    logp = log_softmax_ref(x, 1)
    losses, denom = np.zeros(n), 0.0
    for i in range(n):
        if t[i] == ignore_index:
            continue
        nll = -w[t[i]] * logp[i, t[i]]
        smooth = -(w * logp[i]).sum()
        losses[i] = (1 - ls) * nll + ls / c * smooth
        denom += w[t[i]]
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / denom


cases = st.tuples(st.integers(1, 5), st.integers(2, 5), st.integers(0, 2 ** 32 - 1))


@settings(max_examples=40, deadline=None)
@given(cases, st.sampled_from(REDUCTIONS), st.sampled_from([0.0, 0.1, 0.5]), st.booleans(),
       st.sampled_from([-100, 1]))
def test_cross_entropy_matches_formula(dims, reduction, ls, weighted, ignore_index):
    n, c, seed = dims
    r = np.random.default_rng(seed)
    x, t = r.normal(size=(n, c)) * 2, r.integers(0, c, n)
    if ignore_index == 1 and (t == 1).all():
        t[0] = 0
    w = r.uniform(0.2, 3, c) if weighted else None
    got = F.cross_entropy(Value(x), t, w, ignore_index=ignore_index, reduction=reduction, label_smoothing=ls)
    np.testing.assert_allclose(got.data, ce_ref(x, t, w, ignore_index, reduction, ls), rtol=1e-12, atol=1e-14)
    module = nn.CrossEntropyLoss(weight=w, ignore_index=ignore_index, reduction=reduction, label_smoothing=ls)
    np.testing.assert_allclose(module(Value(x), Value(t)).data, got.data, rtol=0, atol=0)


@settings(max_examples=25, deadline=None)
@given(cases, st.sampled_from(REDUCTIONS), st.sampled_from([0.0, 0.3]), st.booleans())
def test_cross_entropy_gradients(dims, reduction, ls, weighted):
    n, c, seed = dims
    r = np.random.default_rng(seed)
    x = Value(r.normal(size=(n, c)), requires_grad=True)
    t = r.integers(0, c, n)
    t[r.random(n) < 0.3] = -100
    if (t == -100).all():
        t[0] = 0
    w = r.uniform(0.2, 3, c) if weighted else None
    fn = lambda a: F.cross_entropy(a, t, w, reduction=reduction, label_smoothing=ls)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ls", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_gradients_every_option(reduction, ls, weighted, rng):
    x = Value(rng.normal(size=(5, 4)), requires_grad=True)
    t = np.array([0, 3, -100, 1, 3])
    w = np.array([0.5, 1.0, 2.0, 3.0]) if weighted else None
    assert gradcheck(lambda a: F.cross_entropy(a, t, w, reduction=reduction, label_smoothing=ls), (x,))


def test_cross_entropy_fast_path_gradient_is_softmax_minus_onehot(rng):
    x = rng.normal(size=(7, 4))
    t = rng.integers(0, 4, 7)
    xv = Value(x, requires_grad=True)
    loss = nn.CrossEntropyLoss()(xv, t)
    assert loss._op.name == "cross_entropy"
    loss.backward()
    p = np.exp(log_softmax_ref(x, 1))
    np.testing.assert_allclose(xv.grad.data, (p - np.eye(4)[t]) / 7, atol=1e-16)


def test_cross_entropy_nd_input_and_single_sample(rng):
    x, t = rng.normal(size=(2, 3, 4, 2)), rng.integers(0, 3, (2, 4, 2))
    flat_x = np.moveaxis(x, 1, -1).reshape(-1, 3)
    for reduction in REDUCTIONS:
        got = F.cross_entropy(Value(x), t, reduction=reduction, label_smoothing=0.2).data
        expected = ce_ref(flat_x, t.ravel(), reduction=reduction, ls=0.2)
        expected = expected.reshape(t.shape) if reduction == "none" else expected
        np.testing.assert_allclose(got, expected, rtol=1e-13)
    xv = Value(x, requires_grad=True)
    assert gradcheck(lambda a: F.cross_entropy(a, t), (xv,))
    one = rng.normal(size=3)
    np.testing.assert_allclose(F.cross_entropy(Value(one), np.array(2)).data, -log_softmax_ref(one, 0)[2])
    assert F.cross_entropy(Value(one), np.array(2), reduction="none").shape == ()


def soft_ce_ref(x, p, w=None, ls=0.0, reduction="mean"):
    c = x.shape[1]
    p = p * (1 - ls) + ls / c
    w = np.ones(c) if w is None else w
    losses = -(log_softmax_ref(x, 1) * p * w).sum(axis=1)
    return reduce(losses, reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ls", [0.0, 0.2])
def test_cross_entropy_with_probability_targets(reduction, ls, rng):
    x = rng.normal(size=(4, 3))
    p = rng.dirichlet(np.ones(3), 4)
    w = np.array([0.5, 1.0, 2.0])
    for weight in (None, w):
        got = F.cross_entropy(Value(x), p, weight, reduction=reduction, label_smoothing=ls)
        np.testing.assert_allclose(got.data, soft_ce_ref(x, p, weight, ls, reduction), rtol=1e-13)
    xv, pv = Value(x, requires_grad=True), Value(p, requires_grad=True)
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, w, reduction=reduction, label_smoothing=ls), (xv, pv))


def test_cross_entropy_all_ignored_mean_is_nan_like_torch():
    loss = F.cross_entropy(Value(np.zeros((2, 3))), np.array([-100, -100]))
    assert np.isnan(loss.item())
    assert F.cross_entropy(Value(np.zeros((2, 3))), np.array([-100, -100]), reduction="sum").item() == 0.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_formula_and_cross_entropy(reduction, rng):
    x, t = rng.normal(size=(6, 4)), np.array([0, 3, -100, 2, 1, 3])
    w = rng.uniform(0.5, 2, 4)
    logp = log_softmax_ref(x, 1)
    valid = t != -100
    per = np.where(valid, -w[np.where(valid, t, 0)] * logp[np.arange(6), np.where(valid, t, 0)], 0.0)
    expected = per if reduction == "none" else per.sum() if reduction == "sum" else \
        per.sum() / w[t[valid]].sum()
    got = nn.NLLLoss(weight=w, reduction=reduction)(Value(logp), t)
    np.testing.assert_allclose(got.data, expected, rtol=1e-13)
    ce = F.cross_entropy(Value(x), t, w, reduction=reduction)
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(Value(x), 1), t, w, reduction=reduction).data,
                               ce.data, rtol=1e-13)
    xv = Value(logp, requires_grad=True)
    assert gradcheck(lambda a: F.nll_loss(a, t, w, reduction=reduction), (xv,))


def test_nll_loss_nd_input(rng):
    logp = log_softmax_ref(rng.normal(size=(2, 3, 5)), 1)
    t = rng.integers(0, 3, (2, 5))
    expected = -np.take_along_axis(logp, t[:, None, :], axis=1)[:, 0, :]
    np.testing.assert_allclose(F.nll_loss(Value(logp), t, reduction="none").data, expected, rtol=1e-15)
    np.testing.assert_allclose(F.nll_loss(Value(logp), t).data, expected.mean(), rtol=1e-14)


def test_class_target_errors_are_clear():
    x = Value(np.zeros((4, 3)))
    with pytest.raises(TypeError, match=r"class-index targets must be integers.*float64.*astype\(np.int64\)"):
        F.cross_entropy(x, np.array([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        nn.CrossEntropyLoss()(x, np.array([0, 1, 3, 1]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.nll_loss(x, np.array([0, -1, 2, 1]))
    with pytest.raises(ValueError, match=r"target shape \(3,\) does not fit input shape \(4, 3\)"):
        F.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="class probabilities and must be floating point"):
        F.cross_entropy(x, np.zeros((4, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"one entry per class, shape \(3,\)"):
        F.cross_entropy(x, np.array([0, 1, 2, 1]), np.ones(4))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="class dimension"):
        F.cross_entropy(Value(1.0), np.array(0))


def test_losses_keep_float32():
    x = Value(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    t = np.array([0, 2])
    for loss in (F.cross_entropy(x, t, np.ones(3)), F.nll_loss(x, t),
                 F.binary_cross_entropy_with_logits(x, np.ones((2, 3))),
                 F.binary_cross_entropy(x * 0.5, np.ones((2, 3)))):
        assert loss.dtype == np.float32
        loss.backward()
        assert x.grad.dtype == np.float32


def test_loss_module_reprs_and_state():
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert list(nn.BCEWithLogitsLoss(pos_weight=np.ones(2)).state_dict()) == ["pos_weight"]
    assert list(nn.NLLLoss().state_dict()) == []
