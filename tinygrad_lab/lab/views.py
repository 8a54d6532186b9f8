"""Text views of a run: the per-point predictions table and the network layer by layer.

Example:
    >>> from tinygrad_lab.lab import LabConfig, run
    >>> accuracy_line(run(LabConfig(epochs=3), quiet=True)).startswith("accuracy ")
    True
"""
from __future__ import annotations

import numpy as np

from .. import nn
from ..autograd import Value, no_grad
from .run import RunResult

__all__ = ["format_predictions", "accuracy_line", "show_network"]


def format_predictions(result: RunResult, max_rows: int | None = 30) -> str:
    """The per-point table of the lab: inputs, ground truth, network output, predicted class.

    With more than ``max_rows`` points, the first ``max_rows`` rows and a count of the rest.

    Example:
        >>> print(format_predictions(run(LabConfig(epochs=5), quiet=True), max_rows=2))   # doctest: +SKIP
    """
    outputs = result.train.outputs.reshape(-1)
    predicted = result.train.predictions.reshape(-1)
    truth = result.targets.reshape(-1)
    lines = ["   #      x1      x2  truth    output  predicted"]
    n = len(truth)
    shown = n if max_rows is None else min(n, max_rows)
    for i in range(shown):
        mark = "" if predicted[i] == truth[i] else "  <- wrong"
        lines.append(f"{i + 1:4d}  {result.inputs[i, 0]:6.3f}  {result.inputs[i, 1]:6.3f}  {truth[i]:5.0f}  "
                     f"{outputs[i]:8.5f}  {predicted[i]:9.0f}{mark}")
    if shown < n:
        wrong = int((predicted[shown:] != truth[shown:]).sum())
        lines.append(f"   ... {n - shown} more points ({wrong} of them wrong)")
    lines.append(accuracy_line(result))
    return "\n".join(lines)


def accuracy_line(result: RunResult) -> str:
    """One line: the training accuracy (and the held-out one when there is a held-out set)."""
    n = len(result.targets)
    correct = result.train.correct
    right = int(correct.sum()) if correct is not None else 0
    line = f"accuracy {100 * result.train.accuracy:.2f}% ({right}/{n} training points right)"
    if result.test is not None and result.test_targets is not None:
        line += f", held-out accuracy {100 * result.test.accuracy:.2f}% on {len(result.test_targets)} new points"
    return line


def _vector(values: np.ndarray) -> str:
    return "[" + ", ".join(f"{v: .4f}" for v in values) + "]"


def show_network(model: nn.Module, inputs: np.ndarray, points: int = 4) -> str:
    """The network layer by layer: each unit's incoming weights and bias, and its output on the
    first ``points`` inputs (after the layer's activation), as the lab reports show it.

    Example:
        >>> from tinygrad_lab.lab import LabConfig, build_model
        >>> model = build_model(LabConfig(hidden=(2,)))
        >>> print(show_network(model, np.array([[0.0, 1.0]]), points=1))   # doctest: +SKIP
        layer 1: Linear(2 -> 2) + Sigmoid
          unit 1: weights [...] bias ...
    """
    inputs = np.asarray(inputs, dtype=np.float64)[:points]
    modules = list(model.children()) if isinstance(model, nn.Sequential) else [model]
    lines = [f"inputs ({len(inputs)} point{'s' * (len(inputs) != 1)}): "
             + "  ".join(_vector(x) for x in inputs)]
    x = Value(inputs)
    layer = 0
    i = 0
    with no_grad():
        while i < len(modules):
            module = modules[i]
            x = module(x)
            i += 1
            if not isinstance(module, nn.Linear):
                continue
            layer += 1
            act_name = ""
            if i < len(modules) and not isinstance(modules[i], nn.Linear):
                act_name = " + " + type(modules[i]).__name__
                x = modules[i](x)
                i += 1
            kind = "output layer" if i >= len(modules) else f"hidden layer {layer}"
            lines.append(f"layer {layer} ({kind}): Linear({module.in_features} -> {module.out_features})"
                         f"{act_name}")
            weight = module.weight.data
            bias = None if module.bias is None else module.bias.data
            for unit in range(module.out_features):
                text = f"  unit {unit + 1}: weights {_vector(weight[unit])}"
                if bias is not None:
                    text += f" bias {bias[unit]: .4f}"
                text += "  output " + " ".join(f"{v:.4f}" for v in x.data[:, unit])
                lines.append(text)
    return "\n".join(lines)
