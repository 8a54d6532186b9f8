"""ReduceLROnPlateau's improvement test at its threshold, for each (mode, threshold_mode) pair.

PyTorch's rule: with best value `b` and threshold `t`, a new value `a` is an improvement when

    min, rel:  a < b * (1 - t)        min, abs:  a < b - t
    max, rel:  a > b * (1 + t)        max, abs:  a > b + t

Each case improves on `best` once by slightly less than the threshold (a bad epoch: `best` is kept) and
once by slightly more (the new best). The thresholds are decisive (25% or 0.5), and the numbers are
dyadic so the boundary itself is exact: a value exactly at the boundary is not an improvement (strict).
"""
from __future__ import annotations

import pytest

from tinygrad_lab import nn, optim
from tinygrad_lab.optim.lr_scheduler import ReduceLROnPlateau

# (mode, threshold_mode, threshold, first value, boundary = the value an improvement must beat)
CASES = [
    ("min", "rel", 0.25, 8.0, 6.0),     # 8 * (1 - 0.25)
    ("min", "abs", 0.5, 8.0, 7.5),      # 8 - 0.5
    ("max", "rel", 0.25, 8.0, 10.0),    # 8 * (1 + 0.25)
    ("max", "abs", 0.5, 8.0, 8.5),      # 8 + 0.5
]
IDS = [f"{mode}-{threshold_mode}" for mode, threshold_mode, *_ in CASES]


def _scheduler(mode: str, threshold_mode: str, threshold: float, patience: int = 10) -> ReduceLROnPlateau:
    opt = optim.SGD([nn.Parameter([1.0])], lr=1.0)
    return ReduceLROnPlateau(opt, mode=mode, threshold=threshold, threshold_mode=threshold_mode,
                             patience=patience, factor=0.5)


def _towards(first: float, boundary: float, fraction: float) -> float:
    """The value that goes `fraction` of the way from `first` to the boundary (beyond it for fraction > 1)."""
    return first + fraction * (boundary - first)


@pytest.mark.parametrize("mode, threshold_mode, threshold, first, boundary", CASES, ids=IDS)
def test_improvement_slightly_short_of_the_threshold_is_a_bad_epoch(mode, threshold_mode, threshold, first,
                                                                    boundary):
    sched = _scheduler(mode, threshold_mode, threshold)
    sched.step(first)
    assert sched.best == first and sched.num_bad_epochs == 0
    short = _towards(first, boundary, 0.9)   # better than `first`, but by 90% of the threshold
    assert (short < first) if mode == "min" else (short > first)
    sched.step(short)
    assert sched.best == first and sched.num_bad_epochs == 1
    sched.step(boundary)                     # exactly at the threshold: still not an improvement
    assert sched.best == first and sched.num_bad_epochs == 2


@pytest.mark.parametrize("mode, threshold_mode, threshold, first, boundary", CASES, ids=IDS)
def test_improvement_slightly_beyond_the_threshold_is_the_new_best(mode, threshold_mode, threshold, first,
                                                                   boundary):
    sched = _scheduler(mode, threshold_mode, threshold)
    sched.step(first)
    sched.step(first)                        # no change at all: a bad epoch
    assert sched.num_bad_epochs == 1
    over = _towards(first, boundary, 1.1)    # beats `first` by 110% of the threshold
    sched.step(over)
    assert sched.best == over and sched.num_bad_epochs == 0


@pytest.mark.parametrize("mode, threshold_mode, threshold, first, boundary", CASES, ids=IDS)
def test_near_misses_cut_the_learning_rate_after_patience(mode, threshold_mode, threshold, first, boundary):
    sched = _scheduler(mode, threshold_mode, threshold, patience=1)
    lrs = []
    for value in [first, _towards(first, boundary, 0.9), _towards(first, boundary, 0.95)]:
        sched.step(value)
        lrs.append(sched.optimizer.param_groups[0]["lr"])
    assert lrs == [1.0, 1.0, 0.5]            # two near misses > patience 1: one cut
    sched.step(_towards(first, boundary, 1.1))
    assert sched.optimizer.param_groups[0]["lr"] == 0.5 and sched.num_bad_epochs == 0


@pytest.mark.parametrize("mode, threshold_mode, threshold", [
    ("min", "rel", 0.25), ("min", "abs", 0.5), ("max", "rel", 0.25), ("max", "abs", 0.5)], ids=IDS)
def test_the_first_value_is_always_an_improvement(mode, threshold_mode, threshold):
    sched = _scheduler(mode, threshold_mode, threshold)
    sched.step(-3.0 if mode == "max" else 1e6)   # whatever it is, it beats the initial +-inf
    assert sched.num_bad_epochs == 0 and sched.best == (-3.0 if mode == "max" else 1e6)
