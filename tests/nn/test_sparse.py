"""Embedding: initialisation, padding_idx and index checks without PyTorch; then outputs and weight gradients
(repeated indices accumulate, the padding row gets none) against torch.nn.Embedding in float64."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_lab as tg
from tinygrad_lab import nn


@pytest.fixture
def rng():
    return np.random.default_rng(9)


def test_init_is_standard_normal_with_a_zero_padding_row():
    tg.manual_seed(0)
    emb = nn.Embedding(2000, 8, padding_idx=-1)
    assert emb.padding_idx == 1999 and not emb.weight.data[1999].any()
    assert abs(emb.weight.data[:-1].std() - 1.0) < 0.05


def test_padding_row_gets_no_gradient_and_repeats_accumulate():
    emb = nn.Embedding(4, 2, padding_idx=0, generator=0)
    emb(np.array([[0, 2, 2], [0, 3, 2]])).sum().backward()
    assert emb.weight.grad.data[:, 0].tolist() == [0.0, 0.0, 3.0, 1.0]


def test_bad_indices_are_explained():
    emb = nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="out of range for 3 embeddings"):
        emb(np.array([3]))
    with pytest.raises(TypeError, match="integers"):
        emb(np.array([1.0]))


def test_from_pretrained_is_frozen_by_default():
    emb = nn.Embedding.from_pretrained(np.eye(3))
    assert not emb.weight.requires_grad and emb(np.array([1])).tolist() == [[0.0, 1.0, 0.0]]


def test_max_norm_rescales_the_rows_looked_up_in_place_and_only_those():
    weight = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [0.0, 5.0]])
    emb = nn.Embedding.from_pretrained(weight, max_norm=1.0)
    out = emb(np.array([0, 1, 0]))
    scale = 1.0 / (5.0 + 1e-7)          # PyTorch's max_norm / (norm + 1e-7), applied to row 0 only (norm 5)
    np.testing.assert_allclose(emb.weight.data[0], [3.0 * scale, 4.0 * scale], rtol=1e-15)
    assert emb.weight.data[1:].tolist() == weight[1:].tolist()   # row 1 is within the norm; rows 2, 3 unused
    np.testing.assert_array_equal(out.data, emb.weight.data[[0, 1, 0]])
    assert "max_norm=1.0" in repr(emb)


def test_scale_grad_by_freq_divides_each_rows_gradient_by_its_count_in_the_batch():
    emb = nn.Embedding(4, 2, scale_grad_by_freq=True, generator=0)
    emb(np.array([[2, 2, 2], [1, 3, 2]])).sum().backward()
    assert emb.weight.grad.data[:, 0].tolist() == [0.0, 1.0, 1.0, 1.0]   # row 2: 4 occurrences of 1/4 each


def test_bad_embedding_options_are_refused_before_the_weight_changes():
    emb = nn.Embedding.from_pretrained(np.full((3, 2), 10.0))
    with pytest.raises(ValueError, match="max_norm must be a positive number"):
        nn.Embedding(3, 2, max_norm=-1.0)
    with pytest.raises(NotImplementedError, match="sparse gradients do not exist here"):
        nn.Embedding(3, 2, sparse=True)
    with pytest.raises(TypeError, match="scale_grad_by_freq must be True or False"):
        nn.Embedding(3, 2, scale_grad_by_freq="yes")
    with pytest.raises(IndexError, match="out of range"):
        tg.nn.functional.embedding(np.array([0, 5]), emb.weight, max_norm=1.0)
    assert (emb.weight.data == 10.0).all()   # the bad index was found before any row was rescaled


try:
    import torch
except ImportError:   # the PyTorch comparisons below skip; everything above runs without torch
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch parity needs torch (pip install torch)")


@needs_torch
@pytest.mark.parametrize("padding_idx", [None, 0, 2, -1])
def test_embedding_matches_torch(rng, padding_idx):
    ours = nn.Embedding(5, 3, padding_idx=padding_idx, generator=1)
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx).double()
    theirs.load_state_dict({"weight": torch.tensor(ours.state_dict()["weight"])})
    idx = rng.integers(0, 5, size=(4, 6))
    out, ref = ours(idx), theirs(torch.tensor(idx))
    np.testing.assert_allclose(out.data, ref.detach().numpy())
    weights = rng.normal(size=ref.shape)
    (out * weights).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-13)


@needs_torch
@pytest.mark.parametrize("options", [dict(max_norm=1.0), dict(max_norm=1.5, norm_type=1.0),
                                     dict(scale_grad_by_freq=True), dict(padding_idx=1, max_norm=2.0,
                                                                         scale_grad_by_freq=True)])
def test_embedding_options_match_torch(rng, options):
    weight = rng.normal(size=(6, 3)) * 2
    ours = nn.Embedding.from_pretrained(weight, freeze=False, **options)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(weight), freeze=False, **options)
    idx = np.array([[1, 2, 1], [5, 1, 0]])
    out, ref = ours(idx), theirs(torch.tensor(idx))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-14)   # renormed alike
    weights = rng.normal(size=ref.shape)
    (out * weights).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-13)
    assert repr(ours) == repr(theirs)
