"""Running the grid: one run's summary, the seeds of a setting trained stacked, local processes or Dask.

Example:
    >>> from tinygrad_lab.experiments import run_experiments
    >>> run_experiments("runs/experiments", quick=True)          # doctest: +SKIP
"""
from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..executors import executor
from ..lab import LabConfig, check_out_dir, run, run_seeds, seed_groups
from ..utils.checks import is_integer
from .grid import _Task, plan
from .report import _write_report

# ----------------------------------------------------------------------------------------------------
# one run
# ----------------------------------------------------------------------------------------------------

@dataclass
class RunSummary:
    """The numbers the report needs from one run (small enough to send between processes)."""
    group: str
    variant: str
    dataset: str
    seed: int
    n_points: int
    converged: bool
    train_accuracy: float
    test_accuracy: float
    final_loss: float
    epochs_run: int
    epochs_budget: int
    epochs_to_converge: int | None
    wrong_points: list[tuple[float, float]]
    seconds: float
    stop_reason: str
    curve: np.ndarray


def run_config(config: LabConfig) -> dict[str, Any]:
    """Train one configuration quietly and return its numbers.

    Example:
        >>> out = run_config(LabConfig(epochs=20, log_every=0))
        >>> out["epochs_run"], out["epochs_budget"], out["converged"] == (out["train_accuracy"] == 1.0)
        (20, 20, True)
    """
    started = time.perf_counter()
    result = run(config, quiet=True)
    return _numbers(config, result, time.perf_counter() - started)


def run_configs(configs: Sequence[LabConfig]) -> list[dict[str, Any]]:
    """Train configurations that differ only in their seed as one stacked model (what the workers run).

    Each one's numbers are those :func:`run_config` gives it (see :func:`tinygrad_lab.lab.run_seeds`);
    ``seconds`` is the stack's time shared out.

    Example:
        >>> outs = run_configs([LabConfig(epochs=20, log_every=0, seed=s) for s in range(2)])
        >>> [o["epochs_run"] for o in outs] == [run_config(LabConfig(epochs=20, log_every=0, seed=s))["epochs_run"]
        ...                                     for s in range(2)]
        True
    """
    started = time.perf_counter()
    results = run_seeds(configs)
    seconds = (time.perf_counter() - started) / max(len(configs), 1)
    return [_numbers(c, r, seconds) for c, r in zip(configs, results, strict=True)]


def _numbers(config: LabConfig, result: Any, seconds: float) -> dict[str, Any]:
    wrong = [] if result.train.correct is None else result.inputs[~result.train.correct]
    return {
        "converged": bool(result.converged),
        "train_accuracy": result.train.accuracy,
        "test_accuracy": math.nan if result.test is None else result.test.accuracy,
        "final_loss": result.history.final_loss,
        "epochs_run": result.history.epochs,
        "epochs_budget": config.epochs,
        "epochs_to_converge": result.history.converged_epoch,
        "wrong_points": [(round(float(x), 3), round(float(y), 3)) for x, y in wrong[:25]],
        "seconds": seconds,
        "stop_reason": result.history.stop_reason,
        "n_points": len(result.targets),
        "curve": np.asarray(result.history.loss, dtype=np.float32),
    }


# ----------------------------------------------------------------------------------------------------
# running
# ----------------------------------------------------------------------------------------------------

def _key(config: LabConfig) -> LabConfig:
    """The same configuration whatever way its learning rate was given (None = the default)."""
    return config if config.lr is not None else config.replace(lr=config.learning_rate)


def _cost(config: LabConfig, members: int) -> float:
    """A rough cost of training ``members`` seeds of ``config`` stacked (to start the longest first)."""
    n = config.n_points or 100
    steps = 1 if config.batch_size is None else -(-n // config.batch_size)
    width = sum(a * b for a, b in zip(config.layer_sizes[:-1], config.layer_sizes[1:]))
    return config.epochs * steps * (30.0 + members * (n if config.batch_size is None else config.batch_size)
                                    * width / 50.0)


def _blocks(configs: Sequence[LabConfig], jobs: int) -> list[list[LabConfig]]:
    """The configurations in stacks of seeds, big stacks split so that the workers finish together."""
    groups = [[configs[i] for i in g] for g in seed_groups(configs)]
    total = sum(_cost(g[0], len(g)) for g in groups)
    blocks = []
    for g in groups:
        parts = 1
        while parts < len(g) and _cost(g[0], -(-len(g) // parts)) > total / (4 * jobs):
            parts += 1
        size = -(-len(g) // parts)
        blocks += [g[i:i + size] for i in range(0, len(g), size)]
    return sorted(blocks, key=lambda b: -_cost(b[0], len(b)))


def _execute(tasks: Sequence[_Task], jobs: int, progress: Any, dask: Any = None) -> list[RunSummary]:
    """Run every distinct configuration once (groups share some, e.g. the base setting), seeds stacked."""
    distinct: dict[LabConfig, dict[str, Any] | None] = dict.fromkeys(_key(t.config) for t in tasks)
    blocks = _blocks(list(distinct), jobs)
    with executor(jobs, dask) as pool:
        futures = {pool.submit(run_configs, block): block for block in blocks}
        for future in as_completed(futures):
            block = futures[future]
            for config, result in zip(block, future.result(), strict=True):
                distinct[config] = result
            progress(len(block))
    summaries = []
    for t in tasks:
        numbers = distinct[_key(t.config)]
        if numbers is None:  # cannot happen: every distinct configuration ran above
            raise RuntimeError(f"experiments: no result for {t.config.name}")
        summaries.append(RunSummary(group=t.group, variant=t.variant, dataset=t.dataset, seed=t.seed, **numbers))
    return summaries


def _progress(total: int, quiet: bool, show: bool | None) -> tuple[Callable[[int], None], Callable[[], None]]:
    if quiet or show is False or (show is None and not sys.stderr.isatty()):
        return (lambda k: None), (lambda: None)
    from tqdm import tqdm
    bar = tqdm(total=total, unit="run", desc="experiments", dynamic_ncols=True)
    return bar.update, bar.close


def run_experiments(out_dir: str | os.PathLike = "runs/experiments", *, quick: bool = False,
                    seeds: int | None = None, epochs: int | None = None, jobs: int | None = None,
                    only: Iterable[str] | None = None, quiet: bool = False, progress: bool | None = None,
                    file: IO[str] | None = None, dask: Any = None) -> Path:
    """Run the grid (or the groups in ``only``) and write ``report.md``, figures and ``results.csv``.

    Args:
        out_dir: the folder of the report (created).
        quick: a fast subset (fewer variants, 3 seeds, at most 1,500 epochs, 3 data-scale sizes).
        seeds: seeds 0..seeds-1 per configuration (default 10, quick 3).
        epochs: override every epoch budget (for smoke tests).
        jobs: worker processes (default: the number of CPUs; 1 runs in this process).
        dask: run on a Dask cluster instead: a scheduler address (``"tcp://host:8786"``) or a
            ``distributed.Client`` (see :mod:`tinygrad_lab.executors`); the results are those of a local run.
        only: group keys to run (see :func:`group_names`).
        quiet: no progress bar and no summary lines; progress: True/False/None (None = on a terminal).
        file: where the summary lines go (default standard output).

    Returns the path of ``report.md``.
    """
    tasks = plan(quick=quick, seeds=seeds, epochs=epochs, only=only)
    if jobs is None:
        jobs = os.cpu_count() or 1
    if not is_integer(jobs) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    out = check_out_dir(out_dir)            # created and writable, before any training
    log = None if quiet else (file or sys.stdout)
    n_distinct = len({_key(t.config) for t in tasks})
    if dask is None:
        where = f"in {jobs} process{'es' * (jobs > 1)}"
    else:
        where = f"on the Dask cluster at {dask}" if isinstance(dask, str) else "on a Dask cluster"
    if log:
        print(f"running {n_distinct} distinct trainings ({len(tasks)} table entries) {where}, the seeds of each "
              "setting stacked...", file=log, flush=True)
    update, close = _progress(n_distinct, quiet, progress)
    started = time.perf_counter()
    try:
        summaries = _execute(tasks, jobs, update, dask)
    finally:
        close()
    seconds = time.perf_counter() - started
    report = _write_report(out, summaries, quick=quick, seconds=seconds, where=where, runs=n_distinct)
    if log:
        print(f"done in {seconds:.0f} s; report: {report}", file=log)
    return report
