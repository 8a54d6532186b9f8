"""Drawings for teaching (issue 13): every gradient in one call (grads=True), a layout direction chosen from the
graph's shape, readable reference drawings, a short op column, and a text form for notebooks."""
import html
import re
import shutil
import struct

import numpy as np
import pytest

import tinygrad_lab
from tinygrad_lab import Value, grad, nn
from tinygrad_lab.viz import draw_graph, format_graph, print_graph, render

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz program 'dot'")


def micrograd_expression():
    """micrograd's L = (a*b + c) * f with a=2, b=-3, c=10, f=-2; labels name every value."""
    a = Value(2.0, requires_grad=True, label="a")
    b = Value(-3.0, requires_grad=True, label="b")
    c = Value(10.0, requires_grad=True, label="c")
    f = Value(-2.0, requires_grad=True, label="f")
    e = a * b
    d = e + c
    L = d * f
    e.label, d.label, L.label = "e", "d", "L"
    return {"a": a, "b": b, "c": c, "f": f, "e": e, "d": d, "L": L}


# By hand: dL/dd = f = -2, dL/df = d = 4, dL/de = dL/dc = dL/dd = -2, dL/da = b * -2 = 6, dL/db = a * -2 = -4.
HAND_GRADIENTS = {"a": 6.0, "b": -4.0, "c": -2.0, "f": 4.0, "e": -2.0, "d": -2.0, "L": 1.0}


def _node_grads(source: str) -> dict[str, str]:
    """Title -> the 'grad ...' line of each value box in DOT text."""
    found = {}
    for label in re.findall(r"label=<(.*?)>\s", source):
        title = re.search(r"<b>([^<]+)</b>", label)
        text = re.search(r'<font point-size="9">(grad [^<]*)</font>', label)
        if title and text:
            found[html.unescape(title.group(1))] = html.unescape(text.group(1))
    return found


# ---- grads=True ---------------------------------------------------------------------------------------------

def test_grads_true_draws_every_gradient_of_a_scalar_expression():
    v = micrograd_expression()
    shown = _node_grads(draw_graph(v["L"], grads=True).source)
    assert shown == {name: f"grad {g:g}" for name, g in HAND_GRADIENTS.items()}


def test_grads_true_changes_nothing_and_a_later_backward_is_plain():
    v = micrograd_expression()
    v["a"].grad = Value(100.0)                       # a gradient the user already has
    before = v["a"].grad
    draw_graph(v["L"], grads=True)
    print_graph(v["L"], grads=True, file=open("/dev/null", "w"))
    assert v["a"].grad is before and v["a"].grad.item() == 100.0
    assert v["b"].grad is None and v["e"].grad is None
    v["L"].backward()                                # the graph is still there; a plain backward as ever
    assert v["b"].grad.item() == HAND_GRADIENTS["b"]
    assert v["a"].grad.item() == 100.0 + HAND_GRADIENTS["a"]
    assert v["e"].grad is None                       # intermediate values keep nothing, as in PyTorch
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        v["L"].backward()                            # ... and it freed the graph, as before


def test_grads_true_agrees_with_retain_grad_on_a_network():
    tinygrad_lab.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    x = np.random.default_rng(3).normal(size=(4, 3))
    loss = nn.CrossEntropyLoss()(model(Value(x)), np.array([0, 1, 1, 0]))
    source = draw_graph(loss, params=model, grads=True).source
    # the same numbers by the ordinary route: retain_grad on every value, one backward
    tinygrad_lab.manual_seed(3)
    model2 = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    hidden = model2[0](Value(x))
    act = model2[1](hidden)
    out = model2[2](act)
    loss2 = nn.CrossEntropyLoss()(out, np.array([0, 1, 1, 0]))
    for value in (hidden, act, out):
        value.retain_grad()
    loss2.backward()
    from tinygrad_lab.viz.style import _summary
    for value in (hidden, act, out, *model2.parameters()):
        assert "grad " + _summary(value.grad.data)[0] in html.unescape(source)
    assert all(p.grad is None for p in model.parameters())


def test_grads_true_on_collapsed_module_calls_shows_their_output_gradient():
    root, model = lab_network()
    source = html.unescape(draw_graph(root, params=model, depth=0, grads=True).source)
    (g_out,) = grad(root, [root._prev[0]], retain_graph=True)   # the model's output feeds the loss
    from tinygrad_lab.viz.style import _summary
    assert f"out grad {_summary(g_out.data)[0]}" in source
    assert "out grad 1" in source                                  # the loss box: d loss / d loss


def test_grads_true_needs_the_graph_and_a_scalar_output():
    v = micrograd_expression()
    v["L"].backward()
    with pytest.raises(RuntimeError, match=r"before backward\(\), or call backward\(retain_graph=True\)"):
        draw_graph(v["L"], grads=True)
    x = Value([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"scalar output.*shape \(2,\).*\.sum\(\)"):
        draw_graph(x * 2.0, grads=True)


def test_grads_true_through_render_print_graph_and_value_draw(tmp_path, capsys):
    v = micrograd_expression()
    path = render(v["L"], tmp_path / "g.dot", grads=True)
    assert _node_grads(path.read_text()) == _node_grads(draw_graph(v["L"], grads=True).source)
    assert _node_grads(v["L"].draw(grads=True).source)["e"] == "grad -2"
    print_graph(v["L"], grads=True)
    rows = {line.split()[1]: line.split()[-1] for line in capsys.readouterr().out.splitlines()
            if re.match(r"n\d+ ", line)}
    assert {k: float(x) for k, x in rows.items() if k in HAND_GRADIENTS} == \
        {k: abs(g) for k, g in HAND_GRADIENTS.items()}       # the norm of a scalar gradient is its size


def test_grad_of_intermediate_and_upstream_values_together():
    # torch.autograd.grad gives every requested gradient, intermediate values and their inputs alike
    v = micrograd_expression()
    names = ["a", "b", "c", "f", "e", "d", "L"]
    found = grad(v["L"], [v[n] for n in names], retain_graph=True)
    assert [g.item() for g in found] == [HAND_GRADIENTS[n] for n in names]
    (only_e,) = grad(v["L"], [v["e"]])
    assert only_e.item() == -2.0


# ---- layout -------------------------------------------------------------------------------------------------

def lab_network():
    """The lab's 2-4-4-1 sigmoid network with MSE on the 21 XOR points."""
    from tinygrad_lab.data import generate_xor_easy
    tinygrad_lab.manual_seed(0)
    X, Y = generate_xor_easy()
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    return nn.MSELoss()(model(Value(X, label="x")), Value(Y, label="y")), model


def mlp5():
    """A 5-layer ReLU MLP (2-16-16-16-16-1) with BCE on 8 points."""
    tinygrad_lab.manual_seed(0)
    sizes = [2, 16, 16, 16, 16, 1]
    layers = []
    for i in range(5):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.ReLU() if i < 4 else nn.Sigmoid()]
    model = nn.Sequential(*layers)
    X = np.random.default_rng(0).normal(size=(8, 2))
    return nn.BCELoss()(model(Value(X, label="x")), Value((X[:, :1] > 0).astype(float), label="y")), model


def chain50():
    """A chain of 50 scalar ops (mul, tanh, add, sigmoid, exp, ...)."""
    v = x = Value(0.5, requires_grad=True, label="x")
    steps = [lambda v: v * 1.1, lambda v: v.tanh(), lambda v: v + 0.3, lambda v: v.sigmoid(), lambda v: v.exp()]
    for i in range(50):
        v = steps[i % 5](v)
    assert x.requires_grad
    return v, None


def _rankdir(source: str) -> str:
    return re.search(r"rankdir=(\w+)", source).group(1)


def test_direction_follows_the_graph_shape_unless_chosen():
    assert _rankdir(draw_graph(micrograd_expression()["L"]).source) == "LR"   # short: left to right
    for make in (lab_network, mlp5, chain50):
        root, model = make()
        assert _rankdir(draw_graph(root, params=model).source) == "TB", make.__name__   # long: top to bottom
        for choice in ("LR", "RL", "TB", "BT"):
            assert _rankdir(draw_graph(root, params=model, rankdir=choice).source) == choice
    root, model = lab_network()
    assert _rankdir(draw_graph(root, params=model, depth=0).source) == "LR"   # collapsed: short again
    with pytest.raises(ValueError, match="rankdir must be None"):
        draw_graph(root, rankdir="up")


def test_parameters_sit_beside_the_op_they_feed():
    root, model = lab_network()
    source = draw_graph(root, params=model).source
    ranks = re.findall(r"\{rank=same; ([^}]*)\}", source)
    assert len(ranks) == 3                        # one per Linear layer: weight, linear op, bias
    for names in ranks:
        weight, op, bias = names.split()
        assert op.endswith("_op") and f"{op} -> {bias} [dir=back]" in source and f"{weight} -> {op}" in source


def _png_size(path) -> tuple[int, int]:
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@needs_dot
@pytest.mark.parametrize("make", [lab_network, mlp5, chain50], ids=["lab_network", "mlp5", "chain50"])
def test_reference_drawings_are_readable_at_1000_pixels_wide(make, tmp_path):
    root, model = make()
    width, height = _png_size(render(root, tmp_path / "g.png", params=model, grads=True))
    # Shown 1,000 pixels wide, the text keeps at least 80% of its size, and the picture is not a strip
    # (taller than wide, or about square): left to right these were 3,354x501, 5,165x501 and 12,602x210.
    assert width <= 1250, (width, height)
    assert width / height <= 1.0, (width, height)


def _svg_boxes(svg: str) -> dict[str, tuple[float, float]]:
    """For each node id, (top of its outline, top of its first text line) in SVG coordinates."""
    found = {}
    for title, body in re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]*)</title>(.*?)</g>', svg, re.S):
        ys = [float(y) for pts in re.findall(r'<polygon[^>]*points="([^"]*)"', body)
              for y in re.findall(r",(-?[\d.]+)", pts)]
        texts = re.findall(r'<text[^>]*y="(-?[\d.]+)"[^>]*font-size="([\d.]+)"', body)
        if ys and texts:
            baseline, size = float(texts[0][0]), float(texts[0][1])
            found[title] = (min(ys), baseline - size)
    return found


@needs_dot
def test_a_collapsed_box_title_does_not_touch_its_border():
    root, model = lab_network()
    svg = draw_graph(root, params=model, depth=0).pipe(format="svg", encoding="utf-8")
    boxes = {k: v for k, v in _svg_boxes(svg).items() if k.startswith("m")}
    assert len(boxes) == 2                         # the model and the loss
    for name, (top, text_top) in boxes.items():
        assert text_top - top >= 6, name          # at least 6 points between the border and the title


# ---- the op column and the text form ------------------------------------------------------------------------

def cross_entropy_graph():
    logits = Value(np.random.default_rng(0).normal(size=(64, 10)), requires_grad=True, label="logits")
    return nn.CrossEntropyLoss(label_smoothing=0.1)(logits, np.arange(64) % 10)


def test_op_column_is_shortened_and_complete_on_request():
    from tinygrad_lab.viz.text import OP_WIDTH
    loss = cross_entropy_graph()
    short = format_graph(loss)
    (row,) = [line for line in short.splitlines() if "cross_entropy(" in line]
    op = re.search(r"cross_entropy\(.*?\)(?=\s{2})", row).group(0)
    assert len(op) <= OP_WIDTH and op.endswith(", \u2026)") and op.startswith("cross_entropy(target=array(64,) int64")
    assert "full_args=True" in short
    full = format_graph(loss, full_args=True)
    assert "label_smoothing=0.1" in full and "ignore_index=-100" in full and "full_args=True" not in full


def test_a_drawing_reads_as_a_short_text_view():
    root, model = lab_network()
    drawing = draw_graph(root, params=model)
    text = repr(drawing)
    assert text.startswith("computation graph: 15 values") and "GraphDrawing at 0x" not in text
    assert "mse_loss" in text and "\u2026 3 more rows" in text       # 15 values: 12 rows shown, 3 left out
    assert len(text.splitlines()) <= 18
    if shutil.which("dot"):
        bundle = drawing._repr_mimebundle_()
        assert bundle["text/plain"] == text and "image/svg+xml" in bundle


# ---- fit's progress bar -------------------------------------------------------------------------------------

def test_fit_uses_tqdm_auto_and_shows_a_bar_in_notebooks(monkeypatch):
    import io

    import tqdm.auto

    from tinygrad_lab import train
    monkeypatch.setattr("sys.stderr", io.StringIO())                   # not a terminal
    assert train._in_notebook() is False                               # pytest is no notebook
    assert train._progress_bar(None, 10, quiet=False) is None
    monkeypatch.setattr(train, "_in_notebook", lambda: True)
    bar = train._progress_bar(None, 10, quiet=False)
    try:
        assert isinstance(bar, tqdm.auto.tqdm)
    finally:
        bar.close()
    assert train._progress_bar(None, 10, quiet=True) is None
    assert train._progress_bar(False, 10, quiet=False) is None


# ---- tinygrad-lab graph -------------------------------------------------------------------------------------

def test_graph_command_has_the_drawing_options_and_no_training_flags(tmp_path, capsys):
    from tinygrad_lab.cli import main
    out = tmp_path / "g"
    assert main(["graph", "--out", str(out), "--format", "dot", "--depth", "0", "--direction", "LR",
                 "--show-order", "--no-grads"]) == 0
    source = (tmp_path / "g.dot").read_text()
    assert "rankdir=LR" in source and "shape=\"box3d\"" in source and "step 1" not in source  # no grads: no steps
    assert "the forward pass" in capsys.readouterr().out
    assert main(["graph", "--out", str(tmp_path / "h.dot"), "--max-nodes", "5", "--show-order"]) == 0
    source = (tmp_path / "h.dot").read_text()
    assert "rankdir=TB" in source and "more nodes" in source and "step 1" in source and "grad 1" in source
    for flag in (["--epochs", "3"], ["--target-loss", "0.1"], ["--log-every", "10"], ["--optimizer", "adam"]):
        assert main(["graph", *flag]) == 2
        assert "unrecognized arguments: " + flag[0] in capsys.readouterr().err
    assert main(["graph", "--direction", "sideways"]) == 2
    assert "invalid choice: 'sideways'" in capsys.readouterr().err
    assert main(["graph", "--out", str(tmp_path / "k.svg"), "--format", "png"]) == 2
    assert "ends in .svg but --format is png" in capsys.readouterr().err
