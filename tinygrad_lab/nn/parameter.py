"""`Parameter`: a `Value` that is a model's weight (`torch.nn.parameter`).

Example:
    >>> Parameter([0.5]).requires_grad
    True
"""
from __future__ import annotations

from typing import Any

from ..autograd import Value
from ..utils.checks import check_bool

__all__ = ["Parameter"]


class Parameter(Value):
    """A `Value` that is a model's weight: it requires grad and modules register it.

    The data is copied on construction and must be floating point.

    Example:
        >>> w = Parameter([[1.0, 2.0]])
        >>> w.requires_grad, w.shape
        (True, (1, 2))
    """

    __slots__ = ()
    _is_parameter = True

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None,
                 label: str | None = None) -> None:
        check_bool(requires_grad, "requires_grad", "Parameter()")
        super().__init__(data, requires_grad=False, dtype=dtype, label=label)
        if self.data.dtype.kind != "f":
            raise TypeError(f"Parameter needs floating-point data, got dtype {self.data.dtype}; convert it "
                            "first (e.g. data.astype(np.float64)) or pass dtype=np.float64")
        self.requires_grad = bool(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
