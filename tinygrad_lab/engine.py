"""Temporary shim: the engine moved to `tinygrad_lab.autograd` (issue 9). Import from there.

Re-exports the names (public and private) that other modules imported from
here, so that code written against the old layout keeps working until the
imports are retargeted; it will be removed.

Example:
    >>> from tinygrad_lab.engine import Value
    >>> from tinygrad_lab.autograd import Value as V
    >>> Value is V
    True
"""
from .autograd.anomaly_mode import AnomalyError, detect_anomaly
from .autograd.anomaly_mode import check_finite as _check_finite
from .autograd.engine import _run_backward, _seed_gradient, _topological_order, grad
from .autograd.function import OPS, Function
from .autograd.function import constant as _const
from .autograd.function import creation_order as _creation_order
from .autograd.function import make_node as _make
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.value import Value, _as_array, _unwrap_all
from .autograd.value import as_value as _operand
from .autograd.value import unwrap as _data
from .ops.arithmetic import Add, Div, Mul, Neg, Sub

_unwrap = _unwrap_all

__all__ = [
    "Value", "Function", "AnomalyError", "no_grad", "enable_grad", "is_grad_enabled",
    "set_grad_enabled", "grad", "detect_anomaly",
]

_SHIM_NAMES = (OPS, _check_finite, _run_backward, _seed_gradient, _topological_order, _const, _creation_order,
               _make, _as_array, _operand, _data, Add, Div, Mul, Neg, Sub)
