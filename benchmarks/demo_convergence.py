"""How often do the demo's defaults converge? Train the demo's two networks for seeds 0..99.

For every seed it runs exactly what `tinygrad-lab demo --seed SEED` runs (the linear set of that
seed, 100 points, and XOR-easy) and records:

* XOR-easy: did every one of the 21 points end up right?
* linear: training accuracy (bar: >= 99 %) and accuracy on a held-out set of 1,000 new points
  (bar: >= 97 %).

The quality bar is: at least 95 seeds of 100 reach each of these. `--classic` measures the
textbook setting instead (PyTorch's default init, learning rate 1, 20,000 epochs), which gets stuck
about one time in ten on XOR-easy. `--reference` adds, for the linear held-out bar, an ideal linear
classifier (logistic regression trained to convergence) on the same data, showing how much of the
held-out error comes from having only 100 training points.

The seeds of one setting train together as one stacked model (`tinygrad_lab.lab.run_seeds`,
each seed's numbers exactly those of its lone run); `--single` trains them one by one as before, and
`--compare` does both and checks that every seed's verdicts and final losses agree.

Usage:
    python benchmarks/demo_convergence.py               # the demo's defaults, seeds 0..99, 2 processes
    python benchmarks/demo_convergence.py --seeds 1000  # seeds 0..999
    python benchmarks/demo_convergence.py --classic     # the textbook setting
    python benchmarks/demo_convergence.py --compare     # stacked vs one by one: identical verdicts?
    python benchmarks/demo_convergence.py --seeds 20 --jobs 4 --json results.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from tinygrad_lab.lab import demo_configs, prepare_data, run, run_seeds


def configs_for(seed: int, classic: bool, epochs: int | None) -> list:
    configs = demo_configs(seed=seed)
    if classic:
        configs = [c.replace(init="default", lr=1.0, epochs=20000) for c in configs]
    if epochs is not None:
        configs = [c.replace(epochs=epochs) for c in configs]
    return configs


def logistic_reference(config) -> float:
    """Held-out accuracy of a logistic regression (an ideal linear model) on the same linear data."""
    inputs, targets, test_inputs, test_targets = prepare_data(config)
    x, y = inputs - 0.5, targets
    w, b = np.zeros((2, 1)), 0.0
    for _ in range(20000):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = (p - y) / len(x)
        w -= 20.0 * x.T @ g
        b -= 20.0 * float(g.sum())
    predicted = ((test_inputs - 0.5) @ w + b) > 0
    return float((predicted == (test_targets > 0.5)).mean())


def _row(seed: int, xor: object | None, linear: object | None, linear_cfg: object, reference: bool,
         seconds: float) -> dict:
    row: dict = {"seed": seed}
    if xor is not None:
        row.update({
            "xor_accuracy": xor.train.accuracy,
            "xor_wrong_points": [i for i, ok in enumerate(xor.train.correct) if not ok],
            "xor_final_loss": xor.history.final_loss,
            "xor_epochs_to_zero_errors": xor.history.converged_epoch,
        })
    if linear is not None:
        row.update({"linear_train_accuracy": linear.train.accuracy,
                    "linear_heldout_accuracy": linear.test.accuracy,
                    "linear_final_loss": linear.history.final_loss})
        if reference:
            row["linear_heldout_logistic_reference"] = logistic_reference(linear_cfg)
    row["seconds"] = seconds
    return row


def one_seed(args: tuple[int, bool, int | None, bool, tuple[str, ...]]) -> dict:
    """Train one seed's runs one by one (the lone runs of `tinygrad-lab demo`)."""
    seed, classic, epochs, reference, datasets = args
    linear_cfg, xor_cfg = configs_for(seed, classic, epochs)
    started = time.perf_counter()
    xor = run(xor_cfg, quiet=True) if "xor_easy" in datasets else None
    linear = run(linear_cfg, quiet=True) if "linear" in datasets else None
    return _row(seed, xor, linear, linear_cfg, reference, time.perf_counter() - started)


def seed_block(args: tuple[list[int], bool, int | None, bool, tuple[str, ...]]) -> list[dict]:
    """Train a block of seeds, each data set's runs stacked into one model."""
    seeds, classic, epochs, reference, datasets = args
    configs = [configs_for(seed, classic, epochs) for seed in seeds]
    started = time.perf_counter()
    # XOR-easy's 21 points make small arrays: bigger stacks share each NumPy call's fixed cost further
    xors = run_seeds([c[1] for c in configs], chunk=512) if "xor_easy" in datasets else [None] * len(seeds)
    linears = run_seeds([c[0] for c in configs]) if "linear" in datasets else [None] * len(seeds)
    seconds = (time.perf_counter() - started) / len(seeds)
    return [_row(seed, xor, linear, c[0], reference, seconds)
            for seed, xor, linear, c in zip(seeds, xors, linears, configs, strict=True)]


def compare(stacked: list[dict], single: list[dict]) -> list[str]:
    """Differences between the stacked and the one-by-one rows (verdicts exactly, losses to 1e-10)."""
    problems = []
    for a, b in zip(stacked, single, strict=True):
        for key in ("xor_accuracy", "xor_epochs_to_zero_errors", "linear_train_accuracy", "linear_heldout_accuracy"):
            if a.get(key) != b.get(key):
                problems.append(f"seed {a['seed']}: {key} {a.get(key)} stacked vs {b.get(key)} alone")
        for key in ("xor_final_loss", "linear_final_loss"):
            if key in a and abs(a[key] - b[key]) > 1e-10 * max(abs(b[key]), 1e-300):
                problems.append(f"seed {a['seed']}: {key} {a[key]!r} stacked vs {b[key]!r} alone")
    return problems


def summarize(rows: list[dict], reference: bool) -> dict:
    summary: dict = {"seeds": len(rows), "seconds_per_seed": float(np.mean([r["seconds"] for r in rows]))}
    has_xor, has_linear = "xor_accuracy" in rows[0], "linear_train_accuracy" in rows[0]
    ok = [True] * len(rows)
    if has_xor:
        xor_ok = [r["xor_accuracy"] == 1.0 for r in rows]
        ok = [a and b for a, b in zip(ok, xor_ok, strict=True)]
        epochs = [r["xor_epochs_to_zero_errors"] for r in rows if r["xor_epochs_to_zero_errors"] is not None]
        summary.update({
            "xor_easy_100_percent": sum(xor_ok),
            "xor_failures": [r["seed"] for r in rows if r["xor_accuracy"] < 1.0],
            "median_xor_epochs_to_zero_errors": float(np.median(epochs or [np.nan])),
        })
    if has_linear:
        train_ok = [r["linear_train_accuracy"] >= 0.99 for r in rows]
        held_ok = [r["linear_heldout_accuracy"] >= 0.97 for r in rows]
        ok = [a and b and c for a, b, c in zip(ok, train_ok, held_ok, strict=True)]
        summary.update({
            "linear_train_at_least_99": sum(train_ok),
            "linear_heldout_at_least_97": sum(held_ok),
            "linear_heldout_mean": float(np.mean([r["linear_heldout_accuracy"] for r in rows])),
        })
        if reference:
            summary["logistic_reference_heldout_at_least_97"] = sum(
                r["linear_heldout_logistic_reference"] >= 0.97 for r in rows)
    if has_xor and has_linear:
        summary["all_three"] = sum(ok)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100, help="how many seeds (default 100)")
    parser.add_argument("--start", type=int, default=0, help="first seed (default 0: seeds 0..99)")
    parser.add_argument("--datasets", default="linear,xor_easy",
                        help="comma-separated: linear, xor_easy (default both)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--classic", action="store_true",
                        help="PyTorch default init, lr 1, 20,000 epochs instead of the demo's defaults")
    parser.add_argument("--epochs", type=int, default=None, help="override the number of epochs")
    parser.add_argument("--reference", action="store_true",
                        help="also train a logistic regression on each linear set (the held-out ceiling)")
    parser.add_argument("--json", default=None, help="write per-seed rows and the summary to this file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--single", action="store_true", help="train the seeds one by one (no stacking)")
    mode.add_argument("--compare", action="store_true",
                      help="train stacked and one by one; check that every seed's results agree")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1 or args.start < 0:
        parser.error("--seeds and --jobs must be positive, --start non-negative")
    datasets = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    if not datasets or set(datasets) - {"linear", "xor_easy"}:
        parser.error(f"--datasets takes linear and/or xor_easy, got {args.datasets!r}")

    seeds = range(args.start, args.start + args.seeds)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        single = None
        if args.single or args.compare:
            single = list(pool.map(one_seed, [(seed, args.classic, args.epochs, args.reference, datasets)
                                              for seed in seeds]))
        rows = single
        if not args.single:
            size = -(-len(seeds) // args.jobs)          # one block of seeds per process
            blocks = [list(seeds[i:i + size]) for i in range(0, len(seeds), size)]
            rows = [row for block in pool.map(seed_block, [(b, args.classic, args.epochs, args.reference, datasets)
                                                           for b in blocks]) for row in block]
    if args.compare:
        problems = compare(rows, single)
        print(f"stacked vs one by one: {'identical verdicts and losses' if not problems else 'DIFFERENT'} "
              f"over {len(rows)} seeds")
        for line in problems[:20]:
            print("  " + line)
    summary = summarize(rows, args.reference)
    setting = "classic (PyTorch default init, lr 1, 20,000 epochs)" if args.classic else \
        "demo defaults (Glorot uniform gain 4, lr 1 linear / 5 XOR, 5,000 epochs)"
    if args.epochs is not None:
        setting += f", epochs overridden to {args.epochs}"
    n = summary["seeds"]
    how = "one by one" if args.single else "stacked"
    print(f"setting: {setting}; seeds {seeds.start}..{seeds.stop - 1}; "
          f"{time.perf_counter() - started:.1f} s with {args.jobs} processes ({how})")
    if "xor_easy_100_percent" in summary:
        print(f"XOR-easy 100% accuracy:          {summary['xor_easy_100_percent']}/{n}"
              f"  (failed seeds: {summary['xor_failures'] or 'none'})")
        print(f"median epochs to zero errors on XOR-easy: {summary['median_xor_epochs_to_zero_errors']:.0f}")
    if "linear_train_at_least_99" in summary:
        print(f"linear training accuracy >= 99%: {summary['linear_train_at_least_99']}/{n}")
        print(f"linear held-out accuracy >= 97%: {summary['linear_heldout_at_least_97']}/{n}"
              f"  (mean {100 * summary['linear_heldout_mean']:.2f}%)")
        if args.reference:
            print(f"  logistic-regression reference:  {summary['logistic_reference_heldout_at_least_97']}/{n}"
                  " (an ideal linear model on the same 100 points)")
    if "all_three" in summary:
        print(f"all three on the same seed:      {summary['all_three']}/{n}")
    if args.compare and problems:
        return 1
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"setting": setting, "summary": summary, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
