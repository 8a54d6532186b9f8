"""Drawings and text views of computation graphs.

Every ``Value`` made by an op remembers its op (``_op``), its inputs (``_prev``) and the op's
static arguments (``_args``). This package walks that graph (iteratively, so a 100,000-node chain
is fine) and shows it:

* :func:`draw_graph` builds a Graphviz drawing (a ``graphviz.Digraph``; no Graphviz program needed),
* :func:`render` writes it to ``.svg`` / ``.png`` / ``.pdf`` / ``.dot``,
* :func:`format_graph` / :func:`print_graph` give a text table for terminals,
* :func:`trace` returns the nodes and edges for people who want to draw their own.

One job per file, bottom to top: ``tracing`` (walking the graph), ``calls`` (module calls and
names, read by duck typing: viz never imports ``tinygrad_lab.nn``), ``style`` (colours and the
texts shown for values and ops), ``nodes`` (what each node is), ``drawing`` (the ``GraphDrawing``
class), ``dot`` (building the DOT text), ``rendering`` (writing files) and ``text`` (the text view).

Example:
    >>> from tinygrad_lab import Value
    >>> from tinygrad_lab.viz import draw_graph, print_graph
    >>> a = Value([1.0, 2.0], requires_grad=True, label="a")
    >>> loss = (a * a).sum()
    >>> drawing = draw_graph(loss)      # drawing.source is the DOT text; a notebook shows it inline
    >>> print_graph(loss)               # doctest: +SKIP
"""
from __future__ import annotations

import shutil  # noqa: F401 (kept as an attribute: tests patch tinygrad_lab.viz.shutil.which to hide Graphviz)
from typing import Any

from .dot import draw_graph
from .drawing import _drawing_class
from .rendering import GraphvizNotFoundError, render
from .text import format_graph, print_graph
from .tracing import GraphTrace, trace

__all__ = [
    "GraphTrace", "GraphvizNotFoundError", "trace", "draw_graph", "render", "format_graph", "print_graph",
]


def __getattr__(name: str) -> Any:
    # `GraphDrawing` (the class `draw_graph` returns) is made on first use: importing viz stays light
    if name == "GraphDrawing":
        return _drawing_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
