"""The global random number generator used by `nn.init` and `nn.Dropout` when no generator is given.

`manual_seed(n)` re-seeds it, so model initialisation and dropout masks are
reproducible from one call, as `torch.manual_seed` does:

Example:
    >>> import tinygrad_lab as tl
    >>> from tinygrad_lab import nn
    >>> _ = tl.random.manual_seed(0); a = nn.Linear(2, 3).weight.data.copy()
    >>> _ = tl.random.manual_seed(0); b = nn.Linear(2, 3).weight.data.copy()
    >>> bool((a == b).all())
    True
"""
from __future__ import annotations

import threading

import numpy as np

from .utils.capture import not_replayable
from .utils.checks import is_integer

__all__ = ["manual_seed", "get_generator", "resolve_generator"]

_RANDOM_DRAW = ("draws random numbers (e.g. dropout in training mode, or an initialiser); a replay would repeat the "
                "captured draw")

_generator: np.random.Generator | None = None   # made on first use: `import tinygrad_lab` skips numpy.random
_first_use = threading.Lock()


def manual_seed(seed: int) -> np.random.Generator:
    """Re-seed the global generator (used by initialisers and dropout) and return it.

    Example:
        >>> g = manual_seed(42)
        >>> g is get_generator()
        True
    """
    global _generator
    if not is_integer(seed):
        raise TypeError(f"manual_seed() takes an integer seed, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"manual_seed() takes a seed >= 0, got {seed}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def get_generator() -> np.random.Generator:
    """The global `numpy.random.Generator` (re-created by every `manual_seed` call).

    Example:
        >>> isinstance(get_generator(), np.random.Generator)
        True
    """
    global _generator
    not_replayable(_RANDOM_DRAW)   # a jit capture does not replay a random draw (it would repeat it)
    if _generator is None:
        with _first_use:       # one generator even when threads ask for it at the same time
            if _generator is None:
                _generator = np.random.default_rng()
    return _generator


def resolve_generator(generator: np.random.Generator | int | None = None, *, none: str = "global",
                      name: str = "generator") -> np.random.Generator:
    """The generator to draw from: the one given, a new one seeded with an int, or for None:

    - ``none="global"``: the global generator (`manual_seed` makes it reproducible), as
      `nn.init` and `nn.Dropout` use it;
    - ``none="fresh"``: a new generator from operating-system entropy, as the data sets and
      `DataLoader` shuffling use it.

    `name` is the argument's name in error messages.

    Example:
        >>> a = resolve_generator(3).random(); b = resolve_generator(3).random()
        >>> a == b
        True
        >>> resolve_generator() is get_generator(), resolve_generator(none="fresh") is get_generator()
        (True, False)
    """
    not_replayable(_RANDOM_DRAW)   # a jit capture does not replay a random draw (it would repeat it)
    if none not in ("global", "fresh"):
        raise ValueError(f"none must be 'global' or 'fresh', got {none!r}")
    if generator is None:
        return get_generator() if none == "global" else np.random.default_rng()
    if isinstance(generator, np.random.Generator):
        return generator
    if is_integer(generator):
        if generator < 0:
            raise ValueError(f"{name if name == 'seed' else name + ' seed'} must be >= 0, got {generator}")
        return np.random.default_rng(int(generator))
    raise TypeError(f"{name} must be a numpy.random.Generator, an int seed or None, "
                    f"got {type(generator).__name__} {generator!r}")
