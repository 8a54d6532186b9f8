"""Learning-rate schedulers at their edges: resuming, the deprecated `epoch` argument, per-group lambdas,
state round-trips, groups added later, and ReduceLROnPlateau's first epoch and `eps` boundary.

Each test pins behaviour a mutation run found unchecked (docs/mutation.md); the expected values are the
schedules written out by hand (PyTorch's rules).
"""
from __future__ import annotations

import math
import warnings
from fractions import Fraction

import pytest

from tinygrad_lab import nn, optim
from tinygrad_lab.optim.lr_scheduler import ExponentialLR, LambdaLR, ReduceLROnPlateau, StepLR


def make_opt(lr=1.0, groups=1):
    return optim.SGD([{"params": [nn.Parameter([1.0])]} for _ in range(groups)], lr=lr)


def lrs(opt):
    return [group["lr"] for group in opt.param_groups]


# ---------------------------------------------------------------------------- resuming

def test_resuming_with_last_epoch_uses_the_recorded_initial_lr():
    opt = make_opt(1.0)
    StepLR(opt, step_size=2, gamma=0.5)          # records initial_lr = 1.0
    opt.param_groups[0]["lr"] = 0.25             # where a saved run had got to
    sched = StepLR(opt, step_size=2, gamma=0.5, last_epoch=3)
    assert sched.base_lrs == [1.0] and sched.last_epoch == 4
    assert lrs(opt) == [0.125]                   # epoch 4 is a multiple of 2: one more cut


@pytest.mark.parametrize("make", [
    lambda opt, last_epoch: ExponentialLR(opt, gamma=0.5, last_epoch=last_epoch),
    lambda opt, last_epoch: LambdaLR(opt, lambda epoch: 0.5 ** epoch, last_epoch=last_epoch),
])
def test_every_scheduler_passes_last_epoch_on(make):
    opt = make_opt(1.0)
    make(opt, -1)
    sched = make(opt, 3)
    assert sched.last_epoch == 4


def test_resuming_without_initial_lr_is_an_error():
    with pytest.raises(ValueError, match="initial_lr"):
        StepLR(make_opt(), step_size=2, last_epoch=3)


# ---------------------------------------------------------------------------- the deprecated epoch argument

@pytest.mark.parametrize("make, expected", [
    (lambda opt: StepLR(opt, step_size=2, gamma=0.5), 0.5 ** (5 // 2)),
    (lambda opt: ExponentialLR(opt, gamma=0.5), 0.5 ** 5),
    (lambda opt: LambdaLR(opt, lambda epoch: 1 / (1 + epoch)), 1 / 6),
])
def test_step_with_an_epoch_jumps_to_the_closed_form(make, expected):
    opt = make_opt(2.0)
    sched = make(opt)
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(5)
    assert sched.last_epoch == 5
    assert lrs(opt) == [pytest.approx(2.0 * expected, rel=1e-15)]


# ---------------------------------------------------------------------------- warnings

def test_stepping_the_scheduler_before_the_optimizer_warns_once():
    sched = StepLR(make_opt(), step_size=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched.step()
        sched.step()
    assert [str(w.message)[:25] for w in caught] == ["Detected call of `lr_sche"]
    assert caught[0].category is UserWarning


def test_the_warning_points_at_the_callers_line():
    sched = StepLR(make_opt(), step_size=1)
    with pytest.warns(UserWarning, match="Detected call") as caught:
        sched.step()
    assert caught[0].filename == __file__


def test_two_schedulers_on_one_optimizer():
    opt = make_opt(1.0)
    first = StepLR(opt, step_size=1, gamma=0.5)
    second = ExponentialLR(opt, gamma=0.5)        # wraps optimizer.step only once
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no "scheduler before optimizer" warning either
        opt.step()
        first.step()
        second.step()
    assert lrs(opt) == [0.25]


def test_step_size_must_be_a_positive_integer():
    for bad in (1.5, True, 0, -2, "2"):
        with pytest.raises(ValueError, match="step_size must be a positive integer"):
            StepLR(make_opt(), step_size=bad)


# ---------------------------------------------------------------------------- LambdaLR

def test_lambda_lr_one_function_for_every_group_or_one_per_group():
    opt = make_opt(1.0, groups=2)
    opt.param_groups[1]["lr"] = 4.0
    sched = LambdaLR(opt, lambda epoch: 1 / (1 + epoch))
    opt.step()
    sched.step()
    assert lrs(opt) == [0.5, 2.0]
    opt = make_opt(1.0, groups=2)
    sched = LambdaLR(opt, [lambda epoch: 0.5 ** epoch, lambda epoch: 1.0 + epoch])
    opt.step()
    sched.step()
    sched.step()
    assert lrs(opt) == [0.25, 3.0]


class Decay:
    """A callable object: its attributes are state and go into the state dict."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


def test_lambda_lr_state_dict_keeps_callable_objects_state_not_functions_or_the_optimizer():
    opt = make_opt(1.0, groups=2)
    sched = LambdaLR(opt, [Decay(0.5), lambda epoch: 1.0])
    state = sched.state_dict()
    assert "optimizer" not in state
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    assert state["base_lrs"] == [1.0, 1.0] and state["last_epoch"] == 0
    other = LambdaLR(make_opt(1.0, groups=2), [Decay(0.9), lambda epoch: 1.0])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].rate == 0.5 and other.optimizer is not opt


def test_lambda_lr_loads_states_without_or_with_fewer_lambdas():
    sched = LambdaLR(make_opt(1.0, groups=2), [Decay(0.5), Decay(0.25)])
    sched.load_state_dict({"last_epoch": 7})                         # a plain scheduler state
    assert sched.last_epoch == 7 and sched.lr_lambdas[0].rate == 0.5
    sched.load_state_dict({"last_epoch": 8, "lr_lambdas": [{"rate": 0.1}]})
    assert sched.last_epoch == 8 and [fn.rate for fn in sched.lr_lambdas] == [0.1, 0.25]


# ---------------------------------------------------------------------------- ReduceLROnPlateau

def test_plateau_last_lr_before_any_step():
    opt = make_opt(0.3, groups=2)
    assert ReduceLROnPlateau(opt).get_last_lr() == [0.3, 0.3]


def test_plateau_a_nan_first_metric_is_a_bad_epoch():
    sched = ReduceLROnPlateau(make_opt(), patience=1, cooldown=3)
    sched.step(math.nan)                    # never better than anything, not even +inf
    assert sched.num_bad_epochs == 1 and sched.best == math.inf and sched.cooldown_counter == 0
    sched.step(math.nan)
    assert sched.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)


def test_plateau_changes_the_lr_only_by_more_than_eps():
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0, eps=0.5)   # a cut of exactly eps: kept
    sched.step(1.0)
    sched.step(1.0)
    assert lrs(opt) == [1.0]
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=0, eps=0.4999)
    sched.step(1.0)
    sched.step(1.0)
    assert lrs(opt) == [0.5]


def test_plateau_groups_added_later_get_the_scalar_min_lr():
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.1, patience=0, min_lr=0.5)
    opt.add_param_group({"params": [nn.Parameter([2.0])], "lr": 2.0})
    sched.step(1.0)
    sched.step(1.0)
    assert lrs(opt) == [0.5, 0.5] and sched.min_lrs == [0.5, 0.5]


def test_plateau_groups_added_later_with_a_min_lr_list_is_an_error():
    opt = make_opt(1.0)
    sched = ReduceLROnPlateau(opt, patience=0, min_lr=[0.5])
    opt.add_param_group({"params": [nn.Parameter([2.0])], "lr": 2.0})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match="number of param groups"):
        sched.step(1.0)
    assert lrs(opt) == [1.0, 2.0]


def test_plateau_state_round_trip_keeps_the_threshold_rule():
    sched = ReduceLROnPlateau(make_opt(), mode="max", threshold=0.5, threshold_mode="abs", patience=0)
    sched.step(1.0)
    other = ReduceLROnPlateau(make_opt())
    other.load_state_dict(sched.state_dict())
    other.step(1.4)                          # 1.4 < 1.0 + 0.5: a bad epoch, patience 0: a cut
    assert other.best == 1.0 and other.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)
    other.step(1.6)
    assert other.best == 1.6


def test_defaults_are_pytorchs():
    opt = make_opt(1.0)
    step = StepLR(opt, step_size=1)
    opt.step()
    step.step()
    assert lrs(opt) == [pytest.approx(0.1)]                  # gamma=0.1
    sched = ReduceLROnPlateau(make_opt(1.0))
    for loss in [1.0] * 11:
        sched.step(loss)
    assert sched.optimizer.param_groups[0]["lr"] == 1.0      # patience=10: ten bad epochs are tolerated
    sched.step(1.0)
    assert sched.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)   # factor=0.1
    assert (sched.threshold, sched.threshold_mode, sched.mode, sched.cooldown, sched.eps) == \
        (1e-4, "rel", "min", 0, 1e-8)


# ---------------------------------------------------------------------------- arguments checked in the user's terms

def _plateau(**kwargs):
    return ReduceLROnPlateau(make_opt(), **kwargs)


# each bad argument: the error names the scheduler and the argument, and says what is wanted
@pytest.mark.parametrize("make, error, message", [
    (lambda: StepLR(make_opt(), step_size=1, gamma="0.1"), TypeError, "StepLR: gamma must be a number, got str"),
    (lambda: StepLR(make_opt(), step_size=1, gamma=-0.5), ValueError, "StepLR: gamma must be a finite number >= 0"),
    (lambda: StepLR(make_opt(), step_size=1, gamma=math.inf), ValueError, "StepLR: gamma must be a finite"),
    (lambda: ExponentialLR(make_opt(), gamma=None), TypeError, "ExponentialLR: gamma must be a number"),
    (lambda: ExponentialLR(make_opt(), gamma=-1.0), ValueError, "ExponentialLR: gamma must be a finite number >= 0"),
    (lambda: ExponentialLR(make_opt(), gamma=math.nan), ValueError, "ExponentialLR: gamma must be a finite"),
    (lambda: StepLR(make_opt(), step_size=1, last_epoch=-2), ValueError, "StepLR: last_epoch must be >= -1, got -2"),
    (lambda: ExponentialLR(make_opt(), gamma=0.5, last_epoch=0.5), TypeError,
     "ExponentialLR: last_epoch must be an int, got float"),
    (lambda: LambdaLR(make_opt(), lambda epoch: 1.0, last_epoch=-3), ValueError, "LambdaLR: last_epoch must be >= -1"),
    (lambda: _plateau(factor="half"), TypeError, "ReduceLROnPlateau: factor must be a number, got str"),
    (lambda: _plateau(factor=-0.5), ValueError, "ReduceLROnPlateau: factor must be a finite number >= 0"),
    (lambda: _plateau(patience=1.5), TypeError, "ReduceLROnPlateau: patience must be an int, got float"),
    (lambda: _plateau(patience=-1), ValueError, "ReduceLROnPlateau: patience must be >= 0, got -1"),
    (lambda: _plateau(cooldown="2"), TypeError, "ReduceLROnPlateau: cooldown must be an int, got str"),
    (lambda: _plateau(cooldown=-2), ValueError, "ReduceLROnPlateau: cooldown must be >= 0, got -2"),
    (lambda: _plateau(threshold=None), TypeError, "ReduceLROnPlateau: threshold must be a number, got NoneType"),
    (lambda: _plateau(threshold=-1e-4), ValueError, "ReduceLROnPlateau: threshold must be a finite number >= 0"),
    (lambda: _plateau(eps=[1e-8]), TypeError, "ReduceLROnPlateau: eps must be a number, got list"),
    (lambda: _plateau(eps=math.inf), ValueError, "ReduceLROnPlateau: eps must be a finite number >= 0"),
    (lambda: _plateau(min_lr="0"), TypeError, "ReduceLROnPlateau: min_lr must be a number, got str"),
    (lambda: _plateau(min_lr=[-0.1]), ValueError, "ReduceLROnPlateau: min_lr must be a finite number >= 0"),
])
def test_bad_arguments_are_named_in_the_error(make, error, message):
    with pytest.raises(error) as caught:
        make()
    assert str(caught.value).startswith(message)


def test_resuming_from_last_epoch_minus_one_is_a_fresh_start():
    sched = StepLR(make_opt(), step_size=1, last_epoch=-1)     # the lowest last_epoch allowed
    assert sched.last_epoch == 0


def test_plateau_takes_any_real_number_as_the_metric():
    sched = ReduceLROnPlateau(make_opt(), patience=0)
    sched.step(Fraction(1, 2))                     # a numbers.Real that is not a float
    assert sched.best == 0.5 and type(sched.best) is float
    sched.step(Fraction(1, 2))                     # not better: a bad epoch, patience 0: a cut
    assert lrs(sched.optimizer) == [pytest.approx(0.1)]


@pytest.mark.parametrize("make", [lambda opt: StepLR(opt, step_size=1, gamma=0.5),
                                  lambda opt: ExponentialLR(opt, gamma=0.5),
                                  lambda opt: LambdaLR(opt, lambda epoch: 0.5 ** epoch)],
                         ids=["StepLR", "ExponentialLR", "LambdaLR"])
def test_a_group_added_after_the_scheduler_is_an_error_and_changes_nothing(make):
    from tinygrad_lab import Value

    opt = optim.SGD([Value([1.0], requires_grad=True)], lr=0.1)
    sched = make(opt)
    opt.add_param_group({"params": [Value([2.0], requires_grad=True)], "lr": 0.3})
    opt.step()
    name = type(sched).__name__
    with pytest.raises(ValueError, match=f"^{name}: the optimizer has 2 parameter groups, but this scheduler was "
                                         "made for 1; make the scheduler after the last add_param_group"):
        sched.step()
    assert sched.last_epoch == 0 and [g["lr"] for g in opt.param_groups] == [0.1, 0.3]
    sched = make(opt)                          # made after the group: schedules both
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.15]
