"""Tensor ops of issue 11 (var/std, argmax/argmin, gather, scatter_add, split/chunk, expand, repeat, flip, cumsum,
masked_fill, erf, one_hot, pad, embedding, gelu, silu): conventions without PyTorch, then PyTorch parity in
float64 (forward and gradients; skips without torch)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_lab as tg
from tinygrad_lab import Value
from tinygrad_lab.nn import functional as F


@pytest.fixture
def rng():
    return np.random.default_rng(11)


# ---------------------------------------------------------------------------- conventions (no torch)

def test_std_gradient_is_zero_where_std_is_zero():
    x = Value(np.full((2, 3), 1.5), requires_grad=True)
    x.std(dim=1).sum().backward()
    assert np.array_equal(x.grad.data, np.zeros((2, 3)))


def test_var_correction_and_unbiased():
    x = Value([1.0, 2.0, 4.0])
    assert x.var().item() == pytest.approx(7 / 3)
    assert x.var(correction=0).item() == pytest.approx(14 / 9)
    assert tg.var(x, unbiased=False).item() == pytest.approx(14 / 9)


def test_argmax_takes_the_first_of_ties_and_is_not_differentiable():
    x = Value([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    result = x.argmax(dim=1)
    assert result.tolist() == [1, 0] and result.dtype == np.int64 and not result.requires_grad
    assert x.argmin().item() == 5
    assert x.argmax(dim=1, keepdim=True).shape == (2, 1)


def test_integer_indexing_accumulates_repeated_indices():
    w = Value(np.arange(6.0).reshape(3, 2), requires_grad=True)
    w[np.array([2, 0, 2, 2])].sum().backward()
    assert w.grad.data[:, 0].tolist() == [1.0, 0.0, 3.0]


def test_scatter_add_accumulates_and_gather_is_its_adjoint(rng):
    index = np.array([[0, 1, 0], [2, 0, 0]])
    src = Value(rng.normal(size=(2, 3)), requires_grad=True)
    out = tg.scatter_add(Value(np.zeros((3, 3))), 0, index, src)
    expected = np.zeros((3, 3))
    np.add.at(expected, (index, np.arange(3)[None, :]), src.data)
    assert np.allclose(out.data, expected)
    g = rng.normal(size=(3, 3))
    (out * g).sum().backward()
    assert np.allclose(src.grad.data, tg.gather(g, 0, index))


def test_split_and_chunk_sizes():
    x = Value(np.arange(10.0))
    assert [p.shape for p in x.split(4)] == [(4,), (4,), (2,)]
    assert [p.shape for p in x.split([3, 7])] == [(3,), (7,)]
    assert [p.shape for p in x.chunk(4)] == [(3,), (3,), (3,), (1,)]
    assert [p.shape for p in tg.chunk(Value(np.arange(6.0)), 4)] == [(2,), (2,), (2,)]   # fewer, as torch
    with pytest.raises(ValueError, match="add up to 10"):
        x.split([3, 3])


def test_masked_fill_blocks_the_gradient_where_filled():
    x = Value([1.0, 2.0, 3.0], requires_grad=True)
    x.masked_fill(np.array([True, False, False]), -1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(TypeError, match="boolean"):
        x.masked_fill(np.array([1, 0, 0]), 0.0)


def test_pad_order_is_last_axis_first_and_negative_crops():
    x = Value(np.ones((2, 3)))
    assert F.pad(x, (1, 2)).shape == (2, 6)
    assert F.pad(x, (0, 0, 1, 0)).shape == (3, 3)
    assert F.pad(x, (-1, 0)).shape == (2, 2)
    with pytest.raises(ValueError, match="even length"):
        F.pad(x, (1, 2, 3))


def test_pad_modes_copy_from_the_input_and_send_each_copy_gradient_back():
    """Conventions without PyTorch: reflect mirrors without repeating the edge, replicate repeats it, circular
    wraps; each padded element is a copy, so its gradient adds into the element it copies."""
    x = Value([1.0, 2.0, 3.0], requires_grad=True)
    assert F.pad(x, (2, 1), mode="reflect").tolist() == [3.0, 2.0, 1.0, 2.0, 3.0, 2.0]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [1.0, 1.0, 1.0, 2.0, 3.0, 3.0]
    assert F.pad(x, (2, 1), mode="circular").tolist() == [2.0, 3.0, 1.0, 2.0, 3.0, 1.0]
    F.pad(x, (2, 1), mode="reflect").sum().backward()
    assert x.grad.tolist() == [1.0, 3.0, 2.0]   # 2 is copied twice (left of 1, right of 3), 3 once
    grid = Value(np.arange(6.0).reshape(2, 3))
    assert F.pad(grid, (1, 0, 0, 1), mode="replicate").tolist() == [[0, 0, 1, 2], [3, 3, 4, 5], [3, 3, 4, 5]]


@pytest.mark.parametrize(("widths", "mode", "message"), [
    ((3, 0), "reflect", "less than the axis size"), ((4, 0), "circular", "at most the axis size"),
    ((-1, 0), "replicate", "non-negative widths"), ((1, 1), "wrap", "mode must be one of"),
])
def test_pad_modes_refuse_what_pytorch_refuses(widths, mode, message):
    with pytest.raises(ValueError, match=message):
        F.pad(Value(np.zeros((2, 3))), widths, mode=mode)
    with pytest.raises(ValueError, match="no `value` argument"):
        F.pad(Value(np.zeros((2, 3))), (1, 1), mode="reflect", value=1.0)


def test_one_hot_and_errors():
    assert F.one_hot(np.array([2, 0])).tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(ValueError, match="too large"):
        F.one_hot(np.array([3]), 3)
    with pytest.raises(TypeError, match="integers"):
        F.one_hot(np.array([1.0]))


def test_gather_rejects_bad_indices():
    x = Value(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="out of bounds"):
        x.gather(1, np.array([[3], [0]]))
    with pytest.raises(IndexError, match="out of bounds"):
        x.gather(1, np.array([[-1], [0]]))     # negative indices are not wrapped (as torch)
    with pytest.raises(ValueError, match="dimensions"):
        x.gather(1, np.array([0, 1]))


def test_expand_and_repeat_errors():
    x = Value(np.zeros((2, 1)))
    assert x.expand(3, -1, 4).shape == (3, 2, 4)
    with pytest.raises(ValueError, match="must match"):
        x.expand(3, 4)
    with pytest.raises(ValueError, match="one count per dimension"):
        x.repeat(2)


# ---------------------------------------------------------------------------- PyTorch parity

try:
    import torch
except ImportError:   # the PyTorch comparisons below skip; everything above runs without torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch parity needs torch (pip install torch)")


def compare(ours, theirs, arrays, seed=0, rtol=1e-12, atol=1e-13):
    values = [Value(a, requires_grad=True) for a in arrays]
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    mine, ref = ours(*values), theirs(*tensors)
    np.testing.assert_allclose(mine.data, ref.detach().numpy(), rtol=rtol, atol=atol)
    weights = np.random.default_rng(seed).normal(size=ref.shape)
    (mine * weights).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for v, t in zip(values, tensors, strict=True):
        np.testing.assert_allclose(v.grad.data, t.grad.numpy(), rtol=rtol, atol=atol)


@needs_torch
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var_std_match_torch(rng, dim, correction, keepdim):
    x = rng.normal(size=(3, 4, 5))
    compare(lambda a: a.var(dim=dim, correction=correction, keepdim=keepdim),
            lambda a: a.var(dim=dim, correction=correction, keepdim=keepdim), [x])
    compare(lambda a: a.std(dim=dim, correction=correction, keepdim=keepdim),
            lambda a: a.std(dim=dim, correction=correction, keepdim=keepdim), [x])


@needs_torch
@pytest.mark.parametrize("extra", [0, 1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("data", [[[1.0, 2.0, 3.0], [4.0, 2.0, 0.0]], [[2.0, 2.0], [2.0, 2.0]]],
                         ids=["mean-in-x", "all-equal"])
def test_var_std_without_degrees_of_freedom_match_torch(extra, keepdim, data):
    """Full reduction with correction >= n: inf or nan forward; var's gradient inf or nan (nan where x == mean),
    std's nan. (PyTorch's dim reductions differ there: finite numbers; see var's docstring.)"""
    x = np.array(data)
    correction = x.size + extra
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore")   # the degrees-of-freedom warning (NumPy's and PyTorch's)
        compare(lambda a: a.var(correction=correction, keepdim=keepdim),
                lambda a: a.var(correction=correction, keepdim=keepdim), [x])
        compare(lambda a: a.std(correction=correction, keepdim=keepdim),
                lambda a: a.std(correction=correction, keepdim=keepdim), [x])


@needs_torch
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_argmax_argmin_match_torch(dim):
    x = np.array([[1.0, 5.0, 5.0, 0.0], [7.0, 7.0, -1.0, -1.0], [0.0, 0.0, 0.0, 0.0]])
    t = torch.tensor(x)
    assert np.array_equal(tg.argmax(x, dim=dim), torch.argmax(t, dim=dim).numpy())
    assert np.array_equal(tg.argmin(x, dim=dim), torch.argmin(t, dim=dim).numpy())


@needs_torch
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_gather_scatter_add_match_torch(rng, dim):
    x = rng.normal(size=(3, 4, 5))
    shape = [2, 3, 4]
    shape[dim] = 6
    index = rng.integers(0, x.shape[dim], size=shape)
    compare(lambda a: a.gather(dim, index), lambda a: a.gather(dim, torch.tensor(index)), [x])
    src = rng.normal(size=shape)   # torch cannot back-propagate into a src larger than index
    compare(lambda a, s: a.scatter_add(dim, index, s), lambda a, s: a.scatter_add(dim, torch.tensor(index), s),
            [x, src])


@needs_torch
def test_movement_ops_match_torch(rng):
    x = rng.normal(size=(2, 3, 4))
    compare(lambda a: a.flip(0, 2), lambda a: a.flip(0, 2), [x])
    compare(lambda a: a.repeat(2, 1, 1, 3), lambda a: a.repeat(2, 1, 1, 3), [x])
    compare(lambda a: a[:, :1].expand(5, -1, 3, -1), lambda a: a[:, :1].expand(5, -1, 3, -1), [x])
    compare(lambda a: a.cumsum(dim=1), lambda a: a.cumsum(dim=1), [x])
    compare(lambda a: tg.concat([p * (i + 1) for i, p in enumerate(a.split([1, 3], dim=2))], axis=2),
            lambda a: torch.cat([p * (i + 1) for i, p in enumerate(a.split([1, 3], dim=2))], dim=2), [x])
    compare(lambda a: tg.concat([p * (i + 1) for i, p in enumerate(a.chunk(2, dim=1))], axis=1),
            lambda a: torch.cat([p * (i + 1) for i, p in enumerate(a.chunk(2, dim=1))], dim=1), [x])
    mask = x > 0.3
    compare(lambda a: a.masked_fill(mask, 2.5), lambda a: a.masked_fill(torch.tensor(mask), 2.5), [x])


@needs_torch
@pytest.mark.parametrize("widths", [(1, 2), (0, 1, 2, 0), (1, 1, 1, 1, 1, 1), (-1, 2, 0, -1)])
def test_pad_matches_torch(rng, widths):
    x = rng.normal(size=(2, 3, 4))
    compare(lambda a: F.pad(a, widths, value=0.7), lambda a: torch.nn.functional.pad(a, widths, value=0.7), [x])


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths", [(1, 2), (0, 1, 2, 0), (1, 1, 2, 1, 0, 1), (3, 3)])
def test_pad_modes_match_torch(rng, mode, widths):
    x = rng.normal(size=(2, 3, 4, 5, 4)[:len(widths) // 2 + 2])   # torch: batch and channel axes, then the padded
    compare(lambda a: F.pad(a, widths, mode=mode), lambda a: torch.nn.functional.pad(a, widths, mode=mode), [x])


@needs_torch
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_activations_match_torch(rng, approximate):
    x = np.concatenate([rng.normal(size=20) * 3, [0.0, -12.0, 12.0, 40.0, -40.0]])
    compare(lambda a: a.erf(), torch.erf, [x])
    compare(lambda a: F.gelu(a, approximate=approximate),
            lambda a: torch.nn.functional.gelu(a, approximate=approximate), [x])
    compare(lambda a: F.silu(a), torch.nn.functional.silu, [x])


@needs_torch
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_matches_torch(rng, padding_idx):
    w = rng.normal(size=(5, 3))
    idx = np.array([[0, 4, 3, 3], [1, 0, 4, 2]])
    compare(lambda a: F.embedding(idx, a, padding_idx),
            lambda a: torch.nn.functional.embedding(torch.tensor(idx), a, padding_idx), [w])


@needs_torch
def test_one_hot_matches_torch():
    labels = np.array([[0, 3], [2, 1]])
    assert np.array_equal(F.one_hot(labels, 5), torch.nn.functional.one_hot(torch.tensor(labels), 5).numpy())
