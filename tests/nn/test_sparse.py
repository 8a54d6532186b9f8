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
