"""Learning-rate schedulers: the schedules written out, ReduceLROnPlateau's rules, state round-trips."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_lab import Value, nn, optim
from tinygrad_lab.optim.lr_scheduler import ExponentialLR, LambdaLR, ReduceLROnPlateau, StepLR


def make_opt(lr=1.0, groups=1):
    return optim.SGD([{"params": [nn.Parameter([1.0])]} for _ in range(groups)], lr=lr)


def schedule(sched, opt, epochs):
    lrs = []
    for _ in range(epochs):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return lrs


def test_step_lr():
    opt = make_opt(0.5)
    sched = StepLR(opt, step_size=3, gamma=0.1)
    assert sched.last_epoch == 0 and sched.get_last_lr() == [0.5] and opt.param_groups[0]["initial_lr"] == 0.5
    lrs = [lr[0] for lr in schedule(sched, opt, 9)]
    expected = [0.5 * 0.1 ** (epoch // 3) for epoch in range(1, 10)]
    assert lrs == pytest.approx(expected, rel=1e-15)
    assert opt.param_groups[0]["lr"] == lrs[-1]


def test_exponential_lr_and_lambda_lr_per_group():
    opt = make_opt(2.0, groups=2)
    opt.param_groups[1]["lr"] = 1.0
    sched = ExponentialLR(opt, gamma=0.9)
    assert [lr for lr in schedule(sched, opt, 4)][-1] == pytest.approx([2.0 * 0.9 ** 4, 0.9 ** 4])

    opt = make_opt(2.0, groups=2)
    sched = LambdaLR(opt, [lambda e: 1 / (1 + e), lambda e: 0.5 ** e])
    lrs = schedule(sched, opt, 3)
    assert lrs == [[2.0 / 2, 2.0 * 0.5], [2.0 / 3, 2.0 * 0.25], [2.0 / 4, 2.0 * 0.125]]
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        LambdaLR(opt, [lambda e: 1.0])


def test_scheduler_respects_a_changed_base_when_chained():
    opt = make_opt(1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    opt.param_groups[0]["lr"] = 4.0          # StepLR is chainable: it scales the current lr
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [2.0]


def test_scheduler_state_round_trip():
    opt = make_opt(1.0)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    schedule(sched, opt, 3)
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    opt2 = make_opt(1.0)
    opt2.load_state_dict(opt.state_dict())
    sched2 = StepLR(opt2, step_size=7, gamma=0.9)
    sched2.load_state_dict(state)
    assert sched2.step_size == 2 and sched2.last_epoch == 3
    assert schedule(sched2, opt2, 3) == schedule(sched, opt, 3)


def test_lambda_lr_state_saves_callable_objects_but_not_functions():
    class Warmup:
        def __init__(self):
            self.factor = 0.5

        def __call__(self, epoch):
            return self.factor

    opt = make_opt(1.0, groups=2)
    warmup = Warmup()
    sched = LambdaLR(opt, [lambda e: 1.0, warmup])
    warmup.factor = 0.25
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"factor": 0.25}]
    other = Warmup()
    sched2 = LambdaLR(make_opt(1.0, groups=2), [lambda e: 1.0, other])
    sched2.load_state_dict(state)
    assert other.factor == 0.25


def test_resuming_needs_initial_lr():
    with pytest.raises(ValueError, match="initial_lr"):
        StepLR(make_opt(), step_size=1, last_epoch=4)


def test_stepping_the_scheduler_before_the_optimizer_warns():
    opt = make_opt()
    sched = ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt = make_opt()
    sched = ExponentialLR(opt, gamma=0.5)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_closed_form_with_explicit_epoch_is_deprecated():
    opt = make_opt(1.0)
    sched = ExponentialLR(opt, gamma=0.5)
    opt.step()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(3)
    assert sched.get_last_lr() == [0.125]


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        StepLR(make_opt(), step_size=0)


# ---------------------------------------------------------------------------- ReduceLROnPlateau

def test_plateau_reduces_after_patience_bad_epochs():
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=2)
    lrs = []
    for loss in [5.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0]:
        sched.step(loss)
        lrs.append(opt.param_groups[0]["lr"])
    # bad epochs: 0 0 1 2 3(>2: cut, reset) 0(better) 1 2 3(cut)
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert sched.get_last_lr() == [0.25] and sched.num_bad_epochs == 0 and sched.best == 3.0


def test_plateau_threshold_modes():
    # rel/min: improvement needs a < best * (1 - threshold)
    sched = ReduceLROnPlateau(make_opt(), threshold=0.1, patience=0)
    sched.step(10.0)
    sched.step(9.5)          # not < 9.0: a bad epoch, patience 0 -> cut
    assert sched.optimizer.param_groups[0]["lr"] == pytest.approx(0.1) and sched.best == 10.0
    # abs/min: improvement needs a < best - threshold
    sched = ReduceLROnPlateau(make_opt(), threshold=0.4, threshold_mode="abs", patience=0)
    sched.step(10.0)
    sched.step(9.5)
    assert sched.best == 9.5 and sched.optimizer.param_groups[0]["lr"] == 1.0
    # rel/max: a > best * (1 + threshold);  abs/max: a > best + threshold
    sched = ReduceLROnPlateau(make_opt(), mode="max", threshold=0.1, patience=0)
    sched.step(1.0)
    sched.step(1.05)
    assert sched.best == 1.0 and sched.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
    sched = ReduceLROnPlateau(make_opt(), mode="max", threshold=0.01, threshold_mode="abs", patience=0)
    sched.step(1.0)
    sched.step(1.05)
    assert sched.best == 1.05 and sched.optimizer.param_groups[0]["lr"] == 1.0


def test_plateau_cooldown_ignores_bad_epochs():
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0, cooldown=2)
    lrs = []
    for loss in [1.0, 2.0, 2.0, 2.0, 2.0, 2.0]:
        sched.step(loss)
        lrs.append(opt.param_groups[0]["lr"])
    # epoch 2: cut (cooldown 2); epochs 3, 4 in cooldown; epoch 5: cut; epoch 6 in cooldown
    assert lrs == [1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert sched.in_cooldown


def test_plateau_min_lr_and_eps():
    opt = make_opt(1.0, groups=2)
    sched = ReduceLROnPlateau(opt, factor=0.1, patience=0, min_lr=[0.05, 0.0], eps=1e-8)
    for loss in [1.0, 1.0, 1.0, 1.0]:
        sched.step(loss)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.05, 1e-3])
    opt = make_opt(1e-8)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0, eps=1e-8)
    sched.step(1.0)
    sched.step(1.0)
    assert opt.param_groups[0]["lr"] == 1e-8          # the change (5e-9) is not > eps: no update


def test_plateau_accepts_values_and_round_trips_state():
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, patience=1)
    for loss in [Value(3.0), Value([2.0]), np.array([[2.5]])]:   # any one-element Value or array
        sched.step(loss)
    state = sched.state_dict()
    other = ReduceLROnPlateau(make_opt(1.0), mode="max")
    other.load_state_dict(state)
    assert other.mode == "min" and other.best == 2.0 and other.num_bad_epochs == 1 and other.last_epoch == 3
    assert other.mode_worse == float("inf")


def test_plateau_errors():
    with pytest.raises(TypeError, match=r"one number \(e.g. the loss\), got Value with shape \(2,\)"):
        ReduceLROnPlateau(make_opt()).step(Value([1.0, 2.0]))
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        ReduceLROnPlateau(make_opt(), factor=1.0)
    with pytest.raises(ValueError, match="mode 'up' is unknown"):
        ReduceLROnPlateau(make_opt(), mode="up")
    with pytest.raises(ValueError, match="threshold mode 'pct' is unknown"):
        ReduceLROnPlateau(make_opt(), threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        ReduceLROnPlateau(make_opt(), min_lr=[0.1, 0.2])
