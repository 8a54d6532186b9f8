"""Hooks: Value.register_hook (order, replacement, removal, leaves, retain_grad, grad(), create_graph) and
Module forward (pre-)hooks (order, replacing inputs/outputs, prepend, with_kwargs, always_call, removal);
compared with PyTorch's behaviour where it has the same thing (skips those parts without torch)."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_lab as tg
from tinygrad_lab import Value, nn


def test_value_hooks_run_in_order_and_chain_replacements():
    calls = []
    x = Value([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: calls.append(("first", g.tolist())) or g + 1)
    y.register_hook(lambda g: calls.append(("second", g.tolist())))
    y.sum().backward()
    assert calls == [("first", [1.0, 1.0]), ("second", [2.0, 2.0])]
    assert x.grad.tolist() == [4.0, 4.0]


def test_hook_sees_the_fully_summed_gradient_once():
    seen = []
    x = Value([1.0], requires_grad=True)
    y = x * 1
    y.register_hook(lambda g: seen.append(g.item()))
    (y * 2 + y * 3).sum().backward()
    assert seen == [5.0]


def test_leaf_hook_runs_before_accumulation_and_retain_grad_sees_the_replacement():
    x = Value([1.0], requires_grad=True)
    x.register_hook(lambda g: g * 0)
    (x * 5).sum().backward()
    assert x.grad.tolist() == [0.0]
    z = Value([1.0], requires_grad=True)
    y = z * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 7)
    y.sum().backward()
    assert y.grad.tolist() == [7.0] and z.grad.tolist() == [14.0]


def test_remove_and_context_manager():
    x = Value([1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    handle.remove()
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0]
    with x.register_hook(lambda g: g * 3):
        x.grad = None
        (x * 1).sum().backward()
        assert x.grad.tolist() == [3.0]
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0]


def test_hooks_apply_in_grad_and_under_create_graph():
    x = Value(2.0, requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (gx,) = tg.grad(x ** 3, x, create_graph=True)     # 3 x^2 * 10 = 120
    assert gx.item() == 120.0
    y = Value(2.0, requires_grad=True)
    z = y ** 3
    z.register_hook(lambda g: g * y)                    # a Value-dependent replacement is differentiated too
    (gy,) = tg.grad(z, y, create_graph=True)            # 3 y^2 * y = 24
    (ggy,) = tg.grad(gy, y)                             # 9 y^2 = 36
    assert gy.item() == 24.0 and ggy.item() == 36.0


def test_hook_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Value([1.0]).register_hook(lambda g: g)
    x = Value([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="not its shape"):
        y.sum().backward()


def test_hooks_are_forgotten_with_their_value():
    from tinygrad_lab.autograd.hooks import VALUE_HOOKS as _VALUE_HOOKS
    before = len(_VALUE_HOOKS)
    x = Value([1.0], requires_grad=True)
    x.register_hook(lambda g: g)
    assert len(_VALUE_HOOKS) == before + 1
    del x
    assert len(_VALUE_HOOKS) == before


def test_module_hook_order_and_replacement():
    calls = []
    layer = nn.Linear(1, 1, bias=False)
    layer.weight.data[:] = 2.0
    layer.register_forward_pre_hook(lambda m, args: calls.append("pre1") or (args[0] + 1,))
    layer.register_forward_pre_hook(lambda m, args: calls.append(("pre2", args[0].item())))
    layer.register_forward_pre_hook(lambda m, args: calls.append("pre0"), prepend=True)
    layer.register_forward_hook(lambda m, args, out: calls.append(("post1", out.item())) or out * 10)
    h = layer.register_forward_hook(lambda m, args, out: calls.append(("post2", out.item())))
    out = layer(Value([[1.0]]))
    assert calls == ["pre0", "pre1", ("pre2", 2.0), ("post1", 4.0), ("post2", 40.0)]
    assert out.item() == 40.0
    h.remove()
    calls.clear()
    layer(Value([[1.0]]))
    assert [c if isinstance(c, str) else c[0] for c in calls] == ["pre0", "pre1", "pre2", "post1"]


def test_module_hooks_with_kwargs_and_always_call():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            if factor < 0:
                raise ValueError("negative")
            return x * factor

    seen = []
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {**kwargs, "factor": 3.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs["factor"]), with_kwargs=True)
    assert m(Value([1.0]), factor=2.0).tolist() == [3.0] and seen == [3.0]
    failing = Scale()
    failing.register_forward_hook(lambda mod, args, out: seen.append(("always", out)), always_call=True)
    with pytest.raises(ValueError, match="negative"):
        failing(Value([1.0]), factor=-1.0)
    assert seen[-1] == ("always", None)


def test_removing_every_hook_restores_the_plain_call():
    layer = nn.ReLU()
    handles = [layer.register_forward_hook(lambda m, a, o: o * 2), layer.register_forward_pre_hook(lambda m, a: a)]
    assert layer._hooks_active
    for h in handles:
        h.remove()
    assert not layer._hooks_active and layer(Value([1.0])).tolist() == [1.0]


def test_hooks_inside_sequential_see_each_layer():
    names = []
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    for name, module in model.named_children():
        module.register_forward_hook(lambda m, a, o, name=name: names.append((name, o.shape)))
    model(Value(np.ones((4, 2))))
    assert names == [("0", (4, 3)), ("1", (4, 3)), ("2", (4, 1))]


try:
    import torch
except ImportError:   # the PyTorch comparisons below skip; everything above runs without torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="comparing with PyTorch needs torch (pip install torch)")


@needs_torch
def test_value_hooks_match_torch():
    def run(make, hooked):
        log = []
        x = make([1.0, -2.0])
        y = x * x
        z = y * 3
        y.register_hook(lambda g: log.append(("y1", g.tolist())) or g * 2)
        y.register_hook(lambda g: log.append(("y2", g.tolist())))
        x.register_hook(lambda g: log.append(("x", g.tolist())))
        (z.sum() + y.sum()).backward()
        return log, x.grad.tolist()

    ours = run(lambda d: Value(d, requires_grad=True), True)
    theirs = run(lambda d: torch.tensor(d, requires_grad=True, dtype=torch.float64), True)
    assert ours == theirs


@needs_torch
def test_module_hooks_match_torch():
    def run(linear):
        log = []
        linear.register_forward_pre_hook(lambda m, a: log.append("pre") or (a[0] * 2,))
        linear.register_forward_hook(lambda m, a, o: log.append("post") or o + 1)
        return log
    ours, theirs = nn.Linear(2, 1), torch.nn.Linear(2, 1).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    log_a, log_b = run(ours), run(theirs)
    x = np.array([[1.0, 2.0]])
    np.testing.assert_allclose(ours(Value(x)).data, theirs(torch.tensor(x)).detach().numpy())
    assert log_a == log_b == ["pre", "post"]
