"""The cheap overflow switch: sigmoid's exact zeros and jit's replay of them raise no warning, and leave no trace."""
import threading
import warnings

import numpy as np

import tinygrad_lab as tl
from tinygrad_lab import Value, nn, optim
from tinygrad_lab.utils.fperrors import ignore_overflow, restore_errors


def test_the_switch_ignores_overflow_in_its_block_and_restores_the_state():
    before = np.geterr()
    token = ignore_overflow()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.exp(np.float64(1000.0)) == np.inf
    finally:
        restore_errors(token)
    assert np.geterr() == before


def test_the_switch_in_one_thread_leaves_other_threads_warning():
    token = ignore_overflow()
    seen = []

    def other():
        seen.append(np.geterr()["over"])

    try:
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    finally:
        restore_errors(token)
    assert seen == ["warn"]


def test_a_jitted_step_with_a_saturated_sigmoid_replays_without_warnings():
    tl.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
    opt = optim.SGD(model.parameters(), lr=0.1)

    @tl.jit
    def step(x, y):
        opt.zero_grad()
        loss = nn.MSELoss()(model(x), y)
        loss.backward()
        opt.step()
        return loss

    x, y = Value(np.array([[-1e6], [1.0]])), Value(np.array([[0.0], [1.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        losses = [float(step(x, y).data) for _ in range(5)]
    assert step.replays >= 2 and all(np.isfinite(losses))
