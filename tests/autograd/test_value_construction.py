"""Value() refuses non-numeric data and complex data that should require grad (issue 10, item 7), with the
same clear TypeError that Value("abc") gives."""
import re

import numpy as np
import pytest

from tinygrad_lab import Value

NOT_NUMERIC = "Value() takes numbers, lists of numbers or numeric NumPy arrays; got "


@pytest.mark.parametrize("data, what", [
    ("abc", "str with dtype <U3"),
    (np.array(["a", "b"]), "ndarray with dtype <U1"),
    (np.array([b"x"]), "ndarray with dtype |S1"),
    (np.array([None, 1.0], dtype=object), "ndarray with dtype object"),
    (np.array([1.0, 2.0], dtype=object), "ndarray with dtype object"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "ndarray with dtype datetime64[D]"),
    (np.array([1], dtype="timedelta64[s]"), "ndarray with dtype timedelta64[s]"),
    (np.zeros(2, dtype="V4"), "ndarray with dtype |V4"),
    (np.str_("1.5"), "str_ with dtype <U3"),
    ([1, "a"], "list with dtype <U21"),
    ({"a": 1}, "dict with dtype object"),
    (None, "NoneType with dtype object"),
])
def test_non_numeric_data_is_refused_at_construction(data, what):
    with pytest.raises(TypeError, match=re.escape(NOT_NUMERIC + what)):
        Value(data)


@pytest.mark.parametrize("data", [np.array(["1.5"]), ["1.5"], "1.5"])
def test_strings_are_refused_even_with_a_numeric_dtype(data):
    with pytest.raises(TypeError, match=re.escape(NOT_NUMERIC)):
        Value(data, dtype=np.float64)


@pytest.mark.parametrize("dtype", [object, str, "U3", "datetime64[D]", "V8"])
def test_a_non_numeric_dtype_is_refused(dtype):
    with pytest.raises(TypeError, match=r"Value\(\) dtype must be a numeric NumPy dtype"):
        Value([1.0, 2.0], dtype=dtype)


def test_complex_data_is_stored_but_cannot_require_grad():
    z = Value(np.array([1 + 2j]))
    assert z.dtype == np.complex128 and not z.requires_grad
    with pytest.raises(TypeError, match="only real floating-point Values can require gradients, but this one "
                                        "has dtype complex128"):
        Value(np.array([1 + 2j]), requires_grad=True)
    with pytest.raises(TypeError, match="only real floating-point Values can require gradients, not dtype "
                                        "complex64"):
        Value(np.array([1 + 2j], dtype=np.complex64)).requires_grad_()
    with pytest.raises(TypeError, match="cannot convert complex data to float32 .the imaginary part would be lost"):
        Value(1 + 2j, dtype=np.float32)


def test_float_data_that_does_not_fit_an_integer_dtype_is_refused():
    for data in ([2.0 ** 63], [np.inf], [np.nan], [-(2.0 ** 64)]):
        with pytest.raises(ValueError, match=r"cannot convert data outside \[-9223372036854775808, "):
            Value(data, dtype=np.int64)
    assert Value([1.9, -1.9], dtype=np.int64).tolist() == [1, -1]      # in range: truncated, as NumPy and PyTorch


def test_ragged_lists_are_a_value_error_in_the_users_terms():
    with pytest.raises(ValueError, match=r"Value\(\) needs numbers or a rectangular nested list of numbers"):
        Value([[1.0], [1.0, 2.0]])


@pytest.mark.parametrize("data, dtype", [(2, np.float64), ([1, 2], np.float64), (True, np.float64),
                                         (np.array([1, 2], dtype=np.int32), np.int32),
                                         (np.array([True]), np.bool_), (np.float32(1.5), np.float32),
                                         (np.array([1.0], dtype=np.float16), np.float16)])
def test_numeric_data_still_works(data, dtype):
    assert Value(data).dtype == dtype


def test_non_numeric_arrays_are_refused_as_operands_too():
    x = Value([1.0, 2.0], requires_grad=True)
    for other in (np.array(["a", "b"]), np.array([None, 1.0], dtype=object)):
        with pytest.raises(TypeError, match="unsupported operand for a Value operation: ndarray with dtype"):
            x * other
        with pytest.raises(TypeError, match="unsupported operand for a Value operation"):
            other + x
