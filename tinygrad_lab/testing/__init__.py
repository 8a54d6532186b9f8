"""Gradient-check testing for your own ops, layers and models.

Everything here is imported lazily, so ``import tinygrad_lab.testing`` (and the pytest
plugin, which pytest loads on every run) stays light and never needs hypothesis::

    >>> from tinygrad_lab import Value
    >>> from tinygrad_lab.testing import gradcheck
    >>> x = Value([[0.3, -1.2], [2.0, 0.5]], requires_grad=True)
    >>> gradcheck(lambda x: (x * x).sum(axis=1), (x,))
    True

Names: :func:`gradcheck`, :func:`gradgradcheck`, :func:`check_grads`, :func:`gradcheck_module`,
:func:`assert_grad_close`, :class:`GradcheckError`, :func:`detect_anomaly`, and the
submodule :mod:`tinygrad_lab.testing.strategies` (hypothesis strategies; needs hypothesis).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from . import strategies
    from .gradcheck import (
        GradcheckError,
        assert_grad_close,
        check_grads,
        detect_anomaly,
        gradcheck,
        gradcheck_module,
        gradgradcheck,
    )

__all__ = [
    "GradcheckError",
    "assert_grad_close",
    "check_grads",
    "detect_anomaly",
    "gradcheck",
    "gradcheck_module",
    "gradgradcheck",
    "strategies",
]

_FROM_GRADCHECK = frozenset(__all__) - {"strategies"}


def __getattr__(name: str) -> Any:
    if name in _FROM_GRADCHECK:
        module = importlib.import_module(".gradcheck", __name__)
        return getattr(module, name)
    if name == "strategies":
        return importlib.import_module(".strategies", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
