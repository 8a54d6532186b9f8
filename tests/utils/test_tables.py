"""The table helpers: Markdown tables for the written reports, plain text for terminal views."""
from __future__ import annotations

import pytest

from tinygrad_lab.utils.tables import format_table, markdown_table


def test_markdown_table_has_a_rule_after_the_header_and_one_line_per_row():
    lines = markdown_table(["variant", "converged"], [["tanh", "**9/10**"], ["relu", "7/10"]])
    assert lines == ["| variant | converged |", "|---|---|", "| tanh | **9/10** |", "| relu | 7/10 |"]


def test_markdown_table_refuses_a_row_with_the_wrong_number_of_cells():
    with pytest.raises(ValueError, match="a row has 1 cells, but the header has 2"):
        markdown_table(["a", "b"], [["only one"]])


def test_format_table_pads_columns_to_their_widest_cell():
    text = format_table([["name", "n"], ["weight", "12"]], rule_after_header=True)
    assert text.splitlines() == ["name    n", "------  --", "weight  12"]
