"""What each node of a traced graph is (parameter, leaf, constant, intermediate, output) and its title:
the facts shared by the drawing and the text view.

Example:
    >>> from tinygrad_lab import Value
    >>> a = Value(2.0, requires_grad=True, label="a")
    >>> facts = _Facts(trace(a * 3.0), None)
    >>> [facts.kind(i) for i in range(3)], facts.title(0)
    (['input', 'const', 'root'], 'a')
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .calls import _find_calls, _parameter_names
from .style import _NO_GRAD_YET, _summary
from .tracing import GraphTrace, trace  # noqa: F401 (trace: used by the example)


class _Facts:
    """Per-graph facts shared by the drawing and the text view."""

    def __init__(self, tr: GraphTrace, params: Any, grads: dict[int, np.ndarray] | None = None):
        self.tr = tr
        self.calls, self.calls_of = _find_calls(tr)
        self.names = _parameter_names(params, self.calls)
        self.roots = set(tr.roots)
        self.backward_ran = bool(tr.freed) or any(
            v.grad is not None for v in tr.nodes if v._op is None and v.requires_grad)
        # grads=True: the gradient of the output for every node, computed for this drawing (by node id)
        self.computed = None if grads is None else {id(tr.nodes[i]): g for i, g in grads.items()}

    def gradient(self, value: Any) -> np.ndarray | None:
        """The gradient shown for ``value``: the computed one (``grads=True``), else its ``.grad``."""
        if self.computed is not None:
            return self.computed.get(id(value))
        return None if value.grad is None else np.asarray(value.grad.data)

    def is_param(self, value: Any) -> bool:
        """A parameter: an `nn.Parameter` (its `_is_parameter` flag: viz does not import nn), or a leaf named by a
        module call or `params`."""
        return value._is_parameter or (id(value) in self.names and value._op is None)

    def kind(self, i: int) -> str:
        value = self.tr.nodes[i]
        if i in self.roots:
            return "root"
        if value._op is not None or value._prev is None:
            return "value"
        return self.leaf_kind(value)

    def leaf_kind(self, value: Any) -> str:
        if self.is_param(value):
            return "param"
        return "input" if value.requires_grad else "const"

    def title(self, i: int) -> str:
        value = self.tr.nodes[i]
        name = self.names.get(id(value)) or value.label
        if name:
            return str(name)
        if i in self.roots:
            return "output"
        if value._op is None and value._prev is not None:
            return "parameter" if self.is_param(value) else ("leaf" if value.requires_grad else "constant")
        return ""

    def grad_text(self, value: Any) -> tuple[str | None, int]:
        if not value.requires_grad:
            return None, 0
        gradient = self.gradient(value)
        if gradient is not None:
            text, bad = _summary(gradient)
            return "grad " + text, bad
        if self.computed is not None:  # grads=True: not reached from the output (it does not affect it)
            return "grad: unused (the output does not depend on it)", 0
        if value._op is not None:  # non-leaves keep no grad unless retain_grad(): the legend says so
            return None, 0
        return _NO_GRAD_YET, 0
