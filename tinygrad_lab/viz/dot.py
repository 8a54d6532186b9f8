"""Building the DOT text of a drawing (`draw_graph`): what to show (module depth, `max_nodes`), node and
edge statements, clusters for module calls, and the legend.

Example:
    >>> from tinygrad_lab import Value
    >>> a = Value([1.0, 2.0], requires_grad=True, label="a")
    >>> "<b>a</b>" in draw_graph((a * a).sum()).source
    True
"""
from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

from ..utils.checks import is_integer
from .calls import _Call
from .drawing import _drawing_class
from .gradients import all_gradients
from .nodes import _Facts
from .style import (
    _BAD_BORDER,
    _CLUSTER_FILLS,
    _FONT,
    _FREED_TEXT,
    _MAIN_EDGE,
    _NOTES,
    _ORDER_COLOR,
    _STYLE,
    _dtype_name,
    _fmt_shape,
    _op_args,
    _op_name,
    _plural,
    _summary,
)
from .text import _format_facts
from .tracing import _as_roots, trace

__all__ = ["draw_graph"]

_RANKDIRS = ("LR", "RL", "TB", "BT")
# Choosing the direction (rankdir=None): a left-to-right drawing is about _RANK_PX wide per rank (a value and
# its op are two ranks), a top-to-bottom one about _COLUMN_PX per value drawn side by side. Left to right is
# kept while it fits in _PAGE_PX (a page or a notebook cell) or is the narrower of the two.
_RANK_PX, _COLUMN_PX, _PAGE_PX = 120, 200, 1000
_TEXT_ROWS = 12  # rows of the text view a drawing shows as its repr (in a terminal, or a notebook's text form)


# characters XML (so Graphviz's HTML-like labels) does not allow: C0 controls but tab, newline, return; the
# surrogates; U+FFFE and U+FFFF. They are shown as Python escapes (\x01) instead of breaking the DOT text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(text: str) -> str:
    """`text` for an HTML-like label: markup escaped, characters XML forbids shown as escapes, and a text of only
    whitespace quoted (Graphviz refuses an element holding only a tab or a newline)."""
    text = str(text)
    if text and not text.strip():
        text = repr(text)
    text = _NOT_XML.sub(lambda m: repr(m.group())[1:-1], text)
    return html.escape(text, quote=False)


def _dot_attrs(attrs: dict[str, str]) -> str:
    return " ".join(f'{k}="{v}"' for k, v in attrs.items())


_KIND_ATTRS = {kind: _dot_attrs(attrs) for kind, (attrs, _) in _STYLE.items()}


def _small(text: str) -> str:
    return f'<font point-size="9">{text}</font>'


def _node_line(name: str, parts: list[str], attrs: str) -> str:
    return f"\t{name} [label=<{'<br/>'.join(parts)}> {attrs}]\n"


def _check_options(rankdir: str | None, max_nodes: Any, depth: Any) -> None:
    if rankdir is not None and rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be None (chosen from the graph's shape) or one of {', '.join(_RANKDIRS)}; "
                         f"got {rankdir!r}")
    for name, number, low in (("max_nodes", max_nodes, 1), ("depth", depth, 0)):
        if number is not None and (not is_integer(number) or number < low):
            raise ValueError(f"{name} must be None or an integer >= {low}; got {number!r}")


class _Drawer:
    """Builds one drawing: decides what to show (depth, max_nodes), then writes DOT statements.

    Node names: ``n<i>`` is value ``i`` of the trace (topological order), ``n<i>_op`` the op that
    made it, ``n<i>_freed`` the note on a freed graph, ``m<k>`` a collapsed module call and
    ``more`` the summary of the values left out by ``max_nodes``.
    """

    def __init__(self, facts: _Facts, *, show_data: bool, show_grad: bool, depth: int | None,
                 max_nodes: int | None, show_order: bool, rankdir: str | None = "LR"):
        self.facts = facts
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
        self.rankdir = rankdir if rankdir is not None else self._choose_rankdir()
        self.flip_inputs = self.rankdir in ("LR", "RL")

    def _choose_rankdir(self) -> str:
        """Left to right for short graphs, top to bottom for long chains (rankdir=None)."""
        level: dict[int, int] = {}
        for i, u in enumerate(self.unit_of):
            if not self._is_drawn(u) or (u >= 0 and self.tr.nodes[i]._op is None):
                continue  # leaves sit beside the op they feed: they add no rank
            parents = [p for p in self._unit_parents(u) if p != u and self._is_drawn(p)]
            level[u] = max(level.get(u, 0), 1 + max((level.get(p, 0) for p in parents), default=0))
        depth = max(level.values(), default=0)
        breadth = 1 + max(Counter(level.values()).values(), default=0)
        lr_width = (2 * depth + 1) * _RANK_PX
        return "LR" if lr_width <= _PAGE_PX or lr_width <= breadth * _COLUMN_PX else "TB"

    # -- what to draw ------------------------------------------------------------------------------
    def _collapsed(self, call: _Call) -> _Call | None:
        """The call drawn as one box that hides ``call`` (itself or an ancestor), if any."""
        if self.depth is None or call.level <= self.depth:
            return None
        while call.level > self.depth + 1 and call.parent is not None:
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

    def _params_beside(self, i: int, chain: list[_Call] | None, grouped: set[int]) -> list[int]:
        """The parameters drawn in the same rank as the op that makes node ``i``: those of its inputs drawn
        as themselves, in the same module call, not yet placed beside another op. Parameters beside their
        op keep a layer's weight and bias from taking a rank of their own, so layers stack compactly."""
        home = chain[0].number if chain else None
        beside = []
        for p in dict.fromkeys(self.tr.parents[i]):
            value = self.tr.nodes[p]
            calls = self.facts.calls_of.get(p)
            if (p in grouped or self.unit_of[p] != p or not self._is_drawn(p) or value._op is not None
                    or not self.facts.is_param(value) or (calls[0].number if calls else None) != home):
                continue
            grouped.add(p)
            beside.append(p)
        return beside

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
            data_text, bad = _summary(value.data)
            parts.append(_small("data " + data_text))
        if self.show_grad:
            grad_text, grad_bad = facts.grad_text(value)
            bad += grad_bad
            if grad_text is not None:
                parts.append(_small(_esc(grad_text)))
            if facts.computed is not None:
                self.notes.add("computed")
            elif value.requires_grad and value.grad is None:
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
        if self.show_grad and self.facts.computed is not None:  # grads=True: the output's gradient too
            text, _ = self.facts.grad_text(out)
            if text is not None:
                parts.append(_small("out " + _esc(text)))
        attrs = dict(_STYLE["module"][0])
        if any(o in self.facts.roots for o in call.outputs):
            attrs.update(penwidth="2.2", color=_STYLE["root"][0]["color"])
            self.kinds_used.add("root")
        return _node_line(f"m{call.number}", parts, _dot_attrs(attrs))

    # -- assembling --------------------------------------------------------------------------------
    def build(self, graph: Any) -> None:
        placed: dict[int | None, list[str]] = {}  # cluster number (None: top level) -> node lines
        edges: list[str] = []
        grouped: set[int] = set()  # parameters already drawn beside an op
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
            beside: list[int] = []
            if value._op is not None:
                spot.append(self._op_line(i))
                target = f"n{i}_op"
                beside = self._params_beside(i, chain, grouped)
                if beside:
                    names = [f"n{beside[0]}", target, *(f"n{p}" for p in beside[1:])]
                    spot.append(f"\t{{rank=same; {' '.join(names)}}}\n")
            if value._prev is None:
                self.kinds_used.add("freed")
                spot.append(_node_line(f"n{i}_freed", [_esc(t) for t in _FREED_TEXT.split("\n")],
                                       _KIND_ATTRS["freed"]))
                edges.append(f"\tn{i}_freed -> {target}\n")
            # Graphviz lays out LR graphs as rotated TB ones, so with ordering=in the first input
            # would land at the bottom: list the inputs backwards there to keep them top-down
            for p in (self.tr.parents[i][::-1] if self.flip_inputs else self.tr.parents[i]):
                if p in beside[1:]:  # drawn after the op in its rank: the edge is laid out reversed
                    edges.append(f"\t{target} -> n{p} [dir=back]\n")
                    continue
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
        texts += [_esc(_NOTES[note]) for note in ("computed", "no_grad_yet", "not_kept") if note in self.notes]
        note = f'<td border="0" align="left" balign="left">{"<br/>".join(texts)}</td>' if texts else ""
        if self.rankdir in ("LR", "RL"):  # a wide drawing: one row
            rows = [cells + ([note] if note else [])]
        else:  # a tall, narrow drawing: the colours three to a row, the notes under them
            rows = [cells[k:k + 3] for k in range(0, len(cells), 3)]
            if note:
                rows.append([note.replace("<td ", '<td colspan="3" ', 1)])
        return ('<<table border="0" cellborder="1" cellspacing="3" cellpadding="3">'
                + "".join("<tr>" + "".join(row) + "</tr>" for row in rows) + "</table>>")


def draw_graph(root: Any, *, params: Any = None, grads: bool = False, show_data: bool = True,
               show_grad: bool = True, rankdir: str | None = None, max_nodes: int | None = None,
               depth: int | None = None, show_order: bool = False, legend: bool = True) -> Any:
    """Draw the computation graph that produced ``root`` as a ``graphviz.Digraph``.

    Boxes are values (name, shape, dtype, data and gradient summaries), yellow ellipses are ops
    (name and static arguments). Parameters are green, leaves that require grad blue, constants grey
    and dashed, the output orange; calls of ``nn.Module``\\ s are labelled clusters.

    Args:
        root: a ``Value`` or a list of ``Value``\\ s.
        params: names for parameters: a ``Module`` (its ``named_parameters()``), a dict name -> Value
            or ``(name, Value)`` pairs. Without it, names come from the module calls in the graph.
        grads: run the backward pass for this drawing and show the gradient of the output on every
            value, intermediate ones included (micrograd's picture). The output must be a scalar and its
            graph not yet freed. Nothing the user has changes: no ``.grad`` is filled and the graph is
            kept, so a later ``backward()`` frees it and fills ``.grad`` as it would have.
        show_data, show_grad: show the data / gradient summary of each value.
        rankdir: layout direction: None (default) chooses from the graph's shape, left to right ("LR")
            for short graphs and top to bottom ("TB") for long chains such as deep networks; or "LR",
            "TB", "RL", "BT" to choose yourself.
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
        >>> "grad [[3, 3]]" in draw_graph(y, grads=True).source and w.grad is None   # drawn, not stored
        True
    """
    _check_options(rankdir, max_nodes, depth)
    tr = trace(_as_roots(root, "draw_graph"))
    facts = _Facts(tr, params, all_gradients(tr, "draw_graph") if grads else None)
    drawer = _Drawer(facts, show_data=bool(show_data), show_grad=bool(show_grad) or bool(grads), depth=depth,
                     max_nodes=max_nodes, show_order=bool(show_order), rankdir=rankdir)
    graph = _drawing_class()(
        name="computation_graph",
        graph_attr={"rankdir": drawer.rankdir, "fontname": _FONT, "fontsize": "10", "nodesep": "0.25",
                    "ranksep": "0.35", "bgcolor": "white", "newrank": "true", "ordering": "in"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": _FONT, "fontsize": "10",
                   "margin": "0.08,0.04", "height": "0.3"},
        edge_attr={"color": "#555555", "arrowsize": "0.6"},
    )
    drawer.build(graph)
    if legend:
        graph.attr(label=drawer.legend(), labelloc="b", labeljust="l")
    graph._text_view = _format_facts(facts, _TEXT_ROWS, full_args=False)  # its repr: a short text view
    return graph
