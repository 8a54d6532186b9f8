"""Drawings and text views of computation graphs.

Every ``Value`` made by an op remembers its op (``_op``), its inputs (``_prev``) and the op's
static arguments (``_args``). This module walks that graph (iteratively, so a 100,000-node chain
is fine) and shows it:

* :func:`draw_graph` builds a Graphviz drawing (a ``graphviz.Digraph``; no Graphviz program needed),
* :func:`render` writes it to ``.svg`` / ``.png`` / ``.pdf`` / ``.dot``,
* :func:`format_graph` / :func:`print_graph` give a text table for terminals,
* :func:`trace` returns the nodes and edges for people who want to draw their own.

Example:
    >>> from tinygrad_lab import Value
    >>> from tinygrad_lab.viz import draw_graph, print_graph
    >>> a = Value([1.0, 2.0], requires_grad=True, label="a")
    >>> loss = (a * a).sum()
    >>> drawing = draw_graph(loss)      # drawing.source is the DOT text; a notebook shows it inline
    >>> print_graph(loss)               # doctest: +SKIP
"""
from __future__ import annotations

import html
import math
import operator
import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from .utils.files import write_atomic

__all__ = [
    "GraphTrace", "GraphvizNotFoundError", "trace", "draw_graph", "render", "format_graph", "print_graph",
]

# ----------------------------------------------------------------------------------------------------
# style: one place for every colour and shape, so the legend and the nodes always agree
# ----------------------------------------------------------------------------------------------------

_FONT = "Helvetica"
_STYLE = {
    # kind: (node attributes, legend text)
    "param": ({"fillcolor": "#c7e9c0", "color": "#31a354"}, "parameter"),
    "input": ({"fillcolor": "#c6dbef", "color": "#3182bd"}, "leaf (requires grad)"),
    "const": ({"fillcolor": "#f0f0f0", "color": "#969696", "style": "rounded,filled,dashed"},
              "constant (no grad)"),
    "value": ({"fillcolor": "#ffffff", "color": "#636363"}, "intermediate value"),
    "root": ({"fillcolor": "#fdd49e", "color": "#d95f0e", "penwidth": "2.2"}, "output (root)"),
    "op": ({"shape": "ellipse", "fillcolor": "#fff7bc", "color": "#cc9a06", "style": "filled",
            "margin": "0.04,0.02"}, "operation"),
    "module": ({"shape": "box3d", "fillcolor": "#e5d8f0", "color": "#756bb1", "style": "filled"},
               "module call (collapsed)"),
    "more": ({"shape": "note", "fillcolor": "#eeeeee", "color": "#969696", "style": "filled,dashed"},
             "nodes left out (max_nodes)"),
    "freed": ({"shape": "note", "fillcolor": "#fee0d2", "color": "#de2d26", "style": "filled"},
              "graph freed by backward()"),
    "bad": ({}, "red border: NaN or inf inside"),
}
_BAD_BORDER = {"color": "#e31a1c", "penwidth": "2.5"}
_CLUSTER_FILLS = ("#f4f2fb", "#eae7f6", "#dfdaf0")
_ORDER_COLOR = "#b2182b"
_MAIN_EDGE = " [weight=4]"
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_TINY = 4  # arrays with at most this many numbers are shown in full
_RANKDIRS = ("LR", "RL", "TB", "BT")
_RENDER_FORMATS = ("svg", "png", "pdf", "dot")
_NO_GRAD_YET = "grad: not computed \u2014 call backward()"
_NOTES = {
    "no_grad_yet": "No gradients yet: call backward() (retain_graph=True keeps the graph to draw it after).",
    "not_kept": "Intermediate values keep no gradient unless .retain_grad() is called before backward().",
}
_FREED_TEXT = "graph freed by backward();\nuse retain_graph=True to draw after backward"
_INSTALL_HINT = (
    "Install the Graphviz program: 'sudo apt-get install graphviz' (Debian/Ubuntu), "
    "'brew install graphviz' (macOS), 'conda install -c conda-forge graphviz' (conda) or "
    "'winget install graphviz' (Windows), then check that 'dot -V' works. "
    "('pip install graphviz' installs only the Python package, not the program.)"
)


class GraphvizNotFoundError(RuntimeError):
    """Raised by :func:`render` when the Graphviz program ``dot`` is not installed.

    The DOT text has been written anyway; its path is ``.dot_path``.

    Example:
        >>> try:                                                # doctest: +SKIP
        ...     render(loss, "graph.png")
        ... except GraphvizNotFoundError as err:
        ...     print("DOT text is in", err.dot_path)
    """

    def __init__(self, dot_path: Path, output_path: Path):
        self.dot_path = Path(dot_path)
        self.output_path = Path(output_path)
        super().__init__(
            f"cannot draw {self.output_path.name}: the Graphviz program 'dot' was not found on PATH. "
            f"The DOT text was written to {self.dot_path} (any Graphviz viewer opens it, or paste it into "
            f"https://dreampuf.github.io/GraphvizOnline). {_INSTALL_HINT}"
        )


# ----------------------------------------------------------------------------------------------------
# tracing
# ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GraphTrace:
    """The nodes and edges of a computation graph, for drawing it your own way.

    ``nodes`` are the ``Value``s in topological order (every value comes after the values it was
    computed from; the roots come last), ``edges`` are ``(parent_index, child_index)`` pairs, one per
    input of each op (``x * x`` gives two edges), ``roots`` the indices of the values you traced and
    ``freed`` the indices of values whose graph was freed by ``backward()``.

    Example:
        >>> from tinygrad_lab import Value
        >>> w = Value([1.0, 2.0], requires_grad=True)
        >>> t = trace((w * w).sum())
        >>> [(p, c, t.nodes[c]._op.name) for p, c in t.edges]
        [(0, 1, 'mul'), (0, 1, 'mul'), (1, 2, 'sum')]
    """

    nodes: list
    edges: list[tuple[int, int]]
    roots: list[int]
    freed: list[int]
    parents: list[tuple[int, ...]] = field(repr=False)
    _index: dict[int, int] = field(repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.nodes)

    def index(self, value: Any) -> int:
        """The position of ``value`` in ``nodes`` (``ValueError`` if it is not in the graph)."""
        try:
            return self._index[id(value)]
        except KeyError:
            raise ValueError("this Value is not part of the traced graph") from None

    def backward_order(self) -> list[int]:
        """Node indices in the order ``backward()`` visits them: the roots first, leaves last.

        Only values that require grad are visited (constants get no gradient). The engine walks
        the graph in reverse creation order, which is the reverse of ``nodes``; so this numbers the
        steps of the chain rule: when a value is visited its gradient is complete, and its op
        passes the gradient on to the op's inputs.

        Example:
            >>> from tinygrad_lab import Value
            >>> a = Value(2.0, requires_grad=True)
            >>> t = trace(a * 3.0)
            >>> [t.nodes[i].shape for i in t.backward_order()]
            [(), ()]
        """
        return [i for i in range(len(self.nodes) - 1, -1, -1) if self.nodes[i].requires_grad]


_creation_order = operator.attrgetter("_seq")


def _value_class() -> type:
    from .engine import Value

    return Value


def _parameter_class() -> type | None:
    try:
        from .nn import Parameter
    except ImportError:
        return None
    return Parameter


def _as_roots(root: Any, caller: str) -> list:
    value_cls = _value_class()
    if isinstance(root, value_cls):
        return [root]
    if isinstance(root, (list, tuple)) and root and all(isinstance(r, value_cls) for r in root):
        return list(root)
    got = f"an empty {type(root).__name__}" if isinstance(root, (list, tuple)) and not root else (
        type(root).__name__)
    raise TypeError(f"{caller}(root=...) expects a Value or a non-empty list of Values, got {got}")


def trace(root: Any) -> GraphTrace:
    """Walk the graph that produced ``root`` (a ``Value`` or a list of them), without recursion.

    The nodes come in the order they were created (a topological order: inputs first), so the
    same computation always gives the same trace.

    Example:
        >>> from tinygrad_lab import Value
        >>> a = Value(3.0, requires_grad=True)
        >>> t = trace(a * a + 1)     # a, a * a, the constant 1, the sum
        >>> len(t.nodes), len(t.edges)
        (4, 4)
    """
    roots = _as_roots(root, "trace")
    nodes: list = []
    parents: list[tuple[int, ...]] = []
    index: dict[int, int] = {}
    on_stack: set[int] = set()
    for start in roots:
        if id(start) in index:
            continue
        on_stack.add(id(start))
        stack = [(start, iter(start._prev or ()))]
        while stack:  # depth-first, post-order: a value is appended after all its inputs
            value, inputs = stack[-1]
            for parent in inputs:
                if id(parent) not in index and id(parent) not in on_stack:
                    on_stack.add(id(parent))
                    stack.append((parent, iter(parent._prev or ())))
                    break
            else:
                stack.pop()
                index[id(value)] = len(nodes)
                nodes.append(value)
                parents.append(tuple(index[id(p)] for p in (value._prev or ())))
    if all(hasattr(v, "_seq") for v in nodes):  # creation order: the order the engine uses
        nodes.sort(key=_creation_order)
        index = {id(v): i for i, v in enumerate(nodes)}
        parents = [tuple(index[id(p)] for p in (v._prev or ())) for v in nodes]
    edges = [(p, child) for child, ps in enumerate(parents) for p in ps]
    freed = [i for i, v in enumerate(nodes) if v._prev is None]
    root_ids = list(dict.fromkeys(index[id(r)] for r in roots))
    return GraphTrace(nodes, edges, root_ids, freed, parents, index)


# ----------------------------------------------------------------------------------------------------
# module calls (clusters)
# ----------------------------------------------------------------------------------------------------

class _Call:
    """One call of an ``nn.Module`` seen in the graph: its output nodes and the nodes it computed."""

    __slots__ = ("number", "module", "inputs", "outputs", "positions", "members", "parent", "level",
                 "label", "children")

    def __init__(self, number: int, module: Any, inputs: tuple):
        self.number = number
        self.module = module
        self.inputs = inputs
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
        for position, entry in enumerate(getattr(value, "_calls", None) or ()):
            module, inputs = entry
            # one call's outputs share its inputs tuple; an empty tuple is shared by everyone, so
            # calls without Value inputs are told apart by their (module, inputs) entry instead
            key = (id(module), id(inputs) if inputs else id(entry))
            inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
            call = by_key.get(key)
            if call is None:
                call = by_key[key] = _Call(len(calls), module, inputs)
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
    """The ancestors of the call's outputs down to, but excluding, its inputs."""
    stop = {tr._index[id(x)] for x in call.inputs if id(x) in tr._index}
    members: set[int] = set()
    stack = [o for o in call.outputs if o not in stop]
    while stack:
        node = stack.pop()
        if node in members:
            continue
        members.add(node)
        stack.extend(p for p in tr.parents[node] if p not in stop and p not in members)
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


# ----------------------------------------------------------------------------------------------------
# text helpers
# ----------------------------------------------------------------------------------------------------

def _num(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.4g}"


def _nested(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(x) for x in items) + "]"
    return _num(items)


def _summary(array: np.ndarray) -> tuple[str, int]:
    """A short text for an array and how many of its numbers are NaN or inf."""
    kind = array.dtype.kind
    if kind not in "biuf":
        return str(array.dtype), 0
    if array.ndim == 0 and kind == "f":  # the common scalar case, kept fast for long chains
        x = float(array)
        return f"{x:.4g}", 0 if math.isfinite(x) else 1
    if array.size == 0:
        return "empty", 0
    if array.size <= _TINY:
        bad = 0 if array.dtype.kind != "f" else int(array.size - np.count_nonzero(np.isfinite(array)))
        return (_num(array.item()) if array.ndim == 0 else _nested(array.tolist())), bad
    x = array.astype(np.float64, copy=False)
    finite = np.isfinite(x)
    bad = int(x.size - np.count_nonzero(finite))
    note = ""
    if bad:
        nans = int(np.count_nonzero(np.isnan(x)))
        note = ", ".join(t for t in (f"{nans} NaN" if nans else "", f"{bad - nans} inf" if bad - nans else "")
                         if t)
        x = x[finite]
        if x.size == 0:
            return note, bad
        note = "; " + note
    return f"min {_num(x.min())}  mean {_num(x.mean())}  max {_num(x.max())}{note}", bad


def _fmt_shape(shape: tuple) -> str:
    return "scalar" if len(shape) == 0 else str(tuple(int(s) for s in shape))


def _fmt_index_part(x: Any) -> str:
    if isinstance(x, slice):
        text = ("" if x.start is None else str(x.start)) + ":" + ("" if x.stop is None else str(x.stop))
        return text + (f":{x.step}" if x.step is not None else "")
    if x is Ellipsis:
        return "..."
    return _fmt_arg(x)


def _fmt_arg(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return _nested(x.tolist()) if x.size <= _TINY else f"array{_fmt_shape(x.shape)} {x.dtype}"
    if isinstance(x, slice) or x is Ellipsis:
        return "[" + _fmt_index_part(x) + "]"
    if isinstance(x, tuple) and any(isinstance(p, slice) or p is Ellipsis for p in x):
        return "[" + ", ".join(_fmt_index_part(p) for p in x) + "]"
    if isinstance(x, (tuple, list)):
        inner = ", ".join(_fmt_arg(p) for p in x)
        return f"({inner},)" if isinstance(x, tuple) and len(x) == 1 else (
            f"({inner})" if isinstance(x, tuple) else f"[{inner}]")
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return _num(x)
    if isinstance(x, str):
        return x
    if isinstance(x, np.dtype):
        return str(x)
    if isinstance(x, type):
        return x.__name__
    if hasattr(x, "shape") and hasattr(x, "_prev"):
        return f"Value{_fmt_shape(x.shape)}"
    return repr(x)


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _op_name(op: Any) -> str:
    return getattr(op, "name", None) or getattr(op, "__name__", type(op).__name__).lower()


def _op_args(value: Any) -> list[str]:
    args = getattr(value, "_args", None) or {}
    return [_short(f"{k}={_fmt_arg(v)}") for k, v in args.items() if v is not None and v is not False]


def _grad_norm(value: Any) -> float | None:
    grad = getattr(value, "grad", None)
    if grad is None:
        return None
    data = np.asarray(getattr(grad, "data", grad))
    if data.dtype.kind not in "biuf":
        return None
    return float(np.sqrt(np.sum(np.square(data.astype(np.float64, copy=False)))))


# ----------------------------------------------------------------------------------------------------
# what each node is
# ----------------------------------------------------------------------------------------------------

class _Facts:
    """Per-graph facts shared by the drawing and the text view."""

    def __init__(self, tr: GraphTrace, params: Any):
        self.tr = tr
        self.calls, self.calls_of = _find_calls(tr)
        self.names = _parameter_names(params, self.calls)
        self.parameter_cls = _parameter_class()
        self.roots = set(tr.roots)
        self.backward_ran = bool(tr.freed) or any(
            v.grad is not None for v in tr.nodes if v._op is None and v.requires_grad)

    def is_param(self, value: Any) -> bool:
        cls = self.parameter_cls
        return (cls is not None and isinstance(value, cls)) or (
            id(value) in self.names and value._op is None)

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
        if value.grad is not None:
            text, bad = _summary(np.asarray(value.grad.data))
            return "grad " + text, bad
        if value._op is not None:  # non-leaves keep no grad unless retain_grad(): the legend says so
            return None, 0
        return _NO_GRAD_YET, 0


# ----------------------------------------------------------------------------------------------------
# drawing
# ----------------------------------------------------------------------------------------------------

_DRAWING_CLASS: type | None = None


def _drawing_class() -> type:
    """``graphviz.Digraph`` whose notebook display falls back to text when ``dot`` is missing."""
    global _DRAWING_CLASS
    if _DRAWING_CLASS is not None:
        return _DRAWING_CLASS
    import graphviz

    class GraphDrawing(graphviz.Digraph):
        """A ``graphviz.Digraph`` that a notebook shows as SVG, or as DOT text without Graphviz."""

        def _fallback_text(self) -> str:
            return ("Graphviz's 'dot' program was not found, so this graph is shown as DOT text. "
                    f"{_INSTALL_HINT}\n\n{self.source}")

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            if shutil.which("dot") is None:
                return {"text/plain": self._fallback_text()}
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
                return {"text/plain": self._fallback_text()}

        def _repr_svg_(self) -> str | None:
            if shutil.which("dot") is None:
                return None
            try:
                return self.pipe(format="svg", encoding="utf-8")
            except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
                return None

    GraphDrawing.__module__ = __name__
    GraphDrawing.__qualname__ = "GraphDrawing"
    _DRAWING_CLASS = GraphDrawing
    return GraphDrawing


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def _dot_attrs(attrs: dict[str, str]) -> str:
    return " ".join(f'{k}="{v}"' for k, v in attrs.items())


_KIND_ATTRS = {kind: _dot_attrs(attrs) for kind, (attrs, _) in _STYLE.items()}
_DTYPE_NAMES: dict[Any, str] = {}


def _dtype_name(dtype: Any) -> str:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _small(text: str) -> str:
    return f'<font point-size="9">{text}</font>'


def _node_line(name: str, parts: list[str], attrs: str) -> str:
    return f"\t{name} [label=<{'<br/>'.join(parts)}> {attrs}]\n"


def _check_options(rankdir: str, max_nodes: Any, depth: Any) -> None:
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}; got {rankdir!r}")
    for name, number, low in (("max_nodes", max_nodes, 1), ("depth", depth, 0)):
        if number is not None and (isinstance(number, bool) or not isinstance(number, (int, np.integer))
                                   or number < low):
            raise ValueError(f"{name} must be None or an integer >= {low}; got {number!r}")


class _Drawer:
    """Builds one drawing: decides what to show (depth, max_nodes), then writes DOT statements.

    Node names: ``n<i>`` is value ``i`` of the trace (topological order), ``n<i>_op`` the op that
    made it, ``n<i>_freed`` the note on a freed graph, ``m<k>`` a collapsed module call and
    ``more`` the summary of the values left out by ``max_nodes``.
    """

    def __init__(self, facts: _Facts, *, show_data: bool, show_grad: bool, depth: int | None,
                 max_nodes: int | None, show_order: bool, rankdir: str = "LR"):
        self.facts = facts
        self.flip_inputs = rankdir in ("LR", "RL")
        self.tr = facts.tr
        self.show_data = show_data
        self.show_grad = show_grad
        self.show_order = show_order
        self.depth = depth
        self.kinds_used: set[str] = set()
        self.notes: set[str] = set()
        self.calls_by_number = {c.number: c for c in facts.calls}
        self.unit_of = self._units()
        self.box_inputs = self._box_inputs()
        self.drawn = self._select(max_nodes)
        self.steps = {node: k + 1 for k, node in enumerate(self.tr.backward_order())} if show_order else {}

    # -- what to draw ------------------------------------------------------------------------------
    def _collapsed(self, call: _Call) -> _Call | None:
        """The call drawn as one box that hides ``call`` (itself or an ancestor), if any."""
        if self.depth is None or call.level <= self.depth:
            return None
        while call.level > self.depth + 1:
            call = call.parent
        return call

    def _units(self) -> list[int]:
        """For each node, the drawn unit that shows it: its own index, or ``-1 - call.number``."""
        unit = list(range(len(self.tr.nodes)))
        if self.depth is None:
            return unit
        for node, chain in self.facts.calls_of.items():
            box = self._collapsed(chain[0])
            if box is not None:
                unit[node] = -1 - box.number
        return unit

    def _box_inputs(self) -> dict[int, list[int]]:
        """For each collapsed call, the nodes outside it that feed it, in a fixed order."""
        inputs: dict[int, list[int]] = {}
        if self.depth is None:
            return inputs
        for node, u in enumerate(self.unit_of):
            if u < 0:
                feeding = inputs.setdefault(u, [])
                for p in self.tr.parents[node]:
                    if self.unit_of[p] != u and p not in feeding:
                        feeding.append(p)
        return inputs

    def _unit_parents(self, u: int) -> list[int]:
        nodes = self.box_inputs[u] if u < 0 else self.tr.parents[u]
        return [self.unit_of[p] for p in nodes]

    def _select(self, max_nodes: int | None) -> set[int] | None:
        """The units to draw: all (None), or the ``max_nodes`` nearest the roots (breadth first)."""
        if max_nodes is None:
            return None
        chosen: dict[int, None] = {}
        queue = [self.unit_of[r] for r in self.tr.roots]
        head = 0
        while head < len(queue) and len(chosen) < max_nodes:
            u = queue[head]
            head += 1
            if u not in chosen:
                chosen[u] = None
                queue.extend(p for p in self._unit_parents(u) if p not in chosen)
        if len(chosen) == len(set(self.unit_of)):
            return None
        return set(chosen)

    def _is_drawn(self, u: int) -> bool:
        return self.drawn is None or u in self.drawn

    def _source(self, p: int) -> str:
        """The drawn node an edge from node ``p`` starts at."""
        u = self.unit_of[p]
        if not self._is_drawn(u):
            return "more"
        return f"m{-1 - u}" if u < 0 else f"n{p}"

    # -- node statements ---------------------------------------------------------------------------
    def _value_line(self, i: int) -> str:
        value, facts = self.tr.nodes[i], self.facts
        kind = facts.kind(i)
        self.kinds_used.add(kind)
        parts = []
        if i in self.steps:
            parts.append(f'<font color="{_ORDER_COLOR}"><b>step {self.steps[i]}</b></font>')
        title = facts.title(i)
        if title:
            parts.append(f"<b>{_esc(title)}</b>")
        parts.append(f"{_fmt_shape(value.shape)} {_dtype_name(value.dtype)}")
        bad = 0
        if self.show_data:
            text, bad = _summary(value.data)
            parts.append(_small("data " + text))
        if self.show_grad:
            text, grad_bad = facts.grad_text(value)
            bad += grad_bad
            if text is not None:
                parts.append(_small(_esc(text)))
            if value.requires_grad and value.grad is None:
                self.notes.add("not_kept" if facts.backward_ran and value._op is not None else "no_grad_yet")
        attrs = _KIND_ATTRS[kind]
        if bad:
            self.kinds_used.add("bad")
            attrs = _dot_attrs({**_STYLE[kind][0], **_BAD_BORDER})
        return _node_line(f"n{i}", parts, attrs)

    def _op_line(self, i: int) -> str:
        value = self.tr.nodes[i]
        self.kinds_used.add("op")
        name = _esc(_op_name(value._op))
        parts = [f"<b>{self.steps[i]}: {name}</b>" if i in self.steps else f"<b>{name}</b>"]
        parts += [_small(_esc(a)) for a in _op_args(value)]
        return _node_line(f"n{i}_op", parts, _KIND_ATTRS["op"])

    def _box_line(self, call: _Call) -> str:
        self.kinds_used.add("module")
        out = self.tr.nodes[call.outputs[0]]
        n_params = sum(1 for m in call.members if self.facts.is_param(self.tr.nodes[m]))
        parts = [f"<b>{_esc(call.label)}</b>", f"out {_fmt_shape(out.shape)} {_dtype_name(out.dtype)}",
                 _small(f"{_plural(len(call.members), 'value')} inside, {_plural(n_params, 'parameter')}")]
        attrs = dict(_STYLE["module"][0])
        if any(o in self.facts.roots for o in call.outputs):
            attrs.update(penwidth="2.2", color=_STYLE["root"][0]["color"])
            self.kinds_used.add("root")
        return _node_line(f"m{call.number}", parts, _dot_attrs(attrs))

    # -- assembling --------------------------------------------------------------------------------
    def build(self, graph: Any) -> None:
        placed: dict[int | None, list[str]] = {}  # cluster number (None: top level) -> node lines
        edges: list[str] = []
        merged: set[tuple[str, str]] = set()  # edges into or out of boxes are drawn once

        def edge(tail: str, head: str, main: bool = False) -> None:
            # edges along the computation (not from leaves) pull harder, so the chain stays straight
            line = f"\t{tail} -> {head}{_MAIN_EDGE if main else ''}\n"
            if tail[0] == "n" and head[0] == "n":  # value -> op: one edge per input (x * x has two)
                edges.append(line)
            elif (tail, head) not in merged:
                merged.add((tail, head))
                edges.append(line)

        for i, u in enumerate(self.unit_of):
            if not self._is_drawn(u):
                continue
            if u < 0:
                box = self.calls_by_number[-1 - u]
                if i != box.outputs[0]:  # a box is written where its (first) output is
                    continue
                home = box.parent.number if box.parent is not None else None
                placed.setdefault(home, []).append(self._box_line(box))
                for p in self.box_inputs[u]:
                    edge(self._source(p), f"m{box.number}", main=self.tr.nodes[p]._op is not None)
                continue
            value = self.tr.nodes[i]
            chain = self.facts.calls_of.get(i)
            spot = placed.setdefault(chain[0].number if chain else None, [])
            spot.append(self._value_line(i))
            target = f"n{i}"
            if value._op is not None:
                spot.append(self._op_line(i))
                target = f"n{i}_op"
            if value._prev is None:
                self.kinds_used.add("freed")
                spot.append(_node_line(f"n{i}_freed", [_esc(t) for t in _FREED_TEXT.split("\n")],
                                       _KIND_ATTRS["freed"]))
                edges.append(f"\tn{i}_freed -> {target}\n")
            # Graphviz lays out LR graphs as rotated TB ones, so with ordering=in the first input
            # would land at the bottom: list the inputs backwards there to keep them top-down
            for p in (self.tr.parents[i][::-1] if self.flip_inputs else self.tr.parents[i]):
                edge(self._source(p), target, main=self.tr.nodes[p]._op is not None or self.unit_of[p] < 0)
            if target != f"n{i}":
                edges.append(f"\t{target} -> n{i}{_MAIN_EDGE}\n")
        if self.drawn is not None:
            hidden = sum(1 for u in self.unit_of if u not in self.drawn)
            self.kinds_used.add("more")
            placed.setdefault(None, []).append(_node_line(
                "more", [f"\u2026 {hidden:,} more nodes", _small(f"(max_nodes={len(self.drawn)})")],
                _KIND_ATTRS["more"]))
        self._emit(graph, placed)
        graph.body.extend(edges)

    def _emit(self, graph: Any, placed: dict[int | None, list[str]]) -> None:
        graph.body.extend(placed.get(None, []))
        needed: set[int] = set()
        for number in placed:
            call = self.calls_by_number.get(number) if number is not None else None
            while call is not None and call.number not in needed:
                needed.add(call.number)
                call = call.parent
        for call in self.facts.calls:
            if call.parent is None and call.number in needed:
                self._emit_cluster(graph, call, placed, needed)

    def _emit_cluster(self, graph: Any, call: _Call, placed: dict, needed: set[int]) -> None:
        with graph.subgraph(name=f"cluster_{call.number}") as sub:
            sub.attr(label=call.label, labelloc="t", labeljust="l", style="rounded,filled",
                     fillcolor=_CLUSTER_FILLS[(call.level - 1) % len(_CLUSTER_FILLS)],
                     color="#9e9ac8", fontname=_FONT, fontsize="11")
            for child in call.children:
                if child.number in needed:
                    self._emit_cluster(sub, child, placed, needed)
            sub.body.extend(placed.get(call.number, []))

    def legend(self) -> str:
        cells = []
        for kind in ("param", "input", "const", "value", "op", "root", "module", "more", "freed", "bad"):
            if kind not in self.kinds_used:
                continue
            attrs, text = _STYLE[kind]
            fill = attrs.get("fillcolor", "#ffffff")
            border = _BAD_BORDER["color"] if kind == "bad" else attrs.get("color", "#636363")
            cells.append(f'<td bgcolor="{fill}" color="{border}">{_esc(text)}</td>')
        texts = []
        if self.show_order:
            texts.append(f'<font color="{_ORDER_COLOR}">step k: the order in which backward() visits the '
                         'values</font>')
        texts += [_esc(_NOTES[note]) for note in ("no_grad_yet", "not_kept") if note in self.notes]
        if texts:
            cells.append(f'<td border="0" align="left" balign="left">{"<br/>".join(texts)}</td>')
        return ('<<table border="0" cellborder="1" cellspacing="3" cellpadding="3"><tr>'
                + "".join(cells) + "</tr></table>>")


def draw_graph(root: Any, *, params: Any = None, show_data: bool = True, show_grad: bool = True,
               rankdir: str = "LR", max_nodes: int | None = None, depth: int | None = None,
               show_order: bool = False, legend: bool = True) -> Any:
    """Draw the computation graph that produced ``root`` as a ``graphviz.Digraph``.

    Boxes are values (name, shape, dtype, data and gradient summaries), yellow ellipses are ops
    (name and static arguments). Parameters are green, leaves that require grad blue, constants grey
    and dashed, the output orange; calls of ``nn.Module``\\ s are labelled clusters.

    Args:
        root: a ``Value`` or a list of ``Value``\\ s.
        params: names for parameters: a ``Module`` (its ``named_parameters()``), a dict name -> Value
            or ``(name, Value)`` pairs. Without it, names come from the module calls in the graph.
        show_data, show_grad: show the data / gradient summary of each value.
        rankdir: layout direction, "LR" (inputs on the left), "TB", "RL" or "BT".
        max_nodes: draw at most this many values (those nearest the output; a collapsed module
            counts as one) and one "… N more nodes" box for the rest.
        depth: how many levels of module calls to open: 0 draws each top-level call (say the model
            and the loss) as one box, 1 opens them and shows their sub-modules as boxes, None opens all.
        show_order: number the values in the order ``backward()`` visits them (1 = the output).
        legend: add a colour legend under the drawing.

    The drawing needs no Graphviz program; :func:`render` or a notebook turns it into a picture.

    Example:
        >>> from tinygrad_lab import Value
        >>> w = Value([[0.5, -1.0]], requires_grad=True, label="w")
        >>> y = (w * 3.0).sum()
        >>> drawing = draw_graph(y, show_order=True)
        >>> "mul" in drawing.source and "w" in drawing.source
        True
    """
    _check_options(rankdir, max_nodes, depth)
    facts = _Facts(trace(_as_roots(root, "draw_graph")), params)
    drawer = _Drawer(facts, show_data=bool(show_data), show_grad=bool(show_grad), depth=depth,
                     max_nodes=max_nodes, show_order=bool(show_order), rankdir=rankdir)
    graph = _drawing_class()(
        name="computation_graph",
        graph_attr={"rankdir": rankdir, "fontname": _FONT, "fontsize": "10", "nodesep": "0.25",
                    "ranksep": "0.35", "bgcolor": "white", "newrank": "true", "ordering": "in"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": _FONT, "fontsize": "10",
                   "margin": "0.08,0.04", "height": "0.3"},
        edge_attr={"color": "#555555", "arrowsize": "0.6"},
    )
    drawer.build(graph)
    if legend:
        graph.attr(label=drawer.legend(), labelloc="b", labeljust="l")
    return graph


# ----------------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------------

def _output_paths(path: str | os.PathLike, format: str | None) -> tuple[str, Path, Path]:
    path = Path(path)
    suffix = path.suffix[1:].lower()
    if format is not None and format not in _RENDER_FORMATS:
        raise ValueError(f"format must be one of {', '.join(_RENDER_FORMATS)}; got {format!r}")
    if suffix in _RENDER_FORMATS:
        if format is not None and format != suffix:
            raise ValueError(f"path {str(path)!r} ends in .{suffix} but format={format!r}; "
                             "make them agree (or leave format out)")
        fmt, out = suffix, path
    else:
        fmt = format or "svg"
        out = path.with_name(path.name + "." + fmt)
    dot_path = out if fmt == "dot" else out.with_suffix(".dot")
    return fmt, out, dot_path


def render(graph_or_root: Any, path: str | os.PathLike, format: str | None = None,
           **draw_kwargs: Any) -> Path:
    """Write a drawing to ``path`` as SVG, PNG, PDF or DOT text; return the path of the picture.

    ``graph_or_root`` is a drawing from :func:`draw_graph` or a ``Value`` (or list of them), drawn
    with ``draw_kwargs``. The format comes from ``format`` or from the path's suffix (default
    "svg"). The DOT text is always written next to the picture (same name, ``.dot``), so when the
    Graphviz program is missing you still get it, and :class:`GraphvizNotFoundError` says how to
    install Graphviz.

    Example:
        >>> render(loss, "graph.png", params=model)            # doctest: +SKIP
        PosixPath('graph.png')
    """
    fmt, out, dot_path = _output_paths(path, format)
    if hasattr(graph_or_root, "source") and hasattr(graph_or_root, "pipe"):
        if draw_kwargs:
            raise TypeError(f"render() got drawing options {sorted(draw_kwargs)} with a graph that is "
                            "already drawn; pass them to draw_graph() or pass the Value to render()")
        graph = graph_or_root
    else:
        graph = draw_graph(graph_or_root, **draw_kwargs)
    write_atomic(dot_path, graph.source.encode("utf-8"))
    if fmt == "dot":
        return dot_path
    import graphviz

    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(dot_path, out)
    try:
        picture = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(dot_path, out) from None
    except graphviz.CalledProcessError as err:
        detail = (err.stderr or b"").decode("utf-8", "replace").strip() if isinstance(err.stderr, bytes) \
            else str(err.stderr or "").strip()
        raise RuntimeError(f"Graphviz 'dot' failed to draw {out.name} (DOT text in {dot_path}): {detail}") \
            from None
    write_atomic(out, picture)
    return out


# ----------------------------------------------------------------------------------------------------
# text view
# ----------------------------------------------------------------------------------------------------

def _text_row(facts: _Facts, i: int, module_column: bool) -> list[str]:
    tr, value = facts.tr, facts.tr.nodes[i]
    if value._op is not None:
        args = ", ".join(_op_args(value))
        op = _op_name(value._op) + (f"({args})" if args else "")
    else:
        op = {"param": "param", "input": "leaf", "const": "const"}[facts.leaf_kind(value)]
    if value._prev is None:
        op += " [graph freed]"
        inputs = "?"
    else:
        inputs = " ".join(f"n{p}" for p in tr.parents[i]) or "-"
    norm = _grad_norm(value)
    name = facts.names.get(id(value)) or value.label or ("(output)" if i in facts.roots else "")
    row = [f"n{i}", str(name), op, inputs, _fmt_shape(value.shape), _dtype_name(value.dtype),
           "-" if norm is None else _num(norm)]
    if module_column:
        chain = facts.calls_of.get(i)
        row.append(chain[0].label if chain else "")
    return row


def format_graph(root: Any, *, params: Any = None, max_rows: int | None = None) -> str:
    """The graph of ``root`` as a text table, one value per row in topological order.

    Columns: id (same ``n<k>`` names as the DOT drawing), name, op (with static arguments;
    ``param`` / ``leaf`` / ``const`` for leaves), the ids of its inputs, shape, dtype, gradient norm
    (``-`` when there is no gradient) and, when modules were called, the module call.
    ``max_rows`` keeps the first and last rows of a long graph.

    Example:
        >>> from tinygrad_lab import Value
        >>> a = Value(2.0, requires_grad=True, label="a")
        >>> print(format_graph(a * a))                          # doctest: +SKIP
    """
    if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 2):
        raise ValueError(f"max_rows must be None or an integer >= 2; got {max_rows!r}")
    facts = _Facts(trace(_as_roots(root, "format_graph")), params)
    n = len(facts.tr.nodes)
    module_column = bool(facts.calls)
    header = ["id", "name", "op", "inputs", "shape", "dtype", "grad norm"] + (["module"] * module_column)
    keep = list(range(n))
    if max_rows is not None and n > max_rows:
        keep = list(range(max_rows // 2)) + [-1] + list(range(n - (max_rows - max_rows // 2), n))
    rows = [header] + [_text_row(facts, i, module_column) if i >= 0 else [] for i in keep]
    widths = [max(len(r[c]) for r in rows if r) for c in range(len(header))]
    leaves = sum(1 for v in facts.tr.nodes if v._op is None and v._prev is not None)
    params_count = sum(1 for v in facts.tr.nodes if v._op is None and facts.is_param(v))
    lines = [f"computation graph: {_plural(n, 'value')} ({n - leaves} made by ops, {leaves} "
             f"{'leaf' if leaves == 1 else 'leaves'}, {_plural(params_count, 'parameter')})"]
    if facts.tr.freed:
        lines.append("note: part of the graph was freed by backward(); use backward(retain_graph=True) "
                     "to see it")
    for r in rows:
        if not r:
            lines.append(f"\u2026 {n - max_rows:,} more rows")
        else:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines)


def print_graph(root: Any, file: IO[str] | None = None, *, params: Any = None,
                max_rows: int | None = None) -> None:
    """Print :func:`format_graph` to ``file`` (default: standard output).

    Example:
        >>> print_graph(loss, params=model)                     # doctest: +SKIP
        computation graph: 18 values (...)
    """
    print(format_graph(root, params=params, max_rows=max_rows), file=sys.stdout if file is None else file)

