"""A character-level language model: it learns which letter comes next from the three before it, then
makes up new words.

Embedding(vocab, 10) - flatten the 3 context vectors - Linear(30, 128) - tanh - Linear(128, vocab),
cross-entropy over the characters, Adam, minibatches of 64. Trains on any text file, one word (or line)
per line; the default is a list of about 300 first names shipped beside this demo (demos/data/names.txt).
It prints the loss as it goes, the final loss on all training examples, and a few sampled words.

Run:  python demos/char_model.py [TEXT_FILE] [--steps N] [--samples K] [--seed S]
      (or TINYGRAD_LAB_DEMO_EPOCHS=N for the number of steps; default 3000)
"""
import argparse
import os
from pathlib import Path

import numpy as np

import tinygrad_lab as tl
from tinygrad_lab import nn, optim

parser = argparse.ArgumentParser(description="character-level language model")
parser.add_argument("text", nargs="?", default=str(Path(__file__).with_name("data") / "names.txt"),
                    help="a text file, one word or line per line (default: demos/data/names.txt)")
parser.add_argument("--steps", type=int, default=int(os.environ.get("TINYGRAD_LAB_DEMO_EPOCHS", 3000)))
parser.add_argument("--samples", type=int, default=12)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

words = [line.strip() for line in Path(args.text).read_text(encoding="utf-8").splitlines() if line.strip()]
if not words:
    raise SystemExit(f"{args.text} has no non-empty lines to learn from")
chars = sorted(set("".join(words)))
stoi = {ch: i + 1 for i, ch in enumerate(chars)}        # 0 marks the start and the end of a word
itos = {i: ch for ch, i in stoi.items()}
vocab = len(stoi) + 1
block = 3                                                # characters of context

contexts, targets = [], []
for word in words:
    context = [0] * block
    for ix in [stoi[ch] for ch in word] + [0]:           # the word's characters, then the end marker
        contexts.append(context)
        targets.append(ix)
        context = context[1:] + [ix]
X, Y = np.array(contexts, dtype=np.int64), np.array(targets, dtype=np.int64)
print(f"{len(words)} words, {vocab} classes (the characters and the end marker), {len(X)} training examples")


class CharModel(nn.Module):
    def __init__(self, vocab, block, dim=10, hidden=128):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.hidden = nn.Linear(block * dim, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, context):                          # context: (B, block) integer characters
        e = self.embed(context)                          # (B, block, dim)
        h = self.hidden(e.reshape(e.shape[0], -1)).tanh()
        return self.out(h)                               # (B, vocab) logits


tl.manual_seed(args.seed)
model = CharModel(vocab, block)
optimizer = optim.Adam(model.parameters(), lr=3e-3)
rng = np.random.default_rng(args.seed)
log_every = max(1, args.steps // 6)
for step in range(1, args.steps + 1):
    batch = rng.integers(0, len(X), 64)
    loss = nn.functional.cross_entropy(model(X[batch]), Y[batch])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % log_every == 0 or step == args.steps:
        print(f"step {step:5d}  loss {loss.item():.4f}")

with tl.no_grad():
    full = nn.functional.cross_entropy(model(X), Y).item()
print(f"loss on all training examples {full:.4f} (uniform guessing: {np.log(vocab):.4f})")


def sample(generator):
    context, out = [0] * block, []
    with tl.no_grad():
        while len(out) < 30:
            probs = nn.functional.softmax(model(np.array([context])), dim=1).data[0]
            ix = int(generator.choice(vocab, p=probs / probs.sum()))
            if ix == 0:
                break
            out.append(itos[ix])
            context = context[1:] + [ix]
    return "".join(out)


generator = np.random.default_rng(args.seed + 1)
samples = [sample(generator) for _ in range(args.samples)]
known = set(words)
print("samples:", ", ".join(w + ("" if w not in known else "*") for w in samples))
print("(* = a word from the training text)")
