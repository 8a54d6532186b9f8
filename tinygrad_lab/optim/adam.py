"""Adam and AdamW (`torch.optim.Adam`, `torch.optim.AdamW`), PyTorch's update rules step for step."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import Value
from .optimizer import Optimizer, check_flags, check_non_negative, check_number, lerp_

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam, PyTorch's algorithm (bias-corrected, eps outside the square root).

    For each parameter p with gradient g (negated if `maximize`), at step t:

        g = g + weight_decay * p            (AdamW instead: p = p * (1 - lr * weight_decay))
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)               (amsgrad only; then v_max replaces v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Example:
        >>> from tinygrad_lab import Value
        >>> w = Value([1.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(float(w.data[0]), 6)     # the first step moves by lr (times g / (|g| + eps'))
        0.9
    """

    state_keys = ("step", "exp_avg", "exp_avg_sq")
    optional_state_keys = ("max_exp_avg_sq",)

    def __init__(self, params: Iterable[Value] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative(group["lr"], "learning rate")
        check_non_negative(group["eps"], "epsilon value")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas!r} (a pair (beta1, beta2) expected)")
        for i, beta in enumerate(betas):
            check_number(beta, f"beta parameter at index {i}")
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_non_negative(group["weight_decay"], "weight_decay value")
        check_flags(group, ("amsgrad", "maximize", "decoupled_weight_decay"), type(self).__name__)

    def _group_from_file(self, group: dict[str, Any]) -> dict[str, Any]:
        """JSON stores `betas` as a list: make it the tuple Adam keeps."""
        betas = group.get("betas")
        return {**group, "betas": tuple(betas)} if isinstance(betas, list) else group

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return the closure's loss (or None)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            amsgrad, decoupled = group["amsgrad"], group["decoupled_weight_decay"]
            for p, grad, state in self._gradients(group):
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(p.data)
                    state["exp_avg_sq"] = np.zeros_like(p.data)
                state["step"] += 1
                step = state["step"]
                if weight_decay != 0:
                    if decoupled:
                        p.data *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * p.data
                bias_correction1 = 1 - beta1 ** step
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                step_size = lr / bias_correction1
                max_sq = None
                if amsgrad:
                    max_sq = state.get("max_exp_avg_sq")
                    if max_sq is None:   # the first step with amsgrad (also when switched on later)
                        max_sq = state["max_exp_avg_sq"] = np.zeros_like(p.data)
                # elementwise only: block by block (each block's passes stay in cache), the same numbers
                blocks = _blocks(p.data, grad, state["exp_avg"], state["exp_avg_sq"], max_sq)
                for param, g, exp_avg, exp_avg_sq, v_max in blocks:
                    lerp_(exp_avg, g, 1 - beta1)
                    exp_avg_sq *= beta2
                    # The arithmetic of `exp_avg_sq += (1 - beta2) * g * g` and of
                    # `param += (-step_size * exp_avg) / (sqrt(v) / bias_correction2_sqrt + eps)`, operation for
                    # operation, in two temporaries instead of seven (the same numbers).
                    scratch = np.multiply(1 - beta2, g)   # g's dtype and shape (a NumPy scalar if 0-d)
                    scratch *= g
                    exp_avg_sq += scratch
                    if v_max is not None:
                        np.maximum(v_max, exp_avg_sq, out=v_max)
                        denom = np.sqrt(v_max)
                    else:
                        denom = np.sqrt(exp_avg_sq)
                    denom /= bias_correction2_sqrt
                    denom += eps
                    reuse = isinstance(scratch, np.ndarray) and scratch.dtype == exp_avg.dtype
                    update = np.multiply(-step_size, exp_avg, out=scratch if reuse else None)
                    update /= denom
                    param += update
                if len(blocks) == 1:
                    p.data = param      # in place for an array; a NumPy scalar's update is a new scalar
        return loss


#: elements per block of `_blocks`: 256 KiB of float32 (the arrays of one block and its temporaries fit in L2)
BLOCK = 1 << 16


def _blocks(*arrays: Any) -> list[tuple]:
    """Matching blocks of same-shaped C-contiguous arrays (None entries stay None), or the arrays whole.

    Example:
        >>> [a.shape for a, _ in _blocks(np.zeros(BLOCK + 1), None)]
        [(65536,), (1,)]
    """
    first = arrays[0]
    if (not isinstance(first, np.ndarray) or first.size <= BLOCK
            or not all(a is None or (isinstance(a, np.ndarray) and a.shape == first.shape and a.flags.c_contiguous)
                       for a in arrays)):
        return [arrays]
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    return [tuple(None if f is None else f[i:i + BLOCK] for f in flat) for i in range(0, first.size, BLOCK)]


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr * weight_decay, then the Adam step.

    Default `weight_decay=1e-2`, as `torch.optim.AdamW`.

    Example:
        >>> from tinygrad_lab import Value
        >>> w = Value([1.0], requires_grad=True)
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> (w * 0.0).sum().backward(); opt.step()    # zero gradient: only the decay acts
        >>> round(float(w.data[0]), 6)                 # 1 * (1 - 0.1 * 0.5)
        0.95
    """

    def __init__(self, params: Iterable[Value] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:   # as PyTorch: AdamW's decay stays decoupled whatever was saved
            group["decoupled_weight_decay"] = True
