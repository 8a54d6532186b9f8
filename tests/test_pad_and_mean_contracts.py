"""`pad`'s value modes at the smallest axes they accept and refuse (with the axis named in the error), and the
mean of no elements of an integer array (nan in float64, as NumPy's mean, never an integer array).

Expected values come from the modes' definitions (an index map written here) and NumPy. Each test pins behaviour
a mutation run found unchecked (docs/mutation.md).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_lab import Value, ops


@pytest.mark.parametrize("widths", [(2, 1), (0, 3), (1, 1, 2, 0)])
def test_replicate_pads_an_axis_of_size_one_with_copies_of_its_element(rng, widths):
    x = rng.normal(size=(2, 1, 1))
    v = Value(x, requires_grad=True)
    out = ops.pad(v, widths, mode="replicate")
    (b1, a1), (b2, a2) = widths[0:2], (widths[2:4] if len(widths) == 4 else (0, 0))
    expected = np.broadcast_to(x, (2, 1 + b2 + a2, 1 + b1 + a1))   # every entry of a row is its one element
    np.testing.assert_array_equal(out.data, expected)
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(v.grad.data, np.full(x.shape, float(out.shape[1] * out.shape[2])))


# (shape, widths, mode, the message: the axis it names is counted from the front, as the input's dims)
REFUSED = [
    ((2, 0), (1, 1), "replicate", r"mode 'replicate' repeats the edge, but axis 1 is empty"),
    ((0, 3), (0, 0, 1, 0), "replicate", r"but axis 0 is empty"),
    ((2, 3), (1, 3), "reflect", r"must be less than the axis size, but axis 1 has size 3 and the widths are \(1, 3\)"),
    ((4, 3, 2), (0, 0, 0, 0, 4, 0), "reflect", r"but axis 0 has size 4 and the widths are \(4, 0\)"),
    ((2, 3), (0, 0, 3, 0), "circular", r"must be at most the axis size, but axis 0 has size 2"),
    ((2, 3), (0, -1), "circular", r"needs non-negative widths, got \(0, -1\) for axis 1"),
    ((2, 3, 2), (0, 0, -1, 0), "reflect", r"needs non-negative widths, got \(-1, 0\) for axis 1"),
]


@pytest.mark.parametrize(("shape", "widths", "mode", "message"), REFUSED, ids=[f"{r[2]}{r[1]}" for r in REFUSED])
def test_value_modes_name_the_axis_they_cannot_pad(shape, widths, mode, message):
    with pytest.raises(ValueError, match=message):
        ops.pad(Value(np.ones(shape)), widths, mode=mode)


@pytest.mark.parametrize(("axis", "keepdims"), [(None, False), (0, False), (0, True), (1, False), ((0, 1), True)])
@pytest.mark.parametrize("as_value", [True, False], ids=["value", "array"])
def test_the_mean_of_no_integers_is_a_float64_nan(axis, keepdims, as_value):
    x = np.zeros((0, 3), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # NumPy warns about the empty slice
        expected = np.mean(x, axis=axis, keepdims=keepdims)
    assert expected.dtype == np.float64
    out = ops.mean(Value(x) if as_value else x, axis=axis, keepdims=keepdims)
    got = out.data if as_value else out
    assert got.dtype == np.float64 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)   # nan where there is an output (assert_array_equal: nan == nan)
