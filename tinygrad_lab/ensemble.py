"""Many identically-shaped models trained as one stacked model (an ensemble; "many seeds at once").

In the manner of ``torch.func.stack_module_state`` with ``vmap`` (or JAX's ``vmap`` over
initialisations): the parameters of S member networks are stacked along a new leading *member*
axis, so one batched matrix product runs all members' layers at once. Each member still computes
exactly what it would compute alone: the same NumPy operations on its own slice (per-slice BLAS
calls, elementwise ufuncs, per-member reductions), so its numbers are those of training it by
itself, bit for bit on this machine (and always to round-off).

* :func:`stack` turns member models (``nn.Sequential`` of ``nn.Linear`` layers and elementwise
  activations) into one stacked model; its output has shape ``(members, batch, out)``.
* :func:`member_losses` gives each member's loss (a Value of shape ``(members,)``); the gradient of
  their sum is every member's own gradient.
* :func:`unstack` copies the stacked parameters back into the member models.
* :func:`fit` is :func:`tinygrad_lab.train.fit` for all members at once, with per-member early
  stopping (target loss, target accuracy, divergence): a member that stops is taken out of the
  stack with its parameters as they are, and the others go on.

Example:
    >>> from tinygrad_lab import Value, nn, optim, ensemble
    >>> from tinygrad_lab.random import manual_seed
    >>> from tinygrad_lab.data import generate_xor_easy
    >>> X, Y = generate_xor_easy()
    >>> def member(seed):
    ...     manual_seed(seed)
    ...     return nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    >>> models = [member(seed) for seed in range(5)]
    >>> histories = ensemble.fit(models, X, Y, nn.MSELoss(), lambda ps: optim.SGD(ps, lr=5.0), epochs=300)
    >>> [h.epochs for h in histories]
    [300, 300, 300, 300, 300]
"""
from __future__ import annotations

import copy
import math
import numbers
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import nn
from .autograd import Function, Value, make_node, no_grad
from .data import DataLoader
from .jit import JitFunction
from .ops import matmul
from .train import History, _check_threshold, _target_classes
from .utils.checks import check_bool, is_real

__all__ = ["StackedLinear", "stack", "unstack", "member_losses", "fit"]

#: The dtypes NumPy multiplies with BLAS (float64, float32): the stacked products' rearrangements are for these.
_BLAS_TYPES = "df"

#: Modules that act elementwise (so a member axis in front changes nothing): shared by all members.
_ELEMENTWISE = (nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.Identity)


class _StackedLinearOp(Function):
    """``y[s] = x[s] @ weight[s].T + bias[s]`` for every member s (one node per stacked layer).

    Derivatives, per member as ``nn.Linear``'s: ``dx[s] = dy[s] @ weight[s]``, ``dweight[s] = dy[s].T @ x[s]``,
    ``dbias[s] = dy[s].sum(axis=0)`` (for an ``x`` shared by the members the engine sums ``dx`` over them).

    Every member's numbers are those of ``nn.Linear`` on its slice: the same BLAS routine per member and
    the same order of additions, arranged to be fast on stacks of tiny layers (float64 and float32; float16,
    which NumPy multiplies without BLAS, takes the plain products):

    * forward: the product reads a contiguous copy of ``weight[s].T`` (BLAS's plain kernel is ~3x faster
      than its transposed one on 4x4 blocks; both give the FMA chain over the inputs, in order); a batch of
      one row keeps the transposed view, since NumPy calls a matrix-vector routine there, whose rounding
      depends on the layout;
    * the bias is added as a contiguous array (BLAS repeats ``bias[s]`` on every row: ``[1 0] @ [bias; 0]``),
      not by broadcasting, which makes NumPy loop over rows of ``out`` (e.g. 4) numbers;
    * a layer with one output takes its input gradient from BLAS (``[dy 0] @ [weight; 0]``) rather than
      NumPy's own loop for products over one term (the same exact products);
    * ``ensemble.fit`` gives the first layer its (constant) full-batch input with a column of ones
      appended (``ones_column=True``): the bias then enters the product as its last term
      (``[x 1] @ [weight.T; bias]``, the sum's last fused multiply-add adding ``1 * bias``, as ``y += bias``
      does) and the weight and bias gradients are one product ``dy.T @ [x 1]``;
    * the bias gradient is ``dy[s].T @ ones``: BLAS's chain of fused multiply-adds by 1.0 adds the rows
      one after another, as NumPy's ``dy[s].sum(axis=0)`` does, at a tenth of the cost of NumPy's
      reduction over the middle axis of ``(members, batch, out)`` (a pass of ``out``, e.g. 4, numbers per row).

    Example:
        >>> x, w, b = np.ones((1, 2, 3)), np.ones((1, 4, 3)), np.zeros((1, 1, 4))
        >>> _StackedLinearOp.forward(x, w, b).shape
        (1, 2, 4)
    """

    name = "stacked_linear"
    needs_input_grad_hint = True

    @staticmethod
    def forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                ones_column: bool = False) -> np.ndarray:
        if ones_column:     # x ends with a column of ones: [x 1] @ [weight.T; bias], the bias the chain's last term
            assert bias is not None   # fit() adds the column only to layers with a bias
            return np.matmul(x, np.concatenate((weight.transpose(0, 2, 1).copy(), bias), axis=1))  # C order
        wt = weight.transpose(0, 2, 1)
        if x.shape[-2] > 1 and wt.shape[-1] > 1:
            wt = wt.copy()
        y = np.matmul(x, wt)
        if bias is not None:
            rows, width = y.shape[-2:]
            if rows > 1 and width > 1 and y.dtype.char in _BLAS_TYPES:
                # bias[s] repeated on every row by BLAS ([1 0] rows @ [bias; 0]: each entry 1 * b + 0 * 0, exact),
                # then one contiguous addition: the broadcast addition would make a pass of `width` numbers per row
                ones = np.zeros((rows, 2), dtype=y.dtype)
                ones[:, 0] = 1.0
                y += np.matmul(ones, np.concatenate((bias, np.zeros(bias.shape, dtype=bias.dtype)), axis=1))
            else:
                y += bias
        return y

    @staticmethod
    def backward(g: Any, out: Any, x: Any, weight: Any, bias: Any = None, needs_input_grad: Any = None,
                 ones_column: bool = False) -> tuple[Any, ...]:
        if ones_column:     # [dweight dbias] = dy.T @ [x 1]; x is data (ensemble.fit's own input): no gradient
            if isinstance(g, Value):
                both = matmul(g.transpose(-1, -2), x)
                return None, both[..., :-1], both[..., -1:].transpose(-1, -2)
            both = np.matmul(g.transpose(0, 2, 1), x)
            return None, both[:, :, :-1], both[:, :, -1].reshape(g.shape[0], 1, g.shape[2])
        if isinstance(g, Value):       # create_graph: the same products written with ops (gradients of gradients)
            gb = None if bias is None else g.sum(axis=-2, keepdims=True)
            return matmul(g, weight), matmul(g.transpose(-1, -2), x), gb
        gx = None
        if needs_input_grad is None or needs_input_grad[0]:
            if g.shape[-1] == 1 and g.shape[-2] > 1 and weight.shape[-1] > 1 and g.dtype.char in _BLAS_TYPES:
                # one output: NumPy multiplies dy[s] @ weight[s] (an outer product) in a slow loop of its own;
                # [dy 0] @ [weight; 0] is BLAS's dy * w + 0 * 0, the same numbers (exact products, +0 for -0)
                gx = np.matmul(np.concatenate((g, np.zeros(g.shape, dtype=g.dtype)), axis=2),
                               np.concatenate((weight, np.zeros(weight.shape, dtype=weight.dtype)), axis=1))
            else:
                gx = np.matmul(g, weight)
        gw = np.matmul(g.transpose(0, 2, 1), x)
        gb = None
        if bias is not None:
            if g.shape[-1] == 1 or g.shape[1] == 1 or g.dtype.char not in _BLAS_TYPES:
                # one output: NumPy's sum of a contiguous column (pairwise), exactly as dy[s].sum(axis=0); and
                # float16, which NumPy multiplies without BLAS, summing in float32 (as Linear's bias gradient)
                gb = g.sum(axis=1, keepdims=True, dtype=np.float32 if g.dtype.char == "e" else None).astype(g.dtype)
            else:
                # dy[s].T @ ones: BLAS's chain of fused multiply-adds by 1.0 is the row-by-row sum of dy[s]
                ones = np.ones((g.shape[1], 2), dtype=g.dtype)
                gb = np.matmul(g.transpose(0, 2, 1), ones)[:, :, 0].reshape(g.shape[0], 1, g.shape[2])
        return gx, gw, gb


class StackedLinear(nn.Module):
    """S linear layers side by side: ``y[s] = x[s] @ weight[s].T + bias[s]``.

    ``weight`` has shape ``(members, out_features, in_features)`` and ``bias`` shape
    ``(members, 1, out_features)``; the input is ``(members, batch, in_features)`` or, shared by
    every member, ``(batch, in_features)``. Build one from member layers with :meth:`from_linears`.
    Each member's numbers are those of its own ``nn.Linear`` (see ``_StackedLinearOp`` for how the
    stacked products are arranged to be fast without changing a member's rounding).

    Example:
        >>> from tinygrad_lab import nn
        >>> layer = StackedLinear.from_linears([nn.Linear(2, 3, generator=s) for s in range(4)])
        >>> layer
        StackedLinear(members=4, in_features=2, out_features=3, bias=True)
        >>> layer(Value(np.ones((5, 2)))).shape
        (4, 5, 3)
    """

    def __init__(self, members: int, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        self.members, self.in_features, self.out_features = members, in_features, out_features
        #: ensemble.fit's own switch: its input ends with a column of ones (see _StackedLinearOp)
        self._ones_column = False
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        self.weight = nn.Parameter(np.zeros((members, out_features, in_features), dtype=dtype))
        if bias:
            self.bias = nn.Parameter(np.zeros((members, 1, out_features), dtype=dtype))
        else:
            self.register_parameter("bias", None)

    @classmethod
    def from_linears(cls, linears: Sequence[nn.Linear]) -> StackedLinear:
        """One stacked layer holding copies of the weights and biases of ``linears`` (same shapes)."""
        first = linears[0]
        has_bias = first.bias is not None
        for i, layer in enumerate(linears):
            if not isinstance(layer, nn.Linear):
                raise TypeError(f"member {i}: expected nn.Linear, got {type(layer).__name__}")
            if (layer.weight.shape != first.weight.shape or (layer.bias is not None) != has_bias
                    or layer.weight.dtype != first.weight.dtype):
                raise ValueError(f"member {i}: {layer} of dtype {layer.weight.dtype} does not match member 0's "
                                 f"{first} of dtype {first.weight.dtype} (shape, bias or dtype); an ensemble needs "
                                 "identically-shaped members of one dtype (convert them, e.g. model.double())")
        out = cls(len(linears), first.in_features, first.out_features, has_bias, first.weight.dtype)
        out.weight.data = np.stack([layer.weight.data for layer in linears])
        if has_bias:
            out.bias.data = np.stack([layer.bias.data for layer in linears])[:, None, :]
        return out

    def forward(self, input: Any) -> Any:
        x = input if isinstance(input, Value) else Value(input)
        members = self.weight.shape[0]       # fewer than self.members once ensemble.fit took stopped members out
        width = self.in_features + self._ones_column
        if x.ndim not in (2, 3) or x.shape[-1] != width or (x.ndim == 3 and x.shape[0] != members):
            raise ValueError(f"StackedLinear: expected an input of shape (members={members}, batch, "
                             f"{width}) or (batch, {width}), got {x.shape}")
        wdtype = self.weight.data.dtype
        if x.data.dtype != wdtype and x.data.dtype.kind == "f":
            raise TypeError(f"StackedLinear: the input is {x.data.dtype} but the weights are {wdtype}; "
                            "convert one (x.double(), x.float())")
        parents = (x, self.weight) if self.bias is None else (x, self.weight, self.bias)
        bias = None if self.bias is None else self.bias.data
        if self._ones_column:
            data = _StackedLinearOp.forward(x.data, self.weight.data, bias, ones_column=True)
            return make_node(_StackedLinearOp, data, parents, {"ones_column": True})
        return make_node(_StackedLinearOp, _StackedLinearOp.forward(x.data, self.weight.data, bias), parents)

    def extra_repr(self) -> str:
        return (f"members={self.members}, in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _layers(model: nn.Module, i: int) -> list[nn.Module]:
    modules = list(model.children()) if isinstance(model, nn.Sequential) else [model]
    for module in modules:
        if not isinstance(module, (nn.Linear, *_ELEMENTWISE)):
            raise TypeError(f"member {i}: ensemble.stack supports nn.Sequential models of nn.Linear layers and "
                            f"elementwise activations ({', '.join(t.__name__ for t in _ELEMENTWISE)}); "
                            f"got a {type(module).__name__}")
    return modules


def _linear(module: nn.Module) -> nn.Linear:
    assert isinstance(module, nn.Linear)   # the architectures were compared layer by layer
    return module


def stack(models: Sequence[nn.Module]) -> nn.Sequential:
    """One model computing all ``models`` at once: their parameters stacked along a leading member axis.

    Each member must be an ``nn.Sequential`` of ``nn.Linear`` layers and elementwise activations
    with the same layer sizes and activations. The stacked model takes inputs of shape
    ``(members, batch, in)`` (each member its own data) or ``(batch, in)`` (shared) and returns
    ``(members, batch, out)``. The stacked parameters are copies: train them, then :func:`unstack`.

    Example:
        >>> from tinygrad_lab import nn
        >>> models = [nn.Sequential(nn.Linear(2, 3, generator=s), nn.Tanh()) for s in range(2)]
        >>> stack(models)
        Sequential(
          (0): StackedLinear(members=2, in_features=2, out_features=3, bias=True)
          (1): Tanh()
        )
    """
    if not models:
        raise ValueError("ensemble.stack needs at least one model")
    per_member = [_layers(m, i) for i, m in enumerate(models)]
    first = per_member[0]
    for i, layers in enumerate(per_member):
        kinds = [(type(m), getattr(m, "negative_slope", None)) for m in layers]
        if kinds != [(type(m), getattr(m, "negative_slope", None)) for m in first]:
            raise ValueError(f"member {i} has layers {[type(m).__name__ for m in layers]}, member 0 "
                             f"{[type(m).__name__ for m in first]}; an ensemble needs identical architectures")
    stacked: list[nn.Module] = []
    for j, module in enumerate(first):
        if isinstance(module, nn.Linear):
            stacked.append(StackedLinear.from_linears([_linear(layers[j]) for layers in per_member]))
        else:
            stacked.append(copy.deepcopy(module))
    return nn.Sequential(*stacked)


def unstack(stacked: nn.Module, models: Sequence[nn.Module]) -> list[nn.Module]:
    """Copy the parameters of a :func:`stack`-ed model back into its members (in place); returns ``models``.

    Example:
        >>> from tinygrad_lab import nn
        >>> models = [nn.Sequential(nn.Linear(2, 1, generator=s)) for s in range(3)]
        >>> big = stack(models)
        >>> big[0].weight.data[1] += 1.0
        >>> old = models[1][0].weight.data.copy()
        >>> bool((unstack(big, models)[1][0].weight.data == old + 1.0).all())
        True
    """
    _write_members(_stacked_params(stacked), models, range(len(models)))
    return list(models)


def _stacked_params(stacked: nn.Module) -> list[tuple[str, np.ndarray]]:
    """(kind, stacked array) per member parameter in member order: kind 'weight' or 'bias'."""
    out = []
    for module in stacked.children():
        if isinstance(module, StackedLinear):
            out.append(("weight", module.weight.data))
            if module.bias is not None:
                out.append(("bias", module.bias.data))
    return out


def _write_members(params: list[tuple[str, np.ndarray]], models: Sequence[nn.Module], rows: Sequence[int]) -> None:
    """Member ``models[k]`` gets row ``rows[k]`` of every stacked array."""
    for model, row in zip(models, rows, strict=True):
        linears = [m for m in _layers(model, 0) if isinstance(m, nn.Linear)]
        k = 0
        for layer in linears:
            layer.weight.data = params[k][1][row].copy()
            k += 1
            if layer.bias is not None:
                layer.bias.data = params[k][1][row, 0].copy()
                k += 1


def member_losses(loss_fn: nn.Module, output: Value, target: Any) -> Value:
    """Each member's loss: ``loss_fn`` with ``reduction='none'``, averaged over all but the member axis.

    The same numbers as ``loss_fn(output[s], target[s])`` with ``reduction='mean'`` for each member s,
    gradients included (``member_losses(...).sum().backward()`` gives every member its own gradient).
    Supported: losses whose mean is the mean of their elementwise values (``nn.MSELoss``,
    ``nn.L1Loss``, ``nn.BCELoss`` without weight, ``nn.BCEWithLogitsLoss`` without weights).

    Example:
        >>> from tinygrad_lab import nn
        >>> out = Value(np.array([[[0.5], [1.0]], [[0.0], [2.0]]]))    # 2 members, 2 points
        >>> member_losses(nn.MSELoss(), out, np.ones((2, 2, 1))).data.tolist()
        [0.125, 1.0]
    """
    if not isinstance(loss_fn, (nn.MSELoss, nn.L1Loss, nn.BCELoss, nn.BCEWithLogitsLoss)):
        raise TypeError(f"member_losses supports MSELoss, L1Loss, BCELoss and BCEWithLogitsLoss, not "
                        f"{type(loss_fn).__name__}")
    if getattr(loss_fn, "reduction", "mean") != "mean":
        raise ValueError(f"member_losses averages each member's loss: give {type(loss_fn).__name__} with "
                         f"reduction='mean', not {loss_fn.reduction!r}")
    if getattr(loss_fn, "weight", None) is not None or getattr(loss_fn, "pos_weight", None) is not None:
        raise ValueError("member_losses: per-element loss weights are not supported")
    if output.ndim < 2:
        raise ValueError(f"member_losses needs an output with a leading member axis, got shape {output.shape}")
    elementwise = copy.copy(loss_fn)
    elementwise.reduction = "none"
    return elementwise(output, target).mean(axis=tuple(range(1, output.ndim)))


# ----------------------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------------------

def _per_member(data: Any, members: int, what: str) -> list[np.ndarray]:
    """``data`` as one array per member: shared (one array) or given per member (list or leading axis)."""
    if isinstance(data, Value):
        data = data.data
    if isinstance(data, (list, tuple)):
        if len(data) != members:
            raise ValueError(f"ensemble.fit: {len(data)} {what} arrays for {members} members")
        arrays = [np.asarray(a.data if isinstance(a, Value) else a) for a in data]
    else:
        arrays = [np.asarray(data)] * members
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"ensemble.fit: every member's {what} must have the same shape, got {sorted(shapes)}")
    return arrays


class _Shadow:
    """A member's own learning rate: a one-parameter optimizer its scheduler steps (exactly as alone)."""

    def __init__(self, optimizer: Any, scheduler: Any) -> None:
        self.optimizer, self.scheduler = optimizer, scheduler
        from .optim.lr_scheduler import ReduceLROnPlateau
        self.plateau = isinstance(scheduler, ReduceLROnPlateau)

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def step(self, loss: float) -> None:
        if self.plateau:
            self.scheduler.step(loss)
        else:
            self.scheduler.step()


def _check_fit_options(epochs: Any, target_loss: Any, target_accuracy: Any) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    if target_loss is not None and (not is_real(target_loss) or math.isnan(target_loss)):
        raise ValueError(f"target_loss must be a number or None, got {target_loss!r}")
    if target_accuracy is not None and (not is_real(target_accuracy) or not 0.0 <= target_accuracy <= 1.0):
        raise ValueError(f"target_accuracy must be a number in [0, 1] or None, got {target_accuracy!r}")


def fit(models: Sequence[nn.Module], inputs: Any, targets: Any, loss_fn: nn.Module,
        optimizer: Callable[[list], Any], epochs: int = 1000, *, batch_size: int | None = None,
        shuffle: bool = True, scheduler: Callable[[Any], Any] | None = None, target_loss: float | None = None,
        target_accuracy: float | None = None, threshold: float = 0.5,
        seeds: Sequence[Any] | None = None, use_jit: bool = True) -> list[History]:
    """Train every model of ``models`` as :func:`tinygrad_lab.train.fit` would train it alone, all at once.

    Args:
        models: identically-shaped ``nn.Sequential`` models (Linear layers and elementwise activations);
            trained in place (their parameters are the trained ones afterwards).
        inputs, targets: shared by all members (one array) or one per member (a list, or an array with
            a leading member axis given as a list).
        loss_fn: ``nn.MSELoss()``, ``nn.L1Loss()``, ``nn.BCELoss()`` or ``nn.BCEWithLogitsLoss()``
            (mean reduction; see :func:`member_losses`).
        optimizer: builds the optimizer from a list of parameters, e.g. ``lambda ps: optim.Adam(ps, lr=0.01)``;
            it is called once with the stacked parameters (any ``optim`` optimizer: they act elementwise).
        scheduler: builds a learning-rate scheduler from an optimizer (e.g.
            ``lambda opt: optim.lr_scheduler.StepLR(opt, 100)``); each member gets its own, so
            ``ReduceLROnPlateau`` follows each member's loss.
        batch_size, shuffle, target_loss, target_accuracy, threshold: as in ``train.fit``, per member.
        seeds: each member's shuffling seed (as ``train.fit``'s ``seed``), for mini-batches.
        use_jit: replay each step with :func:`tinygrad_lab.jit` (the same numbers, less time).

    Returns one :class:`~tinygrad_lab.train.History` per member. A member stops at its own target (or
    divergence) exactly as alone: it leaves the stack with its parameters as they are, the rest go on.
    ``seconds`` is the wall time shared out equally between the members.

    Example:
        >>> from tinygrad_lab import nn, optim
        >>> X, Y = np.array([[0.0], [1.0]]), np.array([[0.0], [1.0]])
        >>> models = [nn.Sequential(nn.Linear(1, 1, generator=s), nn.Sigmoid()) for s in range(3)]
        >>> hs = fit(models, X, Y, nn.MSELoss(), lambda ps: optim.SGD(ps, lr=5.0), epochs=500,
        ...          target_accuracy=1.0)
        >>> {h.stop_reason for h in hs}
        {'target_accuracy'}
    """
    _check_fit_options(epochs, target_loss, target_accuracy)
    _check_threshold(threshold)
    check_bool(shuffle, "shuffle", "ensemble.fit")
    check_bool(use_jit, "use_jit", "ensemble.fit")
    members = len(models)
    if members == 0:
        raise ValueError("ensemble.fit needs at least one model")
    xs = _per_member(inputs, members, "inputs")
    ys = _per_member(targets, members, "targets")
    n = len(xs[0])
    if n == 0 or len(ys[0]) != n:
        raise ValueError(f"ensemble.fit: {n} inputs and {len(ys[0])} targets per member (need the same, > 0)")
    if seeds is None:
        seeds = [None] * members
    elif not isinstance(seeds, Sequence) or isinstance(seeds, str):
        raise TypeError(f"ensemble.fit: seeds must be a list of one seed per member (or None), got {seeds!r}")
    elif len(seeds) != members:
        raise ValueError(f"ensemble.fit: {len(seeds)} seeds for {members} members")
    full_batch = batch_size is None or (isinstance(batch_size, numbers.Integral) and not isinstance(batch_size, bool)
                                        and batch_size >= n)

    model = stack(models)
    params = list(model.parameters())
    dtype = params[0].data.dtype    # as train.fit: a float32 model trains in float32 on float64 arrays
    xs = [x.astype(dtype) if x.dtype.kind in "biuf" else x for x in xs]
    ys = [y.astype(dtype) if y.dtype.kind in "bf" else y for y in ys]
    loaders = [DataLoader(x, y, batch_size, shuffle=shuffle and not full_batch, seed=s)
               for x, y, s in zip(xs, ys, seeds, strict=True)]
    opt = optimizer(params)
    groups = opt.param_groups
    if len(groups) != 1:
        raise ValueError("ensemble.fit: the optimizer must have one parameter group")
    base_lr = groups[0]["lr"]
    shadows = None
    if scheduler is not None:
        shadows = []
        for _ in range(members):
            from .optim import SGD
            shadow_opt = SGD([nn.Parameter(np.zeros(1))], lr=base_lr)
            shadow_opt._opt_called = True  # stepped by the stacked optimizer
            shadows.append(_Shadow(shadow_opt, scheduler(shadow_opt)))

    with no_grad():
        probe = model(Value(np.stack([x[:1] for x in xs])))
    out_shape = (n,) + tuple(probe.shape[2:])
    classes = [_target_classes(y, out_shape) for y in ys]
    track = all(c is not None for c in classes)
    if target_accuracy is not None and not track:
        raise ValueError("ensemble.fit: target_accuracy needs class-label targets (0/1 labels of the output's "
                         "shape, class indices or one-hot rows)")
    multi = len(out_shape) == 2 and out_shape[1] > 1
    target_classes = np.stack([c for c in classes if c is not None]) if track else None
    x_all = xs[0] if all(x is xs[0] for x in xs) else np.stack(xs)
    y_all = np.stack(ys)

    active = np.arange(members)                   # member index of each row of the stack
    rows: list[tuple[np.ndarray, np.ndarray, Any, Any]] = []   # per epoch: (active, loss, accuracy, lr)
    stopped_at = np.zeros(members, dtype=np.int64)
    reasons = ["max_epochs"] * members
    finals: dict[int, list[np.ndarray]] = {}

    def take_out(keep: np.ndarray) -> None:
        """Drop the rows not in ``keep`` (a boolean mask over the active rows) from the whole stack."""
        nonlocal active, x_all, y_all, target_classes, loaders, shadows
        for p in params:
            state = opt.state.get(p)
            p.data = p.data[keep]
            if state:
                for k, v in state.items():
                    if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == len(keep):
                        state[k] = v[keep]
        active = active[keep]
        if x_all.ndim == 3:
            x_all = x_all[keep]
        y_all = y_all[keep]
        if target_classes is not None:
            target_classes = target_classes[keep]
        loaders = [ld for ld, k in zip(loaders, keep, strict=True) if k]
        if shadows is not None:
            shadows = [s for s, k in zip(shadows, keep, strict=True) if k]

    def accuracy(out: np.ndarray) -> np.ndarray:
        # what train.fit computes: the mean of the right answers (a count over the member's points, divided)
        predicted = out.argmax(axis=-1) if multi else out > threshold     # a bool compares as 0.0 / 1.0
        correct = predicted == target_classes
        return np.add.reduce(correct, axis=tuple(range(1, correct.ndim)), dtype=np.intp) / correct[0].size

    def train_step(x: Value, y: Value) -> tuple[Value, Value]:
        opt.zero_grad()
        out = model(x)
        losses = member_losses(loss_fn, out, y)
        losses.sum().backward()
        opt.step()
        return out, losses

    step = JitFunction(train_step, warn=False) if use_jit else train_step
    first = model[0]
    assert isinstance(first, StackedLinear)      # stack() makes it so
    # full batch: the first layer gets its constant input with a column of ones (bias and gradients in one product
    # each); not for one row or one output, where NumPy calls matrix-vector routines of their own rounding
    first._ones_column = bool(full_batch and first.bias is not None and n > 1 and first.out_features > 1
                              and dtype.char in _BLAS_TYPES)

    def with_ones(x: np.ndarray) -> np.ndarray:
        return np.concatenate((x, np.ones(x.shape[:-1] + (1,), dtype=x.dtype)), axis=-1)

    inputs_value: Value | None = None
    targets_value: Value | None = None
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        if shadows is not None:
            lrs = [s.lr for s in shadows]
            lr_row: Any = np.array(lrs)
            groups[0]["lr"] = lrs[0] if all(v == lrs[0] for v in lrs) else np.array(lrs, dtype=dtype)[:, None, None]
        else:
            lr_row = groups[0]["lr"]
        acc = None
        if full_batch:
            if inputs_value is None:
                inputs_value, targets_value = Value(with_ones(x_all) if first._ones_column else x_all), Value(y_all)
            before = [p.data.copy() for p in params]     # a member that stops keeps these
            out, losses = step(inputs_value, targets_value)  # type: ignore[arg-type]  # set just above
            epoch_loss = np.array(losses.data, dtype=np.float64)
            if track:
                acc = accuracy(out.data)
        else:
            epoch_loss = np.zeros(len(active))
            for batch in zip(*loaders):
                xb = np.stack([b[0] for b in batch])
                yb = np.stack([b[1] for b in batch])
                _, losses = step(Value(xb), Value(yb))
                epoch_loss += losses.data * xb.shape[1]
            epoch_loss = epoch_loss / n
            if track:
                with no_grad():
                    acc = accuracy(model(Value(x_all)).data)
        stop = ~np.isfinite(epoch_loss)
        if target_loss is not None:
            stop |= epoch_loss <= target_loss
        if target_accuracy is not None and acc is not None:
            stop |= acc >= target_accuracy
        rows.append((active, epoch_loss, acc, lr_row))
        if stop.any():
            for r in np.flatnonzero(stop):
                m = int(active[r])
                stopped_at[m] = epoch
                loss_r = float(epoch_loss[r])
                reasons[m] = ("diverged" if not math.isfinite(loss_r) else
                              "target_loss" if target_loss is not None and loss_r <= target_loss else
                              "target_accuracy")
                finals[m] = [a[r].copy() for a in (before if full_batch else [p.data for p in params])]
        if stop.any():
            take_out(~stop)
            inputs_value = None
            if len(active) == 0:
                break
        if shadows is not None:
            for s, value in zip(shadows, epoch_loss[~stop], strict=True):
                s.step(float(value))
    seconds = time.perf_counter() - start
    for row, member in enumerate(active.tolist()):
        stopped_at[member] = epochs
        finals[member] = [p.data[row].copy() for p in params]

    histories = _histories(rows, members, stopped_at, reasons, track, seconds / members)
    kinds = [k for k, _ in _stacked_params(model)]
    for m, model_m in enumerate(models):
        _write_members(list(zip(kinds, [a[None] for a in finals[m]], strict=True)), [model_m], [0])
    return histories


def _histories(rows: list, members: int, stopped_at: np.ndarray, reasons: list[str], track: bool,
               seconds: float) -> list[History]:
    """One History per member from the per-epoch rows of the stack."""
    epochs = len(rows)
    loss = np.full((epochs, members), np.nan)
    acc = np.full((epochs, members), np.nan)
    lr = np.full((epochs, members), np.nan)
    for e, (active, row_loss, row_acc, row_lr) in enumerate(rows):
        loss[e, active] = row_loss
        if track:
            acc[e, active] = row_acc
        lr[e, active] = row_lr
    histories = []
    for m in range(members):
        k = int(stopped_at[m])
        h = History(loss=loss[:k, m].tolist(), lr=lr[:k, m].tolist(), epochs=k, stop_reason=reasons[m],
                    seconds=seconds)
        if track:
            h.accuracy = acc[:k, m].tolist()
            hit = np.flatnonzero(acc[:k, m] == 1.0)
            h.converged_epoch = int(hit[0]) + 1 if hit.size else None
        histories.append(h)
    return histories
