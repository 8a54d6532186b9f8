"""The lab's data sets and a mini-batch iterator.

Every generator returns ``(inputs, labels)``: ``inputs`` of shape ``(n, 2)`` and
``labels`` of shape ``(n, 1)``, both float64, labels 0.0 or 1.0. Random sets take a
``seed`` (an int, a ``numpy.random.Generator`` or None) and never download anything.

Example:
    >>> from tinygrad_lab import data
    >>> X, Y = data.generate_linear(100, seed=0)
    >>> X.shape, Y.shape
    ((100, 2), (100, 1))
    >>> X, Y = data.load_dataset("xor_easy")
    >>> len(X)
    21
    >>> for xb, yb in data.batches(X, Y, batch_size=8, shuffle=True, seed=0):
    ...     pass
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .autograd import unwrap
from .random import resolve_generator
from .utils.checks import check_bool, is_integer, is_real

__all__ = [
    "generate_linear", "generate_xor_easy", "generate_xor", "generate_moons", "generate_circles",
    "generate_spirals", "DATASETS", "Dataset", "dataset_names", "load_dataset", "DataLoader", "batches",
    "InputScaler", "SCALINGS",
]

Arrays = tuple[np.ndarray, np.ndarray]


# ----------------------------------------------------------------------------------------------------
# argument checks
# ----------------------------------------------------------------------------------------------------

def _check_count(n: Any, name: str = "n", minimum: int = 1) -> int:
    if not is_integer(n):
        raise TypeError(f"{name} must be an integer number of points, got {type(n).__name__} {n!r}")
    if n < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {n}")
    return int(n)


def _check_noise(noise: Any, name: str = "noise") -> float:
    if not is_real(noise, finite=True) or noise < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _labels(flags: np.ndarray) -> np.ndarray:
    return flags.astype(np.float64).reshape(-1, 1)


# ----------------------------------------------------------------------------------------------------
# the two sets of the lab
# ----------------------------------------------------------------------------------------------------

def generate_linear(n: int = 100, seed: Any = None) -> Arrays:
    """``n`` points uniform in [0, 1]^2, labelled 0 when x > y (below the diagonal) else 1.

    Example:
        >>> X, Y = generate_linear(5, seed=1)
        >>> bool(((X[:, 0] > X[:, 1]) == (Y[:, 0] == 0)).all())
        True
    """
    n = _check_count(n)
    inputs = resolve_generator(seed, none="fresh", name="seed").uniform(0.0, 1.0, size=(n, 2))
    return inputs, _labels(inputs[:, 0] <= inputs[:, 1])


def generate_xor_easy() -> Arrays:
    """The lab's 21 XOR points: (0.1i, 0.1i) labelled 0 for i = 0..10, and
    (0.1i, 1 - 0.1i) labelled 1 for i = 0..10 except i = 5 (which is (0.5, 0.5) again).

    Example:
        >>> X, Y = generate_xor_easy()
        >>> X[:2].tolist(), Y[:2, 0].tolist()
        ([[0.0, 0.0], [0.0, 1.0]], [0.0, 1.0])
    """
    inputs, labels = [], []
    for i in range(11):
        inputs.append((0.1 * i, 0.1 * i))
        labels.append(0.0)
        if i == 5:
            continue
        inputs.append((0.1 * i, 1.0 - 0.1 * i))
        labels.append(1.0)
    return np.array(inputs, dtype=np.float64), np.array(labels, dtype=np.float64).reshape(-1, 1)


# ----------------------------------------------------------------------------------------------------
# harder sets (all inside roughly [0, 1]^2 so the same networks and plots fit every set)
# ----------------------------------------------------------------------------------------------------

def generate_xor(n: int = 200, noise: float = 0.05, seed: Any = None) -> Arrays:
    """Noisy XOR quadrants: points uniform in [0, 1]^2, label 1 in the top-left and bottom-right
    quadrants, 0 in the other two; then Gaussian jitter of std ``noise`` blurs the borders.

    Example:
        >>> X, Y = generate_xor(8, noise=0.0, seed=0)
        >>> bool((((X[:, 0] > 0.5) != (X[:, 1] > 0.5)) == (Y[:, 0] == 1)).all())
        True
    """
    n, noise, rng = _check_count(n), _check_noise(noise), resolve_generator(seed, none="fresh", name="seed")
    inputs = rng.uniform(0.0, 1.0, size=(n, 2))
    labels = _labels((inputs[:, 0] > 0.5) != (inputs[:, 1] > 0.5))
    return inputs + rng.normal(0.0, noise, size=inputs.shape), labels


def generate_moons(n: int = 200, noise: float = 0.1, seed: Any = None) -> Arrays:
    """Two interleaving half circles (label 0 upper moon, 1 lower moon), scaled into about [0, 1]^2,
    with Gaussian jitter of std ``noise`` (in units of the moon radius).

    Example:
        >>> X, Y = generate_moons(100, seed=0)
        >>> int(Y.sum())
        50
    """
    n, noise, rng = _check_count(n, minimum=2), _check_noise(noise), resolve_generator(seed, none="fresh", name="seed")
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    inputs = np.concatenate([upper, lower]) + rng.normal(0.0, noise, size=(n, 2))
    labels = np.concatenate([np.zeros(n_upper), np.ones(n_lower)])
    order = rng.permutation(n)
    # x in [-1, 2], y in [-0.5, 1]: map both to about [0, 1] with the same aspect ratio
    inputs = (inputs - np.array([-1.0, -0.5])) / 3.0 + np.array([0.0, 0.25])
    return inputs[order], _labels(labels[order] == 1)


def generate_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: Any = None) -> Arrays:
    """A small circle (label 1) inside a large one (label 0), centred at (0.5, 0.5); ``factor`` is
    the inner radius over the outer radius, ``noise`` the std of the Gaussian jitter.

    Example:
        >>> X, Y = generate_circles(100, noise=0.0, seed=0)
        >>> r = np.hypot(X[:, 0] - 0.5, X[:, 1] - 0.5)
        >>> bool((r[Y[:, 0] == 1] < r[Y[:, 0] == 0].min()).all())
        True
    """
    n, noise, rng = _check_count(n, minimum=2), _check_noise(noise), resolve_generator(seed, none="fresh", name="seed")
    if not is_real(factor) or not 0 < factor < 1:
        raise ValueError(f"factor (inner radius / outer radius) must be between 0 and 1, got {factor!r}")
    n_outer = n // 2
    n_inner = n - n_outer
    t_outer = np.linspace(0.0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2 * np.pi, n_inner, endpoint=False)
    outer = np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1)
    inner = factor * np.stack([np.cos(t_inner), np.sin(t_inner)], axis=1)
    inputs = np.concatenate([outer, inner]) + rng.normal(0.0, noise, size=(n, 2))
    labels = np.concatenate([np.zeros(n_outer), np.ones(n_inner)])
    order = rng.permutation(n)
    return 0.5 + 0.45 * inputs[order], _labels(labels[order] == 1)


def generate_spirals(n: int = 200, noise: float = 0.02, turns: float = 1.5, seed: Any = None) -> Arrays:
    """Two interleaved spirals (labels 0 and 1) around (0.5, 0.5), each making ``turns`` turns;
    ``noise`` is the std of the Gaussian jitter. Needs a deeper or wider network than XOR.

    Example:
        >>> X, Y = generate_spirals(50, seed=0)
        >>> X.shape, int(Y.sum())
        ((50, 2), 25)
    """
    n, noise, rng = _check_count(n, minimum=2), _check_noise(noise), resolve_generator(seed, none="fresh", name="seed")
    if not is_real(turns) or not 0 < turns <= 10:
        raise ValueError(f"turns must be a number in (0, 10], got {turns!r}")
    counts = (n // 2, n - n // 2)
    parts, labels = [], []
    for label, count in enumerate(counts):
        t = np.linspace(0.05, 1.0, count)              # 0 = centre, 1 = outer end
        angle = 2 * np.pi * turns * t + np.pi * label
        arm = 0.45 * t[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        parts.append(arm)
        labels.append(np.full(count, float(label)))
    inputs = np.concatenate(parts) + rng.normal(0.0, noise, size=(n, 2))
    order = rng.permutation(n)
    return 0.5 + inputs[order], _labels(np.concatenate(labels)[order] == 1)


# ----------------------------------------------------------------------------------------------------
# registry
# ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dataset:
    """One entry of the registry: how to make a data set by name.

    ``fixed`` sets (XOR-easy) ignore ``n`` and ``seed``; the others draw ``n`` points
    (``default_n`` when not given) from ``seed``.

    Example:
        >>> DATASETS["moons"].default_n
        200
    """
    name: str
    make: Callable[..., Arrays]
    description: str
    default_n: int | None = None

    @property
    def fixed(self) -> bool:
        """True for a set with fixed points (no ``n``, no ``seed``)."""
        return self.default_n is None


DATASETS: dict[str, Dataset] = {
    d.name: d for d in (
        Dataset("linear", generate_linear, "points in [0,1]^2 split by the diagonal x = y", 100),
        Dataset("xor_easy", lambda n=None, seed=None: generate_xor_easy(),
                "the lab's 21 XOR points on the two diagonals"),
        Dataset("xor", generate_xor, "noisy XOR quadrants", 200),
        Dataset("moons", generate_moons, "two interleaving half circles", 200),
        Dataset("circles", generate_circles, "a small circle inside a large one", 200),
        Dataset("spirals", generate_spirals, "two interleaved spirals (hard)", 200),
    )
}


def dataset_names() -> list[str]:
    """The names :func:`load_dataset` accepts.

    Example:
        >>> dataset_names()[:2]
        ['linear', 'xor_easy']
    """
    return list(DATASETS)


def load_dataset(name: str, n: int | None = None, seed: Any = None) -> Arrays:
    """Make the data set called ``name`` (see :func:`dataset_names`) with ``n`` points from ``seed``.

    Example:
        >>> X, Y = load_dataset("circles", n=50, seed=0)
        >>> X.shape
        (50, 2)
    """
    entry = DATASETS.get(name) if isinstance(name, str) else None
    if entry is None:
        raise ValueError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}")
    if entry.fixed:
        if n is not None and n != len(entry.make()[0]):
            raise ValueError(f"data set {name!r} has a fixed number of points ({len(entry.make()[0])}); "
                             f"n={n} cannot change it")
        return entry.make()
    return entry.make(n=entry.default_n if n is None else n, seed=seed)


# ----------------------------------------------------------------------------------------------------
# input scaling
# ----------------------------------------------------------------------------------------------------

SCALINGS = ("none", "standard", "minmax")


class InputScaler:
    """Scale inputs with statistics of the training set: ``"none"``, ``"standard"`` (zero mean, unit
    variance per column) or ``"minmax"`` (each column to [-1, 1]). Fit once, apply to any inputs.

    Example:
        >>> X, _ = generate_linear(50, seed=0)
        >>> Z = InputScaler("standard").fit(X).transform(X)
        >>> bool(np.allclose(Z.mean(axis=0), 0) and np.allclose(Z.std(axis=0), 1))
        True
    """

    def __init__(self, kind: str = "none") -> None:
        if kind not in SCALINGS:
            raise ValueError(f"input scaling must be one of {', '.join(SCALINGS)}; got {kind!r}")
        self.kind = kind
        self.shift: np.ndarray | float = 0.0
        self.scale: np.ndarray | float = 1.0
        self.n_features: int | None = None      # columns seen by fit (None: not fitted yet)

    @property
    def fitted(self) -> bool:
        """True once :meth:`fit` has run (``"none"`` needs no fit)."""
        return self.n_features is not None

    def fit(self, inputs: np.ndarray) -> InputScaler:
        """Learn the shift and scale from ``inputs`` (rows are points, at least one); returns self."""
        inputs = np.asarray(inputs, dtype=np.float64)
        if inputs.ndim != 2 or len(inputs) == 0:
            raise ValueError(f"InputScaler.fit needs a 2-D array with at least one row (points) and one column "
                             f"per input, got shape {inputs.shape}")
        if not np.isfinite(inputs).all():      # one nan or inf would make every scaled value of its column nan
            raise ValueError("InputScaler.fit: the inputs hold nan or inf; remove or impute those points first")
        self.n_features = inputs.shape[1]
        if self.kind == "standard":
            std = inputs.std(axis=0)
            self.shift, self.scale = inputs.mean(axis=0), np.where(std > 0, std, 1.0)
        elif self.kind == "minmax":
            low, high = inputs.min(axis=0), inputs.max(axis=0)
            half = (high - low) / 2
            self.shift, self.scale = (high + low) / 2, np.where(half > 0, half, 1.0)
        return self

    def transform(self, inputs: np.ndarray) -> np.ndarray:
        """``(inputs - shift) / scale`` (the inputs unchanged for ``"none"``).

        Raises RuntimeError before :meth:`fit` (as scikit-learn's ``NotFittedError``; ``"none"`` has nothing
        to fit) and ValueError for inputs whose number of columns differs from the fitted ones.

        Example:
            >>> InputScaler("standard").transform(np.zeros((2, 2)))
            Traceback (most recent call last):
            ...
            RuntimeError: this InputScaler('standard') is not fitted yet: call fit(training_inputs) first
        """
        if self.kind == "none":
            return np.asarray(inputs, dtype=np.float64)
        if not self.fitted:
            raise RuntimeError(f"this {self!r} is not fitted yet: call fit(training_inputs) first")
        inputs = np.asarray(inputs, dtype=np.float64)
        if inputs.ndim != 2 or inputs.shape[1] != self.n_features:
            raise ValueError(f"{self!r} was fitted on inputs with {self.n_features} columns; got shape "
                             f"{inputs.shape}")
        return (inputs - self.shift) / self.scale

    def __repr__(self) -> str:
        return f"InputScaler({self.kind!r})"


# ----------------------------------------------------------------------------------------------------
# mini-batches
# ----------------------------------------------------------------------------------------------------

def check_pair(inputs: Any, targets: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, targets)`` as arrays with one row per example and the same number of rows (package-public).

    Example:
        >>> [a.shape for a in check_pair([[1.0, 2.0]], [[0.0]])]
        [(1, 2), (1, 1)]
    """
    inputs = np.asarray(unwrap(inputs))
    targets = np.asarray(unwrap(targets))
    if inputs.ndim == 0 or targets.ndim == 0:
        raise ValueError("inputs and targets must have one row per example, got a scalar")
    if len(inputs) != len(targets):
        raise ValueError(f"inputs and targets must have the same number of rows; got {len(inputs)} inputs "
                         f"and {len(targets)} targets")
    return inputs, targets


def _check_batch_size(batch_size: Any, n: int) -> int:
    if batch_size is None:
        return max(n, 1)
    if not is_integer(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None (the full batch), got {batch_size!r}")
    return int(batch_size)


class DataLoader:
    """Iterate over ``(inputs, targets)`` in mini-batches of NumPy arrays, like ``torch.utils.data.DataLoader``.

    ``batch_size=None`` gives one full batch; ``shuffle=True`` draws a new order every epoch (every
    ``iter()``) from ``seed``, so the whole sequence of epochs is reproducible.
    ``drop_last`` drops a last, smaller batch.

    Example:
        >>> X, Y = generate_linear(10, seed=0)
        >>> loader = DataLoader(X, Y, batch_size=4, shuffle=True, seed=0)
        >>> len(loader), [len(xb) for xb, _ in loader]
        (3, [4, 4, 2])
    """

    def __init__(self, inputs: Any, targets: Any, batch_size: int | None = None, shuffle: bool = False,
                 seed: Any = None, drop_last: bool = False) -> None:
        self.inputs, self.targets = check_pair(inputs, targets)
        self.batch_size = _check_batch_size(batch_size, len(self.inputs))
        self.shuffle = check_bool(shuffle, "shuffle", "DataLoader")     # "no" is truthy: refuse, not shuffle
        self.drop_last = check_bool(drop_last, "drop_last", "DataLoader")
        self._rng = resolve_generator(seed, none="fresh", name="seed") if self.shuffle else None

    def __len__(self) -> int:
        n = len(self.inputs)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n, size = len(self.inputs), self.batch_size
        if not self.shuffle and size >= n:
            if n and (n == size or not self.drop_last):
                yield self.inputs, self.targets
            return
        order = self._rng.permutation(n) if self._rng is not None else np.arange(n)  # _rng: only to shuffle
        stop = n - n % size if self.drop_last else n
        for start in range(0, stop, size):
            index = order[start:start + size]
            yield self.inputs[index], self.targets[index]


def batches(inputs: Any, targets: Any, batch_size: int | None = None, shuffle: bool = False,
            seed: Any = None, drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of mini-batches (see :class:`DataLoader`).

    Example:
        >>> X, Y = generate_linear(5, seed=0)
        >>> [len(xb) for xb, yb in batches(X, Y, batch_size=2)]
        [2, 2, 1]
    """
    return iter(DataLoader(inputs, targets, batch_size, shuffle, seed, drop_last))
