"""The reports of gradient checks: what failed, the worst entries as a table, the hints, the wrong ops, caveats.

A check's result is an :class:`Outcome`: its failures (one :class:`GradcheckFailure` per wrong
output/input pair), its caveats (`notes`: inputs not float64, kinks) and the text of its report,
which :class:`GradcheckError` carries.

Example:
    >>> from tinygrad_lab.testing.tolerance import Tolerance
    >>> a, n = np.diag([1.0, 2.0, 3.0]), np.diag([2.0, 4.0, 6.0])
    >>> failure = failure_for_pair("output 0", (3,), "input 0", (3,), "float64", a, n, Tolerance())
    >>> print(failure.summary)
    d(output 0, shape (3,)) / d(input 0, shape (3,), float64): 3 of 9 Jacobian entries wrong, max abs error 3
    >>> print(failure.table)
          output  input  analytic  numeric  abs err  rel err
          (2,)    (2,)   3         6        3        0.5
          (1,)    (1,)   2         4        2        0.5
          (0,)    (0,)   1         2        1        0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..utils.tables import format_table
from .diagnosis import JacobianPair, diagnose
from .errors import GradcheckFailure
from .jacobian import Kink
from .op_check import Culprit
from .point import Point, Slot
from .tolerance import Tolerance

__all__ = [
    "WORST_ENTRIES", "index_text", "indented_table", "entries_table", "failure_for_pair", "lowered_input_notes",
    "output_dtype_notes", "kink_note", "output_label", "culprit_lines", "Outcome", "failed_outcome",
]

WORST_ENTRIES = 5
"""How many of the worst Jacobian entries a report lists per wrong (output, input) pair."""

INDENT = "      "


def index_text(flat_index: int, shape: tuple) -> str:
    """The index of an element of an array of `shape`, given its flat index, as reports write it.

    Example:
        >>> index_text(5, (2, 3)), index_text(0, ())
        ('(1, 2)', '()')
    """
    return str(tuple(int(i) for i in np.unravel_index(flat_index, shape))) if shape else "()"


def indented_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as a table (the first row is the header), indented for a report.

    Example:
        >>> print(indented_table([("input", "ratio"), ("input 0", "0.5")]))
              input    ratio
              input 0  0.5
    """
    return "\n".join(INDENT + line for line in format_table(rows).splitlines())


def entries_table(a: np.ndarray, n: np.ndarray, out_shape: tuple, in_shape: tuple, tol: Tolerance) -> tuple[str, int]:
    """The worst wrong entries as a table, and how many entries are wrong.

    Example:
        >>> table, count = entries_table(np.array([[1.0]]), np.array([[2.0]]), (), (1,), Tolerance())
        >>> count, table.split()
        (1, ['input', 'analytic', 'numeric', 'abs', 'err', 'rel', 'err', '(0,)', '1', '2', '1', '0.5'])
    """
    error, bound = np.abs(a - n), tol.bound(n)
    bad = tol.wrong(a, n)  # a NaN entry is wrong, and listed first
    excess = np.where(np.isnan(error), np.inf, error - bound)
    rows: list[tuple[str, ...]] = [("output", "input", "analytic", "numeric", "abs err", "rel err")]
    for flat in np.argsort(-excess, axis=None, kind="stable")[:WORST_ENTRIES]:
        r, j = divmod(int(flat), a.shape[1])
        if not bad[r, j]:
            break
        rel = error[r, j] / abs(n[r, j]) if n[r, j] != 0 else math.inf
        numbers = (f"{a[r, j]:.6g}", f"{n[r, j]:.6g}", f"{error[r, j]:.3g}", f"{rel:.3g}")
        rows.append((index_text(r, out_shape), index_text(j, in_shape), *numbers))
    if not out_shape:  # a scalar output: the output index says nothing
        rows = [row[1:] for row in rows]
    return indented_table(rows), int(bad.sum())


def failure_for_pair(output_name: str, out_shape: tuple, input_name: str, in_shape: tuple, dtype: str,
                     a: np.ndarray, n: np.ndarray, tol: Tolerance, round_off: str = "") -> GradcheckFailure | None:
    """Compare d(output)/d(input) by backward (`a`) and by differences (`n`): None when they agree, else the
    failure with its summary, its worst entries and its hints (`round_off` names a lower-precision output,
    the likely cause when no known mistake fits).

    Example:
        >>> failure_for_pair("output 0", (), "input 0", (1,), "float64", np.ones((1, 1)), np.ones((1, 1)),
        ...                  Tolerance()) is None
        True
    """
    if tol.close(a, n):
        return None
    table, count = entries_table(a, n, out_shape, in_shape, tol)
    summary = (f"d({output_name}, shape {out_shape}) / d({input_name}, shape {in_shape}, {dtype}): "
               f"{count} of {a.size} Jacobian entries wrong, max abs error {float(np.max(np.abs(a - n))):.3g}")
    hints = diagnose(JacobianPair(a, n, in_shape, out_shape, tol))
    if not hints and round_off:
        hints = [f"probably round-off: {round_off} (see warnings); check in float64"]
    return GradcheckFailure(output_name, input_name, out_shape, in_shape, a, n, hints, summary, table)


def lowered_input_notes(lowered: Sequence[tuple[str, np.dtype]], eps: float) -> list[str]:
    """Caveats for checked inputs that were lower-precision floats, checked on float64 copies.

    Example:
        >>> lowered_input_notes([("input 0", np.dtype("float32"))], 1e-6)[0][:50]
        'input 0 is float32, not float64: checked on a floa'
    """
    return [f"{name} is {dtype}, not float64: checked on a float64 copy (finite differences with eps={eps:g} "
            f"in {dtype} would be mostly round-off), so the gradient formulas are checked, not the {dtype} "
            f"round-off of func"
            for name, dtype in lowered]


def output_dtype_notes(point: Point, names: Sequence[str]) -> list[str]:
    """Caveats for checked outputs that are not float64 (func casts to a lower precision).

    Example:
        >>> from tinygrad_lab.testing.point import checked_slots
        >>> x = Value([1.0], requires_grad=True)
        >>> point = Point(lambda x: x.float(), (x,), checked_slots((x,), None, "check"), "check")
        >>> output_dtype_notes(point, ["output 0"])[0][:37]
        'output 0 is float32, not float64: fun'
    """
    return [f"{names[k]} is {point.outputs[k].dtype}, not float64: func casts to lower "
            f"precision, so finite differences are mostly round-off"
            for k in point.indices if point.outputs[k].dtype != np.float64]


def kink_note(slot: Slot, kink: Kink, output_label: str, eps: float) -> str:
    """The caveat for an input element at (or within eps of) a non-differentiable point.

    Example:
        >>> from tinygrad_lab.testing.jacobian import Kink
        >>> slot = Slot(0, "input 0", Value([0.0]))
        >>> kink_note(slot, Kink(0, 0.0, 1.0, 0.0, 0), "output 0 element (0,)", 1e-6)[:45]
        'input 0 element (0,) = 0 is at (or within eps'
    """
    return (f"{slot.name} element {index_text(kink.element, slot.shape)} = {kink.value:.6g} is at (or within "
            f"eps={eps:g} of) a non-differentiable point: one-sided differences of {output_label} give "
            f"{kink.right:.6g} (right) and {kink.left:.6g} (left), so finite differences cannot check the "
            f"gradient there; move the point away from the kink (see strategies.arrays(avoid=...))")


def output_label(point: Point, row: int, names: Sequence[str]) -> str:
    """'output 0 element (1,)': the output entry that row `row` of a Jacobian belongs to.

    Example:
        >>> from tinygrad_lab.testing.point import checked_slots
        >>> x = Value([1.0, 2.0], requires_grad=True)
        >>> point = Point(lambda x: (x.sum(), x * 2), (x,), checked_slots((x,), None, "check"), "check")
        >>> output_label(point, 2, ["output 0", "output 1"])
        'output 1 element (1,)'
    """
    for k, rows in point.rows():
        if row < rows.stop:
            return f"{names[k]} element {index_text(row - rows.start, point.outputs[k].shape)}"
    return "the output"


def culprit_lines(culprits: list[Culprit] | None) -> list[str]:
    """The report's part on the ops checked one by one (none when there was no op to check).

    Example:
        >>> from tinygrad_lab.testing.op_check import SourceLine
        >>> print("\\n".join(culprit_lines([Culprit("square", SourceLine("my_ops.py", 9, "return (g * x,)"), 0,
        ...                                          (3,), 3, 9, 3.0, ["off by a constant factor"])])))
        <BLANKLINE>
          ops whose backward disagrees with their own forward (each op checked on its own):
            - op 'square' (backward at my_ops.py:9), its input 0 of shape (3,): 3 of 9 local Jacobian entries
              wrong, max abs error 3
                line 9: return (g * x,)
                hint: off by a constant factor
    """
    if culprits is None:
        return []
    if not culprits:
        return ["", "  every op in the graph passes a check on its own: the mistake is in how func combines "
                "them (a detached path, .data, randomness) or at a non-differentiable point"]
    lines = ["", "  ops whose backward disagrees with their own forward (each op checked on its own):"]
    for c in culprits:
        where = str(c.location) if c.location is not None else "<unknown file>"
        line = f"    - op '{c.op_name}' (backward at {where}), its input {c.parent_index} of shape {c.parent_shape}"
        if c.total > 1:
            line += f": {c.wrong} of {c.total} local Jacobian entries wrong, max abs error {c.max_error:.3g}"
        lines.append(line)
        if c.location is not None and c.location.code:
            lines.append(f"        line {c.location.line}: {c.location.code}")
        lines.extend(f"        hint: {h}" for h in c.hints)
    return lines


@dataclass
class Outcome:
    """A check's result: it passed when there are no failures; `notes` are its caveats.

    `lines` are the report's body, `culprits` the ops found wrong on their own (None: not looked for);
    the report is written when asked for, so caveats found later still make it in.

    Example:
        >>> Outcome([], ["input 0 is float32"]).report
        ''
    """

    failures: list[GradcheckFailure]
    notes: list[str]
    lines: list[str] = field(default_factory=list)
    culprits: list[Culprit] | None = None

    @property
    def report(self) -> str:
        """The body, then the ops found wrong on their own, then the warnings, as one text ('' if it passed)."""
        if not self.failures:
            return ""
        lines = self.lines + culprit_lines(self.culprits)
        if self.notes:
            lines += ["", "  warnings:", *(f"    - {note}" for note in self.notes)]
        return "\n".join(lines)


def failed_outcome(title: str, failures: list[GradcheckFailure], notes: list[str], tol: Tolerance,
                   culprits: list[Culprit] | None = None) -> Outcome:
    """The outcome of a failed full check: a heading, then one block per wrong pair with its table and hints.

    Example:
        >>> from tinygrad_lab.testing.errors import GradcheckFailure
        >>> failure = GradcheckFailure("func", "inputs", (), (), None, None, ["seed it"], "func is random")
        >>> print(failed_outcome("gradcheck", [failure], [], Tolerance()).report)
        gradcheck failed: 1 gradient does not match finite differences
          (central differences with eps=1e-06; an entry is wrong when ...)
        <BLANKLINE>
          func is random
            hint: seed it
    """
    count = len(failures)
    lines = [f"{title} failed: {count} gradient{'s' if count != 1 else ''} "
             f"do{'es' if count == 1 else ''} not match finite differences",
             f"  (central differences with eps={tol.eps:g}; an entry is wrong when {tol.rule()})"]
    for failure in failures:
        lines += ["", f"  {failure.summary}"]
        if failure.table:
            index = "output index, input index" if failure.output_shape else "input index"
            lines += [f"    worst entries ({index}):", failure.table]
        lines += [f"    hint: {hint}" for hint in failure.hints]
    return Outcome(failures, notes, lines, culprits)
