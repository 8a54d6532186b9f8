"""One run of the lab: the data of a configuration, training and evaluation (no files: see `report`).

Example:
    >>> from tinygrad_lab.lab import LabConfig
    >>> run(LabConfig(epochs=3), quiet=True).history.epochs
    3
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from .. import nn
from ..autograd import Value, no_grad
from ..data import DATASETS, InputScaler, load_dataset
from ..train import Evaluation, History, evaluate, fit
from .config import LabConfig
from .model import build_model, make_loss, make_optimizer, make_scheduler

__all__ = ["RunResult", "prepare_data", "run"]


@dataclass
class RunResult:
    """Everything one :func:`run` produced.

    ``inputs``/``targets`` are the training set as given (unscaled), ``test_inputs``/``test_targets``
    the held-out set (None for fixed sets such as XOR-easy), ``scaler`` the input scaling,
    ``train``/``test`` the :class:`~tinygrad_lab.train.Evaluation` after training.
    """
    config: LabConfig
    model: nn.Sequential
    loss_fn: nn.Module
    history: History
    scaler: InputScaler
    inputs: np.ndarray
    targets: np.ndarray
    train: Evaluation
    test_inputs: np.ndarray | None = None
    test_targets: np.ndarray | None = None
    test: Evaluation | None = None
    files: dict[str, Path] = field(default_factory=dict)
    graph_hint: str | None = None

    @property
    def converged(self) -> bool:
        """True when every training point is classified right at the end."""
        return self.train.accuracy == 1.0

    def predict_proba(self, points: np.ndarray) -> np.ndarray:
        """The model's output (probability of class 1) at raw, unscaled ``points`` of shape (m, 2)."""
        with no_grad():
            out = self.model(Value(self.scaler.transform(points)))
        return np.asarray(out.data).reshape(-1)


def prepare_data(config: LabConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The training set and, for random data sets, a held-out set drawn independently.

    The training set of a random data set is ``load_dataset(name, n, seed=config.seed)``, so
    ``generate_linear(100, seed=3)`` is exactly the linear training set of seed 3.

    Example:
        >>> X, Y, X_test, Y_test = prepare_data(LabConfig(dataset="linear", test_points=50))
        >>> X.shape, X_test.shape
        ((100, 2), (50, 2))
    """
    inputs, targets = load_dataset(config.dataset, config.n_points, seed=config.seed)
    if DATASETS[config.dataset].fixed or config.test_points == 0:
        return inputs, targets, None, None
    held_out = np.random.default_rng([config.seed, 1])
    test_inputs, test_targets = load_dataset(config.dataset, config.test_points, seed=held_out)
    return inputs, targets, test_inputs, test_targets


def run(config: LabConfig, *, quiet: bool = False, progress: bool | None = None,
        file: IO[str] | None = None) -> RunResult:
    """Build, train and evaluate ``config``; the loss is printed every ``config.log_every`` epochs.

    Example:
        >>> result = run(LabConfig(epochs=10, log_every=5))
        epoch 5 loss ...
        epoch 10 loss ...
        >>> len(result.history.loss)
        10
    """
    inputs, targets, test_inputs, test_targets = prepare_data(config)
    scaler = InputScaler(config.scale_inputs).fit(inputs)
    model = build_model(config)
    loss_fn = make_loss(config)
    optimizer = make_optimizer(config, model)
    history = fit(model, scaler.transform(inputs), targets, loss_fn, optimizer, config.epochs,
                  batch_size=config.batch_size, scheduler=make_scheduler(config, optimizer),
                  target_loss=config.target_loss,
                  target_accuracy=1.0 if config.stop_at_zero_errors else None,
                  log_every=config.log_every or None, seed=config.seed, progress=progress, quiet=quiet, file=file)
    train = evaluate(model, scaler.transform(inputs), targets)
    test = None
    if test_inputs is not None:
        test = evaluate(model, scaler.transform(test_inputs), test_targets)
    return RunResult(config, model, loss_fn, history, scaler, inputs, targets, train, test_inputs, test_targets,
                     test)
