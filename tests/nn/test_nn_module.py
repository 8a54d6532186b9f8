"""nn.Module, Parameter and the containers: registration, traversal, modes, state dicts, files, repr."""
from __future__ import annotations

import copy
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from tinygrad_lab import Value, nn, no_grad, optim
from tinygrad_lab.random import manual_seed


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(3, 1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def xor_net():
    return nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(),
                         nn.Linear(4, 1), nn.Sigmoid())


def xor_easy():
    """The lab's XOR-easy data: (0.1i, 0.1i) -> 0 and (0.1i, 1-0.1i) -> 1 (i = 0..10, (0.5, 0.5) once)."""
    x = [(0.1 * i, 0.1 * i) for i in range(11)] + [(0.1 * i, 1 - 0.1 * i) for i in range(11) if i != 5]
    y = [0.0] * 11 + [1.0] * 10
    return np.array(x), np.array(y).reshape(-1, 1)


# ---------------------------------------------------------------------------- Parameter

def test_parameter_copies_data_and_requires_grad():
    data = np.array([1.0, 2.0])
    p = nn.Parameter(data)
    data[0] = 99.0
    assert p.requires_grad and p.is_leaf
    assert p.data.tolist() == [1.0, 2.0]
    assert isinstance(p, Value)


def test_parameter_from_list_is_float64_and_keeps_float32():
    assert nn.Parameter([1, 2]).dtype == np.float64
    assert nn.Parameter(np.zeros(2, dtype=np.float32)).dtype == np.float32
    assert nn.Parameter([1.0], requires_grad=False).requires_grad is False


def test_parameter_rejects_integer_data():
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.array([1, 2]))


def test_parameter_repr_mentions_parameter():
    assert repr(nn.Parameter([1.0])).startswith("Parameter containing:\nValue([1.]")


def test_ops_on_parameters_give_plain_values():
    p = nn.Parameter([2.0])
    y = p * 3
    assert type(y) is Value and y.requires_grad


# ---------------------------------------------------------------------------- registration and traversal

def test_named_parameters_use_dotted_names_in_assignment_order():
    model = TwoLayer()
    assert [n for n, _ in model.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in xor_net().named_parameters()] == [
        "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


def test_parameters_children_and_modules():
    model = TwoLayer()
    assert [p.shape for p in model.parameters()] == [(3, 2), (3,), (1, 3), (1,)]
    assert list(model.children()) == [model.fc1, model.act, model.fc2]
    assert [n for n, _ in model.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in model.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(model.modules())[0] is model
    assert len(list(model.parameters(recurse=False))) == 0


def test_nested_containers_are_registered():
    model = nn.Sequential(nn.ModuleList([nn.Linear(1, 2), nn.Linear(2, 2)]),
                          nn.ModuleDict({"head": nn.Linear(2, 1)}))
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.0.weight", "0.0.bias", "0.1.weight", "0.1.bias", "1.head.weight", "1.head.bias"]
    assert model.get_submodule("1.head") is model[1]["head"]
    with pytest.raises(AttributeError, match="no sub-module 'x'"):
        model.get_submodule("0.x")


def test_shared_parameters_are_listed_once():
    model = TwoLayer()
    model.fc3 = model.fc1          # the same module twice
    assert len(list(model.parameters())) == 4
    assert model.num_parameters() == 3 * 2 + 3 + 3 + 1


def test_reassigning_attribute_updates_registration():
    model = TwoLayer()
    model.fc1 = nn.Linear(2, 3, bias=False)
    assert [n for n, _ in model.named_parameters()] == ["fc1.weight", "fc2.weight", "fc2.bias"]
    del model.fc2
    assert [n for n, _ in model.named_parameters()] == ["fc1.weight"]
    model.fc1 = None
    assert list(model.parameters()) == []


def test_replacing_a_parameter_keeps_its_place():
    layer = nn.Linear(2, 1)
    layer.weight = nn.Parameter(np.ones((1, 2)))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(layer.state_dict()) == ["weight", "bias"]


def test_plain_value_cannot_replace_a_parameter():
    layer = nn.Linear(2, 1)
    with pytest.raises(TypeError, match="as parameter 'weight'.*Parameter or None"):
        layer.weight = Value(np.zeros((1, 2)))


def test_assigning_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Bad()


def test_register_parameter_module_and_buffer():
    m = nn.Module()
    m.register_parameter("w", nn.Parameter([1.0]))
    m.register_parameter("b", None)
    m.add_module("child", nn.Identity())
    m.register_buffer("running", np.array([3.0]))
    m.register_buffer("scratch", np.zeros(2), persistent=False)
    assert [n for n, _ in m.named_parameters()] == ["w"]
    assert m.b is None and m.child is m._modules["child"]
    assert list(m.state_dict()) == ["w", "running"]
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("v", Value([1.0]))
    with pytest.raises(KeyError, match="'.'"):
        m.add_module("a.b", nn.Identity())
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("forward", np.zeros(1))


def test_forward_is_required():
    with pytest.raises(NotImplementedError, match='Module \\[Module\\] is missing the required "forward"'):
        nn.Module()(Value(1.0))


def test_apply_visits_children_first_then_self():
    seen = []
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


# ---------------------------------------------------------------------------- calling and _calls tags

def test_call_tags_outputs_innermost_first():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid())
    x = Value(np.ones((4, 2)))
    out = model(x)
    calls = out._calls
    assert [type(m).__name__ for m, _ in calls] == ["Sigmoid", "Sequential"]
    (_, sigmoid_start), (_, model_start) = calls
    assert x._seq < model_start < sigmoid_start < out._seq   # the model's call encloses the Sigmoid's
    hidden = out._prev[0]
    assert [type(m).__name__ for m, _ in hidden._calls] == ["Linear", "Sequential"][:len(hidden._calls)]
    assert model_start < hidden._calls[0][1] < hidden._seq < sigmoid_start


def test_call_does_not_tag_inputs_passed_through():
    x = Value(np.ones(3))
    assert nn.Identity()(x) is x
    drop = nn.Dropout(0.5).eval()
    for _ in range(3):
        drop(x)
    assert getattr(x, "_calls", ()) == ()


def test_call_never_tags_parameters_returned_by_forward():
    class Bias(nn.Module):
        def __init__(self):
            super().__init__()
            self.b = nn.Parameter([1.0])

        def forward(self):
            return self.b

    module = Bias()
    for _ in range(3):
        assert module() is module.b
    assert getattr(module.b, "_calls", ()) == ()


def test_loss_modules_tag_the_loss_they_made_after_their_inputs():
    pred, target = Value([1.0, 2.0], requires_grad=True), Value([0.0, 0.0])
    loss = nn.MSELoss()(pred, target)
    (module, start), = loss._calls
    assert isinstance(module, nn.MSELoss) and pred._seq < start and target._seq < start < loss._seq


# ---------------------------------------------------------------------------- modes and gradients

def test_train_eval_recurse_and_return_self():
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.Dropout(0.2)))
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    with pytest.raises(TypeError, match="bool"):
        model.train("no")


def test_zero_grad_to_none_and_to_zeros():
    model = TwoLayer()
    model(Value(np.ones((2, 2)))).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    model.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.data.any() for p, g in zip(model.parameters(), grads, strict=True))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_freezes_parameters():
    model = TwoLayer().requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    assert model.num_parameters(trainable_only=True) == 0


def test_to_float32_casts_parameters():
    model = TwoLayer().float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model(Value(np.ones((1, 2), dtype=np.float32))).dtype == np.float32
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    with pytest.raises(TypeError, match="floating dtype"):
        model.to(np.int64)


# ---------------------------------------------------------------------------- state dicts

def test_state_dict_holds_copies_by_name():
    model = TwoLayer()
    state = model.state_dict()
    assert list(state) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    state["fc1.weight"][...] = 123.0
    assert not np.any(model.fc1.weight.data == 123.0)
    assert model.state_dict(keep_vars=True)["fc1.weight"] is model.fc1.weight


def test_load_state_dict_round_trip_gives_identical_outputs():
    a, b = TwoLayer(), TwoLayer()
    x = Value(np.random.default_rng(0).normal(size=(5, 2)))
    result = b.load_state_dict(a.state_dict())
    assert result == nn.IncompatibleKeys([], [])
    assert np.array_equal(a(x).data, b(x).data)


def test_load_state_dict_copies_in_place_and_casts():
    layer = nn.Linear(2, 1, dtype=np.float32)
    weight = layer.weight.data
    layer.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": np.array([3], dtype=np.int64)})
    assert layer.weight.data is weight and layer.weight.dtype == np.float32
    assert layer.weight.data.tolist() == [[1.0, 2.0]] and layer.bias.data.tolist() == [3.0]


def _snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def test_missing_and_unexpected_keys_raise_naming_them():
    model = TwoLayer()
    state = model.state_dict()
    del state["fc2.bias"]
    state["fc3.weight"] = np.zeros(1)
    with pytest.raises(nn.StateDictError) as err:
        model.load_state_dict(state)
    text = str(err.value)
    assert 'Missing key(s) in state_dict: "fc2.bias"' in text
    assert 'Unexpected key(s) in state_dict: "fc3.weight"' in text
    assert "TwoLayer" in text


def test_shape_mismatch_names_key_and_both_shapes():
    model = TwoLayer()
    state = model.state_dict()
    state["fc1.weight"] = np.zeros((4, 2))
    message = (r"size mismatch for fc1.weight: copying a param with shape \(4, 2\) from checkpoint, "
               r"the shape in current model is \(3, 2\)")
    with pytest.raises(nn.StateDictError, match=message):
        model.load_state_dict(state)


def test_failed_load_leaves_the_model_unchanged():
    model, other = TwoLayer(), TwoLayer()
    before = _snapshot(model)
    state = other.state_dict()            # all keys fine but one shape is wrong (the last one)
    state["fc2.bias"] = np.zeros(5)
    with pytest.raises(nn.StateDictError):
        model.load_state_dict(state)
    after = _snapshot(model)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    state = other.state_dict()            # right shapes but a dtype that cannot be cast
    state["fc2.bias"] = np.array([1 + 2j])
    with pytest.raises(nn.StateDictError, match="fc2.bias"):
        model.load_state_dict(state)
    assert all(np.array_equal(before[k], v) for k, v in _snapshot(model).items())


def test_non_strict_load_returns_missing_and_unexpected_keys():
    model, other = TwoLayer(), TwoLayer()
    state = other.state_dict()
    del state["fc1.bias"]
    state["extra"] = np.ones(2)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc1.bias"] and result.unexpected_keys == ["extra"]
    assert np.array_equal(model.fc1.weight.data, other.fc1.weight.data)
    state["fc1.weight"] = np.zeros((1, 1))
    with pytest.raises(nn.StateDictError, match="size mismatch"):   # shapes are checked even when not strict
        model.load_state_dict(state, strict=False)


def test_load_state_dict_accepts_values_and_rejects_non_mappings():
    layer = nn.Linear(1, 1)
    layer.load_state_dict({"weight": Value([[2.0]]), "bias": [0.5]})
    assert layer.weight.data.item() == 2.0 and layer.bias.data.item() == 0.5
    with pytest.raises(TypeError, match="mapping"):
        layer.load_state_dict([("weight", np.ones((1, 1)))])


def test_buffers_are_saved_and_loaded():
    loss = nn.CrossEntropyLoss(weight=np.array([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"]
    loss.load_state_dict({"weight": np.array([3.0, 4.0])})
    assert loss.weight.tolist() == [3.0, 4.0]


def test_deepcopy_gives_an_independent_model():
    model = TwoLayer()
    clone = copy.deepcopy(model)
    clone.fc1.weight.data += 1.0
    assert not np.array_equal(clone.fc1.weight.data, model.fc1.weight.data)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]


# ---------------------------------------------------------------------------- files

def test_save_load_round_trip(tmp_path):
    model, other = xor_net(), xor_net()
    x = Value(np.random.default_rng(1).random((6, 2)))
    path = tmp_path / "model.npz"
    model.save(path)
    assert other.load(path) == nn.IncompatibleKeys([], [])
    assert np.array_equal(model(x).data, other(x).data)
    third = xor_net()
    nn.save(model, str(path))
    nn.load(third, str(path))
    assert np.array_equal(model(x).data, third(x).data)


def test_saved_file_is_a_plain_npz_without_pickle(tmp_path):
    path = tmp_path / "weights"            # no suffix is added: the file is written exactly there
    nn.save(TwoLayer(), path)
    assert os.listdir(tmp_path) == ["weights"]
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(k + ".npy" for k in TwoLayer().state_dict())
    with np.load(path, allow_pickle=False) as data:
        assert data["fc1.weight"].shape == (3, 2)


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    nn.save(TwoLayer(), path)
    original = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(OSError, match="disk full"):
        nn.save(TwoLayer(), path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["model.npz"]       # the temporary file was removed


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(TwoLayer(), tmp_path / "missing.npz")
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(2))
    with pytest.raises(ValueError, match="not an .npz archive"):
        nn.load_state(single)
    with pytest.raises(TypeError, match="Module to load into"):
        nn.load(str(single), TwoLayer())
    with pytest.raises(TypeError, match="not numeric"):
        nn.save({"names": np.array(["a"], dtype=object)}, tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match="the folder .*nowhere does not exist"):
        nn.save(TwoLayer(), tmp_path / "nowhere" / "model.npz")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="entry 'w' holds Python objects, which would need pickle"):
        nn.load(TwoLayer(), pickled)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not an archive" * 10)
    with pytest.raises(ValueError, match=r"garbage.npz is not an .npz state file"):
        nn.load_state(garbage)
    nn.save(TwoLayer(), tmp_path / "whole.npz")
    for name, data in (("empty.npz", b""), ("half.npz", (tmp_path / "whole.npz").read_bytes()[:200])):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=rf"{name} is not an .npz state file"):
            nn.load_state(tmp_path / name)


def test_saved_file_has_the_usual_permissions(tmp_path):
    reference = tmp_path / "reference"
    reference.write_bytes(b"")           # what any program writing a file gets (mode 0o666 minus umask)
    nn.save(TwoLayer(), tmp_path / "model.npz")
    assert (tmp_path / "model.npz").stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


def test_load_into_a_different_architecture_changes_nothing(tmp_path):
    path = tmp_path / "m.npz"
    nn.save(TwoLayer(), path)
    model = xor_net()
    before = _snapshot(model)
    with pytest.raises(nn.StateDictError, match="Missing key"):
        model.load(path)
    assert all(np.array_equal(before[k], v) for k, v in _snapshot(model).items())


# ---------------------------------------------------------------------------- description

def test_repr_matches_torch_layout():
    assert repr(xor_net()) == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=4, bias=True)\n  (1): Sigmoid()\n  (2): "
        "Linear(in_features=4, out_features=4, bias=True)\n  (3): Sigmoid()\n  (4): Linear(in_features=4, "
        "out_features=1, bias=True)\n  (5): Sigmoid()\n)")
    nested = nn.Sequential(nn.Sequential(nn.Linear(1, 1, bias=False)), nn.LeakyReLU(0.2))
    assert repr(nested) == (
        "Sequential(\n  (0): Sequential(\n    (0): Linear(in_features=1, out_features=1, bias=False)\n  )\n  "
        "(1): LeakyReLU(negative_slope=0.2)\n)")
    assert repr(TwoLayer()) == (
        "TwoLayer(\n  (fc1): Linear(in_features=2, out_features=3, bias=True)\n  (act): Tanh()\n  (fc2): "
        "Linear(in_features=3, out_features=1, bias=True)\n)")


def test_module_list_repr_folds_repeats_like_torch():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)])
    assert repr(layers) == (
        "ModuleList(\n  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n  (2): ReLU()\n  (3): "
        "Linear(in_features=2, out_features=2, bias=True)\n)")
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_num_parameters_and_summary():
    model = xor_net()
    assert model.num_parameters() == (2 * 4 + 4) + (4 * 4 + 4) + (4 + 1)
    text = model.summary()
    lines = text.splitlines()
    assert lines[0] == "Sequential"
    assert lines[3].split()[:3] == ["0", "Linear", "weight"] and lines[3].split()[-1] == "12"
    assert lines[-1] == "Total params: 37 (trainable: 37, non-trainable: 0)"
    with_shapes = model.summary(input_shape=(5, 2))
    assert "(5, 4)" in with_shapes and "(5, 1)" in with_shapes
    assert model.training and "forward" not in model[0].__dict__   # summary restored everything


def test_summary_lists_the_root_modules_own_parameters():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(2, 3)
            self.scale = nn.Parameter(np.ones(3))

        def forward(self, x):
            return self.body(x) * self.scale

    lines = Scaled().summary(input_shape=(4, 2)).splitlines()
    assert lines[3].split() == ["(root)", "Scaled", "(4,", "3)", "scale", "(3,)", "3"]
    assert sum(int(line.split()[-1]) for line in lines[3:-1]) == 12    # the rows add up to the total
    assert lines[-1] == "Total params: 12 (trainable: 12, non-trainable: 0)"


# ---------------------------------------------------------------------------- containers

def test_sequential_indexing_slicing_and_editing():
    layers = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == layers[1:]
    assert [n for n, _ in tail.named_children()] == ["1", "2"]      # names kept, as in torch
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    with pytest.raises(TypeError, match="integers or slices"):
        seq["0"]
    sig = nn.Sigmoid()
    assert seq.append(sig) is seq and seq[3] is sig
    del seq[0]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"] and seq[0] is layers[1]
    seq.insert(0, layers[0])
    assert list(seq) == layers + [sig]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    with pytest.raises(TypeError, match="holds Modules"):
        seq.append(lambda x: x)


def test_sequential_from_ordered_dict_and_addition():
    seq = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert [n for n, _ in seq.named_parameters()] == ["hidden.weight", "hidden.bias"]
    both = seq + nn.Sequential(nn.Linear(3, 1))
    assert len(both) == 3 and isinstance(both[2], nn.Linear)


def test_sequential_applies_modules_in_order():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    x = Value(np.random.default_rng(2).normal(size=(4, 2)))
    expected = seq[2](seq[1](seq[0](x)))
    assert np.array_equal(seq(x).data, expected.data)


def test_module_list_behaves_like_a_list():
    layers = nn.ModuleList([nn.Linear(1, 1)])
    layers.append(nn.Linear(1, 1))
    layers += [nn.Linear(1, 1)]
    layers.extend([nn.ReLU()])
    assert len(layers) == 4 and isinstance(layers[-1], nn.ReLU)
    assert isinstance(layers[:2], nn.ModuleList) and len(layers[:2]) == 2
    assert len(list(layers.parameters())) == 6
    with pytest.raises(NotImplementedError, match="forward"):
        layers(Value(1.0))


def test_module_dict_behaves_like_a_dict():
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.Linear(1, 2)
    assert list(heads) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert heads.pop("a").out_features == 1 and list(heads.keys()) == ["b"]
    with pytest.raises(KeyError, match="no module 'zzz'"):
        heads["zzz"]
    with pytest.raises(KeyError, match="already exists"):
        heads["items"] = nn.Identity()


# ---------------------------------------------------------------------------- done when: XOR trains

@pytest.mark.parametrize("make_optimizer, steps", [
    (lambda params: optim.SGD(params, lr=1.0, momentum=0.9), 3000),
    (lambda params: optim.Adam(params, lr=0.05), 1000),
])
def test_xor_network_trains(make_optimizer, steps):
    manual_seed(0)
    X, Y = xor_easy()
    model = xor_net()
    opt = make_optimizer(model.parameters())
    loss_fn = nn.MSELoss()
    x, y = Value(X), Value(Y)
    first = None
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    with no_grad():
        pred = model(x).data
    assert loss.item() < 0.02 < first
    assert np.array_equal(pred > 0.5, Y > 0.5)
