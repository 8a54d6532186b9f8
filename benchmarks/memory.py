"""Peak memory of one training step: tinygrad_lab eager against the same step written by hand in NumPy.

For each workload of `run.py` (default: `mlp-wide`, 784-512-512-10 ReLU, cross-entropy, Adam, float32),
this builds the hand-written NumPy step (`run.NumpyStep`, the floor) and the eager tinygrad_lab step
(`run.EagerStep`: `zero_grad`, forward, loss, `backward`, `step`) under `tracemalloc` (NumPy reports its
array buffers to it; Python objects count too), warms both up (Adam's state exists, the previous step's
gradients are where a training loop leaves them), then measures single steps:

* `peak`: the most memory traced at any moment of the step (parameters, optimizer state, data,
  gradients and every temporary alive at that moment);
* `step peak`: `peak` minus the memory traced just before the step (what the step itself adds on top
  of what the process already holds);
* `after`: the memory traced just after the step (what the process holds until the next one);
* `built`: the memory traced once the trainer is built (parameters and data, before any step).

Each number is the median over `--repeats` steps; the ratios are tinygrad_lab / NumPy.

    python benchmarks/memory.py                       # mlp-wide
    python benchmarks/memory.py --workloads mlp-wide,mlp-medium-f64 --json memory.json
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tracemalloc
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_file import new_results, write_json  # noqa: E402  (beside this script)
from run import WORKLOADS, EagerStep, NumpyStep  # noqa: E402  (the runner's workloads and steps)

MIB = 2**20


def measure_step(make: Any, workload: Any, repeats: int) -> dict[str, float]:
    """Median bytes of one step: peak traced, peak above the start, and traced after the step.

    Tracing starts before the trainer is built, so its parameters, optimizer state and data count.
    """
    make(workload).step()   # once untraced: modules imported on first use (numpy.random, ...) are not counted
    gc.collect()
    tracemalloc.start()
    try:
        trainer = make(workload)
        built = tracemalloc.get_traced_memory()[0]
        for _ in range(3):             # warm-up: optimizer state, caches, the previous step's gradients
            trainer.step()
        peaks, step_peaks, afters = [], [], []
        for _ in range(repeats):
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            trainer.step()
            after, peak = tracemalloc.get_traced_memory()
            peaks.append(peak)
            step_peaks.append(peak - before)
            afters.append(after)
        del trainer
    finally:
        tracemalloc.stop()
    return {"peak_bytes": float(np.median(peaks)), "step_peak_bytes": float(np.median(step_peaks)),
            "after_bytes": float(np.median(afters)), "built_bytes": float(built)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="mlp-wide", help=f"comma-separated, from {', '.join(WORKLOADS)}")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    results = new_results(repeats=args.repeats, workloads={})
    print(f"{'workload':<16}{'framework':<10}{'peak MiB':>10}{'step peak':>11}{'after':>9}{'built':>9}"
          f"{'x numpy':>9}{'(step)':>8}")
    for name in names:
        w = WORKLOADS[name]
        rows: dict[str, dict[str, float]] = {}
        for label, make in (("numpy", NumpyStep), ("eager", EagerStep)):
            rows[label] = measure_step(make, w, args.repeats)
        base = rows["numpy"]
        for label, row in rows.items():
            row["x_numpy"] = row["peak_bytes"] / base["peak_bytes"]
            row["step_x_numpy"] = row["step_peak_bytes"] / base["step_peak_bytes"]
            print(f"{name:<16}{label:<10}{row['peak_bytes'] / MIB:>10.2f}{row['step_peak_bytes'] / MIB:>11.2f}"
                  f"{row['after_bytes'] / MIB:>9.2f}{row['built_bytes'] / MIB:>9.2f}"
                  f"{row['x_numpy']:>9.2f}{row['step_x_numpy']:>8.2f}")
        results["workloads"][name] = rows
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
