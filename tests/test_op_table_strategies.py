"""The op table's input strategies draw the cases their ops' bugs hide in.

A strategy that (almost) never draws a case cannot catch the bug that lives there: a mask that routes the
gradient to the wrong side of `where` passes when the condition is all-true or all-false; an empty
selection checks nothing; `maximum` with `a < b` always never sends a gradient to `a`. Each test draws a
few hundred examples (derandomized, so the counts are reproducible) and asserts the share of draws that
exercise the case.
"""
from __future__ import annotations

import numpy as np
import test_ops_grad as table
from hypothesis import HealthCheck, given, settings

DRAWS = 100


def _draw_all(strategy, n: int = DRAWS) -> list:
    drawn = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(example):
        drawn.append(example)

    collect()
    return drawn


def _share(draws, predicate) -> float:
    return sum(bool(predicate(d)) for d in draws) / len(draws)


def test_where_conditions_are_mixed_and_broadcast():
    draws = _draw_all(table._where_inputs())
    conds = [c for _, _, c in draws]
    multi = [c for c in conds if c.size >= 2]
    assert _share(multi, lambda c: c.any() and not c.all()) == 1.0      # never all-true/all-false
    assert _share(conds, lambda c: c.size >= 2) > 0.5                   # mixed in most draws
    full = [np.broadcast_shapes(a.shape, b.shape, c.shape) for a, b, c in draws]
    assert _share(list(zip(conds, full)), lambda p: p[0].shape != p[1]) > 0.2  # the condition broadcasts
    assert _share(draws, lambda d: d[0].shape != d[1].shape) > 0.3       # so do the operands


def test_where_has_rows_with_scalar_operands():
    assert _share(_draw_all(table._where_inputs(scalar="a"), 30), lambda d: isinstance(d[2], float)) == 1.0
    assert _share(_draw_all(table._where_inputs(scalar="b"), 30), lambda d: isinstance(d[2], float)) == 1.0


def test_getitem_selections_are_rarely_empty():
    draws = _draw_all(table._getitem_inputs())
    assert _share(draws, lambda d: d[0][d[1]].size == 0) < 0.02


def test_maximum_pairs_have_either_side_larger():
    draws = _draw_all(table.pair_distinct)
    diffs = [np.subtract(a, b) for a, b in draws]
    assert _share(diffs, lambda d: np.all(np.abs(d) >= 0.05)) == 1.0    # no ties (they are in test_kinks.py)
    assert _share(diffs, lambda d: np.any(d > 0)) > 0.3
    assert _share(diffs, lambda d: np.any(d < 0)) > 0.3
    assert _share(diffs, lambda d: np.any(d > 0) and np.any(d < 0)) > 0.1  # both, in one draw


def test_matmul_rows_broadcast_batch_dimensions():
    draws = _draw_all(table._any_matmul_inputs())
    batched = [(a.shape[:-2], b.shape[:-2]) for a, b in draws if a.ndim >= 2 and b.ndim >= 2]
    assert _share(draws, lambda d: d[0].ndim == 1 or d[1].ndim == 1) > 0.1
    assert _share(batched, lambda s: s[0] != s[1]) > 0.2                # different batch shapes broadcast
    for left, right in [("k", "bkm"), ("b1nk", "ckm"), ("nk", "bkm")]:
        a, b = _draw_all(table._batched_matmul_inputs(left, right), 5)[-1]
        assert a.ndim == len(left) and b.ndim == len(right)
        np.matmul(a, b)                                                  # a valid product


def test_concat_rows_join_unequal_sizes():
    for count in (2, 3):
        draws = _draw_all(table._concat_inputs(count), 50)
        assert all(len({x.shape[axis] for x in d[:count]}) > 1 for d in draws for axis in [d[count]])


def test_cast_rows_cross_float32_and_float64():
    dtypes = set()
    for case in table.CASES:
        if case.name == "cast":
            for drawn in _draw_all(case.inputs, 3):
                values = [table.Value(a, requires_grad=True) for a in drawn[:case.n_diff]]
                out = case.fn(*values)
                dtypes.add((values[0].dtype, out.dtype) if hasattr(out, "dtype") else None)
    assert {np.dtype(np.float64), np.dtype(np.float32)} <= {d for pair in dtypes for d in pair}
