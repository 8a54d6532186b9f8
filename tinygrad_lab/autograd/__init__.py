"""Automatic differentiation: `Value`, the `Function` op protocol, `backward`/`grad` and the modes.

Layout (as `torch/autograd`): `grad_mode.py` (per-thread `no_grad`,
`enable_grad`, `set_grad_enabled`), `anomaly_mode.py` (`detect_anomaly`),
`function.py` (`Function`, the `OPS` registry, `make_node`), `value.py`
(`Value`, which dispatches to the ops of `tinygrad_lab.ops`) and `engine.py`
(`backward`, `grad`).

Example:
    >>> from tinygrad_lab.autograd import Value, grad
    >>> x = Value(3.0, requires_grad=True)
    >>> grad(x * x, x)
    (Value(6.),)
"""
from .anomaly_mode import AnomalyError, detect_anomaly, is_anomaly_enabled
from .engine import backward, grad
from .function import OPS, Function, constant, creation_order, make_node
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .value import Value, as_value, unwrap

__all__ = [
    "Value", "Function", "AnomalyError", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
    "grad", "backward", "detect_anomaly", "is_anomaly_enabled", "OPS", "make_node", "constant",
    "creation_order", "unwrap", "as_value",
]
