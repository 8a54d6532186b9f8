"""Every differentiable op, checked against central finite differences in float64.

`CASES` is the table that drives the property tests: one row per way of calling
an op, with a hypothesis strategy for its inputs. `test_every_op_has_a_case`
fails when an op registered in `tinygrad_lab.autograd.OPS` has no row, so a new
op cannot land without a gradient test.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lab
import tinygrad_lab.ops as ops
from tinygrad_lab import Value
from tinygrad_lab.autograd import OPS
from tinygrad_lab.testing import gradcheck, gradgradcheck

# ---------------------------------------------------------------------------- strategies


def shapes(min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4)


def floats(shape, low: float = -2.0, high: float = 2.0, away_from: float | None = None, gap: float = 0.1):
    """float64 arrays in [low, high], optionally kept `gap` away from the kink at `away_from`."""
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if away_from is not None:
        elements = elements.filter(lambda v: abs(v - away_from) > gap)
    shape = shape if isinstance(shape, st.SearchStrategy) else st.just(shape)
    return shape.flatmap(lambda s: hnp.arrays(np.float64, s, elements=elements))


def distinct(shape) -> st.SearchStrategy:
    """Arrays whose elements differ pairwise by >= 0.05 (no ties for max/min/sort-like ops)."""
    def build(s):
        n = int(np.prod(s))
        return st.permutations(list(range(n))).map(lambda p: (np.array(p, float) * 0.05 - 1).reshape(s))
    shape = shape if isinstance(shape, st.SearchStrategy) else st.just(shape)
    return shape.flatmap(build)


unary = floats(shapes())
positive = floats(shapes(), 0.2, 3.0)
pair = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3).flatmap(
    lambda bs: st.tuples(floats(bs.input_shapes[0]), floats(bs.input_shapes[1])))
pair_nonzero_b = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3).flatmap(
    lambda bs: st.tuples(floats(bs.input_shapes[0]), floats(bs.input_shapes[1], 0.5, 2.0)))
pair_distinct = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3).flatmap(
    lambda bs: st.tuples(floats(bs.input_shapes[0], -1, 0), floats(bs.input_shapes[1], 0.05, 1)))
matrix_dims = st.integers(1, 4)


def one(strategy):
    return strategy.map(lambda a: (a,))


def axis_and_array(min_dims: int = 1, values=floats):
    """(array, axis) with axis None, an int (maybe negative) or a tuple of axes."""
    def build(shape):
        nd = len(shape)
        axes = st.one_of(st.none(), st.integers(-nd, nd - 1),
                         st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple))
        return st.tuples(values(shape), axes, st.booleans())
    return shapes(min_dims=min_dims).flatmap(build)


# ---------------------------------------------------------------------------- the table


@dataclass
class Case:
    """One way of calling op `name`: `fn(*values, *extra)` with inputs drawn from `inputs`."""

    name: str
    fn: Callable
    inputs: st.SearchStrategy  # tuples: differentiable arrays first, then static extras
    n_diff: int = 1  # how many leading items of the tuple are differentiable inputs
    second_order: bool = True

    def __str__(self) -> str:  # pytest ids
        return self.name


def _matmul_inputs(batched: bool = False, vector: str = ""):
    def build(n, k, m, b):
        left = (b, n, k) if batched else (n, k)
        right = (k, m)
        if vector == "left":
            left = (k,)
        if vector == "right":
            right = (k,)
        if vector == "both":
            left, right = (k,), (k,)
        return st.tuples(floats(left), floats(right))
    return st.tuples(matrix_dims, matrix_dims, matrix_dims, st.integers(1, 3)).flatmap(lambda d: build(*d))


def _linear_inputs(bias: bool, lead: int = 1):
    def build(n, i, o):
        x = floats((2,) * (lead - 1) + (n, i))
        return st.tuples(x, floats((o, i)), floats((o,))) if bias else st.tuples(x, floats((o, i)))
    return st.tuples(matrix_dims, matrix_dims, matrix_dims).flatmap(lambda d: build(*d))


def _getitem_inputs():
    basic = shapes(1, 3).flatmap(lambda s: st.tuples(floats(s), st.just(slice(None, None, 2))))
    fancy = shapes(1, 2).flatmap(lambda s: st.tuples(
        floats(s), hnp.arrays(np.int64, st.integers(1, 5), elements=st.integers(0, s[0] - 1))))
    mixed = shapes(2, 3).flatmap(lambda s: st.tuples(
        floats(s), st.tuples(st.integers(-s[0], s[0] - 1), st.just(slice(1, None)))))
    mask = shapes(1, 2).flatmap(lambda s: st.tuples(floats(s), hnp.arrays(np.bool_, s)))
    return st.one_of(basic, fancy, mixed, mask)


def _index_add_inputs():
    def build(n):
        return hnp.arrays(np.int64, st.integers(1, 5), elements=st.integers(0, n - 1)).flatmap(
            lambda idx: st.tuples(floats((len(idx),)), st.just(idx), st.just((n,))))
    return st.integers(1, 4).flatmap(build)


def _joined_inputs(count: int):
    return shapes(1, 3).flatmap(lambda s: st.tuples(*[floats(s)] * count, st.integers(-len(s), len(s) - 1)))


def _stretched_shapes():
    """(small, big) shape pairs where `small` broadcasts to a different `big`."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3).map(
        lambda bs: (bs.input_shapes[0], bs.result_shape)).filter(lambda pair: pair[0] != pair[1])


def _broadcast_to_inputs():
    return _stretched_shapes().flatmap(lambda p: st.tuples(floats(p[0]), st.just(p[1])))


def _sum_to_inputs():
    return _stretched_shapes().flatmap(lambda p: st.tuples(floats(p[1]), st.just(p[0])))


def _permute_inputs():
    return shapes(1, 3).flatmap(lambda s: st.tuples(floats(s), st.permutations(range(len(s))).map(tuple)))


def _reshape_inputs():
    targets = st.sampled_from([(1, -1, 1, 1), (-1, 1, 1, 1)])  # always 4-D, so never the input's shape
    return shapes(0, 3).flatmap(lambda s: st.tuples(floats(s), targets))


def _clip_inputs():
    values = floats(shapes(), -2, 2).filter(lambda a: np.all(np.abs(np.abs(a) - 1.0) > 0.05))
    return st.tuples(values, st.sampled_from([(-1.0, 1.0), (None, 1.0), (-1.0, None)]))


def _where_inputs():
    return shapes().flatmap(lambda s: st.tuples(floats(s), floats(s), hnp.arrays(np.bool_, s)))


def _cond_axis(min_dims=1):
    return shapes(min_dims, 3).flatmap(lambda s: st.tuples(floats(s, -3, 3), st.integers(-len(s), len(s) - 1)))


CASES: list[Case] = [
    Case("add", lambda a, b: a + b, pair, 2),
    Case("add", lambda a: 2.5 + a, one(unary)),
    Case("sub", lambda a, b: a - b, pair, 2),
    Case("sub", lambda a: 1.0 - a, one(unary)),
    Case("mul", lambda a, b: a * b, pair, 2),
    Case("mul", lambda b: ops.mul(np.full(b.shape, 2.5), b), one(unary)),  # array on the left
    Case("div", lambda a, b: a / b, pair_nonzero_b, 2),
    Case("div", lambda b: 3.0 / b, one(floats(shapes(), 0.5, 2.0))),
    Case("neg", lambda a: -a, one(unary)),
    Case("pow", lambda a, p: a ** p, st.tuples(positive, st.sampled_from([2, 3, 0.5, -1.5]))),
    Case("pow", lambda a: a ** Value(2.0), one(unary)),  # constant Value exponent
    Case("pow_value_exponent", lambda a, b: a ** b, pair.map(lambda ab: (np.abs(ab[0]) + 0.2, ab[1])), 2),
    Case("pow_value_exponent", lambda b: 2.0 ** b, one(unary)),
    Case("matmul", lambda a, b: a @ b, _matmul_inputs(), 2),
    Case("matmul", lambda a, b: a @ b, _matmul_inputs(batched=True), 2),
    Case("matmul", lambda a, b: a @ b, _matmul_inputs(vector="left"), 2),
    Case("matmul", lambda a, b: a @ b, _matmul_inputs(vector="right"), 2),
    Case("matmul", lambda a, b: a @ b, _matmul_inputs(vector="both"), 2),
    Case("linear", lambda x, w, b: tinygrad_lab.linear(x, w, b), _linear_inputs(True), 3),
    Case("linear", lambda x, w: tinygrad_lab.linear(x, w), _linear_inputs(False), 2),
    Case("linear", lambda x, w, b: tinygrad_lab.linear(x, w, b), _linear_inputs(True, lead=2), 3),
    Case("exp", lambda a: a.exp(), one(unary)),
    Case("log", lambda a: a.log(), one(positive)),
    Case("sqrt", lambda a: a.sqrt(), one(positive)),
    Case("abs", lambda a: a.abs(), one(floats(shapes(), away_from=0.0))),
    Case("tanh", lambda a: a.tanh(), one(unary)),
    Case("sigmoid", lambda a: a.sigmoid(), one(floats(shapes(), -6, 6))),
    Case("log_sigmoid", lambda a: ops.log_sigmoid(a), one(floats(shapes(), -6, 6))),
    Case("relu", lambda a: a.relu(), one(floats(shapes(), away_from=0.0))),
    Case("leaky_relu", lambda a, s: ops.leaky_relu(a, s), st.tuples(floats(shapes(), away_from=0.0),
                                                                    st.sampled_from([0.01, 0.2]))),
    Case("clip", lambda a, bounds: a.clip(*bounds), _clip_inputs()),
    Case("cast", lambda a: a.astype(np.float64) * a, one(unary)),
    Case("maximum", lambda a, b: tinygrad_lab.maximum(a, b), pair_distinct, 2),
    Case("minimum", lambda a, b: tinygrad_lab.minimum(a, b), pair_distinct, 2),
    Case("where", lambda a, b, c: tinygrad_lab.where(c, a, b), _where_inputs(), 2),
    Case("sum", lambda a, axis, keep: a.sum(axis, keep), axis_and_array()),
    Case("sum", lambda a: a.sum(), one(unary)),
    Case("mean", lambda a, axis, keep: a.mean(axis=axis, keepdims=keep), axis_and_array()),
    Case("max", lambda a, axis, keep: a.max(axis, keep), axis_and_array(values=distinct)),
    Case("min", lambda a, axis, keep: a.min(dim=axis, keepdim=keep), axis_and_array(values=distinct)),
    Case("logsumexp", lambda a, axis, keep: a.logsumexp(axis, keep), axis_and_array()),
    Case("softmax", lambda a, axis: tinygrad_lab.softmax(a, axis) * a, _cond_axis()),
    Case("log_softmax", lambda a, axis: tinygrad_lab.log_softmax(a, dim=axis) * a, _cond_axis()),
    Case("reshape", lambda a, shape: a.reshape(shape), _reshape_inputs()),
    Case("permute", lambda a, axes: a.permute(axes), _permute_inputs()),
    Case("permute", lambda a: a.T, one(unary)),
    Case("permute", lambda a: a.transpose(0, -1), one(floats(shapes(2, 3)))),
    Case("broadcast_to", lambda a, shape: tinygrad_lab.broadcast_to(a, shape), _broadcast_to_inputs()),
    Case("sum_to", lambda a, shape: tinygrad_lab.sum_to(a, shape), _sum_to_inputs()),
    Case("getitem", lambda a, index: a[index], _getitem_inputs()),
    Case("index_add", lambda a, index, shape: ops.index_add(a, index, shape), _index_add_inputs()),
    Case("concat", lambda a, b, axis: tinygrad_lab.concat([a, b], axis), _joined_inputs(2), 2),
    Case("stack", lambda a, b, c, axis: tinygrad_lab.stack([a, b, c], axis=axis), _joined_inputs(3), 3),
    # ---- nn ops (Function subclasses defined in tinygrad_lab.nn) go below this line
    Case("mse_loss", lambda a, b, r: tinygrad_lab.nn.functional.mse_loss(a, b, reduction=r),
         shapes().flatmap(lambda s: st.tuples(floats(s), floats(s),
                                              st.sampled_from(["mean", "sum", "none"]))), 2),
    Case("mse_loss", lambda a, y: tinygrad_lab.nn.functional.mse_loss(a, y),  # constant NumPy target
         shapes().flatmap(lambda s: st.tuples(floats(s), floats(s)))),
    Case("binary_cross_entropy",
         lambda p, y, w, r: tinygrad_lab.nn.functional.binary_cross_entropy(p, y, w, reduction=r),
         shapes().flatmap(lambda s: st.tuples(floats(s, 0.05, 0.95), floats(s, 0.0, 1.0),
                                              st.one_of(st.none(), floats(s, 0.5, 2.0)),
                                              st.sampled_from(["mean", "sum", "none"]))), 2),
    Case("binary_cross_entropy_with_logits",
         lambda x, y, w, pw, r: tinygrad_lab.nn.functional.binary_cross_entropy_with_logits(
             x, y, w, reduction=r, pos_weight=pw),
         shapes(1, 3).flatmap(lambda s: st.tuples(floats(s, -3, 3), floats(s, 0.0, 1.0),
                                                  st.one_of(st.none(), floats(s, 0.5, 2.0)),
                                                  st.one_of(st.none(), floats(s[-1:], 0.5, 3.0)),
                                                  st.sampled_from(["mean", "sum", "none"]))), 2),
    Case("cross_entropy",
         lambda x, t, kw: tinygrad_lab.nn.functional.cross_entropy(x, t, **kw),
         st.tuples(st.integers(1, 4), st.integers(2, 4)).flatmap(lambda nc: st.tuples(
             floats(nc, -3, 3), hnp.arrays(np.int64, nc[0], elements=st.integers(0, nc[1] - 1)),
             st.fixed_dictionaries({"weight": st.one_of(st.none(), floats((nc[1],), 0.5, 2.0)),
                                    "ignore_index": st.sampled_from([-100, 0]),
                                    "reduction": st.sampled_from(["mean", "sum", "none"]),
                                    "label_smoothing": st.sampled_from([0.0, 0.25])}))).filter(
             lambda d: bool((d[1] != d[2]["ignore_index"]).any()))),
    Case("cross_entropy",  # (N, C, d) input: class axis 1, per-position targets
         lambda x, t: tinygrad_lab.nn.functional.cross_entropy(x, t, reduction="sum"),
         st.tuples(floats((2, 3, 2)), hnp.arrays(np.int64, (2, 2), elements=st.integers(0, 2)))),
]


def _import_all_modules() -> None:
    """Import every tinygrad_lab module so that all ops register in OPS."""
    for info in pkgutil.walk_packages(tinygrad_lab.__path__, "tinygrad_lab."):
        if not info.name.endswith(("__main__", ".plugin")):
            importlib.import_module(info.name)


def test_every_op_has_a_case():
    _import_all_modules()
    missing = sorted(set(OPS) - {case.name for case in CASES})
    assert not missing, f"ops without a gradient test in CASES: {missing}"
    unknown = sorted({case.name for case in CASES} - set(OPS))
    assert not unknown, f"CASES rows name ops that do not exist: {unknown}"


def _build(case: Case, drawn: tuple):
    values = [Value(a, requires_grad=True) for a in drawn[:case.n_diff]]
    extra = drawn[case.n_diff:]

    def func(*xs):
        return case.fn(*xs, *extra)
    return func, values


@pytest.mark.parametrize("case", CASES, ids=str)
def test_gradient_matches_finite_differences(case: Case):
    @settings(max_examples=20, deadline=None)
    @given(case.inputs)
    def check(drawn):
        func, values = _build(case, drawn)
        out = func(*values)
        assert out._op is not None and (out._op.name == case.name or case.name in _op_names(out)), \
            f"{case.name}: the function did not record the op (recorded {out._op and out._op.name})"
        assert gradcheck(func, tuple(values), eps=1e-6, atol=1e-6, rtol=1e-4)
        if case.second_order:
            assert gradgradcheck(func, tuple(values), eps=1e-6, atol=1e-5, rtol=1e-3)
    check()


def _op_names(out: Value) -> set[str]:
    """Names of all ops in the graph of `out` (an op may sit below a wrapper such as a reshape)."""
    names, stack, seen = set(), [out], set()
    while stack:
        v = stack.pop()
        if id(v) in seen or v._op is None:
            continue
        seen.add(id(v))
        names.add(v._op.name)
        stack.extend(v._prev)
    return names
