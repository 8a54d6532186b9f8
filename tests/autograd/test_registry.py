"""The op registry: the library's ops only (tinygrad_lab.ops modules), unique names, no stack inspection."""
from __future__ import annotations

import pytest

import tinygrad_lab
from tinygrad_lab import Function, Value
from tinygrad_lab.autograd import OPS


def test_ops_defined_outside_the_library_are_not_registered():
    class Twice(Function):
        @staticmethod
        def forward(x):
            return 2 * x

        @staticmethod
        def backward(g, out, x):
            return (2 * g,)

    x = Value(1.5, requires_grad=True)
    Twice.apply(x).backward()
    assert float(x.grad.data) == 2.0
    assert Twice.name == "twice"
    assert "twice" not in OPS


def test_library_ops_are_registered_by_module():
    assert OPS["add"] is tinygrad_lab.ops.Add
    assert OPS["permute"] is tinygrad_lab.ops.Permute
    assert OPS["pow"] is tinygrad_lab.ops.Pow
    assert OPS["pow_value_exponent"] is tinygrad_lab.ops.PowValueExponent
    assert OPS["mse_loss"] is tinygrad_lab.ops.MSELoss
    assert all(op.__module__.startswith("tinygrad_lab.ops.") for op in OPS.values())
    assert not any(op.__name__.endswith("Op") for op in OPS.values())


def test_two_library_ops_with_one_name_are_refused():
    before = dict(OPS)
    with pytest.raises(ValueError, match="two ops are named 'add'"):
        type("Plus", (Function,), {"__module__": "tinygrad_lab.ops.extra", "name": "add"})
    assert OPS == before
