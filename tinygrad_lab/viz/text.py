"""The text view of a graph for terminals: `format_graph` / `print_graph`, one value per row.

Example:
    >>> from tinygrad_lab import Value
    >>> a = Value(2.0, requires_grad=True, label="a")
    >>> print(format_graph(a * a).splitlines()[0])
    computation graph: 2 values (1 made by ops, 1 leaf, 0 parameters)
"""
from __future__ import annotations

import sys
from typing import IO, Any

import numpy as np

from ..utils.checks import is_integer
from ..utils.tables import format_table
from .gradients import all_gradients
from .nodes import _Facts
from .style import _dtype_name, _fmt_shape, _l2_norm, _num, _op_args, _op_name, _plural
from .tracing import _as_roots, trace

__all__ = ["format_graph", "print_graph"]

OP_WIDTH = 48  # the op column's width: arguments that do not fit are shortened to "…" (full_args=True: all)
_MORE = "\u2026"


def _op_text(name: str, args: list[str], full: bool) -> tuple[str, bool]:
    """``name(arg, arg, ...)``, keeping the arguments that fit in OP_WIDTH; and whether some were left out."""
    if not args:
        return name, False
    text = f"{name}({', '.join(args)})"
    if full or len(text) <= OP_WIDTH:
        return text, False
    kept: list[str] = []
    for arg in args:  # whole arguments, in order, while "name(kept..., …)" fits
        if len(f"{name}({', '.join([*kept, arg, _MORE])})") > OP_WIDTH:
            break
        kept.append(arg)
    if not kept:  # even the first argument does not fit: cut it
        return text[:OP_WIDTH - 2] + _MORE + ")", True
    return f"{name}({', '.join([*kept, _MORE])})", True


def _norm(gradient: Any) -> float | None:
    if gradient is None or gradient.dtype.kind not in "biuf":
        return None
    return _l2_norm(gradient.astype(np.float64, copy=False))


def _text_row(facts: _Facts, i: int, module_column: bool, full_args: bool = False) -> tuple[list[str], bool]:
    tr, value = facts.tr, facts.tr.nodes[i]
    shortened = False
    if value._op is not None:
        op, shortened = _op_text(_op_name(value._op), _op_args(value, full=full_args), full_args)
    else:
        op = {"param": "param", "input": "leaf", "const": "const"}[facts.leaf_kind(value)]
    if value._prev is None:
        op += " [graph freed]"
        inputs = "?"
    else:
        inputs = " ".join(f"n{p}" for p in tr.parents[i]) or "-"
    norm = _norm(facts.gradient(value)) if value.requires_grad else None
    name = facts.names.get(id(value)) or value.label or ("(output)" if i in facts.roots else "")
    row = [f"n{i}", str(name), op, inputs, _fmt_shape(value.shape), _dtype_name(value.dtype),
           "-" if norm is None else _num(norm)]
    if module_column:
        chain = facts.calls_of.get(i)
        row.append(chain[0].label if chain else "")
    return row, shortened


def format_graph(root: Any, *, params: Any = None, max_rows: int | None = None, grads: bool = False,
                 full_args: bool = False) -> str:
    """The graph of ``root`` as a text table, one value per row in topological order.

    Columns: id (same ``n<k>`` names as the DOT drawing), name, op (with static arguments;
    ``param`` / ``leaf`` / ``const`` for leaves), the ids of its inputs, shape, dtype, gradient norm
    (``-`` when there is no gradient) and, when modules were called, the module call.

    Args:
        root: a ``Value`` or a list of ``Value``\\ s.
        params: names for parameters, as for :func:`draw_graph`.
        max_rows: keep the first and last rows of a long graph.
        grads: run the backward pass for this table and show every value's gradient norm (the output must
            be a scalar and its graph not yet freed); nothing the user has changes (no ``.grad`` is filled,
            the graph is kept), as for :func:`draw_graph`.
        full_args: show every op argument in full; by default the op column keeps what fits in
            ``OP_WIDTH`` (48) characters and ends with ``…``.

    Example:
        >>> from tinygrad_lab import Value
        >>> a = Value(2.0, requires_grad=True, label="a")
        >>> print(format_graph(a * a, grads=True).splitlines()[-1])
        n1  (output)  mul   n0 n0   scalar  float64  1
    """
    if max_rows is not None and (not is_integer(max_rows) or max_rows < 2):
        raise ValueError(f"max_rows must be None or an integer >= 2; got {max_rows!r}")
    tr = trace(_as_roots(root, "format_graph"))
    facts = _Facts(tr, params, all_gradients(tr, "format_graph") if grads else None)
    return _format_facts(facts, max_rows, bool(full_args))


def _format_facts(facts: _Facts, max_rows: int | None, full_args: bool) -> str:
    """The text view of an analysed graph (shared by :func:`format_graph` and a drawing's text form)."""
    grads = facts.computed is not None
    n = len(facts.tr.nodes)
    module_column = bool(facts.calls)
    header = ["id", "name", "op", "inputs", "shape", "dtype", "grad norm"] + (["module"] * module_column)
    keep = list(range(n))
    if max_rows is not None and n > max_rows:
        keep = list(range(max_rows // 2)) + [-1] + list(range(n - (max_rows - max_rows // 2), n))
    rows: list[list[str] | None] = [header]
    shortened = False
    for i in keep:
        if i < 0:
            rows.append(None)
            continue
        row, cut = _text_row(facts, i, module_column, full_args)
        rows.append(row)
        shortened = shortened or cut
    leaves = sum(1 for v in facts.tr.nodes if v._op is None and v._prev is not None)
    params_count = sum(1 for v in facts.tr.nodes if v._op is None and facts.is_param(v))
    lines = [f"computation graph: {_plural(n, 'value')} ({n - leaves} made by ops, {leaves} "
             f"{'leaf' if leaves == 1 else 'leaves'}, {_plural(params_count, 'parameter')})"]
    if facts.tr.freed:
        lines.append("note: part of the graph was freed by backward(); use backward(retain_graph=True) "
                     "to see it")
    if grads:
        lines.append("grad norm: the gradient of the output for every value, computed for this view (grads=True)")
    gap = f"\u2026 {n - max_rows:,} more rows" if max_rows is not None and n > max_rows else ""
    lines.append(format_table(rows, gap_line=gap))
    if shortened:
        lines.append(f"(op arguments shortened to {OP_WIDTH} characters: full_args=True shows them all)")
    return "\n".join(lines)


def print_graph(root: Any, file: IO[str] | None = None, *, params: Any = None, max_rows: int | None = None,
                grads: bool = False, full_args: bool = False) -> None:
    """Print :func:`format_graph` to ``file`` (default: standard output).

    Example:
        >>> print_graph(loss, params=model, grads=True)         # doctest: +SKIP
        computation graph: 18 values (...)
    """
    print(format_graph(root, params=params, max_rows=max_rows, grads=grads, full_args=full_args),
          file=sys.stdout if file is None else file)
