"""tinygrad_lab.autograd.backward: one Value or several at once, as torch.autograd.backward."""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lab import Value
from tinygrad_lab.autograd import backward


def test_several_outputs_add_their_gradients():
    rng = np.random.default_rng(7)
    data = rng.standard_normal(3)
    x = Value(data, requires_grad=True)
    backward([(x * x).sum(), x.exp()], [None, np.ones(3)])
    np.testing.assert_allclose(x.grad.data, 2 * data + np.exp(data), rtol=1e-14)


def test_one_value_takes_its_gradient_directly():
    x = Value([1.0, 2.0], requires_grad=True)
    backward(x * 3, [1.0, 2.0])
    assert x.grad.data.tolist() == [3.0, 6.0]


def test_wrong_number_of_gradients_is_refused():
    x = Value([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="one gradient"):
        backward([x.sum(), x.sum()], [None])
    assert x.grad is None


def test_non_values_are_refused():
    with pytest.raises(TypeError, match="takes Values"):
        backward([np.ones(2)])
