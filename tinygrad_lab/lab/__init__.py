"""The back-propagation lab: one configuration -> a model, its training, and its result files.

A :class:`LabConfig` says everything about one run (data set, hidden sizes, activation, loss,
optimizer, learning rate, epochs, batch size, initialisation, biases, input scaling, learning-rate
schedule, seed, target loss, log interval, output folder). :func:`run` trains it and returns a
:class:`RunResult`; :func:`save_run` writes its figures, graph drawing, weights and predictions;
:func:`write_report` writes ``report.md``.

The package, one job per file: `config` (LabConfig, the demo's runs), `model` (network, loss,
optimizer, schedule of a configuration), `run` (data, training, evaluation), `views` (text views),
`files` (a run's figures, graph, weights, predictions), `report` (``report.md``), `seeds` (many seeds of
one configuration trained at once).

Example:
    >>> from tinygrad_lab.lab import LabConfig, run
    >>> result = run(LabConfig(dataset="xor_easy", epochs=200), quiet=True)
    >>> result.history.epochs, result.train.accuracy <= 1.0
    (200, True)
"""
from .config import (
    ACTIVATIONS,
    DEFAULT_LR,
    DEMO_SEED,
    INITS,
    LINEAR_DEMO_LR,
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    LabConfig,
    demo_configs,
)
from .files import GRAPHVIZ_HINT, check_out_dir, draw_training_step, save_run
from .model import build_model, make_loss, make_optimizer, make_scheduler
from .report import demo_note, write_report
from .run import RunResult, prepare_data, run
from .seeds import run_seeds, seed_groups
from .views import format_predictions, show_network

__all__ = [
    "ACTIVATIONS", "LOSSES", "OPTIMIZERS", "INITS", "SCHEDULES", "DEFAULT_LR", "LabConfig", "RunResult",
    "build_model", "make_loss", "make_optimizer", "make_scheduler", "prepare_data", "run", "demo_configs",
    "DEMO_SEED", "format_predictions", "show_network", "draw_training_step", "save_run", "write_report",
    "demo_note", "LINEAR_DEMO_LR", "GRAPHVIZ_HINT", "check_out_dir", "run_seeds", "seed_groups",
]
