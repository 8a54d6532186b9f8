"""The experiment grid: the groups of variants, each changing one setting of the demo, and the plan of runs.

Example:
    >>> [g.key for g in GROUPS][:2]
    ['learning_rate', 'hidden_units']
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..lab import LabConfig, demo_configs
from ..utils.checks import is_integer

# ----------------------------------------------------------------------------------------------------
# the grid
# ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """One configuration of a group: a label and the config fields it changes.

    ``lr_scale`` multiplies the data set's base learning rate (e.g. 0.1 for momentum 0.9, which
    keeps the effective step of plain SGD).

    Example:
        >>> Variant("tanh", {"activation": "tanh"}).label
        'tanh'
    """
    label: str
    changes: dict[str, Any] = field(default_factory=dict)
    lr_scale: float | None = None
    quick: bool = True


@dataclass(frozen=True)
class ExperimentGroup:
    """A set of variants that differ in one setting, with the text the report shows for them.

    ``base`` changes every variant's starting configuration (e.g. a common learning rate);
    ``epochs`` replaces the demo's 5,000-epoch budget.

    Example:
        >>> GROUPS[0].title
        'Learning rate'
    """
    key: str
    title: str
    about: str
    variants: tuple[Variant, ...]
    base: dict[str, Any] = field(default_factory=dict)
    epochs: int | None = None


_SQRT2 = math.sqrt(2.0)

GROUPS: tuple[ExperimentGroup, ...] = (
    ExperimentGroup(
        "learning_rate", "Learning rate",
        "Plain SGD with different step sizes. Too small a rate has not finished within the epoch budget; "
        "a larger one converges in fewer epochs; too large a rate makes the loss oscillate. On XOR-easy a "
        "larger step also lets more runs escape the plateau where one point stays wrong.",
        (Variant("0.1", {"lr": 0.1}), Variant("0.5", {"lr": 0.5}, quick=False), Variant("1", {"lr": 1.0}),
         Variant("2", {"lr": 2.0}, quick=False), Variant("5", {"lr": 5.0}), Variant("10", {"lr": 10.0}, quick=False))),
    ExperimentGroup(
        "hidden_units", "Hidden units (two hidden layers)",
        "Wider layers give gradient descent more ways to reach a solution: fewer runs get stuck, at a "
        "higher cost per epoch. Two units per layer are barely enough for XOR.",
        (Variant("2-2", {"hidden": (2, 2)}), Variant("4-4", {"hidden": (4, 4)}),
         Variant("8-8", {"hidden": (8, 8)}, quick=False), Variant("16-16", {"hidden": (16, 16)}))),
    ExperimentGroup(
        "hidden_layers", "Number of hidden layers (4 units each)",
        "No hidden layer is logistic regression: a straight boundary, right for the linear set and "
        "unable to separate XOR. One hidden layer is already enough for both; deeper sigmoid stacks "
        "train more slowly because each sigmoid shrinks the gradient (at most 1/4 per layer).",
        (Variant("0", {"hidden": ()}), Variant("1", {"hidden": (4,)}), Variant("2", {"hidden": (4, 4)}, quick=False),
         Variant("3", {"hidden": (4, 4, 4)}), Variant("4", {"hidden": (4, 4, 4, 4)}, quick=False))),
    ExperimentGroup(
        "activation_on_off", "With vs without activation functions",
        "Without activations the hidden layers are linear, so the whole network (before its output "
        "sigmoid) is one linear map: it fits the linear set and can never separate XOR.",
        (Variant("sigmoid", {"activation": "sigmoid"}), Variant("none", {"activation": "none"}))),
    ExperimentGroup(
        "activation", "Sigmoid vs tanh vs ReLU (lr 1, Glorot init with each one's gain)",
        "Same learning rate for all; each activation gets the Glorot gain suited to it (sigmoid 4, tanh "
        "5/3, ReLU sqrt 2). tanh is centred at 0 and has four times sigmoid's slope, so it usually trains "
        "faster; ReLU units can die (output 0 for every input), which stalls small networks.",
        (Variant("sigmoid", {"activation": "sigmoid", "init_gain": 4.0}),
         Variant("tanh", {"activation": "tanh", "init_gain": 5.0 / 3.0}),
         Variant("relu", {"activation": "relu", "init_gain": _SQRT2}),
         Variant("leaky_relu", {"activation": "leaky_relu", "init_gain": _SQRT2}, quick=False)),
        base={"lr": 1.0}),
    ExperimentGroup(
        "optimizer", "SGD vs momentum vs Adam",
        "Momentum (0.9, with a tenth of the SGD rate so the long-run step is the same) and Adam (lr 0.01) "
        "against plain SGD. Adam rescales each parameter's step by its gradient history, which helps on "
        "the flat plateaus of sigmoid networks.",
        (Variant("sgd", {"optimizer": "sgd"}), Variant("momentum", {"optimizer": "momentum"}, lr_scale=0.1),
         Variant("adam", {"optimizer": "adam", "lr": 0.01}))),
    ExperimentGroup(
        "loss", "MSE vs MAE vs BCE",
        "Mean squared error, mean absolute error (L1) and binary cross-entropy on the same sigmoid "
        "output. With MSE the output sigmoid's slope multiplies the gradient, so a confidently wrong "
        "point learns slowly; BCE cancels that factor. MAE's gradient does not shrink near the target.",
        (Variant("mse", {"loss": "mse"}), Variant("mae", {"loss": "mae"}), Variant("bce", {"loss": "bce"}))),
    ExperimentGroup(
        "init", "Zero vs random vs Glorot initialisation",
        "With every weight zero all hidden units of a layer compute the same thing and receive the same "
        "gradient, so they stay identical forever (the symmetry problem): the network acts as if each "
        "layer had one unit and cannot learn XOR. Random initialisation breaks the symmetry; how large "
        "the random weights are changes how often training gets stuck.",
        (Variant("zeros", {"init": "zeros"}), Variant("PyTorch default", {"init": "default"}),
         Variant("Glorot (gain 1)", {"init": "xavier", "init_gain": 1.0}, quick=False),
         Variant("Glorot gain 4 (demo)", {"init": "xavier", "init_gain": 4.0}))),
    ExperimentGroup(
        "batch_size", "Full batch vs mini-batch vs online updates (lr 1, stop at zero errors)",
        "The same learning rate with one update per epoch (full batch), one per 8 points (mini-batch) "
        "or one per point (online). More updates per epoch converge in fewer epochs, but each epoch costs "
        "more; the noise of small batches can also shake a run off a plateau. Runs stop at zero errors, "
        "so the final loss is the loss at that moment.",
        (Variant("full", {"batch_size": None}), Variant("mini-batch 8", {"batch_size": 8}),
         Variant("online (1)", {"batch_size": 1})),
        base={"lr": 1.0, "stop_at_zero_errors": True}, epochs=2000),
    ExperimentGroup(
        "lr_schedule", "Fixed vs decaying learning rate",
        "A fixed rate, one halved every quarter of the budget (step), and one halved whenever the loss "
        "stops improving (plateau). Smaller late steps settle into the minimum; halving too early can "
        "leave a run on a plateau for longer.",
        (Variant("fixed", {"lr_schedule": "none"}), Variant("step (halve every epochs/4)", {"lr_schedule": "step"},
                                                            quick=False),
         Variant("plateau (halve on stall)", {"lr_schedule": "plateau"}))),
)

#: The training-set sizes of the data-scale study (linear set, grown by 100 points at a time).
SCALE_SIZES = tuple(range(100, 1001, 100))
_QUICK_SCALE_SIZES = (100, 200, 300)
_SCALE_EPOCHS = 10000
_QUICK = {"seeds": 3, "epochs": 1500}
_FULL = {"seeds": 10}
#: The data sets every configuration of the grid runs on (names from `tinygrad_lab.data.DATASETS`).
EXPERIMENT_DATASET_NAMES = ("linear", "xor_easy")


def group_names() -> list[str]:
    """The group keys accepted by ``only=`` (and ``"data_scale"`` for the data-scale study).

    Example:
        >>> group_names()[-1]
        'data_scale'
    """
    return [g.key for g in GROUPS] + ["data_scale"]


# ----------------------------------------------------------------------------------------------------
# planning
# ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Task:
    group: str
    variant: str
    dataset: str
    seed: int
    config: LabConfig


def _base_config(dataset: str) -> LabConfig:
    return {c.dataset: c for c in demo_configs()}[dataset].replace(log_every=0)


def plan(quick: bool = False, seeds: int | None = None, epochs: int | None = None,
         only: Iterable[str] | None = None) -> list[_Task]:
    """The list of runs: one per (group, variant, data set, seed), and the data-scale study.

    Example:
        >>> tasks = plan(quick=True, seeds=1, only=["loss"])
        >>> [(t.variant, t.dataset) for t in tasks][:2]
        [('mse', 'linear'), ('mse', 'xor_easy')]
    """
    chosen = _check_only(only)
    n_seeds = seeds if seeds is not None else (_QUICK if quick else _FULL)["seeds"]
    if not is_integer(n_seeds) or n_seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {n_seeds!r}")
    if epochs is not None and (not is_integer(epochs) or epochs < 1):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    tasks: list[_Task] = []
    for group in GROUPS:
        if group.key not in chosen:
            continue
        budget = epochs or (min(group.epochs or 5000, _QUICK["epochs"]) if quick else group.epochs)
        for variant in group.variants:
            if quick and not variant.quick:
                continue
            for dataset in EXPERIMENT_DATASET_NAMES:
                base = _base_config(dataset)
                changes = {**group.base, **variant.changes}
                if variant.lr_scale is not None:
                    changes["lr"] = base.learning_rate * variant.lr_scale
                if budget:
                    changes["epochs"] = budget
                config = base.replace(**changes)
                for seed in range(n_seeds):
                    tasks.append(_Task(group.key, variant.label, dataset, seed, config.replace(seed=seed)))
    if "data_scale" in chosen:
        sizes = _QUICK_SCALE_SIZES if quick else SCALE_SIZES
        budget = epochs or (_QUICK["epochs"] * 2 if quick else _SCALE_EPOCHS)
        base = _base_config("linear").replace(stop_at_zero_errors=True, epochs=budget)
        for size in sizes:
            for seed in range(n_seeds):
                tasks.append(_Task("data_scale", str(size), "linear", seed,
                                   base.replace(n_points=size, seed=seed)))
    return tasks


def _check_only(only: Iterable[str] | None) -> set[str]:
    names = group_names()
    if only is None:
        return set(names)
    chosen = set(only)
    unknown = sorted(chosen - set(names))
    if unknown:
        raise ValueError(f"unknown experiment group(s): {', '.join(unknown)}; choose from: {', '.join(names)}")
    if not chosen:
        raise ValueError("no experiment group chosen")
    return chosen
