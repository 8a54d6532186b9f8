"""Gradient buffers: leaf gradients are arrays of their own; rules that work in
place on their temporaries give the numbers of the plain formulas and leave their inputs alone; Adam's step
in two temporaries gives PyTorch's formula's numbers bit for bit.

Expected values are the formulas written out with NumPy (the derivative of each op, Adam's update).
"""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_lab import Value, nn, optim
from tinygrad_lab.ops import linear, sigmoid, tanh
from tinygrad_lab.ops.unary import Tanh


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12)


def _arrays_apart(*arrays: np.ndarray) -> bool:
    return not any(np.shares_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:])


SIZES = [(5, 3, 4), (60, 40, 50)]   # (batch, in, out): small and large gradients


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, fan_in, fan_out", SIZES)
def test_linear_leaf_gradients_are_separate_arrays_with_the_formulas_values(rng, dtype, n, fan_in, fan_out):
    x = Value(rng.standard_normal((n, fan_in)).astype(dtype), requires_grad=True)
    w = Value(rng.standard_normal((fan_out, fan_in)).astype(dtype), requires_grad=True)
    b = Value(rng.standard_normal(fan_out).astype(dtype), requires_grad=True)
    seed = rng.standard_normal((n, fan_out)).astype(dtype)
    kept = seed.copy()
    linear(x, w, b).backward(gradient=seed)
    assert np.array_equal(x.grad.data, seed @ w.data)
    assert np.array_equal(w.grad.data, seed.T @ x.data)
    assert np.array_equal(b.grad.data, seed.sum(axis=0))
    assert all(v.grad.dtype == dtype for v in (x, w, b))
    assert _arrays_apart(x.grad.data, w.grad.data, b.grad.data, seed, x.data, w.data, b.data)
    w.grad.data[...] = 0.0                       # changing one gradient changes nothing else
    assert np.array_equal(seed, kept) and np.array_equal(b.grad.data, seed.sum(axis=0))


@pytest.mark.parametrize("n, width", [(2, 3), (20, 40)])
def test_a_weight_used_twice_gets_the_sum_as_an_array_of_its_own(rng, n, width):
    w = Value(rng.standard_normal((width, width)), requires_grad=True)
    x = Value(rng.standard_normal((n, width)))
    h = linear(x, w)
    out = linear(h, w)
    g = rng.standard_normal((n, width))
    out.backward(gradient=g)
    expected = g.T @ h.data + (g @ w.data).T @ x.data      # second use + first use, as the engine adds them
    np.testing.assert_allclose(w.grad.data, expected, rtol=1e-13)
    assert _arrays_apart(w.grad.data, g, h.data, x.data, w.data)
    out = linear(linear(x, w), w)
    out.backward(gradient=g)                                # accumulates into the existing gradient
    np.testing.assert_allclose(w.grad.data, 2 * expected, rtol=1e-13)


@pytest.mark.parametrize("n, fan_in, fan_out", SIZES)
def test_a_gradient_a_leaf_hook_keeps_is_not_the_leafs_gradient(rng, n, fan_in, fan_out):
    w = Value(rng.standard_normal((fan_out, fan_in)), requires_grad=True)
    kept = []
    w.register_hook(lambda g: kept.append(g))
    linear(Value(rng.standard_normal((n, fan_in))), w).sum().backward()
    assert len(kept) == 1 and np.array_equal(kept[0], w.grad.data)
    assert not np.shares_memory(kept[0], w.grad.data)


@pytest.mark.parametrize("n, fan_in, fan_out", SIZES)
def test_a_retained_intermediate_gradient_is_not_shared_with_its_inputs_gradients(rng, n, fan_in, fan_out):
    w = Value(rng.standard_normal((fan_out, fan_in)), requires_grad=True)
    h = linear(Value(rng.standard_normal((n, fan_in))), w)
    h.retain_grad()
    (h + 0.0).sum().backward()
    assert np.array_equal(h.grad.data, np.ones((n, fan_out)))
    assert _arrays_apart(h.grad.data, w.grad.data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(6, 4), (80, 64)])     # small arrays, and large ones (worked on in place)
def test_tanh_and_sigmoid_gradients_are_the_formulas_and_leave_the_seed_alone(rng, dtype, shape):
    x = Value(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    seed = rng.standard_normal(shape).astype(dtype)
    kept = seed.copy()
    y = tanh(x)
    y.backward(gradient=seed)
    assert np.array_equal(x.grad.data, seed * (1 - y.data * y.data)) and x.grad.dtype == dtype
    x.zero_grad()
    s = sigmoid(x)
    s.backward(gradient=seed)
    assert np.array_equal(x.grad.data, seed * s.data * (1 - s.data)) and x.grad.dtype == dtype
    assert np.array_equal(seed, kept)


def test_tanh_gradient_of_another_dtype_keeps_numpys_promotion(rng):
    x = Value(rng.standard_normal(5000).astype(np.float32))
    y = tanh(x)
    seed = rng.standard_normal(5000)                       # float64: the rule's product is float64, as before
    (g,) = Tanh.backward(seed, y.data, x.data)
    assert g.dtype == np.float64 and np.array_equal(g, seed * (1 - y.data * y.data))


def _adam_reference(p, grads, lr, betas, eps, amsgrad):
    """torch.optim.Adam's update, each line as PyTorch (and tinygrad_lab before its temporaries were reused)."""
    m, v, v_max = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        m += (1 - betas[0]) * (g - m)
        v *= betas[1]
        v += (1 - betas[1]) * g * g
        step_size = lr / (1 - betas[0] ** t)
        bias_correction2_sqrt = (1 - betas[1] ** t) ** 0.5
        if amsgrad:
            np.maximum(v_max, v, out=v_max)
            denom = np.sqrt(v_max) / bias_correction2_sqrt + eps
        else:
            denom = np.sqrt(v) / bias_correction2_sqrt + eps
        p = p + (-step_size * m) / denom
    return p


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (3,), (4, 5)])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_gives_the_formulas_numbers_bit_for_bit(rng, dtype, shape, amsgrad):
    start = np.asarray(rng.standard_normal(shape)).astype(dtype)
    grads = [np.asarray(rng.standard_normal(shape)).astype(dtype) for _ in range(4)]
    p = Value(start.copy(), requires_grad=True)
    opt = optim.Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, amsgrad=amsgrad)
    for g in grads:
        p.grad = Value(g.copy())
        opt.step()
    expected = _adam_reference(start.copy(), grads, 0.01, (0.8, 0.99), 1e-6, amsgrad)
    assert p.data.dtype == dtype and p.data.shape == shape
    assert np.array_equal(p.data, expected)
    assert np.array_equal(p.grad.data, grads[-1])           # the gradient is left alone


@pytest.mark.parametrize("width", [4, 64])
def test_a_training_step_of_a_network_leaves_no_shared_gradients(rng, width):
    model = nn.Sequential(nn.Linear(3, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 2))
    x = Value(rng.standard_normal((5, 3)))
    model(x).sum().backward()
    grads = [p.grad.data for p in model.parameters()]
    assert _arrays_apart(*grads, *(p.data for p in model.parameters()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("net", ["tanh-sigmoid-mse", "relu-cross-entropy"])
def test_every_gradient_of_a_training_step_keeps_the_networks_dtype(rng, dtype, net):
    """No hidden up-cast: the gradient reaching each intermediate Value has the network's dtype (a leaf's
    gradient is cast to its dtype anyway, so the intermediates are the ones that show one)."""
    from tinygrad_lab.nn import functional as F

    x = Value(rng.standard_normal((8, 5)).astype(dtype))
    layers = [nn.Linear(5, 6, dtype=dtype), nn.Linear(6, 6, dtype=dtype), nn.Linear(6, 3, dtype=dtype)]
    seen: list[tuple[str, np.dtype]] = []
    h = x
    for i, layer in enumerate(layers):
        z = layer(h)
        z.register_hook(lambda g, i=i: seen.append((f"z{i}", g.dtype)))
        if i < 2:
            h = tanh(z) if net == "tanh-sigmoid-mse" else F.relu(z)
            h.register_hook(lambda g, i=i: seen.append((f"h{i}", g.dtype)))
    if net == "tanh-sigmoid-mse":
        out = sigmoid(z)
        out.register_hook(lambda g: seen.append(("out", g.dtype)))
        loss = F.mse_loss(out, Value(rng.uniform(size=(8, 3)).astype(dtype)))
    else:
        loss = F.cross_entropy(z, rng.integers(0, 3, size=8))
    assert loss.dtype == dtype
    loss.backward()
    assert len(seen) >= 5 and all(d == dtype for _, d in seen), seen
    opt = optim.Adam([p for layer in layers for p in layer.parameters()], lr=0.1)
    opt.step()
    assert all(p.data.dtype == dtype and p.grad.dtype == dtype for layer in layers for p in layer.parameters())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outer_products_in_linear_are_the_matrix_products_bit_for_bit(rng, dtype):
    """A layer with one output (or one input, or a batch of one) makes outer products; they are computed as
    broadcast products and must be the GEMM's numbers exactly, signs of zeros, infinities and NaNs included."""
    n, features = 300, 40
    x = Value(rng.standard_normal((n, features)).astype(dtype), requires_grad=True)
    w = Value(rng.standard_normal((1, features)).astype(dtype), requires_grad=True)
    b = Value(np.zeros(1, dtype=dtype), requires_grad=True)
    w.data[0, :4] = [0.0, -0.0, np.inf, 1e-30]
    seed = rng.standard_normal((n, 1)).astype(dtype)
    seed[:3, 0] = [-0.0, 0.0, -1e-30]
    with np.errstate(all="ignore"):
        linear(x, w, b).backward(gradient=seed)
        expected = seed @ w.data
    assert x.grad.data.tobytes() == expected.tobytes()
    one = Value(rng.standard_normal((1, 70)).astype(dtype), requires_grad=True)         # a batch of one
    wide = Value(rng.standard_normal((90, 70)).astype(dtype), requires_grad=True)
    g = rng.standard_normal((1, 90)).astype(dtype)
    g[0, :2] = [-0.0, 0.0]
    linear(one, wide).backward(gradient=g)
    assert wide.grad.data.tobytes() == (g.T @ one.data).tobytes()
    column = rng.standard_normal((200, 1)).astype(dtype)                                # one input feature
    column[:2, 0] = [-0.0, 0.0]
    weight = rng.standard_normal((50, 1)).astype(dtype)
    assert linear(Value(column), Value(weight)).data.tobytes() == (column @ weight.T).tobytes()
