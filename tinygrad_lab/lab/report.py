"""`report.md` of one or more runs: the configurations, the results, links to every file.

Measured results (how often the demo converges over seeds) live in docs/lab.md, not here:
`demo_note` describes the demo's configuration and says where to find them.

Example:
    >>> from tinygrad_lab.lab import demo_configs
    >>> "docs/lab.md" in demo_note(demo_configs())
    True
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..data import load_dataset
from ..utils.files import write_atomic
from ..utils.tables import markdown_table
from .config import LabConfig
from .run import RunResult
from .views import accuracy_line

__all__ = ["demo_note", "write_report"]


def demo_note(configs: Sequence[LabConfig]) -> str:
    """The demo report's introduction: what the runs of `configs` are and why, and where the measured
    convergence rates are (docs/lab.md, measured by benchmarks/demo_convergence.py).

    Example:
        >>> from tinygrad_lab.lab import demo_configs
        >>> demo_note(demo_configs(epochs=100)).split(".")[0]
        'The classic network of the lab: 2-4-4-1 sigmoid, MSE loss, plain SGD, full batch, 100 epochs'
    """
    first = configs[0]
    rates = ", ".join(f"{c.learning_rate:g} on {c.dataset}" for c in configs)
    optimizer = {"sgd": "plain SGD", "momentum": "SGD with momentum", "adam": "Adam"}[first.optimizer]
    batch = "full batch" if first.batch_size is None else f"mini-batches of {first.batch_size}"
    init = {"xavier": f"Glorot-uniform with gain {first.init_gain:g} and zero biases",
            "default": "PyTorch's default initialisation", "zeros": "all zeros"}[first.init]
    return (f"The classic network of the lab: {first.architecture}, {first.loss.upper()} loss, {optimizer}, "
            f"{batch}, {first.epochs:,} epochs. Weights start {init}; the learning rate is {rates}. "
            "The network's loss has local minima, so some seeds get stuck (on XOR-easy typically with only "
            "the middle point (0.5, 0.5) wrong). How often these defaults converge over many seeds is "
            "measured by `benchmarks/demo_convergence.py`; the numbers are in docs/lab.md (\"Why these "
            "defaults: local minima\"). `tinygrad-lab experiments` shows the share of converging seeds for "
            "every setting.")


def _config_table(configs: Sequence[LabConfig]) -> list[str]:
    keys = ["dataset", "n_points", "hidden", "activation", "loss", "optimizer", "lr", "epochs", "batch_size",
            "init", "init_gain", "bias", "scale_inputs", "lr_schedule", "seed", "target_loss"]
    rows = []
    for key in keys:
        cells = []
        for c in configs:
            value: Any = getattr(c, key)
            if key == "lr":
                value = c.learning_rate
            elif key == "hidden":
                value = "-".join(map(str, c.layer_sizes))
            elif key == "batch_size" and value is None:
                value = "full"
            elif key == "n_points" and value is None:
                value = len(load_dataset(c.dataset, None, seed=0)[0])
            cells.append(str(value))
        rows.append([key, *cells])
    return markdown_table(["setting", *(c.name for c in configs)], rows)


def _result_section(result: RunResult, out: Path) -> list[str]:
    h, c = result.history, result.config
    files = result.files
    lines = [f"## {c.name}", "",
             f"- data: `{c.dataset}`, {len(result.targets)} training points",
             f"- training: {h.epochs} epochs ({h.stop_reason.replace('_', ' ')}), {h.seconds:.2f} s, "
             f"final loss {h.final_loss:.6f}",
             f"- first epoch with zero training errors: {h.converged_epoch or 'never'}",
             f"- {accuracy_line(result)}", ""]

    def link(kind: str, text: str, image: bool = True) -> None:
        if kind in files:
            rel = os.path.relpath(files[kind], out)
            lines.append(f"![{text}]({rel})" if image else f"- [{text}]({rel})")
            lines.append("")

    link("comparison", "ground truth vs prediction")
    link("curve", "learning curve")
    link("boundary", "decision boundary")
    if "graph" in files:
        rel = os.path.relpath(files["graph"], out)
        if files["graph"].suffix == ".svg":
            lines += [f"Computation graph of one training step (forward and backward): [{rel}]({rel})", ""]
        else:
            lines += [f"Computation graph of one training step, as DOT text: [{rel}]({rel}) "
                      f"({result.graph_hint or 'render it with Graphviz'})", ""]
    link("weights", "trained weights (load with `model.load(path)`)", image=False)
    link("predictions", "per-point predictions (CSV)", image=False)
    return lines


def write_report(results: Sequence[RunResult], out_dir: str | os.PathLike, title: str,
                 intro: Sequence[str] = ()) -> Path:
    """Write ``report.md`` in ``out_dir``: the configurations, the results and links to every file.

    Example:
        >>> write_report([result], "runs/example", "My run")     # doctest: +SKIP
        PosixPath('runs/example/report.md')
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title}", "", *intro, "", "## Configuration", "", *_config_table([r.config for r in results]), ""]
    rows = [[r.config.name, str(r.history.epochs), f"{r.history.final_loss:.6f}", f"{100 * r.train.accuracy:.2f}%",
             "-" if r.test is None else f"{100 * r.test.accuracy:.2f}%"] for r in results]
    lines += ["## Results", "", *markdown_table(["run", "epochs", "final loss", "training accuracy",
                                                 "held-out accuracy"], rows), ""]
    for r in results:
        lines += _result_section(r, out)
    path = out / "report.md"
    write_atomic(path, "\n".join(lines).rstrip() + "\n")
    return path
