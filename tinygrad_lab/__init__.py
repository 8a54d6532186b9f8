"""tinygrad_lab: a small, exact and fast autograd framework on NumPy.

Example:
    >>> from tinygrad_lab import Value
    >>> a = Value(2.0, requires_grad=True)
    >>> (a * a + a.exp()).backward()
    >>> a.grad
    Value(11.3890561)
"""
from .autograd import (  # noqa: I001  (autograd first: every other layer builds on it)
    AnomalyError,
    Function,
    Value,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from . import nn, optim, random
from .ops import (
    argmax,
    argmin,
    broadcast_to,
    cat,
    chunk,
    concat,
    cumsum,
    erf,
    expand,
    flip,
    gather,
    linear,
    log_softmax,
    logsumexp,
    masked_fill,
    maximum,
    minimum,
    repeat,
    scatter_add,
    softmax,
    split,
    stack,
    std,
    sum_to,
    var,
    where,
)
from .jit import JitError, jit
from .random import manual_seed
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded on first use (see __getattr__ below); named here for type checkers and the docs
    from .checkpoint import load, save
    from .testing.gradcheck import gradcheck, gradgradcheck

from ._version import __version__ as __version__  # the one place the version is written


def _draw(self: Value, **options: Any) -> Any:
    """The computation graph of this value as a drawing: `tinygrad_lab.viz.draw_graph(self, **options)`.

    Example:
        >>> x = Value([1.0, 2.0], requires_grad=True, label="x")
        >>> "x" in (x * 2).sum().draw().source
        True
    """
    from .viz import draw_graph  # imported on first use: drawing is optional and sits above the engine

    return draw_graph(self, **options)


Value.draw = _draw   # the package root is the one place that joins the layers

# Names whose modules load on first use (PEP 562), so that `import tinygrad_lab` stays light: the
# gradient-check toolkit and the checkpoint files. `from tinygrad_lab import gradcheck` works as before.
_LAZY = {"gradcheck": "testing", "gradgradcheck": "testing", "load": "checkpoint", "save": "checkpoint"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tinygrad_lab' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value      # later lookups find it directly
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Value", "Function", "AnomalyError", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "detect_anomaly", "concat", "cat", "stack", "where", "maximum", "minimum",
    "softmax", "log_softmax", "logsumexp", "broadcast_to", "sum_to", "linear", "gradcheck", "gradgradcheck",
    "nn", "optim", "random", "manual_seed", "jit", "JitError",
    "var", "std", "cumsum", "argmax", "argmin", "gather", "scatter_add", "masked_fill", "split", "chunk",
    "expand", "repeat", "flip", "erf", "save", "load",
]
