"""The files of a run: figures, the graph of one training step, the weights and the predictions.

Example:
    >>> from tinygrad_lab.lab import LabConfig, run
    >>> predictions_csv(run(LabConfig(epochs=3), quiet=True)).splitlines()[0]
    'x1,x2,truth,output,predicted'
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from .. import nn
from ..autograd import Value
from ..utils.files import write_atomic
from .run import RunResult

__all__ = ["GRAPHVIZ_HINT", "draw_training_step", "predictions_csv", "save_run"]

GRAPHVIZ_HINT = "the Graphviz program 'dot' is missing, so the graph was written as DOT text; " \
                "install it (e.g. 'apt-get install graphviz') to get an SVG"


def draw_training_step(model: nn.Module, inputs: np.ndarray, targets: np.ndarray, loss_fn: nn.Module,
                       path: str | os.PathLike, format: str | None = None) -> tuple[Path, str | None]:
    """Draw the computation graph of one training step (forward and backward, without the update), with the
    gradient of the loss on every value.

    Returns the path written and, when Graphviz is missing and only the DOT text could be
    written, a one-line hint (else None). The model's parameters and gradients are left unchanged.

    Example:
        >>> draw_training_step(model, X, Y, nn.MSELoss(), "graph.svg")     # doctest: +SKIP
        (PosixPath('graph.svg'), None)
    """
    from .. import viz

    loss = loss_fn(model(Value(np.asarray(inputs, dtype=np.float64), label="x")),
                   Value(np.asarray(targets, dtype=np.float64), label="y"))
    loss.label = "loss"
    # grads=True runs the backward pass for the drawing only: every gradient shown, no .grad changed
    drawing = viz.draw_graph(loss, params=model, grads=True)
    try:
        return viz.render(drawing, path, format=format), None
    except viz.GraphvizNotFoundError as err:
        return err.dot_path, GRAPHVIZ_HINT


def predictions_csv(result: RunResult) -> str:
    """The per-point predictions of a run as CSV text: x1, x2, truth, output, predicted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["x1", "x2", "truth", "output", "predicted"])
    outputs = result.train.outputs.reshape(-1)
    for (x1, x2), t, o, p in zip(result.inputs, result.targets.reshape(-1), outputs,
                                 result.train.predictions.reshape(-1), strict=True):
        writer.writerow([f"{x1:.6f}", f"{x2:.6f}", int(t), f"{o:.6f}", int(p)])
    return buffer.getvalue()


def save_run(result: RunResult, out_dir: str | os.PathLike, graph: bool = True) -> dict[str, Path]:
    """Write a run's files into ``out_dir`` (created if needed), named after ``config.name``:

    ``<name>_comparison.png`` (ground truth | prediction), ``<name>_learning_curve.png``,
    ``<name>_decision_boundary.png``, ``<name>_graph.svg`` (or ``.dot`` without Graphviz),
    ``<name>_weights.npz`` (load with ``model.load``), ``<name>_predictions.csv``.
    Returns the paths by kind and stores them in ``result.files``; when the Graphviz program is
    missing, ``result.graph_hint`` holds a one-line hint.

    Example:
        >>> files = save_run(run(LabConfig(epochs=10), quiet=True), "runs/example")   # doctest: +SKIP
        >>> sorted(files)                                                          # doctest: +SKIP
        ['boundary', 'comparison', 'curve', 'graph', 'predictions', 'weights']
    """
    from .. import plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = result.config.name
    title = f"{name}: {result.config.architecture}, {result.config.loss.upper()}"
    files = {
        "comparison": plots.plot_comparison(result.inputs, result.targets, result.train.predictions,
                                            out / f"{name}_comparison.png", title=title),
        "curve": plots.plot_learning_curve(result.history, out / f"{name}_learning_curve.png",
                                           title=f"{name}: learning curve"),
        "boundary": plots.plot_decision_boundary(result.predict_proba, result.inputs, result.targets,
                                                 out / f"{name}_decision_boundary.png",
                                                 title=f"{name}: decision boundary"),
    }
    weights = out / f"{name}_weights.npz"
    result.model.save(weights)
    files["weights"] = weights
    predictions = out / f"{name}_predictions.csv"
    write_atomic(predictions, predictions_csv(result))
    files["predictions"] = predictions
    if graph:
        path, hint = draw_training_step(result.model, result.scaler.transform(result.inputs), result.targets,
                                        result.loss_fn, out / f"{name}_graph.svg")
        files["graph"] = path
        result.graph_hint = hint
    result.files = files
    return files
