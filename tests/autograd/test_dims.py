"""squeeze, unsqueeze and flatten check their dimensions as PyTorch does (they used to wrap an out-of-range
dim around with %, a silent wrong result found by tests/test_fuzz_api.py)."""
import numpy as np
import pytest

from tinygrad_lab import Value

CASES = [
    ((3,), "unsqueeze", (1,), (3, 1)), ((3,), "unsqueeze", (-2,), (1, 3)), ((3,), "unsqueeze", (2,), IndexError),
    ((3,), "unsqueeze", (-3,), IndexError), ((1,), "squeeze", (0,), ()), ((1,), "squeeze", (1,), IndexError),
    ((), "squeeze", (0,), ()), ((), "squeeze", (-1,), ()), ((), "squeeze", (1,), IndexError),
    ((2, 1), "squeeze", (-1,), (2,)), ((2, 3), "squeeze", (0,), (2, 3)), ((2, 3, 4), "flatten", (2, 0), RuntimeError),
    ((2, 3, 4), "flatten", (1, 5), IndexError), ((), "flatten", (0, 0), (1,)), ((2, 3), "flatten", (0, -1), (6,)),
    ((0, 3), "flatten", (1, 1), (0, 3)), ((2, 0, 3), "flatten", (1, 2), (2, 0)), ((3,), "unsqueeze", (1.0,), TypeError),
    ((1,), "squeeze", (True,), TypeError),
]


@pytest.mark.parametrize("shape, method, args, expected", CASES)
def test_dimension_arguments_follow_pytorch(shape, method, args, expected):
    x = Value(np.zeros(shape), requires_grad=True)
    if isinstance(expected, type):
        with pytest.raises(expected, match="Dimension out of range|cannot come after|must be an integer"):
            getattr(x, method)(*args)
        return
    out = getattr(x, method)(*args)
    assert out.shape == expected
    out.sum().backward()
    assert x.grad.shape == shape


@pytest.mark.parametrize("shape, method, args, expected", CASES)
def test_dimension_arguments_match_torch(shape, method, args, expected):
    torch = pytest.importorskip("torch", reason="PyTorch parity needs torch (pip install torch)")
    t = torch.zeros(shape)
    if isinstance(expected, type):
        with pytest.raises((IndexError, RuntimeError, TypeError)):
            getattr(t, method)(*args)
    else:
        assert tuple(getattr(t, method)(*args).shape) == expected


@pytest.mark.parametrize("call, error, message", [
    (lambda x: __import__("tinygrad_lab").broadcast_to(x, ()), ValueError, "cannot broadcast shape \\(1,\\) to \\(\\)"),
    (lambda x: __import__("tinygrad_lab").broadcast_to(x, (1.0,)), TypeError, "a shape must be a tuple of integers"),
    (lambda x: __import__("tinygrad_lab").sum_to(x, (-1,)), ValueError, "shape \\(1,\\) cannot be summed to \\(-1,\\)"),
    (lambda x: __import__("tinygrad_lab").sum_to(x, (1, 1)), ValueError, "cannot be summed to \\(1, 1\\)"),
    (lambda x: __import__("tinygrad_lab").sum_to(x, (1.0,)), TypeError, "a shape must be a tuple of integers"),
    (lambda x: x.astype(object), TypeError, "cast: the dtype must be numeric"),
    (lambda x: x.astype(str), TypeError, "cast: the dtype must be numeric"),
])
def test_shapes_and_dtypes_that_numpy_refuses_are_refused(call, error, message):
    """Found by tests/test_fuzz_api.py: each of these used to return a Value."""
    with pytest.raises(error, match=message):
        call(Value([1.0], requires_grad=True))
