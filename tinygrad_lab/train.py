"""A small training loop for any model built from `nn`: `fit` trains, `evaluate` measures.

Full-batch (``batch_size=None``), mini-batch (``batch_size=k``) or online (``batch_size=1``)
updates; the loss printed every ``log_every`` epochs in the lab's style
(``epoch 500 loss 0.012345``); a :class:`History` of every epoch; stop at a target loss, a target
accuracy or the last epoch; an optional learning-rate scheduler; reproducible under ``seed``.

Example:
    >>> from tinygrad_lab import nn, optim
    >>> from tinygrad_lab.random import manual_seed
    >>> from tinygrad_lab.data import generate_xor_easy
    >>> from tinygrad_lab.train import fit, evaluate
    >>> X, Y = generate_xor_easy()
    >>> _ = manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    >>> opt = optim.SGD(model.parameters(), lr=1.0)
    >>> history = fit(model, X, Y, nn.MSELoss(), opt, epochs=100, log_every=50)
    epoch 50 loss ...
    epoch 100 loss ...
    >>> len(history.loss), 0.0 <= evaluate(model, X, Y).accuracy <= 1.0
    (100, True)
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

import numpy as np

from .autograd import Value, no_grad, unwrap
from .data import DataLoader, check_pair
from .jit import JitError, JitFunction
from .optim.lr_scheduler import ReduceLROnPlateau
from .utils.checks import check_bool, is_integer, is_real

__all__ = ["History", "Evaluation", "fit", "evaluate", "predict", "format_epoch"]


@dataclass
class History:
    """What happened during :func:`fit`, one entry per epoch run.

    Attributes:
        loss: the mean training loss of each epoch (for full batch: of the model before that epoch's
            update; when a target or a divergence stops full-batch training, the last epoch's update
            is not applied, so the model returned is exactly the one the last entry describes).
        accuracy: the training accuracy of each epoch (empty when targets are not class labels): for
            full batch that of the model the epoch's loss describes, for mini-batch and online
            updates that of the model at the end of the epoch.
        lr: the learning rate of the first parameter group during each epoch.
        epochs: how many epochs ran.
        stop_reason: ``"max_epochs"``, ``"target_loss"``, ``"target_accuracy"`` or ``"diverged"``
            (the loss became inf or nan).
        converged_epoch: the first epoch with zero training errors (None if never).
        seconds: wall-clock time of the loop.

    Example:
        >>> h = History(loss=[0.3, 0.1], accuracy=[0.5, 1.0], lr=[1.0, 1.0], epochs=2)
        >>> h.final_loss, h.best_loss, h.final_accuracy
        (0.1, 0.1, 1.0)
    """
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epochs: int = 0
    stop_reason: str = "max_epochs"
    converged_epoch: int | None = None
    seconds: float = 0.0

    @property
    def final_loss(self) -> float:
        """The loss of the last epoch (nan when no epoch ran)."""
        return self.loss[-1] if self.loss else math.nan

    @property
    def best_loss(self) -> float:
        """The smallest epoch loss (nan when no epoch ran)."""
        finite = [v for v in self.loss if math.isfinite(v)]
        return min(finite) if finite else math.nan

    @property
    def final_accuracy(self) -> float:
        """The training accuracy of the last epoch (nan when not tracked)."""
        return self.accuracy[-1] if self.accuracy else math.nan

    def as_arrays(self) -> dict[str, np.ndarray]:
        """The per-epoch lists as NumPy arrays (for ``np.savez``).

        Example:
            >>> History(loss=[0.5]).as_arrays()["loss"].tolist()
            [0.5]
        """
        return {"loss": np.array(self.loss, dtype=np.float64),
                "accuracy": np.array(self.accuracy, dtype=np.float64),
                "lr": np.array(self.lr, dtype=np.float64)}


class Evaluation(NamedTuple):
    """The result of :func:`evaluate`.

    ``accuracy`` is the share of points classified right (nan without targets), ``predictions`` the
    predicted classes (shape (n, 1) of 0.0/1.0 for one output column, (n,) class indices otherwise),
    ``outputs`` the raw model outputs, ``correct`` a bool array per point (None without targets).
    """
    accuracy: float
    predictions: np.ndarray
    outputs: np.ndarray
    correct: np.ndarray | None


def format_epoch(epoch: int, loss: float, accuracy: float | None = None) -> str:
    """One log line in the lab's style.

    Example:
        >>> format_epoch(500, 0.0123)
        'epoch 500 loss 0.012300'
        >>> format_epoch(500, 0.0123, 0.95)
        'epoch 500 loss 0.012300 accuracy 95.00%'
    """
    line = f"epoch {epoch} loss {loss:.6f}"
    if accuracy is not None and not math.isnan(accuracy):
        line += f" accuracy {100 * accuracy:.2f}%"
    return line


# ----------------------------------------------------------------------------------------------------
# class predictions
# ----------------------------------------------------------------------------------------------------

def _classes(outputs: np.ndarray, threshold: float) -> np.ndarray:
    """Predicted classes: outputs > threshold for one column, argmax over columns otherwise."""
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    return (outputs > threshold).astype(np.float64)


def _target_classes(targets: np.ndarray, outputs_shape: tuple) -> np.ndarray | None:
    """Targets as classes comparable with :func:`_classes`, or None when they are not class labels."""
    if len(outputs_shape) == 2 and outputs_shape[1] > 1:
        if targets.ndim == 1 and targets.dtype.kind in "iu":
            return targets
        if targets.shape == outputs_shape:                   # one-hot / probabilities
            return targets.argmax(axis=1)
        return None
    if targets.shape != outputs_shape or not np.isin(targets, (0, 1)).all():
        return None
    return targets.astype(np.float64)


def _check_threshold(threshold: Any) -> None:
    """A class threshold is a real number (not nan: every output would silently be class 0)."""
    if not is_real(threshold) or math.isnan(threshold):
        raise ValueError(f"threshold must be a number (0.5 for a sigmoid output, 0.0 for logits), got {threshold!r}")


def predict(model: Any, inputs: Any, threshold: float = 0.5) -> np.ndarray:
    """Predicted classes of ``inputs`` (no graph, model in eval mode for the call).

    Example:
        >>> from tinygrad_lab import nn
        >>> model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
        >>> predict(model, np.zeros((3, 2))).shape
        (3, 1)
    """
    _check_threshold(threshold)
    return _classes(_outputs(model, inputs), threshold)


def _model_dtype(model: Any) -> np.dtype:
    """The floating dtype of the model's parameters (float64 without parameters or with several dtypes):
    the dtype plain input arrays take, as every plain array mixed into an op takes the Value's dtype."""
    params = getattr(model, "parameters", None)
    dtypes = {p.dtype for p in params()} if callable(params) else set()
    return dtypes.pop() if len(dtypes) == 1 and next(iter(dtypes)).kind == "f" else np.dtype(np.float64)


def _outputs(model: Any, inputs: Any) -> np.ndarray:
    inputs = np.asarray(unwrap(inputs), dtype=_model_dtype(model))
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            out = model(Value(inputs))
    finally:
        if was_training:
            model.train()
    return np.asarray(unwrap(out))


def evaluate(model: Any, inputs: Any, targets: Any = None, threshold: float = 0.5) -> Evaluation:
    """Accuracy and per-point predictions of ``model`` on ``inputs`` (and ``targets``).

    One output column: class 1 when the output is above ``threshold`` (0.5 for a sigmoid output; use
    0.0 for logits). Several columns: the argmax, compared with class indices or one-hot targets.

    Example:
        >>> from tinygrad_lab import nn
        >>> model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
        >>> result = evaluate(model, np.zeros((4, 2)), np.zeros((4, 1)))
        >>> result.accuracy in (0.0, 1.0), result.predictions.shape
        (True, (4, 1))
    """
    _check_threshold(threshold)
    outputs = _outputs(model, inputs)
    predictions = _classes(outputs, threshold)
    if targets is None:
        return Evaluation(math.nan, predictions, outputs, None)
    targets = np.asarray(unwrap(targets))
    if len(targets) != len(outputs):
        raise ValueError(f"evaluate: {len(outputs)} inputs but {len(targets)} targets")
    classes = _target_classes(targets, outputs.shape)
    if classes is None:
        raise ValueError(f"evaluate: targets of shape {targets.shape} are not class labels for outputs of shape "
                         f"{outputs.shape} (expected 0/1 labels of the output's shape, class indices, "
                         "or one-hot rows)")
    correct = predictions == classes
    if correct.ndim == 2:
        correct = correct[:, 0]
    return Evaluation(float(correct.mean()), predictions, outputs, correct)


# ----------------------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------------------

def _check_options(epochs: Any, target_loss: Any, target_accuracy: Any, log_every: Any) -> None:
    if not is_integer(epochs) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    if target_loss is not None and (not is_real(target_loss) or math.isnan(target_loss)):
        raise ValueError(f"target_loss must be a number or None, got {target_loss!r}")
    if target_accuracy is not None and (not is_real(target_accuracy) or not 0.0 <= target_accuracy <= 1.0):
        raise ValueError(f"target_accuracy must be a number in [0, 1] or None, got {target_accuracy!r}")
    if log_every is not None and (not is_integer(log_every) or log_every < 0):
        raise ValueError(f"log_every must be a non-negative integer (0 or None: no log), got {log_every!r}")


def _check_optimizer_owns_model(model: Any, optimizer: Any) -> None:
    """The optimizer must update at least one of the model's parameters (else training silently does nothing)."""
    params = getattr(model, "parameters", None)
    groups = getattr(optimizer, "param_groups", None)
    if not callable(params) or groups is None:
        return
    owned = {id(p) for p in params()}
    if owned and not any(id(p) in owned for group in groups for p in group["params"]):
        raise ValueError("fit: the optimizer holds none of the model's parameters, so training would change "
                         "nothing; build it from this model, e.g. optim.SGD(model.parameters(), lr=0.1)")


def _stop_reason(loss: float, accuracy: float, target_loss: float | None,
                 target_accuracy: float | None) -> str | None:
    if not math.isfinite(loss):
        return "diverged"
    if target_loss is not None and loss <= target_loss:
        return "target_loss"
    if target_accuracy is not None and accuracy >= target_accuracy:
        return "target_accuracy"
    return None


def _is_plateau(scheduler: Any) -> bool:
    return isinstance(scheduler, ReduceLROnPlateau)


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where tqdm.auto draws a widget bar)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _progress_bar(show: bool | None, epochs: int, quiet: bool) -> Any:
    """A tqdm bar of the epochs: a widget in a notebook, text on a terminal (tqdm.auto chooses).

    ``show=None`` means: when standard error is a terminal or the code runs in a notebook."""
    if quiet or show is False or epochs == 0:
        return None
    if show is None and not ((hasattr(sys.stderr, "isatty") and sys.stderr.isatty()) or _in_notebook()):
        return None
    import warnings

    with warnings.catch_warnings():  # a notebook without ipywidgets: tqdm warns, then draws a text bar
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm
        return tqdm(total=epochs, unit="epoch", leave=False, dynamic_ncols=True)


def _replayable(model: Any) -> bool:
    """True when every module of ``model`` is a deterministic ``nn`` layer (no dropout, no user code)."""
    from . import nn
    safe = (nn.Sequential, nn.Linear, nn.Identity, nn.Flatten, nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU,
            nn.Softmax, nn.LogSoftmax)
    return isinstance(model, nn.Module) and all(type(m) in safe for m in model.modules())


def _forward_backward(model: Any, loss_fn: Any, optimizer: Any) -> Any:
    def forward_backward(x: Value, y: Value) -> tuple[Value, Value]:
        optimizer.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        return out, loss
    return forward_backward


def fit(model: Any, inputs: Any, targets: Any, loss_fn: Any, optimizer: Any, epochs: int = 1000, *,
        batch_size: int | None = None, shuffle: bool = True, scheduler: Any = None,
        target_loss: float | None = None, target_accuracy: float | None = None, threshold: float = 0.5,
        log_every: int | None = None, seed: Any = None, progress: bool | None = None, quiet: bool = False,
        file: IO[str] | None = None, jit: bool | None = None) -> History:
    """Train ``model`` on ``(inputs, targets)`` for up to ``epochs`` epochs; return the :class:`History`.

    Args:
        model: a callable taking a ``Value`` of inputs (an ``nn.Module``).
        inputs, targets: NumPy arrays (or Values), one row per example.
        loss_fn: called as ``loss_fn(model_output, target_value)`` (e.g. ``nn.MSELoss()``).
        optimizer: an ``optim`` optimizer over the model's parameters.
        batch_size: None for full batch, k for mini-batches of k, 1 for online updates.
        shuffle: reshuffle the examples every epoch (mini-batch and online only), from ``seed``.
        scheduler: an ``optim.lr_scheduler``, stepped once per epoch (``ReduceLROnPlateau`` gets the loss).
        target_loss: stop after the first epoch whose loss is <= this.
        target_accuracy: stop after the first epoch whose training accuracy is >= this (1.0 = zero errors).
        threshold: output above it means class 1 (one output column); 0.0 for logits.
        log_every: print ``epoch N loss L`` every N epochs and at the last one (0 or None: no log,
            as the CLI's ``--log-every 0``).
        seed: seed of the shuffling (the model's initialisation is up to you: ``manual_seed``).
        progress: a tqdm progress bar of the epochs (``tqdm.auto``: a widget in a notebook, text on a
            terminal): True, False, or None (default) = when standard error is a terminal or in a notebook.
        quiet: no log and no progress bar, whatever ``log_every`` and ``progress`` say.
        file: where the log goes (default standard output).
        jit: replay the full-batch forward and backward with :func:`tinygrad_lab.jit` (the same numbers,
            less time); None (default) uses it when every module of the model is a deterministic
            layer of ``nn`` (Linear, Identity, Flatten, activations, Sequential), False never.

    Example:
        >>> from tinygrad_lab import nn, optim
        >>> X, Y = np.array([[0.0], [1.0]]), np.array([[0.0], [1.0]])
        >>> model = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
        >>> h = fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=5.0), epochs=500,
        ...         target_accuracy=1.0)
        >>> h.stop_reason, h.converged_epoch == h.epochs
        ('target_accuracy', True)
    """
    inputs, targets = check_pair(inputs, targets)
    _check_options(epochs, target_loss, target_accuracy, log_every)
    _check_threshold(threshold)         # before any update: a bad one must not fail after an epoch of training
    check_bool(shuffle, "shuffle", "fit")
    check_bool(quiet, "quiet", "fit")
    for name, flag in (("progress", progress), ("jit", jit)):
        if flag is not None:
            check_bool(flag, name, "fit")
    _check_optimizer_owns_model(model, optimizer)
    dtype = _model_dtype(model)         # a float32 model trains in float32 on float64 arrays (docs/engine.md)
    inputs = inputs.astype(dtype) if inputs.dtype.kind in "biuf" else inputs
    if targets.dtype.kind in "bf":
        targets = targets.astype(dtype)
    n = len(inputs)
    if n == 0:
        raise ValueError("fit: the training set is empty")
    full_batch = batch_size is None or (is_integer(batch_size) and batch_size >= n)
    loader = DataLoader(inputs, targets, batch_size, shuffle=shuffle and not full_batch, seed=seed)

    # Which targets are class labels (so an accuracy can be tracked)? Decided once, on the first output.
    probe = _outputs(model, inputs[:1])         # in eval mode: no dropout mask drawn, no state changed
    out_shape = (n,) + tuple(probe.shape[1:])
    target_classes = _target_classes(targets, out_shape)
    track = target_classes is not None
    if target_accuracy is not None and not track:
        raise ValueError("fit: target_accuracy needs class-label targets (0/1 labels of the output's shape, "
                         "class indices or one-hot rows)")

    history = History()
    log = None if quiet or not log_every else (file or sys.stdout)
    bar = _progress_bar(progress, epochs, quiet)
    plateau = scheduler is not None and _is_plateau(scheduler)
    groups = optimizer.param_groups
    bar_every = max(1, epochs // 200)
    x_full, y_full = Value(inputs), Value(targets)
    step = None
    if full_batch and (jit or (jit is None and _replayable(model))):
        step = JitFunction(_forward_backward(model, loss_fn, optimizer), warn=False)
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            lr = groups[0]["lr"]
            epoch_acc = math.nan
            if full_batch:
                # The hot path: forward, loss, stop check, backward, step.
                if step is not None:            # forward and backward replayed; the step only if no stop
                    try:
                        out, loss = step(x_full, y_full)
                    except JitError:
                        step = None
                if step is None:
                    optimizer.zero_grad()
                    out = model(x_full)
                    loss = loss_fn(out, y_full)
                epoch_loss = float(loss.data)
                if track:
                    epoch_acc = float((_classes(out.data, threshold) == target_classes).mean())
                reason = _stop_reason(epoch_loss, epoch_acc, target_loss, target_accuracy)
                if reason is not None:          # a model that met its target is returned as it is
                    if step is not None:
                        optimizer.zero_grad()   # as eagerly: no backward ran
                elif step is not None:
                    optimizer.step()
                else:
                    loss.backward()
                    optimizer.step()
            else:
                total = 0.0
                for xb, yb in loader:
                    optimizer.zero_grad()
                    loss = loss_fn(model(Value(xb)), Value(yb))
                    loss.backward()
                    optimizer.step()
                    total += float(loss.data) * len(xb)
                epoch_loss = total / n
                if track:   # the model as it ends the epoch (one forward pass without a graph)
                    epoch_acc = float((_classes(_outputs(model, inputs), threshold) == target_classes).mean())
                reason = _stop_reason(epoch_loss, epoch_acc, target_loss, target_accuracy)
            history.loss.append(epoch_loss)
            history.lr.append(lr)
            if track:
                history.accuracy.append(epoch_acc)
                if epoch_acc == 1.0 and history.converged_epoch is None:
                    history.converged_epoch = epoch
            history.epochs = epoch
            stop = reason is not None
            if reason is not None:
                history.stop_reason = reason

            if log is not None and log_every is not None and (epoch % log_every == 0 or epoch == epochs or stop):
                line = format_epoch(epoch, epoch_loss)
                if bar is not None:
                    bar.write(line, file=log)
                else:
                    print(line, file=log)
            if bar is not None and (epoch % bar_every == 0 or stop or epoch == epochs):
                bar.update(epoch - bar.n)
                bar.set_postfix_str(f"loss {epoch_loss:.4g}", refresh=False)
            if stop:
                break
            if scheduler is not None:
                if plateau:
                    scheduler.step(epoch_loss)
                else:
                    scheduler.step()
    finally:
        if bar is not None:
            bar.close()
        history.seconds = time.perf_counter() - start
    return history
