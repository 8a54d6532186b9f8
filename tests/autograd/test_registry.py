"""The op registry: ops defined in the op modules (`tinygrad_lab.ops.*`) are registered in OPS, classes defined
anywhere else (user code, tests, doctests) are not.

OPS drives `tests/test_ops_grad.py`'s completeness check (every library op has a gradient row), so a user's
op must never land there, and a library op must always land there. The classes are made with `type(...)`
and a chosen `__module__`, so the rule is tested directly, whatever else was imported before.
"""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_lab
from tinygrad_lab import Value
from tinygrad_lab.autograd import OPS, Function


def _make_op(name: str, module: str) -> type[Function]:
    return type(name, (Function,), {
        "__module__": module,
        "forward": staticmethod(lambda x: 2 * x),
        "backward": staticmethod(lambda g, out, x: (2 * g,)),
    })


@pytest.fixture
def restore_ops():
    before = dict(OPS)
    yield
    OPS.clear()
    OPS.update(before)


@pytest.mark.parametrize("module", ["tinygrad_lab.ops.unary", "tinygrad_lab.ops.probe"])
def test_a_class_from_a_library_module_is_registered_under_its_name(restore_ops, module):
    op = _make_op("RegistryProbeDouble", module)
    assert op.name == "registryprobedouble"
    assert OPS.get("registryprobedouble") is op


@pytest.mark.parametrize("module", ["my_project.layers", "__main__", "tests.test_op_registry", "test_op_registry",
                                    "tinygrad_lab_extras.ops", "tinygrad_labx",
                                    "tinygrad_lab.ops", "tinygrad_lab.nn.functional"])
def test_a_class_from_anywhere_else_is_not_registered(restore_ops, module):
    op = _make_op("RegistryProbeUser", module)
    assert "registryprobeuser" not in OPS
    x = Value(np.array([1.0, -2.0]), requires_grad=True)
    op.apply(x).sum().backward()          # it still works as an op
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_registration_uses_an_explicit_name(restore_ops):
    op = type("Whatever", (Function,), {"__module__": "tinygrad_lab.ops.probe", "name": "registry_probe_named",
                                        "forward": staticmethod(lambda x: x),
                                        "backward": staticmethod(lambda g, out, x: (g,))})
    assert OPS.get("registry_probe_named") is op and "whatever" not in OPS


def test_every_library_op_is_registered():
    from tinygrad_lab import ops
    for cls in (ops.Exp, ops.MatMul, ops.Concat, ops.Maximum):
        assert OPS[cls.name] is cls


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
