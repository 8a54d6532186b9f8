"""`linear` (x @ W^T + b, `torch.nn.functional.linear`) on the shapes and sizes where its rules take other paths:
outer products (one input feature, one output, a batch of one) of 4096 elements and more, inputs with more than
two dimensions whose weight gradient is a large product of flattened rows, a 1-D input, integer arrays, and the
`needs_input_grad` hint of its backward rule.

Expected values are computed here with `np.einsum` (index notation, not the rule's own products); with one
inner term every product is exact, so those comparisons are exact. Each test pins behaviour a mutation run found
unchecked (docs/mutation.md).
"""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lab import Value, ops
from tinygrad_lab.ops.linalg import Linear

# (input shape, out features): the weight is (out, in) with in = the input's last dimension.
# Outer products (in = 1, or out = 1 with a batch of one) of >= 4096 entries, and batched inputs whose weight
# gradient sums over many rows: in == rows, out == rows, two rows, one output.
SHAPES = [
    ((4096, 1), 1),          # a column times one weight: 4096 outputs
    ((64, 1), 64),           # one input feature: a 64 x 64 outer product
    ((1, 64), 64),           # a batch of one: the weight gradient is an outer product
    ((1, 4096), 1),          # a batch of one, one output
    ((2, 32, 1), 64),        # 3-D, one input feature
    ((2, 32, 64), 64),       # 3-D: 64 rows of 64 features, 64 outputs (square flattened products)
    ((1, 2, 64), 64),        # 3-D: two rows
    ((2, 3, 4096), 1),       # 3-D: one output
    ((4, 8, 16, 32), 16),    # 4-D
    ((1,), 4096),            # 1-D input of one feature
    ((64,), 64),             # 1-D input
]


def _expected(x, w, b, g):
    y = np.einsum("...i,oi->...o", x, w) + b
    gx = np.einsum("...o,oi->...i", g, w)
    gw = np.einsum("no,ni->oi", g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1]))
    gb = g.reshape(-1, g.shape[-1]).sum(axis=0)
    return y, gx, gw, gb


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("shape", "out"), SHAPES, ids=[f"{s}x{o}" for s, o in SHAPES])
def test_linear_and_its_gradients_on_large_and_outer_products(rng, shape, out, dtype):
    x = rng.normal(size=shape).astype(dtype)
    w = rng.normal(size=(out, shape[-1])).astype(dtype)
    b = rng.normal(size=out).astype(dtype)
    g = rng.normal(size=shape[:-1] + (out,)).astype(dtype)
    y, gx, gw, gb = _expected(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                              g.astype(np.float64))
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    xv, wv, bv = Value(x, requires_grad=True), Value(w, requires_grad=True), Value(b, requires_grad=True)
    result = ops.linear(xv, wv, bv)
    assert result.shape == y.shape and result.data.dtype == dtype
    np.testing.assert_allclose(result.data, y, **tol)
    result.backward(g)
    for value, expected in ((xv, gx), (wv, gw), (bv, gb)):
        assert value.grad.shape == expected.shape and value.grad.data.dtype == dtype
        np.testing.assert_allclose(value.grad.data, expected, **tol)
    # plain arrays: the same forward, nothing recorded
    np.testing.assert_allclose(ops.linear(x, w, b), y, **tol)


@pytest.mark.parametrize(("shape", "out"), [((4096, 1), 1), ((64, 1), 64), ((2, 32, 1), 64), ((1,), 4096)])
def test_outer_products_are_exact(rng, shape, out):
    # with one inner term each output is one rounded product: every path must give exactly x_i * w_j (+0 for 0)
    x = rng.normal(size=shape)
    x.flat[::7] = 0.0
    w = rng.normal(size=(out, shape[-1]))
    w.flat[::5] = -w.flat[::5]
    expected = np.einsum("...i,oi->...o", x, w) + 0.0
    y = ops.linear(Value(x, requires_grad=True), Value(w, requires_grad=True))
    np.testing.assert_array_equal(y.data, expected)
    assert not np.signbit(y.data[y.data == 0]).any()   # zeros are +0, as a GEMM's zero-started sum gives


INTEGER_SHAPES = [((4096, 1), 1), ((2, 1), 3), ((1, 64), 64), ((2, 32, 64), 64), ((1,), 4096)]


@pytest.mark.parametrize(("shape", "out"), INTEGER_SHAPES)
def test_integer_arrays_give_the_exact_integer_product(rng, shape, out):
    x = rng.integers(-9, 10, size=shape)
    w = rng.integers(-9, 10, size=(out, shape[-1]))
    b = rng.integers(-9, 10, size=out)
    y = ops.linear(x, w, b)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, np.einsum("...i,oi->...o", x, w) + b)


# which of (input, weight, bias) need a gradient: the rule must return one for every input that does
HINTS = [[True, False, False], [True, True, False], [False, True, True], [False, False, True], [True, True, True]]


@pytest.mark.parametrize("needs", HINTS, ids=[str(h) for h in HINTS])
def test_the_backward_rule_returns_every_gradient_the_hint_asks_for(rng, needs):
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    g = rng.normal(size=(5, 4))
    _, gx, gw, gb = _expected(x, w, b, g)
    grads = Linear.backward(g, x @ w.T + b, x, w, b, needs_input_grad=needs)
    for need, got, expected in zip(needs, grads, (gx, gw, gb)):
        if need:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    if not needs[0]:
        assert grads[0] is None   # the point of the hint: no input gradient computed


@pytest.mark.parametrize("needs", [[True, False], [False, True]])
def test_frozen_weight_or_constant_input_through_the_engine(rng, needs):
    x, w = rng.normal(size=(64, 1)), rng.normal(size=(64, 1))
    g = rng.normal(size=(64, 64))
    xv, wv = Value(x, requires_grad=needs[0]), Value(w, requires_grad=needs[1])
    ops.linear(xv, wv).backward(g)
    if needs[0]:
        np.testing.assert_allclose(xv.grad.data, g @ w, rtol=1e-12)
        assert wv.grad is None
    else:
        np.testing.assert_allclose(wv.grad.data, np.einsum("no,ni->oi", g, x), rtol=1e-12)
        assert xv.grad is None


# (input shape, weight shape, message): a weight of another rank than 2 broadcast into a wrong result (3-D) or
# failed inside the message (1-D, IndexError) before; PyTorch refuses a 3-D weight too
BAD_SHAPES = [
    ((2, 3), (4, 3, 5), r"^linear: the weight must be 2-D \(out_features, in_features\), got shape \(4, 3, 5\)"),
    ((2, 3), (3,), r"^linear: the weight must be 2-D .*got shape \(3,\); a 1-D weight .* is w.reshape\(1, -1\)"),
    ((2, 3), (), r"^linear: the weight must be 2-D"),
    ((2, 3), (4, 2), r"^linear: input has 3 features \(shape \(2, 3\)\), but the weight of shape \(4, 2\) expects 2"),
    ((), (4, 2), r"^linear: input has no features \(shape \(\)\), but the weight of shape \(4, 2\) expects 2"),
]


@pytest.mark.parametrize(("xshape", "wshape", "message"), BAD_SHAPES, ids=[f"{r[0]}@{r[1]}" for r in BAD_SHAPES])
@pytest.mark.parametrize("kind", ["values", "arrays", "mixed"])
def test_weights_that_are_not_out_by_in_are_refused(xshape, wshape, message, kind):
    x, w = np.ones(xshape), np.ones(wshape)
    if kind != "arrays":
        w = Value(w, requires_grad=True)
        x = Value(x) if kind == "values" else x
    with pytest.raises(ValueError, match=message):
        ops.linear(x, w)
