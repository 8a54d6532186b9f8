"""Drawings and text views of computation graphs (tinygrad_lab.viz).

The DOT text is checked directly (it is deterministic: node ``n<i>`` is value ``i`` of the trace);
rendering runs the real Graphviz program when it is installed (CI installs it) and the fallback is
checked with the program hidden from PATH.
"""
import io
import re
import shutil
import time

import graphviz
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_lab import Function, Value
from tinygrad_lab.viz import (
    GraphTrace,
    GraphvizNotFoundError,
    draw_graph,
    format_graph,
    print_graph,
    render,
    trace,
)

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="the Graphviz program 'dot' is not installed "
                                                   "(apt-get install graphviz); CI installs it")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------- DOT helpers

def dot_nodes(source):
    """Names of the declared nodes, in order."""
    return re.findall(r"^\s*(\w+) \[label=", source, re.M)


def dot_edges(source):
    return re.findall(r"^\s*(\w+) -> (\w+)(?: \[[^\]]*\])?$", source, re.M)


def node_stmt(source, name):
    match = re.search(rf"^\s*{name} \[label=(.*)\]$", source, re.M)
    assert match, f"node {name} not in the drawing"
    return match.group(1)


def value_names(source):
    return [n for n in dot_nodes(source) if re.fullmatch(r"n\d+", n)]


def op_names(source):
    return [n for n in dot_nodes(source) if re.fullmatch(r"n\d+_op", n)]


def cluster_labels(source):
    return re.findall(r"^\s*subgraph cluster_\d+ \{\n.*?label=(\"[^\"]*\"|\S+)", source, re.M)


def hide_graphviz(monkeypatch, tmp_path):
    empty = tmp_path / "empty_bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


# ---------------------------------------------------------------------------- graphs used below

def small_graph():
    """loss = sum(a * a) + mean(b.sum(axis=0) ** 2) + 3, with a labelled and a float32 reshape."""
    a = Value([1.0, 2.0], requires_grad=True, label="a")
    b = Value(np.arange(12.0).reshape(3, 4), requires_grad=True)
    c = b.reshape(4, 3).sum(axis=0)
    loss = (a * a).sum() + (c ** 2).mean() + Value(3.0)
    return a, b, loss


def lab_net():
    nn = pytest.importorskip("tinygrad_lab.nn")
    if not all(hasattr(nn, name) for name in ("Sequential", "Linear", "Sigmoid", "MSELoss", "Parameter")):
        pytest.skip("tinygrad_lab.nn does not export Sequential/Linear/Sigmoid/MSELoss/Parameter yet")
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 1),
                          nn.Sigmoid())
    x = Value(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), label="x")
    y = Value(np.array([[0.0], [1.0], [1.0], [0.0]]), label="y")
    loss = nn.MSELoss()(model(x), y)
    return model, x, y, loss


@pytest.fixture(scope="module")
def long_chain():
    x = Value(0.5, requires_grad=True, label="x")
    y = x
    for _ in range(100_000 - 1):
        y = -y
    return x, y


# ---------------------------------------------------------------------------- trace

def test_trace_lists_nodes_in_topological_order_with_one_edge_per_input():
    a, b, loss = small_graph()
    t = trace(loss)
    assert isinstance(t, GraphTrace) and len(t) == len(t.nodes)
    assert t.nodes[t.roots[0]] is loss and t.roots == [len(t.nodes) - 1]
    position = {id(v): i for i, v in enumerate(t.nodes)}
    assert len(position) == len(t.nodes)  # no value twice
    for i, v in enumerate(t.nodes):
        parents = v._prev or ()
        assert all(position[id(p)] < i for p in parents)
    assert len(t.edges) == sum(len(v._prev or ()) for v in t.nodes)
    for child, v in enumerate(t.nodes):  # edges list each op's inputs in order
        listed = [t.nodes[p] for p, c in t.edges if c == child]
        assert len(listed) == len(v._prev) and all(x is y for x, y in zip(listed, v._prev, strict=True))
    square = next(i for i, v in enumerate(t.nodes) if v._op is not None and v._prev[0] is a)
    assert t.edges.count((t.index(a), square)) == 2  # a * a: two edges from a
    assert t.freed == []
    with pytest.raises(ValueError, match="not part of the traced graph"):
        t.index(Value(1.0))


def test_trace_of_several_roots_shares_their_common_part():
    a = Value(2.0, requires_grad=True)
    h = a * 3.0
    t = trace([h + 1.0, h * h])
    assert sum(v is h for v in t.nodes) == 1
    assert len(t.roots) == 2 and all(t.nodes[r]._op is not None for r in t.roots)


def test_trace_and_draw_reject_things_that_are_not_values():
    for bad, caller in ((np.ones(2), "trace"), ([], "trace"), ([Value(1.0), 2.0], "trace")):
        with pytest.raises(TypeError, match=rf"{caller}\(root=...\) expects a Value"):
            trace(bad)
    with pytest.raises(TypeError, match=r"draw_graph\(root=...\) expects a Value or a non-empty.*ndarray"):
        draw_graph(np.ones(2))


# ---------------------------------------------------------------------------- the DOT text

def test_dot_has_a_node_per_value_and_per_op_and_an_edge_per_input():
    _, _, loss = small_graph()
    t = trace(loss)
    source = draw_graph(loss).source
    made_by_ops = [i for i, v in enumerate(t.nodes) if v._op is not None]
    assert value_names(source) == [f"n{i}" for i in range(len(t.nodes))]
    assert op_names(source) == [f"n{i}_op" for i in made_by_ops]
    edges = dot_edges(source)
    assert len(edges) == len(t.edges) + len(made_by_ops)
    assert sorted(edges) == sorted([(f"n{p}", f"n{c}_op") for p, c in t.edges]
                                   + [(f"n{i}_op", f"n{i}") for i in made_by_ops])
    declared = set(dot_nodes(source))
    assert all(tail in declared and head in declared for tail, head in edges)


def test_labels_show_op_names_static_arguments_shapes_dtypes_and_names():
    a, b, loss = small_graph()
    t = trace(loss)
    source = draw_graph(loss).source
    reshape = next(i for i, v in enumerate(t.nodes) if v._op is not None and v._op.name == "reshape")
    assert "reshape" in node_stmt(source, f"n{reshape}_op")
    assert "shape=(4, 3)" in node_stmt(source, f"n{reshape}_op")
    axis_sum = next(i for i, v in enumerate(t.nodes) if (v._args or {}).get("axis") == 0)
    assert "axis=0" in node_stmt(source, f"n{axis_sum}_op")
    assert "keepdims" not in source  # False/None arguments are left out
    power = next(i for i, v in enumerate(t.nodes) if v._op is not None and v._op.name == "pow")
    assert "exponent=2" in node_stmt(source, f"n{power}_op")
    assert "(3, 4) float64" in node_stmt(source, f"n{t.index(b)}")
    assert "<b>a</b>" in node_stmt(source, f"n{t.index(a)}")
    assert "<b>output</b>" in node_stmt(source, f"n{t.index(loss)}")
    f32 = (Value(np.ones(3, np.float32), requires_grad=True) * 2).sum()
    assert "scalar float32" in node_stmt(draw_graph(f32).source, f"n{trace(f32).index(f32)}")


def test_data_summaries_show_tiny_arrays_in_full_and_min_mean_max_otherwise():
    a, b, loss = small_graph()
    source = draw_graph(loss).source
    t = trace(loss)
    assert "data [1, 2]" in node_stmt(source, f"n{t.index(a)}")
    big = b.data
    expected = f"data min {big.min():.4g}  mean {big.mean():.4g}  max {big.max():.4g}"
    assert expected in node_stmt(source, f"n{t.index(b)}")
    assert f"data {loss.item():.4g}<" in node_stmt(source, f"n{t.index(loss)}")
    hidden = draw_graph(loss, show_data=False, show_grad=False).source
    assert "data " not in hidden and "grad" not in re.sub(r"<table.*</table>", "", hidden)


def test_leaves_parameters_constants_and_root_look_different():
    a, b, loss = small_graph()
    t = trace(loss)
    source = draw_graph(loss).source
    constant = next(i for i, v in enumerate(t.nodes) if v._op is None and not v.requires_grad)
    middle = next(i for i, v in enumerate(t.nodes) if v._op is not None)
    styles = {name: re.search(r'fillcolor="([^"]+)"', node_stmt(source, name)).group(1)
              for name in (f"n{t.index(a)}", f"n{constant}", f"n{t.index(loss)}", f"n{middle}")}
    assert len(set(styles.values())) == 4  # leaf, constant, root, intermediate: four colours
    assert "dashed" in node_stmt(source, f"n{constant}")
    assert "<b>constant</b>" in node_stmt(source, f"n{constant}")
    assert 'shape="ellipse"' in node_stmt(source, f"n{middle}_op")
    legend = re.search(r"^\s*label=<(<table.*</table>)>", source, re.M).group(1)
    for text in ("leaf (requires grad)", "constant (no grad)", "output (root)", "operation"):
        assert text in legend
    assert "parameter<" not in legend  # only the kinds that appear are explained
    assert "label=<<table" not in draw_graph(loss, legend=False).source


def test_same_graph_gives_the_same_dot_text():
    first = draw_graph(small_graph()[2], show_order=True).source
    _, _, loss = small_graph()  # a new graph made the same way: new objects, same drawing
    assert draw_graph(loss, show_order=True).source == first
    assert draw_graph(loss, show_order=True).source == first
    assert "0x" not in first  # no id() or repr addresses in the text


def test_gradients_not_computed_yet_are_called_out():
    a, b, loss = small_graph()
    before = draw_graph(loss).source
    assert "grad: not computed \u2014 call backward()" in node_stmt(before, f"n{trace(loss).index(a)}")
    assert "No gradients yet: call backward()" in before
    middle = (a * a)
    middle.retain_grad()
    loss2 = middle.sum() + (b * 1.0).sum()
    loss2.backward(retain_graph=True)
    t = trace(loss2)
    after = draw_graph(loss2).source
    assert "not computed" not in after
    assert "grad [2, 4]" in node_stmt(after, f"n{t.index(a)}")           # d/da sum(a*a) = 2a
    assert "grad [1, 1]" in node_stmt(after, f"n{t.index(middle)}")      # retained non-leaf grad
    assert "grad min 1  mean 1  max 1" in node_stmt(after, f"n{t.index(b)}")
    assert "unless .retain_grad() is called before backward()" in after  # other non-leaves keep none


def test_nan_and_inf_are_flagged_with_a_red_border():
    x = Value(np.array([1.0, np.nan, np.inf, -np.inf, 2.0, 3.0]), requires_grad=True)
    y = Value([np.nan, 1.0], requires_grad=True)
    source = draw_graph([x * 1.0, y * 1.0]).source
    t = trace([x * 1.0, y * 1.0])
    stmt = node_stmt(source, f"n{t.index(x)}")
    assert "1 NaN, 2 inf" in stmt and "min 1  mean 2  max 3" in stmt and 'color="#e31a1c"' in stmt
    assert 'color="#e31a1c"' in node_stmt(source, f"n{t.index(y)}")
    assert "NaN or inf" in source
    assert 'color="#e31a1c"' not in node_stmt(draw_graph(small_graph()[2]).source, "n0")


def test_a_graph_freed_by_backward_says_how_to_keep_it():
    a = Value([1.0, 2.0], requires_grad=True)
    loss = (a * 2.0).sum()
    loss.backward()
    t = trace(loss)
    assert t.nodes == [loss] and t.freed == [0]
    source = draw_graph(loss).source
    assert "graph freed by backward()" in source and "retain_graph=True" in source
    assert ("n0_freed", "n0_op") in dot_edges(source)
    assert "[graph freed]" in format_graph(loss)


# ---------------------------------------------------------------------------- backward order

class Tagged(Function):
    """y = x (or x + y), recording its tag when backward runs."""

    name = "tagged"
    log: list = []

    @staticmethod
    def forward(*arrays, tag):
        return sum(arrays[1:], arrays[0]) * 1.0

    @staticmethod
    def backward(g, out, *inputs, tag):
        Tagged.log.append(tag)
        return tuple(g for _ in inputs)


def test_show_order_numbers_values_in_the_order_backward_runs():
    a = Value([1.0, -2.0], requires_grad=True)
    b = Value([0.5, 3.0], requires_grad=True)
    c = Value([4.0, 4.0])  # constant: backward never visits it
    h1 = Tagged.apply(a, b, tag=1)
    h2 = Tagged.apply(h1, c, tag=2)
    h3 = Tagged.apply(h1, tag=3)
    h4 = Tagged.apply(h2, h3, a, tag=4)
    root = Tagged.apply(h4, h1, tag=5).sum()
    source = draw_graph(root, show_order=True).source
    steps = {}
    for _, step, tag in re.findall(r"^\s*(n\d+)_op \[label=<<b>(\d+): tagged</b><br/><font "
                                      r'point-size="9">tag=(\d+)<', source, re.M):
        steps[int(tag)] = int(step)
    Tagged.log.clear()
    root.backward(retain_graph=True)
    assert sorted(steps, key=steps.get) == Tagged.log
    t = trace(root)
    value_steps = {int(n): int(s) for n, s in re.findall(r"^\s*n(\d+) \[label=<<font color=\"#b2182b\">"
                                                        r"<b>step (\d+)</b>", source, re.M)}
    assert sorted(value_steps.values()) == list(range(1, len(value_steps) + 1))
    assert value_steps[t.index(root)] == 1
    assert t.index(c) not in value_steps
    assert [i for i in sorted(value_steps, key=value_steps.get)] == t.backward_order()
    assert "order in which backward() visits" in source


# ---------------------------------------------------------------------------- size: max_nodes, long chains

def test_max_nodes_draws_the_nodes_nearest_the_output_and_summarises_the_rest():
    _, _, loss = small_graph()
    t = trace(loss)
    source = draw_graph(loss, max_nodes=4).source
    drawn = value_names(source)
    assert len(drawn) == 4 and f"n{t.index(loss)}" in drawn
    more = node_stmt(source, "more")
    assert f"\u2026 {len(t.nodes) - 4:,} more nodes" in more and "max_nodes=4" in more
    declared = set(dot_nodes(source))
    assert all(tail in declared and head in declared for tail, head in dot_edges(source))
    assert any(tail == "more" for tail, _ in dot_edges(source))
    assert "more" not in dot_nodes(draw_graph(loss, max_nodes=len(t.nodes)).source)


def test_a_100000_node_chain_draws_summarises_and_prints_without_recursion(long_chain):
    x, y = long_chain
    t = trace(y)
    assert len(t.nodes) == 100_000 and t.nodes[0] is x
    short = draw_graph(y, max_nodes=50).source
    assert len(value_names(short)) == 50 and "\u2026 99,950 more nodes" in short
    full = draw_graph(y, show_order=True).source
    assert full.count(" -> ") == 2 * (100_000 - 1)
    assert "<b>step 100000</b>" in node_stmt(full, "n0")
    text = format_graph(y, max_rows=10)
    assert "\u2026 99,990 more rows" in text


@pytest.mark.slow  # a timing measurement: run with -m slow on a quiet machine
def test_a_100000_node_chain_draws_in_seconds(long_chain):
    _, y = long_chain
    start = time.perf_counter()
    trace(y)
    draw_graph(y, show_order=True)
    format_graph(y, max_rows=10)
    assert time.perf_counter() - start < 20  # a few seconds on a laptop


# ---------------------------------------------------------------------------- options and errors

def test_bad_options_are_named_in_the_error():
    _, _, loss = small_graph()
    with pytest.raises(ValueError, match="rankdir must be None .* or one of LR, RL, TB, BT; got 'up'"):
        draw_graph(loss, rankdir="up")
    with pytest.raises(ValueError, match="max_nodes must be None or an integer >= 1; got 0"):
        draw_graph(loss, max_nodes=0)
    with pytest.raises(ValueError, match="depth must be None or an integer >= 0; got -1"):
        draw_graph(loss, depth=-1)
    with pytest.raises(TypeError, match="params must be a Module, a dict name -> Value.*got int"):
        draw_graph(loss, params=3)
    assert "rankdir=TB" in draw_graph(loss, rankdir="TB").source


def test_params_dict_names_the_values():
    a, b, loss = small_graph()
    source = draw_graph(loss, params={"weight": b}).source
    assert "<b>weight</b>" in node_stmt(source, f"n{trace(loss).index(b)}")
    source = draw_graph(loss, params=[("w", b)]).source
    assert "<b>w</b>" in source


def test_value_draw_is_draw_graph():
    _, _, loss = small_graph()
    assert loss.draw(show_order=True).source == draw_graph(loss, show_order=True).source
    assert isinstance(loss.draw(), graphviz.Digraph)


# ---------------------------------------------------------------------------- modules

def test_lab_network_names_parameters_and_draws_module_clusters():
    model, x, y, loss = lab_net()
    t = trace(loss)
    source = draw_graph(loss, params=model).source
    for name, p in model.named_parameters():
        assert f"<b>{name}</b>" in node_stmt(source, f"n{t.index(p)}")
        assert 'fillcolor="#c7e9c0"' in node_stmt(source, f"n{t.index(p)}")  # parameter green
    labels = cluster_labels(source)
    assert len(labels) == 8  # Sequential, its 6 layers, MSELoss
    for expected in ("Sequential", "Sequential > 0: Linear(2, 4)", "Sequential > 1: Sigmoid()",
                     "Sequential > 4: Linear(4, 1)", "MSELoss()"):
        assert f'"{expected}"' in labels or expected in labels
    assert sorted(value_names(source)) == sorted(f"n{i}" for i in range(len(t.nodes)))
    # without params the names come from the module calls in the graph
    assert draw_graph(loss).source == source


def test_lab_network_text_view_lists_every_value():
    model, x, y, loss = lab_net()
    loss.backward(retain_graph=True)
    out = io.StringIO()
    print_graph(loss, out, params=model)
    lines = out.getvalue().splitlines()
    t = trace(loss)
    ops = sum(v._op is not None for v in t.nodes)
    assert lines[0] == (f"computation graph: {len(t.nodes)} values ({ops} made by ops, {len(t.nodes) - ops} "
                        f"leaves, {len(list(model.parameters()))} parameters)")
    header, rows = lines[1].split(), lines[2:]
    assert header == ["id", "name", "op", "inputs", "shape", "dtype", "grad", "norm", "module"]
    assert len(rows) == len(t.nodes)
    weight = model[0].weight
    row = rows[t.index(weight)]
    assert "0.weight" in row and "param" in row and "(4, 2)" in row and "float64" in row
    assert f"{np.linalg.norm(weight.grad.data):.4g}" in row
    assert "Sequential > 0: Linear(2, 4)" in row
    first = next(i for i, v in enumerate(t.nodes) if v._op is not None and v._prev[1] is weight)
    inputs = " ".join(f"n{t.index(v)}" for v in (x, weight, model[0].bias))
    assert re.match(rf"n{first}\s+linear\s+{inputs}\s", rows[first])
    assert re.search(r"float64\s+-(\s|$)", rows[t.index(x)])  # no grad: "-"
    assert rows[-1].split()[:3] == [f"n{len(t.nodes) - 1}", "(output)", f"{loss._op.name}(reduction=mean)"]


def boxes_by_label(source):
    found = re.findall(r"^\s*(m\d+) \[label=<<b>([^<]*)</b>", source, re.M)
    return {label.replace("&gt;", ">"): name for name, label in found}


def test_depth_collapses_deep_module_calls_into_boxes():
    model, x, y, loss = lab_net()
    t = trace(loss)
    top = draw_graph(loss, depth=0).source
    assert cluster_labels(top) == []
    boxes = boxes_by_label(top)
    assert sorted(boxes) == ["MSELoss()", "Sequential"]
    assert value_names(top) == [f"n{t.index(x)}", f"n{t.index(y)}"] and op_names(top) == []
    seq, mse = boxes["Sequential"], boxes["MSELoss()"]
    assert "6 parameters" in node_stmt(top, seq) and "out (4, 1) float64" in node_stmt(top, seq)
    assert 'penwidth="2.2"' in node_stmt(top, mse) and 'penwidth' not in node_stmt(top, seq)  # holds the root
    assert sorted(dot_edges(top)) == sorted([(f"n{t.index(x)}", seq), (seq, mse), (f"n{t.index(y)}", mse)])

    one = draw_graph(loss, depth=1).source
    assert sorted(cluster_labels(one)) == ['"MSELoss()"', "Sequential"]
    layers = boxes_by_label(one)
    names = [f"Sequential > {k}: {m}" for k, m in enumerate(
        ["Linear(2, 4)", "Sigmoid()", "Linear(4, 4)", "Sigmoid()", "Linear(4, 1)", "Sigmoid()"])]
    assert sorted(layers) == sorted(names)
    assert "3 values inside, 2 parameters" in node_stmt(one, layers[names[0]])
    assert "1 value inside, 0 parameters" in node_stmt(one, layers[names[1]])
    edges = dot_edges(one)
    assert (f"n{t.index(x)}", layers[names[0]]) in edges
    assert all((layers[names[k]], layers[names[k + 1]]) in edges for k in range(5))
    assert op_names(one) == [f"n{t.index(loss)}_op"]  # the loss call stays open
    assert len(cluster_labels(draw_graph(loss, depth=2).source)) == 8
    assert draw_graph(loss, depth=2).source == draw_graph(loss).source


def test_a_module_called_twice_gets_one_cluster_per_call():
    nn = pytest.importorskip("tinygrad_lab.nn")
    layer = nn.Linear(2, 2)
    x = Value([[1.0, -1.0]])
    out = layer(layer(x).tanh()).sum()
    t = trace(out)
    labels = cluster_labels(draw_graph(out).source)
    assert sorted(labels) == ['"Linear(2, 2) (call 1)"', '"Linear(2, 2) (call 2)"']
    collapsed = draw_graph(out, depth=0).source
    boxes = boxes_by_label(collapsed)
    assert sorted(boxes) == ["Linear(2, 2) (call 1)", "Linear(2, 2) (call 2)"]
    first, second = boxes["Linear(2, 2) (call 1)"], boxes["Linear(2, 2) (call 2)"]
    tanh = next(i for i, v in enumerate(t.nodes) if v._op is not None and v._op.name == "tanh")
    edges = dot_edges(collapsed)
    assert (first, f"n{tanh}_op") in edges and (f"n{tanh}", second) in edges
    assert (first, second) in edges  # the shared weight and bias live in the first call's box
    assert len(edges) == len(set(edges))


@needs_dot
def test_lab_network_renders_with_clusters_boxes_and_max_nodes(tmp_path):
    model, x, y, loss = lab_net()
    for kwargs in ({}, {"depth": 1}, {"max_nodes": 5}, {"depth": 1, "max_nodes": 3, "show_order": True}):
        out = render(loss, tmp_path / "net.svg", params=model, **kwargs)
        assert "<svg" in out.read_text()


# ---------------------------------------------------------------------------- rendering

@needs_dot
def test_render_writes_svg_and_png_with_the_graphviz_program(tmp_path):
    _, _, loss = small_graph()
    svg = render(loss, tmp_path / "graph.svg", show_order=True)
    assert svg == tmp_path / "graph.svg"
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and ": reshape</text>" in text
    assert (tmp_path / "graph.dot").read_text() == draw_graph(loss, show_order=True).source
    png = render(draw_graph(loss), tmp_path / "pictures" / "graph", format="png")
    assert png == tmp_path / "pictures" / "graph.png"
    data = png.read_bytes()
    assert data[:8] == PNG_MAGIC
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 200 and height > 100
    assert sorted(p.name for p in (tmp_path / "pictures").iterdir()) == ["graph.dot", "graph.png"]
    assert render(loss, tmp_path / "graph.pdf").read_bytes()[:5] == b"%PDF-"
    loss.backward()  # frees the graph: the drawing says so, and still renders
    assert "graph freed by backward()" in render(loss, tmp_path / "freed.svg").read_text()


def test_render_checks_format_and_options(tmp_path):
    _, _, loss = small_graph()
    with pytest.raises(ValueError, match=r"ends in \.svg but format='png'"):
        render(loss, tmp_path / "g.svg", format="png")
    with pytest.raises(ValueError, match="format must be one of svg, png, pdf, dot; got 'bmp'"):
        render(loss, tmp_path / "g", format="bmp")
    with pytest.raises(TypeError, match="already drawn"):
        render(draw_graph(loss), tmp_path / "g.svg", max_nodes=3)
    dot = render(loss, tmp_path / "g.dot", max_nodes=3)
    assert dot.read_text() == draw_graph(loss, max_nodes=3).source


def test_without_graphviz_render_still_writes_dot_and_says_how_to_install(monkeypatch, tmp_path):
    _, _, loss = small_graph()
    hide_graphviz(monkeypatch, tmp_path)
    with pytest.raises(GraphvizNotFoundError) as info:
        render(loss, tmp_path / "out" / "graph.png")
    err = info.value
    assert isinstance(err, RuntimeError)
    assert err.dot_path == tmp_path / "out" / "graph.dot"
    assert err.dot_path.read_text() == draw_graph(loss).source
    message = str(err)
    for part in ("'dot' was not found", "apt-get install graphviz", "brew install graphviz", "conda install",
                 str(err.dot_path)):
        assert part in message
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["graph.dot"]  # no half-written picture
    assert render(loss, tmp_path / "out" / "again", format="dot").exists()  # DOT needs no program


# ---------------------------------------------------------------------------- notebooks

@needs_dot
def test_notebook_display_is_inline_svg():
    drawing = draw_graph(small_graph()[2])
    bundle = drawing._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml", "text/plain"] and "<svg" in bundle["image/svg+xml"]
    assert "<svg" in drawing._repr_svg_()


def test_notebook_display_falls_back_to_text_without_graphviz(monkeypatch, tmp_path):
    drawing = draw_graph(small_graph()[2])
    hide_graphviz(monkeypatch, tmp_path)
    bundle = drawing._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "apt-get install graphviz" in bundle["text/plain"] and drawing.source in bundle["text/plain"]
    assert drawing._repr_svg_() is None


# ---------------------------------------------------------------------------- text view

def test_format_graph_table_before_backward(capsys):
    a, b, loss = small_graph()
    text = format_graph(loss)
    lines = text.splitlines()
    t = trace(loss)
    assert len(lines) == len(t.nodes) + 2
    assert lines[1].split() == ["id", "name", "op", "inputs", "shape", "dtype", "grad", "norm"]
    assert lines[2 + t.index(a)].split() == [f"n{t.index(a)}", "a", "leaf", "-", "(2,)", "float64", "-"]
    reshape_row = next(line for line in lines if "reshape" in line)
    assert "reshape(shape=(4, 3))" in reshape_row and f"n{t.index(b)}" in reshape_row
    print_graph(loss)
    assert capsys.readouterr().out == text + "\n"
    with pytest.raises(ValueError, match="max_rows"):
        format_graph(loss, max_rows=1)


# ---------------------------------------------------------------------------- any graph

@st.composite
def random_graphs(draw):
    """A random DAG of elementwise ops over 1-4 leaves (some constant), summed to a scalar."""
    values = [Value(np.full(2, i + 1.0), requires_grad=i == 0 or draw(st.booleans()))
              for i in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(0, 10))):
        pick = st.integers(0, len(values) - 1)
        a, b = values[draw(pick)], values[draw(pick)]
        op = draw(st.sampled_from(["add", "mul", "neg", "tanh"]))
        values.append(a + b if op == "add" else a * b if op == "mul" else -a if op == "neg" else a.tanh())
    return values[-1].sum()


@settings(max_examples=40)
@given(random_graphs())
def test_any_graph_draws_consistently(root):
    t = trace(root)
    source = draw_graph(root, show_order=True).source
    made_by_ops = [i for i, v in enumerate(t.nodes) if v._op is not None]
    assert len(value_names(source)) == len(t.nodes)
    assert len(op_names(source)) == len(made_by_ops)
    assert len(dot_edges(source)) == len(t.edges) + len(made_by_ops)
    assert draw_graph(root, show_order=True).source == source
    steps = {int(n): int(s) for n, s in re.findall(r"^\s*n(\d+) \[label=<<font color=\"#b2182b\">"
                                                  r"<b>step (\d+)</b>", source, re.M)}
    assert sorted(steps.values()) == list(range(1, len(steps) + 1))
    for parent, child in t.edges:  # backward reaches a value only after every value using it
        if parent in steps:
            assert steps[child] < steps[parent]
    assert len(format_graph(root).splitlines()) == len(t.nodes) + 2
