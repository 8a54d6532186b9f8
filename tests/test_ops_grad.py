"""Every differentiable op, checked against central finite differences in float64.

`CASES` is the table that drives the property tests: one row per way of calling
an op, with a hypothesis strategy for its inputs. `test_every_op_has_a_case`
fails when an op registered in `tinygrad_lab.autograd.OPS` has no row, so a new
op cannot land without a gradient test.
"""
from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_lab
import tinygrad_lab.ops as ops
from tinygrad_lab import Value
from tinygrad_lab.autograd import OPS
from tinygrad_lab.testing import GradcheckWarning, gradcheck, gradgradcheck

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


def _distinct_pair(shape_a: tuple, shape_b: tuple) -> st.SearchStrategy:
    """(a, b) whose entries, together, are pairwise >= 0.1 apart (no ties), in a random order: either side
    can be the larger one, element by element (ties are tested in tests/test_kinks.py)."""
    na, nb = int(np.prod(shape_a)), int(np.prod(shape_b))
    def split(p):
        grid = np.array(p, float) * 0.1 - 0.9
        return grid[:na].reshape(shape_a), grid[na:].reshape(shape_b)
    return st.permutations(list(range(na + nb))).map(split)


pair_distinct = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3).flatmap(
    lambda bs: _distinct_pair(*bs.input_shapes))
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
    check: dict | None = None  # gradcheck options instead of the defaults (e.g. a larger eps through float32)
    examples: tuple = ()  # inputs always checked (regressions), besides the drawn ones

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


def _batched_matmul_inputs(left: str, right: str):
    """a @ b with batch broadcasting; shapes written with letters: k (contracted), n, m, b, c (batch sizes)."""
    def build(sizes):
        def shape(spec):
            return tuple(1 if ch == "1" else sizes[ch] for ch in spec)
        return st.tuples(floats(shape(left)), floats(shape(right)))
    return st.fixed_dictionaries({ch: st.integers(1, 3) for ch in "knmbc"}).flatmap(build)


def _any_matmul_inputs():
    """Any pair NumPy's matmul accepts: vectors, batches and batch broadcasting of up to 2 batch dims."""
    from tinygrad_lab.testing.strategies import matmul_shapes
    return matmul_shapes(max_batch_dims=2, max_side=3).flatmap(lambda ab: st.tuples(floats(ab[0]), floats(ab[1])))


def _linear_inputs(bias: bool, lead: int = 1):
    def build(n, i, o):
        x = floats((2,) * (lead - 1) + (n, i))
        return st.tuples(x, floats((o, i)), floats((o,))) if bias else st.tuples(x, floats((o, i)))
    return st.tuples(matrix_dims, matrix_dims, matrix_dims).flatmap(lambda d: build(*d))


def _getitem_inputs():
    basic = shapes(1, 3).flatmap(lambda s: st.tuples(floats(s), st.just(slice(None, None, 2))))
    fancy = shapes(1, 2).flatmap(lambda s: st.tuples(
        floats(s), hnp.arrays(np.int64, st.integers(1, 5), elements=st.integers(0, s[0] - 1))))
    mixed = hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=4).flatmap(lambda s: st.tuples(
        floats(s), st.tuples(st.integers(-s[0], s[0] - 1),
                             st.sampled_from([slice(1, None), slice(None, None, -1), slice(-2, None)]))))
    mask = shapes(1, 2).flatmap(lambda s: st.tuples(floats(s), _mixed_mask(s)))
    return st.one_of(basic, fancy, mixed, mask)


def _mixed_mask(shape) -> st.SearchStrategy:
    """Boolean arrays with both values whenever they have two elements or more (never all-false, so the
    selection is never empty; one-element masks are True)."""
    def mix(mask):
        mask = mask.copy()
        flat = mask.reshape(-1)
        if flat.size == 1:
            flat[0] = True
        elif flat.all() or not flat.any():
            flat[0] = not flat[0]
        return mask
    return hnp.arrays(np.bool_, shape).map(mix)


def _index_add_inputs():
    def build(n):
        return hnp.arrays(np.int64, st.integers(1, 5), elements=st.integers(0, n - 1)).flatmap(
            lambda idx: st.tuples(floats((len(idx),)), st.just(idx), st.just((n,))))
    return st.integers(1, 4).flatmap(build)


def _joined_inputs(count: int):
    return shapes(1, 3).flatmap(lambda s: st.tuples(*[floats(s)] * count, st.integers(-len(s), len(s) - 1)))


def _concat_inputs(count: int, negative_axis: bool = False):
    """`count` arrays that agree except along the join axis, where each has its own size (1..4)."""
    def build(shape, axis, sizes):
        def resized(size):
            s = list(shape)
            s[axis] = size
            return floats(tuple(s))
        axis_arg = axis - len(shape) if negative_axis else axis
        return st.tuples(*[resized(size) for size in sizes], st.just(axis_arg))
    return shapes(1, 3).flatmap(lambda s: st.tuples(
        st.just(s), st.integers(0, len(s) - 1), st.lists(st.integers(1, 4), min_size=count, max_size=count)
        .filter(lambda sizes: len(set(sizes)) > 1))).flatmap(lambda d: build(*d))


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


def _where_inputs(scalar: str = ""):
    """(a, b, cond) with mutually broadcastable shapes (cond too); cond has both values whenever it has two
    elements or more. scalar="a" or "b" makes that operand a Python float (a static extra, after cond)."""
    def build(bs, cond_is_full):
        cond_shape, a_shape, b_shape = bs.input_shapes
        cond = hnp.arrays(np.bool_, bs.result_shape if cond_is_full else cond_shape).map(_mix_bools)
        if scalar == "a":
            return st.tuples(floats(b_shape), cond, st.floats(-2, 2))
        if scalar == "b":
            return st.tuples(floats(a_shape), cond, st.floats(-2, 2))
        return st.tuples(floats(a_shape), floats(b_shape), cond)
    shapes3 = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3).filter(
        lambda bs: np.prod(bs.result_shape) >= 2)   # one element: cond cannot be mixed
    return st.tuples(shapes3, st.booleans()).flatmap(lambda d: build(*d))


def _mix_bools(mask):
    mask = np.array(mask, copy=True)
    flat = mask.reshape(-1)
    if flat.size >= 2 and (flat.all() or not flat.any()):
        flat[0] = not flat[0]
    return mask


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
    Case("matmul", lambda a, b: a @ b, _batched_matmul_inputs("k", "bkm"), 2),      # vector @ batch
    Case("matmul", lambda a, b: a @ b, _batched_matmul_inputs("bnk", "k"), 2),      # batch @ vector
    Case("matmul", lambda a, b: a @ b, _batched_matmul_inputs("nk", "bkm"), 2),     # matrix @ batch
    Case("matmul", lambda a, b: a @ b, _batched_matmul_inputs("b1nk", "ckm"), 2),   # batch dims broadcast
    Case("matmul", lambda a, b: a @ b, _batched_matmul_inputs("1nk", "bkm"), 2),
    Case("matmul", lambda a, b: a @ b, _any_matmul_inputs(), 2),
    Case("linear", lambda x, w, b: tinygrad_lab.linear(x, w, b), _linear_inputs(True), 3),
    Case("linear", lambda x, w: tinygrad_lab.linear(x, w), _linear_inputs(False), 2),
    Case("linear", lambda x, w, b: tinygrad_lab.linear(x, w, b), _linear_inputs(True, lead=2), 3),
    Case("linear", lambda x, w, b: tinygrad_lab.linear(x, w, b),   # no input features: y = b
         st.tuples(floats((2, 3, 0)), floats((2, 0)), floats((2,))), 3),
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
    # through float32 and back: finite differences need a large eps in float32 (exact for these quadratics)
    Case("cast", lambda a: ops.cast(a, np.float32) * ops.cast(a, np.float32), one(unary),
         check=dict(eps=1e-2, atol=1e-4, rtol=1e-3)),
    Case("cast", lambda a: ops.cast(a, np.float64) * a.astype(np.float64), one(unary.map(np.float32)),
         check=dict(eps=1e-2, atol=1e-4, rtol=1e-3)),
    Case("maximum", lambda a, b: tinygrad_lab.maximum(a, b), pair_distinct, 2,
         examples=((np.array([0.5, -0.5]), np.array([0.0, 0.1])),)),   # a wins once, b once
    Case("minimum", lambda a, b: tinygrad_lab.minimum(a, b), pair_distinct, 2,
         examples=((np.array([0.5, -0.5]), np.array([0.0, 0.1])),)),
    Case("where", lambda a, b, c: tinygrad_lab.where(c, a, b), _where_inputs(), 2,
         examples=((np.array([[1.0, -2.0]]), np.array([0.5, 3.0]), np.array([[True], [False]])),)),
    Case("where", lambda b, c, a: tinygrad_lab.where(c, a, b), _where_inputs(scalar="a")),
    Case("where", lambda a, c, b: tinygrad_lab.where(c, a, b), _where_inputs(scalar="b")),
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
    # unequal sizes along the join axis, three inputs, negative axes (an equal split of g would pass equal sizes)
    Case("concat", lambda a, b, axis: tinygrad_lab.concat([a, b], axis), _concat_inputs(2), 2,
         examples=((np.array([[0.5, -1.0, 2.0]]), np.arange(6.0).reshape(2, 3) / 4, 0),)),  # an equal split
    Case("concat", lambda a, b, c, axis: tinygrad_lab.concat([a, b, c], axis=axis), _concat_inputs(3), 3),
    Case("concat", lambda a, b, c, axis: tinygrad_lab.concat([a, b, c], dim=axis), _concat_inputs(3, True), 3),
    Case("stack", lambda a, b, axis: tinygrad_lab.stack([a, b], axis), _joined_inputs(2), 2),
    Case("stack", lambda a, b, c, d, axis: tinygrad_lab.stack([a, b, c, d], dim=axis), _joined_inputs(4), 4),
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
    def check(drawn):
        func, values = _build(case, drawn)
        out = func(*values)
        assert out._op is not None and (out._op.name == case.name or case.name in _op_names(out)), \
            f"{case.name}: the function did not record the op (recorded {out._op and out._op.name})"
        if case.check is not None:
            with warnings.catch_warnings():   # float32 on purpose: the warning says what the row knows
                warnings.simplefilter("ignore", GradcheckWarning)
                assert gradcheck(func, tuple(values), **case.check)
                assert not case.second_order or gradgradcheck(func, tuple(values), **case.check)
            return
        assert gradcheck(func, tuple(values), eps=1e-6, atol=1e-6, rtol=1e-4)
        if case.second_order:
            assert gradgradcheck(func, tuple(values), eps=1e-6, atol=1e-5, rtol=1e-3)
    check = given(case.inputs)(check)
    for drawn in case.examples:
        check = example(drawn)(check)
    examples = min(20, settings.default.max_examples)   # fewer under a quick profile (dev, mutation)
    settings(max_examples=examples, deadline=None)(check)()


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


# ---------------------------------------------------------------------------- issue 11: ops for custom models
# (appended in one block: strategies, then the rows, then CASES.extend)

import tinygrad_lab.ops as extra  # noqa: E402

_NN = tinygrad_lab.nn.functional


def _spread_inputs(values=floats):
    """(array, axis, keepdims, correction) with more elements per reduction than the correction."""
    def enough(d):
        array, axis, _, correction = d
        axes = range(array.ndim) if axis is None else ((axis,) if isinstance(axis, int) else axis)
        return int(np.prod([array.shape[a] for a in axes])) > correction
    return axis_and_array(values=values).flatmap(
        lambda d: st.sampled_from([0, 1]).map(lambda c: (*d, c))).filter(enough)


def _flip_inputs():
    return shapes(1, 3).flatmap(lambda s: st.tuples(
        floats(s), st.lists(st.integers(-len(s), len(s) - 1), min_size=1, max_size=len(s),
                            unique_by=lambda a: a % len(s)).map(tuple)))


def _repeat_inputs():
    return shapes(0, 2).flatmap(lambda s: st.tuples(
        floats(s), st.lists(st.integers(1, 3), min_size=len(s), max_size=len(s) + 1).map(tuple)).filter(
        lambda d: any(r > 1 for r in d[1]) or len(d[1]) > len(s)))


def _pad_inputs():
    def build(s):
        k = st.integers(1, len(s))
        return k.flatmap(lambda k: st.tuples(floats(s), st.tuples(*[
            st.tuples(st.integers(-min(1, s[-1 - i] // 2), 2), st.integers(-min(1, s[-1 - i] // 2), 2))
            for i in range(k)]).map(lambda pairs: tuple(v for p in pairs for v in p))).filter(
            lambda d: any(d[1])))
    return shapes(1, 3).flatmap(build)


def _pad_mode_inputs():
    """Widths within what each mode allows (reflect: < size; circular: <= size), the last axes first."""
    def build(s, mode):
        limit = [d - 1 if mode == "reflect" else d if mode == "circular" else 3 for d in reversed(s)]
        k = st.integers(1, len(s))
        return k.flatmap(lambda k: st.tuples(floats(s), st.tuples(*[
            st.tuples(st.integers(0, limit[i]), st.integers(0, limit[i])) for i in range(k)]).map(
            lambda pairs: tuple(v for p in pairs for v in p)), st.just(mode)).filter(lambda d: any(d[1])))
    return st.tuples(shapes(1, 3).filter(lambda s: min(s) >= 2), st.sampled_from(["reflect", "replicate", "circular"])
                     ).flatmap(lambda sm: build(*sm))


def _gather_inputs():
    def build(s, dim):
        index_shape = st.tuples(*[st.integers(1, 4) if d == dim else st.integers(1, s[d]) for d in range(len(s))])
        return index_shape.flatmap(lambda ishape: st.tuples(
            floats(s), st.just(dim), hnp.arrays(np.int64, ishape, elements=st.integers(0, s[dim] - 1))))
    return shapes(1, 3).flatmap(lambda s: st.integers(0, len(s) - 1).flatmap(lambda d: build(s, d)))


def _scatter_inputs():
    def build(s, dim):
        index_shape = st.tuples(*[st.integers(1, 4) if d == dim else st.integers(1, s[d]) for d in range(len(s))])
        return index_shape.flatmap(lambda ishape: st.tuples(
            floats(s), floats(tuple(i + 1 for i in ishape)), st.just(dim),
            hnp.arrays(np.int64, ishape, elements=st.integers(0, s[dim] - 1))))
    return shapes(1, 3).flatmap(lambda s: st.integers(0, len(s) - 1).flatmap(lambda d: build(s, d)))


def _embedding_inputs():
    return st.tuples(st.integers(1, 5), st.integers(1, 3)).flatmap(lambda nd: st.tuples(
        floats(nd), hnp.arrays(np.int64, shapes(1, 2), elements=st.integers(0, nd[0] - 1)),
        st.one_of(st.none(), st.integers(-nd[0], nd[0] - 1)))).filter(
        lambda d: d[2] is None or not (d[1] == d[2] % d[0].shape[0]).any())   # padding rows: no gradient


_CONV_GEOMETRIES = [
    dict(),
    dict(stride=2, padding=1),
    dict(padding="same", dilation=2),
    dict(stride=(1, 2), padding=(0, 1), groups=2),
    dict(padding=(1, 0), dilation=(2, 1), groups=2),
]


def _conv_inputs(bias: bool = True):
    def build(geometry):
        groups = geometry.get("groups", 1)
        c = 4 if groups == 2 else 2
        x = floats((2, c, 4, 4))
        w = floats((2 * groups, c // groups, 2, 3))
        parts = [x, w] + ([floats((2 * groups,))] if bias else [])
        return st.tuples(*parts, st.just(geometry))
    return st.sampled_from(_CONV_GEOMETRIES).flatmap(build)


def _conv_geometry_shapes(geometry, x_shape, w_shape):
    out = np.shape(extra.conv2d(np.zeros(x_shape), np.zeros(w_shape), None, **geometry))
    return out


def _conv_adjoint_inputs(which: str):
    def build(geometry):
        groups = geometry.get("groups", 1)
        c = 4 if groups == 2 else 2
        x_shape, w_shape = (2, c, 4, 4), (2 * groups, c // groups, 2, 3)
        g_shape = _conv_geometry_shapes(geometry, x_shape, w_shape)
        if which == "input":
            return st.tuples(floats(g_shape), floats(w_shape), st.just(x_shape), st.just(geometry))
        return st.tuples(floats(x_shape), floats(g_shape), st.just(w_shape), st.just(geometry))
    return st.sampled_from(_CONV_GEOMETRIES).flatmap(build)


_POOL_GEOMETRIES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), ceil_mode=True),
    dict(kernel_size=2, stride=1, dilation=2),
    dict(kernel_size=(6, 2), stride=(7, 2), ceil_mode=True),   # partial windows past the input (PyTorch's sizes)
]
_AVG_GEOMETRIES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=1, divisor_override=4),
    dict(kernel_size=(6, 2), stride=(7, 2), ceil_mode=True),   # partial windows past the input (PyTorch's sizes)
    dict(kernel_size=(6, 2), stride=(7, 2), ceil_mode=True, count_include_pad=False),
]


CASES_ISSUE_11: list[Case] = [
    Case("var", lambda a, axis, keep, c: a.var(axis, correction=c, keepdims=keep), _spread_inputs()),
    Case("std", lambda a, axis, keep, c: a.std(dim=axis, correction=c, keepdim=keep), _spread_inputs(distinct)),
    Case("var", lambda a, dim: a.var(dim=dim, correction=0), st.tuples(floats(()), st.sampled_from([0, -1, (0,)]))),
    Case("std", lambda a, dim: a.std(dim=dim, correction=0), st.tuples(floats(()), st.sampled_from([0, -1]))),
    Case("cumsum", lambda a, axis: a.cumsum(dim=axis), _cond_axis()),
    Case("flip", lambda a, dims: a.flip(dims), _flip_inputs()),
    Case("repeat", lambda a, reps: a.repeat(*reps), _repeat_inputs()),
    Case("pad", lambda a, widths: _NN.pad(a, widths, value=0.5), _pad_inputs()),
    Case("getitem", lambda a, widths, mode: _NN.pad(a, widths, mode=mode), _pad_mode_inputs()),  # pad's copy modes
    Case("gather", lambda a, dim, index: a.gather(dim, index), _gather_inputs()),
    Case("scatter_add", lambda a, src, dim, index: a.scatter_add(dim, index, src), _scatter_inputs(), 2),
    Case("embedding", lambda w, idx, pad: _NN.embedding(idx, w, pad), _embedding_inputs()),
    Case("erf", lambda a: a.erf(), one(unary)),
    Case("gelu", lambda a, approx: _NN.gelu(a, approximate=approx),
         st.tuples(floats(shapes(), -3, 3), st.sampled_from(["none", "tanh"]))),
    Case("silu", lambda a: _NN.silu(a), one(floats(shapes(), -4, 4))),
    Case("conv2d", lambda x, w, b, geometry: _NN.conv2d(x, w, b, **geometry), _conv_inputs(), 3),
    Case("conv2d", lambda x, w, geometry: _NN.conv2d(x, w, **geometry), _conv_inputs(bias=False), 2),
    Case("conv2d", lambda x, w, b: _NN.conv1d(x, w, b, stride=2, padding=1),  # 1-D: height-1 conv2d
         st.tuples(floats((2, 2, 6)), floats((3, 2, 3)), floats((3,))), 3),
    Case("conv2d_input", lambda g, w, shape, geometry: extra.conv2d_input(shape, w, g, **geometry),
         _conv_adjoint_inputs("input"), 2),
    Case("conv2d_weight", lambda x, g, shape, geometry: extra.conv2d_weight(x, shape, g, **geometry),
         _conv_adjoint_inputs("weight"), 2),
    Case("max_pool2d", lambda x, geometry: _NN.max_pool2d(x, **geometry),
         st.tuples(distinct((2, 2, 5, 5)), st.sampled_from(_POOL_GEOMETRIES))),
    Case("max_pool2d", lambda x: _NN.max_pool1d(x, 2, stride=1), one(distinct((2, 2, 5)))),
    Case("avg_pool2d", lambda x, geometry: _NN.avg_pool2d(x, **geometry),
         st.tuples(floats((2, 2, 5, 5)), st.sampled_from(_AVG_GEOMETRIES))),
    Case("avg_pool2d", lambda x: _NN.avg_pool1d(x, 3, stride=2, padding=1), one(floats((2, 2, 5)))),
    Case("batch_norm", lambda x, w, b: _NN.batch_norm(x, None, None, w, b, training=True),
         st.tuples(distinct((3, 2, 2)), floats((2,)), floats((2,))), 3),
    Case("batch_norm", lambda x: _NN.batch_norm(x, None, None, training=True), one(distinct((2, 3, 2, 2)))),
    Case("layer_norm", lambda x, w, b: _NN.layer_norm(x, (2, 3), w, b),
         st.tuples(distinct((2, 2, 3)), floats((2, 3)), floats((2, 3))), 3),
    Case("layer_norm", lambda x: _NN.layer_norm(x, 3), one(distinct((2, 3)))),
]
CASES.extend(CASES_ISSUE_11)
