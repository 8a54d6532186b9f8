"""Hypothesis strategies for gradient property tests (needs hypothesis: ``pip install 'tinygrad-lab[test]'``).

They make float64 inputs that finite differences can check: bounded values, kept away from kinks
(0 for abs/relu) and ties (max/min), positive values for log/sqrt, shapes that broadcast or
multiply, and small networks::

    from hypothesis import given
    from tinygrad_lab.testing import gradcheck, strategies as tst

    @given(tst.values(avoid=(0.0,)))
    def test_abs(x):
        assert gradcheck(lambda x: x.abs(), (x,))

    @given(tst.broadcastable_shapes().flatmap(lambda s: st.tuples(*(tst.values(shape) for shape in s))))
    def test_mul(pair):
        assert gradcheck(lambda a, b: a * b, pair)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

try:
    import hypothesis.extra.numpy as hnp
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised only without hypothesis
    raise ImportError(
        "tinygrad_lab.testing.strategies needs hypothesis: pip install 'tinygrad-lab[test]' "
        "(or pip install hypothesis)"
    ) from error

from ..autograd import Value

__all__ = [
    "arrays",
    "broadcastable_shapes",
    "matmul_shapes",
    "networks_with_inputs",
    "positive_arrays",
    "sequential_networks",
    "shapes",
    "values",
]

ShapeArg = tuple | st.SearchStrategy | None


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes (tuples) with `min_dims`..`max_dims` axes of length `min_side`..`max_side`.

    Example:
        >>> shapes(min_dims=2, max_dims=2).example()                    # doctest: +SKIP
        (3, 1)
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    n: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of `n` mutually broadcastable shapes (like ``(2, 1, 3)`` and ``(4, 1)``).

    Example:
        >>> a, b = broadcastable_shapes().example()                      # doctest: +SKIP
        >>> np.broadcast_shapes(a, b)                                     # doctest: +SKIP
        (2, 4, 3)
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    ).map(lambda s: s.input_shapes)


def matmul_shapes(
    max_batch_dims: int = 2, min_side: int = 1, max_side: int = 4, vectors: bool = True
) -> st.SearchStrategy[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Pairs of shapes ``(a, b)`` for which ``a @ b`` is defined (NumPy matmul rules, batch broadcasting).

    ``vectors=False`` keeps both operands at least 2-D (no 1-D vector operands).

    Example:
        >>> a, b = matmul_shapes().example()                             # doctest: +SKIP
        >>> (np.zeros(a) @ np.zeros(b)).shape                             # doctest: +SKIP
        (2, 3, 5)
    """
    signature = "(m?,n),(n,p?)->(m?,p?)" if vectors else "(m,n),(n,p)->(m,p)"
    return hnp.mutually_broadcastable_shapes(
        signature=signature, min_dims=0, max_dims=max_batch_dims, min_side=min_side, max_side=max_side
    ).map(lambda s: (s.input_shapes[0], s.input_shapes[1]))  # the signature's two operands


def _as_shape_strategy(shape: ShapeArg) -> st.SearchStrategy:
    if shape is None:
        return shapes()
    if isinstance(shape, st.SearchStrategy):
        return shape
    if isinstance(shape, int):
        return st.just((shape,))
    return st.just(tuple(shape))


def _check_range(min_value: float, max_value: float, avoid: Sequence[float], min_gap: float) -> None:
    if not (math.isfinite(min_value) and math.isfinite(max_value) and min_value < max_value):
        raise ValueError(f"arrays(): need finite min_value < max_value, got {min_value} and {max_value}")
    if min_gap < 0:
        raise ValueError(f"arrays(): min_gap must be >= 0, got {min_gap}")
    free = (max_value - min_value) - sum(
        2 * min_gap for k in avoid if min_value - min_gap < k < max_value + min_gap
    )
    if free <= 0:
        raise ValueError(
            f"arrays(): avoiding {tuple(avoid)} by min_gap={min_gap} leaves no room in "
            f"[{min_value}, {max_value}]"
        )


def _away_from(avoid: Sequence[float], gap: float, low: float, high: float) -> Callable[[float], float]:
    """Push a value out of the forbidden zones around each kink (to the nearer edge inside the range)."""

    def push(x: float) -> float:
        for kink in avoid:
            if abs(x - kink) < gap:
                up, down = kink + gap, kink - gap
                if x >= kink:
                    x = up if up <= high else down
                else:
                    x = down if down >= low else up
        return x

    return push


def _allowed(x: float, avoid: Sequence[float], gap: float, low: float, high: float) -> bool:
    return low <= x <= high and all(abs(x - kink) >= gap for kink in avoid)


def arrays(
    shape: ShapeArg = None,
    dtype: Any = np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    avoid: Sequence[float] = (),
    min_gap: float = 0.1,
    distinct: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """Float arrays with elements in ``[min_value, max_value]``, at least `min_gap` from each kink in `avoid`.

    `shape` is a tuple, an int, a strategy of shapes, or None (any small shape, see :func:`shapes`).
    ``avoid=(0.0,)`` suits abs/relu; ``avoid=(-1.0, 1.0)`` a clip to [-1, 1]. ``distinct=True`` also keeps
    every two entries at least `min_gap` apart (no ties for max/min, whose gradient is undefined at a
    tie). No NaN or inf is ever produced.

    Example:
        >>> from hypothesis import given
        >>> @given(arrays((3, 4), avoid=(0.0,)))
        ... def test_relu_input(x):
        ...     assert np.all(np.abs(x) >= 0.1)
        >>> test_relu_input()
    """
    avoid = tuple(float(k) for k in avoid)
    _check_range(min_value, max_value, avoid, min_gap)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"arrays(): dtype must be a floating-point dtype, got {dtype}")
    shape_strategy = _as_shape_strategy(shape)
    if distinct and not isinstance(shape, (st.SearchStrategy, type(None))):
        _check_fits(
            math.prod(_fixed_shape(shape)),
            len(_grid_cells(min_value, max_value, avoid, min_gap)),
            min_value,
            max_value,
            min_gap,
        )
    if distinct:
        return shape_strategy.flatmap(
            lambda s: _distinct_arrays(s, dtype, min_value, max_value, avoid, min_gap)
        )
    width: Literal[32, 64] = 32 if dtype == np.float32 else 64
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)
    if avoid:
        elements = elements.map(_away_from(avoid, min_gap, min_value, max_value)).filter(
            lambda x: _allowed(x, avoid, min_gap, min_value, max_value)
        )
    return hnp.arrays(dtype, shape_strategy, elements=elements)


def _fixed_shape(shape: tuple | int) -> tuple:
    return (shape,) if isinstance(shape, int) else tuple(shape)


def _grid(low: float, high: float, gap: float) -> tuple[float, float]:
    """Step and jitter of the grid distinct entries sit on: cells 2*gap apart, jittered by less than gap."""
    step = 2 * gap if gap > 0 else (high - low) / 1024
    return step, (gap if gap > 0 else step / 2)


def _grid_cells(low: float, high: float, avoid: tuple, gap: float) -> list[int]:
    step, jitter = _grid(low, high, gap)
    return [
        k
        for k in range(math.ceil(low / step), math.floor((high - jitter) / step) + 1)
        if all(_allowed(x, avoid, gap, low, high) for x in (k * step, k * step + jitter))
    ]


def _check_fits(size: int, room: int, low: float, high: float, gap: float) -> None:
    if size > room:
        raise ValueError(
            f"arrays(distinct=True): {size} entries at least min_gap={gap} apart do not fit in "
            f"[{low}, {high}] (room for {room}); widen the range or lower min_gap"
        )


def _distinct_arrays(
    shape: tuple, dtype: np.dtype, low: float, high: float, avoid: tuple, gap: float
) -> st.SearchStrategy[np.ndarray]:
    """Entries on distinct cells of a grid of step 2*gap, jittered by less than gap: pairwise >= gap apart."""
    step, jitter = _grid(low, high, gap)
    cells = _grid_cells(low, high, avoid, gap)
    size = math.prod(shape)
    _check_fits(size, len(cells), low, high, gap)
    picked = st.permutations(cells).map(lambda ks: ks[:size]) if size else st.just([])
    offsets = st.lists(st.floats(0, jitter, exclude_max=True), min_size=size, max_size=size)
    return st.tuples(picked, offsets).map(
        lambda pair: (
            (np.array(pair[0], dtype=np.float64) * step + np.array(pair[1], dtype=np.float64))
            .reshape(shape)
            .astype(dtype)
        )
    )


def positive_arrays(
    shape: ShapeArg = None, dtype: Any = np.float64, min_value: float = 0.1, max_value: float = 5.0
) -> st.SearchStrategy[np.ndarray]:
    """Arrays with elements in ``[min_value, max_value]`` (default [0.1, 5]): the domain of log, sqrt, x**p.

    Example:
        >>> from hypothesis import given
        >>> @given(positive_arrays((5,)))
        ... def test_log_domain(x):
        ...     assert np.all(x > 0)
        >>> test_log_domain()
    """
    if min_value <= 0:
        raise ValueError(f"positive_arrays(): min_value must be > 0, got {min_value}")
    return arrays(shape, dtype=dtype, min_value=min_value, max_value=max_value)


def values(
    shape: ShapeArg = None, requires_grad: bool = True, positive: bool = False, **array_options: Any
) -> st.SearchStrategy[Value]:
    """``Value``s (``requires_grad=True`` by default) wrapping :func:`arrays` (or :func:`positive_arrays`).

    Extra keywords go to :func:`arrays` (``avoid``, ``min_gap``, ``distinct``, ``min_value``...).

    Example:
        >>> from hypothesis import given
        >>> from tinygrad_lab.testing import gradcheck
        >>> @given(values((2, 3), avoid=(0.0,)))
        ... def test_abs(x):
        ...     assert gradcheck(lambda x: x.abs(), (x,))
        >>> test_abs()
    """
    make = positive_arrays if positive else arrays
    return make(shape, **array_options).map(lambda a: Value(a, requires_grad=requires_grad))


_ACTIVATIONS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "ReLU"}


def sequential_networks(
    in_features: int | None = None,
    out_features: int | None = None,
    max_hidden_layers: int = 2,
    max_width: int = 5,
    activations: Sequence[str] = ("tanh", "sigmoid"),
    bias: bool | None = None,
) -> st.SearchStrategy[Any]:
    """Small float64 ``nn.Sequential`` networks: Linear layers with activations between them.

    Weights come from the drawn example (not from a global random state), so failures reproduce.
    The input width is ``net[0].in_features``. Activations are named (``"tanh"``, ``"sigmoid"``,
    ``"relu"``; relu has a kink at 0, so it is not in the default). `bias=None` draws it per layer.

    Example:
        >>> from hypothesis import given
        >>> from tinygrad_lab.testing import gradcheck_module
        >>> @given(sequential_networks(in_features=3))
        ... def test_networks(net):
        ...     assert gradcheck_module(net, np.ones((2, 3)))
        >>> test_networks()                                              # doctest: +SKIP
    """
    unknown = [a for a in activations if a not in _ACTIVATIONS]
    if unknown or not activations:
        raise ValueError(
            f"sequential_networks(): activations must be names among {sorted(_ACTIVATIONS)}, "
            f"got {list(activations)}"
        )
    width = st.integers(1, max_width)
    return st.builds(
        lambda n_in, hidden, n_out: (n_in, hidden, n_out),
        st.just(in_features) if in_features is not None else width,
        st.lists(st.tuples(width, st.sampled_from(list(activations))), max_size=max_hidden_layers),
        st.just(out_features) if out_features is not None else width,
    ).flatmap(lambda layout: _network_from_layout(*layout, bias=bias))


def _network_from_layout(
    n_in: int, hidden: list[tuple[int, str]], n_out: int, bias: bool | None
) -> st.SearchStrategy[Any]:
    sizes = [n_in] + [h for h, _ in hidden] + [n_out]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=False):
        scale = 1.0 / math.sqrt(fan_in)
        layers.append(
            st.tuples(
                arrays((fan_out, fan_in), min_value=-scale, max_value=scale),
                st.booleans() if bias is None else st.just(bias),
                arrays((fan_out,), min_value=-scale, max_value=scale),
            )
        )
    return st.tuples(*layers).map(lambda params: _build_network(sizes, [a for _, a in hidden], params))


def _build_network(sizes: list[int], activations: list[str], params: tuple) -> Any:
    from .. import nn

    modules: list[Any] = []
    for i, (weight, has_bias, bias) in enumerate(params):
        linear = nn.Linear(sizes[i], sizes[i + 1], bias=bool(has_bias))
        linear.weight.data = np.array(weight, dtype=np.float64)
        if has_bias:
            linear.bias.data = np.array(bias, dtype=np.float64)
        modules.append(linear)
        if i < len(activations):
            modules.append(getattr(nn, _ACTIVATIONS[activations[i]])())
    return nn.Sequential(*modules)


def networks_with_inputs(
    batch: tuple[int, int] = (1, 4), **network_options: Any
) -> st.SearchStrategy[tuple[Any, np.ndarray]]:
    """Pairs ``(net, x)``: a :func:`sequential_networks` network and a float64 input batch for it.

    Example:
        >>> from hypothesis import given
        >>> from tinygrad_lab.testing import gradcheck_module
        >>> @given(networks_with_inputs())
        ... def test_networks(pair):
        ...     net, x = pair
        ...     assert gradcheck_module(net, x)
        >>> test_networks()                                              # doctest: +SKIP
    """
    return sequential_networks(**network_options).flatmap(
        lambda net: st.tuples(
            st.just(net), arrays(st.integers(*batch).map(lambda n: (n, net[0].in_features)))
        )
    )
