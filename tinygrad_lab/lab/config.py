"""A lab configuration: every choice of one run, checked on construction, and the demo's two runs.

Example:
    >>> LabConfig(hidden=(3,), activation="tanh").architecture
    '2-3-1 tanh'
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..data import DATASETS, SCALINGS
from ..utils.checks import is_integer, is_real

__all__ = ["ACTIVATIONS", "LOSSES", "OPTIMIZERS", "INITS", "SCHEDULES", "DEFAULT_LR", "DEMO_SEED",
           "LINEAR_DEMO_LR", "LabConfig", "demo_configs"]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "none")
LOSSES = ("mse", "mae", "bce")
OPTIMIZERS = ("sgd", "momentum", "adam")
INITS = ("default", "xavier", "zeros")
SCHEDULES = ("none", "step", "plateau")

#: The learning rate used when a config leaves ``lr`` at None (plain SGD gets the demo's value).
DEFAULT_LR = {"sgd": 5.0, "momentum": 0.5, "adam": 0.01}

#: The seed of ``tinygrad-lab demo``.
DEMO_SEED = 0
#: The demo's learning rate on the linear set (XOR-easy uses ``DEFAULT_LR["sgd"]``).
LINEAR_DEMO_LR = 1.0


@dataclass(frozen=True)
class LabConfig:
    """One run of the lab. The defaults are the demo's XOR run: 2-4-4-1, sigmoid, MSE, plain SGD.

    Attributes:
        name: a short name, used for file names (``<name>_comparison.png`` ...).
        dataset: a name from ``tinygrad_lab.data.dataset_names()``.
        n_points: points of a random data set (None: its default; fixed sets ignore it).
        hidden: the hidden layer sizes, e.g. ``(4, 4)`` or ``(10, 5, 3, 5)``; ``()`` for none.
        activation: of the hidden layers: sigmoid, tanh, relu, leaky_relu or none (the output
            layer is always one sigmoid unit, so outputs are probabilities of class 1).
        loss: mse, mae (L1) or bce.
        optimizer: sgd, momentum (SGD with ``momentum``) or adam.
        lr: learning rate; None takes ``DEFAULT_LR[optimizer]``.
        epochs: the most epochs to train.
        batch_size: None for full batch, k for mini-batches, 1 for online updates.
        init: default (PyTorch's ``nn.Linear`` init), xavier (Glorot uniform with ``init_gain``,
            zero biases) or zeros (every weight and bias 0: shows the symmetry problem).
        init_gain: the gain of the xavier init. 4 is Glorot & Bengio's advice for sigmoid units.
        bias: whether the linear layers have biases.
        scale_inputs: none, standard or minmax (fitted on the training inputs).
        lr_schedule: none, step (halve every epochs/4) or plateau (halve when the loss stalls).
        seed: seeds the initialisation, the data of random sets, and the mini-batch order.
        target_loss: stop once the epoch loss is at most this.
        stop_at_zero_errors: stop at the first epoch with every training point right.
        log_every: print the loss every this many epochs (0: never).
        test_points: size of the held-out set drawn for random data sets (0: none).

    Example:
        >>> LabConfig(hidden=(10, 5, 3, 5), activation="relu").layer_sizes
        (2, 10, 5, 3, 5, 1)
    """
    name: str = "xor_easy"
    dataset: str = "xor_easy"
    n_points: int | None = None
    hidden: tuple[int, ...] = (4, 4)
    activation: str = "sigmoid"
    loss: str = "mse"
    optimizer: str = "sgd"
    lr: float | None = None
    momentum: float = 0.9
    epochs: int = 5000
    batch_size: int | None = None
    init: str = "xavier"
    init_gain: float = 4.0
    bias: bool = True
    scale_inputs: str = "none"
    lr_schedule: str = "none"
    seed: int = 0
    target_loss: float | None = None
    stop_at_zero_errors: bool = False
    log_every: int = 500
    test_points: int = 1000

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field (called on construction)."""
        def bad(name: str, expected: str) -> ValueError:
            return ValueError(f"{name} must be {expected}, got {getattr(self, name)!r}")

        choices = {"dataset": tuple(DATASETS), "activation": ACTIVATIONS, "loss": LOSSES,
                   "optimizer": OPTIMIZERS, "init": INITS, "lr_schedule": SCHEDULES, "scale_inputs": SCALINGS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise bad(name, "one of " + ", ".join(allowed))
        if not isinstance(self.name, str) or not self.name or any(c in self.name for c in "/\\\0"):
            raise bad("name", "a non-empty file-name-safe string")
        if self.n_points is not None and (not is_integer(self.n_points) or self.n_points < 1):
            raise bad("n_points", "a positive integer or None")
        if not all(is_integer(h) and h >= 1 for h in self.hidden):
            raise bad("hidden", "a sequence of positive integers such as (4, 4)")
        if self.lr is not None and (not is_real(self.lr, finite=True) or self.lr <= 0):
            raise bad("lr", "a positive number (or None for the optimizer's default)")
        if not is_real(self.momentum, finite=True) or not 0 <= self.momentum < 1:
            raise bad("momentum", "a number in [0, 1)")
        if not is_integer(self.epochs) or self.epochs < 1:
            raise bad("epochs", "a positive integer")
        if self.batch_size is not None and (not is_integer(self.batch_size) or self.batch_size < 1):
            raise bad("batch_size", "a positive integer or None (full batch)")
        if not is_real(self.init_gain, finite=True) or self.init_gain <= 0:
            raise bad("init_gain", "a positive number")
        if not is_integer(self.seed) or self.seed < 0:
            raise bad("seed", "a non-negative integer")
        if self.target_loss is not None and (not is_real(self.target_loss, finite=True) or self.target_loss < 0):
            raise bad("target_loss", "a non-negative number or None")
        if not is_integer(self.log_every) or self.log_every < 0:
            raise bad("log_every", "a non-negative integer (0: no log)")
        if not is_integer(self.test_points) or self.test_points < 0:
            raise bad("test_points", "a non-negative integer")

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Input, hidden and output sizes, e.g. (2, 4, 4, 1)."""
        return (2, *self.hidden, 1)

    @property
    def learning_rate(self) -> float:
        """``lr``, or the optimizer's default when ``lr`` is None."""
        return DEFAULT_LR[self.optimizer] if self.lr is None else float(self.lr)

    @property
    def architecture(self) -> str:
        """A short description such as ``2-4-4-1 sigmoid``."""
        return "-".join(map(str, self.layer_sizes)) + f" {self.activation}"

    def replace(self, **changes: Any) -> LabConfig:
        """A copy with some fields changed (and checked).

        Example:
            >>> LabConfig().replace(lr=1.0).lr
            1.0
        """
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(f"unknown LabConfig field(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (hidden as a list), e.g. for a report."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d


def demo_configs(seed: int = DEMO_SEED, epochs: int | None = None) -> list[LabConfig]:
    """The two runs of ``tinygrad-lab demo``: the linear set (100 points) and XOR-easy.

    Both use the classic 2-4-4-1 sigmoid network, MSE and plain SGD for 5,000 epochs, with
    Glorot-uniform weights of gain 4 and zero biases. The learning rate is 5 on XOR-easy (a large
    step lets more runs leave the plateau where the middle point (0.5, 0.5) stays wrong) and 1 on
    the linear set (where 5 makes the loss oscillate). See ``benchmarks/demo_convergence.py`` for
    how often that converges over 100 seeds.

    Example:
        >>> [(c.dataset, c.learning_rate) for c in demo_configs()]
        [('linear', 1.0), ('xor_easy', 5.0)]
    """
    base = LabConfig(seed=seed) if epochs is None else LabConfig(seed=seed, epochs=epochs)
    return [base.replace(name="linear", dataset="linear", lr=LINEAR_DEMO_LR),
            base.replace(name="xor_easy", dataset="xor_easy")]


