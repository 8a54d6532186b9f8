"""Stacked training (`tinygrad_lab.ensemble`, `lab.run_seeds`): every member as if trained alone."""
import functools

import numpy as np
import pytest

from tinygrad_lab import Value, ensemble, nn, optim
from tinygrad_lab.data import generate_xor_easy
from tinygrad_lab.lab import LabConfig, demo_configs, run, run_seeds, seed_groups
from tinygrad_lab.random import manual_seed
from tinygrad_lab.train import fit


def net(seed, act=nn.Sigmoid, hidden=4, bias=True):
    manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden, bias=bias), act(), nn.Linear(hidden, 1, bias=bias), nn.Sigmoid())


def close(a, b, rtol=1e-10):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=1e-300, equal_nan=True)


@functools.cache
def blas_chains_in_order() -> bool:
    """Whether this machine's BLAS computes every entry of a matrix product as one in-order chain of multiply-adds,
    whatever the operands' layout (OpenBLAS on x86-64 does): then the stacked layers' rearranged products give
    each member the numbers of its lone run bit for bit; with another BLAS they agree to round-off."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((50, 3)), rng.standard_normal((4, 3))
    b, g = rng.standard_normal(4), rng.standard_normal((50, 4))
    lone = x @ w.T
    lone_b = lone + b
    probes = [
        (x @ np.ascontiguousarray(w.T), lone),
        (np.concatenate((x, np.ones((50, 1))), axis=1) @ np.concatenate((w.T, b[None]), axis=0), lone_b),
        (g.T @ np.ones((50, 2)), np.stack([g.sum(axis=0)] * 2, axis=1)),
        (np.concatenate((g[:, :1], np.zeros((50, 1))), axis=1) @ np.concatenate((w[:1], np.zeros((1, 3)))),
         g[:, :1] @ w[:1]),
    ]
    return all(np.array_equal(a, c) for a, c in probes)


def same(a, b):
    """Bit for bit where the BLAS chains its sums in order (see `blas_chains_in_order`), else to round-off."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if blas_chains_in_order():
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * float(np.nanmax(np.abs(b), initial=1.0)))


XOR_BASE = demo_configs(epochs=100)[1]
LINEAR_BASE = demo_configs(epochs=100)[0]

CONFIGS = {
    "xor sgd": XOR_BASE,
    "linear sgd (data per seed)": LINEAR_BASE,
    "adam": XOR_BASE.replace(optimizer="adam", lr=0.01),
    "momentum": XOR_BASE.replace(optimizer="momentum", lr=0.5),
    "bce": XOR_BASE.replace(loss="bce"),
    "mae": XOR_BASE.replace(loss="mae"),
    "tanh, no bias, default init": XOR_BASE.replace(activation="tanh", bias=False, init="default", lr=1.0),
    "relu, one hidden layer": XOR_BASE.replace(activation="relu", hidden=(8,), lr=1.0),
    "no hidden layer": LINEAR_BASE.replace(hidden=()),
    "mini-batch 8 (own order per seed)": XOR_BASE.replace(batch_size=8, lr=1.0, epochs=30),
    "online": LINEAR_BASE.replace(batch_size=1, epochs=5),
    "step schedule": XOR_BASE.replace(lr_schedule="step"),
    "plateau schedule (own rate per seed)": XOR_BASE.replace(lr_schedule="plateau", epochs=400),
    "standardised inputs": LINEAR_BASE.replace(scale_inputs="standard"),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_each_seed_trains_as_if_alone(name):
    """First 100 epochs' losses (and accuracies, rates, stopping, final weights) as a run of the seed alone."""
    configs = [CONFIGS[name].replace(seed=s) for s in (0, 3, 7)]
    stacked = run_seeds(configs)
    for config, got in zip(configs, stacked, strict=True):
        alone = run(config, quiet=True)
        h, ref = got.history, alone.history
        assert (h.epochs, h.stop_reason, h.converged_epoch) == (ref.epochs, ref.stop_reason, ref.converged_epoch)
        assert close(h.loss, ref.loss) and close(h.lr, ref.lr) and h.accuracy == ref.accuracy
        for p, q in zip(got.model.parameters(), alone.model.parameters(), strict=True):
            assert close(p.data, q.data)
        assert got.train.accuracy == alone.train.accuracy
        assert (got.test is None) == (alone.test is None)
        if got.test is not None:
            assert got.test.accuracy == alone.test.accuracy


def test_plateau_rates_differ_between_members():
    """The plateau schedule follows each member's own loss, so the members' rates come apart."""
    results = run_seeds([CONFIGS["plateau schedule (own rate per seed)"].replace(seed=s) for s in range(4)])
    assert len({tuple(r.history.lr) for r in results}) > 1


def test_members_stop_on_their_own():
    configs = [XOR_BASE.replace(seed=s, epochs=3000, lr=1.0, stop_at_zero_errors=True) for s in range(4)]
    stacked = run_seeds(configs)
    alone = [run(c, quiet=True).history for c in configs]
    assert [r.history.epochs for r in stacked] == [h.epochs for h in alone]
    assert len({h.epochs for h in alone}) > 1, "the seeds should stop at different epochs"
    assert [r.history.stop_reason for r in stacked] == [h.stop_reason for h in alone]


def test_a_diverging_member_does_not_touch_the_others():
    X, Y = generate_xor_easy()
    models = [net(0), net(1)]
    with np.errstate(all="ignore"):
        models[1][0].weight.data[0, 0] = np.inf
        hs = ensemble.fit(models, X, Y, nn.MSELoss(), lambda ps: optim.SGD(ps, lr=5.0), epochs=40)
    ref = net(0)
    h0 = fit(ref, X, Y, nn.MSELoss(), optim.SGD(ref.parameters(), lr=5.0), epochs=40)
    assert hs[1].stop_reason == "diverged" and hs[1].epochs == 1
    assert hs[0].loss == h0.loss


def test_stack_forward_matches_each_member():
    models = [net(s) for s in range(3)]
    x = np.random.default_rng(0).uniform(size=(5, 2))
    out = ensemble.stack(models)(Value(x))
    assert out.shape == (3, 5, 1)
    for s, m in enumerate(models):
        same(out.data[s], m(Value(x)).data)


def test_member_losses_and_their_gradients_are_each_members_own():
    rng = np.random.default_rng(1)
    out = Value(rng.uniform(0.1, 0.9, size=(3, 4, 1)), requires_grad=True)
    y = (rng.uniform(size=(3, 4, 1)) > 0.5).astype(float)
    for loss_fn in (nn.MSELoss(), nn.L1Loss(), nn.BCELoss()):
        out.grad = None
        losses = ensemble.member_losses(loss_fn, out, y)
        losses.sum().backward()
        for s in range(3):
            alone = Value(out.data[s], requires_grad=True)
            loss = loss_fn(alone, Value(y[s]))
            loss.backward()
            assert losses.data[s] == loss.data
            np.testing.assert_array_equal(out.grad.data[s], alone.grad.data)


def test_unstack_writes_members_back():
    models = [net(s) for s in range(2)]
    big = ensemble.stack(models)
    for p in big.parameters():
        p.data = p.data + 1.0
    before = [p.data.copy() for p in models[1].parameters()]
    ensemble.unstack(big, models)
    for b, p in zip(before, models[1].parameters(), strict=True):
        np.testing.assert_array_equal(p.data, b + 1.0)


def test_clear_errors():
    with pytest.raises(ValueError, match="identical architectures"):
        ensemble.stack([net(0), net(1, act=nn.Tanh)])
    with pytest.raises(ValueError, match="identically-shaped"):
        ensemble.stack([net(0), net(1, hidden=3)])
    with pytest.raises(TypeError, match="Dropout"):
        ensemble.stack([nn.Sequential(nn.Linear(2, 2), nn.Dropout())])
    out = Value(np.zeros((2, 3, 1)))
    with pytest.raises(TypeError, match="CrossEntropyLoss"):
        ensemble.member_losses(nn.CrossEntropyLoss(), out, np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="reduction='mean'"):
        ensemble.member_losses(nn.MSELoss(reduction="sum"), out, np.zeros((2, 3, 1)))
    X, Y = generate_xor_easy()
    with pytest.raises(ValueError, match="3 inputs arrays for 2 members"):
        ensemble.fit([net(0), net(1)], [X, X, X], Y, nn.MSELoss(), lambda ps: optim.SGD(ps, lr=1.0), epochs=1)
    with pytest.raises(ValueError, match="differ only in their seed"):
        run_seeds([LabConfig(epochs=5), LabConfig(epochs=6, seed=1)])


def test_models_are_untouched_when_fit_refuses():
    X, Y = generate_xor_easy()
    models = [net(0), net(1)]
    before = [p.data.copy() for m in models for p in m.parameters()]
    with pytest.raises(ValueError):
        ensemble.fit(models, X, Y, nn.MSELoss(), lambda ps: optim.SGD(ps, lr=1.0), epochs=-1)
    after = [p.data for m in models for p in m.parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_seed_groups():
    configs = [LabConfig(seed=0), LabConfig(seed=0, lr=2.0), LabConfig(seed=5), LabConfig(seed=1, lr=2.0)]
    assert seed_groups(configs) == [[0, 2], [1, 3]]


@pytest.mark.slow
def test_demo_verdicts_of_seeds_0_to_99_are_those_of_lone_runs():
    """The demo's two runs for seeds 0..99, stacked: every seed converges (or not) exactly as alone (minutes)."""
    import os
    import sys
    from concurrent.futures import ProcessPoolExecutor
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import demo_convergence
    finally:
        sys.path.pop(0)
    datasets = ("linear", "xor_easy")
    stacked = demo_convergence.seed_block((list(range(100)), False, None, False, datasets))
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        alone = list(pool.map(demo_convergence.one_seed, [(s, False, None, False, datasets) for s in range(100)]))
    assert demo_convergence.compare(stacked, alone) == []


def test_online_updates_stay_bit_identical_until_the_stopping_epoch():
    """One-row batches (the grid's online setting): a round-off difference would grow into another stopping
    epoch within a few dozen epochs, so stacked and lone runs must agree bit for bit."""
    configs = [LINEAR_BASE.replace(batch_size=1, lr=1.0, epochs=200, stop_at_zero_errors=True, seed=s)
               for s in (2, 3, 5)]
    for got, config in zip(run_seeds(configs), configs, strict=True):
        alone = run(config, quiet=True).history
        assert got.history.loss == alone.loss and got.history.epochs == alone.epochs


# ----------------------------------------------------------------------------------------------------
# the stacked linear op: each member's numbers bit for bit those of its own nn.Linear
# ----------------------------------------------------------------------------------------------------

def _members_and_stack(rng, members, n_in, n_out, bias=True, dtype=np.float64):
    layers = [nn.Linear(n_in, n_out, bias=bias, generator=int(s), dtype=dtype)
              for s in rng.integers(0, 2**31, size=members)]
    if bias:
        for layer in layers:   # non-zero biases of varied size (the lab starts them at zero)
            layer.bias.data = (rng.standard_normal(n_out) * rng.uniform(0.1, 10.0)).astype(dtype)
    return layers, ensemble.StackedLinear.from_linears(layers)


@pytest.mark.parametrize("rows", [1, 2, 21, 100])
@pytest.mark.parametrize("n_in, n_out", [(2, 4), (4, 4), (4, 1), (3, 5), (1, 3)])
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_stacked_linear_forward_and_gradients_are_each_members_own_bit_for_bit(rows, n_in, n_out, shared, dtype):
    """Output and the three gradients of every member equal nn.Linear's alone, to the last bit (signs of zeros
    aside; to round-off with a BLAS that does not chain its sums in order), for the stacked op's fast paths:
    one row, one output, shared or per-member inputs, each float dtype (float16 takes the plain products)."""
    if dtype is not np.float64 and not blas_chains_in_order():
        pytest.skip("this BLAS does not chain its sums in order: float64 is checked to round-off instead")
    rng = np.random.default_rng(rows * 100 + n_in * 10 + n_out + shared)
    members = 6
    layers, big = _members_and_stack(rng, members, n_in, n_out, dtype=dtype)
    xs = (rng.standard_normal((members, rows, n_in)) * rng.uniform(0.01, 100.0, size=(members, rows, n_in))
          ).astype(dtype)
    if shared:
        xs[:] = xs[0]
    x_big = Value(xs[0] if shared else xs, requires_grad=True)
    out = big(x_big)
    g = rng.standard_normal(out.shape).astype(dtype)
    g[:, ::3] = 0.0                                   # exact zeros in the incoming gradient
    out.backward(g)
    for s, layer in enumerate(layers):
        x = Value(xs[s], requires_grad=True)
        y = layer(x)
        y.backward(g[s])
        same(out.data[s], y.data)
        same(big.weight.grad.data[s], layer.weight.grad.data)
        same(big.bias.grad.data[s, 0], layer.bias.grad.data)
        if not shared:
            same(x_big.grad.data[s], x.grad.data)
    if shared:   # a shared input's gradient is the sum of the members' own (float16 summed in float32, rounded once)
        lone = sum((g[s] @ layers[s].weight.data).astype(np.float64) for s in range(members))
        np.testing.assert_allclose(x_big.grad.data, lone, rtol=1e-12 if dtype is np.float64 else 1e-2, atol=1e-12)


def test_stacked_linear_keeps_infinities_and_nans_where_each_member_has_them():
    """The BLAS-made bias rows and padded products multiply nothing by a non-finite number: an infinite bias
    gives an infinite output (not NaN), as nn.Linear does."""
    rng = np.random.default_rng(5)
    layers, big = _members_and_stack(rng, 3, 2, 4)
    layers[1].bias.data[2] = np.inf
    layers[2].bias.data[0] = np.nan
    big = ensemble.StackedLinear.from_linears(layers)
    x = rng.standard_normal((3, 7, 2))
    with np.errstate(all="ignore"):
        out = big(Value(x)).data
        for s, layer in enumerate(layers):
            same(out[s], layer(Value(x[s])).data)
    assert np.isinf(out[1, :, 2]).all() and np.isnan(out[2, :, 0]).all() and np.isfinite(out[0]).all()


def test_stacked_linear_gradients_match_finite_differences_and_second_order():
    from tinygrad_lab.testing import gradcheck, gradgradcheck
    rng = np.random.default_rng(11)
    _, big = _members_and_stack(rng, 3, 3, 2)
    w = Value(big.weight.data.copy(), requires_grad=True)
    b = Value(big.bias.data.copy(), requires_grad=True)
    x = Value(rng.standard_normal((3, 4, 3)), requires_grad=True)

    def f(x, w, b):
        return ensemble._StackedLinearOp.apply(x, w, b).tanh()

    shared = Value(rng.standard_normal((4, 3)), requires_grad=True)    # one input for every member
    for inputs in ((x, w, b), (shared, w, b)):
        assert gradcheck(f, inputs)
        assert gradgradcheck(f, inputs)


def test_stacked_linear_refuses_inputs_of_the_wrong_shape_or_dtype():
    _, big = _members_and_stack(np.random.default_rng(0), 3, 2, 4)
    with pytest.raises(ValueError, match=r"members=3, batch, 2"):
        big(Value(np.zeros((2, 5, 2))))
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        big(Value(np.zeros((5, 3))))
    with pytest.raises(TypeError, match="float32"):
        big(Value(np.zeros((5, 2), dtype=np.float32)))


@pytest.mark.parametrize("base", [XOR_BASE, LINEAR_BASE], ids=["xor (shared inputs)", "linear (data per seed)"])
def test_full_batch_runs_stay_bit_identical_to_lone_runs(base):
    """Full-batch training, the demo's setting: every epoch's loss and the final weights equal, bit for bit
    (to round-off with a BLAS that does not chain its sums in order)."""
    configs = [base.replace(seed=s, epochs=300) for s in (1, 4, 9)]
    for got, config in zip(run_seeds(configs), configs, strict=True):
        alone = run(config, quiet=True)
        same(got.history.loss, alone.history.loss)
        for p, q in zip(got.model.parameters(), alone.model.parameters(), strict=True):
            same(p.data, q.data)


@pytest.mark.parametrize("rows", [2, 21, 100])
@pytest.mark.parametrize("shared", [False, True])
def test_a_first_layer_fed_a_column_of_ones_computes_each_members_numbers_bit_for_bit(rows, shared):
    """ensemble.fit's full-batch first layer: input [x 1], bias as the product's last term, weight and bias
    gradients from one product; the same numbers as each member's nn.Linear on x."""
    rng = np.random.default_rng(rows + shared)
    layers, big = _members_and_stack(rng, 5, 2, 4)
    big._ones_column = True
    xs = rng.standard_normal((5, rows, 2)) * 10.0
    if shared:
        xs[:] = xs[0]
    x = xs[0] if shared else xs
    out = big(Value(np.concatenate((x, np.ones(x.shape[:-1] + (1,))), axis=-1)))
    g = rng.standard_normal(out.shape)
    out.backward(g)
    for s, layer in enumerate(layers):
        y = layer(Value(xs[s]))
        y.backward(g[s])
        same(out.data[s], y.data)
        same(big.weight.grad.data[s], layer.weight.grad.data)
        same(big.bias.grad.data[s, 0], layer.bias.grad.data)
    with pytest.raises(ValueError, match="batch, 3"):
        big(Value(x))                      # the ones column is missing


def test_the_ones_column_layer_gradients_match_finite_differences_and_second_order():
    from tinygrad_lab.testing import gradcheck, gradgradcheck
    rng = np.random.default_rng(12)
    _, big = _members_and_stack(rng, 3, 2, 3)
    w = Value(big.weight.data.copy(), requires_grad=True)
    b = Value(big.bias.data.copy(), requires_grad=True)
    x = Value(np.concatenate((rng.standard_normal((3, 4, 2)), np.ones((3, 4, 1))), axis=-1))

    def f(w, b):
        return ensemble._StackedLinearOp.apply(x, w, b, ones_column=True).tanh()

    assert gradcheck(f, (w, b))
    assert gradgradcheck(f, (w, b))
