"""Make the graph pictures of the docs: `python docs/images/graph_images.py` (needs Graphviz's `dot`).

Writes docs/images/graph_*.svg (and graph_xor.png for the README) from fixed seeds, so the
pictures only change when the drawings do.
"""
from pathlib import Path

import numpy as np

from tinygrad_lab import Value, nn
from tinygrad_lab.random import manual_seed
from tinygrad_lab.viz import render

HERE = Path(__file__).resolve().parent


def lab_network():
    """The lab's 2-4-4-1 sigmoid network on the four XOR points, and its MSE loss."""
    manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 1),
                          nn.Sigmoid())
    x = Value(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), label="x")
    y = Value(np.array([[0.0], [1.0], [1.0], [0.0]]), label="y")
    return model, nn.MSELoss()(model(x), y)


def main() -> None:
    model, loss = lab_network()
    for fmt in ("svg", "png"):  # grads=True: the backward pass runs for the drawing; every gradient shown
        render(loss, HERE / f"graph_xor.{fmt}", params=model, grads=True)
    render(loss, HERE / "graph_xor_order.svg", params=model, grads=True, show_order=True)
    render(loss, HERE / "graph_xor_depth1.svg", params=model, depth=1)
    render(loss, HERE / "graph_xor_depth0.svg", params=model, depth=0)

    # micrograd's classic example: L = (a * b + c) * f
    a = Value(2.0, requires_grad=True, label="a")
    b = Value(-3.0, requires_grad=True, label="b")
    c = Value(10.0, requires_grad=True, label="c")
    f = Value(-2.0, requires_grad=True, label="f")
    e = a * b
    d = e + c
    out = d * f
    e.label, d.label, out.label = "e", "d", "L"
    render(out, HERE / "graph_scalar.svg", grads=True, show_order=True)

    x = Value(0.5, requires_grad=True, label="x")
    y = x
    for _ in range(100_000 - 1):
        y = -y
    render(y, HERE / "graph_chain_max_nodes.svg", max_nodes=6)

    w = Value([1.0, 2.0], requires_grad=True, label="w")
    freed = (w * w).sum()
    freed.backward()  # no retain_graph: the graph is freed
    render(freed, HERE / "graph_freed.svg")
    for dot in HERE.glob("graph_*.dot"):
        dot.unlink()


if __name__ == "__main__":
    main()
