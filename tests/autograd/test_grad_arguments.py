"""grad()'s outputs and inputs must be Values: anything else is a TypeError saying so (issue 10)."""
import re

import numpy as np
import pytest

from tinygrad_lab import Value, grad


@pytest.fixture
def xy():
    x = Value([1.0, 2.0], requires_grad=True)
    return x, (x * x).sum()


@pytest.mark.parametrize("inputs, message", [
    (3.0, "grad(): inputs must be a Value or a sequence of Values, got float 3.0"),
    ("x", "grad(): inputs must be a Value or a sequence of Values, got str 'x'"),
    (None, "grad(): inputs must be a Value or a sequence of Values, got NoneType None"),
    (np.ones(2), "grad(): inputs must be a Value or a sequence of Values, got ndarray array([1., 1.])"),
])
def test_inputs_that_are_not_values_are_a_type_error_saying_so(xy, inputs, message):
    _, y = xy
    with pytest.raises(TypeError, match=re.escape(message)):
        grad(y, inputs)


def test_a_sequence_with_a_non_value_names_its_position(xy):
    x, y = xy
    with pytest.raises(TypeError, match=r"grad\(\): inputs must be Values, but input 1 is float 3.0"):
        grad(y, [x, 3.0])
    with pytest.raises(TypeError, match=r"grad\(\): outputs must be a Value or a sequence of Values, got float"):
        grad(3.0, x)
    with pytest.raises(ValueError, match=r"grad\(\): inputs is empty"):
        grad(y, [])
    (g,) = grad(y, (v for v in [x]))                        # any iterable of Values, as PyTorch
    assert g.tolist() == [2.0, 4.0]
