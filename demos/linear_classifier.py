"""Train the lab's linear classifier with `fit` and look at what it learned.

100 points in the unit square; class 0 below the diagonal (x > y), class 1 above it.
A 2-4-4-1 sigmoid network, mean squared error, plain SGD, full batch.

Run:  python demos/linear_classifier.py [EPOCHS]     (or TINYGRAD_LAB_DEMO_EPOCHS=EPOCHS)
It writes linear_classifier.png (ground truth | prediction) in the current folder.
"""
import os
import sys

import tinygrad_lab as tl
from tinygrad_lab import nn, optim
from tinygrad_lab.data import generate_linear
from tinygrad_lab.plots import plot_comparison
from tinygrad_lab.train import evaluate, fit

epochs = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TINYGRAD_LAB_DEMO_EPOCHS", 5000))

inputs, labels = generate_linear(n=100, seed=0)          # (100, 2) points, (100, 1) labels 0/1
test_inputs, test_labels = generate_linear(n=1000, seed=1)

tl.manual_seed(0)                                          # reproducible initial weights
model = nn.Sequential(
    nn.Linear(2, 4), nn.Sigmoid(),
    nn.Linear(4, 4), nn.Sigmoid(),
    nn.Linear(4, 1), nn.Sigmoid(),                         # output: probability of class 1
)
for layer in model:                                        # Glorot init, gain 4 (advised for sigmoid)
    if isinstance(layer, nn.Linear):
        nn.init.xavier_uniform_(layer.weight, gain=4.0)
        nn.init.zeros_(layer.bias)

optimizer = optim.SGD(model.parameters(), lr=1.0)
history = fit(model, inputs, labels, nn.MSELoss(), optimizer, epochs=epochs,
              log_every=max(1, epochs // 5))               # prints "epoch N loss L"

train = evaluate(model, inputs, labels)
test = evaluate(model, test_inputs, test_labels)
print(f"training accuracy {100 * train.accuracy:.1f}%, held-out accuracy {100 * test.accuracy:.1f}%")
print("first five outputs:", train.outputs[:5, 0].round(3), "labels:", labels[:5, 0])

figure = plot_comparison(inputs, labels, train.predictions, "linear_classifier.png", title="linear classifier")
print("figure:", figure)
