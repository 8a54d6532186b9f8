"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (`torch.optim.SGD`)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import Value
from .optimizer import Optimizer, check_flags, check_non_negative, check_number

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's algorithm step for step.

    For each parameter p with gradient g (negated if `maximize`):

        g = g + weight_decay * p
        if momentum:  b = g (first step) else b = momentum * b + (1 - dampening) * g
                      g = g + momentum * b if nesterov else b
        p = p - lr * g

    Example:
        >>> from tinygrad_lab import Value
        >>> w = Value([1.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
        >>> round(float(w.data[0]), 6)     # 1 - 0.1*2 = 0.8;  b = 0.9*2 + 1.6 = 3.4;  0.8 - 0.34
        0.46
    """

    optional_state_keys = ("momentum_buffer",)

    def __init__(self, params: Iterable[Value] | Iterable[dict[str, Any]], lr: float = 1e-3,
                 momentum: float = 0, dampening: float = 0, weight_decay: float = 0, nesterov: bool = False,
                 *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative(group["lr"], "learning rate")
        check_non_negative(group["momentum"], "momentum value")
        check_non_negative(group["weight_decay"], "weight_decay value")
        check_number(group["dampening"], "dampening value")
        check_flags(group, ("nesterov", "maximize"), "SGD")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return the closure's loss (or None)."""
        loss = None if closure is None else self._closure_loss(closure)
        for group in self.param_groups:
            lr = group["lr"]
            momentum, weight_decay, maximize = group["momentum"], group["weight_decay"], group["maximize"]
            if momentum == 0 and weight_decay == 0 and not maximize:
                for p in group["params"]:   # the plain step: one fused line per parameter
                    g = p.grad
                    if g is not None:
                        p.data -= lr * g.data
                continue
            dampening, nesterov = group["dampening"], group["nesterov"]
            for p, d_p, state in self._gradients(group):
                if weight_decay != 0:
                    d_p = d_p + weight_decay * p.data
                if momentum != 0:
                    buf = state.get("momentum_buffer")
                    if buf is None:   # an array even for a 0-d parameter (whose d_p may be a NumPy scalar)
                        buf = state["momentum_buffer"] = np.array(d_p, copy=True)
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * d_p
                    d_p = d_p + momentum * buf if nesterov else buf
                p.data -= lr * d_p
        return loss
