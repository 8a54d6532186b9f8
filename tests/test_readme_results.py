"""The README states results next to its examples; running the examples must give them.

The claims are read from the README itself (the comment after the line), so a changed claim is checked
as written, and a claim that disappears fails here until the test is updated with it. The expected
numbers are recomputed independently where that is possible (2a + e^a at a = 2).
"""
import contextlib
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def _block_with(line_pattern: str) -> tuple[str, re.Match]:
    for block in BLOCKS:
        match = re.search(line_pattern, block, re.M)
        if match:
            return block, match
    pytest.fail(f"no README python block has a line matching {line_pattern!r}: update this test with the README")


def _run(block: str) -> tuple[dict, str]:
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), namespace)
    return namespace, out.getvalue()


def test_autograd_example_gives_the_stated_gradient():
    block, claim = _block_with(r"^a\.grad\s+# (Value\(([-\d.e+]+)\)) = 2a \+ e\^a$")
    namespace, _ = _run(block)
    grad = namespace["a"].grad
    assert repr(grad) == claim.group(1)                                  # Value(11.3890561), as printed
    a = float(namespace["a"].data)
    assert a == 2.0
    assert float(grad.data) == pytest.approx(2 * a + math.exp(a), rel=1e-15)   # the formula in the comment
    assert float(claim.group(2)) == pytest.approx(2 * a + math.exp(a), abs=1e-7)


def test_xor_training_example_reaches_the_stated_loss_and_accuracy():
    block, claim = _block_with(r"^print\(loss\.item\(\), .*\)\s+# ~([\d.e+-]+), ([\d.]+)$")
    stated_loss, stated_accuracy = float(claim.group(1)), float(claim.group(2))
    namespace, printed = _run(block)
    loss, accuracy = (float(word) for word in printed.split())
    assert stated_loss / 10 < loss < stated_loss * 10, f"loss {loss:.3g} is not ~{stated_loss:g}"
    assert accuracy == stated_accuracy == 1.0
    # the accuracy printed is the one of the model on the data set, recomputed here
    model, X, Y = namespace["model"], namespace["X"], namespace["Y"]
    predictions = model(namespace["Value"](X)).data > 0.5
    assert np.array_equal(predictions, Y.astype(bool))
