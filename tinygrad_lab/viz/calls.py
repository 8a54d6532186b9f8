"""Module calls in a traced graph: which values each call computed, how calls nest, their labels,
and parameter names.

Modules are read through a neutral interface (duck typing), so viz never imports
`tinygrad_lab.nn`: a call is any `(module, start)` pair a `Module.__call__` left in
`Value._calls` (innermost call first; `start` is the creation number the call took before
its forward, so the values it made are those created after it); names come from any object
with `named_parameters()` / `named_modules()`, a mapping name -> Value or `(name, Value)`
pairs.

Example:
    >>> from tinygrad_lab import nn
    >>> _module_title(nn.Linear(2, 4))
    'Linear(2, 4)'
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from .style import _short
from .tracing import GraphTrace

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


class _Call:
    """One call of an ``nn.Module`` seen in the graph: its output nodes and the nodes it computed."""

    __slots__ = ("number", "module", "start", "outputs", "positions", "members", "parent", "level",
                 "label", "children")

    def __init__(self, number: int, module: Any, start: int):
        self.number = number
        self.module = module
        self.start = start
        self.outputs: list[int] = []
        self.positions: list[int] = []
        self.members: set[int] = set()
        self.parent: _Call | None = None
        self.level = 1
        self.label = ""
        self.children: list[_Call] = []


def _find_calls(tr: GraphTrace) -> tuple[list[_Call], dict[int, list[_Call]]]:
    """Module calls recorded in ``_calls`` and, per node, the calls containing it (innermost first)."""
    calls: list[_Call] = []
    by_key: dict[tuple[int, int], _Call] = {}
    for i, value in enumerate(tr.nodes):
        for position, (module, start) in enumerate(getattr(value, "_calls", None) or ()):
            key = (id(module), start)   # one call's outputs share its creation number
            call = by_key.get(key)
            if call is None:
                call = by_key[key] = _Call(len(calls), module, start)
                calls.append(call)
            call.outputs.append(i)
            call.positions.append(position)
    for call in calls:
        call.members = _call_members(tr, call)
    calls = [c for c in calls if c.members]
    calls_of: dict[int, list[_Call]] = {}
    for call in sorted(calls, key=lambda c: (len(c.members), min(c.positions), c.number)):
        for m in call.members:
            calls_of.setdefault(m, []).append(call)
    for call in calls:
        chain = calls_of[call.outputs[0]]
        at = next(k for k, c in enumerate(chain) if c is call)
        call.parent = chain[at + 1] if at + 1 < len(chain) else None
    for call in sorted(calls, key=lambda c: -len(c.members)):  # parents before children
        call.level = call.parent.level + 1 if call.parent is not None else 1
        if call.parent is not None:
            call.parent.children.append(call)
    for call in calls:
        call.children.sort(key=lambda c: c.number)
    _label_calls(calls)
    return calls, calls_of


def _call_members(tr: GraphTrace, call: _Call) -> set[int]:
    """The ancestors of the call's outputs that the call made (created after its start), its outputs included,
    and the parameters its ops read (a parameter shared by several calls is a member of each)."""
    made = [value._seq > call.start or (value._op is None and value._is_parameter) for value in tr.nodes]
    members: set[int] = set()
    stack = [o for o in call.outputs if made[o]]
    while stack:
        node = stack.pop()
        if node in members:
            continue
        members.add(node)
        stack.extend(p for p in tr.parents[node] if made[p] and p not in members)
    return members


def _module_title(module: Any) -> str:
    """A one-line module name: ``Linear(2, 4)`` for ``Linear(in_features=2, out_features=4, bias=True)``.

    Numeric keyword arguments lose their keyword and ``bias=True`` (the default) is left out; a
    multi-line repr (containers such as ``Sequential``) becomes the class name.
    """
    text = repr(module)
    if "\n" in text:
        return type(module).__name__
    match = re.fullmatch(r"(\w+)\(([^()]*)\)", text)
    if match:
        parts = []
        for part in filter(None, (p.strip() for p in match.group(2).split(","))):
            key, eq, val = part.partition("=")
            if eq and _NUMBER.fullmatch(val.strip()):
                part = val.strip()
            elif eq and key.strip() == "bias" and val.strip() == "True":
                continue
            parts.append(part)
        text = f"{match.group(1)}({', '.join(parts)})"
    return _short(text, 60)


def _label_calls(calls: list[_Call]) -> None:
    names_in: dict[int, dict[int, str]] = {}
    seen: dict[int, int] = {}
    uses = Counter(id(c.module) for c in calls)
    for call in sorted(calls, key=lambda c: (max(c.outputs), c.number)):
        top = call
        while top.parent is not None:
            top = top.parent
        if call is top:
            label = _module_title(call.module)
        else:
            if id(top.module) not in names_in:
                named = getattr(top.module, "named_modules", None)
                names_in[id(top.module)] = {id(m): n for n, m in named()} if callable(named) else {}
            name = names_in[id(top.module)].get(id(call.module))
            label = f"{type(top.module).__name__} > " + (f"{name}: " if name else "")
            label += _module_title(call.module)
        if uses[id(call.module)] > 1:
            seen[id(call.module)] = seen.get(id(call.module), 0) + 1
            label += f" (call {seen[id(call.module)]})"
        call.label = label


def _parameter_names(params: Any, calls: list[_Call]) -> dict[int, str]:
    """id(Value) -> name: first from the top-level module calls, then (winning) from ``params``."""
    names: dict[int, str] = {}
    for call in calls:
        named = getattr(call.module, "named_parameters", None)
        if call.parent is None and callable(named):
            for name, p in named():
                names.setdefault(id(p), name)
    if params is None:
        return names
    if callable(getattr(params, "named_parameters", None)):
        pairs: Iterable = params.named_parameters()
    elif isinstance(params, Mapping):
        pairs = params.items()
    elif isinstance(params, Iterable) and not isinstance(params, (str, bytes)):
        pairs = list(params)
        if not all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in pairs):
            raise TypeError("params must be a Module, a dict name -> Value, or (name, Value) pairs "
                            "such as model.named_parameters()")
    else:
        raise TypeError("params must be a Module, a dict name -> Value, or (name, Value) pairs such as "
                        f"model.named_parameters(); got {type(params).__name__}")
    for name, p in pairs:
        names[id(p)] = str(name)
    return names
