"""The pieces of a run built from a configuration: the network, the loss, the optimizer, the schedule.

Example:
    >>> from tinygrad_lab.lab import LabConfig
    >>> type(make_scheduler(LabConfig(), make_optimizer(LabConfig(), build_model(LabConfig()))))
    <class 'NoneType'>
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn, optim
from .config import LabConfig

__all__ = ["build_model", "make_loss", "make_optimizer", "make_scheduler"]


def _activation(name: str) -> nn.Module | None:
    return {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU,
            "none": lambda: None}[name]()


def build_model(config: LabConfig) -> nn.Sequential:
    """The network of ``config``, initialised from a generator seeded with ``config.seed``.

    The draws are those ``manual_seed(config.seed)`` would give, from a generator of the run's own, so
    runs in threads (a Dask worker) cannot disturb one another.

    Example:
        >>> build_model(LabConfig(hidden=(3,)))
        Sequential(
          (0): Linear(in_features=2, out_features=3, bias=True)
          (1): Sigmoid()
          (2): Linear(in_features=3, out_features=1, bias=True)
          (3): Sigmoid()
        )
    """
    rng = np.random.default_rng(config.seed)   # what manual_seed(seed) makes, but this run's own (thread-safe)
    sizes = config.layer_sizes
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        linear = nn.Linear(n_in, n_out, bias=config.bias, generator=rng)
        if config.init == "xavier":
            nn.init.xavier_uniform_(linear.weight, gain=config.init_gain, generator=rng)
        elif config.init == "zeros":
            nn.init.zeros_(linear.weight)
        if linear.bias is not None and config.init != "default":
            nn.init.zeros_(linear.bias)
        layers.append(linear)
        is_output = i == len(sizes) - 2
        act = nn.Sigmoid() if is_output else _activation(config.activation)
        if act is not None:
            layers.append(act)
    return nn.Sequential(*layers)


def make_loss(config: LabConfig) -> nn.Module:
    """``nn.MSELoss``, ``nn.L1Loss`` or ``nn.BCELoss`` for ``config.loss``.

    Example:
        >>> make_loss(LabConfig(loss="bce"))
        BCELoss()
    """
    return {"mse": nn.MSELoss, "mae": nn.L1Loss, "bce": nn.BCELoss}[config.loss]()


def make_optimizer(config: LabConfig, model: nn.Module) -> optim.Optimizer:
    """The optimizer of ``config`` over ``model.parameters()``.

    Example:
        >>> type(make_optimizer(LabConfig(optimizer="adam"), build_model(LabConfig()))).__name__
        'Adam'
    """
    lr = config.learning_rate
    if config.optimizer == "adam":
        return optim.Adam(model.parameters(), lr=lr)
    momentum = config.momentum if config.optimizer == "momentum" else 0.0
    return optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def make_scheduler(config: LabConfig, optimizer: optim.Optimizer) -> Any:
    """None, ``StepLR`` (halve every epochs/4) or ``ReduceLROnPlateau`` (halve after a stall).

    The plateau rule halves the rate when the loss has not improved by 0.1 % for
    max(20, epochs/50) epochs.

    Example:
        >>> cfg = LabConfig(lr_schedule="step")
        >>> type(make_scheduler(cfg, make_optimizer(cfg, build_model(cfg)))).__name__
        'StepLR'
    """
    if config.lr_schedule == "step":
        return optim.lr_scheduler.StepLR(optimizer, step_size=max(1, config.epochs // 4), gamma=0.5)
    if config.lr_schedule == "plateau":
        return optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=max(20, config.epochs // 50),
                                                    threshold=1e-3)
    return None
