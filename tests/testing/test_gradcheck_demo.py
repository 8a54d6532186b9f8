"""demos/gradcheck_report.py: the wrong sigmoid backward is caught and its op named; the fix passes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lab import Value
from tinygrad_lab.testing import GradcheckError, gradcheck

DEMO = Path(__file__).resolve().parents[2] / "demos" / "gradcheck_report.py"


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("gradcheck_report_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wrong_sigmoid_is_caught_and_located(demo):
    x = Value(np.linspace(-2, 2, 6).reshape(2, 3), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: demo.WrongSigmoid.apply(x), (x,))
    failure = info.value.failures[0]
    s = 1 / (1 + np.exp(-x.data.ravel()))
    np.testing.assert_allclose(np.diag(failure.analytic), x.data.ravel() * (1 - x.data.ravel()))
    np.testing.assert_allclose(np.diag(failure.numeric), s * (1 - s), rtol=1e-6)
    assert "op 'wrong_sigmoid' (backward at " in str(info.value)


def test_fixed_sigmoid_matches_the_true_derivative(demo):
    x = Value(np.linspace(-30, 30, 7), requires_grad=True)
    demo.Sigmoid.apply(x).sum().backward()
    e = np.exp(-np.abs(x.data))
    np.testing.assert_allclose(x.grad.data, e / (1 + e) ** 2, rtol=1e-12, atol=1e-15)  # s(1-s), stably


def test_demo_prints_the_report_then_the_fix_passing():
    result = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "gradcheck failed: 2 gradients do not match finite differences" in out
    assert "d(output 0, shape (4, 2)) / d(input 0 ('x'), shape (4, 3), float64)" in out
    assert "op 'wrong_sigmoid'" in out
    assert "gradcheck     -> True" in out and "gradgradcheck -> True" in out
    assert "orders 1 and 2 -> True" in out
