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

from ..utils.checks import is_integer
from ..utils.tables import format_table
from .nodes import _Facts
from .style import _dtype_name, _fmt_shape, _grad_norm, _num, _op_args, _op_name, _plural
from .tracing import _as_roots, trace

__all__ = ["format_graph", "print_graph"]


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
    if max_rows is not None and (not is_integer(max_rows) or max_rows < 2):
        raise ValueError(f"max_rows must be None or an integer >= 2; got {max_rows!r}")
    facts = _Facts(trace(_as_roots(root, "format_graph")), params)
    n = len(facts.tr.nodes)
    module_column = bool(facts.calls)
    header = ["id", "name", "op", "inputs", "shape", "dtype", "grad norm"] + (["module"] * module_column)
    keep = list(range(n))
    if max_rows is not None and n > max_rows:
        keep = list(range(max_rows // 2)) + [-1] + list(range(n - (max_rows - max_rows // 2), n))
    rows = [header] + [_text_row(facts, i, module_column) if i >= 0 else None for i in keep]
    leaves = sum(1 for v in facts.tr.nodes if v._op is None and v._prev is not None)
    params_count = sum(1 for v in facts.tr.nodes if v._op is None and facts.is_param(v))
    lines = [f"computation graph: {_plural(n, 'value')} ({n - leaves} made by ops, {leaves} "
             f"{'leaf' if leaves == 1 else 'leaves'}, {_plural(params_count, 'parameter')})"]
    if facts.tr.freed:
        lines.append("note: part of the graph was freed by backward(); use backward(retain_graph=True) "
                     "to see it")
    gap = f"\u2026 {n - max_rows:,} more rows" if max_rows is not None and n > max_rows else ""
    lines.append(format_table(rows, gap_line=gap))
    return "\n".join(lines)


def print_graph(root: Any, file: IO[str] | None = None, *, params: Any = None,
                max_rows: int | None = None) -> None:
    """Print :func:`format_graph` to ``file`` (default: standard output).

    Example:
        >>> print_graph(loss, params=model)                     # doctest: +SKIP
        computation graph: 18 values (...)
    """
    print(format_graph(root, params=params, max_rows=max_rows), file=sys.stdout if file is None else file)
