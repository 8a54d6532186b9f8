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


def _adam_pair(make_big, options):
    """Adam on `make_big(start)` and on the same numbers as a plain C-ordered array, four steps each."""
    rng = np.random.default_rng(11)
    start = rng.standard_normal(BLOCK + 5)
    big = Value(make_big(start.copy()), requires_grad=True)
    plain = Value(start.copy(), requires_grad=True)
    opt_big, opt_plain = optim.Adam([big], lr=0.01, **options), optim.Adam([plain], lr=0.01, **options)
    for _ in range(4):
        grad = rng.standard_normal(start.shape)
        big.grad, plain.grad = Value(make_big(grad.copy())), Value(grad)
        opt_big.step()
        opt_plain.step()
    return big, plain


@pytest.mark.parametrize("options", [{}, {"amsgrad": True}])
def test_a_parameter_that_is_not_c_contiguous_is_updated_in_place(options):
    def fortran(a):
        return np.asfortranarray(a.reshape(3, -1))   # BLOCK + 5 numbers, column-major

    big, plain = _adam_pair(fortran, options)
    assert not big.data.flags.c_contiguous and big.data.shape == (3, (BLOCK + 5) // 3)
    np.testing.assert_array_equal(big.data, plain.data.reshape(3, -1))


def test_a_parameter_of_exactly_one_block_keeps_its_shape():
    rng = np.random.default_rng(12)
    start = rng.standard_normal((2, BLOCK // 2))
    p = Value(start.copy(), requires_grad=True)
    halves = [Value(start[i].copy(), requires_grad=True) for i in range(2)]
    opt, opt_halves = optim.Adam([p], lr=0.01), optim.Adam(halves, lr=0.01)
    for _ in range(3):
        grad = rng.standard_normal(start.shape)
        p.grad = Value(grad)
        for i, h in enumerate(halves):
            h.grad = Value(grad[i])
        opt.step()
        opt_halves.step()
    assert p.data.shape == (2, BLOCK // 2)
    np.testing.assert_array_equal(p.data, np.stack([h.data for h in halves]))


@pytest.mark.parametrize("make", [lambda ps: optim.Adam(ps, lr=0.1), lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
                                  lambda ps: optim.AdamW(ps, lr=0.1),
                                  lambda ps: optim.RMSprop(ps, lr=0.1, centered=True, momentum=0.5)],
                         ids=["adam", "amsgrad", "adamw", "rmsprop-centered"])
def test_a_0d_parameter_takes_the_same_steps_as_a_one_element_array(make):
    scalar, vector = Value(0.5, requires_grad=True), Value([0.5], requires_grad=True)
    opt_scalar, opt_vector = make([scalar]), make([vector])
    for g in (0.3, -1.2, 0.7):
        scalar.grad, vector.grad = Value(g), Value([g])
        opt_scalar.step()
        opt_vector.step()
    assert scalar.shape == () and float(scalar.data) == vector.data[0] != 0.5
