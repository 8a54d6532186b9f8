"""What the backward pass promises beyond the numbers of the op table: which rules run, what they are given,
what the seed gradient looks like, and how leaves are made and copied (written against mutants of the engine
that every other test let through; docs/mutation.md)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from tinygrad_lab import Function, Value, detect_anomaly, grad, no_grad, set_grad_enabled
from tinygrad_lab.autograd.grad_mode import Modes, current_modes, is_grad_enabled


def _counting_op(calls: list) -> type[Function]:
    class Tripled(Function):
        @staticmethod
        def forward(x):
            return x * 3

        @staticmethod
        def backward(g, out, x):
            calls.append("tripled")
            return (g * 3,)
    return Tripled


def test_grad_runs_no_rule_on_a_branch_that_does_not_lead_to_its_inputs():
    calls: list = []
    x, w = Value(2.0, requires_grad=True), Value(5.0, requires_grad=True)
    y = x * 2
    z = _counting_op(calls).apply(w)      # made after y: visited before y in the pass
    (gx,) = grad(y + z, x)
    assert float(gx.data) == 2.0 and calls == []
    (gw,) = grad(x * 2 + _counting_op(calls).apply(w), w)    # the branch that does lead to the input runs
    assert float(gw.data) == 3.0 and calls == ["tripled"]


def test_a_node_without_a_gradient_does_not_end_the_pass():
    class Blocked(Function):     # passes no gradient on (as a rule returning None for an input)
        @staticmethod
        def forward(u):
            return u + 1

        @staticmethod
        def backward(g, out, u):
            return (None,)

    x = Value(2.0, requires_grad=True)
    u = x * 2                     # requires grad, but receives none
    out = Blocked.apply(u) + x * 3
    out.backward()
    assert float(x.grad.data) == 3.0


def _hinted_op(seen: list) -> type[Function]:
    class Scaled(Function):
        needs_input_grad_hint = True

        @staticmethod
        def forward(x, w, *, scale):
            return x * w * scale

        @staticmethod
        def backward(g, out, x, w, *, scale, needs_input_grad=(True, True)):
            seen.append((tuple(needs_input_grad), float(np.sum(out))))
            return (g * w * scale if needs_input_grad[0] else None), g * x * scale
    return Scaled


def test_the_needs_input_grad_hint_reaches_the_rule_when_the_first_input_needs_no_gradient():
    seen: list = []
    scaled = _hinted_op(seen)
    x, w = Value([1.0, 2.0]), Value([3.0, 4.0], requires_grad=True)
    scaled.apply(x, w, scale=2.0).sum().backward()
    assert seen == [((False, True), 22.0)]            # out = [6, 16]; its own data, not None
    assert w.grad.tolist() == [2.0, 4.0]
    seen.clear()
    x.requires_grad_()
    scaled.apply(x, w, scale=2.0).sum().backward()     # both inputs need one: the ordinary call
    assert seen == [((True, True), 22.0)] and x.grad.tolist() == [6.0, 8.0]


def test_gradients_under_create_graph_are_differentiable_for_leaves_and_retained_values():
    x = Value(2.0, requires_grad=True)
    y = x * x
    y.retain_grad()
    (y * y).backward(create_graph=True)               # dz/dy = 2y = 8, dz/dx = 4x^3 = 32
    assert y.grad.requires_grad and x.grad.requires_grad
    assert float(y.grad.data) == 8.0 and float(x.grad.data) == 32.0
    assert float(grad(y.grad, x, retain_graph=True)[0].data) == 8.0      # d(2x^2)/dx = 4x
    assert float(grad(x.grad, x)[0].data) == 48.0     # d(4x^3)/dx = 12x^2


@pytest.mark.parametrize("gradient", [None, [1.0], np.array([1.0]), Value(np.array([1.0]))],
                         ids=["implicit", "list", "float64 array", "float64 Value"])
def test_the_seed_has_the_outputs_shape_and_dtype(gradient):
    x = Value(np.array([1.5], np.float32), requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append((g.shape, g.dtype)))
    y.backward(gradient)
    assert seen == [((1,), np.float32)]
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0]


def test_backward_returns_none_as_pytorchs():
    x = Value(2.0, requires_grad=True)
    assert (x * x).backward() is None


def test_grad_mode_switches_leave_anomaly_mode_alone():
    with detect_anomaly():
        with no_grad():
            assert current_modes().anomaly and not is_grad_enabled()
        with set_grad_enabled(False):
            assert current_modes().anomaly
    assert not current_modes().anomaly


def test_set_grad_enabled_applies_its_mode_again_on_entering_the_block():
    switch = set_grad_enabled(False)     # takes effect at once (a plain call)
    set_grad_enabled(True)
    assert is_grad_enabled()
    with switch:                         # as torch: __enter__ sets the mode given
        assert not is_grad_enabled()
    assert is_grad_enabled()             # restored to the mode in force before `switch` was made


def test_modes_hold_both_switches():
    assert repr(Modes(False, True)) == "Modes(grad_enabled=False, anomaly=True)"
    assert (Modes(True, False).grad_enabled, Modes(True, False).anomaly) == (True, False)


def test_value_names_itself_and_the_flag_in_a_bad_requires_grad():
    with pytest.raises(TypeError, match=r"^Value\(\): requires_grad must be True or False, got str 'yes'$"):
        Value(1.0, requires_grad="yes")


def test_complex_data_keeps_its_dtype():
    assert Value([1 + 2j]).dtype == np.complex128
    assert Value(np.array([1 + 2j]), dtype=np.complex64).dtype == np.complex64


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64, np.uint64])
def test_float_to_integer_conversion_at_the_ends_of_the_range(dtype):
    """PyTorch's rule (torch.tensor(127.9, dtype=torch.int8) raises): every number must lie in [min, max]
    before truncation, on both ends alike; inside, numbers are truncated towards zero."""
    info = np.iinfo(dtype)
    lo, hi = float(info.min), float(info.max)
    fits_exactly = hi == info.max                 # 64-bit maxima round up to a float that does not fit
    inside = [lo, hi if fits_exactly else np.nextafter(hi, 0.0), 1.9, -1.9 if info.min else 0.0]
    expected = [info.min, info.max if fits_exactly else int(np.nextafter(hi, 0.0)), 1, -1 if info.min else 0]
    assert Value(inside, dtype=dtype).tolist() == expected
    outside = [hi + 1.0 if fits_exactly else hi, lo - 1.0 if lo > -2.0 ** 60 else np.nextafter(lo, -np.inf)]
    if fits_exactly:
        outside += [hi + 0.5, lo - 0.5]           # past the end by less than one: refused, not truncated
    for x in outside:
        with pytest.raises(ValueError, match=rf"cannot convert data outside \[{info.min}, {info.max}\]"):
            Value([x], dtype=dtype)


def test_deepcopy_of_a_value_subclass_keeps_shared_references_shared():
    class Tagged(Value):      # no __slots__: instances have a __dict__
        pass

    shared = [1, 2]
    a = Tagged([1.0], requires_grad=True)
    a.meta = shared
    a_copy, shared_copy = copy.deepcopy([a, shared])
    assert type(a_copy) is Tagged and a_copy.tolist() == [1.0] and a_copy.requires_grad
    assert a_copy.meta is shared_copy and shared_copy is not shared


def test_arrays_mixed_into_an_op_take_the_values_float_dtype_only():
    f32 = Value(np.array([1.0, 2.0], np.float32))
    assert (f32 + np.array([0.5, 0.5])).dtype == np.float32                      # float64 array, float32 Value
    assert (f32 + np.float64(0.5)).dtype == np.float32 and (f32 * np.int64(2)).dtype == np.float32
    assert (Value(np.array([1, 2])) + np.array([0.5, 0.5])).tolist() == [1.5, 2.5]   # an integer Value: no cast
    assert (Value([1.0]) + np.array([1j])).tolist() == [1 + 1j]                     # complex data: no cast


def test_double_is_float64():
    assert Value(np.array([1.5], np.float32)).double().dtype == np.float64


@pytest.mark.parametrize(("grad", "error", "message"), [
    (lambda: Value([0.5]), RuntimeError, r"cannot assign a gradient of shape \(1,\) to a Value of shape \(3,\)"),
    (lambda: Value(np.zeros((2, 3))), RuntimeError, r"gradient of shape \(2, 3\) to a Value of shape \(3,\)"),
    (lambda: Value(np.zeros(3, np.float32)), RuntimeError, r"gradient of dtype float32 to a Value of dtype float64"),
    (lambda: np.zeros(3), TypeError, r"the assigned grad must be a Value or None, got ndarray"),
    (lambda: [0.0, 0.0, 0.0], TypeError, r"must be a Value or None, got list"),
])
def test_assigned_gradients_are_checked_as_torch_does(grad, error, message):
    """A (1,) gradient on a (3,) parameter broadcast silently in SGD's update, a (2, 3) one crashed half-way
    through a step (earlier parameters already updated), an array gave an AttributeError: refused at the
    assignment instead, with the gradient left as it was."""
    w = Value([1.0, 2.0, 3.0], requires_grad=True)
    (w * w).sum().backward()
    before = w.grad
    with pytest.raises(error, match=message):
        w.grad = grad()
    assert w.grad is before and w.grad.tolist() == [2.0, 4.0, 6.0]


def test_fitting_gradients_and_none_can_be_assigned():
    w = Value(np.ones((2, 2), np.float32), requires_grad=True)
    g = Value(np.full((2, 2), 3.0, np.float32))
    w.grad = g
    assert w.grad is g
    (w * 2).sum().backward()          # accumulates into the assigned gradient
    assert w.grad.tolist() == [[5.0, 5.0], [5.0, 5.0]]
    w.grad = None
    assert w.grad is None


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint16, np.int64])
def test_python_integers_take_an_integer_values_dtype(dtype):
    """As NumPy 2 and PyTorch: an int32 Value plus 2 stays int32 (it was promoted to int64); a float number
    still gives a float result, and an integer that does not fit the dtype is refused, not wrapped around."""
    v = Value(np.array([1, 2], dtype=dtype))
    for out in (v + 2, 2 + v, v * 3, v - 1, 7 - v):
        assert out.dtype == dtype
    assert (v + 2).tolist() == [3, 4] and (7 - v).tolist() == [6, 5]
    assert (v * 2.5).dtype.kind == "f" and (v * 2.5).tolist() == [2.5, 5.0]
    too_big = int(np.iinfo(dtype).max) + 1
    with pytest.raises(OverflowError, match=rf"{too_big} does not fit the Value's dtype {np.dtype(dtype)}"):
        v + too_big


def test_abs_of_a_value_is_the_abs_op():
    x = Value([-2.0, 0.0, 3.0], requires_grad=True)
    y = abs(x)
    assert y.tolist() == [2.0, 0.0, 3.0]
    y.sum().backward()
    assert x.grad.tolist() == [-1.0, 0.0, 1.0]     # sign(x), 0 at 0 (PyTorch's convention)
