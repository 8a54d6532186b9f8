"""Optimizers against their update rules written out in NumPy, on the paths the other tests leave out:
RMSprop centered and with momentum, Adam with amsgrad, beta1 >= 0.5 and weight_decay = 1, SGD with
momentum 1 and maximize, closures, state keys, and state dicts that are partial, foreign or malformed.

The references below are PyTorch's documented algorithms, written as plainly as possible (one line per
formula, float64), independent of the implementation's in-place order; trajectories agree to 1e-12.
A mutation run found each of these paths unchecked without PyTorch (docs/mutation.md).
"""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lab import Value, nn, no_grad, optim

P0 = np.array([[0.5, -1.5], [2.0, 0.25]])


def grad_at(p, i):
    """The gradient of a fixed, step-dependent quadratic: 2 A p + sin(i)."""
    return 2 * np.array([[1.0, 0.5], [2.0, 1.5]]) * p + np.sin(i + 1.0)


def run_ours(make, steps=6, p0=P0):
    p = nn.Parameter(p0.copy())
    opt = make([p])
    out = []
    for i in range(steps):
        p.grad = Value(grad_at(p.data, i))
        opt.step()
        out.append(p.data.copy())
    return np.array(out), opt, p


def rmsprop_ref(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False,
                steps=6):
    p, v, a, b, out = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), np.zeros_like(P0), []
    for i in range(steps):
        g = grad_at(p, i)
        g = -g if maximize else g
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g ** 2
        if centered:
            a = alpha * a + (1 - alpha) * g
            denom = np.sqrt(v - a ** 2) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / denom
            p = p - lr * b
        else:
            p = p - lr * g / denom
        out.append(p)
    return np.array(out)


def adam_ref(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False, maximize=False,
             steps=6):
    b1, b2 = betas
    p, m, v, vmax, out = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), np.zeros_like(P0), []
    for t in range(1, steps + 1):
        g = grad_at(p, t - 1)
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        vmax = np.maximum(vmax, v)
        vhat = (vmax if amsgrad else v) / (1 - b2 ** t)
        p = p - lr / (1 - b1 ** t) * m / (np.sqrt(vhat) + eps)
        out.append(p)
    return np.array(out)


def sgd_ref(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False, steps=6):
    p, b, out = P0.copy(), None, []
    for i in range(steps):
        g = grad_at(p, i)
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum != 0:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        out.append(p)
    return np.array(out)


# ---------------------------------------------------------------------------- trajectories

@pytest.mark.parametrize("options", [
    dict(),
    dict(centered=True),
    dict(momentum=0.9),
    dict(centered=True, momentum=0.5, weight_decay=1.0),
    dict(weight_decay=0.1, maximize=True, alpha=0.5),
])
def test_rmsprop_follows_its_rule(options):
    ours, opt, p = run_ours(lambda ps: optim.RMSprop(ps, lr=0.01, **options))
    np.testing.assert_allclose(ours, rmsprop_ref(0.01, **options), rtol=1e-12, atol=1e-14)
    expected = {"step", "square_avg"} | ({"momentum_buffer"} if options.get("momentum") else set()) | \
        ({"grad_avg"} if options.get("centered") else set())
    assert set(opt.state[p]) == expected and opt.state[p]["step"] == 6


@pytest.mark.parametrize("options", [
    dict(amsgrad=True),
    dict(betas=(0.3, 0.9)),                           # 1 - beta1 = 0.7: the other side of the lerp
    dict(betas=(0.5, 0.5), weight_decay=1.0),
    dict(amsgrad=True, maximize=True, weight_decay=0.2),
])
def test_adam_follows_its_rule(options):
    ours, opt, p = run_ours(lambda ps: optim.Adam(ps, lr=0.05, **options))
    np.testing.assert_allclose(ours, adam_ref(0.05, **options), rtol=1e-12, atol=1e-14)
    expected = {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if options.get("amsgrad") else set())
    assert set(opt.state[p]) == expected and opt.state[p]["step"] == 6


def test_adamw_passes_every_option_on():
    ours, opt, _ = run_ours(lambda ps: optim.AdamW(ps, lr=0.05, betas=(0.5, 0.8), eps=0.1, weight_decay=1.0,
                                                    amsgrad=True))
    group = opt.param_groups[0]
    assert (group["betas"], group["eps"], group["weight_decay"], group["amsgrad"]) == ((0.5, 0.8), 0.1, 1.0, True)
    np.testing.assert_allclose(ours, adam_ref(0.05, betas=(0.5, 0.8), eps=0.1, weight_decay=1.0, amsgrad=True,
                                              decoupled=True), rtol=1e-12, atol=1e-14)


def test_adam_amsgrad_switched_on_after_the_first_steps():
    p = nn.Parameter(P0.copy())
    opt = optim.Adam([p], lr=0.05)
    p.grad = Value(grad_at(p.data, 0))
    opt.step()
    opt.param_groups[0]["amsgrad"] = True
    p.grad = Value(grad_at(p.data, 1))
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["max_exp_avg_sq"], opt.state[p]["exp_avg_sq"])


@pytest.mark.parametrize("options", [
    dict(maximize=True),
    dict(weight_decay=1.0),
    dict(momentum=1.0),
    dict(momentum=0.9, dampening=0.5, weight_decay=0.1, maximize=True),
    dict(momentum=0.5, nesterov=True),
])
def test_sgd_follows_its_rule(options):
    ours, _, _ = run_ours(lambda ps: optim.SGD(ps, lr=0.05, **options))
    np.testing.assert_allclose(ours, sgd_ref(0.05, **options), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------- closures

@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1), lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.1), lambda ps: optim.RMSprop(ps, lr=0.1),
])
def test_step_calls_the_closure_with_grad_enabled_and_returns_its_loss(make):
    p = nn.Parameter([1.0, -2.0])
    opt = make([p])
    calls = []

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        calls.append(loss.item())
        return loss

    with no_grad():
        loss = opt.step(closure)
    assert calls == [5.0] and loss.item() == 5.0
    assert not np.array_equal(p.data, [1.0, -2.0])     # and stepped with the gradient the closure made
    assert opt.step() is None


# ---------------------------------------------------------------------------- argument checks

@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.SGD(ps, lr=True), "learning rate must be a real number, got bool True"),
    (lambda ps: optim.Adam(ps, betas=(True, 0.99)), "beta parameter at index 0 must be a real number, got bool True"),
])
def test_hyper_parameters_of_the_wrong_type_are_a_type_error_naming_it(make, message):
    """A bool is not a number (issue 10: "Invalid learning rate: 0.1" read as if a number were given)."""
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(".", r"\.")):
        make([nn.Parameter([1.0])])


@pytest.mark.parametrize("make, message", [
    (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    (lambda ps: optim.RMSprop(ps, lr=-0.5), "Invalid learning rate: -0.5"),
    (lambda ps: optim.RMSprop(ps, eps=-1e-3), "Invalid epsilon value: -0.001"),
    (lambda ps: optim.RMSprop(ps, weight_decay=-2), "Invalid weight_decay value: -2"),
    (lambda ps: optim.Adam(ps, weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
    (lambda ps: optim.Adam(ps, betas=(0.9,)), "Invalid betas"),
])
def test_bad_hyper_parameters_are_named(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        make([nn.Parameter([1.0])])


def test_repr_lists_the_options_not_the_parameters():
    text = repr(optim.SGD([nn.Parameter([1.0])], lr=0.5))
    assert "lr: 0.5" in text and "params" not in text


# ---------------------------------------------------------------------------- state dicts

def test_state_dict_holds_only_parameters_with_state():
    a, b = nn.Parameter([1.0]), nn.Parameter([2.0])
    opt = optim.SGD([a, b], lr=0.1, weight_decay=0.1)   # no momentum: nothing to keep
    a.grad = Value([1.0])
    opt.step()
    assert opt.state_dict()["state"] == {}


class ArrayLike:
    """Not an ndarray, but converts to one (as a torch.Tensor does)."""

    def __init__(self, data):
        self.data_ = np.asarray(data)

    def __array__(self, dtype=None, copy=None):
        return self.data_


def test_load_state_dict_converts_entries_for_the_parameter():
    p = nn.Parameter(np.array([1.0, 2.0], dtype=np.float32))
    opt = optim.Adam([p], lr=0.1)
    opt.load_state_dict({"state": {0: {"step": np.array(3), "exp_avg": ArrayLike([0.5, 0.25]),
                                       "exp_avg_sq": Value(np.array([1.0, 4.0]))}},
                         "param_groups": [{**opt.state_dict()["param_groups"][0], "lr": 0.2, "betas": [0.5, 0.9]}]})
    state = opt.state[p]
    assert state["step"] == 3 and type(state["step"]) is int
    assert state["exp_avg"].dtype == np.float32 and state["exp_avg_sq"].dtype == np.float32
    np.testing.assert_array_equal(state["exp_avg"], [0.5, 0.25])
    group = opt.param_groups[0]
    assert group["lr"] == 0.2 and tuple(group["betas"]) == (0.5, 0.9) and group["eps"] == 1e-8
    assert group["params"] == [p]
    p.grad = Value(np.array([1.0, 1.0], dtype=np.float32))
    opt.step()                                         # the loaded state is usable
    assert state["step"] == 4


def test_load_state_dict_with_no_state_then_step():
    p = nn.Parameter([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    incomplete = {"state": {}, "param_groups": [{"lr": 0.5, "momentum": 0.9, "params": [0]}]}
    with pytest.raises(ValueError, match="has no 'dampening'"):       # a group missing hyper-parameters
        opt.load_state_dict(incomplete)
    assert opt.param_groups[0]["lr"] == 0.1                           # refused: nothing changed
    opt.load_state_dict({"state": {}, "param_groups": opt.state_dict()["param_groups"]})
    p.grad = Value([1.0])
    opt.step()
    np.testing.assert_allclose(p.data, [0.9])


def test_load_state_dict_rejects_what_is_not_a_state_dict():
    opt = optim.SGD([nn.Parameter([1.0])], lr=0.1)
    for bad in (["state", "param_groups"], {"state": {}}, {"param_groups": []}):
        with pytest.raises(ValueError, match="'state' and 'param_groups'"):
            opt.load_state_dict(bad)


def test_rmsprop_centered_after_a_state_saved_without_it():
    p = nn.Parameter(P0.copy())
    opt = optim.RMSprop([p], lr=0.01)
    p.grad = Value(grad_at(p.data, 0))
    opt.step()
    state = opt.state_dict()
    state["param_groups"][0].update(centered=True, momentum=0.5)
    opt.load_state_dict(state)
    p.grad = Value(grad_at(p.data, 1))
    opt.step()
    assert set(opt.state[p]) == {"step", "square_avg", "grad_avg", "momentum_buffer"}
    g = grad_at(P0, 0)
    v = 0.01 * g ** 2
    p1 = P0 - 0.01 * g / (np.sqrt(v) + 1e-8)
    g = grad_at(p1, 1)
    v = 0.99 * v + 0.01 * g ** 2
    a = 0.01 * g                                      # the average starts at zero when centering starts
    b = g / (np.sqrt(v - a ** 2) + 1e-8)
    np.testing.assert_allclose(p.data, p1 - 0.01 * b, rtol=1e-12)


def test_save_and_load_give_adam_betas_back_as_a_tuple(tmp_path):
    p = nn.Parameter([1.0])
    opt = optim.Adam([p], lr=0.1, betas=(0.5, 0.75))
    p.grad = Value([1.0])
    opt.step()
    opt.save(tmp_path / "adam.npz")
    other = optim.Adam([p], lr=0.3)
    other.load(tmp_path / "adam.npz")
    assert other.param_groups[0]["betas"] == (0.5, 0.75) and isinstance(other.param_groups[0]["betas"], tuple)
    np.testing.assert_array_equal(other.state[p]["exp_avg"], opt.state[p]["exp_avg"])


def test_adamw_load_keeps_the_decay_decoupled():
    p = nn.Parameter([1.0])
    opt = optim.AdamW([p], lr=0.1)
    state = opt.state_dict()
    state["param_groups"][0]["decoupled_weight_decay"] = False
    opt.load_state_dict(state)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


def _adam_with_state():
    p = nn.Parameter([1.0, 2.0])
    opt = optim.Adam([p], lr=0.1)
    p.grad = Value([0.5, -0.5])
    opt.step()
    return opt, p


def _with_state_entry(opt, name, value):
    state = opt.state_dict()
    state["state"][0][name] = value
    return state


@pytest.mark.parametrize("entries, message", [
    ({"foo": np.zeros(2), "bar": np.zeros(2)},
     "the state of parameter 0 has 'foo', 'bar', which Adam does not keep (Adam keeps step, exp_avg, exp_avg_sq, "
     "max_exp_avg_sq)"),
    ({"exp_avg": None, "exp_avg_sq": None},
     "the state of parameter 0 lacks 'exp_avg', 'exp_avg_sq' (Adam keeps"),
])
def test_a_state_with_unknown_or_missing_entries_names_them_and_the_optimizer(entries, message):
    opt, p = _adam_with_state()
    state = opt.state_dict()
    state["state"][0].update(entries)
    with pytest.raises(ValueError) as caught:
        opt.load_state_dict(state)
    assert message in str(caught.value)
    assert opt.state[p]["step"] == 1                     # refused: nothing changed


def test_a_group_without_a_hyper_parameter_names_the_optimizer_that_needs_it():
    opt, _ = _adam_with_state()
    state = opt.state_dict()
    del state["param_groups"][0]["eps"]
    with pytest.raises(ValueError, match="parameter group 0 has no 'eps', which Adam needs"):
        opt.load_state_dict(state)


@pytest.mark.parametrize("step", [-1, 2.5, np.inf, np.nan, "3", np.array([1, 2])])
def test_a_loaded_step_must_be_a_count(step):
    opt, p = _adam_with_state()
    with pytest.raises(ValueError, match="'step' of parameter 0 must be a count >= 0"):
        opt.load_state_dict(_with_state_entry(opt, "step", step))
    assert opt.state[p]["step"] == 1


@pytest.mark.parametrize("step", [0, 7, 7.0, np.int64(7), np.array(7), Value(np.array(7.0))])
def test_a_loaded_step_is_any_whole_number_from_zero(step):
    opt, p = _adam_with_state()
    opt.load_state_dict(_with_state_entry(opt, "step", step))
    assert opt.state[p]["step"] == int(np.asarray(step)) and type(opt.state[p]["step"]) is int


@pytest.mark.parametrize("value", [[[1.0], [1.0, 2.0]], ["a", "b"], np.array([None, None]), {"a": 1}])
def test_a_loaded_state_array_must_be_numeric(value):
    opt, p = _adam_with_state()
    with pytest.raises(ValueError, match="'exp_avg' of parameter 0 must be a numeric array"):
        opt.load_state_dict(_with_state_entry(opt, "exp_avg", value))


def test_loaded_state_arrays_are_copies():
    opt, p = _adam_with_state()
    mine = np.array([0.25, 0.5])
    opt.load_state_dict(_with_state_entry(opt, "exp_avg", mine))
    opt.state[p]["exp_avg"][0] = 9.0
    assert mine[0] == 0.25                               # the caller's array is not the optimizer's


def test_list_options_are_copied_in_and_out():
    p = nn.Parameter([1.0])
    opt = optim.Adam([p], lr=0.1, betas=[0.5, 0.75])      # a list is accepted as the pair
    state = opt.state_dict()
    state["param_groups"][0]["betas"][0] = 0.25          # editing the copy ...
    assert opt.param_groups[0]["betas"][0] == 0.5        # ... leaves the optimizer alone
    opt.load_state_dict(state)
    state["param_groups"][0]["betas"][0] = 0.125         # editing the loaded dict afterwards
    assert opt.param_groups[0]["betas"][0] == 0.25       # ... does not reach into the optimizer


def test_save_refuses_an_option_json_cannot_hold(tmp_path):
    opt = optim.SGD([nn.Parameter([1.0])], lr=0.1)
    opt.param_groups[0]["note"] = object()               # extra group entries are kept (as PyTorch)
    with pytest.raises(TypeError, match="cannot save this optimizer's state without pickle"):
        opt.save(tmp_path / "opt.npz")
    assert not (tmp_path / "opt.npz").exists()


# ---------------------------------------------------------------------------- defaults, lerp, subclasses

@pytest.mark.parametrize("make, lr", [(optim.SGD, 1e-3), (optim.Adam, 1e-3), (optim.AdamW, 1e-3),
                                      (optim.RMSprop, 1e-2)])
def test_default_learning_rates_are_pytorchs(make, lr):
    assert make([nn.Parameter([1.0])]).param_groups[0]["lr"] == lr


def test_lerp_is_exact_at_both_ends_and_two_sided():
    # PyTorch's lerp: start + w (end - start) for |w| < 0.5, else end - (end - start) (1 - w)
    start, end = np.array([0.1, 3.0]), np.array([1e-20, 0.7])
    a = start.copy()
    optim.optimizer.lerp_(a, end, 1.0)
    np.testing.assert_array_equal(a, end)                # start + 1 * (end - start) would give 0.0, not 1e-20
    a = start.copy()
    optim.optimizer.lerp_(a, end, 0.0)
    np.testing.assert_array_equal(a, start)
    start, end = np.array([0.1]), np.array([0.7])
    a = start.copy()
    optim.optimizer.lerp_(a, end, 0.5)                   # weight 0.5 is on the end's side
    assert a[0] == end[0] - (end[0] - start[0]) * 0.5
    assert a[0] != start[0] + 0.5 * (end[0] - start[0])  # (the two forms differ here in the last bit)


def test_a_users_optimizer_runs_its_python_logic_at_every_jit_replay():
    import warnings

    from tinygrad_lab import jit
    from tinygrad_lab.jit import JitWarning

    class DecayingStep(optim.Optimizer):   # defined here: the subclass hook runs when the test runs
        """A user's optimizer: p -= lr / k * grad at its k-th step (a Python counter), no 'maximize' option."""

        def __init__(self, params, lr=0.5):
            super().__init__(params, {"lr": lr})
            self.steps = 0

        def step(self):
            self.steps += 1
            for group in self.param_groups:
                for p, grad, _ in self._gradients(group):
                    p.data -= group["lr"] / self.steps * grad

    def run(jitted):
        w = nn.Parameter([1.0, -2.0])
        opt = DecayingStep([w])

        def train_step(x):
            opt.zero_grad()
            loss = ((w * x) ** 2).sum()
            loss.backward()
            opt.step()
            return loss
        step = jit(train_step) if jitted else train_step
        with warnings.catch_warnings():
            warnings.simplefilter("error", JitWarning)    # no fallback to eager: the step is replayed whole
            losses = [float(step(Value([1.0, 0.5])).data) for _ in range(5)]
        return losses, w.data.copy(), step

    eager_losses, eager_w, _ = run(False)
    jit_losses, jit_w, step = run(True)
    assert step.replays == 5 - 1 - step.captures > 0     # one discovery call, the captures, then replays
    assert eager_losses == jit_losses
    np.testing.assert_array_equal(eager_w, jit_w)
    expected = -2.0                                      # w2 <- w2 (1 - lr / k * 2 * 0.25) at step k
    for k in range(1, 6):
        expected *= 1 - 0.25 / k
    np.testing.assert_allclose(eager_w, [0.0, expected], rtol=1e-15)   # w1: 1 - 0.5 * 2 * 1 = 0 at step 1
