"""A captured step (`_Capture`): the program the passes work on, its argument buffers and parameter bindings, and
how the step's result is rebuilt from the buffers at each replay (its output layout).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import Value
from ..autograd.function import constant as _const
from ..autograd.function import make_node as _make_node
from .tracing import _Recorder, _Traced


class _Capture:
    """One recorded step: its program, argument buffers, parameter bindings and output layout."""

    def __init__(self, recorder: _Recorder, arg_buffers: list[np.ndarray | None], params: list[tuple[Value, Any]],
                 grads: list[tuple[Value, Any]], outputs: Any) -> None:
        self.program = recorder.program
        self.signature = recorder.signature
        self.externals = recorder.externals
        self.recorder = recorder
        self.arg_buffers = arg_buffers
        self.params = params
        # (parameter, its array, requires_grad) as captured: one replaced or frozen/unfrozen since: capture again
        self.param_guards = [(p, data, p.requires_grad) for p, data in params]
        # (the owner's __dict__, attribute, value) as the capture left them: a module's version, which counts its
        # attribute changes and train()/eval() switches (read from the instance dict: getattr would go through
        # Module.__getattr__ for a module without one yet)
        self.watched = [(vars(owner), name, vars(owner).get(name)) for owner, names in recorder.watched.values()
                        for name in names]
        # parameters of the modules the step called that no optimizer holds (an eval step): their arrays are read
        # in place, so one replaced (p.data = ...) captures again, as an optimizer's parameter
        known = {id(p) for p, _ in params}
        self.module_params = [(p, p.data) for owner, _ in recorder.watched.values()
                              for p in getattr(owner, "_parameters", {}).values()
                              if isinstance(p, Value) and id(p) not in known]
        # arrays a replay writes before a branch on data (batch norm's running statistics): saved at each replay,
        # put back when the branch goes the other way, so that the eager call starts from them as they were
        self.undo: list[tuple[np.ndarray, np.ndarray]] = []
        if recorder.refreshed or any(after_writes for _, after_writes in recorder.guard_positions):
            self.undo = [(a, np.empty_like(a)) for a in recorder.written.values()]
        # arrays the step makes afresh at each call outside the recording (np.zeros) and then writes with recorded
        # calls: put back as they were made before each replay (set by the comparison of the two captures)
        self.restore: list[tuple[np.ndarray, np.ndarray]] = []
        self.grads = grads
        self.outputs = outputs
        self.rebuild = _rebuilder(outputs)
        self.reads: list[list[np.ndarray]] = recorder.reads
        self.live_roots: set[int] = set()
        self.calls: list[Callable[[], Any]] = []
        # arguments read in place: (position, the caller's array) bound into `direct_calls`, the others copied
        self.copies = [(i, buf) for i, buf in enumerate(arg_buffers) if buf is not None]
        self.bound: list[tuple[int, np.ndarray]] = []
        self.direct_calls: list[Callable[[], Any]] = []
        self.direct_copies: list[tuple[int, np.ndarray]] = self.copies
        self.fast: tuple = ()                 # (array, shape, dtype) per argument when every one is bound
        self.last_arrays: tuple = ()


def _output_layout(result: Any) -> Any:
    """How to rebuild the function's result at a replay: Values and arrays from buffers, the rest as is."""
    if isinstance(result, Value):
        data = result.data
        if isinstance(data, _Traced):
            return ("value", data.view(np.ndarray))
        return ("const", result)
    if isinstance(result, _Traced):
        return ("array", result.view(np.ndarray))
    if isinstance(result, (list, tuple)):
        return ("seq", type(result), [_output_layout(r) for r in result])
    if isinstance(result, dict):
        return ("dict", {k: _output_layout(v) for k, v in result.items()})
    return ("const", result)


def _rebuilder(layout: Any) -> Callable[[], Any]:
    """`_rebuild` of ``layout`` as a callable, quicker for the usual result, one Value."""
    if layout[0] == "value":
        buf = layout[1]
        return lambda: _make_node(None, buf.copy())
    return functools.partial(_rebuild, layout)


def _rebuild(layout: Any) -> Any:
    kind = layout[0]
    if kind == "value":
        return _const(layout[1].copy(), layout[1])
    if kind == "array":
        return layout[1].copy()
    if kind == "seq":
        return layout[1](_rebuild(x) for x in layout[2])
    if kind == "dict":
        return {k: _rebuild(v) for k, v in layout[1].items()}
    return layout[1]


def _same_outputs(a: Any, b: Any) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "const":
        x, y = a[1], b[1]
        if isinstance(x, Value) or isinstance(y, Value):
            return x is y
        try:
            return bool(x == y) or (x != x and y != y)
        except Exception:
            return x is y
    if a[0] == "seq":
        return a[1] is b[1] and len(a[2]) == len(b[2]) and all(map(_same_outputs, a[2], b[2]))
    if a[0] == "dict":
        return a[1].keys() == b[1].keys() and all(_same_outputs(a[1][k], b[1][k]) for k in a[1])
    return True
