"""tinygrad_lab.save / load: round trips of every supported type, clear errors naming the key, no pickle,
atomic writes, and a training run that resumes bit-identically from a checkpoint (model with buffers,
optimizer, scheduler, epoch, configuration, random generator state)."""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import tinygrad_lab as tl
from tinygrad_lab import Value, nn, optim
from tinygrad_lab.optim import lr_scheduler


def test_round_trip_keeps_types_and_nesting(tmp_path):
    obj = {
        "none": None, "flag": True, "count": 3, "big": 2 ** 100, "rate": 0.1, "inf": float("inf"),
        "name": "digits", "tuple": (0.9, 0.999), "list": [1, [2.5, "x"]], "ints": {0: "a", 7: "b"},
        "array": np.arange(6, dtype=np.int32).reshape(2, 3), "f32": np.ones(2, np.float32),
        "mask": np.array([True, False]), "scalar": np.float64(1.5), "empty": {}, "value": Value([1.0, 2.0]),
        "param": nn.Parameter([3.0]),
    }
    path = tmp_path / "c.ckpt"
    tl.save(obj, path)
    back = tl.load(path)
    assert back["none"] is None and back["flag"] is True and back["count"] == 3 and back["big"] == 2 ** 100
    assert back["rate"] == 0.1 and back["inf"] == float("inf") and back["name"] == "digits"
    assert back["tuple"] == (0.9, 0.999) and back["list"] == [1, [2.5, "x"]] and back["ints"] == {0: "a", 7: "b"}
    assert back["array"].dtype == np.int32 and np.array_equal(back["array"], obj["array"])
    assert back["f32"].dtype == np.float32 and back["mask"].dtype == np.bool_
    assert type(back["scalar"]) is np.float64 and back["empty"] == {}
    assert type(back["value"]) is Value and back["value"].tolist() == [1.0, 2.0]
    assert type(back["param"]) is nn.Parameter and back["param"].requires_grad
    assert list(back) == list(obj)


@pytest.mark.parametrize("bad, where", [
    ({"a": {"b": [1, {2, 3}]}}, "checkpoint['a']['b'][1] of type set"),
    ({"f": lambda: 0}, "checkpoint['f'] of type function"),
    ({"o": np.array([object()])}, "checkpoint['o'] is an array of dtype object"),
    ({(1, 2): 0}, "key (1, 2)"),
])
def test_unsupported_items_raise_type_error_naming_the_key(tmp_path, bad, where):
    path = tmp_path / "c.ckpt"
    path.write_bytes(b"old")
    with pytest.raises(TypeError, match=where.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        tl.save(bad, path)
    assert path.read_bytes() == b"old"          # nothing written, the old file untouched
    assert os.listdir(tmp_path) == ["c.ckpt"]   # no temporary file left


def test_cycles_are_refused(tmp_path):
    loop: list = []
    loop.append(loop)
    with pytest.raises(TypeError, match="contains itself"):
        tl.save({"loop": loop}, tmp_path / "c.ckpt")


def test_file_is_npz_without_pickle(tmp_path):
    path = tmp_path / "c.ckpt"
    tl.save({"w": np.ones(3)}, path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = json.loads(str(np.load(path, allow_pickle=False)["__checkpoint__"]))
    assert sorted(names) == ["__checkpoint__.npy", "a0.npy"]
    assert manifest["format"] == "tinygrad_lab.checkpoint"


def test_loading_other_files_is_explained(tmp_path):
    weights = tmp_path / "w.npz"
    nn.save(nn.Linear(1, 1), weights)
    with pytest.raises(ValueError, match="not a checkpoint"):
        tl.load(weights)
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError):
        tl.load(junk)


def _make(seed):
    tl.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Dropout(0.2), nn.Linear(12, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def _train(model, opt, sched, steps, data_rng):
    for _ in range(steps):
        x = Value(data_rng.normal(size=(8, 1, 4, 4)))
        y = data_rng.integers(0, 2, size=8)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


def test_resumed_training_is_bit_identical(tmp_path):
    model, opt, sched = _make(0)
    data = np.random.default_rng(1)
    _train(model, opt, sched, 3, data)
    path = tmp_path / "run.ckpt"
    tl.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
             "epoch": 3, "config": {"lr": 0.01, "layers": [3, 12, 2]},
             "rng": tl.random.get_generator().bit_generator.state, "data_rng": data.bit_generator.state}, path)
    _train(model, opt, sched, 4, data)               # the uninterrupted run

    resumed, opt2, sched2 = _make(123)               # different initial weights and generator
    state = tl.load(path)
    resumed.load_state_dict(state["model"])
    opt2.load_state_dict(state["optimizer"])
    sched2.load_state_dict(state["scheduler"])
    tl.random.get_generator().bit_generator.state = state["rng"]
    data2 = np.random.default_rng()
    data2.bit_generator.state = state["data_rng"]
    assert state["epoch"] == 3 and state["config"]["layers"] == [3, 12, 2]
    _train(resumed, opt2, sched2, 4, data2)

    for (name, a), (_, b) in zip(model.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert np.array_equal(a, b), name
    assert opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"]
    assert sched.state_dict() == sched2.state_dict()
