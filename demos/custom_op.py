"""A custom model with a custom op: a learnable Swish activation, written as a `tinygrad_lab.Function`.

    swish(x, beta) = x * sigmoid(beta * x)

An op is a `Function` subclass with two static methods: `forward` computes the result on NumPy
arrays; `backward` gets the output's gradient `g`, the output and the inputs, and returns one
gradient per input. Written with operators and `tinygrad_lab.ops` functions, the same backward also
works on Values, so higher-order gradients come for free. Broadcasting is the engine's job: the
gradient for `beta` (shape (units,)) is summed back from the batch automatically.

We check the op's gradients against finite differences with `tinygrad_lab.gradcheck`, then use it
in a custom `nn.Module` trained on the two-moons data set.

Run:  python demos/custom_op.py [EPOCHS]     (or TINYGRAD_LAB_DEMO_EPOCHS=EPOCHS)
"""
import os
import sys

import numpy as np

import tinygrad_lab as tl
from tinygrad_lab import Function, Value, nn, ops, optim
from tinygrad_lab.data import generate_moons
from tinygrad_lab.train import evaluate, fit

epochs = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TINYGRAD_LAB_DEMO_EPOCHS", 2000))


class Swish(Function):
    """y = x * s with s = sigmoid(beta * x);  dy/dx = s + beta * x * s * (1 - s);  dy/dbeta = x^2 * s * (1 - s)."""
    name = "swish"

    @staticmethod
    def forward(x, beta):
        return x / (1.0 + np.exp(-beta * x))

    @staticmethod
    def backward(g, out, x, beta):
        s = ops.sigmoid(beta * x)
        slope = s * (1 - s)
        return g * (s + beta * x * slope), g * x * x * slope


def swish(x, beta):
    return Swish.apply(x, beta)


# 1. Prove the gradients right (float64 finite differences; raises with details if not).
x = Value(np.random.default_rng(0).normal(size=(5, 3)), requires_grad=True)
beta = Value(np.array([0.5, 1.0, 2.0]), requires_grad=True)
print("gradcheck:", tl.gradcheck(swish, (x, beta)))
print("gradgradcheck:", tl.gradgradcheck(swish, (x, beta)))


# 2. A custom model: Linear -> Swish with a learnable beta per unit -> Linear -> sigmoid.
class SwishNet(nn.Module):
    def __init__(self, hidden: int = 8):
        super().__init__()
        self.hidden = nn.Linear(2, hidden)
        self.beta = nn.Parameter(np.ones(hidden))      # one learnable slope per hidden unit
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(swish(self.hidden(x), self.beta)).sigmoid()


inputs, labels = generate_moons(n=200, noise=0.1, seed=0)
tl.manual_seed(0)
model = SwishNet()
history = fit(model, inputs, labels, nn.BCELoss(), optim.Adam(model.parameters(), lr=0.05), epochs=epochs,
              log_every=max(1, epochs // 4))
print(f"two moons: accuracy {100 * evaluate(model, inputs, labels).accuracy:.1f}% after {history.epochs} epochs")
print("learned beta per unit:", np.round(model.beta.data, 3))
