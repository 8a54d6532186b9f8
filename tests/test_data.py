"""The lab's data sets, the registry, input scaling and the mini-batch iterator."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_lab import data
from tinygrad_lab.data import (
    DATASETS,
    DataLoader,
    InputScaler,
    batches,
    dataset_names,
    generate_circles,
    generate_linear,
    generate_moons,
    generate_spirals,
    generate_xor,
    generate_xor_easy,
    load_dataset,
)

# ----------------------------------------------------------------------------------------------------
# the lab's two sets
# ----------------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 500), seed=st.integers(0, 2**32 - 1))
def test_generate_linear_follows_the_lab_rule(n, seed):
    X, Y = generate_linear(n, seed=seed)
    assert X.shape == (n, 2) and Y.shape == (n, 1)
    assert X.dtype == np.float64 and Y.dtype == np.float64
    assert ((X >= 0) & (X <= 1)).all()
    np.testing.assert_array_equal(Y[:, 0], np.where(X[:, 0] > X[:, 1], 0.0, 1.0))


def test_generate_linear_is_reproducible_and_seed_dependent():
    a, b, c = generate_linear(50, seed=3), generate_linear(50, seed=3), generate_linear(50, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(generate_linear(50)[0], generate_linear(50)[0])   # None: fresh entropy
    gen = np.random.default_rng(9)
    np.testing.assert_array_equal(generate_linear(5, seed=gen)[0], np.random.default_rng(9).uniform(size=(5, 2)))


def test_generate_linear_default_is_100_points_with_both_classes():
    X, Y = generate_linear(seed=0)
    assert X.shape == (100, 2)
    assert 20 < Y.sum() < 80


def test_generate_xor_easy_is_exactly_the_lab_set():
    X, Y = generate_xor_easy()
    assert X.shape == (21, 2) and Y.shape == (21, 1)
    expected_points, expected_labels = [], []
    for i in range(11):
        expected_points.append((0.1 * i, 0.1 * i))
        expected_labels.append(0)
        if i != 5:
            expected_points.append((0.1 * i, 1 - 0.1 * i))
            expected_labels.append(1)
    np.testing.assert_allclose(X, expected_points)
    np.testing.assert_array_equal(Y[:, 0], expected_labels)
    assert Y.sum() == 10
    assert len({tuple(p) for p in np.round(X, 9)}) == 21      # (0.5, 0.5) only once


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError),
                                        ("10", TypeError)])
def test_generate_linear_rejects_bad_n(bad, error):
    with pytest.raises(error, match="n must be"):
        generate_linear(bad, seed=0)


@pytest.mark.parametrize("seed, error", [(-1, ValueError), ("a", TypeError), (1.5, TypeError)])
def test_bad_seeds_are_explained(seed, error):
    with pytest.raises(error, match="seed"):
        generate_linear(10, seed=seed)


# ----------------------------------------------------------------------------------------------------
# harder sets
# ----------------------------------------------------------------------------------------------------

HARD = [generate_xor, generate_moons, generate_circles, generate_spirals]


@pytest.mark.parametrize("make", HARD)
@pytest.mark.parametrize("n", [2, 7, 200])
def test_harder_sets_shapes_labels_and_reproducibility(make, n):
    X, Y = make(n, seed=1)
    assert X.shape == (n, 2) and Y.shape == (n, 1) and X.dtype == np.float64
    assert set(np.unique(Y)) <= {0.0, 1.0}
    X2, Y2 = make(n, seed=1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(Y, Y2)
    assert not np.array_equal(make(n, seed=2)[0], X)
    assert np.all(np.abs(X - 0.5) < 1.5)                  # about the unit square, like the lab sets


@pytest.mark.parametrize("make", [generate_moons, generate_circles, generate_spirals])
def test_two_class_sets_are_balanced(make):
    _, Y = make(101, seed=0)
    assert Y.sum() in (50, 51)


def test_xor_without_noise_follows_the_quadrant_rule():
    X, Y = generate_xor(300, noise=0.0, seed=0)
    np.testing.assert_array_equal(Y[:, 0] == 1, (X[:, 0] > 0.5) != (X[:, 1] > 0.5))


def test_circles_without_noise_separate_by_radius():
    X, Y = generate_circles(100, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(X[:, 0] - 0.5, X[:, 1] - 0.5)
    np.testing.assert_allclose(r[Y[:, 0] == 0], 0.45)
    np.testing.assert_allclose(r[Y[:, 0] == 1], 0.45 * 0.3)


def test_noise_moves_points():
    clean, _ = generate_moons(50, noise=0.0, seed=0)
    noisy, _ = generate_moons(50, noise=0.2, seed=0)
    assert not np.allclose(clean, noisy)


@pytest.mark.parametrize("call, match", [
    (lambda: generate_moons(10, noise=-0.1), "noise"),
    (lambda: generate_xor(10, noise=float("nan")), "noise"),
    (lambda: generate_circles(10, factor=1.5), "factor"),
    (lambda: generate_spirals(10, turns=0), "turns"),
    (lambda: generate_moons(1), "n must be at least 2"),
])
def test_harder_sets_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------------------------------

def test_registry_names_and_loading():
    assert dataset_names() == list(DATASETS)
    assert {"linear", "xor_easy", "xor", "moons", "circles", "spirals"} <= set(dataset_names())
    for name in dataset_names():
        X, Y = load_dataset(name, seed=0)
        assert X.shape[1] == 2 and len(X) == len(Y)
        assert DATASETS[name].description
    np.testing.assert_array_equal(load_dataset("linear", 30, seed=5)[0], generate_linear(30, seed=5)[0])
    np.testing.assert_array_equal(load_dataset("xor_easy")[0], generate_xor_easy()[0])
    assert len(load_dataset("moons", seed=0)[0]) == DATASETS["moons"].default_n


def test_registry_errors_name_the_choices():
    with pytest.raises(ValueError, match="unknown data set 'mnist'.*linear, xor_easy"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="fixed number of points"):
        load_dataset("xor_easy", n=50)
    assert len(load_dataset("xor_easy", n=21)[0]) == 21


# ----------------------------------------------------------------------------------------------------
# input scaling
# ----------------------------------------------------------------------------------------------------

def test_input_scalers():
    X, _ = generate_linear(200, seed=0)
    z = InputScaler("standard").fit(X).transform(X)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1)
    m = InputScaler("minmax").fit(X).transform(X)
    np.testing.assert_allclose(m.min(axis=0), -1)
    np.testing.assert_allclose(m.max(axis=0), 1)
    np.testing.assert_array_equal(InputScaler("none").fit(X).transform(X), X)
    new = np.array([[0.5, 0.5]])
    scaler = InputScaler("standard").fit(X)                   # statistics come from the fitted set
    np.testing.assert_allclose(scaler.transform(new), (new - X.mean(0)) / X.std(0))


def test_scaler_handles_constant_columns_and_bad_kinds():
    X = np.array([[1.0, 2.0], [1.0, 3.0]])
    for kind in ("standard", "minmax"):
        assert np.isfinite(InputScaler(kind).fit(X).transform(X)).all()
    with pytest.raises(ValueError, match="input scaling must be one of none, standard, minmax"):
        InputScaler("zscore")


# ----------------------------------------------------------------------------------------------------
# mini-batches
# ----------------------------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 60), batch_size=st.one_of(st.none(), st.integers(1, 70)), shuffle=st.booleans(),
       drop_last=st.booleans(), seed=st.integers(0, 1000))
def test_dataloader_visits_every_example_once_per_epoch(n, batch_size, shuffle, drop_last, seed):
    X = np.arange(2 * n, dtype=float).reshape(n, 2)
    Y = np.arange(n, dtype=float).reshape(n, 1)
    loader = DataLoader(X, Y, batch_size=batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    size = n if batch_size is None else batch_size
    for _ in range(2):
        seen = []
        chunks = list(loader)
        assert len(chunks) == len(loader)
        for xb, yb in chunks:
            assert len(xb) == len(yb) <= size
            np.testing.assert_array_equal(xb[:, 0] / 2, yb[:, 0])        # rows stay paired
            seen.extend(yb[:, 0].astype(int).tolist())
        if drop_last:
            assert all(len(yb) == size for _, yb in chunks)
            assert len(seen) == n - n % size
        else:
            assert sorted(seen) == list(range(n))
        assert len(set(seen)) == len(seen)
        if not shuffle:
            assert seen == sorted(seen)


def test_shuffling_is_reproducible_and_changes_every_epoch():
    X, Y = generate_linear(40, seed=0)
    order = lambda loader: [tuple(yb[:, 0]) + tuple(xb[:, 0]) for xb, yb in loader]  # noqa: E731
    a, b = DataLoader(X, Y, 8, shuffle=True, seed=1), DataLoader(X, Y, 8, shuffle=True, seed=1)
    first_a, first_b = order(a), order(b)
    assert first_a == first_b
    assert order(a) != first_a                               # a new order each epoch
    assert order(DataLoader(X, Y, 8, shuffle=True, seed=2)) != first_a


def test_full_batch_returns_the_arrays_themselves():
    X, Y = generate_linear(10, seed=0)
    ((xb, yb),) = list(DataLoader(X, Y))
    assert xb is X and yb is Y


def test_batches_function():
    X, Y = generate_linear(5, seed=0)
    assert [len(xb) for xb, _ in batches(X, Y, batch_size=2)] == [2, 2, 1]
    assert [len(xb) for xb, _ in batches(X, Y, batch_size=2, drop_last=True)] == [2, 2]
    assert data.batches is batches


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size must be a positive integer or None"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"batch_size": True}, "batch_size"),
])
def test_dataloader_rejects_bad_batch_sizes(kwargs, match):
    X, Y = generate_linear(5, seed=0)
    with pytest.raises(ValueError, match=match):
        DataLoader(X, Y, **kwargs)
    with pytest.raises(ValueError, match=match):
        batches(X, Y, **kwargs)


def test_dataloader_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="same number of rows; got 5 inputs and 4 targets"):
        DataLoader(np.zeros((5, 2)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="one row per example"):
        DataLoader(np.float64(1.0), np.zeros(1))


def test_seed_none_draws_fresh_entropy_and_leaves_the_global_generator_alone():
    from tinygrad_lab.random import get_generator, manual_seed, resolve_generator

    manual_seed(0)
    state = get_generator().bit_generator.state
    a, b = generate_linear(20), generate_linear(20)
    assert not np.array_equal(a[0], b[0])
    assert get_generator().bit_generator.state == state
    assert resolve_generator(None) is get_generator()
    assert resolve_generator(None, none="fresh") is not get_generator()
    with pytest.raises(ValueError, match="none must be 'global' or 'fresh'"):
        resolve_generator(None, none="entropy")
