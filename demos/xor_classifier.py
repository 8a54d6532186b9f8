"""Train the lab's XOR classifier with a hand-written training loop (what `fit` does for you).

The 21 XOR-easy points: (0.1i, 0.1i) are class 0, (0.1i, 1 - 0.1i) class 1.
Each epoch: forward pass, loss, backward pass (the chain rule through the graph), SGD step.

Run:  python demos/xor_classifier.py [EPOCHS]     (or TINYGRAD_LAB_DEMO_EPOCHS=EPOCHS)
"""
import os
import sys

import tinygrad_lab as tl
from tinygrad_lab import Value, nn, optim
from tinygrad_lab.data import generate_xor_easy

epochs = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TINYGRAD_LAB_DEMO_EPOCHS", 5000))

inputs, labels = generate_xor_easy()
x, y = Value(inputs), Value(labels)                # data: Values that need no gradient

tl.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
for layer in model:
    if isinstance(layer, nn.Linear):
        nn.init.xavier_uniform_(layer.weight, gain=4.0)
        nn.init.zeros_(layer.bias)

loss_fn = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=5.0)

for epoch in range(1, epochs + 1):
    optimizer.zero_grad()                          # forget the last epoch's gradients
    output = model(x)                              # forward: builds the graph
    loss = loss_fn(output, y)
    loss.backward()                                # backward: d loss / d parameter for every parameter
    optimizer.step()                               # parameter -= lr * gradient
    if epoch % max(1, epochs // 10) == 0:
        print(f"epoch {epoch} loss {loss.item():.6f}")

with tl.no_grad():                                 # no graph needed to predict
    output = model(x).numpy()
predictions = (output > 0.5).astype(float)
for point, label, out, pred in zip(inputs, labels[:, 0], output[:, 0], predictions[:, 0]):
    print(f"({point[0]:.1f}, {point[1]:.1f})  truth {label:.0f}  output {out:.4f}  predicted {pred:.0f}")
print(f"accuracy {100 * (predictions == labels).mean():.1f}%")
