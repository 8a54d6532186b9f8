"""check_grads (full and projection, orders 1 and 2), gradcheck_module and assert_grad_close."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lab import Function, Value, nn
from tinygrad_lab.testing import (
    GradcheckError,
    GradcheckWarning,
    assert_grad_close,
    check_grads,
    gradcheck,
    gradcheck_module,
    gradgradcheck,
)

from .faulty_ops import HalfSquare
from .test_gradcheck import FlippedSub, HalfDetachedCube, NoGradient

RNG: np.random.Generator  # a fresh seeded generator for each test: see _per_test_rng
@pytest.fixture(autouse=True)
def _per_test_rng(request):
    """Each test draws its random data from its own generator, seeded from the test's id (the `rng` fixture of
    tinygrad_lab's pytest plugin), so its data do not depend on which tests ran before it."""
    global RNG
    RNG = request.getfixturevalue("rng")



def value(*shape: int) -> Value:
    return Value(RNG.normal(size=shape), requires_grad=True)


def projection_failure(func, inputs, **options) -> str:
    with pytest.raises(GradcheckError) as info:
        check_grads(func, inputs, method="projection", **options)
    return str(info.value)


# ----------------------------------------------------------------------------- projection


def test_projection_is_cheap_on_large_inputs_and_passes_both_orders():
    x, w = value(400, 300), Value(RNG.normal(size=(300, 20)) / 20, requires_grad=True)
    calls = []

    def layer(x, w):
        calls.append(1)
        return (x @ w).tanh() * 2

    assert check_grads(layer, (x, w), order=2, method="projection", seed=0)
    assert len(calls) < 60  # a full check would need 2 * (120_000 + 6_000) forward calls


def test_projection_localizes_a_constant_factor_to_its_input():
    report = projection_failure(lambda a, b: HalfSquare.apply(a) * b, (value(20, 30), value(30)), seed=1)
    rows = {
        line.split()[0] + " " + line.split()[1]: line.split()[-1]
        for line in report.splitlines()
        if line.strip().startswith("input ") and line.split()[-1] in ("ok", "WRONG")
    }
    assert rows == {"input 0": "WRONG", "input 1": "ok"}
    assert "input 0: analytic = 0.5 x numeric along this direction" in report
    assert "op 'halfsquare'" in report


def test_projection_sign_flip_and_zero_gradient_hints():
    assert "sign flipped for input 1" in projection_failure(
        lambda a, b: FlippedSub.apply(a, b), (value(50), value(50)), seed=2
    )
    assert "zero gradient for input 0" in projection_failure(
        lambda x: NoGradient.apply(x), (value(50),), seed=3
    )


def test_projection_second_order_catches_what_first_order_cannot():
    x = value(40)
    assert check_grads(lambda x: HalfDetachedCube.apply(x), (x,), order=1, method="projection", seed=4)
    report = projection_failure(lambda x: HalfDetachedCube.apply(x), (x,), order=2, seed=4)
    assert "order 2" in report and "second derivative" in report


def test_full_second_order_catches_it_too():
    x = value(4)
    assert check_grads(lambda x: HalfDetachedCube.apply(x), (x,), order=1)
    with pytest.raises(GradcheckError, match="gradgradcheck failed"):
        check_grads(lambda x: HalfDetachedCube.apply(x), (x,), order=2)


def test_projection_with_several_outputs_and_constant_inputs():
    a, b = value(6, 5), value(5)
    assert check_grads(
        lambda a, b, k: ((a * b).sum(axis=1) * k, a.exp()), (a, b, 3.0), method="projection", order=2, seed=5
    )


def test_projection_reports_are_reproducible_with_a_seed():
    inputs = (value(10, 10),)
    first = projection_failure(lambda x: HalfSquare.apply(x), inputs, seed=7)
    second = projection_failure(lambda x: HalfSquare.apply(x), inputs, seed=7)
    assert first == second


def test_projection_warns_at_a_kink():
    x = Value(np.array([0.0, 1.0, -1.0, 0.0]), requires_grad=True)
    with pytest.warns(GradcheckWarning, match="non-differentiable point"):
        check_grads(lambda x: x.abs() + x, (x,), method="projection", seed=0)


def test_projection_raise_exception_false():
    assert (
        check_grads(
            lambda x: HalfSquare.apply(x), (value(5),), method="projection", seed=0, raise_exception=False
        )
        is False
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="order must be 1 or 2, got 3"):
        check_grads(lambda x: x, (value(2),), order=3)
    with pytest.raises(ValueError, match="method must be 'full' or 'projection', got 'fast'"):
        check_grads(lambda x: x, (value(2),), method="fast")
    with pytest.raises(ValueError, match=r"no floating-point output .*got dtypes \['bool'\]"):
        check_grads(lambda x: x > 0, (value(2),), method="projection")


# ----------------------------------------------------------------------------- modules


class HalfWeightGradient(Function):
    """x @ w.T with the weight gradient halved (a user's fused layer with a bug)."""

    @staticmethod
    def forward(x, w):
        return x @ w.T

    @staticmethod
    def backward(g, out, x, w):
        return (g @ w, 0.5 * (g.T @ x))


class WrongInputGradient(Function):
    """x @ w.T with the input gradient's sign flipped."""

    @staticmethod
    def forward(x, w):
        return x @ w.T

    @staticmethod
    def backward(g, out, x, w):
        return (-(g @ w), g.T @ x)


class CustomLinear(nn.Module):
    def __init__(self, n_in: int, n_out: int, op: type[Function] = HalfWeightGradient) -> None:
        super().__init__()
        self.op = op
        self.weight = nn.Parameter(RNG.normal(size=(n_out, n_in)).astype(np.float32))
        self.register_buffer("calls", np.zeros(1))

    def forward(self, x):
        self.calls += 1  # a buffer the forward changes in place, like running statistics
        return self.op.apply(x, self.weight)


def snapshot(module: nn.Module) -> list:
    return [
        (name, p, p.data, p.data.copy(), p.dtype, p.requires_grad, p.grad)
        for name, p in module.named_parameters()
    ]


def assert_unchanged(module: nn.Module, before: list) -> None:
    for (name, p, data, copy, dtype, requires_grad, grad), (name2, p2) in zip(
        before, module.named_parameters(), strict=True
    ):
        assert name == name2 and p is p2 and p.data is data and p.dtype == dtype
        assert np.array_equal(p.data, copy) and p.requires_grad == requires_grad and p.grad is grad


def test_module_failure_names_the_parameter():
    net = nn.Sequential(nn.Linear(3, 4), CustomLinear(4, 2))
    with pytest.raises(GradcheckError) as info:
        gradcheck_module(net, RNG.normal(size=(5, 3)))
    failures = info.value.failures
    assert [(f.output, f.input) for f in failures] == [("loss", "parameter '1.weight'")]
    assert "analytic = 0.5 (= 1/2) x numeric" in str(info.value)


def test_module_is_restored_exactly_and_float32_is_checked_in_float64():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), CustomLinear(4, 2, op=HalfWeightGradient))
    net[0].weight.data = net[0].weight.data.astype(np.float32)
    before = snapshot(net)
    calls = net[2].calls
    assert gradcheck_module(net, RNG.normal(size=(2, 3)), raise_exception=False) is False
    assert_unchanged(net, before)
    assert net[2].calls is calls and calls[0] == 0
    assert net[0].weight.dtype == np.float32


def test_correct_module_passes_and_float_inputs_are_checked():
    net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))
    before = snapshot(net)
    assert gradcheck_module(net, RNG.normal(size=(4, 3)).astype(np.float32))
    assert_unchanged(net, before)
    with pytest.raises(GradcheckError) as info:
        gradcheck_module(CustomLinear(3, 2, op=WrongInputGradient), RNG.normal(size=(4, 3)))
    assert [f.input for f in info.value.failures] == ["input 0"]
    assert "sign flipped" in str(info.value)
    assert gradcheck_module(
        CustomLinear(3, 2, op=WrongInputGradient), RNG.normal(size=(4, 3)), check_inputs=False
    )


def test_check_inputs_false_treats_input_values_as_constants():
    x = Value(RNG.normal(size=(4, 3)).astype(np.float32), requires_grad=True)
    assert gradcheck_module(CustomLinear(3, 2, op=WrongInputGradient), x, check_inputs=False)
    assert x.requires_grad and x.dtype == np.float32 and x.grad is None
    with pytest.raises(GradcheckError, match="sign flipped"):
        gradcheck_module(CustomLinear(3, 2, op=WrongInputGradient), x)


def test_module_with_a_custom_loss_and_integer_targets():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))
    labels = np.array([0, 2, 1])

    def cross_entropy(out):
        return -(out.log_softmax(axis=1)[np.arange(3), labels]).mean()

    assert gradcheck_module(net, RNG.normal(size=(3, 3)), loss_fn=cross_entropy)


def test_module_is_restored_when_the_check_raises():
    net = nn.Sequential(nn.Linear(2, 2))
    before = snapshot(net)

    def broken_loss(out):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        gradcheck_module(net, np.ones((1, 2)), loss_fn=broken_loss)
    assert_unchanged(net, before)


def test_dropout_in_training_mode_is_reported_as_nondeterministic():
    net = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    with pytest.raises(GradcheckError, match="not deterministic"):
        gradcheck_module(net, RNG.normal(size=(4, 3)))
    assert net.training
    assert gradcheck_module(net.eval(), RNG.normal(size=(4, 3)))


def test_gradcheck_module_needs_a_module():
    with pytest.raises(TypeError, match="must be an nn.Module"):
        gradcheck_module(lambda x: x, np.ones(2))


# ----------------------------------------------------------------------------- assert_grad_close


def test_assert_grad_close_passes_silently_and_fails_with_the_report():
    assert assert_grad_close(lambda x: x.tanh(), (value(3),)) is None
    with pytest.raises(AssertionError) as info:
        assert_grad_close(lambda x: HalfSquare.apply(x), (value(3),))
    assert "gradcheck failed" in str(info.value) and "analytic = 0.5" in str(info.value)
    with pytest.raises(AssertionError, match="check_grads\\(method='projection'\\), order 2 failed"):
        assert_grad_close(
            lambda x: HalfDetachedCube.apply(x), (value(30),), order=2, method="projection", seed=0
        )


def test_assert_grad_close_checks_modules():
    with pytest.raises(AssertionError, match="parameter 'weight'"):
        assert_grad_close(CustomLinear(3, 2), RNG.normal(size=(2, 3)))


class CubeLayer(nn.Module):
    """(x * weight)**3 through HalfDetachedCube: right first derivatives, wrong second ones."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(RNG.normal(size=3))

    def forward(self, x):
        return HalfDetachedCube.apply(x * self.weight)


def test_modules_are_checked_at_second_order_and_by_projection():
    layer, x = CubeLayer(), RNG.normal(size=(2, 3))
    assert_grad_close(layer, x)
    assert_grad_close(layer, x, method="projection", seed=0)
    with pytest.raises(AssertionError, match=r"gradcheck_module\(CubeLayer\), order 2 failed") as info:
        assert_grad_close(layer, x, order=2)
    assert "grad of parameter 'weight'" in str(info.value)
    with pytest.raises(AssertionError, match="second derivative"):
        assert_grad_close(layer, x, order=2, method="projection", seed=0)
    with pytest.raises(AssertionError, match="parameter 'weight'.* WRONG"):
        assert_grad_close(CustomLinear(3, 2), x, method="projection", seed=0)
    with pytest.raises(ValueError, match="order must be 1 or 2, got 3"):
        gradcheck_module(layer, x, order=3)


# ----------------------------------------------------------------------------- where warnings point


class AbsLayer(nn.Module):
    """|x * weight|: at x = 0 a kink, so checks pass with a warning."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(np.array([1.5, -0.5]))

    def forward(self, x):
        return (x * self.weight).abs()


def float32(*shape: int) -> Value:
    return Value(RNG.normal(size=shape).astype(np.float32), requires_grad=True)


LOOSE = {"eps": 1e-3, "atol": 1e-2, "rtol": 1e-2}
AT_KINK = np.array([[0.0, 1.0]])


@pytest.mark.parametrize(
    "check",
    [
        lambda: gradcheck(lambda x: x.tanh(), (float32(3),), **LOOSE),
        lambda: gradgradcheck(lambda x: x.tanh(), (float32(3),), **LOOSE),
        lambda: check_grads(lambda x: x.tanh(), (float32(3),), **LOOSE),
        lambda: check_grads(lambda x: x.tanh(), (float32(3),), order=2, **LOOSE),
        lambda: check_grads(lambda x: x.abs(), (Value(AT_KINK, requires_grad=True),), method="projection", seed=0),
        lambda: gradcheck_module(AbsLayer(), AT_KINK),
        lambda: assert_grad_close(lambda x: x.tanh(), (float32(3),), **LOOSE),
        lambda: assert_grad_close(AbsLayer(), AT_KINK),
        lambda: assert_grad_close(AbsLayer(), AT_KINK, method="projection", seed=0),
    ],
)
def test_warnings_point_at_the_callers_line(check):
    with pytest.warns(GradcheckWarning) as record:
        check()
    assert {(w.filename, w.category) for w in record} == {(__file__, GradcheckWarning)}
