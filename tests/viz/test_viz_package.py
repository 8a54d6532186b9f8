"""The viz package's structure: module-call tags that free with the graph, names read without importing nn."""
import ast
import copy
import gc
import pickle
import re
import weakref
from pathlib import Path

import numpy as np
import pytest

import tinygrad_lab.viz as viz
from tinygrad_lab import Value, nn
from tinygrad_lab.viz import draw_graph, format_graph, trace

VIZ_DIR = Path(viz.__file__).parent


def cluster_labels(source):
    return re.findall(r"^\s*subgraph cluster_\d+ \{\n.*?label=(\"[^\"]*\"|\S+)", source, re.M)


def node_stmt(source, name):
    return re.search(rf"^\s*{name} \[.*$", source, re.M).group(0)


@pytest.fixture
def net():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    x = Value(rng.normal(size=(4, 2)), label="x")
    target = Value(rng.normal(size=(4, 1)), label="y")
    return model, x, target


# ---------------------------------------------------------------------------- module-call tags

def test_tags_do_not_keep_inputs_alive_after_backward_frees_the_graph(net):
    model, x, target = net
    loss = nn.MSELoss()(model(x), target)
    pred = loss._prev[0]
    hidden = pred._prev[0]  # the last Linear's input: the Sigmoid's output
    alive = [weakref.ref(pred), weakref.ref(hidden)]
    del pred, hidden
    gc.collect()
    assert all(r() is not None for r in alive)  # the graph holds them until backward
    loss.backward()
    assert [r() for r in alive] == [None, None]  # freed with the graph, tags notwithstanding
    (module, start), = loss._calls
    assert isinstance(module, nn.MSELoss) and target._seq < start < loss._seq   # a number, no reference


def test_a_calls_tag_marks_what_it_made_and_clusters_survive_retain_graph(net):
    model, x, target = net
    loss = nn.MSELoss()(model(x), target)
    loss.backward(retain_graph=True)
    (_, loss_start), = loss._calls
    pred = loss._prev[0]
    assert pred._seq < loss_start < loss._seq   # the prediction came in; the loss call made only the loss
    (last, _), (outer, model_start) = pred._calls   # innermost first: the last Linear, then the Sequential
    assert last is model[2] and outer is model and x._seq < model_start < pred._seq
    labels = cluster_labels(draw_graph(loss, params=model).source)
    assert sorted(labels) == ['"MSELoss()"', '"Sequential > 0: Linear(2, 3)"', '"Sequential > 1: Sigmoid()"',
                              '"Sequential > 2: Linear(3, 1)"', "Sequential"]


def test_tags_do_not_get_in_the_way_of_copying_and_pickling(net):
    """Computed Values are refused by deepcopy/pickle as in PyTorch (issue 10), tagged or not; their
    detached data, and the model whose calls tagged them, copy and pickle."""
    model, x, target = net
    loss = nn.MSELoss()(model(x), target)
    labels = sorted(cluster_labels(draw_graph(loss).source))
    assert len(labels) == 5  # the loss, the model and its three layers
    for copier in (copy.deepcopy, pickle.dumps):
        with pytest.raises(RuntimeError, match=r"graph leaves\) support .*computed by 'mse_loss'"):
            copier(loss)
    for copied in (copy.deepcopy(loss.detach()), pickle.loads(pickle.dumps(loss.detach()))):
        assert copied is not loss and copied.item() == loss.item()
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        again = nn.MSELoss()(clone(x), target)
        assert again.item() == loss.item() and sorted(cluster_labels(draw_graph(again).source)) == labels


def test_one_call_with_several_outputs_and_no_value_inputs_is_one_cluster():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter([1.0, 2.0])

        def forward(self):
            return self.w * 2.0, (self.w * 3.0).sum()

    pair = Pair()
    first, second = pair(), pair()
    assert first[0]._calls[0] is first[1]._calls[0]  # one shared tag per call
    labels = cluster_labels(draw_graph([*first, *second]).source)
    assert sorted(labels) == ['"Pair() (call 1)"', '"Pair() (call 2)"']


def test_tuple_outputs_passed_through_are_not_tagged():
    class Split(nn.Module):
        def forward(self, a, b):
            return a, a + b

    a, b = Value([1.0]), Value([2.0])
    same, total = Split()(a, b)
    assert same is a and a._calls == () and len(total._calls) == 1
    (_, start), = total._calls
    assert a._seq < start and b._seq < start < total._seq   # both inputs came in, the sum was made


# ---------------------------------------------------------------------------- a neutral interface to modules

def _imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or ""), [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_viz_never_imports_nn():
    files = sorted(VIZ_DIR.glob("*.py"))
    assert len(files) >= 6  # a package, one job per file
    for path in files:
        for module, names in _imported_modules(path):
            assert "nn" not in re.split(r"[.]+", module) and "nn" not in names, f"{path.name} imports {module}"


def test_names_come_from_any_object_with_named_parameters(net):
    _, x, _ = net
    w = Value(np.ones((2, 1)), requires_grad=True)

    class Holder:  # not an nn.Module: duck typing is enough
        def named_parameters(self):
            yield "weights", w

    loss = (x @ w).sum()
    t = trace(loss)
    source = draw_graph(loss, params=Holder()).source
    assert "<b>weights</b>" in node_stmt(source, f"n{t.index(w)}")
    assert 'fillcolor="#c7e9c0"' in node_stmt(source, f"n{t.index(w)}")  # drawn as a parameter
    assert "param" in next(line for line in format_graph(loss, params=Holder()).splitlines()
                           if line.startswith(f"n{t.index(w)} "))


def test_a_parameter_is_recognised_without_names_and_other_subclasses_are_not():
    class Tagged(Value):
        __slots__ = ()

    p, q = nn.Parameter([1.0, 2.0]), Tagged([1.0, 2.0], requires_grad=True)
    loss = (p * q).sum()
    t = trace(loss)
    source = draw_graph(loss).source
    assert 'fillcolor="#c7e9c0"' in node_stmt(source, f"n{t.index(p)}")  # green: parameter
    assert 'fillcolor="#c6dbef"' in node_stmt(source, f"n{t.index(q)}")  # blue: leaf that requires grad


# ---------------------------------------------------------------------------- public names

def test_public_names_and_the_drawing_class_are_importable():
    from tinygrad_lab.viz import GraphDrawing

    assert set(viz.__all__) == {"GraphTrace", "GraphvizNotFoundError", "trace", "draw_graph", "render",
                                "format_graph", "print_graph"}
    drawing = draw_graph(Value(1.0, requires_grad=True) * 2.0)
    assert type(drawing) is GraphDrawing and repr(GraphDrawing).startswith("<class 'tinygrad_lab.viz.")
    with pytest.raises(AttributeError, match="no attribute 'Drawing'"):
        viz.Drawing  # noqa: B018


def test_option_checks_take_numpy_integers_and_refuse_bools():
    loss = (Value([1.0, 2.0], requires_grad=True) * 2.0).sum()
    assert draw_graph(loss, max_nodes=np.int64(2), depth=np.int32(0)).source
    assert format_graph(loss, max_rows=np.int64(2)).count("\n") == 4
    for bad in (dict(max_nodes=True), dict(depth=False), dict(max_nodes=2.0)):
        with pytest.raises(ValueError, match="must be None or an integer"):
            draw_graph(loss, **bad)
    with pytest.raises(ValueError, match="max_rows must be None or an integer >= 2"):
        format_graph(loss, max_rows=True)
