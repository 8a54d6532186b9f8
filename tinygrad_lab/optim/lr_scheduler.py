"""Learning-rate schedulers with PyTorch's semantics (`torch.optim.lr_scheduler`).

Call `scheduler.step()` once per epoch, after `optimizer.step()`.
`ReduceLROnPlateau.step(metric)` takes the monitored value (e.g. the loss).

Example:
    >>> from tinygrad_lab import Value, optim
    >>> opt = optim.SGD([Value([1.0], requires_grad=True)], lr=1.0)
    >>> sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     opt.step(); sched.step(); lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [1.0, 0.5, 0.5, 0.25, 0.25]
"""
from __future__ import annotations

import functools
import math
import types
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import unwrap
from ..utils.capture import opaque
from ..utils.checks import is_integer, is_real
from .optimizer import Optimizer, python_scalars

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "LambdaLR", "ReduceLROnPlateau"]

_EPOCH_DEPRECATION = ("The epoch parameter in `scheduler.step()` was not necessary and is being deprecated "
                      "where possible. Please use `scheduler.step()` to step the scheduler.")


def _track_optimizer_steps(optimizer: Optimizer) -> None:
    """Wrap `optimizer.step` once so schedulers can warn when they are stepped before it (as PyTorch)."""
    if getattr(optimizer.step, "_wrapped_by_lr_sched", False):
        return
    method: types.MethodType = optimizer.step  # type: ignore[assignment]  # bound: a class's step, perhaps jit-wrapped
    func, ref = method.__func__, weakref.ref(optimizer)

    @functools.wraps(func)
    def step(*args: Any, **kwargs: Any) -> Any:
        opt = ref()
        opt._opt_called = True  # type: ignore[union-attr]  # alive: the optimizer holds this wrapper
        return func(opt, *args, **kwargs)

    step._wrapped_by_lr_sched = True  # type: ignore[attr-defined]  # marks the wrapper (as PyTorch)
    optimizer.step = step  # type: ignore[method-assign]  # on this instance only (as PyTorch)


def _check_optimizer(optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer; a scheduler needs one (e.g. "
                        "optim.SGD(model.parameters(), lr=0.1))")


def _check_real(cls: str, name: str, value: Any, low: float = 0.0) -> None:
    """`value` must be a finite real number >= `low`; TypeError/ValueError in the user's terms."""
    if not is_real(value):
        raise TypeError(f"{cls}: {name} must be a number, got {type(value).__name__} {value!r}")
    if not (math.isfinite(value) and value >= low):
        raise ValueError(f"{cls}: {name} must be a finite number >= {low}, got {value!r}")


def _check_count(cls: str, name: str, value: Any, low: int = 0) -> None:
    if not is_integer(value):
        raise TypeError(f"{cls}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{cls}: {name} must be >= {low}, got {value!r}")


class LRScheduler:
    """Base class of the epoch-based schedulers: sets `group['lr']` from `get_lr()` at each `step()`.

    On creation (`last_epoch=-1`) it records each group's `initial_lr` and makes
    the first step (epoch 0). `get_last_lr()` returns the learning rates it last set.

    Example:
        >>> from tinygrad_lab import Value, optim
        >>> opt = optim.SGD([Value([1.0], requires_grad=True)], lr=0.1)
        >>> sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        >>> sched.last_epoch, sched.get_last_lr()
        (0, [0.1])
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:   # tinygrad_lab.jit replays a scheduler's step as one call, as an optimizer's
            cls.step = opaque(cls.__dict__["step"])  # type: ignore[method-assign]  # wrapped once per class

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        _check_count(type(self).__name__, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        added: list[dict[str, Any]] = []   # the groups this scheduler gives an initial_lr (taken back if it fails)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                if "initial_lr" not in group:
                    group["initial_lr"] = group["lr"]
                    added.append(group)
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming a "
                                     "scheduler with last_epoch >= 0 (load the optimizer's state first, or "
                                     "start with last_epoch=-1)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        _track_optimizer_steps(optimizer)
        self._is_initial = True
        self._step_count = 0
        try:
            self.step()
        except BaseException:
            for group in added:   # a refused scheduler leaves the optimizer's groups as they were
                del group["initial_lr"]
            raise
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates for epoch `last_epoch` (subclasses define it)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group as last set by this scheduler."""
        return self._last_lr

    @opaque      # a jit capture records it as one call, made again at each replay
    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set the groups' learning rates (`epoch` is deprecated, as in PyTorch)."""
        groups = len(self.optimizer.param_groups)
        if groups != len(self.base_lrs):    # PyTorch leaves a group added later alone: a silent wrong schedule
            raise ValueError(f"{type(self).__name__}: the optimizer has {groups} parameter groups, but this "
                             f"scheduler was made for {len(self.base_lrs)}; make the scheduler after the last "
                             f"add_param_group()")
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call "
                          "`optimizer.step()` first, then `lr_scheduler.step()`; otherwise the first "
                          "value of "
                          "the learning rate schedule is skipped.", UserWarning, stacklevel=3)
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=3)
        previous_epoch = self.last_epoch
        self.last_epoch = previous_epoch + 1 if epoch is None else epoch
        try:
            closed_form = getattr(self, "_get_closed_form_lr", None) if epoch is not None else None
            values = closed_form() if closed_form is not None else self.get_lr()
            # a one-element array (np.exp of an array, say) is its number
            values = [v.item() if isinstance(v, np.ndarray) and v.size == 1 else v for v in values]
            self._check_lrs(values)
        except BaseException:
            self.last_epoch = previous_epoch   # a refused step changes nothing (the scheduler nor the optimizer)
            raise
        self._step_count += 1
        for group, lr in zip(self.optimizer.param_groups, values):      # as many as base_lrs (checked above)
            group["lr"] = python_scalars(lr)    # an np.float32 lr would make the update's arithmetic float32
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _check_lrs(self, values: list[Any]) -> None:
        """Each learning rate the schedule gives must be a finite number >= 0 (a negative one would climb the
        loss, a nan would spoil every parameter): ValueError naming the epoch and group, before anything changes."""
        for i, lr in enumerate(values):
            if not (is_real(lr) and math.isfinite(lr) and lr >= 0):
                raise ValueError(f"{type(self).__name__}: at epoch {self.last_epoch} the schedule gives parameter "
                                 f"group {i} the learning rate {lr!r}; a learning rate must be a finite number >= 0 "
                                 "(check the schedule's arguments, e.g. what lr_lambda returns)")

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (save the optimizer's own state next to it)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state returned by `state_dict()`."""
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the lr by `gamma` every `step_size` epochs: lr = base_lr * gamma^(epoch // step_size).

    Example:
        >>> from tinygrad_lab import Value, optim
        >>> opt = optim.SGD([Value([1.0], requires_grad=True)], lr=1.0)
        >>> sched = StepLR(opt, step_size=1, gamma=0.1)
        >>> opt.step(); sched.step(); sched.get_last_lr()
        [0.1]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if not is_integer(step_size) or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        _check_real("StepLR", "gamma", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by `gamma` every epoch: lr = base_lr * gamma^epoch.

    Example:
        >>> from tinygrad_lab import Value, optim
        >>> opt = optim.SGD([Value([1.0], requires_grad=True)], lr=1.0)
        >>> sched = ExponentialLR(opt, gamma=0.5)
        >>> for _ in range(2):
        ...     opt.step(); sched.step()
        >>> sched.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check_real("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch); `lr_lambda` is one function or a list (one per group).

    Example:
        >>> from tinygrad_lab import Value, optim
        >>> opt = optim.SGD([Value([1.0], requires_grad=True)], lr=0.5)
        >>> sched = LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
        >>> opt.step(); sched.step(); sched.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got "
                                 f"{len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError("lr_lambda must be callable (a function of the epoch), got "
                                f"{type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        pairs = zip(self.lr_lambdas, self.base_lrs)   # one per group each (step checks the groups)
        return [base_lr * fn(self.last_epoch) for fn, base_lr in pairs]

    def state_dict(self) -> dict[str, Any]:
        """As the base; a lambda is saved (its `__dict__`) only if it is a callable object, not a function."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) or not hasattr(fn, "__dict__")
                               else dict(fn.__dict__) for fn in self.lr_lambdas]   # math.exp has no __dict__
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        lambdas = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


def _metric_value(metrics: Any) -> float:
    """The monitored value as a float: a number, or a Value or array with one element (any shape)."""
    if is_real(metrics):
        return float(metrics)
    array = np.asarray(unwrap(metrics))
    if isinstance(metrics, bool) or array.size != 1 or array.dtype.kind not in "iuf":
        raise TypeError(f"ReduceLROnPlateau.step() takes the monitored value as one number (e.g. the loss), "
                        f"got {type(metrics).__name__} with shape {array.shape} and dtype {array.dtype}")
    return float(array.reshape(()))


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by `factor` when a metric has stopped improving for `patience` epochs.

    PyTorch's rule: a value is an improvement when it beats `best` by the
    threshold (mode 'min': a < best * (1 - threshold) for 'rel', a < best - threshold
    for 'abs'; mode 'max' mirrored). After more than `patience` epochs without
    improvement, lr = max(lr * factor, min_lr) (changed only if that differs by
    more than `eps`), then `cooldown` epochs pass before bad epochs count again.

    Example:
        >>> from tinygrad_lab import Value, optim
        >>> opt = optim.SGD([Value([1.0], requires_grad=True)], lr=1.0)
        >>> sched = ReduceLROnPlateau(opt, factor=0.5, patience=1)
        >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9]:   # two cuts: after epochs 4 and 6
        ...     sched.step(loss)
        >>> sched.get_last_lr()
        [0.25]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | Sequence[float] = 0, eps: float = 1e-8) -> None:
        _check_optimizer(optimizer)
        cls = "ReduceLROnPlateau"
        _check_real(cls, "factor", factor)
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0 (got {factor}).")
        _check_count(cls, "patience", patience)
        _check_count(cls, "cooldown", cooldown)
        _check_real(cls, "threshold", threshold)
        _check_real(cls, "eps", eps)
        for value in (min_lr if isinstance(min_lr, (list, tuple)) else [min_lr]):
            _check_real(cls, "min_lr", value)
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics: Any, epoch: int | None = None) -> None:
        """Record this epoch's metric (a number or one-element Value); reduce the lr on a plateau."""
        current = _metric_value(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(_EPOCH_DEPRECATION, UserWarning, stacklevel=3)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0   # bad epochs in cooldown are ignored
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"The number of param groups in the optimizer ({len(groups)}) differs "
                                   f"from "
                                   f"when ReduceLROnPlateau was created ({len(self.min_lrs)}); set "
                                   f"`min_lrs` to "
                                   f"one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for i, group in enumerate(groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = python_scalars(new_lr)   # a NumPy factor or min_lr gives a NumPy number

    @property
    def in_cooldown(self) -> bool:
        """True while the cooldown after a reduction is running."""
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode!r} is unknown! Use 'min' or 'max'.")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode!r} is unknown! Use 'rel' or 'abs'.")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state returned by `state_dict()` (its mode and threshold checked first: a bad one changes
        nothing)."""
        merged = {**self.__dict__, **state_dict}
        probe = object.__new__(type(self))    # the check on a scratch object, so a refusal leaves self as it was
        probe._init_is_better(merged["mode"], merged["threshold"], merged["threshold_mode"])
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
