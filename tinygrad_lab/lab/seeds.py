"""Many seeds of one lab configuration trained as one stacked model (see :mod:`tinygrad_lab.ensemble`).

:func:`run_seeds` returns what :func:`run` returns for each configuration, with the
same numbers (each seed's initial parameters, data, mini-batch order, learning-rate schedule and
stopping epoch are its own), in a fraction of the time: the seeds share every NumPy call.

Example:
    >>> from tinygrad_lab.lab import LabConfig
    >>> results = run_seeds([LabConfig(epochs=50, seed=s) for s in range(3)])
    >>> [r.config.seed for r in results], [r.history.epochs for r in results]
    ([0, 1, 2], [50, 50, 50])
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .. import ensemble, nn
from ..data import InputScaler
from ..train import evaluate
from .config import LabConfig
from .model import build_model, make_loss, make_optimizer, make_scheduler
from .run import RunResult, prepare_data

__all__ = ["run_seeds", "seed_groups"]

#: Members per stack: large enough that Python's per-op cost is shared, small enough to stay in cache.
CHUNK = 128


class _Parameters(nn.Module):
    """What ``make_optimizer`` needs from a model: its parameters (here the stacked ones)."""

    def __init__(self, params: list) -> None:
        super().__init__()
        self._stacked = params

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]:
        return iter(self._stacked)


def _without_seed(config: LabConfig) -> LabConfig:
    return config.replace(seed=0, name="-")


def seed_groups(configs: Iterable[LabConfig]) -> list[list[int]]:
    """Indices of ``configs`` grouped by everything but the seed (and name), in first-seen order.

    Example:
        >>> from tinygrad_lab.lab import LabConfig
        >>> seed_groups([LabConfig(seed=0), LabConfig(lr=1.0), LabConfig(seed=1)])
        [[0, 2], [1]]
    """
    groups: dict[LabConfig, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(_without_seed(config), []).append(i)
    return list(groups.values())


def run_seeds(configs: Sequence[LabConfig], chunk: int = CHUNK) -> list[RunResult]:
    """Train ``configs`` (the same setting with different seeds) as stacked models; one RunResult each.

    Configurations that differ in more than the seed are refused (group them with :func:`seed_groups`).
    Runs are quiet (no log, no progress bar); ``history.seconds`` is the stack's time shared out.
    """
    if not configs:
        return []
    key = _without_seed(configs[0])
    for c in configs:
        if _without_seed(c) != key:
            raise ValueError(f"run_seeds: configurations must differ only in their seed; {c.name!r} differs "
                             f"from {configs[0].name!r} in more (use seed_groups to group them)")
    results: list[RunResult] = []
    for start in range(0, len(configs), chunk):
        results += _run_chunk(configs[start:start + chunk])
    return results


def _run_chunk(configs: Sequence[LabConfig]) -> list[RunResult]:
    config = configs[0]
    data = [prepare_data(c) for c in configs]
    scalers = [InputScaler(c.scale_inputs).fit(d[0]) for c, d in zip(configs, data, strict=True)]
    models = [build_model(c) for c in configs]
    scheduler: Any = None
    if config.lr_schedule != "none":
        def scheduler(optimizer: Any) -> Any:
            return make_scheduler(config, optimizer)
    histories = ensemble.fit(
        models, [s.transform(d[0]) for s, d in zip(scalers, data, strict=True)], [d[1] for d in data],
        make_loss(config), lambda params: make_optimizer(config, _Parameters(params)), config.epochs,
        batch_size=config.batch_size, scheduler=scheduler, target_loss=config.target_loss,
        target_accuracy=1.0 if config.stop_at_zero_errors else None, seeds=[c.seed for c in configs])
    results = []
    for c, (inputs, targets, test_inputs, test_targets), scaler, model, history in zip(
            configs, data, scalers, models, histories, strict=True):
        train = evaluate(model, scaler.transform(inputs), targets)
        test = None if test_inputs is None else evaluate(model, scaler.transform(test_inputs), test_targets)
        results.append(RunResult(c, model, make_loss(c), history, scaler, inputs, targets, train, test_inputs,
                                 test_targets, test))
    return results
