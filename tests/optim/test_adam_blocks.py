"""Adam updates a large parameter block by block: the same numbers as the whole-array update."""
import numpy as np
import pytest

from tinygrad_lab import Value, optim
from tinygrad_lab.optim.adam import BLOCK


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [{}, {"amsgrad": True, "weight_decay": 0.1}, {"maximize": True}])
def test_blocked_update_is_the_elementwise_update(dtype, options):
    rng = np.random.default_rng(7)
    n = 2 * BLOCK + 123                                   # three blocks, the last one short
    start = rng.standard_normal((n // 3, 3)).astype(dtype)
    big = Value(start.copy(), requires_grad=True)
    rows = np.array_split(np.arange(n // 3), 9)           # the same numbers as small (whole-array) parameters
    small = [Value(start[r].copy(), requires_grad=True) for r in rows]
    assert all(p.data.size <= BLOCK for p in small)
    opt_big = optim.AdamW([big], lr=0.01, **options) if "weight_decay" in options else optim.Adam([big], lr=0.01,
                                                                                                     **options)
    opt_small = type(opt_big)(small, lr=0.01, **options)
    for _ in range(4):
        grad = rng.standard_normal(start.shape).astype(dtype)
        big.grad = Value(grad)
        for p, r in zip(small, rows, strict=True):
            p.grad = Value(grad[r])
        opt_big.step()
        opt_small.step()
    np.testing.assert_array_equal(big.data, np.concatenate([p.data for p in small]))
    assert big.data.dtype == dtype
