"""The lab's experiment grid: change one thing at a time, train over several seeds, report.

Every group starts from the demo's configuration (2-4-4-1 sigmoid, MSE, plain SGD, Glorot-uniform
gain 4, lr 1 on the linear set and 5 on XOR-easy) and varies one setting: learning rate, hidden
units, hidden layers, activations on or off, which activation, optimizer, loss, initialisation,
batch size, learning-rate schedule; plus a data-scale study on the linear set. Each configuration
runs on both data sets for several seeds (the seeds of a setting trained at once as one stacked model,
see :mod:`tinygrad_lab.ensemble`), in parallel processes or on a Dask cluster, and :func:`run_experiments`
writes one ``report.md`` with a table and a figure per group.

A run *converged* when every training point is classified right at the end; its *epochs to
converge* is the first epoch with zero training errors. The share of seeds that converge makes
the local-minimum problem visible: some initialisations of the same network never get there.

Example:
    >>> from tinygrad_lab.experiments import GROUPS, run_experiments
    >>> [g.key for g in GROUPS][:3]
    ['learning_rate', 'hidden_units', 'hidden_layers']
    >>> run_experiments("runs/experiments", quick=True)          # doctest: +SKIP
    PosixPath('runs/experiments/report.md')
"""
from __future__ import annotations

import csv
import io
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from .executors import executor
from .lab import LabConfig, check_out_dir, demo_configs, run, run_seeds, seed_groups
from .utils.checks import is_integer
from .utils.files import write_atomic

__all__ = ["Variant", "ExperimentGroup", "GROUPS", "SCALE_SIZES", "RunSummary", "run_config", "run_configs",
           "plan", "run_experiments", "group_names"]


# ----------------------------------------------------------------------------------------------------
# the grid
# ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """One configuration of a group: a label and the config fields it changes.

    ``lr_scale`` multiplies the data set's base learning rate (e.g. 0.1 for momentum 0.9, which
    keeps the effective step of plain SGD).

    Example:
        >>> Variant("tanh", {"activation": "tanh"}).label
        'tanh'
    """
    label: str
    changes: dict[str, Any] = field(default_factory=dict)
    lr_scale: float | None = None
    quick: bool = True


@dataclass(frozen=True)
class ExperimentGroup:
    """A set of variants that differ in one setting, with the text the report shows for them.

    ``base`` changes every variant's starting configuration (e.g. a common learning rate);
    ``epochs`` replaces the demo's 5,000-epoch budget.

    Example:
        >>> GROUPS[0].title
        'Learning rate'
    """
    key: str
    title: str
    about: str
    variants: tuple[Variant, ...]
    base: dict[str, Any] = field(default_factory=dict)
    epochs: int | None = None


_SQRT2 = math.sqrt(2.0)

GROUPS: tuple[ExperimentGroup, ...] = (
    ExperimentGroup(
        "learning_rate", "Learning rate",
        "Plain SGD with different step sizes. Too small a rate has not finished within the epoch budget; "
        "a larger one converges in fewer epochs; too large a rate makes the loss oscillate. On XOR-easy a "
        "larger step also lets more runs escape the plateau where one point stays wrong.",
        (Variant("0.1", {"lr": 0.1}), Variant("0.5", {"lr": 0.5}, quick=False), Variant("1", {"lr": 1.0}),
         Variant("2", {"lr": 2.0}, quick=False), Variant("5", {"lr": 5.0}), Variant("10", {"lr": 10.0}, quick=False))),
    ExperimentGroup(
        "hidden_units", "Hidden units (two hidden layers)",
        "Wider layers give gradient descent more ways to reach a solution: fewer runs get stuck, at a "
        "higher cost per epoch. Two units per layer are barely enough for XOR.",
        (Variant("2-2", {"hidden": (2, 2)}), Variant("4-4", {"hidden": (4, 4)}),
         Variant("8-8", {"hidden": (8, 8)}, quick=False), Variant("16-16", {"hidden": (16, 16)}))),
    ExperimentGroup(
        "hidden_layers", "Number of hidden layers (4 units each)",
        "No hidden layer is logistic regression: a straight boundary, right for the linear set and "
        "unable to separate XOR. One hidden layer is already enough for both; deeper sigmoid stacks "
        "train more slowly because each sigmoid shrinks the gradient (at most 1/4 per layer).",
        (Variant("0", {"hidden": ()}), Variant("1", {"hidden": (4,)}), Variant("2", {"hidden": (4, 4)}, quick=False),
         Variant("3", {"hidden": (4, 4, 4)}), Variant("4", {"hidden": (4, 4, 4, 4)}, quick=False))),
    ExperimentGroup(
        "activation_on_off", "With vs without activation functions",
        "Without activations the hidden layers are linear, so the whole network (before its output "
        "sigmoid) is one linear map: it fits the linear set and can never separate XOR.",
        (Variant("sigmoid", {"activation": "sigmoid"}), Variant("none", {"activation": "none"}))),
    ExperimentGroup(
        "activation", "Sigmoid vs tanh vs ReLU (lr 1, Glorot init with each one's gain)",
        "Same learning rate for all; each activation gets the Glorot gain suited to it (sigmoid 4, tanh "
        "5/3, ReLU sqrt 2). tanh is centred at 0 and has four times sigmoid's slope, so it usually trains "
        "faster; ReLU units can die (output 0 for every input), which stalls small networks.",
        (Variant("sigmoid", {"activation": "sigmoid", "init_gain": 4.0}),
         Variant("tanh", {"activation": "tanh", "init_gain": 5.0 / 3.0}),
         Variant("relu", {"activation": "relu", "init_gain": _SQRT2}),
         Variant("leaky_relu", {"activation": "leaky_relu", "init_gain": _SQRT2}, quick=False)),
        base={"lr": 1.0}),
    ExperimentGroup(
        "optimizer", "SGD vs momentum vs Adam",
        "Momentum (0.9, with a tenth of the SGD rate so the long-run step is the same) and Adam (lr 0.01) "
        "against plain SGD. Adam rescales each parameter's step by its gradient history, which helps on "
        "the flat plateaus of sigmoid networks.",
        (Variant("sgd", {"optimizer": "sgd"}), Variant("momentum", {"optimizer": "momentum"}, lr_scale=0.1),
         Variant("adam", {"optimizer": "adam", "lr": 0.01}))),
    ExperimentGroup(
        "loss", "MSE vs MAE vs BCE",
        "Mean squared error, mean absolute error (L1) and binary cross-entropy on the same sigmoid "
        "output. With MSE the output sigmoid's slope multiplies the gradient, so a confidently wrong "
        "point learns slowly; BCE cancels that factor. MAE's gradient does not shrink near the target.",
        (Variant("mse", {"loss": "mse"}), Variant("mae", {"loss": "mae"}), Variant("bce", {"loss": "bce"}))),
    ExperimentGroup(
        "init", "Zero vs random vs Glorot initialisation",
        "With every weight zero all hidden units of a layer compute the same thing and receive the same "
        "gradient, so they stay identical forever (the symmetry problem): the network acts as if each "
        "layer had one unit and cannot learn XOR. Random initialisation breaks the symmetry; how large "
        "the random weights are changes how often training gets stuck.",
        (Variant("zeros", {"init": "zeros"}), Variant("PyTorch default", {"init": "default"}),
         Variant("Glorot (gain 1)", {"init": "xavier", "init_gain": 1.0}, quick=False),
         Variant("Glorot gain 4 (demo)", {"init": "xavier", "init_gain": 4.0}))),
    ExperimentGroup(
        "batch_size", "Full batch vs mini-batch vs online updates (lr 1, stop at zero errors)",
        "The same learning rate with one update per epoch (full batch), one per 8 points (mini-batch) "
        "or one per point (online). More updates per epoch converge in fewer epochs, but each epoch costs "
        "more; the noise of small batches can also shake a run off a plateau. Runs stop at zero errors, "
        "so the final loss is the loss at that moment.",
        (Variant("full", {"batch_size": None}), Variant("mini-batch 8", {"batch_size": 8}),
         Variant("online (1)", {"batch_size": 1})),
        base={"lr": 1.0, "stop_at_zero_errors": True}, epochs=2000),
    ExperimentGroup(
        "lr_schedule", "Fixed vs decaying learning rate",
        "A fixed rate, one halved every quarter of the budget (step), and one halved whenever the loss "
        "stops improving (plateau). Smaller late steps settle into the minimum; halving too early can "
        "leave a run on a plateau for longer.",
        (Variant("fixed", {"lr_schedule": "none"}), Variant("step (halve every epochs/4)", {"lr_schedule": "step"},
                                                            quick=False),
         Variant("plateau (halve on stall)", {"lr_schedule": "plateau"}))),
)

#: The training-set sizes of the data-scale study (linear set, grown by 100 points at a time).
SCALE_SIZES = tuple(range(100, 1001, 100))
_QUICK_SCALE_SIZES = (100, 200, 300)
_SCALE_EPOCHS = 10000
_QUICK = {"seeds": 3, "epochs": 1500}
_FULL = {"seeds": 10}
#: The data sets every configuration of the grid runs on (names from `tinygrad_lab.data.DATASETS`).
EXPERIMENT_DATASET_NAMES = ("linear", "xor_easy")


def group_names() -> list[str]:
    """The group keys accepted by ``only=`` (and ``"data_scale"`` for the data-scale study).

    Example:
        >>> group_names()[-1]
        'data_scale'
    """
    return [g.key for g in GROUPS] + ["data_scale"]


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
# planning
# ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Task:
    group: str
    variant: str
    dataset: str
    seed: int
    config: LabConfig


def _base_config(dataset: str) -> LabConfig:
    return {c.dataset: c for c in demo_configs()}[dataset].replace(log_every=0)


def plan(quick: bool = False, seeds: int | None = None, epochs: int | None = None,
         only: Iterable[str] | None = None) -> list[_Task]:
    """The list of runs: one per (group, variant, data set, seed), and the data-scale study.

    Example:
        >>> tasks = plan(quick=True, seeds=1, only=["loss"])
        >>> [(t.variant, t.dataset) for t in tasks][:2]
        [('mse', 'linear'), ('mse', 'xor_easy')]
    """
    chosen = _check_only(only)
    n_seeds = seeds if seeds is not None else (_QUICK if quick else _FULL)["seeds"]
    if not is_integer(n_seeds) or n_seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {n_seeds!r}")
    if epochs is not None and (not is_integer(epochs) or epochs < 1):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    tasks: list[_Task] = []
    for group in GROUPS:
        if group.key not in chosen:
            continue
        budget = epochs or (min(group.epochs or 5000, _QUICK["epochs"]) if quick else group.epochs)
        for variant in group.variants:
            if quick and not variant.quick:
                continue
            for dataset in EXPERIMENT_DATASET_NAMES:
                base = _base_config(dataset)
                changes = {**group.base, **variant.changes}
                if variant.lr_scale is not None:
                    changes["lr"] = base.learning_rate * variant.lr_scale
                if budget:
                    changes["epochs"] = budget
                config = base.replace(**changes)
                for seed in range(n_seeds):
                    tasks.append(_Task(group.key, variant.label, dataset, seed, config.replace(seed=seed)))
    if "data_scale" in chosen:
        sizes = _QUICK_SCALE_SIZES if quick else SCALE_SIZES
        budget = epochs or (_QUICK["epochs"] * 2 if quick else _SCALE_EPOCHS)
        base = _base_config("linear").replace(stop_at_zero_errors=True, epochs=budget)
        for size in sizes:
            for seed in range(n_seeds):
                tasks.append(_Task("data_scale", str(size), "linear", seed,
                                   base.replace(n_points=size, seed=seed)))
    return tasks


def _check_only(only: Iterable[str] | None) -> set[str]:
    names = group_names()
    if only is None:
        return set(names)
    chosen = set(only)
    unknown = sorted(chosen - set(names))
    if unknown:
        raise ValueError(f"unknown experiment group(s): {', '.join(unknown)}; choose from: {', '.join(names)}")
    if not chosen:
        raise ValueError("no experiment group chosen")
    return chosen


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


# ----------------------------------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------------------------------

def _mean_sd(values: Sequence[float], percent: bool = False, digits: int = 4) -> str:
    arr = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if arr.size == 0:
        return "-"
    scale = 100.0 if percent else 1.0
    mean, sd = scale * arr.mean(), scale * arr.std()
    if percent:
        return f"{mean:.1f} ± {sd:.1f}%"
    return f"{mean:.{digits}g} ± {sd:.2g}"


def _median_iqr(values: Sequence[int | None]) -> str:
    arr = np.array([v for v in values if v is not None], dtype=np.float64)
    if arr.size == 0:
        return "never"
    q1, med, q3 = np.percentile(arr, [25, 50, 75])
    return f"{med:.0f} ({q1:.0f}–{q3:.0f})"


def _share(runs: Sequence[RunSummary]) -> tuple[int, int]:
    return sum(r.converged for r in runs), len(runs)


def _nan_median_curve(runs: Sequence[RunSummary]) -> np.ndarray:
    length = max((len(r.curve) for r in runs), default=0)
    if length == 0:
        return np.array([])
    stack = np.full((len(runs), length), np.nan)
    for i, r in enumerate(runs):
        stack[i, :len(r.curve)] = r.curve
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(stack, axis=0)


def _group_table(group_runs: dict[tuple[str, str], list[RunSummary]], variants: Sequence[str]) -> list[str]:
    lines = ["| variant | data | converged | training accuracy | held-out accuracy | final loss | "
             "epochs to converge: median (IQR) | time per run |",
             "|---|---|---|---|---|---|---|---|"]
    for variant in variants:
        for dataset in EXPERIMENT_DATASET_NAMES:
            runs = group_runs.get((variant, dataset))
            if not runs:
                continue
            ok, n = _share(runs)
            diverged = sum(r.stop_reason == "diverged" for r in runs)
            conv = f"**{ok}/{n}** ({100 * ok / n:.0f}%)" + (f", {diverged} diverged" if diverged else "")
            lines.append(
                f"| {variant} | {dataset} | {conv} | {_mean_sd([r.train_accuracy for r in runs], True)} | "
                f"{_mean_sd([r.test_accuracy for r in runs], True)} | "
                f"{_mean_sd([r.final_loss for r in runs])} | "
                f"{_median_iqr([r.epochs_to_converge for r in runs if r.converged])} | "
                f"{np.mean([r.seconds for r in runs]):.2f} s |")
    return lines


def _finding(group_runs: dict[tuple[str, str], list[RunSummary]], variants: Sequence[str]) -> str:
    """A one-line, data-driven summary of the group on XOR-easy: most and fewest converging seeds."""
    scored = []
    for variant in variants:
        runs = group_runs.get((variant, "xor_easy"))
        if runs:
            ok, n = _share(runs)
            epochs = [r.epochs_to_converge for r in runs if r.converged and r.epochs_to_converge]
            scored.append((ok / n, variant, ok, n, float(np.median(epochs)) if epochs else math.inf))
    if len(scored) < 2:
        return ""
    best_share, worst_share = max(s[0] for s in scored), min(s[0] for s in scored)
    best = [s for s in scored if s[0] == best_share]
    fastest = min(best, key=lambda s: s[4])
    text = (f"In this run, on XOR-easy: most converging seeds {best[0][2]}/{best[0][3]} "
            f"({', '.join(s[1] for s in best)})")
    if math.isfinite(fastest[4]) and len(best) > 1:
        text += f", fastest of those {fastest[1]} (median {fastest[4]:.0f} epochs)"
    if worst_share < best_share:
        worst = [s for s in scored if s[0] == worst_share]
        text += f"; fewest {worst[0][2]}/{worst[0][3]} ({', '.join(s[1] for s in worst)})"
    return text + "."


def _local_minimum_section(summaries: Sequence[RunSummary]) -> list[str]:
    xor_runs = [r for r in summaries if r.dataset == "xor_easy" and r.group != "data_scale"]
    lines = ["## Why some seeds do not converge: local minima and plateaus", "",
             "The loss of a neural network is not convex. Depending on where the random initial weights put "
             "it, gradient descent can settle in a valley where a few training points stay on the wrong side "
             "(a local minimum), or crawl across a nearly flat region (a plateau) for longer than the epoch "
             "budget. The same network, data and learning rate then converge for one seed and not for "
             "another, which is why every configuration below runs over several seeds and reports the "
             "**share of seeds that converge** next to the mean accuracy.", ""]
    if xor_runs:
        lines += [stuck_runs_text(xor_runs), ""]
    return lines


def stuck_runs_text(runs: Sequence[RunSummary]) -> str:
    """What the XOR-easy runs that did not converge have in common, in sentences made from their numbers only.

    Example:
        >>> def run(group, wrong):
        ...     return RunSummary(group, "v", "xor_easy", 0, 21, not wrong, 1 - len(wrong) / 21, math.nan, 0.04,
        ...                       10, 10, None, wrong, 0.0, "max_epochs", np.zeros(0))
        >>> print(stuck_runs_text([run("lr", [(0.5, 0.5)]), run("lr", [(0.5, 0.5)]), run("init", [])]))
        2 of 3 XOR-easy runs did not converge. Both ended with exactly one point wrong, the middle point
        (0.5, 0.5) in both: ...
    """
    stuck = [r for r in runs if not r.converged]
    if not stuck:
        return f"All {len(runs)} XOR-easy runs converged: none got stuck."
    n = len(stuck)
    text = [f"{n} of {len(runs)} XOR-easy run{'s' * (len(runs) != 1)} did not converge."]
    one_wrong = [r for r in stuck if len(r.wrong_points) == 1]
    if one_wrong:
        k = len(one_wrong)
        who = ("It" if n == 1 else "Both" if n == 2 else "All") if k == n else f"{k} of them"
        sentence = f"{who} ended with exactly one point wrong"
        at_middle = [r for r in one_wrong if r.wrong_points[0] == (0.5, 0.5)]
        if at_middle:
            where = ("" if k == 1 else " in both" if k == 2 else " in all") if len(at_middle) == k \
                else f" in {len(at_middle)}"
            loss = float(np.median([r.final_loss for r in at_middle]))
            sentence += (f", the middle point (0.5, 0.5){where}: the local minimum where one straight-ish boundary "
                         f"leaves the middle point on the wrong side (median final loss {loss:.3g}; a mean squared "
                         "error of 1/21 * 0.9^2 ≈ 0.04 is that state)")
        text.append(sentence + ".")
    else:
        wrong_counts = Counter(len(r.wrong_points) for r in stuck)
        k, times = min(wrong_counts.items(), key=lambda item: (-item[1], item[0]))
        text.append(f"None ended with exactly one point wrong; the most common outcome was {k} point"
                    f"{'s' * (k != 1)} wrong ({times} of {n} runs).")
    counts = Counter(p for r in stuck for p in r.wrong_points)
    if counts:
        common = ", ".join(f"({x:g}, {y:g}) in {k} run{'s' * (k != 1)}" for (x, y), k in counts.most_common(3))
        text.append(f"Points most often left wrong: {common}.")
    settings = Counter(f"{r.group}: {r.variant}" for r in stuck)
    if len(settings) > 1:
        text.append("Settings with the most stuck runs: "
                    + ", ".join(f"{name} ({k})" for name, k in settings.most_common(3)) + ".")
    return " ".join(text)


def _scale_section(summaries: Sequence[RunSummary], out: Path) -> list[str]:
    from . import plots

    runs = [r for r in summaries if r.group == "data_scale"]
    if not runs:
        return []
    sizes = sorted({r.n_points for r in runs})
    budget = max(r.epochs_budget for r in runs)
    lines = ["## Data scale: epochs to zero errors as the linear set grows", "",
             "The linear set grown by 100 points at a time (fresh points for each seed, the demo's linear "
             "setting, lr 1), each run stopped at the first epoch with zero training errors. More points "
             "means points closer to the true boundary x = y, so the network must place its boundary more "
             f"precisely and needs more epochs. Budget: {budget} epochs.", "",
             "| training points | reached zero errors | epochs to zero errors: median (IQR) | "
             "held-out accuracy | time per run |", "|---|---|---|---|---|"]
    per_size = []
    for size in sizes:
        group = [r for r in runs if r.n_points == size]
        ok, n = _share(group)
        lines.append(f"| {size} | {ok}/{n} | {_median_iqr([r.epochs_to_converge for r in group])} | "
                     f"{_mean_sd([r.test_accuracy for r in group], True)} | "
                     f"{np.mean([r.seconds for r in group]):.2f} s |")
        per_size.append([math.nan if r.epochs_to_converge is None else float(r.epochs_to_converge)
                         for r in group])
    figure = plots.plot_scale_study(sizes, per_size, out / "data_scale.png", budget=budget)
    lines += ["", f"![epochs to zero errors vs training-set size]({figure.name})", ""]
    return lines


def _results_csv(summaries: Sequence[RunSummary]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["group", "variant", "dataset", "seed", "n_points", "converged", "train_accuracy",
                     "test_accuracy", "final_loss", "epochs_run", "epochs_budget", "epochs_to_converge",
                     "stop_reason", "seconds"])
    for r in summaries:
        writer.writerow([r.group, r.variant, r.dataset, r.seed, r.n_points, int(r.converged),
                         f"{r.train_accuracy:.6f}", f"{r.test_accuracy:.6f}", f"{r.final_loss:.6g}", r.epochs_run,
                         r.epochs_budget, "" if r.epochs_to_converge is None else r.epochs_to_converge, r.stop_reason,
                         f"{r.seconds:.3f}"])
    return buffer.getvalue()


def _write_report(out: Path, summaries: Sequence[RunSummary], *, quick: bool, seconds: float, where: str,
                  runs: int) -> Path:
    from . import plots

    seeds = len({r.seed for r in summaries})
    budgets = sorted({r.epochs_budget for r in summaries if r.group not in ("data_scale", "batch_size")})
    budget = f"{budgets[-1]:,} epochs" if budgets else "5,000 epochs"
    lines = ["# The back-propagation lab: experiments", "",
             f"{'Quick subset' if quick else 'Full grid'}: {runs} trainings, {seeds} seeds per configuration "
             f"(seeds 0..{seeds - 1}), {seconds:.0f} s {where}. "
             "Reproduce with `tinygrad-lab experiments" + (" --quick" if quick else "") + "`.", "",
             "Every group starts from the demo's setting — the 2-4-4-1 sigmoid network, MSE loss, plain SGD, "
             f"Glorot-uniform weights of gain 4 and zero biases, {budget}, learning rate 1 on the linear set "
             "(100 points, different for each seed, held-out accuracy on 1,000 new points) and 5 on XOR-easy "
             "(the 21 fixed points) — and changes one thing.", "",
             "How to read the tables: **converged** is the number of seeds whose network classifies every "
             "training point right at the end; accuracy, held-out accuracy and final loss are mean ± standard "
             "deviation over all seeds; epochs to converge is the median (and interquartile range) of the first "
             "epoch with zero training errors, over the seeds that converged. The left plot of each group shows "
             "the share of converging seeds, the right one the median loss per epoch on XOR-easy.", ""]
    lines += _local_minimum_section(summaries)
    by_group: dict[str, dict[tuple[str, str], list[RunSummary]]] = {}
    for r in summaries:
        by_group.setdefault(r.group, {}).setdefault((r.variant, r.dataset), []).append(r)
    for group in GROUPS:
        group_runs = by_group.get(group.key)
        if not group_runs:
            continue
        variants = [v.label for v in group.variants if any(k[0] == v.label for k in group_runs)]
        lines += [f"## {group.title}", "", group.about, ""]
        lines += _group_table(group_runs, variants)
        finding = _finding(group_runs, variants)
        if finding:
            lines += ["", finding]
        shares = {d: [_share(group_runs[(v, d)])[0] / len(group_runs[(v, d)]) for v in variants]
                  for d in EXPERIMENT_DATASET_NAMES if all((v, d) in group_runs for v in variants)}
        curves = {v: _nan_median_curve(group_runs.get((v, "xor_easy"), [])) for v in variants}
        figure = plots.plot_experiment_group(group.title, variants, shares, curves, out / f"{group.key}.png",
                                             curve_label="XOR-easy")
        lines += ["", f"![{group.title}]({figure.name})", ""]
    lines += _scale_section(summaries, out)
    lines += ["Every run's numbers are in [results.csv](results.csv).", ""]
    write_atomic(out / "results.csv", _results_csv(summaries))
    report = out / "report.md"
    write_atomic(report, "\n".join(lines))
    return report
