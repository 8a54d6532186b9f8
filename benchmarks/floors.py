"""The floors of eager autograd in Python: how fast can *any* define-by-run engine be on the lab's networks?

Minimal engines, with none of tinygrad_lab's features (no argument checks, dtype rules, broadcasting,
grad modes, hooks, modules or optimizer objects), each doing only what an eager engine must do per op:
make a node that remembers its inputs and its rule, then, in backward, call one rule per node.

* ``floor`` (arrays, the XOR-easy and linear networks): NumPy arrays, one node per layer for the matrix
  product and bias (as ``nn.Linear``), one per sigmoid, one for the MSE loss; the same NumPy calls as the
  hand-written step. Backward finds the graph from the loss (a search and a topological order, as
  tinygrad_lab, PyTorch and micrograd do).
* ``tape`` (the same networks and nodes): the ops append themselves to a list in the order they run (a
  Wengert list, a "tape"), and backward walks the list backwards: no graph search at all. Its ratio to
  hand-written NumPy is the least a define-by-run engine on NumPy pays on these networks.
* ``scalar floor`` (the scalar graph: the same network on the linear set's 100 points, one node per
  scalar, built neuron by neuron as micrograd's demo does; about 7,700 nodes per step): Python floats,
  ``__slots__``, one integer op code per node. ``floor-np-scalars`` is the same engine on NumPy scalars
  (``np.float64``) and ``floor-0d-params`` keeps the parameters in 0-d arrays, mutable as tinygrad_lab's
  (NumPy turns every result of an op on them into a NumPy scalar).

Both reach the same losses as tinygrad_lab (checked). Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/floors.py [--rounds 9] [--json floors.json]

micrograd (``pip install micrograd``) is timed beside the scalar engines when installed.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np
from results_file import new_results, write_json
from run import SMALL, WORKLOADS, get_data, init_params, run_workload

from tinygrad_lab import Value, optim

# ------------------------------------------------------------------------------- arrays (W1, W2)


class _Node:
    __slots__ = ("data", "grad", "parents", "rule")

    def __init__(self, data: Any, parents: tuple = (), rule: Any = None) -> None:
        self.data, self.grad, self.parents, self.rule = data, None, parents, rule


def _linear(x: _Node, w: _Node, b: _Node) -> _Node:
    return _Node(x.data @ w.data + b.data, (x, w, b), lambda g: (g @ w.data.T, x.data.T @ g, g.sum(axis=0)))


def _sigmoid(z: _Node) -> _Node:
    s = 1.0 / (1.0 + np.exp(-z.data))
    return _Node(s, (z,), lambda g: (g * (s * (1 - s)),))


def _mse(out: _Node, y: np.ndarray) -> _Node:
    d = out.data - y
    return _Node(np.mean(d * d), (out,), lambda g: (g * (d * (2.0 / d.size)),))


def _backward(loss: _Node) -> None:
    order: list[_Node] = []
    seen: set[int] = set()
    stack: list[tuple[_Node, bool]] = [(loss, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    loss.grad = np.ones_like(loss.data)
    for node in reversed(order):
        if node.rule is not None:
            for parent, g in zip(node.parents, node.rule(node.grad)):
                parent.grad = g if parent.grad is None else parent.grad + g


class FloorStep:
    """One SGD step of a sigmoid MLP with MSE on the minimal array engine (run.py's 'floor' framework)."""

    def __init__(self, w: Any) -> None:
        assert w.name in SMALL, "the floor engine runs the small sigmoid/MSE/SGD networks only"
        X, self.y = get_data(w)
        self.x, self.lr = _Node(X), w.lr
        self.layers = [(_Node(W.copy()), _Node(b.copy())) for W, b in init_params(w)]
        self.params = [p for layer in self.layers for p in layer]

    def step(self) -> float:
        for p in self.params:
            p.grad = None
        h = self.x
        for W, b in self.layers:
            h = _sigmoid(_linear(h, W, b))
        loss = _mse(h, self.y)
        _backward(loss)
        for p in self.params:
            p.data -= self.lr * p.grad
        return float(loss.data)


class TapeStep(FloorStep):
    """The same step on a tape: each op records (output, inputs, rule) as it runs; backward reads the tape
    backwards (run.py's 'tape' framework)."""

    def step(self) -> float:
        tape: list[tuple[_Node, tuple, Any]] = []
        record = tape.append
        for p in self.params:
            p.grad = None
        h = self.x
        for W, b in self.layers:
            z = _linear(h, W, b)
            record((z, z.parents, z.rule))
            h = _sigmoid(z)
            record((h, h.parents, h.rule))
        loss = _mse(h, self.y)
        record((loss, loss.parents, loss.rule))
        loss.grad = np.ones_like(loss.data)
        for node, parents, rule in reversed(tape):
            if node.grad is not None:
                for parent, g in zip(parents, rule(node.grad)):
                    parent.grad = g if parent.grad is None else parent.grad + g
        for p in self.params:
            p.data -= self.lr * p.grad
        return float(loss.data)


# ----------------------------------------------------------------------------- scalars (W5)

_ADD, _MUL, _ADD_CONST, _MUL_CONST, _SIGMOID = 1, 2, 3, 4, 5


def _floor_scalar(name: str, exp: Any) -> type:
    """A scalar autograd value class: the least per-node work (micrograd without closures). Its operators make
    results of its own class, found in this function's closure (as fast as a global name)."""

    class Scalar:
        __slots__ = ("data", "grad", "op", "a", "b")

        def __init__(self, data: Any, op: int = 0, a: Any = None, b: Any = None) -> None:
            self.data, self.grad, self.op, self.a, self.b = data, 0.0, op, a, b

        def __add__(self, other: Any) -> Scalar:
            if type(other) is Scalar:
                return Scalar(self.data + other.data, _ADD, self, other)
            return Scalar(self.data + other, _ADD_CONST, self)

        __radd__ = __add__

        def __sub__(self, other: float) -> Scalar:
            return Scalar(self.data - other, _ADD_CONST, self)

        def __mul__(self, other: Any) -> Scalar:
            if type(other) is Scalar:
                return Scalar(self.data * other.data, _MUL, self, other)
            return Scalar(self.data * other, _MUL_CONST, self, other)

        __rmul__ = __mul__

        def sigmoid(self) -> Scalar:
            return Scalar(1.0 / (1.0 + exp(-self.data)), _SIGMOID, self)

        def backward(self) -> None:
            order: list[Scalar] = []
            seen: set[int] = set()
            stack: list[tuple[Scalar, bool]] = [(self, False)]
            while stack:
                v, expanded = stack.pop()
                if expanded:
                    order.append(v)
                elif id(v) not in seen:
                    seen.add(id(v))
                    stack.append((v, True))
                    if v.a is not None:
                        stack.append((v.a, False))
                    if type(v.b) is Scalar:
                        stack.append((v.b, False))
            self.grad = 1.0
            for v in reversed(order):
                op, g, a = v.op, v.grad, v.a
                if op == _ADD:
                    a.grad += g
                    v.b.grad += g
                elif op == _MUL:
                    a.grad += g * v.b.data
                    v.b.grad += g * a.data
                elif op == _ADD_CONST:
                    a.grad += g
                elif op == _MUL_CONST:
                    a.grad += g * v.b
                elif op == _SIGMOID:
                    a.grad += g * (v.data * (1.0 - v.data))

    Scalar.__name__ = Scalar.__qualname__ = name
    return Scalar


FloorScalar = _floor_scalar("FloorScalar", math.exp)
"""On Python floats."""
NumpyFloorScalar = _floor_scalar("NumpyFloorScalar", np.exp)
"""On NumPy numbers: parameters in 0-d arrays (mutable, as a Value's data must be for in-place optimizers) or
NumPy scalars; every result is a NumPy scalar; the sigmoid is NumPy's exp."""

SCALAR_FLOORS = {
    "floor": (FloorScalar, float),
    "floor-np-scalars": (NumpyFloorScalar, np.float64),   # every number a NumPy scalar (parameters too)
    "floor-0d-params": (NumpyFloorScalar, np.array),      # parameters as 0-d arrays, as tinygrad_lab's
}


def scalar_mse(layers: list, X: list, Y: list, sigmoid: Any) -> Any:
    """The scalar graph: for each point and neuron, sigmoid(b + w0*x0 + w1*x1 + ...); the mean square error."""
    total = None
    for x, y in zip(X, Y):
        h = x
        for neurons in layers:
            h = [sigmoid(sum((wi * xi for wi, xi in zip(ws, h)), b)) for ws, b in neurons]
        d = h[0] - y
        total = d * d if total is None else total + d * d
    return total * (1.0 / len(X))


def _micrograd_sigmoid(v: Any) -> Any:
    """micrograd has no sigmoid: one node, added the way micrograd's own relu is (as the shared harness does)."""
    from micrograd.engine import Value as MicroValue

    s = 1.0 / (1.0 + math.exp(-v.data))
    out = MicroValue(s, (v,), "sigmoid")

    def _backward() -> None:
        v.grad += s * (1.0 - s) * out.grad
    out._backward = _backward
    return out


class ScalarStep:
    """One SGD step of the scalar graph with the given scalar Value class ('floor', 'tinygrad_lab', 'micrograd')."""

    def __init__(self, engine: str) -> None:
        w = WORKLOADS["linear"]
        X, Y = get_data(w)
        self.X, self.Y, self.lr, self.engine = X.tolist(), Y[:, 0].tolist(), w.lr, engine
        if engine in SCALAR_FLOORS:
            cls, number = SCALAR_FLOORS[engine]
            make, self.sigmoid = (lambda v: cls(number(v))), cls.sigmoid
        elif engine == "tinygrad_lab":
            make, self.sigmoid = (lambda v: Value(v, requires_grad=True)), Value.sigmoid
        else:
            from micrograd.engine import Value as MicroValue

            make, self.sigmoid = MicroValue, _micrograd_sigmoid
        self.layers = [[([make(float(W[i, j])) for i in range(W.shape[0])], make(float(b[j])))
                        for j in range(W.shape[1])] for W, b in init_params(w)]
        self.params = [p for neurons in self.layers for ws, b in neurons for p in [*ws, b]]
        self.opt = optim.SGD(self.params, lr=self.lr) if engine == "tinygrad_lab" else None

    def step(self) -> float:
        loss = scalar_mse(self.layers, self.X, self.Y, self.sigmoid)
        if self.opt is not None:
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            return float(loss.data)
        for p in self.params:
            p.grad = 0.0
        loss.backward()   # p.data -= ...: in place for 0-d arrays
        for p in self.params:
            p.data -= self.lr * p.grad
        return float(loss.data)


def scalar_engines() -> list[str]:
    engines = [*SCALAR_FLOORS, "tinygrad_lab"]
    try:
        import micrograd.engine  # noqa: F401
    except ImportError:
        print("micrograd is not installed (pip install micrograd): the scalar graph runs without it")
    else:
        engines.append("micrograd")
    return engines


def _scalar_worker(engine: str, repeats: int, block: int = 4) -> None:
    """Time `repeats` blocks of `block` steps of one scalar engine in this (fresh) process; print the loss and
    the mean time per step of each block as JSON. Blocks, as the shared harness times: micrograd's steps
    alternate between ~14 ms and ~60 ms (a full collection of its garbage cycles every other step), so single
    steps have a two-peaked distribution whose median says little."""
    step = ScalarStep(engine)
    loss = [step.step() for _ in range(3)][-1]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(block):
            step.step()
        times.append((time.perf_counter() - start) * 1e3 / block)
    print(json.dumps({"loss": loss, "times_ms": times}))


def time_scalar(rounds: int, cycles: int = 3) -> dict[str, dict[str, float]]:
    """Each engine in a process of its own, as the shared harness runs micrograd: the garbage collector's cost
    (most of micrograd's step) depends on what else lives in the process. `cycles` rounds of one process per
    engine, interleaved."""
    engines = scalar_engines()
    times: dict[str, list[float]] = {name: [] for name in engines}
    losses: dict[str, float] = {}
    for _ in range(cycles):
        for name in engines:
            out = subprocess.run([sys.executable, __file__, "--scalar-worker", name, "--rounds", str(rounds)],
                                 capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.splitlines()[-1])
            losses[name] = result["loss"]
            times[name] += result["times_ms"]
    ref = losses["tinygrad_lab"]
    for name, loss in losses.items():
        assert abs(loss - ref) <= 1e-12 * abs(ref), (name, loss, ref)
    return {name: {"median_ms": statistics.median(ts), "min_ms": min(ts), "max_ms": max(ts)}
            for name, ts in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=0.2, help="time per repeat on the array networks")
    parser.add_argument("--json", default=None, help="write the results to this file")
    parser.add_argument("--scalar-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scalar_worker:
        _scalar_worker(args.scalar_worker, args.rounds)
        return 0
    results = new_results(arrays={}, scalar={})
    print(f"{'workload':<14}{'engine':<14}{'median':>12}{'x numpy':>9}")
    for name in SMALL:
        rows = run_workload(WORKLOADS[name], ["numpy", "tape", "floor", "eager"], args.rounds, args.seconds, 1)
        results["arrays"][name] = rows
        for engine, row in rows.items():
            print(f"{name:<14}{engine:<14}{row['median_us']:>9.1f} us{row['x_numpy']:>9.2f}")
    scalar = time_scalar(args.rounds)
    results["scalar"] = scalar
    micro = scalar.get("micrograd", {}).get("median_ms")
    for engine, row in scalar.items():
        speedup = f"  {micro / row['median_ms']:.1f}x micrograd's speed" if micro else ""
        print(f"{'scalar graph':<14}{engine:<14}{row['median_ms']:>9.2f} ms{speedup}")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
