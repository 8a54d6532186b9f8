"""What a failed gradient check gives back: the error (with its report), the caveat warning, one wrong pair.

These are public as ``tinygrad_lab.testing.GradcheckError`` and so on; they live here, below the
checks, so that every part of the toolkit can build them.

Example:
    >>> issubclass(GradcheckError, AssertionError), issubclass(GradcheckWarning, UserWarning)
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["GradcheckError", "GradcheckWarning", "GradcheckFailure"]


class GradcheckError(AssertionError):
    """A gradient check failed. ``str(error)`` is the full report; ``error.failures`` the wrong pairs.

    Example:
        >>> from tinygrad_lab import Value
        >>> from tinygrad_lab.testing import gradcheck
        >>> try:
        ...     gradcheck(lambda x: x.detach() * x, (Value([1.0, 2.0], requires_grad=True),))
        ... except GradcheckError as error:
        ...     print(error.failures[0].input)
        input 0
    """

    def __init__(self, report: str, failures: Sequence[GradcheckFailure] = ()) -> None:
        super().__init__(report)
        self.report = report
        self.failures = list(failures)


class GradcheckWarning(UserWarning):
    """The check passed but its result deserves a caveat (not float64, a non-differentiable point).

    Example:
        >>> import warnings
        >>> warnings.simplefilter("error", GradcheckWarning)   # make the caveats fail your tests
    """


@dataclass
class GradcheckFailure:
    """One wrong gradient: d(output)/d(input) differs from finite differences.

    ``analytic`` and ``numeric`` are Jacobians of shape (output size, input size) (None when the
    gradient could not be compared, e.g. a backward returned the wrong shape); ``hints`` say which
    known mistake the pattern looks like.

    Example:
        >>> failure = GradcheckFailure("output 0", "input 0", (), (2,), None, None, ["sign flipped"])
        >>> failure.hints
        ['sign flipped']
    """

    output: str
    input: str
    output_shape: tuple
    input_shape: tuple
    analytic: np.ndarray | None
    numeric: np.ndarray | None
    hints: list[str] = field(default_factory=list)
    summary: str = ""
    table: str = ""
