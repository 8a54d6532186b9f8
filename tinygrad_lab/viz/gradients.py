"""Every gradient of a drawing (``grads=True``): the gradient of the output with respect to each value of
its graph, computed for the drawing alone.

``grad()`` runs the backward pass with ``retain_graph=True`` and fills no ``.grad``, so drawing with
``grads=True`` changes nothing the user has: leaves keep the ``.grad`` they had, and a later plain
``backward()`` frees the graph and fills ``.grad`` as it would have.

Example:
    >>> from tinygrad_lab import Value
    >>> a = Value(2.0, requires_grad=True)
    >>> e = a * a                           # de/da = 2a = 4
    >>> L = e * 3.0                         # dL/de = 3, dL/da = 12
    >>> tr = trace(L)
    >>> grads = all_gradients(tr, "draw_graph")
    >>> [float(grads[tr.index(v)]) for v in (a, e, L)]
    [12.0, 3.0, 1.0]
    >>> a.grad is None                      # nothing the user had is changed
    True
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad
from .tracing import GraphTrace, trace  # noqa: F401 (trace: used by the example)

__all__ = ["all_gradients"]


def all_gradients(tr: GraphTrace, caller: str) -> dict[int, np.ndarray]:
    """For each node that requires grad, the gradient of the traced output(s) with respect to it.

    The outputs must be scalars (a loss); several outputs count as their sum, as ``backward()`` on each
    would. The graph must still be there: draw before ``backward()`` or after ``backward(retain_graph=True)``.
    """
    roots = [tr.nodes[r] for r in tr.roots]
    for root in roots:
        if root.data.size != 1:
            raise ValueError(f"{caller}(grads=True) draws the gradients of a scalar output (a loss), but the output "
                             f"has shape {tuple(root.shape)}: reduce it first (for example .sum() or .mean()), or "
                             "leave grads out")
    if tr.freed:
        raise RuntimeError(f"{caller}(grads=True) needs the graph, but backward() has freed it: call "
                           f"{caller}(..., grads=True) before backward(), or call backward(retain_graph=True)")
    wanted = [i for i, v in enumerate(tr.nodes) if v.requires_grad]
    outputs = [r for r in roots if r.requires_grad]
    if not outputs:
        return {}
    found = grad(outputs, [tr.nodes[i] for i in wanted], retain_graph=True, allow_unused=True)
    return {i: np.asarray(g.data) for i, g in zip(wanted, found) if g is not None}
