"""The drawing object: `GraphDrawing`, a `graphviz.Digraph` that a notebook shows as SVG, or as DOT text
with install instructions when the Graphviz program is missing.

The class is made on first use, so importing viz does not import `graphviz`.

Example:
    >>> import graphviz
    >>> from tinygrad_lab.viz import GraphDrawing
    >>> issubclass(GraphDrawing, graphviz.Digraph), GraphDrawing.__module__
    (True, 'tinygrad_lab.viz')
"""
from __future__ import annotations

import shutil
from collections.abc import Container
from typing import Any

_INSTALL_HINT = (
    "Install the Graphviz program: 'sudo apt-get install graphviz' (Debian/Ubuntu), "
    "'brew install graphviz' (macOS), 'conda install -c conda-forge graphviz' (conda) or "
    "'winget install graphviz' (Windows), then check that 'dot -V' works. "
    "('pip install graphviz' installs only the Python package, not the program.)"
)

_PACKAGE = __name__.rpartition(".")[0]  # "tinygrad_lab.viz": where users import GraphDrawing from

_DRAWING_CLASS: type | None = None


def _drawing_class() -> type:
    """``graphviz.Digraph`` whose notebook display falls back to text when ``dot`` is missing."""
    global _DRAWING_CLASS
    if _DRAWING_CLASS is not None:
        return _DRAWING_CLASS
    import graphviz

    class GraphDrawing(graphviz.Digraph):
        """A ``graphviz.Digraph`` that a notebook shows as SVG, or as DOT text without Graphviz; its plain
        text form (``repr``, a notebook's text fallback) is a short text view of the graph."""

        _text_view: str | None = None  # set by draw_graph: format_graph's table, truncated

        def __repr__(self) -> str:
            if self._text_view is None:
                return super().__repr__()
            return (f"{self._text_view}\n(a drawing: shown as a picture in a notebook; render(drawing, 'graph.svg') "
                    "writes it to a file, .source is its DOT text)")

        def _fallback_text(self) -> str:
            return ("Graphviz's 'dot' program was not found, so this graph is shown as DOT text. "
                    f"{_INSTALL_HINT}\n\n{self.source}")

        def _repr_mimebundle_(self, include: Container[str] | None = None, exclude: Container[str] | None = None,
                              **kwargs: Any) -> dict[str, Any]:
            if shutil.which("dot") is None:
                return {"text/plain": self._fallback_text()}
            try:
                bundle = dict(super()._repr_mimebundle_(include, exclude, **kwargs))
            except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
                return {"text/plain": self._fallback_text()}
            if not include or "text/plain" in include:
                bundle.setdefault("text/plain", repr(self))
            return bundle

        def _repr_svg_(self) -> str | None:
            if shutil.which("dot") is None:
                return None
            try:
                return self.pipe(format="svg", encoding="utf-8")
            except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
                return None

    GraphDrawing.__module__ = _PACKAGE
    GraphDrawing.__qualname__ = "GraphDrawing"
    _DRAWING_CLASS = GraphDrawing
    return GraphDrawing


def __getattr__(name: str) -> Any:
    if name == "GraphDrawing":
        return _drawing_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
