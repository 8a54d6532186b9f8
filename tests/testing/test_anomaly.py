"""detect_anomaly (re-exported by tinygrad_lab.testing): the first NaN/inf names its op and line."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_lab
from tinygrad_lab import Function, Value
from tinygrad_lab.testing import AnomalyError, detect_anomaly

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own divide/log warnings


class ZeroDivisionBackward(Function):
    """2x with a backward that divides by zero."""

    @staticmethod
    def forward(x):
        return 2 * x

    @staticmethod
    def backward(g, out, x):
        return (g / (x - x),)


def line_of(marker: str) -> int:
    with open(__file__) as source:
        return next(i for i, line in enumerate(source, 1) if marker in line and "line_of" not in line)


def test_reexported_from_the_engine():
    assert detect_anomaly is tinygrad_lab.detect_anomaly
    assert issubclass(AnomalyError, Exception)


def test_forward_inf_names_the_op_and_the_line():
    x = Value([0.0, 1.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        x.log()  # ANOMALY-FORWARD-INF
    message = str(info.value)
    assert "forward of 'log' produced inf" in message
    assert f"test_anomaly.py:{line_of('ANOMALY-FORWARD-INF')}" in message
    assert "x.log()" in message


def test_forward_nan_is_the_first_op_that_makes_it():
    x = Value([0.0, 1.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        y = x * 2  # finite
        z = (y - y) / (y - y)  # ANOMALY-FORWARD-NAN (0/0 at element 0)
        z.exp()
    assert "forward of 'div' produced nan" in str(info.value)
    assert f"test_anomaly.py:{line_of('ANOMALY-FORWARD-NAN')}" in str(info.value)


def test_backward_inf_names_the_op_and_the_line_that_created_the_node():
    x = Value([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()  # ANOMALY-BACKWARD (finite forward, infinite derivative at 0)
        loss = y.sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    assert "backward of 'sqrt' produced inf" in str(info.value)
    assert f"test_anomaly.py:{line_of('ANOMALY-BACKWARD')}" in str(info.value)


def test_backward_of_a_users_op():
    x = Value([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = ZeroDivisionBackward.apply(x)  # ANOMALY-CUSTOM
        with pytest.raises(AnomalyError) as info:
            y.sum().backward()
    assert "backward of 'zerodivisionbackward'" in str(info.value)
    assert f"test_anomaly.py:{line_of('ANOMALY-CUSTOM')}" in str(info.value)


def test_backward_flag_raises_naming_the_op():
    x = Value([0.0, 4.0], requires_grad=True)
    y = x.sqrt()
    with pytest.raises(AnomalyError, match="backward of 'sqrt' produced inf"):
        y.sum().backward(detect_anomaly=True)


def test_backward_flag_alone_says_how_to_get_the_line():
    x = Value([0.0, 4.0], requires_grad=True)
    y = x.sqrt()  # made outside detect_anomaly(): its line was not recorded
    with pytest.raises(AnomalyError, match=r"run it inside `with detect_anomaly\(\):`"):
        y.sum().backward(detect_anomaly=True)


def test_finite_computations_pass_and_the_mode_is_restored():
    x = Value([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        (x.log() * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.log(x.data) + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = Value([0.0]).log()  # outside the context: no error, just -inf
    assert np.isneginf(y.data[0])


def test_mode_is_restored_after_an_error():
    with pytest.raises(AnomalyError), detect_anomaly():
        Value([0.0], requires_grad=True).log()
    assert Value([0.0], requires_grad=True).log().data[0] == -np.inf


def test_check_nan_false_turns_the_checks_off():
    with detect_anomaly(check_nan=False):
        y = Value([0.0], requires_grad=True).log()
    assert np.isneginf(y.data[0])
