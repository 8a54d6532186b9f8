"""detect_anomaly is per thread; Value.backward(detect_anomaly=True) keeps working."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from tinygrad_lab import AnomalyError, Value, detect_anomaly
from tinygrad_lab.autograd.anomaly_mode import is_anomaly_enabled


def test_detect_anomaly_in_one_thread_does_not_check_another():
    inside, done = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def checker():
        with detect_anomaly():
            inside.set()
            assert done.wait(30)
            try:
                with np.errstate(divide="ignore"):
                    Value([0.0], requires_grad=True).log()
            except AnomalyError:
                seen["checker"] = "raised"

    def other():
        assert inside.wait(30)
        try:
            with np.errstate(divide="ignore"):
                y = Value([0.0], requires_grad=True).log()
            seen["other"] = float(y.data[0])
            seen["other_mode"] = is_anomaly_enabled()
        finally:
            done.set()

    threads = [threading.Thread(target=checker), threading.Thread(target=other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert seen == {"checker": "raised", "other": -np.inf, "other_mode": False}
    assert not is_anomaly_enabled()


def test_backward_keyword_detect_anomaly_checks_gradients():
    x = Value([0.0, 1.0], requires_grad=True)
    y = x.sqrt().sum()   # d sqrt(x)/dx = inf at 0
    with pytest.raises(AnomalyError, match="backward of 'sqrt'"), np.errstate(divide="ignore"):
        y.backward(detect_anomaly=True)
    assert not is_anomaly_enabled()
    assert isinstance(detect_anomaly(), detect_anomaly)  # the class is not shadowed anywhere
