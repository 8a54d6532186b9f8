"""`Module.summary`: the table of a model's sub-modules, parameter shapes and counts (and output shapes).

Example:
    >>> from tinygrad_lab.nn import Linear
    >>> print(summarize(Linear(2, 1)).splitlines()[-1])
    Total params: 3 (trainable: 3, non-trainable: 0)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Value, no_grad
from ..utils.tables import format_table

if TYPE_CHECKING:
    from .module import Module

__all__ = ["summarize"]


def summarize(root: Module, input_shape: tuple[int, ...] | None = None, dtype: Any = np.float64) -> str:
    """The text of `root.summary(input_shape, dtype)` (see `Module.summary`).

    Example:
        >>> from tinygrad_lab.nn import Sequential, Linear
        >>> summarize(Sequential(Linear(2, 2)), input_shape=(1, 2)).splitlines()[1].split()
        ['name', 'type', 'output', 'shape', 'parameters', 'params']
    """
    # the root gets a row of its own when it holds parameters itself (or has no sub-modules)
    rows = [(name, module) for name, module in root.named_modules()
            if name or any(p is not None for p in module._parameters.values())]
    if not rows:
        rows = [("", root)]
    outputs = _output_shapes(root, input_shape, dtype) if input_shape is not None else None
    shape_column = ["output shape"] if outputs is not None else []
    header = ["name", "type", *shape_column, "parameters", "params"]
    table = [header]
    for name, module in rows:
        own = [(n, p) for n, p in module._parameters.items() if p is not None]
        shapes = ", ".join(f"{n} {tuple(p.shape)}" for n, p in own) or "-"
        count = sum(p.data.size for _, p in own)
        row = [name or "(root)", type(module).__name__]
        if outputs is not None:
            row.append(str(outputs.get(id(module), "-")))
        table.append(row + [shapes, str(count)])
    lines = [type(root).__name__, format_table(table, rule_after_header=True)]
    total, trainable = root.num_parameters(), root.num_parameters(trainable_only=True)
    lines.append(f"Total params: {total:,} (trainable: {trainable:,}, non-trainable: "
                 f"{total - trainable:,})")
    return "\n".join(lines)


def _output_shapes(root: Module, input_shape: tuple[int, ...], dtype: Any) -> dict[int, Any]:
    """Run one forward pass on zeros, recording each module's output shape by module id."""
    shapes: dict[int, Any] = {}
    patched = []

    def recorder(module: Module) -> Callable:
        forward = module.forward   # an instance's own forward (assigned to it) too

        def recorded(*args: Any, **kwargs: Any) -> Any:
            out = forward(*args, **kwargs)
            shapes[id(module)] = tuple(out.shape) if hasattr(out, "shape") else type(out).__name__
            return out
        return recorded

    was_training = {id(m): m.training for m in root.modules()}
    own_forward = {id(m): m.__dict__["forward"] for m in root.modules() if "forward" in m.__dict__}
    try:
        for module in root.modules():
            module.__dict__["forward"] = recorder(module)
            patched.append(module)
        root.eval()
        with no_grad():
            root(Value(np.zeros(input_shape, dtype=dtype)))
    finally:
        for module in patched:   # an instance's own forward is put back, not deleted
            if id(module) in own_forward:
                module.__dict__["forward"] = own_forward[id(module)]
            else:
                module.__dict__.pop("forward", None)
        for module in root.modules():
            module.__dict__["training"] = was_training.get(id(module), module.training)
    return shapes

