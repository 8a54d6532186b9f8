"""The experiments report: tables, findings and figures written from the measured runs (`report.md`).

Example:
    >>> _median_iqr([10, 20, 30])       # epochs to converge: median (interquartile range)
    '20 (15–25)'
"""
from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..utils.files import write_atomic
from ..utils.tables import markdown_table
from .grid import EXPERIMENT_DATASET_NAMES, GROUPS

if TYPE_CHECKING:
    from .runner import RunSummary

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
    rows = []
    for variant in variants:
        for dataset in EXPERIMENT_DATASET_NAMES:
            runs = group_runs.get((variant, dataset))
            if not runs:
                continue
            ok, n = _share(runs)
            diverged = sum(r.stop_reason == "diverged" for r in runs)
            conv = f"**{ok}/{n}** ({100 * ok / n:.0f}%)" + (f", {diverged} diverged" if diverged else "")
            rows.append([variant, dataset, conv, _mean_sd([r.train_accuracy for r in runs], True),
                         _mean_sd([r.test_accuracy for r in runs], True), _mean_sd([r.final_loss for r in runs]),
                         _median_iqr([r.epochs_to_converge for r in runs if r.converged]),
                         f"{np.mean([r.seconds for r in runs]):.2f} s"])
    return markdown_table(["variant", "data", "converged", "training accuracy", "held-out accuracy", "final loss",
                           "epochs to converge: median (IQR)", "time per run"], rows)


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
        >>> from tinygrad_lab.experiments import RunSummary
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
    from .. import plots

    runs = [r for r in summaries if r.group == "data_scale"]
    if not runs:
        return []
    sizes = sorted({r.n_points for r in runs})
    budget = max(r.epochs_budget for r in runs)
    lines = ["## Data scale: epochs to zero errors as the linear set grows", "",
             "The linear set grown by 100 points at a time (fresh points for each seed, the demo's linear "
             "setting, lr 1), each run stopped at the first epoch with zero training errors. More points "
             "means points closer to the true boundary x = y, so the network must place its boundary more "
             f"precisely and needs more epochs. Budget: {budget} epochs.", ""]
    rows, per_size = [], []
    for size in sizes:
        group = [r for r in runs if r.n_points == size]
        ok, n = _share(group)
        rows.append([str(size), f"{ok}/{n}", _median_iqr([r.epochs_to_converge for r in group]),
                     _mean_sd([r.test_accuracy for r in group], True), f"{np.mean([r.seconds for r in group]):.2f} s"])
        per_size.append([math.nan if r.epochs_to_converge is None else float(r.epochs_to_converge)
                         for r in group])
    lines += markdown_table(["training points", "reached zero errors", "epochs to zero errors: median (IQR)",
                             "held-out accuracy", "time per run"], rows)
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
    from .. import plots

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
