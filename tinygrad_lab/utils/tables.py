"""Tables: plain text for terminal views (`Module.summary`, `print_graph`, reports printed by the lab) and
Markdown for the reports the lab and the experiments write.

Example:
    >>> print(format_table([["name", "size"], ["weight", "12"], ["bias", "4"]], rule_after_header=True))
    name    size
    ------  ----
    weight  12
    bias    4
"""
from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_table", "markdown_table"]


def format_table(rows: Sequence[Sequence[str] | None], rule_after_header: bool = False,
                 gap_line: str = "") -> str:
    """Left-aligned columns two spaces apart; a `None` row becomes `gap_line` (for "… N more rows").

    Example:
        >>> print(format_table([["a", "bb"], None, ["ccc", "d"]], gap_line="..."))
        a    bb
        ...
        ccc  d
    """
    present = [r for r in rows if r is not None]
    if not present:
        return ""
    widths = [max(len(r[c]) for r in present) for c in range(len(present[0]))]
    lines = []
    for i, row in enumerate(rows):
        if row is None:
            lines.append(gap_line)
            continue
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0 and rule_after_header:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a Markdown table: the header, its rule, one line per row (cells as given).

    Example:
        >>> print("\\n".join(markdown_table(["run", "loss"], [["a", "0.1"], ["b", "0.2"]])))
        | run | loss |
        |---|---|
        | a | 0.1 |
        | b | 0.2 |
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells, but the header has {len(header)}")
        lines.append("| " + " | ".join(row) + " |")
    return lines
