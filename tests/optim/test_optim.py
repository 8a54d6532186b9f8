"""Optimizers: trajectories against the update rules written out in NumPy, parameter groups, state dicts
(resuming gives identical steps), and errors for bad hyper-parameters and parameters."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_lab
from tinygrad_lab import Value, nn, optim
from tinygrad_lab.serialization import StateFileError

A = np.array([[0.5, 1.5], [2.0, 0.3]])
C = np.array([[0.1, -0.4], [0.7, 0.2]])
P0 = np.array([[1.0, -2.0], [0.5, 3.0]])


def loss_of(p):
    """A quadratic with a known gradient: sum(A p^2 + C p) -> grad 2 A p + C."""
    return (p * p * A + p * C).sum()


def grad_of(p):
    return 2 * A * p + C


def run(opt_class, steps=6, p0=P0, **kwargs):
    p = nn.Parameter(p0)
    opt = opt_class([p], **kwargs)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(p).backward()
        opt.step()
        trajectory.append(p.data.copy())
    return trajectory


# ---------------------------------------------------------------------------- reference rules (docs' boxes)

def sgd_reference(steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    p, buf, out = P0.copy(), None, []
    for _ in range(steps):
        g = grad_of(p)
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


def adam_reference(steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   maximize=False, decoupled=False):
    b1, b2 = betas
    p, m, v, v_max, out = P0.copy(), 0.0, 0.0, 0.0, []
    for t in range(1, steps + 1):
        g = grad_of(p)
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - b2 ** t)
        else:
            v_hat = v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def rmsprop_reference(steps, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                      maximize=False):
    p, v, g_avg, buf, out = P0.copy(), 0.0, 0.0, 0.0, []
    for _ in range(steps):
        g = grad_of(p)
        g = -g if maximize else g
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg * g_avg
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v_tilde) + eps)
            p = p - lr * buf
        else:
            p = p - lr * g / (np.sqrt(v_tilde) + eps)
        out.append(p)
    return out


def assert_trajectories_close(got, expected, rtol=1e-12):
    assert len(got) == len(expected)
    for step, (a, b) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-14, err_msg=f"step {step + 1}")


# ---------------------------------------------------------------------------- SGD

def test_plain_sgd_is_exactly_p_minus_lr_g():
    p = nn.Parameter(P0)
    opt = optim.SGD([p], lr=0.1)
    data = p.data
    loss_of(p).backward()
    grad = p.grad.data.copy()
    opt.step()
    assert p.data is data                           # updated in place
    np.testing.assert_array_equal(p.data, P0 - 0.1 * grad)
    np.testing.assert_array_equal(p.grad.data, grad)   # .grad untouched
    assert p.is_leaf and p._op is None


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.05),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.5),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True),
    dict(lr=0.05, momentum=0.5, maximize=True),
])
def test_sgd_matches_the_update_rule(kwargs):
    assert_trajectories_close(run(optim.SGD, **kwargs), sgd_reference(6, **kwargs))


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 0.2), st.floats(0.0, 0.99), st.floats(0.0, 1.0), st.floats(0.0, 0.5), st.booleans())
def test_sgd_matches_the_update_rule_for_any_hyperparameters(lr, momentum, dampening, weight_decay, maximize):
    kwargs = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, maximize=maximize)
    assert_trajectories_close(run(optim.SGD, steps=4, **kwargs), sgd_reference(4, **kwargs), rtol=1e-11)


def test_sgd_on_scalar_and_float32_parameters():
    s = Value(2.0, requires_grad=True)
    opt = optim.SGD([s], lr=0.25)
    (s * s).backward()
    opt.step()
    assert s.data.item() == 1.0 and s.shape == ()
    w = nn.Parameter(np.ones(3, dtype=np.float32))
    opt = optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    assert w.dtype == np.float32 and opt.state[w]["momentum_buffer"].dtype == np.float32


# ---------------------------------------------------------------------------- Adam, AdamW, RMSprop

@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1),
    dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3),
    dict(lr=0.1, weight_decay=0.2),
    dict(lr=0.1, amsgrad=True),
    dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True),
])
def test_adam_matches_the_update_rule(kwargs):
    assert_trajectories_close(run(optim.Adam, steps=8, **kwargs), adam_reference(8, **kwargs))


def test_amsgrad_uses_the_running_max_of_v():
    # gradients that shrink make v fall; AMSGrad must keep dividing by the largest v seen
    p = nn.Parameter(np.array([1.0]))
    opt = optim.Adam([p], lr=0.1, betas=(0.0, 0.5), amsgrad=True)
    for scale in (10.0, 0.1):
        opt.zero_grad()
        (p * scale).sum().backward()
        opt.step()
    state = opt.state[p]
    assert state["max_exp_avg_sq"][0] == pytest.approx(50.0)          # 0.5 * 100, not 0.5 * 50 + 0.5 * 0.01
    assert state["exp_avg_sq"][0] == pytest.approx(25.005)


@pytest.mark.parametrize("kwargs", [dict(lr=0.1), dict(lr=0.1, weight_decay=0.3, amsgrad=True),
                                    dict(lr=0.05, maximize=True)])
def test_adamw_decouples_weight_decay(kwargs):
    expected = adam_reference(8, decoupled=True, **{"weight_decay": 1e-2, **kwargs})
    assert_trajectories_close(run(optim.AdamW, steps=8, **kwargs), expected)
    assert optim.AdamW([nn.Parameter([1.0])]).defaults["weight_decay"] == 1e-2


@pytest.mark.parametrize("kwargs", [
    dict(), dict(lr=0.05, alpha=0.9), dict(momentum=0.9), dict(centered=True),
    dict(centered=True, momentum=0.5, weight_decay=0.1), dict(maximize=True, eps=1e-2),
])
def test_rmsprop_matches_the_update_rule(kwargs):
    assert_trajectories_close(run(optim.RMSprop, steps=8, **kwargs), rmsprop_reference(8, **kwargs))


# ---------------------------------------------------------------------------- general behaviour

@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1), lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda ps: optim.Adam(ps), lambda ps: optim.AdamW(ps), lambda ps: optim.RMSprop(ps, centered=True),
])
def test_params_without_grad_are_skipped_and_grads_never_change(make):
    used, unused = nn.Parameter(P0), nn.Parameter(P0)
    opt = make([used, unused])
    loss_of(used).backward()
    grad = used.grad
    grad_data = grad.data.copy()
    opt.step()
    assert np.array_equal(unused.data, P0) and unused.grad is None
    assert used.grad is grad and np.array_equal(grad.data, grad_data)
    assert not np.array_equal(used.data, P0)
    assert used.is_leaf and not any(isinstance(v, Value) for s in opt.state.values() for v in s.values())


def test_param_groups_have_their_own_options():
    a, b = nn.Parameter([1.0]), nn.Parameter([1.0])
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["momentum"] == 0.9
    ((a * a) + (b * b)).sum().backward()
    opt.step()
    assert a.data[0] == pytest.approx(1 - 0.1 * 2) and b.data[0] == pytest.approx(1 - 0.5 * 2)
    c = nn.Parameter([3.0])
    opt.add_param_group({"params": [c], "nesterov": True, "momentum": 0.5})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["nesterov"]


def test_changing_group_lr_takes_effect_on_the_next_step():
    for make in (lambda ps: optim.SGD(ps, lr=1.0), lambda ps: optim.Adam(ps, lr=1.0)):
        p = nn.Parameter([1.0])
        opt = make([p])
        opt.param_groups[0]["lr"] = 0.0
        (p * p).sum().backward()
        opt.step()
        assert p.data[0] == 1.0


def test_zero_grad_modes():
    p = nn.Parameter([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and not grad.data.any()
    opt.zero_grad()
    assert p.grad is None


def test_step_with_closure_returns_its_loss():
    p = nn.Parameter([2.0])
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0 and p.data[0] == pytest.approx(1.6)


def test_sgd_trains_a_model_on_model_parameters():
    model = nn.Linear(3, 1, generator=0)
    x, y = np.random.default_rng(0).normal(size=(16, 3)), np.random.default_rng(1).normal(size=(16, 1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = nn.MSELoss()(model(Value(x)), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


# ---------------------------------------------------------------------------- state dicts

@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.05),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
])
def test_resuming_from_state_dicts_gives_identical_steps(make):
    def train(model, opt, steps):
        x = Value(np.linspace(-1, 1, 12).reshape(6, 2))
        y = np.linspace(0, 1, 6).reshape(6, 1)
        out = []
        for _ in range(steps):
            opt.zero_grad()
            nn.MSELoss()(model(x), y).backward()
            opt.step()
            out.append([p.data.copy() for p in model.parameters()])
        return out

    model = nn.Sequential(nn.Linear(2, 3, generator=0), nn.Tanh(), nn.Linear(3, 1, generator=1))
    opt = make(model.parameters())
    train(model, opt, 3)
    model_state, opt_state = model.state_dict(), opt.state_dict()
    uninterrupted = train(model, opt, 4)

    fresh = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    fresh.load_state_dict(model_state)
    fresh_opt = make(fresh.parameters())
    fresh_opt.load_state_dict(opt_state)
    resumed = train(fresh, fresh_opt, 4)
    for a, b in zip(uninterrupted, resumed, strict=True):
        for pa, pb in zip(a, b, strict=True):
            np.testing.assert_array_equal(pa, pb)


def test_load_state_dict_restores_hyperparameters_and_keeps_parameters():
    p = nn.Parameter([1.0])
    source = optim.Adam([p], lr=0.25, betas=(0.5, 0.6), amsgrad=True)
    target = optim.Adam([nn.Parameter([1.0])], lr=1.0)
    params = target.param_groups[0]["params"]
    target.load_state_dict(source.state_dict())
    group = target.param_groups[0]
    assert (group["lr"], group["betas"], group["amsgrad"]) == (0.25, (0.5, 0.6), True)
    assert group["params"] is params


def test_state_dict_layout_is_torch_like_and_copied():
    a, b = nn.Parameter([1.0]), nn.Parameter([2.0, 3.0])
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}])
    ((a * a).sum() + (b * b).sum()).backward()
    opt.step()
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1]["lr"] == 0.5 and state["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(state["state"]) == {0, 1}
    assert set(state["state"][1]) == {"step", "exp_avg", "exp_avg_sq"} and state["state"][1]["step"] == 1
    state["state"][1]["exp_avg"][...] = 99.0
    assert not np.any(opt.state[b]["exp_avg"] == 99.0)


def test_bad_optimizer_state_dicts_change_nothing():
    p, q = nn.Parameter([1.0, 2.0]), nn.Parameter([3.0])
    opt = optim.SGD([p, q], lr=0.1, momentum=0.9)
    (p * p).sum().backward()
    opt.step()
    good = opt.state_dict()
    other = optim.SGD([p], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(other)
    two_groups = optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="2 parameter group"):
        opt.load_state_dict(two_groups)
    bad = opt.state_dict()
    bad["state"][0]["momentum_buffer"] = np.zeros(5)
    bad["param_groups"][0]["lr"] = 0.7
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 0 has shape \(5,\)"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], good["state"][0]["momentum_buffer"])
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        opt.load_state_dict(bad)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


# ---------------------------------------------------------------------------- errors

@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.SGD(ps, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=-1), "Invalid momentum value: -1"),
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True),
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda ps: optim.Adam(ps, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda ps: optim.AdamW(ps, lr=-1), "Invalid learning rate: -1"),
    (lambda ps: optim.RMSprop(ps, alpha=-0.5), "Invalid alpha value: -0.5"),
    (lambda ps: optim.RMSprop(ps, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda ps: optim.SGD([{"params": ps, "lr": -1.0}], lr=0.1), "Invalid learning rate: -1.0"),
])
def test_invalid_hyperparameters_raise_value_error_naming_them(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make([nn.Parameter([1.0])])


@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.SGD(ps, lr="0.1"), "learning rate must be a real number, got str '0.1'"),
    (lambda ps: optim.SGD(ps, lr=None), "learning rate must be a real number, got NoneType None"),
    (lambda ps: optim.SGD(ps, lr=True), "learning rate must be a real number, got bool True"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum="0.9"), "momentum value must be a real number, got str '0.9'"),
    (lambda ps: optim.SGD(ps, lr=0.1, dampening=[0]), "dampening value must be a real number, got list [0]"),
    (lambda ps: optim.Adam(ps, lr="0.1"), "learning rate must be a real number, got str '0.1'"),
    (lambda ps: optim.Adam(ps, betas=("0.9", 0.999)), "beta parameter at index 0 must be a real number, got str"),
    (lambda ps: optim.Adam(ps, eps="tiny"), "epsilon value must be a real number, got str 'tiny'"),
    (lambda ps: optim.AdamW(ps, weight_decay="0"), "weight_decay value must be a real number, got str '0'"),
    (lambda ps: optim.RMSprop(ps, lr="0.1"), "learning rate must be a real number, got str '0.1'"),
    (lambda ps: optim.RMSprop(ps, alpha=None), "alpha value must be a real number, got NoneType None"),
    (lambda ps: optim.SGD([{"params": ps, "lr": "1"}], lr=0.1), "learning rate must be a real number, got str '1'"),
])
def test_hyperparameters_of_the_wrong_type_raise_type_error_naming_the_type(make, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        make([nn.Parameter([1.0])])


def test_invalid_parameters():
    p = nn.Parameter([1.0])
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Values or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Values.*ndarray"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)


def test_repr_lists_groups():
    text = repr(optim.SGD([nn.Parameter([1.0])], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1" in text and text.endswith(")")


def test_an_optimizer_never_changes_requires_grad():
    w = Value(2.0)   # not requiring grad: PyTorch's optimizers leave it so
    opt = optim.SGD([w], lr=0.5)
    assert not w.requires_grad
    opt.step()
    assert w.data == 2.0
    v = Value(2.0, requires_grad=True)
    opt = optim.SGD([v], lr=0.5)
    (v * v).backward()
    opt.step()
    assert v.requires_grad and v.data == pytest.approx(2.0 - 0.5 * 4.0)
    with pytest.raises(TypeError, match="floating-point"):
        optim.SGD([Value(np.array([1, 2]))], lr=0.1)


FROZEN_OPTIMIZERS = {
    "sgd_momentum_decay": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    "adam": lambda ps: optim.Adam(ps, lr=0.05, weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.05),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
}


@pytest.mark.parametrize("name", FROZEN_OPTIMIZERS)
def test_frozen_parameters_stay_bit_identical(name):
    tinygrad_lab.manual_seed(5)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    model[0].requires_grad_(False)
    frozen = [p.data.copy() for p in model[0].parameters()]
    trained = [p.data.copy() for p in model[2].parameters()]
    opt = FROZEN_OPTIMIZERS[name](model.parameters())
    x = Value(np.linspace(-1, 1, 10).reshape(5, 2))
    for _ in range(20):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    for p, before in zip(model[0].parameters(), frozen, strict=True):
        assert not p.requires_grad and p.grad is None
        np.testing.assert_array_equal(p.data, before)
        assert p not in opt.state or not opt.state[p]
    assert all(not np.array_equal(p.data, before) for p, before in zip(model[2].parameters(), trained, strict=True))


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.05),
    lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
])
def test_optimizer_state_file_resumes_exactly(tmp_path, make):
    def train(model, opt, steps):
        x = Value(np.linspace(-1, 1, 12).reshape(6, 2))
        for _ in range(steps):
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            opt.step()

    tinygrad_lab.manual_seed(3)
    model = nn.Linear(2, 3)
    opt = make(model.parameters())
    train(model, opt, 3)
    model.save(tmp_path / "model.npz")
    opt.save(tmp_path / "opt.npz")
    train(model, opt, 2)

    resumed = nn.Linear(2, 3)
    resumed.load(tmp_path / "model.npz")
    resumed_opt = make(resumed.parameters())
    resumed_opt.load(tmp_path / "opt.npz")
    train(resumed, resumed_opt, 2)
    for a, b in zip(model.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_loading_a_model_file_as_optimizer_state_is_refused(tmp_path):
    model = nn.Linear(2, 1)
    model.save(tmp_path / "model.npz")
    with pytest.raises(ValueError, match="not an optimizer state file"):
        optim.SGD(model.parameters(), lr=0.1).load(tmp_path / "model.npz")


# ---------------------------------------------------------------------------- refused loads change nothing

def _trained(make):
    tinygrad_lab.manual_seed(4)
    model = nn.Linear(2, 2)
    opt = make(model.parameters())
    x = Value(np.linspace(-1, 1, 8).reshape(4, 2))
    for _ in range(2):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    return model, opt


def _snapshot(opt):
    groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    state = {id(p): {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in s.items()}
             for p, s in opt.state.items()}
    return groups, state


def _assert_unchanged(opt, snapshot):
    groups, state = _snapshot(opt)
    assert groups == snapshot[0]
    assert state.keys() == snapshot[1].keys()
    for key, entries in state.items():
        assert entries.keys() == snapshot[1][key].keys()
        for name, value in entries.items():
            np.testing.assert_array_equal(value, snapshot[1][key][name])


MAKERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9),
    "Adam": lambda ps: optim.Adam(ps, lr=0.01),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.01),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5),
}


@pytest.mark.parametrize("saver, loader", [(a, b) for a in MAKERS for b in MAKERS if a != b])
def test_a_state_file_of_another_optimizer_type_is_refused(tmp_path, saver, loader):
    _, source = _trained(MAKERS[saver])
    source.save(tmp_path / "opt.npz")
    _, target = _trained(MAKERS[loader])
    before = _snapshot(target)
    with pytest.raises(StateFileError, match=f"saved by {saver}; it cannot be loaded into {loader}"):
        target.load(tmp_path / "opt.npz")
    _assert_unchanged(target, before)


@pytest.mark.parametrize("saver, loader", [("SGD", "Adam"), ("Adam", "SGD"), ("RMSprop", "SGD"),
                                           ("SGD", "RMSprop"), ("Adam", "RMSprop")])
def test_a_state_dict_of_another_optimizer_type_is_refused(saver, loader):
    _, source = _trained(MAKERS[saver])
    _, target = _trained(MAKERS[loader])
    before = _snapshot(target)
    with pytest.raises(ValueError, match="another optimizer type"):
        target.load_state_dict(source.state_dict())
    _assert_unchanged(target, before)


def _edit_header(path, edit):
    arrays = dict(np.load(path, allow_pickle=False))
    header = json.loads(str(arrays["optimizer.json"]))
    result = edit(header, arrays)
    if result is not None:
        arrays["optimizer.json"] = np.array(result)
    else:
        arrays["optimizer.json"] = np.array(json.dumps(header))
    np.savez(path, **arrays)


def _drop_group_key(header, arrays):
    del header["param_groups"][0]["betas"]


def _drop_state_entry(header, arrays):
    del arrays["state/0/exp_avg"]


def _bad_shape(header, arrays):
    arrays["state/1/exp_avg_sq"] = np.zeros(7)


def _extra_group(header, arrays):
    header["param_groups"].append(dict(header["param_groups"][0], params=[5]))


def _bad_step(header, arrays):
    header["state"]["0"]["step"] = "three"


def _bad_index(header, arrays):
    header["state"]["zero"] = header["state"].pop("0")


def _no_groups(header, arrays):
    del header["param_groups"]


def _bad_entry_name(header, arrays):
    arrays["exp_avg"] = arrays.pop("state/0/exp_avg")


def _entry_name_with_a_slash(header, arrays):
    arrays["state/0/exp_avg/copy"] = arrays.pop("state/0/exp_avg")


def _entry_not_under_state(header, arrays):
    arrays["states/0/exp_avg"] = arrays.pop("state/0/exp_avg")


def _entry_without_a_name(header, arrays):
    arrays["state/0/"] = arrays.pop("state/0/exp_avg")


def _entry_without_an_index(header, arrays):
    arrays["state/exp_avg"] = arrays.pop("state/0/exp_avg")


def _bad_beta(header, arrays):
    header["param_groups"][0]["betas"] = [0.9]


def _repeated_index(header, arrays):
    header["param_groups"][0]["params"] = [0, 0]


def _string_flag(header, arrays):
    header["param_groups"][0]["amsgrad"] = "false"


def _groups_not_dicts(header, arrays):
    header["param_groups"] = [1]


@pytest.mark.parametrize("edit, message", [
    (_drop_group_key, "parameter group 0 has no 'betas'"),
    (_drop_state_entry, "state of parameter 0 lacks 'exp_avg'"),
    (_bad_shape, r"'exp_avg_sq' of parameter 1 has shape \(7,\)"),
    (_extra_group, "2 parameter group"),
    (_bad_step, "'step' of parameter 0 must be a count"),
    (_bad_index, "parameter index 'zero' is not a non-negative integer"),
    (_no_groups, "'param_groups' \\(a list\\)"),
    (_bad_entry_name, "entry 'exp_avg' is not a state entry"),
    # an entry is state/<index>/<name>; the name is everything after the second slash
    (_entry_name_with_a_slash, "state of parameter 0 has 'exp_avg/copy', which Adam does not keep"),
    (_entry_not_under_state, "entry 'states/0/exp_avg' is not a state entry"),
    (_entry_without_a_name, "entry 'state/0/' is not a state entry"),
    (_entry_without_an_index, "entry 'state/exp_avg' is not a state entry"),
    (_bad_beta, "Invalid betas"),
    (_groups_not_dicts, "must be a list of dicts"),
    (_repeated_index, "must be distinct integer indices"),
    (_string_flag, "'amsgrad' must be True or False, got 'false'"),
    (lambda header, arrays: "{not json", "not valid JSON"),
    (lambda header, arrays: "[1, 2]", "must be a JSON object"),
])
def test_a_damaged_optimizer_state_file_gives_a_clear_error_and_changes_nothing(tmp_path, edit, message):
    _, source = _trained(MAKERS["Adam"])
    path = tmp_path / "adam.npz"
    source.save(path)
    _edit_header(path, edit)
    _, target = _trained(MAKERS["Adam"])
    target.param_groups[0]["lr"] = 0.123
    before = _snapshot(target)
    with pytest.raises(StateFileError, match=message) as caught:
        target.load(path)
    assert str(caught.value).startswith(str(path))      # the message names the file
    _assert_unchanged(target, before)


def test_an_optimizer_state_file_without_a_type_still_loads(tmp_path):
    """Files written before the type was recorded load when their keys fit."""
    _, source = _trained(MAKERS["Adam"])
    path = tmp_path / "adam.npz"
    source.save(path)
    _edit_header(path, lambda header, arrays: header.pop("optimizer") and None)
    _, target = _trained(MAKERS["Adam"])
    target.load(path)
    assert target.param_groups[0]["betas"] == (0.9, 0.999)
    assert [s["step"] for s in target.state.values()] == [s["step"] for s in source.state.values()]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-2, 2) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4)


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@settings(max_examples=60, deadline=None)
@given(where=st.sampled_from(["group", "state", "top"]), key_index=st.integers(0, 20),
       value=JSON_VALUES, delete=st.booleans())
def test_any_edit_of_an_optimizer_header_loads_or_is_refused_cleanly(kind, where, key_index, value, delete):
    import tempfile

    model, source = _trained(MAKERS[kind])
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/opt.npz"
        source.save(path)

        def edit(header, arrays):
            target = {"group": header["param_groups"][0], "state": header["state"].get("0", {}),
                      "top": header}[where]
            keys = sorted(target) or ["step"]
            key = keys[key_index % len(keys)]
            if delete:
                target.pop(key, None)
            else:
                target[key] = value

        _edit_header(path, edit)
        _, opt = _trained(MAKERS[kind])
        before = _snapshot(opt)
        try:
            opt.load(path)
        except StateFileError:
            _assert_unchanged(opt, before)
            return
    # a load that succeeds leaves an optimizer that steps
    params = opt.param_groups[0]["params"]
    loss = sum(((p * p).sum() for p in params), Value(0.0))
    opt.zero_grad()
    loss.backward()
    with np.errstate(all="ignore"):
        opt.step()
