"""`tinygrad_lab.jit`: capture once, replay later calls, bit for bit what the eager step computes."""
import sys

import numpy as np
import pytest

import tinygrad_lab as tl
from tinygrad_lab import JitError, Value, jit, nn, optim
from tinygrad_lab.jit import JitWarning


def make(seed=0, act=nn.Sigmoid, dtype=np.float64, sizes=(2, 4, 4, 1)):
    tl.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(a, b, dtype=dtype), act() if i < len(sizes) - 2 else nn.Sigmoid()]
    return nn.Sequential(*layers)


def trainer(model, opt, loss_fn=None, then=None):
    """The usual step: zero_grad, loss, backward, opt.step(), then `then()` if given (a scheduler's step)."""
    loss_fn = loss_fn or nn.MSELoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if then is not None:
            then()
        return loss
    return step


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(16, 2))
    return x, (x[:, :1] < x[:, 1:]).astype(np.float64)


OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=1.0),
    "momentum": lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adamw amsgrad": lambda ps: optim.AdamW(ps, lr=0.01, amsgrad=True),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_replay_is_bit_identical_to_eager(name, data):
    x, y = data
    eager_model, jit_model = make(), make()
    eager = trainer(eager_model, OPTIMIZERS[name](eager_model.parameters()))
    jitted = jit(trainer(jit_model, OPTIMIZERS[name](jit_model.parameters())))
    for _ in range(12):
        a, b = eager(Value(x), Value(y)), jitted(Value(x), Value(y))
        assert a.data.item() == b.data.item()
    assert jitted.captures == 2 and jitted.replays == 9
    for p, q in zip(eager_model.parameters(), jit_model.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_array_equal(p.grad.data, q.grad.data)


def test_new_argument_data_is_copied_in_and_schedules_apply(data):
    """Mini-batches of one shape: every replay sees its own data; a scheduler's rate reaches the replayed step."""
    x, y = data
    models = [make(1, nn.Tanh), make(1, nn.Tanh)]
    opts = [optim.SGD(m.parameters(), lr=0.5) for m in models]
    scheds = [optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5) for o in opts]
    eager, jitted = trainer(models[0], opts[0]), jit(trainer(models[1], opts[1]))
    for i in range(10):
        rows = np.arange(i, i + 4) % 16
        a = eager(Value(x[rows]), Value(y[rows]))
        b = jitted(Value(x[rows]), Value(y[rows]))
        assert a.data.item() == b.data.item()
        for s in scheds:
            s.step()
    assert jitted.replays == 7


def test_float32_and_cross_entropy():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 5)).astype(np.float32)
    labels = rng.integers(0, 3, size=8)
    results = []
    for use_jit in (False, True):
        tl.manual_seed(2)
        model = nn.Sequential(nn.Linear(5, 6, dtype=np.float32), nn.ReLU(), nn.Linear(6, 3, dtype=np.float32))
        opt = optim.Adam(model.parameters(), lr=0.01)
        loss_fn = nn.CrossEntropyLoss()

        def step(x, y, model=model, opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        step = jit(step) if use_jit else step
        results.append([step(Value(x), labels).data.item() for _ in range(8)])
    assert results[0] == results[1]


def test_other_shapes_capture_again(data):
    x, y = data
    model = make()
    step = jit(trainer(model, optim.SGD(model.parameters(), lr=1.0)))
    ref_model = make()
    ref = trainer(ref_model, optim.SGD(ref_model.parameters(), lr=1.0))
    for n in (16, 16, 16, 16, 8, 8, 8, 8, 16):
        assert step(Value(x[:n]), Value(y[:n])).data.item() == ref(Value(x[:n]), Value(y[:n])).data.item()
    assert step.captures == 4           # two per shape
    assert step.replays == 3            # two at 16, one at 8... and the last 16


def branching_step(seed):
    """A training step of a fresh model (`make(seed)`) with a Python branch on its input's data."""
    model = make(seed)
    opt = optim.SGD(model.parameters(), lr=2.0)

    def step(x, y):
        opt.zero_grad()
        loss = nn.MSELoss()(model(x), y)
        if x.sum() > 10.0:             # a Python branch on data
            loss = loss * 2.0
        loss.backward()
        opt.step()
        return loss
    return step


def test_branch_on_data_is_a_guard(data):
    """`if x.sum() > t` in the step: checked at every replay; when it flips, the call runs eagerly and re-captures."""
    x, y = data

    eager, jitted = branching_step(3), jit(branching_step(3))
    for scale in [1.0] * 6 + [0.5] * 6 + [1.0] * 2:
        a, b = eager(Value(x * scale), Value(y)), jitted(Value(x * scale), Value(y))
        assert a.data.item() == b.data.item()
    assert jitted.captures == 5 and jitted.replays == 3 + 3   # the flips ran eagerly, then captured again


def test_python_numbers_from_data_are_refused(data):
    x, y = data
    model = make()
    opt = optim.SGD(model.parameters(), lr=1.0)
    seen = []

    @jit
    def step(x, y):
        opt.zero_grad()
        loss = nn.MSELoss()(model(x), y)
        seen.append(float(loss))
        loss.backward()
        opt.step()
        return loss
    step(Value(x), Value(y))              # the first call is eager
    with pytest.raises(JitError, match=r"Python value.*test_jit.py:.*float\(loss\)"):
        step(Value(x), Value(y))


def test_a_random_draw_inside_is_detected(data):
    x, y = data
    model = make()
    opt = optim.SGD(model.parameters(), lr=1.0)
    rng = np.random.default_rng(0)

    @jit
    def step(x, y):
        opt.zero_grad()
        noise = rng.normal(size=x.shape)   # drawn outside NumPy's dispatch on the step's arrays
        loss = nn.MSELoss()(model(x + noise), y)
        loss.backward()
        opt.step()
        return loss
    rng_eager = np.random.default_rng(0)
    eager_model = make()
    eager_opt = optim.SGD(eager_model.parameters(), lr=1.0)

    def eager(x, y):
        eager_opt.zero_grad()
        noise = rng_eager.normal(size=x.shape)
        loss = nn.MSELoss()(eager_model(x + noise), y)
        loss.backward()
        eager_opt.step()
        return loss
    with pytest.warns(JitWarning, match="changed between two calls.*runs eagerly"):
        for _ in range(6):      # the draws differ each call: never replayed, the results stay the eager ones
            assert step(Value(x), Value(y)).data.item() == eager(Value(x), Value(y)).data.item()


def test_replaced_parameter_data_captures_again(data):
    x, y = data
    model, ref_model = make(), make()
    step = jit(trainer(model, optim.SGD(model.parameters(), lr=1.0)))
    ref = trainer(ref_model, optim.SGD(ref_model.parameters(), lr=1.0))
    for i in range(8):
        if i == 5:
            for m in (model, ref_model):
                m[0].weight.data = m[0].weight.data * 0.5     # a new array, not an in-place update
        assert step(Value(x), Value(y)).data.item() == ref(Value(x), Value(y)).data.item()
    assert step.captures == 4


def test_arguments_that_require_grad_are_refused(data):
    x, y = data
    f = jit(lambda a: (a * 2.0).sum())
    f(Value(x, requires_grad=True))
    with pytest.raises(JitError, match="do not require grad"):
        f(Value(x, requires_grad=True))


def test_returned_values_are_copies(data):
    x, y = data
    model = make()
    step = jit(trainer(model, optim.SGD(model.parameters(), lr=1.0)))
    out = [step(Value(x), Value(y)) for _ in range(6)]
    assert len({v.data.item() for v in out}) == 6      # earlier results are not overwritten by replays
    assert all(not v.requires_grad for v in out[3:])


def test_gradients_without_an_optimizer_inside(data):
    """The step only computes gradients; the update happens outside (as train.fit does): grads stay current."""
    x, y = data
    results = []
    for use_jit in (False, True):
        model = make(4)
        opt = optim.SGD(model.parameters(), lr=1.0)

        def grads(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = nn.MSELoss()(model(x), y)
            loss.backward()
            return loss
        grads = jit(grads) if use_jit else grads
        losses = []
        for _ in range(8):
            losses.append(grads(Value(x), Value(y)).data.item())
            opt.step()
        results.append((losses, [p.data.copy() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_computation_on_parameters_alone_is_not_frozen(data):
    """An L2 penalty reads only parameters updated outside the step: detected, then run eagerly (never stale)."""
    x, y = data
    model = make()
    opt = optim.SGD(model.parameters(), lr=1.0)

    @jit
    def grads(x, y):
        opt.zero_grad()
        w = model[0].weight
        loss = nn.MSELoss()(model(x), y) + (w * w).sum() * 0.01
        loss.backward()
        return loss
    ref_model = make()
    ref_opt = optim.SGD(ref_model.parameters(), lr=1.0)
    with pytest.warns(JitWarning, match="on two calls"):
        for _ in range(6):
            a = grads(Value(x), Value(y))
            opt.step()
            ref_opt.zero_grad()
            w = ref_model[0].weight
            b = nn.MSELoss()(ref_model(Value(x)), Value(y)) + (w * w).sum() * 0.01
            b.backward()
            ref_opt.step()
            assert a.data.item() == b.data.item()


def test_arguments_passed_again_are_read_in_place(data):
    """The same argument arrays at every call (full-batch training): read in place, new contents seen."""
    x, y = data
    eager_model, jit_model = make(5), make(5)
    eager = trainer(eager_model, optim.SGD(eager_model.parameters(), lr=1.0))
    jitted = jit(trainer(jit_model, optim.SGD(jit_model.parameters(), lr=1.0)))
    xv, yv = Value(x.copy()), Value(y.copy())
    for i in range(10):
        if i in (5, 7):
            xv.data[...] = x[::-1] * (i / 5)       # new contents, same array: the replay must read them
        assert eager(Value(xv.data), Value(yv.data)).data.item() == jitted(xv, yv).data.item()
    assert jitted.replays == 7
    np.testing.assert_array_equal(xv.data, x[::-1] * 1.4)     # the caller's arrays are never written
    np.testing.assert_array_equal(yv.data, y)
    for p, q in zip(eager_model.parameters(), jit_model.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_arguments_that_change_between_calls_are_copied_in(data):
    """New arrays at some calls, then the same ones again: each call sees its own data."""
    x, y = data
    rng = np.random.default_rng(3)
    eager_model, jit_model = make(6), make(6)
    eager = trainer(eager_model, optim.SGD(eager_model.parameters(), lr=1.0))
    jitted = jit(trainer(jit_model, optim.SGD(jit_model.parameters(), lr=1.0)))
    fixed = Value(x.copy())
    for i in range(14):
        xv = fixed if i % 4 < 2 else Value(rng.uniform(size=x.shape))
        yv = Value(y)
        assert eager(Value(xv.data), yv).data.item() == jitted(xv, yv).data.item()
    assert jitted.replays == 11


def test_an_argument_the_step_returns_is_not_shared(data):
    x, _ = data
    f = jit(lambda a: (a, a * 2.0))
    xv = Value(x.copy())
    for _ in range(5):
        a, b = f(xv)
        np.testing.assert_array_equal(b.data, x * 2.0)
    a.data[...] = 0.0                      # changing a returned array changes nothing of the caller's
    np.testing.assert_array_equal(xv.data, x)
    np.testing.assert_array_equal(f(xv)[1].data, x * 2.0)


def test_replay_of_relu_and_cross_entropy_warns_nothing():
    """Every replayed call in a form NumPy accepts without deprecation warnings (maximum keeps out=)."""
    import warnings
    rng = np.random.default_rng(4)
    x = Value(rng.standard_normal((6, 3)))
    labels = rng.integers(0, 2, size=6)
    tl.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    step = jit(trainer(model, optim.Adam(model.parameters(), lr=0.01), nn.CrossEntropyLoss()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(6):
            step(x, labels)
    assert step.replays == 3


def test_repeated_calls_are_shared_only_while_their_inputs_are_unchanged():
    """`t + 1` twice reads one result, unless `t` was written in between (then it is computed again)."""
    def f(a):
        t = a * 3.0
        u = (t + 1.0) * (t + 1.0)
        t[0] = -7.0                                  # t changes: the next `t + 1` must see it
        v = (t + 1.0) * 2.0
        return u, v

    step = jit(f)
    rng = np.random.default_rng(5)
    for _ in range(6):
        a = rng.uniform(size=3)
        u, v = step(a)
        expected_u, expected_v = f(a.copy())
        assert u.tolist() == expected_u.tolist() and v.tolist() == expected_v.tolist()
    assert step.replays == 3


def test_labels_read_in_place_by_the_indexing_of_cross_entropy():
    """Integer labels passed again are read in place by the recorded indexing: new contents are seen."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 4))
    labels = rng.integers(0, 3, size=8)
    models = []
    for _ in range(2):
        tl.manual_seed(3)
        models.append(nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)))
    eager = trainer(models[0], optim.SGD(models[0].parameters(), lr=0.5), nn.CrossEntropyLoss())
    jitted = jit(trainer(models[1], optim.SGD(models[1].parameters(), lr=0.5), nn.CrossEntropyLoss()))
    xv = Value(x)
    for i in range(9):
        if i == 6:
            labels[:] = (labels + 1) % 3                    # the same array, new labels
        assert eager(Value(x), labels.copy()).data.item() == jitted(xv, labels).data.item()
    assert jitted.replays == 6


def test_an_argument_sharing_memory_with_a_parameter_is_copied_in(data):
    """A parameter's own array passed as data: never bound in place (the step updates it), results as eager."""
    x, _ = data
    results = []
    for use_jit in (False, True):
        tl.manual_seed(7)
        layer = nn.Linear(2, 2)
        opt = optim.SGD(layer.parameters(), lr=0.1)

        def step(a, layer=layer, opt=opt):
            opt.zero_grad()
            loss = (layer(a) * layer(a)).mean()
            loss.backward()
            opt.step()
            return loss
        step = jit(step) if use_jit else step
        results.append([step(layer.weight.data).data.item() for _ in range(7)])
    assert results[0] == results[1]


def test_a_branch_flipped_by_new_contents_of_the_same_array(data):
    """The guard of a branch on data also holds when the argument is read in place (its contents change)."""
    x, y = data

    eager, jitted = branching_step(8), jit(branching_step(8))
    xv, yv = Value(x.copy()), Value(y)
    for scale in [1.0] * 5 + [0.5] * 5 + [1.0] * 5:
        xv.data[...] = x * scale
        assert eager(Value(x * scale), Value(y)).data.item() == jitted(xv, yv).data.item()
    assert jitted.captures == 6 and jitted.replays == 2 + 2 + 2


def _batchnorm_trainer(momentum, seed=0):
    """A small net with batch norm, its SGD step and its forward (plain functions: jit them or not)."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3, momentum=momentum), nn.Tanh(), nn.Linear(3, 1))
    for p in model.parameters():
        p.data[...] = rng.normal(size=p.shape)
    return model, trainer(model, optim.SGD(model.parameters(), lr=0.05)), model.__call__


def _batchnorm_data(seed):
    rng = np.random.default_rng(seed)
    return Value(rng.normal(size=(6, 2))), Value(rng.normal(size=(6, 1)))


@pytest.mark.parametrize("eval_between", [False, True])
def test_replays_update_batchnorm_running_statistics_as_eager_steps_do(eval_between):
    """A replay makes the running-statistics update and the batch count again (they were frozen: after
    jitted training the statistics were those of the captures only, so eval mode gave other numbers).
    An eval step jitted on its own reads the statistics as they are at each replay, not as captured."""
    batches = [_batchnorm_data(seed) for seed in range(10)]
    probe = _batchnorm_data(99)[0]
    results = {}
    for name in ("eager", "jit"):
        model, step, evaluate = _batchnorm_trainer(0.1)
        if name == "jit":
            step, evaluate = jit(step), jit(evaluate)
        outs = []
        for x, y in batches:
            step(x, y)
            if eval_between:       # the eval step replays while the training steps change the statistics
                model.eval()
                outs.append(evaluate(probe).data.copy())
                model.train()
        results[name] = (model.state_dict(), outs)
    (eager_state, eager_outs), (jit_state, jit_outs) = results["eager"], results["jit"]
    assert int(jit_state["1.num_batches_tracked"]) == len(batches)
    for key in eager_state:
        np.testing.assert_array_equal(jit_state[key], eager_state[key], err_msg=key)
    for a, b in zip(jit_outs, eager_outs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_batchnorm_cumulative_average_runs_eagerly_with_a_warning():
    """momentum=None averages with 1 / (batches + 1), a Python number that changes every step: the step
    cannot be replayed, so jit says so and runs it eagerly, with the eager numbers."""
    batches = [_batchnorm_data(seed) for seed in range(5)]
    eager_model, eager_step, _ = _batchnorm_trainer(None)
    jit_model, jit_step, _ = _batchnorm_trainer(None)
    jit_step = jit(jit_step)
    with pytest.warns(JitWarning, match="on two calls"):
        for x, y in batches:
            eager_step(x, y)
            jit_step(x, y)
    eager_state, jit_state = eager_model.state_dict(), jit_model.state_dict()
    for key in eager_state:
        np.testing.assert_array_equal(jit_state[key], eager_state[key], err_msg=key)


# ---------------------------------------------------------------- adversarial: jit against eager, bit for bit

def _state(model, opt, extra=None):
    """Everything a step may change: the model's state dict, gradients, the optimizer's state and groups."""
    state = {f"model.{k}": np.array(v) for k, v in model.state_dict().items()}
    state.update({f"grad.{n}": None if p.grad is None else p.grad.data.copy() for n, p in model.named_parameters()})
    for i, s in enumerate(opt.state.values()):
        state.update({f"opt.{i}.{k}": np.array(v) for k, v in s.items()})
    state.update({f"lr.{i}": g["lr"] for i, g in enumerate(opt.param_groups)})
    if extra is not None:
        state.update(extra())
    return state


def _assert_jit_is_eager(setup, batches, between=None, warns=None):
    """Run `setup()`'s step eagerly and under jit on the same batches (with `between(model, opt, i)` after
    call i); every result and every state after every call must be the same, bit for bit."""
    runs = {}
    for mode in ("eager", "jit"):
        model, opt, step = setup()
        step = jit(step) if mode == "jit" else step
        trace = []
        for i, batch in enumerate(batches):
            out = step(*batch)
            trace.append((np.array(out.data), _state(model, opt)))
            if between is not None:
                between(model, opt, i)
        runs[mode] = (trace, step)
    for i, ((out_e, st_e), (out_j, st_j)) in enumerate(zip(runs["eager"][0], runs["jit"][0], strict=True)):
        np.testing.assert_array_equal(out_j, out_e, err_msg=f"call {i}: result")
        assert st_j.keys() == st_e.keys()
        for k in st_e:
            np.testing.assert_array_equal(np.asarray(st_j[k], dtype=object if st_j[k] is None else None),
                                          np.asarray(st_e[k], dtype=object if st_e[k] is None else None),
                                          err_msg=f"call {i}: {k}")
    return runs["jit"][1]


def _batches(seed, n=12, shapes=((5, 3), (5, 2)), dtype=np.float64, wrap=Value):
    rng = np.random.default_rng(seed)
    return [tuple(wrap(rng.normal(size=s).astype(dtype)) if wrap else rng.normal(size=s).astype(dtype)
                  for s in shapes) for _ in range(n)]


def _mlp_setup(seed=0, opt=lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), layers=None, loss=None, after=None,
               sched=None, dtype=np.float64):
    def setup():
        tl.manual_seed(seed)
        model = nn.Sequential(*(layers() if layers else
                                (nn.Linear(3, 4, dtype=dtype), nn.Tanh(), nn.Linear(4, 2, dtype=dtype))))
        optimizer = opt(model.parameters())
        scheduler = sched(optimizer) if sched else None

        def then():
            if scheduler is not None:
                scheduler.step()
            if after is not None:
                after(model)
        return model, optimizer, trainer(model, optimizer, loss, then)
    return setup


@pytest.mark.parametrize("sched", [lambda o: optim.lr_scheduler.StepLR(o, 2, 0.5),
                                   lambda o: optim.lr_scheduler.ExponentialLR(o, 0.9),
                                   lambda o: optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1))])
def test_a_scheduler_stepped_inside_the_step_steps_at_every_replay(sched):
    """scheduler.step() inside the jitted step ran only while capturing: the learning rate froze."""
    jitted = _assert_jit_is_eager(_mlp_setup(opt=lambda ps: optim.Adam(ps, lr=0.01), sched=sched), _batches(1))
    assert jitted.replays == 9


def test_parameters_frozen_and_unfrozen_between_calls():
    """requires_grad_(False) on a layer between calls: the replay kept updating it with its old gradient."""
    def between(model, opt, i):
        if i in (4, 8):
            model[0].requires_grad_(i == 8)
    _assert_jit_is_eager(_mlp_setup(), _batches(2), between)


def test_train_and_eval_switched_between_calls():
    """model.eval() between calls of a jitted training step with batch norm: the replay kept training mode."""
    def between(model, opt, i):
        model.train(i < 5)
    layers = lambda: (nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2))   # noqa: E731
    _assert_jit_is_eager(_mlp_setup(layers=layers), _batches(3), between)


def test_dropout_masks_equal_at_both_captures_are_not_replayed():
    """A dropout mask of one element can be the same at both captures: the comparison then passed and every
    replay reused it. A random draw while capturing now means the step runs eagerly, with a JitWarning."""
    layers = lambda: (nn.Linear(3, 1), nn.Dropout(0.5), nn.Linear(1, 2))   # noqa: E731
    with pytest.warns(JitWarning, match="draws random numbers"):
        jitted = _assert_jit_is_eager(_mlp_setup(layers=layers, opt=lambda ps: optim.SGD(ps, lr=0.1)),
                                      _batches(4, shapes=((1, 3), (1, 2))))
    assert jitted.replays == 0


def test_numpy_arguments_equal_at_the_captures_then_new():
    """NumPy arrays as arguments: the loss's target was copied outside the recording (np.asarray, then Value()),
    so it was a constant, frozen when it happened to be the same at both captures."""
    batches = _batches(5, wrap=None)
    batches = [tuple(a.copy() for a in batches[0]) for _ in range(4)] + batches[4:]
    jitted = _assert_jit_is_eager(_mlp_setup(), batches)
    assert jitted.replays == 9


def test_cross_entropy_ignore_index_appearing_after_the_captures():
    """The ignored targets were found outside the recording (a Python bool 'all valid' without a guard): a batch
    with an ignored target after the captures was replayed as if all counted."""
    rng = np.random.default_rng(6)
    batches = []
    for i in range(12):
        t = rng.integers(0, 3, size=6)
        if i >= 5:
            t[0] = 3
        batches.append((Value(rng.normal(size=(6, 3))), t))
    layers = lambda: (nn.Linear(3, 4),)   # noqa: E731
    _assert_jit_is_eager(_mlp_setup(layers=layers, loss=nn.CrossEntropyLoss(ignore_index=3)), batches)


def test_parameters_changed_in_place_after_the_optimizer_step():
    """`p.data *= 0.99` after optimizer.step() in the step: the step's `p.data -= ...` had rebound p.data to an
    array the capture does not see, so the decay ran only while capturing."""
    def decay(model):
        for p in model.parameters():
            p.data *= 0.99
        w = model[0].weight.data
        w[...] = w / np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1.0)
    _assert_jit_is_eager(_mlp_setup(after=decay), _batches(7))


def test_float16_captures_compute_as_the_eager_step():
    """float16 bias gradients are summed in float32 eagerly; a captured step took another path (ndarray.sum)."""
    layers = lambda: (nn.Linear(3, 4, dtype=np.float16), nn.GELU(), nn.LayerNorm(4, dtype=np.float16),   # noqa: E731
                      nn.Linear(4, 2, dtype=np.float16))
    _assert_jit_is_eager(_mlp_setup(layers=layers, opt=lambda ps: optim.SGD(ps, lr=0.1)),
                         _batches(8, dtype=np.float16))


@pytest.mark.parametrize("layers", [
    lambda: (nn.Unflatten(1, (1, 3)), nn.Conv1d(1, 2, 2), nn.Flatten(), nn.Linear(4, 2)),
    lambda: (nn.Linear(3, 4), nn.Unflatten(1, (1, 2, 2)), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1, 2)),
])
def test_layers_jit_cannot_record_run_eagerly_with_a_warning(layers):
    """A convolution's gradient is computed outside the recording: every call raised a JitError (after the
    step had run). It now runs eagerly, with a JitWarning, from the first capture on."""
    with pytest.warns(JitWarning, match="cannot be replayed"):
        jitted = _assert_jit_is_eager(_mlp_setup(layers=layers), _batches(9))
    assert jitted.captures == 1 and jitted.replays == 0


def test_a_branch_on_data_after_the_optimizer_step_runs_eagerly():
    """`if loss < t:` after optimizer.step(): when it flipped at a replay, the step had already been made, and
    jit raised a JitError mid-training. Such a step now runs eagerly from the captures on, with a JitWarning."""
    def setup():
        model, opt, inner = _mlp_setup(opt=lambda ps: optim.SGD(ps, lr=0.5))()

        def step(x, y):
            loss = inner(x, y)
            return loss * 0 if loss < 0.9 else loss
        return model, opt, step
    with pytest.warns(JitWarning, match="could not have been undone"):
        _assert_jit_is_eager(setup, _batches(10))


def test_a_branch_flipped_after_batch_norm_updated_its_statistics():
    """A guard in the loss (cross-entropy's 'all targets counted') after batch norm's running statistics were
    updated: the flip raised a JitError; now the statistics are put back and the call runs eagerly."""
    rng = np.random.default_rng(11)
    batches = []
    for i in range(12):
        t = rng.integers(0, 3, size=6)
        if i in (6, 9):
            t[0] = 3
        batches.append((Value(rng.normal(size=(6, 3))), t))
    layers = lambda: (nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 4))   # noqa: E731
    _assert_jit_is_eager(_mlp_setup(layers=layers, loss=nn.CrossEntropyLoss(ignore_index=3)), batches)


@pytest.mark.parametrize("loss", [nn.CrossEntropyLoss(label_smoothing=0.1),
                                  nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 0.5, 3.0])),
                                  nn.NLLLoss(), nn.NLLLoss(weight=np.array([1.0, 2.0, 0.5, 3.0]))])
def test_cross_entropy_options_with_the_same_targets_at_both_captures(loss):
    """Label smoothing and class weights: the backward made its one-hot array with np.zeros (outside the
    recording) and updated it with recorded calls, so each replay added to the last one's numbers; class weights
    and one-hot gradients indexed by the targets were constants, and so was a gradient broadcast from a number
    of the data (NLL's summed class weights). Same targets at both captures, new ones later."""
    rng = np.random.default_rng(12)
    x0, t0 = rng.normal(size=(6, 3)), rng.integers(0, 4, size=6)
    batches = [(Value(x0.copy()), t0.copy()) for _ in range(4)]
    batches += [(Value(rng.normal(size=(6, 3))), rng.integers(0, 4, size=6)) for _ in range(8)]
    layers = (lambda: (nn.Linear(3, 4), nn.LogSoftmax(dim=1))) if isinstance(loss, nn.NLLLoss) else \
        (lambda: (nn.Linear(3, 4),))
    jitted = _assert_jit_is_eager(_mlp_setup(layers=layers, loss=loss, opt=lambda ps: optim.SGD(ps, lr=0.1)),
                                  batches)
    assert jitted.replays == 9


@pytest.mark.parametrize("change", ["data", "parameter", "buffer", "eps"])
def test_an_eval_step_sees_parameters_buffers_and_settings_replaced_between_calls(change):
    """A jitted eval step (no optimizer): a parameter's array replaced (p.data = ...), a new Parameter, a new
    running-mean array or a layer setting (eps) set between calls: the replay kept the captured ones."""
    rng = np.random.default_rng(13)
    batches = [(Value(rng.normal(size=(5, 3))),) for _ in range(10)]
    runs = {}
    for mode in ("eager", "jit"):
        tl.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).eval()
        step = jit(model.__call__) if mode == "jit" else model.__call__
        outs = []
        for i, (x,) in enumerate(batches):
            outs.append(step(x).data.copy())
            if i == 5:
                if change == "data":
                    model[0].weight.data = model[0].weight.data * 2.0
                elif change == "parameter":
                    model[0].bias = nn.Parameter(np.ones(4))
                elif change == "buffer":
                    model[1].running_mean = np.ones(4)
                else:
                    model[1].eps = 0.5
        runs[mode] = outs
    for i, (a, b) in enumerate(zip(runs["eager"], runs["jit"], strict=True)):
        np.testing.assert_array_equal(b, a, err_msg=f"call {i}")


def test_gelu_without_scipy_runs_eagerly_with_a_warning(monkeypatch):
    """Without SciPy, erf is Python's math.erf element by element, which a capture cannot record: the step runs
    eagerly with a JitWarning saying so (it raised NumPy's TypeError comparing the captures' object arrays, and
    with equal data at both captures it would have replayed a frozen erf)."""
    monkeypatch.setitem(sys.modules, "scipy.special", None)      # `from scipy.special import erf` fails
    rng = np.random.default_rng(0)
    batches = [(Value(rng.normal(size=(5, 3))), Value(rng.normal(size=(5, 1)))) for _ in range(3)]
    calls = [batches[0]] * 4 + [batches[1], batches[2]]           # equal data at both captures, then new data
    losses = {}
    for name in ("eager", "jit"):
        tl.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 1))
        step = trainer(model, optim.SGD(model.parameters(), lr=0.1))
        if name == "jit":
            step = jit(step)
            with pytest.warns(JitWarning, match="without SciPy"):
                losses[name] = [step(x, y).data.copy() for x, y in calls]
            assert step.replays == 0
        else:
            losses[name] = [step(x, y).data.copy() for x, y in calls]
    for a, b in zip(losses["jit"], losses["eager"], strict=True):
        np.testing.assert_array_equal(a, b)
