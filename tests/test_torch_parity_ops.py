"""Every op against PyTorch: the same forward values and gradients in float64 (skips without torch)."""
import numpy as np
import pytest

import tinygrad_lab as tg
from tinygrad_lab import Value

torch = pytest.importorskip("torch")

_DATA = np.random.default_rng(1234)  # the fixed inputs below, drawn once at import; tests use the `rng` fixture
A = _DATA.standard_normal((3, 4))
B = _DATA.standard_normal((3, 4))
ROW = _DATA.standard_normal((4,))
POS = _DATA.uniform(0.2, 2.0, (3, 4))
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0], [0.5, 0.5, 0.5, 0.5]])
SQUARE = _DATA.standard_normal((4, 5))
BIAS = _DATA.standard_normal(5)
del _DATA
INDEX = np.array([0, 2, 2, 1])

# (name, inputs, our function, torch function); each function gets one argument per input
CASES = [
    ("add_broadcast", (A, ROW), lambda a, b: a + b, lambda a, b: a + b),
    ("sub_scalar", (A,), lambda a: 2.0 - a, lambda a: 2.0 - a),
    ("mul_broadcast", (A, ROW), lambda a, b: a * b, lambda a, b: a * b),
    ("div", (A, POS), lambda a, b: a / b, lambda a, b: a / b),
    ("pow_const", (POS,), lambda a: a ** 2.5, lambda a: a ** 2.5),
    ("pow_value_exponent", (POS, B), lambda a, b: a ** b, lambda a, b: a ** b),
    ("matmul", (A, SQUARE), lambda a, b: a @ b, lambda a, b: a @ b),
    ("matvec", (A, ROW), lambda a, b: a @ b, lambda a, b: a @ b),
    ("linear", (A, SQUARE.T, BIAS),
     lambda x, w, b: tg.linear(x, w, b), lambda x, w, b: torch.nn.functional.linear(x, w, b)),
    ("exp", (A,), lambda a: a.exp(), torch.exp),
    ("log", (POS,), lambda a: a.log(), torch.log),
    ("sqrt", (POS,), lambda a: a.sqrt(), torch.sqrt),
    ("abs_with_zero", (np.array([-1.0, 0.0, 2.0]),), lambda a: a.abs(), torch.abs),
    ("tanh", (A,), lambda a: a.tanh(), torch.tanh),
    ("sigmoid_extremes", (np.array([-800.0, -30.0, -1.0, 0.0, 2.0, 40.0]),), lambda a: a.sigmoid(), torch.sigmoid),
    ("log_sigmoid_extremes", (np.array([-800.0, -30.0, -1.0, 0.0, 2.0, 40.0]),), lambda a: tg.ops.log_sigmoid(a),
     torch.nn.functional.logsigmoid),
    ("relu_with_zero", (np.array([-1.0, 0.0, 2.0]),), lambda a: a.relu(), torch.relu),
    ("leaky_relu", (A,), lambda a: tg.ops.leaky_relu(a, 0.2),
     lambda a: torch.nn.functional.leaky_relu(a, 0.2)),
    ("clip_at_bounds", (np.array([-2.0, -1.0, 0.0, 1.0, 2.0]),), lambda a: a.clip(-1.0, 1.0),
     lambda a: a.clamp(-1.0, 1.0)),
    ("maximum_ties", (TIES, np.full((3, 4), 2.0)),
     lambda a, b: tg.maximum(a, b), torch.maximum),
    ("minimum_ties", (TIES, np.full((3, 4), 0.5)), lambda a, b: tg.minimum(a, b), torch.minimum),
    ("where", (A, B), lambda a, b: tg.where(A > 0, a, b), lambda a, b: torch.where(torch.from_numpy(A > 0), a, b)),
    ("sum_axis", (A,), lambda a: a.sum(axis=1, keepdims=True), lambda a: a.sum(dim=1, keepdim=True)),
    ("mean_axes", (A,), lambda a: a.mean(axis=(0, 1)), lambda a: a.mean(dim=(0, 1))),
    ("max_all_ties", (TIES,), lambda a: a.max(), torch.amax),
    ("max_axis_ties", (TIES,), lambda a: a.max(axis=1), lambda a: torch.amax(a, dim=1)),
    ("min_axis", (A,), lambda a: a.min(axis=0), lambda a: torch.amin(a, dim=0)),
    ("logsumexp", (A * 300,), lambda a: tg.logsumexp(a, axis=1), lambda a: torch.logsumexp(a, dim=1)),
    ("softmax", (A,), lambda a: tg.softmax(a, axis=0), lambda a: torch.softmax(a, dim=0)),
    ("log_softmax", (A * 300,), lambda a: tg.log_softmax(a, axis=1), lambda a: torch.log_softmax(a, dim=1)),
    ("reshape", (A,), lambda a: a.reshape(2, 6), lambda a: a.reshape(2, 6)),
    ("transpose", (A,), lambda a: a.transpose(0, 1), lambda a: a.transpose(0, 1)),
    ("permute", (A.reshape(3, 2, 2),), lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1)),
    ("getitem_repeats", (A,), lambda a: a[:, INDEX], lambda a: a[:, torch.from_numpy(INDEX)]),
    ("getitem_mask", (A,), lambda a: a[A > 0], lambda a: a[torch.from_numpy(A > 0)]),
    ("concat", (A, B), lambda a, b: tg.concat([a, b], axis=1), lambda a, b: torch.cat([a, b], dim=1)),
    ("stack", (A, B), lambda a, b: tg.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], dim=1)),
    ("concat_unequal_three_negative_axis", (A, SQUARE[:3, :2], ROW[:3, None]),
     lambda a, b, c: tg.concat([a, b, c], axis=-1), lambda a, b, c: torch.cat([a, b, c], dim=-1)),
    ("concat_unequal_axis_0", (A, SQUARE[:1, :4], B[1:]),
     lambda a, b, c: tg.concat([a, b, c], axis=0), lambda a, b, c: torch.cat([a, b, c], dim=0)),
    ("stack_three_negative_axis", (A, B, POS),
     lambda a, b, c: tg.stack([a, b, c], axis=-2), lambda a, b, c: torch.stack([a, b, c], dim=-2)),
]


@pytest.mark.parametrize("name, inputs, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_forward_and_gradients_match_torch(name, inputs, ours, theirs, rng):
    weights = rng.standard_normal(np.shape(theirs(*[torch.from_numpy(np.array(x)) for x in inputs])))
    values = [Value(x, requires_grad=True) for x in inputs]
    out = ours(*values)
    (out * weights).sum().backward()
    tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
    expected = theirs(*tensors)
    (expected * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-13, atol=1e-300)
    for v, t in zip(values, tensors):
        np.testing.assert_allclose(v.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_second_derivatives_match_torch():
    x = Value(POS, requires_grad=True)
    (g,) = tg.grad((x.log() * x.sigmoid() * x ** 3).sum(), x, create_graph=True)
    (h,) = tg.grad((g * g).sum(), x)
    t = torch.tensor(POS, requires_grad=True)
    (tg_,) = torch.autograd.grad((t.log() * t.sigmoid() * t ** 3).sum(), t, create_graph=True)
    (th,) = torch.autograd.grad((tg_ * tg_).sum(), t)
    np.testing.assert_allclose(h.data, th.numpy(), rtol=1e-12)
