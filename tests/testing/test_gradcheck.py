"""gradcheck / gradgradcheck: correct gradients pass, each known mistake is caught and named in the report."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_lab import Function, Value
from tinygrad_lab.testing import GradcheckError, GradcheckWarning, gradcheck, gradgradcheck

from .faulty_ops import HalfSquare, MeanBias

RNG: np.random.Generator  # a fresh seeded generator for each test: see _per_test_rng
@pytest.fixture(autouse=True)
def _per_test_rng(request):
    """Each test draws its random data from its own generator, seeded from the test's id (the `rng` fixture of
    tinygrad_lab's pytest plugin), so its data do not depend on which tests ran before it."""
    global RNG
    RNG = request.getfixturevalue("rng")



def value(*shape: int, dtype=np.float64, requires_grad: bool = True) -> Value:
    return Value(RNG.normal(size=shape).astype(dtype), requires_grad=requires_grad)


def failure_of(func, inputs, check=gradcheck, **options) -> GradcheckError:
    with pytest.raises(GradcheckError) as info:
        check(func, inputs, **options)
    return info.value


def all_hints(error: GradcheckError) -> str:
    return "\n".join(h for f in error.failures for h in f.hints)


# ----------------------------------------------------------------------------- ops with known mistakes




class SquareMatmulTransposed(Function):
    """a @ b with the gradient of a transposed (same shape when a is square)."""

    @staticmethod
    def forward(a, b):
        return a @ b

    @staticmethod
    def backward(g, out, a, b):
        return ((g @ b.T).T, a.T @ g)


class JacobianNotTransposed(Function):
    """y = W @ x with dx = W @ g instead of W.T @ g."""

    @staticmethod
    def forward(w, x):
        return w @ x

    @staticmethod
    def backward(g, out, w, x):
        return (g[:, None] * x[None, :], w @ g)


class FlippedSub(Function):
    """a - b with d/db = +1."""

    @staticmethod
    def forward(a, b):
        return a - b

    @staticmethod
    def backward(g, out, a, b):
        return (g, g)


class AddColumn(Function):
    """x + c[:, None] with c's gradient not reduced over the broadcast axis 1."""

    @staticmethod
    def forward(x, c):
        return x + c[:, None]

    @staticmethod
    def backward(g, out, x, c):
        return (g, g)


class AddRowOneCopy(Function):
    """x + b (b broadcast over rows) with b's gradient taken from the first row only."""

    @staticmethod
    def forward(x, b):
        return x + b

    @staticmethod
    def backward(g, out, x, b):
        return (g, g[0])


class CenterMissingTerm(Function):
    """x - mean(x, axis=1, keepdims=True) with the gradient through the mean forgotten."""

    @staticmethod
    def forward(x):
        return x - x.mean(axis=1, keepdims=True)

    @staticmethod
    def backward(g, out, x):
        return (g,)


class NoGradient(Function):
    """3x whose backward returns None."""

    @staticmethod
    def forward(x):
        return 3 * x

    @staticmethod
    def backward(g, out, x):
        return (None,)


class NumpySin(Function):
    """sin with a correct first derivative written in NumPy (so not differentiable itself)."""

    @staticmethod
    def forward(x):
        return np.sin(x)

    @staticmethod
    def backward(g, out, x):
        return (g * np.cos(np.asarray(x)),)


def _stop(x):
    return x.detach() if isinstance(x, Value) else x


class HalfDetachedCube(Function):
    """x**3 with the right first derivative 3x^2 but half of it detached: second derivative 3x, not 6x."""

    @staticmethod
    def forward(x):
        return x * x * x

    @staticmethod
    def backward(g, out, x):
        return (g * 3 * x * _stop(x),)


class DetachedSeed(Function):
    """x**2 whose backward detaches the incoming gradient g: right first order, wrong in g at second order."""

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(g, out, x):
        return (_stop(g) * 2 * x,)


class Stateful(Function):
    """A backward that changes every call (not reentrant)."""

    calls = 0

    @staticmethod
    def forward(x):
        return 2 * x

    @staticmethod
    def backward(g, out, x):
        Stateful.calls += 1
        return (g * (2 + Stateful.calls),)


class StatefulAtKink(Function):
    """relu whose backward changes every call, but only at x == 0, its kink."""

    calls = 0

    @staticmethod
    def forward(x):
        return np.maximum(x, 0)

    @staticmethod
    def backward(g, out, x):
        StatefulAtKink.calls += 1
        return (g * ((x > 0) + (x == 0) * StatefulAtKink.calls),)


# ----------------------------------------------------------------------------- correct gradients


@pytest.mark.parametrize(
    "func, shapes",
    [
        (lambda x: x.tanh(), [(2, 3)]),
        (lambda x: (x * x.exp()).sum(axis=0), [(3, 2)]),
        (lambda a, b: a * b + a / (b * b + 1), [(2, 3), (3,)]),
        (lambda a, b: a @ b, [(2, 3), (3, 4)]),
        (lambda x: (x.sigmoid(), x.mean(axis=1, keepdims=True)), [(2, 3)]),
        (lambda x: x.sum(), [()]),
    ],
)
def test_correct_gradients_pass(func, shapes):
    inputs = tuple(value(*shape) for shape in shapes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no caveat either
        assert gradcheck(func, inputs) is True


def test_fixed_versions_of_the_wrong_ops_pass():
    x, b = value(3, 4), value(4)
    assert gradcheck(lambda x: x * x, (x,))
    assert gradcheck(lambda x, b: x + b, (x, b))


def test_second_order_passes_for_smooth_functions():
    a, b = value(2, 3), value(3)
    assert gradgradcheck(lambda a, b: (a * b).tanh(), (a, b))
    assert gradgradcheck(lambda a, b: ((a @ b.reshape(3, 1)).sigmoid(), a.exp().sum()), (a, b))


def test_non_value_inputs_are_passed_through_and_constants_not_checked():
    x = value(3)
    constant = value(3, requires_grad=False)
    assert gradcheck(lambda x, k, c, scale: x * k * c * scale, (x, 2.0, constant, np.float64(0.5)))


def test_single_value_input_without_tuple():
    assert gradcheck(lambda x: x.exp(), value(2))


def test_inputs_are_left_exactly_as_they_were():
    x = value(3, 2)
    y32 = value(3, 2, dtype=np.float32)
    data, before = x.data, x.data.copy()
    data32, before32 = y32.data, y32.data.copy()
    failure_of(lambda x: HalfSquare.apply(x), (x,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        gradcheck(lambda y: y.tanh(), (y32,), eps=1e-3, atol=1e-2, rtol=1e-2)
    assert x.data is data and np.array_equal(x.data, before) and x.grad is None
    assert y32.data is data32 and y32.dtype == np.float32 and np.array_equal(y32.data, before32)


def test_read_only_input_data_is_handled():
    x = value(4)
    x.data.setflags(write=False)
    assert gradcheck(lambda x: x.tanh(), (x,))
    assert not x.data.flags.writeable


# ----------------------------------------------------------------------------- report and hints


def test_constant_factor_hint_gives_the_factor_and_the_table_has_the_numbers():
    x = Value([1.0, 2.0, 3.0], requires_grad=True)
    error = failure_of(lambda x: HalfSquare.apply(x), (x,))
    report = str(error)
    assert "analytic = 0.5 (= 1/2) x numeric" in report
    assert "missing factor 2" in report
    assert (
        "d(output 0, shape (3,)) / d(input 0, shape (3,), float64): 3 of 9 Jacobian entries wrong" in report
    )
    worst = [line.split() for line in report.splitlines() if line.strip().startswith("(2,)  ")][0]
    assert worst[:2] == ["(2,)", "(2,)"]
    assert float(worst[2]) == pytest.approx(3.0) and float(worst[3]) == pytest.approx(6.0, rel=1e-6)
    assert float(worst[4]) == pytest.approx(3.0, rel=1e-6) and float(worst[5]) == pytest.approx(0.5, rel=1e-6)
    failure = error.failures[0]
    np.testing.assert_allclose(failure.analytic, np.diag([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(failure.numeric, np.diag([2.0, 4.0, 6.0]), rtol=1e-6)


def test_the_wrong_op_is_named_with_its_source_line():
    x = value(2, 3)
    report = str(failure_of(lambda x: HalfSquare.apply(x.tanh()).exp(), (x,)))
    assert "op 'halfsquare' (backward at " in report and "faulty_ops.py:" in report
    assert "exp" not in report.split("ops whose backward disagrees")[1]  # only the wrong op is listed


def test_mean_instead_of_sum_over_a_broadcast_axis():
    error = failure_of(lambda x, b: MeanBias.apply(x, b), (value(3, 4), value(4)))
    assert [f.input for f in error.failures] == ["input 1"]
    assert "analytic = 0.333333 (= 1/3) x numeric" in all_hints(error)
    assert "a mean where a sum belongs" in all_hints(error)


def test_transposed_gradient_of_a_square_input():
    error = failure_of(lambda a, b: SquareMatmulTransposed.apply(a, b), (value(3, 3), value(3, 4)))
    assert [f.input for f in error.failures] == ["input 0"]
    assert all_hints(error).startswith(
        "transposed: the analytic gradient equals the numeric gradient transposed"
    )


def test_transposed_gradient_of_a_rectangular_input_is_a_shape_error_naming_the_op():
    error = failure_of(lambda a, b: SquareMatmulTransposed.apply(a, b), (value(2, 3), value(3, 4)))
    report = str(error)
    assert "backward of op 'squarematmultransposed'" in report
    assert "returned a gradient of shape (3, 2) for its input 0 of shape (2, 3)" in report
    assert "transposed: the gradient has the input's shape reversed" in report


def test_jacobian_instead_of_its_transpose():
    error = failure_of(lambda w, x: JacobianNotTransposed.apply(w, x), (value(3, 3), value(3)))
    assert [f.input for f in error.failures] == ["input 1"]
    assert "transposed Jacobian" in all_hints(error)


def test_sign_flipped():
    error = failure_of(lambda a, b: FlippedSub.apply(a, b), (value(3), value(3)))
    assert [f.input for f in error.failures] == ["input 1"]
    assert all_hints(error).startswith("sign flipped: analytic = -numeric")


def test_missing_broadcast_reduction_with_a_shape_mismatch():
    error = failure_of(lambda x, c: AddColumn.apply(x, c), (value(4, 3), value(4)))
    report = str(error)
    assert "returned a gradient of shape (4, 3) for its input 1 of shape (4,)" in report
    assert "missing broadcast reduction" in report and "g.sum(axis=1)" in report


def test_missing_broadcast_reduction_one_copy_taken():
    error = failure_of(lambda x, b: AddRowOneCopy.apply(x, b), (value(3, 4), value(4)))
    assert [f.input for f in error.failures] == ["input 1"]
    hints = all_hints(error)
    assert "missing broadcast reduction" in hints and "summing over axis 0" in hints


def test_missing_term_through_a_keepdims_reduction():
    error = failure_of(lambda x: CenterMissingTerm.apply(x), (value(2, 3),))
    assert "missing broadcast reduction term" in all_hints(error) and "axis 1" in all_hints(error)


def test_zero_gradient_from_a_backward_returning_none():
    error = failure_of(lambda x: NoGradient.apply(x), (value(2, 2),))
    hints = all_hints(error)
    assert "backward produced no gradient (None) for input 0" in hints
    assert "zero gradient: the analytic gradient is all zero" in hints


def test_zero_gradient_from_a_cut_graph():
    error = failure_of(lambda x: Value(x.data * 3), (value(2, 2),))
    assert "output 0 does not require grad" in all_hints(error)


def test_wrong_output_is_named_among_several():
    error = failure_of(lambda x: (x.exp(), HalfSquare.apply(x)), (value(3),))
    assert [f.output for f in error.failures] == ["output 1"]


def test_every_wrong_pair_is_reported():
    error = failure_of(lambda a, b: HalfSquare.apply(a) + FlippedSub.apply(a, b), (value(3), value(3)))
    assert {f.input for f in error.failures} == {"input 0", "input 1"}


def test_labels_name_inputs():
    error = failure_of(lambda w: HalfSquare.apply(w), (Value([1.0, 2.0], requires_grad=True, label="w"),))
    assert error.failures[0].input == "input 0 ('w')"


def test_raise_exception_false_returns_false():
    assert gradcheck(lambda x: HalfSquare.apply(x), (value(3),), raise_exception=False) is False


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


# ----------------------------------------------------------------------------- warnings


def test_float32_input_warns_when_the_check_passes():
    x = value(2, 3, dtype=np.float32)
    with pytest.warns(GradcheckWarning, match="input 0 is float32, not float64"):
        assert gradcheck(lambda x: x.tanh(), (x,), eps=1e-3, atol=1e-2, rtol=1e-2)


def test_float32_input_is_named_in_the_report_when_the_check_fails():
    # issue 10: a float32 input is checked on a float64 copy, so a real mistake gets its real hint (not round-off)
    report = str(failure_of(lambda x: HalfSquare.apply(x), (value(2, 3, dtype=np.float32),)))
    assert "input 0 is float32, not float64: checked on a float64 copy" in report
    assert "analytic = 0.5 (= 1/2) x numeric" in report and "probably round-off" not in report
    assert "op 'halfsquare' (backward at " in report


def test_kink_warning_when_the_check_passes_at_a_kink():
    x = Value([0.0, 1.0, -2.0], requires_grad=True)
    with pytest.warns(GradcheckWarning, match=r"element \(0,\) = 0 is at .* non-differentiable point"):
        assert gradcheck(lambda x: x.abs(), (x,))


def test_kink_explains_a_failure_exactly_at_the_kink():
    report = str(failure_of(lambda x: x.relu(), (Value([0.0, 1.0, -2.0], requires_grad=True),)))
    assert "every wrong entry is at a non-differentiable point" in report
    assert "give 1 (right) and 0 (left)" in report


def test_near_a_kink_eps_and_eps_over_10_disagree():
    x = Value([5e-7, 1.0], requires_grad=True)  # |x| with the kink within eps of x[0]
    report = str(failure_of(lambda x: x.abs(), (x,)))
    assert "element (0,) = 5e-07 is at (or within eps=1e-06 of) a non-differentiable point" in report


def test_smooth_but_curved_functions_raise_no_kink_warning():
    x = Value([0.05, 1.0, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda x: (1 / x) + x.exp(), (x,))


# ----------------------------------------------------------------------------- other failures and misuse


def test_nondeterministic_func_fails_with_a_clear_reason():
    rng = np.random.default_rng(0)
    error = failure_of(lambda x: x * Value(rng.random(x.shape)), (value(3),))
    assert "func is not deterministic" in all_hints(error)


def test_backward_that_is_not_reentrant_fails():
    error = failure_of(lambda x: Stateful.apply(x), (value(2),))
    assert "not reentrant" in str(error)


def test_a_backward_not_reentrant_at_a_kink_is_not_excused_by_the_kink():
    error = failure_of(lambda x: StatefulAtKink.apply(x), (Value([0.0, 1.0, -2.0], requires_grad=True),))
    (reentrancy,) = [f for f in error.failures if "not reentrant" in f.summary]
    assert "not deterministic (not reentrant)" in reentrancy.hints[0]
    assert not any("non-differentiable" in hint for hint in reentrancy.hints)


def test_no_input_requiring_grad_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one input Value with requires_grad=True"):
        gradcheck(lambda x: x * 2, (value(2, requires_grad=False),))


def test_func_returning_an_array_is_a_clear_error():
    with pytest.raises(TypeError, match=r"output 0 is ndarray .*\.data"):
        gradcheck(lambda x: x.data * 2, (value(2),))


# ----------------------------------------------------------------------------- second order


def test_gradgradcheck_catches_a_backward_written_in_numpy():
    assert gradcheck(lambda x: NumpySin.apply(x), (value(3),))
    error = failure_of(lambda x: NumpySin.apply(x), (value(3),), check=gradgradcheck)
    assert error.failures[0].output == "grad of input 0"
    assert "computes with NumPy" in all_hints(error)


def test_gradgradcheck_catches_a_wrong_second_derivative_and_gives_the_factor():
    x = value(3)
    assert gradcheck(lambda x: HalfDetachedCube.apply(x), (x,))
    error = failure_of(lambda x: HalfDetachedCube.apply(x), (x,), check=gradgradcheck)
    assert "analytic = 0.5 (= 1/2) x numeric" in all_hints(error)


def test_gradgradcheck_with_given_grad_outputs_checks_them_too():
    x = value(2, 3)
    go = Value(RNG.normal(size=(2, 3)), requires_grad=True)
    assert gradgradcheck(lambda x: x.tanh(), (x,), grad_outputs=(go,))
    assert gradcheck(lambda x: DetachedSeed.apply(x), (x,))
    error = failure_of(lambda x: DetachedSeed.apply(x), (x,), check=gradgradcheck, grad_outputs=(go,))
    assert [f.input for f in error.failures] == ["grad_output 0"]


def test_gradgradcheck_grad_outputs_must_match_outputs():
    with pytest.raises(ValueError, match="grad_outputs has 2 entries but func returns 1"):
        gradgradcheck(lambda x: x.tanh(), (value(2),), grad_outputs=(np.ones(2), np.ones(2)))
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(3,\) but output 0 has shape \(2,\)"):
        gradgradcheck(lambda x: x.tanh(), (value(2),), grad_outputs=(np.ones(3),))
