"""`embedding`'s options as PyTorch defines them (`F.embedding`): which values are refused, with a message naming
`embedding` and the option, before the weight changes; `max_norm` renormalising with the `norm_type`-norm (the
2-norm by default), only rows whose norm is strictly larger than `max_norm`.

Expected values come from the p-norm's definition, (sum |w|^p)^(1/p) (max |w| for p = inf), and PyTorch's
documented rescale max_norm / (norm + 1e-7). Each test pins behaviour a mutation run found unchecked
(docs/mutation.md).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_lab import Value, ops

INDICES = np.array([[0, 2], [2, 1]])


@pytest.fixture
def weight(rng):
    # row 0 short and rows 1, 2 long under every norm tried (so both kinds are looked up), row 3 not looked up
    return rng.uniform(0.5, 1.0, size=(4, 3)) * rng.choice([-1.0, 1.0], size=(4, 3)) * [[0.02], [8.0], [9.0], [9.0]]


# (options, exception, message start): every message names the function and the option
REFUSED = [
    (dict(max_norm=math.inf), ValueError, r"^embedding: max_norm must be a positive number"),
    (dict(max_norm=math.nan), ValueError, r"^embedding: max_norm must be a positive number"),
    (dict(max_norm=0.0), ValueError, r"^embedding: max_norm must be a positive number"),
    (dict(max_norm=-1.0), ValueError, r"^embedding: max_norm must be a positive number"),
    (dict(max_norm=1.0, norm_type=-1.0), ValueError, r"^embedding: norm_type must be a positive number"),
    (dict(max_norm=1.0, norm_type=0), ValueError, r"^embedding: norm_type must be a positive number"),
    (dict(norm_type="2"), ValueError, r"^embedding: norm_type must be a positive number"),
    (dict(scale_grad_by_freq="yes"), TypeError, r"^embedding: scale_grad_by_freq must be True or False"),
    (dict(sparse="no"), TypeError, r"^embedding: sparse must be True or False"),
    (dict(sparse=1), TypeError, r"^embedding: sparse must be True or False"),
    (dict(sparse=True), NotImplementedError, r"^embedding: sparse gradients do not exist"),
]


@pytest.mark.parametrize(("options", "error", "message"), REFUSED, ids=[repr(c[0]) for c in REFUSED])
@pytest.mark.parametrize("as_value", [True, False], ids=["value", "array"])
def test_bad_options_are_refused_in_embeddings_terms_and_leave_the_weight_alone(weight, options, error, message,
                                                                                as_value):
    w = Value(weight.copy(), requires_grad=True) if as_value else weight.copy()
    with pytest.raises(error, match=message):
        ops.embedding(INDICES, w, **options)
    np.testing.assert_array_equal(w.data if as_value else w, weight)


def _p_norm(row: np.ndarray, p: float) -> float:
    if p == math.inf:
        return float(np.max(np.abs(row)))
    return float(np.sum(np.abs(row) ** p) ** (1.0 / p))


def _renormed(weight: np.ndarray, used: np.ndarray, max_norm: float, p: float) -> np.ndarray:
    """PyTorch's embedding_renorm_, row by row: a used row whose p-norm exceeds max_norm is scaled by
    max_norm / (norm + 1e-7)."""
    out = weight.copy()
    for r in np.unique(used):
        norm = _p_norm(weight[r], p)
        if norm > max_norm:
            out[r] = weight[r] * (max_norm / (norm + 1e-7))
    return out


# (norm_type or None for the default, max_norm): p below 1, at 1, the default 2, 3, and inf
NORMS = [(None, 2.0), (1.0, 3.0), (2.0, 2.0), (3.0, 1.5), (0.5, 6.0), (math.inf, 1.0)]


@pytest.mark.parametrize(("norm_type", "max_norm"), NORMS, ids=[f"p={p}" for p, _ in NORMS])
@pytest.mark.parametrize("as_value", [True, False], ids=["value", "array"])
def test_max_norm_renormalises_the_rows_used_with_the_norm_type_norm(weight, norm_type, max_norm, as_value):
    options = {} if norm_type is None else {"norm_type": norm_type}
    p = 2.0 if norm_type is None else norm_type
    norms = [_p_norm(row, p) for row in weight[np.unique(INDICES)]]
    assert any(n > max_norm for n in norms) and any(n < max_norm for n in norms)   # both kinds of row are used
    expected = _renormed(weight, INDICES, max_norm, p)
    w = Value(weight.copy(), requires_grad=True) if as_value else weight.copy()
    out = ops.embedding(INDICES, w, max_norm=max_norm, **options)
    changed = w.data if as_value else w
    np.testing.assert_allclose(changed, expected, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(changed[3], weight[3])                 # a row not looked up stays
    np.testing.assert_allclose(out.data if as_value else out, expected[INDICES], rtol=1e-12, atol=0)


@pytest.mark.parametrize(("row", "norm_type"), [([3.0, 4.0], 2.0), ([3.0, -4.0], 1.0), ([-7.0, 2.0], math.inf)])
def test_a_row_whose_norm_equals_max_norm_is_left_exactly_as_it_is(row, norm_type):
    # PyTorch rescales only when norm > max_norm; rescaling at equality would shrink the row by ~1e-7
    weight = np.array([row, [0.5, 0.5]])
    max_norm = _p_norm(weight[0], norm_type)
    w = Value(weight.copy(), requires_grad=True)
    out = ops.embedding(np.array([0, 1]), w, max_norm=max_norm, norm_type=norm_type)
    np.testing.assert_array_equal(w.data, weight)
    np.testing.assert_array_equal(out.data, weight)


@pytest.mark.parametrize("norm_type", [0.25, 0.5, 1.0])
def test_norm_types_at_or_below_one_are_accepted(norm_type):
    # any positive p is a norm_type in PyTorch (it refuses none); only p <= 0 is meaningless
    weight = np.array([[1.0, 1.0], [0.01, 0.01]])
    w = Value(weight.copy())
    ops.embedding(np.array([0, 1]), w, max_norm=1.0, norm_type=norm_type)
    np.testing.assert_allclose(w.data, _renormed(weight, np.array([0, 1]), 1.0, norm_type), rtol=1e-12)
    np.testing.assert_array_equal(w.data[1], weight[1])
