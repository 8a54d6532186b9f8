"""Prove a gradient right: check your own function against finite differences with `tinygrad_lab.gradcheck`.

`gradcheck(func, inputs)` compares the gradients back-propagation computes for `func` at `inputs`
with central finite differences in float64, for every input that requires grad. It returns True,
or raises an error that says which input and which element disagree (with
`raise_exception=False` it returns False instead).

Here: a user-written loss (a smooth "Huber" loss built from tinygrad_lab ops) passes; then a custom
op whose backward has the classic mistake (sigmoid's derivative written as z * (1 - z) on the
input instead of s * (1 - s) on the output) is caught.

Run:  python demos/gradient_check.py
"""
import numpy as np

import tinygrad_lab as tl
from tinygrad_lab import Function, Value


def pseudo_huber(prediction, target, delta=1.0):
    """mean(delta^2 * (sqrt(1 + ((prediction - target) / delta)^2) - 1)): quadratic near 0, linear far away."""
    r = (prediction - target) / delta
    return (delta * delta * (((r * r) + 1.0).sqrt() - 1.0)).mean()


rng = np.random.default_rng(0)
prediction = Value(rng.normal(size=(4, 3)), requires_grad=True)
target = Value(rng.normal(size=(4, 3)), requires_grad=True)
print("pseudo-Huber loss, first derivatives: ", tl.gradcheck(pseudo_huber, (prediction, target)))
print("pseudo-Huber loss, second derivatives:", tl.gradgradcheck(pseudo_huber, (prediction, target)))


class BuggySigmoid(Function):
    name = "buggy_sigmoid"

    @staticmethod
    def forward(z):
        return 1.0 / (1.0 + np.exp(-z))

    @staticmethod
    def backward(g, out, z):
        return (g * z * (1 - z),)          # wrong: should be g * out * (1 - out)


z = Value(rng.normal(size=(3,)), requires_grad=True)
print("buggy sigmoid passes?", tl.gradcheck(BuggySigmoid.apply, (z,), raise_exception=False))
try:
    tl.gradcheck(BuggySigmoid.apply, (z,))
except tl.testing.GradcheckError as err:  # says which input and element are wrong, and by how much
    print("gradcheck says:", str(err).splitlines()[0])
