"""Adversarial inputs to training (`train.fit`, `evaluate`, `predict`, `ensemble.fit`) and checkpoints:
bad options refused before any update, lone and stacked runs agreeing on float32 models, failed or damaged
checkpoint files leaving everything the user had intact."""
from __future__ import annotations

import os

import numpy as np
import pytest

import tinygrad_lab as tl
from tinygrad_lab import ensemble, nn, optim
from tinygrad_lab.serialization import StateFileError
from tinygrad_lab.train import evaluate, fit, predict


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 2))
    return X, (X[:, :1] > 0).astype(np.float64)


def _net(seed, dtype=None):
    model = nn.Sequential(nn.Linear(2, 3, generator=seed), nn.Tanh(), nn.Linear(3, 1, generator=seed + 10),
                          nn.Sigmoid())
    if dtype is not None:
        for p in model.parameters():
            p.data = p.data.astype(dtype)
    return model


def _weights(model):
    return [p.data.copy() for p in model.parameters()]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("batch_size", [None, 2])
@pytest.mark.parametrize("threshold", ["0.5", None, float("nan")])
def test_fit_refuses_a_bad_threshold_before_any_update(data, batch_size, threshold):
    # Mini-batch fit used to run a whole epoch of updates, then crash comparing outputs with the threshold
    # (a NumPy UFuncTypeError), leaving the model half-trained; nan silently made every prediction class 0.
    X, Y = data
    model = _net(0)
    before = _weights(model)
    with pytest.raises(ValueError, match="threshold must be a number"):
        fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5), epochs=2, batch_size=batch_size,
            threshold=threshold, quiet=True)
    assert _same(before, _weights(model))


@pytest.mark.parametrize("call", [evaluate, predict])
def test_evaluate_and_predict_refuse_a_bad_threshold(data, call):
    X, Y = data
    args = (X, Y) if call is evaluate else (X,)
    with pytest.raises(ValueError, match="threshold must be a number"):
        call(_net(0), *args, threshold="0.5")


def test_ensemble_fit_refuses_a_bad_threshold_before_any_update(data):
    X, Y = data
    models = [_net(s) for s in range(2)]
    before = [_weights(m) for m in models]
    with pytest.raises(ValueError, match="threshold must be a number"):
        ensemble.fit(models, X, Y, nn.MSELoss(), lambda ps: optim.SGD(ps, lr=0.5), epochs=2, batch_size=2,
                     threshold=None)
    assert all(_same(b, _weights(m)) for b, m in zip(before, models, strict=True))


@pytest.mark.parametrize("batch_size", [None, 4])
def test_ensemble_fit_trains_float32_models_on_float64_data_as_train_fit_does(data, batch_size):
    # train.fit converts plain arrays to the model's dtype; ensemble.fit used to raise a TypeError telling the
    # user to call x.float() on a NumPy array. Each member must end exactly where its lone run ends.
    X, Y = data
    members = [_net(s, np.float32) for s in range(2)]
    alone = [_net(s, np.float32) for s in range(2)]
    histories = ensemble.fit(members, X, Y, nn.MSELoss(), lambda ps: optim.Adam(ps, lr=0.05), epochs=4,
                             batch_size=batch_size, seeds=[3, 4])
    for seed, model, member, history in zip([3, 4], alone, members, histories, strict=True):
        lone = fit(model, X, Y, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.05), epochs=4,
                   batch_size=batch_size, seed=seed, quiet=True)
        assert history.loss == lone.loss
        assert all(p.dtype == np.float32 for p in member.parameters())
        assert _same(_weights(model), _weights(member))


def test_ensemble_fit_with_one_member_is_the_lone_run(data):
    X, Y = data
    member, model = _net(1), _net(1)
    (history,) = ensemble.fit([member], X, Y, nn.MSELoss(), lambda ps: optim.SGD(ps, lr=0.5), epochs=5,
                              batch_size=2, seeds=[7])
    lone = fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5), epochs=5, batch_size=2, seed=7,
               quiet=True)
    assert history.loss == lone.loss and _same(_weights(model), _weights(member))


def test_ensemble_fit_refuses_members_of_different_dtypes(data):
    X, Y = data
    models = [_net(0), _net(1, np.float32)]
    before = [_weights(m) for m in models]
    with pytest.raises(ValueError, match="of dtype float32 does not match member 0.s .* of dtype float64"):
        ensemble.fit(models, X, Y, nn.MSELoss(), lambda ps: optim.SGD(ps, lr=0.5), epochs=2)
    assert all(_same(b, _weights(m)) for b, m in zip(before, models, strict=True))


def test_ensemble_fit_explains_seeds_that_are_not_a_list(data):
    X, Y = data
    with pytest.raises(TypeError, match="one seed per member"):
        ensemble.fit([_net(0), _net(1)], X, Y, nn.MSELoss(), lambda ps: optim.SGD(ps, lr=0.5), epochs=2,
                     batch_size=2, seeds=5)


def test_a_save_that_fails_midway_leaves_the_old_checkpoint_and_no_stray_file(tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt"
    tl.save({"w": np.ones(3)}, path)
    real = np.lib.format.write_array
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(OSError, match="disk full"):
        tl.save({"w": np.zeros(3), "v": np.zeros(2)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["run.ckpt"]
    assert np.array_equal(tl.load(path)["w"], np.ones(3))


def test_truncated_or_flipped_checkpoints_give_a_state_file_error(tmp_path):
    path = tmp_path / "run.ckpt"
    tl.save({"model": nn.Linear(2, 1, generator=0).state_dict(), "epoch": 3}, path)
    blob = path.read_bytes()
    damaged = [blob[:0], blob[:10], blob[: len(blob) // 2], blob[:-5]]
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 0xFF
    damaged.append(bytes(flipped))
    for bad in damaged:
        path.write_bytes(bad)
        with pytest.raises(StateFileError):
            tl.load(path)


def test_loading_weights_of_another_shape_changes_nothing(tmp_path):
    path = tmp_path / "run.ckpt"
    tl.save({"model": nn.Linear(2, 3, generator=0).state_dict()}, path)
    model = nn.Linear(2, 1, generator=1)
    before = _weights(model)
    with pytest.raises(RuntimeError, match="size mismatch"):     # StateDictError, as PyTorch
        model.load_state_dict(tl.load(path)["model"])
    assert _same(before, _weights(model))


@pytest.mark.parametrize("flag", ["shuffle", "quiet", "progress", "jit"])
def test_fit_refuses_a_truthy_string_for_a_flag_before_any_update(data, flag):
    # fit(shuffle="no") shuffled, fit(quiet="no") was quiet: a string is truthy.
    X, Y = data
    model = _net(0)
    before = _weights(model)
    with pytest.raises(TypeError, match=f"{flag} must be True or False"):
        fit(model, X, Y, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5), epochs=2, batch_size=2,
            **{flag: "no"})
    assert _same(before, _weights(model))


@pytest.mark.parametrize("flag", ["shuffle", "drop_last"])
def test_data_loader_refuses_a_truthy_string_for_a_flag(flag):
    with pytest.raises(TypeError, match=f"{flag} must be True or False"):
        tl.data.DataLoader(np.zeros((3, 1)), np.zeros((3, 1)), batch_size=2, **{flag: "no"})


@pytest.mark.parametrize("flag", ["shuffle", "use_jit"])
def test_ensemble_fit_refuses_a_truthy_string_for_a_flag(data, flag):
    X, Y = data
    with pytest.raises(TypeError, match=f"{flag} must be True or False"):
        ensemble.fit([_net(0)], X, Y, nn.MSELoss(), lambda ps: optim.SGD(ps, lr=0.5), epochs=2, **{flag: "no"})


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_input_scaler_refuses_non_finite_training_inputs(bad):
    # One nan in a column made its shift nan: every scaled value of the column, finite ones too, became nan.
    X = np.array([[0.0, 1.0], [bad, 2.0], [2.0, 3.0]])
    for kind in ("standard", "minmax"):
        with pytest.raises(ValueError, match="nan or inf"):
            tl.data.InputScaler(kind).fit(X)


def test_fit_refuses_an_optimizer_over_another_models_parameters(data):
    # It used to run every epoch without changing anything: the same loss each epoch, no error.
    X, Y = data
    model, other = _net(0), _net(1)
    before = _weights(other)
    with pytest.raises(ValueError, match="none of the model's parameters"):
        fit(model, X, Y, nn.MSELoss(), optim.SGD(other.parameters(), lr=0.5), epochs=3, quiet=True)
    assert _same(before, _weights(other))


def test_fit_accepts_an_optimizer_over_part_of_the_model(data):
    X, Y = data
    model = _net(0)
    frozen = _weights(model)[:2]
    history = fit(model, X, Y, nn.MSELoss(), optim.SGD(list(model.parameters())[2:], lr=0.5), epochs=3,
                  quiet=True)
    assert history.epochs == 3 and _same(frozen, _weights(model)[:2])


@pytest.mark.parametrize("root", [{"array": "a7"}, {"dict": [["k"]]}, {"dict": 5}, {"value": "missing"}])
def test_a_checkpoint_whose_manifest_is_damaged_gives_a_clear_value_error(tmp_path, root):
    # A manifest naming a missing array raised a bare KeyError('a7'); a malformed item list a TypeError.
    import json
    path = tmp_path / "run.ckpt"
    manifest = json.dumps({"format": "tinygrad_lab.checkpoint", "version": 1, "root": root})
    with open(path, "wb") as f:
        np.savez(f, __checkpoint__=np.array(manifest))
    with pytest.raises(ValueError, match="manifest is damaged"):
        tl.load(path)
