"""Optimizers and learning-rate schedulers with PyTorch's names and update rules (`torch.optim`).

Example:
    >>> from tinygrad_lab import Value, optim
    >>> w = Value([3.0], requires_grad=True)
    >>> opt = optim.Adam([w], lr=0.1)
    >>> for _ in range(100):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> abs(float(w.data[0])) < 0.1
    True
"""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
