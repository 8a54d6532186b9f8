"""RMSprop (`torch.optim.RMSprop`), PyTorch's update rule step for step (centered and momentum variants)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import Value
from .optimizer import Optimizer, check_flags, check_non_negative, lerp_

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of recent gradients.

    For each parameter p with gradient g (negated if `maximize`):

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g^2
        centered:  a = alpha-average of g;  avg = sqrt(v - a^2) + eps   else  avg = sqrt(v) + eps
        momentum:  b = momentum * b + g / avg;  p = p - lr * b          else  p = p - lr * g / avg

    Example:
        >>> from tinygrad_lab import Value
        >>> w = Value([1.0], requires_grad=True)
        >>> opt = RMSprop([w], lr=0.01)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(float(w.data[0]), 6)     # 1 - 0.01 * 2 / sqrt(0.01 * 4)
        0.9
    """

    state_keys = ("step", "square_avg")
    optional_state_keys = ("momentum_buffer", "grad_avg")

    def __init__(self, params: Iterable[Value] | Iterable[dict[str, Any]], lr: float = 1e-2,
                 alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay, "momentum": momentum,
                    "centered": centered, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative(group["lr"], "learning rate")
        check_non_negative(group["eps"], "epsilon value")
        check_non_negative(group["momentum"], "momentum value")
        check_non_negative(group["weight_decay"], "weight_decay value")
        check_non_negative(group["alpha"], "alpha value")
        if group["alpha"] > 1:   # PyTorch takes it; the squared-gradient average then turns negative, its sqrt nan
            raise ValueError(f"Invalid alpha value: {group['alpha']} (the smoothing constant of the squared-gradient "
                             "average must be in [0, 1], e.g. 0.99)")
        check_flags(group, ("centered", "maximize"), "RMSprop")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return the closure's loss (or None)."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
            for p, grad, state in self._gradients(group):
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(p.data)
                    if momentum > 0:
                        state["momentum_buffer"] = np.zeros_like(p.data)
                    if centered:
                        state["grad_avg"] = np.zeros_like(p.data)
                state["step"] += 1
                if weight_decay != 0:
                    grad = grad + weight_decay * p.data
                square_avg = state["square_avg"]
                square_avg *= alpha
                square_avg += (1 - alpha) * grad * grad
                if centered:
                    grad_avg = state.setdefault("grad_avg", np.zeros_like(p.data))
                    lerp_(grad_avg, grad, 1 - alpha)
                    avg = np.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    avg = np.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = state.setdefault("momentum_buffer", np.zeros_like(p.data))
                    buf *= momentum
                    buf += grad / avg
                    p.data -= lr * buf
                else:
                    p.data += (-lr * grad) / avg
        return loss
