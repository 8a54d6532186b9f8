"""The training loop: `fit` (full batch, mini-batch, online, stopping, schedulers, logging) and `evaluate`."""
import io
import math
import time

import numpy as np
import pytest

import tinygrad_lab as tl
from tinygrad_lab import Value, nn, optim
from tinygrad_lab.data import DataLoader, generate_linear, generate_xor_easy
from tinygrad_lab.train import History, evaluate, fit, format_epoch, predict


def make_net(seed=0, hidden=4):
    tl.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.Sigmoid(), nn.Linear(hidden, 1), nn.Sigmoid())


def params(model):
    return [p.data.copy() for p in model.parameters()]


def manual_full_batch(model, X, Y, lr, epochs):
    opt = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        loss = nn.MSELoss()(model(Value(X)), Value(Y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_full_batch_fit_is_exactly_the_textbook_loop():
    X, Y = generate_xor_easy()
    a, b = make_net(), make_net()
    history = fit(a, X, Y, nn.MSELoss(), optim.SGD(a.parameters(), lr=2.0), epochs=50)
    losses = manual_full_batch(b, X, Y, 2.0, 50)
    assert history.loss == losses
    for pa, pb in zip(params(a), params(b), strict=True):
        np.testing.assert_array_equal(pa, pb)
    assert history.epochs == 50 and history.stop_reason == "max_epochs"
    assert history.lr == [2.0] * 50
    assert len(history.accuracy) == 50 and all(0 <= v <= 1 for v in history.accuracy)


def test_mini_batch_fit_matches_a_manual_loop_with_the_same_shuffling():
    X, Y = generate_linear(30, seed=0)
    a, b = make_net(), make_net()
    history = fit(a, X, Y, nn.MSELoss(), optim.SGD(a.parameters(), lr=1.0), epochs=5, batch_size=8, seed=7)
    opt = optim.SGD(b.parameters(), lr=1.0)
    loader = DataLoader(X, Y, batch_size=8, shuffle=True, seed=7)
    epoch_losses = []
    for _ in range(5):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = nn.MSELoss()(b(Value(xb)), Value(yb))
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        epoch_losses.append(total / len(X))
    np.testing.assert_allclose(history.loss, epoch_losses, rtol=1e-12)
    for pa, pb in zip(params(a), params(b), strict=True):
        np.testing.assert_array_equal(pa, pb)


class CountingSGD(optim.SGD):
    steps = 0

    def step(self, closure=None):
        type(self).steps += 1
        return super().step(closure)


@pytest.mark.parametrize("batch_size, per_epoch", [(None, 1), (21, 1), (100, 1), (8, 3), (1, 21)])
def test_updates_per_epoch(batch_size, per_epoch):
    X, Y = generate_xor_easy()
    model = make_net()
    CountingSGD.steps = 0
    fit(model, X, Y, nn.MSELoss(), CountingSGD(model.parameters(), lr=0.5), epochs=3, batch_size=batch_size)
    assert CountingSGD.steps == 3 * per_epoch


def test_fit_is_deterministic_under_a_seed():
    X, Y = generate_linear(40, seed=1)
    runs = []
    for seed in (3, 3, 4):
        model = make_net(0)
        fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), epochs=4, batch_size=5, seed=seed)
        runs.append(params(model))
    for p, q in zip(runs[0], runs[1], strict=True):
        np.testing.assert_array_equal(p, q)
    assert any(not np.array_equal(p, q) for p, q in zip(runs[0], runs[2], strict=True))


def test_training_the_lab_network_reaches_zero_errors_on_xor():
    X, Y = generate_xor_easy()
    tl.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight, gain=4.0)
            nn.init.zeros_(layer.bias)
    history = fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=5.0), epochs=3000,
                  target_accuracy=1.0)
    assert history.stop_reason == "target_accuracy"
    assert history.converged_epoch == history.epochs < 3000
    assert history.loss[-1] < history.loss[0]
    assert evaluate(model, X, Y).accuracy == 1.0


def test_target_loss_stops_early():
    X, Y = generate_xor_easy()
    model = make_net()
    history = fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), epochs=1000, target_loss=0.25)
    assert history.stop_reason == "target_loss"
    assert history.final_loss <= 0.25 and all(v > 0.25 for v in history.loss[:-1])
    assert history.epochs == len(history.loss) < 1000


def test_divergence_stops_the_loop():
    X = np.array([[1.0], [2.0]])
    Y = np.array([[1.0], [2.0]]) * 1e3
    model = nn.Sequential(nn.Linear(1, 1))
    with np.errstate(all="ignore"):
        history = fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=100.0), epochs=500)
    assert history.stop_reason == "diverged"
    assert not math.isfinite(history.final_loss) and history.epochs < 500
    assert history.accuracy == []                       # regression targets: no accuracy tracked


def test_step_scheduler_changes_the_learning_rate_each_epoch():
    X, Y = generate_xor_easy()
    model = make_net()
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(model, X, Y, nn.MSELoss(), opt, epochs=6, scheduler=sched)
    assert history.lr == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_plateau_scheduler_receives_the_loss():
    X = np.array([[0.0], [1.0]])
    model = nn.Sequential(nn.Linear(1, 1))
    Y = model(Value(X)).data.copy()                     # already a perfect fit: the loss never improves
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    history = fit(model, X, Y, nn.MSELoss(), opt, epochs=6, scheduler=sched)
    assert history.loss == [0.0] * 6
    # PyTorch's rule: more than `patience` epochs without improvement halve the rate, then count again
    assert history.lr == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]


def test_log_lines_in_the_lab_style():
    X, Y = generate_xor_easy()
    model = make_net()
    out = io.StringIO()
    history = fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), epochs=25, log_every=10,
                  file=out, progress=False)
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["10", "20", "25"]
    assert lines[0] == format_epoch(10, history.loss[9]) == f"epoch 10 loss {history.loss[9]:.6f}"
    quiet = io.StringIO()
    fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), epochs=5, log_every=1, quiet=True,
        file=quiet)
    assert quiet.getvalue() == ""


def test_progress_bar_goes_to_stderr_and_keeps_the_log_readable(capsys):
    X, Y = generate_xor_easy()
    model = make_net()
    fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), epochs=30, log_every=10, progress=True)
    captured = capsys.readouterr()
    assert "epoch 30 loss" in captured.out
    assert "epoch" in captured.err                      # tqdm's unit
    fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), epochs=30)   # not a terminal: no bar
    assert capsys.readouterr().err == ""


def test_history_helpers():
    h = History(loss=[0.5, 0.2, math.nan], accuracy=[0.5, 1.0, 1.0], lr=[1.0] * 3, epochs=3)
    assert h.best_loss == 0.2 and math.isnan(h.final_loss) and h.final_accuracy == 1.0
    arrays = h.as_arrays()
    assert arrays["loss"].shape == (3,) and arrays["lr"].dtype == np.float64
    assert math.isnan(History().final_loss) and math.isnan(History().final_accuracy)


def test_fit_with_zero_epochs_changes_nothing():
    X, Y = generate_xor_easy()
    model = make_net()
    before = params(model)
    history = fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), epochs=0)
    assert history.epochs == 0 and history.loss == []
    for p, q in zip(before, params(model), strict=True):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": -1}, "epochs must be a non-negative integer"),
    ({"epochs": 2.5}, "epochs"),
    ({"log_every": 0}, "log_every must be a positive integer"),
    ({"target_accuracy": 1.5}, "target_accuracy must be a number in"),
    ({"target_loss": "low"}, "target_loss must be a number"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
])
def test_fit_rejects_bad_options_before_touching_the_model(kwargs, match):
    X, Y = generate_xor_easy()
    model = make_net()
    before = params(model)
    options = {"epochs": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=1.0), **options)
    for p, q in zip(before, params(model), strict=True):
        np.testing.assert_array_equal(p, q)


def test_fit_rejects_mismatched_or_empty_data():
    model = make_net()
    opt = optim.SGD(model.parameters(), lr=1.0)
    with pytest.raises(ValueError, match="same number of rows"):
        fit(model, np.zeros((4, 2)), np.zeros((3, 1)), nn.MSELoss(), opt, epochs=1)
    with pytest.raises(ValueError, match="empty"):
        fit(model, np.zeros((0, 2)), np.zeros((0, 1)), nn.MSELoss(), opt, epochs=1)
    with pytest.raises(ValueError, match="target_accuracy needs class-label targets"):
        fit(model, np.zeros((2, 2)), np.array([[0.3], [2.0]]), nn.MSELoss(), opt, epochs=1, target_accuracy=1.0)


def test_evaluate_binary():
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    model[0].weight.data[...] = [[10.0, -10.0]]
    model[0].bias.data[...] = 0.0
    X = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.4], [0.4, 0.6]])
    Y = np.array([[1.0], [0.0], [0.0], [0.0]])
    result = evaluate(model, X, Y)
    assert result.accuracy == 0.75
    np.testing.assert_array_equal(result.predictions[:, 0], [1, 0, 1, 0])
    np.testing.assert_array_equal(result.correct, [True, True, False, True])
    assert result.outputs.shape == (4, 1)
    np.testing.assert_array_equal(predict(model, X), result.predictions)
    assert math.isnan(evaluate(model, X).accuracy)
    assert evaluate(model, X, Y, threshold=0.9).accuracy == 1.0         # (0.6, 0.4) gives 0.88
    assert model.training                                   # evaluate restores the training mode


def test_evaluate_multiclass_with_indices_and_one_hot():
    model = nn.Sequential(nn.Linear(2, 3))
    X = np.random.default_rng(0).normal(size=(10, 2))
    outputs = model(Value(X)).data
    indices = outputs.argmax(axis=1)
    assert evaluate(model, X, indices).accuracy == 1.0
    assert evaluate(model, X, np.eye(3)[indices]).accuracy == 1.0
    assert evaluate(model, X, (indices + 1) % 3).accuracy == 0.0


def test_evaluate_errors():
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    with pytest.raises(ValueError, match="3 inputs but 2 targets"):
        evaluate(model, np.zeros((3, 2)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="are not class labels"):
        evaluate(model, np.zeros((2, 2)), np.array([[0.5], [2.0]]))


@pytest.mark.slow  # a timing measurement: run with -m slow on a quiet machine
def test_the_full_batch_loop_costs_little_beyond_forward_backward_step():
    X, Y = generate_xor_easy()
    epochs = 300
    best_fit, best_manual = math.inf, math.inf
    for _ in range(3):
        a, b = make_net(), make_net()
        start = time.perf_counter()
        fit(a, X, Y, nn.MSELoss(), optim.SGD(a.parameters(), lr=1.0), epochs=epochs)
        best_fit = min(best_fit, time.perf_counter() - start)
        start = time.perf_counter()
        manual_full_batch(b, X, Y, 1.0, epochs)
        best_manual = min(best_manual, time.perf_counter() - start)
    assert best_fit < 1.5 * best_manual + 0.01


def test_fit_multiclass_with_cross_entropy_tracks_argmax_accuracy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)     # 3 classes, class indices
    tl.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
    history = fit(model, X, y, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05), epochs=300,
                  target_accuracy=1.0)
    assert history.stop_reason == "target_accuracy"
    assert evaluate(model, X, y).accuracy == 1.0 == history.final_accuracy


def test_fit_draws_no_random_numbers_of_its_own():
    """With dropout, fit must consume the global generator exactly like the textbook loop."""
    X, Y = generate_xor_easy()

    def net():
        tl.manual_seed(5)
        return nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 1), nn.Sigmoid())

    a, b = net(), net()
    tl.manual_seed(11)
    fit(a, X, Y, nn.MSELoss(), optim.SGD(a.parameters(), lr=1.0), epochs=5)
    tl.manual_seed(11)
    manual_full_batch(b, X, Y, 1.0, 5)
    for pa, pb in zip(params(a), params(b), strict=True):
        np.testing.assert_array_equal(pa, pb)
    assert a.training
