"""A bool where an int belongs (a dim, a size, a shape) is a TypeError, as in PyTorch, never a silent 0 or 1."""
import numpy as np
import pytest

import tinygrad_lab as tl
from tinygrad_lab import Value
from tinygrad_lab.nn import functional as F
from tinygrad_lab.optim import SGD
from tinygrad_lab.optim.lr_scheduler import ReduceLROnPlateau

X = Value(np.ones((2, 3, 4, 4)))
CALLS = {
    "transpose": lambda: X.transpose(True, 0),
    "cumsum": lambda: X.cumsum(True),
    "argmax": lambda: X.argmax(True),
    "sum": lambda: X.sum(True),
    "gather": lambda: X.gather(True, np.zeros((2, 3, 4, 4), dtype=np.int64)),
    "softmax": lambda: X.softmax(dim=True),
    "concat": lambda: tl.concat([X, X], axis=True),
    "stack": lambda: tl.stack([X, X], dim=False),
    "adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(X, True),
    "layer_norm": lambda: F.layer_norm(X, True),
    "reshape": lambda: X.reshape(True, 48),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_bool_dim_or_size_is_refused(name):
    with pytest.raises(TypeError, match="int|integer"):
        CALLS[name]()


def test_plateau_refuses_a_bool_metric():
    scheduler = ReduceLROnPlateau(SGD([Value([1.0], requires_grad=True)], lr=0.1))
    with pytest.raises(TypeError):
        scheduler.step(True)
