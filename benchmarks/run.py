"""The project's own speed runner: one training step of the lab's networks, eager, jit and seed-batched.

For each workload it times one full training step (forward, loss, backward, update) of

* ``numpy``: the same step written by hand in NumPy (the floor for a NumPy-based framework),
* ``eager``: tinygrad_lab's public API (``nn``, ``optim``, ``loss.backward()``),
* ``jit``: the same step wrapped in ``tinygrad_lab.jit`` (captured once, then replayed),
* ``seeds``: ``tinygrad_lab.ensemble`` training ``--members`` copies at once, time per member-step
  (the small networks only: what ``tinygrad-lab experiments`` does per configuration),
* ``torch``: PyTorch eager on the CPU, when installed,

checks that every framework reaches the same loss after a few steps (float64: to ~1e-12), and
prints median microseconds per step with ratios to ``numpy``, from interleaved rounds in one
process (compare ratios of one run; the machine's other load moves absolute numbers).

Usage:
    python benchmarks/run.py                                  # all workloads
    python benchmarks/run.py --workloads xor,linear --json bench.json
    OPENBLAS_NUM_THREADS=1 python benchmarks/run.py --quick   # steadier, shorter

The shared harness (``../shared/bench``, one process per framework, more frameworks) gives the
reference numbers of the performance issue; this runner is the quick check beside the code.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from results_file import new_results, write_json

import tinygrad_lab
from tinygrad_lab import Value, ensemble, nn, optim


@dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple[int, ...]
    hidden: str          # sigmoid | tanh | relu
    out: str             # sigmoid | none (logits)
    loss: str            # mse | xent
    optimizer: str       # sgd | adam
    lr: float
    dtype: str
    data: str
    check_steps: int


WORKLOADS = {w.name: w for w in [
    Workload("xor", (2, 4, 4, 1), "sigmoid", "sigmoid", "mse", "sgd", 1.0, "float64", "xor", 50),
    Workload("linear", (2, 4, 4, 1), "sigmoid", "sigmoid", "mse", "sgd", 1.0, "float64", "linear", 50),
    Workload("mlp-medium", (64, 256, 256, 1), "tanh", "sigmoid", "mse", "sgd", 0.1, "float32", "binary", 5),
    Workload("mlp-medium-f64", (64, 256, 256, 1), "tanh", "sigmoid", "mse", "sgd", 0.1, "float64", "binary", 5),
    Workload("mlp-wide", (784, 512, 512, 10), "relu", "none", "xent", "adam", 1e-3, "float32", "classes", 3),
]}
SMALL = ("xor", "linear")


def get_data(w: Workload) -> tuple[np.ndarray, np.ndarray]:
    if w.data == "xor":
        pts = [(0.1 * i, 0.1 * i, 0.0) for i in range(11)] + [(0.1 * i, 1 - 0.1 * i, 1.0) for i in range(11) if i != 5]
        arr = np.array(pts)
        X, Y = arr[:, :2], arr[:, 2:]
    elif w.data == "linear":
        X = np.random.default_rng(1).uniform(size=(100, 2))
        Y = (X[:, :1] < X[:, 1:]).astype(np.float64)
    elif w.data == "binary":
        rng = np.random.default_rng(2)
        X = rng.standard_normal((256, 64))
        Y = (X @ rng.standard_normal(64) > 0).astype(np.float64)[:, None]
    else:
        rng = np.random.default_rng(3)
        X = rng.standard_normal((512, 784))
        return X.astype(w.dtype), np.argmax(X @ rng.standard_normal((784, 10)), axis=1)
    return X.astype(w.dtype), Y.astype(w.dtype)


def init_params(w: Workload, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W of shape (in, out), b) per layer, uniform in +-1/sqrt(fan_in) like torch.nn.Linear."""
    rng = np.random.default_rng(seed)
    out = []
    for a, b in zip(w.sizes[:-1], w.sizes[1:]):
        bound = 1 / math.sqrt(a)
        out.append((rng.uniform(-bound, bound, (a, b)).astype(w.dtype), rng.uniform(-bound, bound, b).astype(w.dtype)))
    return out


# ------------------------------------------------------------------------------------------- numpy

class NumpyStep:
    """Forward, backward and update written by hand (the same arithmetic as the frameworks)."""

    def __init__(self, w: Workload) -> None:
        self.w, (self.X, self.Y) = w, get_data(w)
        self.params = [p for layer in init_params(w) for p in layer]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    @staticmethod
    def act(name: str, z: np.ndarray) -> np.ndarray:
        if name == "sigmoid":
            return 1 / (1 + np.exp(-z))
        if name == "tanh":
            return np.tanh(z)
        if name == "relu":
            return np.maximum(z, 0)
        return z

    @staticmethod
    def act_backward(name: str, a: np.ndarray, d: np.ndarray) -> np.ndarray:
        """dL/dz from dL/da, written with the activation's output a."""
        if name == "sigmoid":
            return d * (a * (1 - a))
        if name == "tanh":
            return d * (1 - a * a)
        if name == "relu":
            return d * (a > 0)
        return d

    def step(self) -> float:
        w, acts = self.w, [self.X]
        layers = len(w.sizes) - 1
        for i in range(layers):
            W, b = self.params[2 * i], self.params[2 * i + 1]
            acts.append(self.act(w.hidden if i < layers - 1 else w.out, acts[-1] @ W + b))
        out = acts[-1]
        if w.loss == "mse":
            diff = out - self.Y
            loss = np.mean(diff * diff)
            d = diff * (2.0 / diff.size)
        else:
            n, rows = len(out), np.arange(len(out))
            shifted = out - out.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            loss = -np.mean(shifted[rows, self.Y] - np.log(s[:, 0]))
            d = e / s
            d[rows, self.Y] -= 1
            d /= n
        grads = [None] * len(self.params)
        for i in reversed(range(layers)):
            d = self.act_backward(w.hidden if i < layers - 1 else w.out, acts[i + 1], d)
            grads[2 * i], grads[2 * i + 1] = acts[i].T @ d, d.sum(axis=0)
            if i:
                d = d @ self.params[2 * i].T
        if w.optimizer == "sgd":
            for p, g in zip(self.params, grads):
                p -= w.lr * g
        else:
            self.t += 1
            b1, b2 = 0.9, 0.999
            for p, g, m, v in zip(self.params, grads, self.m, self.v):
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * (g * g)
                p -= w.lr / (1 - b1 ** self.t) * (m / (np.sqrt(v) / math.sqrt(1 - b2 ** self.t) + 1e-8))
        return float(loss)


# ------------------------------------------------------------------------------------- tinygrad_lab

ACT = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def lab_model(w: Workload, seed: int = 0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (W, b) in enumerate(init_params(w, seed)):
        linear = nn.Linear(W.shape[0], W.shape[1], dtype=w.dtype)
        linear.weight.data, linear.bias.data = W.T.copy(), b.copy()
        layers.append(linear)
        name = w.hidden if i < len(w.sizes) - 2 else w.out
        if name != "none":
            layers.append(ACT[name]())
    return nn.Sequential(*layers)


def lab_optimizer(w: Workload, params: Any) -> optim.Optimizer:
    return optim.SGD(params, lr=w.lr) if w.optimizer == "sgd" else optim.Adam(params, lr=w.lr)


class EagerStep:
    def __init__(self, w: Workload, use_jit: bool = False) -> None:
        X, Y = get_data(w)
        self.x, self.y = Value(X), (Value(Y) if w.loss == "mse" else Y)
        self.model = lab_model(w)
        self.opt = lab_optimizer(w, self.model.parameters())
        self.loss_fn = nn.MSELoss() if w.loss == "mse" else nn.CrossEntropyLoss()
        model, opt, loss_fn = self.model, self.opt, self.loss_fn

        def train_step(x: Any, y: Any) -> Value:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        self.train_step = tinygrad_lab.jit(train_step) if use_jit else train_step

    def step(self) -> float:
        return float(self.train_step(self.x, self.y).data)


class SeedsStep:
    """`members` copies (different initial weights) trained at once; step() advances all of them."""

    def __init__(self, w: Workload, members: int) -> None:
        X, Y = get_data(w)
        self.members = members
        self.model = ensemble.stack([lab_model(w, seed) for seed in range(members)])
        self.model_0 = lab_model(w, 0)
        self.opt = lab_optimizer(w, self.model.parameters())
        self.x, self.y = Value(X), Value(np.broadcast_to(Y, (members, *Y.shape)).copy())
        self.loss_fn = nn.MSELoss()

    def step(self) -> float:
        self.opt.zero_grad()
        losses = ensemble.member_losses(self.loss_fn, self.model(self.x), self.y)
        losses.sum().backward()
        self.opt.step()
        return float(losses.data[0])          # member 0 has the shared initial weights


class TorchStep:
    def __init__(self, w: Workload) -> None:
        import torch
        self.torch = torch
        torch.set_num_threads(os.cpu_count() or 1)
        X, Y = get_data(w)
        dtype = getattr(torch, w.dtype)
        self.x = torch.tensor(X)
        self.y = torch.tensor(Y)
        layers: list[Any] = []
        for i, (W, b) in enumerate(init_params(w)):
            lin = torch.nn.Linear(W.shape[0], W.shape[1], dtype=dtype)
            with torch.no_grad():
                lin.weight.copy_(torch.tensor(W.T))
                lin.bias.copy_(torch.tensor(b))
            layers.append(lin)
            name = w.hidden if i < len(w.sizes) - 2 else w.out
            if name != "none":
                layers.append({"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[name]())
        self.model = torch.nn.Sequential(*layers)
        ps = self.model.parameters()
        self.opt = torch.optim.SGD(ps, lr=w.lr) if w.optimizer == "sgd" else torch.optim.Adam(ps, lr=w.lr)
        self.loss_fn = torch.nn.MSELoss() if w.loss == "mse" else torch.nn.CrossEntropyLoss()

    def step(self) -> float:
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return float(loss.detach())


def make(name: str, w: Workload, members: int) -> Any:
    if name == "numpy":
        return NumpyStep(w)
    if name == "eager":
        return EagerStep(w)
    if name == "jit":
        return EagerStep(w, use_jit=True)
    if name == "seeds":
        return SeedsStep(w, members) if w.name in SMALL else None
    if name in ("floor", "tape"):       # the minimal eager engines of floors.py (small networks only)
        from floors import FloorStep, TapeStep
        return (FloorStep if name == "floor" else TapeStep)(w) if w.name in SMALL else None
    if name == "torch":
        try:
            return TorchStep(w)
        except ImportError:
            return None
    raise ValueError(name)


# ------------------------------------------------------------------------------------------- timing

def calibrate(trainer: Any, seconds: float) -> int:
    n, start = 1, time.perf_counter()
    trainer.step()
    elapsed = time.perf_counter() - start
    while elapsed < seconds / 4:
        n *= 2
        start = time.perf_counter()
        for _ in range(n):
            trainer.step()
        elapsed = time.perf_counter() - start
    return max(1, int(n * seconds / max(elapsed, 1e-9)))


def run_workload(w: Workload, frameworks: list[str], rounds: int, seconds: float, members: int) -> dict[str, Any]:
    checks: dict[str, float] = {}
    trainers: dict[str, Any] = {}
    for name in frameworks:
        checker = make(name, w, members)
        if checker is None:
            continue
        with np.errstate(all="ignore"):
            for _ in range(w.check_steps):
                loss = checker.step()
        checks[name] = loss
        trainers[name] = make(name, w, members)
        for _ in range(3):
            trainers[name].step()
    steps = {name: calibrate(t, seconds) for name, t in trainers.items()}
    times: dict[str, list[float]] = {name: [] for name in trainers}
    order = list(trainers)
    for r in range(rounds):
        for name in order[r % len(order):] + order[:r % len(order)]:
            t, n = trainers[name], steps[name]
            start = time.perf_counter()
            for _ in range(n):
                t.step()
            per = (time.perf_counter() - start) / n * 1e6
            times[name].append(per / members if name == "seeds" else per)
    ref = checks.get("numpy")
    rows = {}
    for name, ts in times.items():
        median = float(np.median(ts))
        rows[name] = {"median_us": median, "min_us": float(np.min(ts)), "max_us": float(np.max(ts)),
                      "steps_per_round": steps[name], "final_loss": checks[name],
                      "loss_rel_diff": None if ref is None else abs(checks[name] - ref) / max(abs(ref), 1e-300)}
    base = rows.get("numpy", {}).get("median_us")
    for row in rows.values():
        row["x_numpy"] = None if not base else row["median_us"] / base
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--frameworks", default="numpy,eager,jit,seeds,torch")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.2, help="time per repeat of one framework")
    parser.add_argument("--members", type=int, default=64, help="models trained at once by 'seeds'")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 0.1 s")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds = 3, 0.1
    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    results = new_results(members=args.members, workloads={})
    print(f"{'workload':<16}{'framework':<8}{'us/step':>10}{'min':>10}{'max':>10}{'x numpy':>9}  final loss (diff)")
    for name in names:
        w = WORKLOADS[name]
        rows = run_workload(w, frameworks, args.rounds, args.seconds, args.members)
        results["workloads"][name] = {"workload": asdict(w), "results": rows}
        for fw, row in rows.items():
            ratio = "-" if row["x_numpy"] is None else f"{row['x_numpy']:.2f}"
            diff = "" if row["loss_rel_diff"] is None else f" ({row['loss_rel_diff']:.0e})"
            label = fw if fw != "seeds" else f"seeds/{args.members}"
            print(f"{name:<16}{label:<8}{row['median_us']:>10.1f}{row['min_us']:>10.1f}{row['max_us']:>10.1f}"
                  f"{ratio:>9}  {row['final_loss']:.10g}{diff}")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
