"""The lab's figures, drawn with matplotlib's Agg canvas (no window, no pyplot state) into PNG files.

Class 0 is red and class 1 is blue everywhere. Every figure has a fixed size in pixels
(:data:`SIZES`), so reports look the same from run to run. matplotlib is imported on first use.

Example:
    >>> from tinygrad_lab.data import generate_xor_easy
    >>> from tinygrad_lab.plots import plot_comparison
    >>> X, Y = generate_xor_easy()
    >>> plot_comparison(X, Y, Y, "xor.png")                # doctest: +SKIP
    PosixPath('xor.png')
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .utils.files import atomic_path

__all__ = ["DPI", "SIZES", "RED", "BLUE", "plot_comparison", "plot_learning_curve", "plot_decision_boundary",
           "plot_experiment_group", "plot_scale_study"]

DPI = 100
#: (width, height) in pixels of each kind of figure.
SIZES = {
    "comparison": (1000, 460),
    "curve": (700, 450),
    "boundary": (600, 540),
    "experiment": (1100, 450),
    "scale": (700, 450),
}
RED = "#d62728"
BLUE = "#1f77b4"


def _figure(kind: str, ncols: int = 1) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = SIZES[kind]
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols)
    return fig, axes


def _save(fig: Any, path: str | os.PathLike) -> Path:
    """Save as PNG atomically (a temporary file in the same folder, then a rename)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return Path(path)


def _points(ax: Any, inputs: np.ndarray, labels: np.ndarray, title: str, size: float = 36,
            adjustable: str = "datalim") -> None:
    labels = np.asarray(labels).reshape(-1)
    for value, color, name in ((0, RED, "class 0"), (1, BLUE, "class 1")):
        chosen = labels == value
        ax.scatter(inputs[chosen, 0], inputs[chosen, 1], c=color, s=size, label=name, edgecolors="white",
                   linewidths=0.6, zorder=3)
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal", adjustable=adjustable)


def _check_inputs(inputs: Any, labels: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    inputs = np.asarray(inputs, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1)
    if inputs.ndim != 2 or inputs.shape[1] != 2:
        raise ValueError(f"{what}: inputs must have shape (n, 2), got {inputs.shape}")
    if len(labels) != len(inputs):
        raise ValueError(f"{what}: {len(inputs)} points but {len(labels)} labels")
    return inputs, labels


def plot_comparison(inputs: Any, truth: Any, predictions: Any, path: str | os.PathLike,
                    title: str | None = None) -> Path:
    """Two panels: the ground truth and the predictions (wrong ones ringed in black).

    Example:
        >>> X = np.array([[0.0, 0.0], [1.0, 1.0]]); Y = np.array([[0.0], [1.0]])
        >>> plot_comparison(X, Y, Y, "cmp.png")              # doctest: +SKIP
        PosixPath('cmp.png')
    """
    inputs, truth = _check_inputs(inputs, truth, "plot_comparison")
    predictions = np.asarray(predictions).reshape(-1)
    if len(predictions) != len(truth):
        raise ValueError(f"plot_comparison: {len(truth)} labels but {len(predictions)} predictions")
    fig, (left, right) = _figure("comparison", 2)
    _points(left, inputs, truth, "Ground truth")
    wrong = predictions != truth
    _points(right, inputs, predictions, f"Prediction ({int(wrong.sum())} wrong of {len(truth)})")
    if wrong.any():
        right.scatter(inputs[wrong, 0], inputs[wrong, 1], s=140, facecolors="none", edgecolors="black",
                      linewidths=1.5, zorder=4, label="wrong")
    right.legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_learning_curve(history: Any, path: str | os.PathLike, title: str = "Learning curve") -> Path:
    """The loss per epoch (log scale when positive) and, when tracked, the training accuracy.

    ``history`` is a :class:`~tinygrad_lab.train.History` or a sequence of losses.

    Example:
        >>> plot_learning_curve([0.3, 0.2, 0.1], "curve.png")   # doctest: +SKIP
        PosixPath('curve.png')
    """
    losses = np.asarray(getattr(history, "loss", history), dtype=np.float64)
    accuracy = np.asarray(getattr(history, "accuracy", ()), dtype=np.float64)
    fig, ax = _figure("curve")
    epochs = np.arange(1, len(losses) + 1)
    ax.plot(epochs, losses, color="black", linewidth=1.4, label="loss")
    finite = losses[np.isfinite(losses)]
    if finite.size and (finite > 0).all():
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if accuracy.size:
        twin = ax.twinx()
        twin.plot(epochs[:len(accuracy)], 100 * accuracy, color=BLUE, linewidth=1.0, alpha=0.8,
                  label="training accuracy")
        twin.set_ylabel("training accuracy (%)", color=BLUE)
        twin.set_ylim(-2, 102)
    return _save(fig, path)


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], inputs: Any, labels: Any,
                           path: str | os.PathLike, title: str = "Decision boundary",
                           resolution: int = 200) -> Path:
    """A map of the model's output over the plane (red = class 0, blue = class 1), the 0.5
    contour (the decision boundary), and the training points.

    ``predict`` maps points of shape (m, 2) to outputs of shape (m,) (probability of class 1).

    Example:
        >>> plot_decision_boundary(lambda P: P[:, 1] > P[:, 0], X, Y, "map.png")   # doctest: +SKIP
        PosixPath('map.png')
    """
    inputs, labels = _check_inputs(inputs, labels, "plot_decision_boundary")
    low, high = inputs.min(axis=0), inputs.max(axis=0)
    pad = 0.1 * np.maximum(high - low, 1e-6)
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    values = np.asarray(predict(grid), dtype=np.float64).reshape(gx.shape)
    fig, ax = _figure("boundary")
    filled = ax.contourf(gx, gy, values, levels=np.linspace(0, 1, 21), cmap="RdBu", vmin=0, vmax=1,
                         alpha=0.75, extend="both")
    if values.min() < 0.5 < values.max():
        ax.contour(gx, gy, values, levels=[0.5], colors="black", linewidths=1.5)
    fig.colorbar(filled, ax=ax, label="output (probability of class 1)", ticks=[0, 0.25, 0.5, 0.75, 1])
    _points(ax, inputs, labels, title, size=24, adjustable="box")
    return _save(fig, path)


def plot_experiment_group(title: str, variants: Sequence[str], share_converged: Mapping[str, Sequence[float]],
                          curves: Mapping[str, Sequence[Any] | np.ndarray], path: str | os.PathLike,
                          curve_label: str = "") -> Path:
    """One experiment group: left, the share of seeds that converged per variant (one bar per data
    set); right, the median learning curve of each variant on one data set (``curve_label``).

    ``share_converged`` maps a data set name to one share (0..1) per variant; ``curves`` maps a
    variant to its median loss per epoch (any length; nan where no run was still training).

    Example:
        >>> plot_experiment_group("lr", ["0.1", "1"], {"xor_easy": [0.2, 1.0]},
        ...                       {"0.1": [0.3, 0.2], "1": [0.3, 0.01]}, "lr.png")  # doctest: +SKIP
        PosixPath('lr.png')
    """
    fig, (bars, lines) = _figure("experiment", 2)
    positions = np.arange(len(variants))
    width = 0.8 / max(1, len(share_converged))
    colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
    for k, (dataset, shares) in enumerate(share_converged.items()):
        container = bars.bar(positions + (k - (len(share_converged) - 1) / 2) * width,
                             100 * np.asarray(shares, dtype=float), width=width, label=dataset,
                             color=colors[k % len(colors)])
        bars.bar_label(container, labels=[f"{100 * s:.0f}%" for s in shares], fontsize=7, padding=1)
    bars.set_xticks(positions, [str(v) for v in variants], rotation=20 if len(variants) > 4 else 0,
                    fontsize=8)
    bars.set_ylim(0, 112)
    bars.set_ylabel("seeds that converged (%)")
    bars.set_title("share of seeds with zero training errors")
    bars.legend(fontsize=8, loc="lower right")
    bars.grid(True, axis="y", alpha=0.3)
    any_positive = False
    for variant in variants:
        curve = np.asarray(curves.get(variant, ()), dtype=np.float64)
        if curve.size == 0:
            continue
        lines.plot(np.arange(1, curve.size + 1), curve, linewidth=1.2, label=str(variant))
        any_positive = any_positive or bool((curve[np.isfinite(curve)] > 0).any())
    if any_positive:
        lines.set_yscale("log")
    lines.set_xlabel("epoch")
    lines.set_ylabel("median training loss")
    lines.set_title(f"median learning curve ({curve_label})" if curve_label else "median learning curve")
    lines.grid(True, alpha=0.3)
    if lines.get_lines():
        lines.legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def plot_scale_study(sizes: Sequence[int], epochs: Sequence[Sequence[float]], path: str | os.PathLike,
                     title: str = "Epochs to zero errors vs training-set size", budget: int | None = None) -> Path:
    """Epochs needed for zero training errors against the number of training points: one dot per
    seed, the median, and a red cross at the budget for each run that never got there.

    ``epochs[i]`` holds one value per seed for ``sizes[i]`` (nan: never reached zero errors).

    Example:
        >>> plot_scale_study([100, 200], [[50, 60], [80, math.nan]], "scale.png", budget=100)   # doctest: +SKIP
        PosixPath('scale.png')
    """
    if len(sizes) != len(epochs):
        raise ValueError(f"plot_scale_study: {len(sizes)} sizes but {len(epochs)} rows of epochs")
    fig, ax = _figure("scale")
    all_values = [v for row in epochs for v in row if math.isfinite(v)]
    top = float(budget) if budget else (max(all_values) * 1.05 if all_values else 1.0)
    medians: list[float] = []
    missed_label: str | None = f"not within {budget} epochs" if budget else "never reached"
    for size, row_values in zip(sizes, epochs, strict=True):
        row = np.asarray(row_values, dtype=np.float64)
        ok = np.isfinite(row)
        ax.scatter(np.full(ok.sum(), size), row[ok], color=BLUE, s=14, alpha=0.6)
        if (~ok).any():
            ax.scatter(np.full((~ok).sum(), size), np.full((~ok).sum(), top), color=RED, marker="x", s=30,
                       label=missed_label)
            missed_label = None
        medians.append(float(np.median(row[ok])) if ok.any() else math.nan)
    ax.plot(sizes, medians, color="black", linewidth=1.5, marker="o", label="median of the runs that got there")
    if budget:
        ax.axhline(budget, color=RED, linewidth=0.8, linestyle="--", alpha=0.6)
    ax.set_xlabel("training points")
    ax.set_ylabel("epochs to zero training errors")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, path)
