"""gradcheck catches the classic sigmoid-derivative mistake in a hand-written op, then passes the fix.

Hand-written backprop often computes the sigmoid's derivative as ``z * (1 - z)`` on the
pre-activation ``z`` instead of ``s * (1 - s)`` on the activation ``s = sigmoid(z)``. The network
still trains a little, so the bug hides; a gradient check finds it at once and says where.

Run:  python demos/gradcheck_report.py
"""

from __future__ import annotations

import numpy as np

from tinygrad_lab import Function, Value
from tinygrad_lab.testing import GradcheckError, check_grads, gradcheck, gradgradcheck


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + exp(-x)), without overflow for large |x|


class WrongSigmoid(Function):
    """sigmoid with the classic mistake: the derivative s(1 - s) written with the pre-activation x."""

    name = "wrong_sigmoid"

    @staticmethod
    def forward(x):
        return _sigmoid(x)

    @staticmethod
    def backward(g, out, x):
        return (g * x * (1 - x),)  # BUG: x(1 - x) on the input; the derivative is out(1 - out)


class Sigmoid(Function):
    """sigmoid done right: d sigmoid(x)/dx = s (1 - s) with s = sigmoid(x), the op's output."""

    name = "my_sigmoid"

    @staticmethod
    def forward(x):
        return _sigmoid(x)

    @staticmethod
    def backward(g, out, x):
        return (g * out * (1 - out),)  # operators only: works on arrays and (create_graph) Values


def layer(op: type[Function]):
    """A tiny layer using the op: sigmoid(x @ w), the way the lab's network uses it."""
    return lambda x, w: op.apply(x @ w)


def main() -> int:
    rng = np.random.default_rng(0)
    x = Value(rng.normal(size=(4, 3)), requires_grad=True, label="x")
    w = Value(rng.normal(size=(3, 2)), requires_grad=True, label="w")

    print("1) gradcheck on a layer using WrongSigmoid:\n")
    try:
        gradcheck(layer(WrongSigmoid), (x, w))
        print("   unexpectedly passed")
        return 1
    except GradcheckError as error:
        print(error)

    print("\n2) the same check on the fixed Sigmoid:")
    print("   gradcheck     ->", gradcheck(layer(Sigmoid), (x, w)))
    print("   gradgradcheck ->", gradgradcheck(layer(Sigmoid), (x, w)))

    big_x = Value(rng.normal(size=(2000, 50)), requires_grad=True)
    big_w = Value(rng.normal(size=(50, 20)) / 7, requires_grad=True)
    print(
        "   check_grads on a 2000x50 batch, random projections, orders 1 and 2 ->",
        check_grads(layer(Sigmoid), (big_x, big_w), order=2, method="projection", seed=0),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
