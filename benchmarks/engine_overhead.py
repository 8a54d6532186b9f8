"""Engine overhead: time per op on tiny values, a deep chain's backward (time and peak memory),
and one training step of the lab's 2-4-4-1 network against the same step in hand-written NumPy.

    python benchmarks/engine_overhead.py            # prints a table
    python benchmarks/engine_overhead.py --quick

Numbers move 10-25% between runs on a busy machine; compare ratios from one run.
For the full comparison with PyTorch, JAX, HIPS autograd and micrograd use the
shared harness (`../shared/bench/README.md`).
"""
from __future__ import annotations

import argparse
import gc
import timeit
import tracemalloc

import numpy as np

from tinygrad_lab import Value, nn, optim


def per_call_us(func, seconds: float) -> float:
    """Median microseconds per call over 5 repeats of about `seconds` / 5 each."""
    timer = timeit.Timer(func)
    number, _ = timer.autorange()
    number = max(1, int(number * seconds / 5 / 0.2))
    return float(np.median(timer.repeat(repeat=5, number=number))) / number * 1e6


def op_overheads(seconds: float) -> dict[str, float]:
    a = Value(np.ones((4, 4)), requires_grad=True)
    s = Value(2.0, requires_grad=True)
    raw = np.ones((4, 4))
    return {
        "numpy a * a (4x4, the floor)": per_call_us(lambda: raw * raw, seconds),
        "Value a * a (4x4)": per_call_us(lambda: a * a, seconds),
        "Value s * s (scalar)": per_call_us(lambda: s * s, seconds),
        "Value a.sigmoid() (4x4)": per_call_us(lambda: a.sigmoid(), seconds),
        "forward+backward (a*a).sum() (4x4)": per_call_us(lambda: (a * a).sum().backward(), seconds),
    }


def deep_chain(n: int) -> tuple[float, float]:
    """Seconds and peak MiB to build and backward a chain of n additions."""
    gc.collect()
    tracemalloc.start()
    start = timeit.default_timer()
    x = Value(1.0, requires_grad=True)
    y = x
    for _ in range(n):
        y = y + 1.0
    y.backward()
    seconds = timeit.default_timer() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    X = [(0.1 * i, 0.1 * i) for i in range(11)] + [(0.1 * i, 1 - 0.1 * i) for i in range(11) if i != 5]
    Y = [0.0] * 11 + [1.0] * 10
    return np.array(X), np.array(Y).reshape(-1, 1)


def lab_step_tinygrad_lab(X: np.ndarray, Y: np.ndarray):
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=1.0)
    loss_fn, x, y = nn.MSELoss(), Value(X), Value(Y)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def lab_step_numpy(X: np.ndarray, Y: np.ndarray):
    rng = np.random.default_rng(0)
    params = [[rng.uniform(-0.5, 0.5, (i, o)), rng.uniform(-0.5, 0.5, o)] for i, o in ((2, 4), (4, 4), (4, 1))]

    def step():
        acts = [X]
        for W, b in params:
            acts.append(1.0 / (1.0 + np.exp(-(acts[-1] @ W + b))))
        d = (acts[-1] - Y) * (2.0 / Y.size)
        for i in reversed(range(3)):
            d = d * acts[i + 1] * (1 - acts[i + 1])
            dW, db = acts[i].T @ d, d.sum(axis=0)
            if i:
                d = d @ params[i][0].T
            params[i][0] -= dW
            params[i][1] -= db
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    args = parser.parse_args()
    seconds = 0.5 if args.quick else 2.0
    print("| measurement | value |\n|---|---:|")
    for name, us in op_overheads(seconds).items():
        print(f"| {name} | {us:.2f} us |")
    t, mib = deep_chain(100_000)
    print(f"| chain of 100,000 additions: build + backward | {t:.2f} s, peak {mib:.0f} MiB |")
    X, Y = xor_data()
    ours = per_call_us(lab_step_tinygrad_lab(X, Y), seconds)
    floor = per_call_us(lab_step_numpy(X, Y), seconds)
    print(f"| lab 2-4-4-1 step, hand-written NumPy | {floor:.1f} us |")
    print(f"| lab 2-4-4-1 step, tinygrad_lab | {ours:.1f} us ({ours / floor:.2f}x NumPy) |")


if __name__ == "__main__":
    main()
