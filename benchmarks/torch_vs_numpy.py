"""Where PyTorch's CPU eager beats the NumPy floor, op by op, on the shapes of the medium and wide networks.

The hand-written NumPy step is the floor for a NumPy-based framework; PyTorch eager is faster than it on
the medium network in float64 and sometimes on the wide one. This script times, for the same arrays, each
operation of those training steps in NumPy (as `benchmarks/run.py`'s hand-written step writes it) and in
PyTorch (what `loss.backward()` and `optim.Adam` run: `addmm`, `tanh_backward`, `threshold_backward`,
the foreach Adam), in interleaved rounds, and prints median microseconds and the ratio.

    OPENBLAS_NUM_THREADS=1 python benchmarks/torch_vs_numpy.py              # one thread for both
    python benchmarks/torch_vs_numpy.py --threads 2 --json torch_vs_numpy.json

Both run single-threaded by default (`torch.set_num_threads`; OpenBLAS reads OPENBLAS_NUM_THREADS at
start, so set it in the environment), to compare kernels rather than thread pools.
"""
from __future__ import annotations

import argparse
import math
import sys
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np
from results_file import new_results, write_json


def cases(torch: Any, dtype: str, n: int, fan_in: int, width: int) -> list[tuple[str, Callable, Callable]]:
    """(name, numpy call, torch call) on the same data: one layer of width `width`, batch `n`."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, fan_in)).astype(dtype)
    w = (rng.standard_normal((fan_in, width)) / math.sqrt(fan_in)).astype(dtype)
    b = rng.standard_normal(width).astype(dtype)
    g = rng.standard_normal((n, width)).astype(dtype)
    a = np.tanh(x @ w + b)
    tx, tw, tb, tg, ta = (torch.from_numpy(v) for v in (x, w, b, g, a))
    twt = torch.from_numpy(w.T.copy())
    aten = torch.ops.aten
    p = [rng.standard_normal((fan_in, width)).astype(dtype), rng.standard_normal(width).astype(dtype)]
    grads = [rng.standard_normal(q.shape).astype(dtype) for q in p]
    m, v = [np.zeros_like(q) for q in p], [np.full_like(q, 0.1) for q in p]

    def numpy_adam() -> None:
        for q, gq, mq, vq in zip(p, grads, m, v):
            mq *= 0.9
            mq += 0.1 * gq
            vq *= 0.999
            vq += 0.001 * (gq * gq)
            q -= 1e-3 / 0.1 * (mq / (np.sqrt(vq) / 0.03 + 1e-8))

    tp = [torch.from_numpy(q.copy()).requires_grad_() for q in p]
    for q, gq in zip(tp, grads):
        q.grad = torch.from_numpy(gq.copy())
    opt = torch.optim.Adam(tp, lr=1e-3)
    opt.step()
    return [
        (f"x @ W + b  ({n}x{fan_in} @ {fan_in}x{width})", lambda: x @ w + b, lambda: torch.addmm(tb, tx, twt.T)),
        ("x^T @ g (weight gradient)", lambda: x.T @ g, lambda: tg.T @ tx),
        ("g @ W^T (input gradient)", lambda: g @ w.T, lambda: tg @ twt),
        ("g.sum(axis=0) (bias gradient)", lambda: g.sum(axis=0), lambda: tg.sum(0)),
        ("tanh", lambda: np.tanh(g), lambda: torch.tanh(tg)),
        ("tanh backward g * (1 - a*a)", lambda: g * (1 - a * a), lambda: aten.tanh_backward(tg, ta)),
        ("sigmoid backward g * a * (1 - a)", lambda: g * (a * (1 - a)), lambda: aten.sigmoid_backward(tg, ta)),
        ("relu", lambda: np.maximum(g, 0), lambda: torch.relu(tg)),
        ("relu backward g * (a > 0)", lambda: g * (a > 0), lambda: aten.threshold_backward(tg, ta, 0)),
        ("Adam step (W and b)", numpy_adam, opt.step),
    ]


def per_call_us(fn: Callable, seconds: float) -> float:
    timer = timeit.Timer(fn)
    number = 1
    while timer.timeit(number) < seconds / 5 and number < 1 << 16:
        number *= 2
    return timer.timeit(number) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (OpenBLAS: set "
                        "OPENBLAS_NUM_THREADS in the environment)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.05, help="time per measurement")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: nothing to compare")
        return 0
    torch.set_num_threads(args.threads)
    shapes = {"medium f32 (256x256)": ("float32", 256, 256, 256), "medium f64 (256x256)": ("float64", 256, 256, 256),
              "wide f32 (512x784 -> 512)": ("float32", 512, 784, 512)}
    results = new_results({"torch": torch.__version__, "torch_threads": torch.get_num_threads()}, shapes={})
    print(f"{'shape':<27}{'operation':<44}{'numpy us':>10}{'torch us':>10}{'torch/numpy':>13}")
    for label, (dtype, n, fan_in, width) in shapes.items():
        rows = {}
        for name, np_fn, torch_fn in cases(torch, dtype, n, fan_in, width):
            samples: dict[str, list[float]] = {"numpy": [], "torch": []}
            for r in range(args.rounds):
                for which, fn in (("numpy", np_fn), ("torch", torch_fn))[:: 1 if r % 2 else -1]:
                    samples[which].append(per_call_us(fn, args.seconds))
            med = {k: float(np.median(s)) for k, s in samples.items()}
            ratio = med["torch"] / med["numpy"]
            rows[name] = {"numpy_us": med["numpy"], "torch_us": med["torch"], "torch_x_numpy": ratio}
            print(f"{label:<27}{name:<44}{med['numpy']:>10.1f}{med['torch']:>10.1f}{ratio:>13.2f}")
        results["shapes"][label] = rows
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
