"""Draw computation graphs: a small expression, then one training step of the lab's network.

`viz.draw_graph(root)` returns a `graphviz.Digraph` (no Graphviz program needed to build it);
`viz.render(drawing, path)` writes SVG/PNG/PDF. When the Graphviz program `dot` is missing,
`render` still writes the DOT text and raises `GraphvizNotFoundError` (with install instructions).
`viz.print_graph(root)` prints the same graph as a text table.

Run:  python demos/draw_graph.py      (writes expression.svg and training_step.svg here)
"""
import numpy as np

import tinygrad_lab as tl
from tinygrad_lab import Value, nn, viz
from tinygrad_lab.data import generate_xor_easy


def save(drawing, path):
    try:
        print("wrote", viz.render(drawing, path))
    except viz.GraphvizNotFoundError as err:
        print("Graphviz is not installed; wrote the DOT text to", err.dot_path)


# 1. A scalar expression, micrograd style.
a = Value(2.0, requires_grad=True, label="a")
b = Value(-3.0, requires_grad=True, label="b")
c = Value(10.0, requires_grad=True, label="c")
e = a * b
e.label = "e"
d = e + c
d.label = "d"
loss = (d * d).tanh()
loss.label = "loss"
loss.backward(retain_graph=True)          # keep the graph so it can be drawn with its gradients
save(viz.draw_graph(loss, show_order=True), "expression.svg")

# 2. One training step of the 2-4-4-1 network on XOR-easy: module calls become labelled clusters.
inputs, labels = generate_xor_easy()
tl.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
step_loss = nn.MSELoss()(model(Value(inputs, label="x")), Value(labels, label="y"))
step_loss.label = "loss"
step_loss.backward(retain_graph=True)
save(viz.draw_graph(step_loss, params=model), "training_step.svg")
viz.print_graph(step_loss, params=model)
print("gradient of the first weight matrix:\n", np.round(model[0].weight.grad.numpy(), 5))
