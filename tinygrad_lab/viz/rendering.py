"""Writing drawings to files (`render`: SVG, PNG, PDF or DOT text, atomically) and what happens without
the Graphviz program (`GraphvizNotFoundError`, with the DOT text written anyway).

Example:
    >>> _output_paths("graph", None)[0], _output_paths("graph.png", None)[0]
    ('svg', 'png')
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..utils.files import write_atomic
from .dot import draw_graph
from .drawing import _INSTALL_HINT

__all__ = ["GraphvizNotFoundError", "render"]

_RENDER_FORMATS = ("svg", "png", "pdf", "dot")


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
