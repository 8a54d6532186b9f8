"""Gradient-check testing for your own ops, layers and models.

    >>> from tinygrad_lab import Value
    >>> from tinygrad_lab.testing import gradcheck
    >>> x = Value([[0.3, -1.2], [2.0, 0.5]], requires_grad=True)
    >>> gradcheck(lambda x: (x * x).sum(axis=1), (x,))
    True

Names: :func:`gradcheck`, :func:`gradgradcheck`, :func:`check_grads`, :func:`gradcheck_module`,
:func:`assert_grad_close`, :class:`GradcheckError`, :class:`GradcheckWarning`, :func:`detect_anomaly`,
:class:`AnomalyError`, and the submodule :mod:`tinygrad_lab.testing.strategies` (hypothesis strategies,
imported on first use, so this package works without hypothesis installed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..autograd import AnomalyError, detect_anomaly
from .gradcheck import (
    GradcheckError,
    GradcheckFailure,
    GradcheckWarning,
    assert_grad_close,
    check_grads,
    gradcheck,
    gradcheck_module,
    gradgradcheck,
)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from . import strategies

__all__ = [
    "AnomalyError",
    "GradcheckError",
    "GradcheckFailure",
    "GradcheckWarning",
    "assert_grad_close",
    "check_grads",
    "detect_anomaly",
    "gradcheck",
    "gradcheck_module",
    "gradgradcheck",
    "strategies",
]


def __getattr__(name: str) -> Any:
    if name == "strategies":  # needs hypothesis: imported on first use only
        return importlib.import_module(".strategies", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
