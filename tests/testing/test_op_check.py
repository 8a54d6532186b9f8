"""Each op checked on its own, and located by the return statement of its backward that ran (issue 13)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from tinygrad_lab import Function, Value
from tinygrad_lab.testing import GradcheckError, gradcheck
from tinygrad_lab.testing.op_check import backward_location, check_op, find_culprits
from tinygrad_lab.testing.tolerance import Tolerance


def line_of(function, text: str) -> int:
    """The file line number of the first source line of `function` that contains `text`."""
    source, start = inspect.getsourcelines(function)
    return start + next(i for i, line in enumerate(source) if text in line)


class HalfSquare(Function):
    """x**2 with the factor 2 forgotten."""

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(g, out, x):
        doubled = 2 * x  # noqa: F841 (a line that is not the mistake)
        return (g * x,)


class SignByBranch(Function):
    """|x| with a correct branch for x > 0 and a wrong one (sign flipped) for x <= 0."""

    @staticmethod
    def forward(x):
        return np.abs(x)

    @staticmethod
    def backward(g, out, x):
        if np.all(x > 0):
            return (g,)
        return (g * np.abs(np.sign(x)),)


class AddBiasNoReduction(Function):
    """x + b with b's gradient not reduced over the broadcast rows (a shape mistake)."""

    @staticmethod
    def forward(x, b):
        return x + b[:, None]

    @staticmethod
    def backward(g, out, x, b):
        return (g,
                g)


def test_the_report_names_the_return_line_not_the_staticmethod_line():
    report = str(pytest.raises(GradcheckError, gradcheck, lambda x: HalfSquare.apply(x.tanh()).exp(),
                               (Value([0.5, 1.5], requires_grad=True),)).value)
    returned = line_of(HalfSquare.backward, "return (g * x,)")
    decorator = line_of(HalfSquare, "def backward") - 1
    assert f"op 'halfsquare' (backward at {__file__}:{returned})" in report
    assert f"{__file__}:{decorator})" not in report
    assert f"line {returned}: return (g * x,)" in report


def test_the_return_that_ran_is_named_when_a_backward_has_several():
    x = Value([-1.0, -2.0], requires_grad=True)
    report = str(pytest.raises(GradcheckError, gradcheck, lambda x: SignByBranch.apply(x), (x,)).value)
    assert f"{__file__}:{line_of(SignByBranch.backward, 'return (g * np.abs')}" in report
    positive = backward_location(SignByBranch, np.ones(1), np.ones(1), [np.ones(1)], None)
    negative = backward_location(SignByBranch, np.ones(1), np.ones(1), [-np.ones(1)], None)
    assert positive.line == line_of(SignByBranch.backward, "return (g,)")
    assert negative.line == line_of(SignByBranch.backward, "return (g * np.abs")
    assert negative.file == __file__ and negative.code == "return (g * np.abs(np.sign(x)),)"


def test_a_shape_mistake_names_the_return_line_too():
    report = str(pytest.raises(GradcheckError, gradcheck, lambda x, b: AddBiasNoReduction.apply(x, b),
                               (Value(np.ones((3, 2)), requires_grad=True),
                                Value(np.ones(3), requires_grad=True))).value)
    returned = line_of(AddBiasNoReduction.backward, "return")
    assert f"backward of op 'addbiasnoreduction' ({__file__}:{returned})" in report


def test_without_watching_the_last_return_statement_is_named(monkeypatch):
    """When the call cannot be watched (another profiler runs), the source is read instead."""
    import sys

    monkeypatch.setattr(sys, "getprofile", lambda: object())  # pretend a profiler is running
    location = backward_location(SignByBranch, np.ones(1), np.ones(1), [np.ones(1)], None)
    assert location.line == line_of(SignByBranch.backward, "return (g * np.abs")


def test_a_backward_that_raises_is_located_by_its_source():
    class Broken(Function):
        @staticmethod
        def forward(x):
            return x

        @staticmethod
        def backward(g, out, x):
            raise RuntimeError("not written yet")

    location = backward_location(Broken, np.ones(1), np.ones(1), [np.ones(1)], None)
    assert location.line == line_of(Broken.backward, "def backward")


def test_the_profiler_is_left_as_it_was():
    import sys

    assert sys.getprofile() is None
    backward_location(HalfSquare, np.ones(2), np.ones(2), [np.ones(2)], None)
    assert sys.getprofile() is None


def test_check_op_finds_the_wrong_op_only():
    x = Value([0.5, 1.5], requires_grad=True)
    culprits = find_culprits([HalfSquare.apply(x.tanh()).exp()], Tolerance())
    assert [(c.op_name, c.parent_index, c.wrong, c.total) for c in culprits] == [("halfsquare", 0, 2, 4)]
    assert culprits[0].hints[0].startswith("off by a constant factor: analytic = 0.5")
    assert check_op(x.tanh(), Tolerance()) == []


def test_a_cast_to_float32_is_not_checked_on_its_own():
    x = Value([0.3, 0.5], requires_grad=True)
    assert check_op(x.float(), Tolerance()) == []
