"""The ``tinygrad-lab`` command (also ``python -m tinygrad_lab``).

Subcommands:

* ``demo``: the lab's main job with no arguments: trains the linear and XOR-easy classifiers and
  writes figures, the graph of one training step, the weights and ``report.md`` to ``runs/demo``.
* ``train``: one configuration, every setting a flag (``tinygrad-lab train --help``).
* ``experiments``: the lab's experiment grid over several seeds, in parallel, one report.
* ``graph``: draw the computation graph of one training step of a configuration.

Example:
    >>> main(["train", "--epochs", "20", "--no-files", "--quiet"])
    final loss ..., accuracy ...%
    0
    >>> main(["train", "--lr", "-1"])                           # doctest: +SKIP
    usage: tinygrad-lab train ...
    tinygrad-lab train: error: argument --lr: must be a positive number, got '-1'
    2
"""
from __future__ import annotations

import argparse
import datetime
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["main", "build_parser"]

PROG = "tinygrad-lab"


# ----------------------------------------------------------------------------------------------------
# argument types: each raises ArgumentTypeError with a message in the user's terms
# ----------------------------------------------------------------------------------------------------

def _int_at_least(minimum: int, wording: str) -> Callable[[str], int]:
    """An argparse type for integers >= `minimum`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {wording}, got {text!r}")
        return value
    return parse


_positive_int = _int_at_least(1, "a positive integer")
_non_negative_int = _int_at_least(0, "an integer >= 0")


def _number(text: str, *, positive: bool) -> float:
    kind = "a positive number" if positive else "a number >= 0"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {kind}, got {text!r}") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise argparse.ArgumentTypeError(f"must be {kind}, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    return _number(text, positive=True)


def _non_negative_float(text: str) -> float:
    return _number(text, positive=False)


def _momentum(text: str) -> float:
    value = _non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return value


def _hidden_sizes(text: str) -> tuple[int, ...]:
    """``4,4`` -> (4, 4); ``none`` -> () (no hidden layer). ``0`` is refused: a layer of 0 units is no network,
    and "no hidden layer" is spelled ``none``."""
    cleaned = text.strip().lower()
    if cleaned == "none":
        return ()
    parts = [p.strip() for p in cleaned.replace(" ", ",").split(",") if p.strip()]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        sizes = ()
    if not sizes or any(s < 1 for s in sizes):
        zero = " (a layer needs at least 1 unit)" if 0 in sizes else ""
        raise argparse.ArgumentTypeError(f"expected positive layer sizes separated by commas, e.g. 4,4 or "
                                         f"10,5,3,5, or 'none' for no hidden layer; got {text!r}{zero}")
    return sizes


def _batch_size(text: str) -> int | None:
    """``full`` -> None (full batch); ``online`` -> 1; an integer -> mini-batches of that size."""
    cleaned = text.strip().lower()
    if cleaned == "full":
        return None
    if cleaned == "online":
        return 1
    try:
        value = int(cleaned)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 'full', 'online' or a positive integer mini-batch size, "
                                         f"got {text!r}")
    return value


def _group_list(text: str) -> list[str]:
    from .experiments import group_names

    names = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in group_names()]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"unknown group(s) {', '.join(unknown) or repr(text)}; choose from: "
                                         f"{', '.join(group_names())}")
    return names


# ----------------------------------------------------------------------------------------------------
# the parser
# ----------------------------------------------------------------------------------------------------

_TRAINING_FLAGS = ("optimizer", "lr", "momentum", "epochs", "batch_size", "lr_schedule", "target_loss",
                   "stop_at_zero_errors", "log_every", "test_points")


def _add_config_arguments(parser: argparse.ArgumentParser, training: bool = True) -> None:
    """The flags of one lab configuration (shared by ``train`` and ``graph``); ``training=False`` leaves out
    those that only training uses (the optimizer, epochs, stopping, logging: ``_TRAINING_FLAGS``)."""
    from .data import SCALINGS, dataset_names
    from .lab import ACTIVATIONS, DEFAULT_LR, INITS, LOSSES, OPTIMIZERS, SCHEDULES

    g = parser.add_argument_group("configuration (defaults: the demo's XOR-easy run)")
    g.add_argument("--dataset", choices=dataset_names(), default="xor_easy", help="data set (default xor_easy)")
    g.add_argument("--points", type=_positive_int, default=None, metavar="N",
                   help="points of a random data set (default: its own, e.g. 100 for linear)")
    g.add_argument("--hidden", type=_hidden_sizes, default=(4, 4), metavar="SIZES",
                   help="hidden layer sizes, e.g. 4,4 (default) or 10,5,3,5; 'none' for no hidden layer "
                        "(0 is refused)")
    g.add_argument("--activation", choices=ACTIVATIONS, default="sigmoid", help="of the hidden layers")
    g.add_argument("--loss", choices=LOSSES, default="mse", help="mse, mae (L1) or bce (default mse)")
    g.add_argument("--init", choices=INITS, default="xavier",
                   help="default (PyTorch's), xavier (Glorot uniform, zero biases; the default) or zeros")
    g.add_argument("--init-gain", type=_positive_float, default=4.0,
                   help="gain of the xavier init (default 4, Glorot & Bengio's advice for sigmoid units)")
    g.add_argument("--no-bias", dest="bias", action="store_false", help="linear layers without biases")
    g.add_argument("--scale-inputs", choices=SCALINGS, default="none",
                   help="input scaling fitted on the training set (default none)")
    g.add_argument("--seed", type=_non_negative_int, default=0, help="seed of init, data and batches (default 0)")
    if not training:
        return
    t = parser.add_argument_group("training")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="default sgd")
    t.add_argument("--lr", type=_positive_float, default=None,
                   help="learning rate (default: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    t.add_argument("--momentum", type=_momentum, default=0.9, help="for --optimizer momentum (default 0.9)")
    t.add_argument("--epochs", type=_positive_int, default=5000, help="most epochs to train (default 5000)")
    t.add_argument("--batch-size", type=_batch_size, default=None, metavar="full|online|K",
                   help="full batch (default), online (one point per update) or mini-batches of K points")
    t.add_argument("--lr-schedule", choices=SCHEDULES, default="none",
                   help="none, step (halve every epochs/4) or plateau (halve when the loss stalls)")
    t.add_argument("--target-loss", type=_non_negative_float, default=None, help="stop once the loss is this low")
    t.add_argument("--stop-at-zero-errors", action="store_true",
                   help="stop at the first epoch with every training point right")
    t.add_argument("--log-every", type=_non_negative_int, default=500, metavar="N",
                   help="print the loss every N epochs (default 500; 0: never)")
    t.add_argument("--test-points", type=_non_negative_int, default=1000, metavar="N",
                   help="held-out points drawn for random data sets (default 1000; 0: none)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tinygrad-lab`` (for documentation tools and tests).

    Example:
        >>> build_parser().parse_args(["train", "--hidden", "10,5,3,5"]).hidden
        (10, 5, 3, 5)
    """
    parser = argparse.ArgumentParser(
        prog=PROG, description="The back-propagation lab on tinygrad_lab: train small networks on 2-D data, "
                               "draw their figures and computation graphs, run the lab's experiments.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="train the linear and XOR-easy classifiers and write a report (seconds)",
                          description="Train the classic 2-4-4-1 sigmoid network (MSE, SGD) on the linear and "
                                      "XOR-easy sets; print the loss log, predictions and accuracy; write "
                                      "figures, the graph of one training step, the weights and report.md.")
    demo.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    demo.add_argument("--seed", type=_non_negative_int, default=None, help="seed (default: the demo's own, 0)")
    demo.add_argument("--epochs", type=_positive_int, default=None, help="epochs per data set (default 5000)")
    demo.add_argument("--quiet", action="store_true", help="no loss log, predictions or progress bar")

    train = sub.add_parser("train", help="train one configuration (every setting is a flag)",
                           description="Train one configuration and write its figures, graph, weights and "
                                       "report.md. Without flags: the demo's XOR-easy run.")
    _add_config_arguments(train)
    out = train.add_argument_group("output")
    out.add_argument("--out", default=None, help="output folder (default runs/train-<dataset>-<time>)")
    out.add_argument("--name", default=None, help="file-name prefix (default: the data set)")
    out.add_argument("--show-network", action="store_true",
                     help="print each layer's units: weights, bias and outputs on the first points")
    out.add_argument("--show-points", type=_positive_int, default=4, metavar="N",
                     help="how many points --show-network evaluates (default 4)")
    out.add_argument("--no-files", action="store_true", help="print only; write no files")
    out.add_argument("--no-graph", action="store_true", help="skip the computation-graph drawing")
    out.add_argument("--quiet", action="store_true", help="no loss log, predictions or progress bar")

    exp = sub.add_parser("experiments", help="run the lab's experiment grid and write one report",
                         description="Learning rates, hidden units and layers, activations, optimizers, losses, "
                                     "initialisations, batch sizes, learning-rate schedules and a data-scale study, "
                                     "each over several seeds, in parallel processes.")
    exp.add_argument("--quick", action="store_true", help="a fast subset (fewer variants, 3 seeds, 1500 epochs)")
    exp.add_argument("--seeds", type=_positive_int, default=None, help="seeds per configuration (default 10, quick 3)")
    exp.add_argument("--epochs", type=_positive_int, default=None, help="override every epoch budget")
    exp.add_argument("--jobs", type=_positive_int, default=None, help="worker processes (default: CPU count)")
    exp.add_argument("--dask", default=None, metavar="ADDRESS",
                     help="run on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://host:8786); "
                          "needs pip install -e '.[cluster]'")
    exp.add_argument("--only", type=_group_list, default=None, metavar="GROUPS",
                     help="comma-separated groups to run (see --list)")
    exp.add_argument("--list", action="store_true", help="list the experiment groups and exit")
    exp.add_argument("--out", default=None, help="output folder (default runs/experiments[-quick])")
    exp.add_argument("--quiet", action="store_true", help="no progress bar or summary lines")

    graph = sub.add_parser("graph", help="draw the computation graph of one training step",
                           description="Build a configuration (default: the 2-4-4-1 net on XOR-easy), run one "
                                       "forward and backward pass, and draw its graph (SVG, PNG, PDF, JPEG or DOT).")
    _add_config_arguments(graph, training=False)
    draw = graph.add_argument_group("drawing")
    draw.add_argument("--out", default="runs/graph.svg",
                      help="output file; its suffix picks the format: .svg, .png, .pdf, .jpg or .dot "
                           "(default runs/graph.svg)")
    draw.add_argument("--format", choices=("svg", "png", "pdf", "jpg", "dot"), default=None,
                      help="svg, png, pdf, jpg or dot (default: from --out's suffix)")
    draw.add_argument("--direction", choices=("auto", "LR", "TB", "RL", "BT"), default="auto",
                      help="layout: auto (default: chosen from the graph's shape), LR (left to right), TB, RL, BT")
    draw.add_argument("--depth", type=_non_negative_int, default=None, metavar="N",
                      help="open N levels of module calls (0: the model and the loss as single boxes; default all)")
    draw.add_argument("--max-nodes", type=_positive_int, default=None, metavar="N",
                      help="draw the N values nearest the loss and one box for the rest (default all)")
    draw.add_argument("--show-order", action="store_true", help="number the values in the order backward() visits them")
    draw.add_argument("--grads", action=argparse.BooleanOptionalAction, default=True,
                      help="run the backward pass and show every value's gradient (default; --no-grads: the forward "
                           "graph only)")
    return parser


# ----------------------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------------------

def _config_from(args: argparse.Namespace, name: str | None = None) -> Any:
    from .lab import LabConfig

    training = {flag: getattr(args, flag) for flag in _TRAINING_FLAGS if hasattr(args, flag)}
    return LabConfig(name=name or args.dataset, dataset=args.dataset, n_points=args.points, hidden=args.hidden,
                     activation=args.activation, loss=args.loss, init=args.init, init_gain=args.init_gain,
                     bias=args.bias, scale_inputs=args.scale_inputs, seed=args.seed, **training)


def _describe(config: Any) -> str:
    batch = "full batch" if config.batch_size is None else f"batch size {config.batch_size}"
    init = f"xavier (gain {config.init_gain:g})" if config.init == "xavier" else config.init
    return (f"{config.architecture} network, {config.loss.upper()} loss, {config.optimizer} lr "
            f"{config.learning_rate:g}, {batch}, init {init}, up to {config.epochs} epochs, seed {config.seed}")


def _train_and_print(config: Any, quiet: bool, out: IO[str]) -> Any:
    from .lab import format_predictions, run

    if not quiet:
        print(f"== {config.name}: {_describe(config)}", file=out)
    result = run(config, quiet=quiet, file=out)
    if not quiet:
        h = result.history
        print(f"stopped after {h.epochs} epochs ({h.stop_reason.replace('_', ' ')}) in {h.seconds:.2f} s; "
              f"final loss {h.final_loss:.6f}", file=out)
        print(format_predictions(result), file=out)
        print(file=out)
    return result


def _print_files(result: Any, out: IO[str]) -> None:
    for kind, path in result.files.items():
        print(f"  {kind:<12} {path}", file=out)
    if result.graph_hint:
        print(f"  note: {result.graph_hint}", file=out)


def _cmd_demo(args: argparse.Namespace, out: IO[str]) -> int:
    from .lab import DEMO_SEED, check_out_dir, demo_configs, demo_note, save_run, write_report

    seed = DEMO_SEED if args.seed is None else args.seed
    results = []
    configs = demo_configs(seed=seed, epochs=args.epochs)
    check_out_dir(args.out)                                 # before training, not after
    for config in configs:
        result = _train_and_print(config, args.quiet, out)
        save_run(result, args.out)
        results.append(result)
    report = write_report(results, args.out, "tinygrad-lab demo: linear and XOR-easy classifiers",
                          intro=[demo_note(configs)])
    print(f"wrote {report} and:", file=out)
    for result in results:
        _print_files(result, out)
    return 0


def _cmd_train(args: argparse.Namespace, out: IO[str]) -> int:
    from .lab import check_out_dir, save_run, show_network, write_report

    config = _config_from(args, args.name)
    folder = None
    if not args.no_files:                                   # check the folder before training, not after
        folder = check_out_dir(args.out or os.path.join(
            "runs", f"train-{config.dataset}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}"))
    result = _train_and_print(config, args.quiet, out)
    if args.quiet:
        print(f"final loss {result.history.final_loss:.6f}, accuracy {100 * result.train.accuracy:.2f}%", file=out)
    if args.show_network:
        print(show_network(result.model, result.scaler.transform(result.inputs), points=args.show_points), file=out)
    if folder is None:
        return 0
    save_run(result, folder, graph=not args.no_graph)
    report = write_report([result], folder, f"tinygrad-lab train: {config.name}",
                          intro=[f"`{_describe(config)}`"])
    print(f"wrote {report} and:", file=out)
    _print_files(result, out)
    return 0


def _cmd_experiments(args: argparse.Namespace, out: IO[str]) -> int:
    from .experiments import GROUPS, run_experiments

    if args.list:
        for group in GROUPS:
            print(f"{group.key:<18} {group.title}: " + ", ".join(v.label for v in group.variants), file=out)
        print(f"{'data_scale':<18} Data scale: the linear set grown by 100 points at a time", file=out)
        return 0
    folder = args.out or ("runs/experiments-quick" if args.quick else "runs/experiments")
    try:
        run_experiments(folder, quick=args.quick, seeds=args.seeds, epochs=args.epochs, jobs=args.jobs,
                        only=args.only, quiet=args.quiet, file=out, dask=args.dask)
    except RuntimeError as error:
        if args.dask is None:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _cmd_graph(args: argparse.Namespace, out: IO[str]) -> int:
    import numpy as np

    from . import viz
    from .autograd import Value
    from .data import InputScaler
    from .lab import GRAPHVIZ_HINT, build_model, make_loss, prepare_data

    suffix = Path(args.out).suffix.lower()
    suffix = ".jpg" if suffix == ".jpeg" else suffix
    if args.format is None and suffix not in (".svg", ".png", ".pdf", ".jpg", ".dot"):
        raise ValueError(f"--out must end in .svg, .png, .pdf, .jpg or .dot (or give --format), got {args.out!r}")
    if args.format is not None and suffix in (".svg", ".png", ".pdf", ".jpg", ".dot") and suffix[1:] != args.format:
        raise ValueError(f"--out {args.out!r} ends in {suffix} but --format is {args.format}; make them agree")
    config = _config_from(args)
    inputs, targets, _, _ = prepare_data(config)
    scaled = InputScaler(config.scale_inputs).fit(inputs).transform(inputs)
    model = build_model(config)
    loss = make_loss(config)(model(Value(scaled, label="x")), Value(np.asarray(targets, dtype=np.float64), label="y"))
    loss.label = "loss"
    drawing = viz.draw_graph(loss, params=model, grads=args.grads, depth=args.depth, max_nodes=args.max_nodes,
                             show_order=args.show_order, rankdir=None if args.direction == "auto" else args.direction)
    hint: str | None = None
    try:
        path = viz.render(drawing, args.out, format=args.format)
    except viz.GraphvizNotFoundError as err:
        path, hint = err.dot_path, GRAPHVIZ_HINT
    what = "one training step (forward and backward)" if args.grads else "the forward pass"
    print(f"wrote the graph of {what} of the {config.architecture} network on {config.dataset}: {path}", file=out)
    if hint:
        print(f"note: {hint}", file=out)
    return 0


_COMMANDS = {"demo": _cmd_demo, "train": _cmd_train, "experiments": _cmd_experiments, "graph": _cmd_graph}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tinygrad-lab`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Bad arguments print a message and return 2; other expected failures (a folder that cannot be
    written, ...) print ``tinygrad-lab: error: ...`` and return 1. No traceback.

    Example:
        >>> main(["experiments", "--list"])                        # doctest: +ELLIPSIS
        learning_rate      Learning rate: 0.1, 0.5, 1, 2, 5, 10
        ...
        0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:          # argparse already printed the usage and the message
        return stop.code if isinstance(stop.code, int) else 2
    out = sys.stdout
    try:
        return _COMMANDS[args.command](args, out)
    except ValueError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:         # e.g. the Graphviz program failed
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"{PROG}: error: {err.strerror or err}"
              + (f": {err.filename}" if getattr(err, "filename", None) else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
