"""Adversarial checks of the gradient-check toolkit (tinygrad_lab.testing) and the drawings (tinygrad_lab.viz).

A gradient check's worst bug is a pass for a wrong gradient: deliberately wrong backward rules (a factor, a
sign, one input only, one element only) must fail every check, and the report must name the input and the
element. Drawings must stay valid DOT whatever the labels hold.
"""
import subprocess
import warnings

import numpy as np
import pytest

from tinygrad_lab import Function, Value
from tinygrad_lab.testing import GradcheckError, check_grads, gradcheck, gradgradcheck
from tinygrad_lab.viz import draw_graph, format_graph

needs_dot = pytest.mark.needs_dot  # skips without the Graphviz program: see tests/conftest.py


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def product_with(backward_rule, name):
    """x * y with the given (possibly wrong) backward rule."""

    class Product(Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def backward(g, out, x, y):
            return backward_rule(g, x, y)

    Product.name = name
    return Product


WRONG_RULES = {
    "factor on input 0": (lambda g, x, y: (2 * g * y, g * x), "input 0"),
    "sign on input 1": (lambda g, x, y: (g * y, -g * x), "input 1"),
    "slightly off on input 0": (lambda g, x, y: (g * y * 1.01, g * x), "input 0"),
}

CHECKS = {
    "gradcheck": lambda f, inputs: gradcheck(f, inputs),
    "check_grads full": lambda f, inputs: check_grads(f, inputs),
    "check_grads projection": lambda f, inputs: check_grads(f, inputs, method="projection", seed=0),
}


@pytest.mark.parametrize("rule", WRONG_RULES)
@pytest.mark.parametrize("check", CHECKS)
def test_every_check_catches_a_wrong_rule_and_names_the_input(rule, check, rng):
    backward_rule, wrong_input = WRONG_RULES[rule]
    op = product_with(backward_rule, "adv_product_" + rule.replace(" ", "_"))
    x = Value(rng.uniform(0.5, 2.0, 4), requires_grad=True)
    y = Value(rng.uniform(0.5, 2.0, 4), requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        CHECKS[check](lambda x, y: op.apply(x, y), (x, y))
    report = str(caught.value)
    assert wrong_input in report
    if check != "check_grads projection":  # the full checks list only the wrong pairs
        other = "input 1" if wrong_input == "input 0" else "input 0"
        assert f"/ d({other}" not in report


def test_a_rule_wrong_at_one_element_is_reported_at_that_element():
    class ReluWrongAtOnePoint(Function):
        name = "adv_relu_wrong_at_one_point"

        @staticmethod
        def forward(x):
            return np.maximum(x, 0)

        @staticmethod
        def backward(g, out, x):
            return (g * (x > 0) * (1 + (x == 1.5)),)

    x = Value(np.array([[-1.0, 1.5], [0.5, 2.0]]), requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: ReluWrongAtOnePoint.apply(x), (x,))
    report = str(caught.value)
    assert "1 of 16 Jacobian entries wrong" in report
    assert "(0, 1)  (0, 1)" in report  # output element (0, 1), input element (0, 1): where x = 1.5


def test_float32_inputs_are_checked_in_float64_and_a_wrong_rule_still_fails(rng):
    op = product_with(lambda g, x, y: (g * y * 1.01, g * x), "adv_product_float32")
    x = Value(rng.uniform(0.5, 2.0, 3).astype(np.float32), requires_grad=True)
    y = Value(rng.uniform(0.5, 2.0, 3).astype(np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(GradcheckError, match="input 0"):
            gradcheck(lambda x, y: op.apply(x, y), (x, y))
    assert x.dtype == np.float32 and y.dtype == np.float32  # the user's inputs keep their dtype


def test_a_func_that_changes_its_input_in_place_is_refused_and_the_input_restored():
    x = Value(np.array([1.0, 2.0]), requires_grad=True)
    original = x.data

    def shifts_its_input(x):
        x.data += 1.0
        return x * x

    for check in (lambda: gradcheck(shifts_its_input, (x,)),
                  lambda: check_grads(shifts_its_input, (x,), method="projection", seed=0),
                  lambda: gradgradcheck(shifts_its_input, (x,))):
        with pytest.raises(ValueError, match=r"changed the data of input 0 in place"):
            check()
        assert x.data is original
        np.testing.assert_array_equal(x.data, [1.0, 2.0])


def test_a_func_that_changes_an_input_not_checked_is_refused_too():
    x = Value(np.array([1.0, 2.0]), requires_grad=True)
    counter = Value(np.array([0.0]))

    def counts_its_calls(x, counter):
        counter.data += 1
        return x * x

    with pytest.raises(ValueError, match="input 1 in place"):
        gradcheck(counts_its_calls, (x, counter))
    np.testing.assert_array_equal(counter.data, [0.0])


def test_a_check_that_does_not_touch_its_inputs_passes_and_leaves_them_alone(rng):
    x = Value(rng.standard_normal((2, 3)), requires_grad=True)
    before = x.data.copy()
    assert gradcheck(lambda x: (x.tanh(), (x * x).sum()), (x,))
    np.testing.assert_array_equal(x.data, before)


# ----------------------------------------------------------------------------- drawings

AWKWARD_LABELS = ['a"b', "{x}", "<tag>", "a&b", "line1\nline2", "ünï©ødé ∂ 😀", "back\\slash", "x|y", "\t", "\n",
                  " \t ", "a\x01b", "\x00", "\ufffe", "]]>"]


def graph_with_label(label):
    a = Value([1.0, 2.0], requires_grad=True, label=label)
    loss = (a * a).sum()
    loss.label = label
    return loss


@pytest.mark.parametrize("label", AWKWARD_LABELS)
def test_labels_never_put_forbidden_characters_into_the_dot_text(label):
    source = draw_graph(graph_with_label(label), grads=True).source
    assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in source)
    assert "\ufffe" not in source
    assert "<b>\t</b>" not in source and "<b>\n</b>" not in source and "<b> \t </b>" not in source


@needs_dot
@pytest.mark.parametrize("label", AWKWARD_LABELS)
def test_graphviz_accepts_drawings_with_awkward_labels(label):
    source = draw_graph(graph_with_label(label), grads=True).source
    result = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_a_whitespace_label_is_shown_quoted_and_a_control_character_as_an_escape():
    assert "<b>'\\t'</b>" in draw_graph(graph_with_label("\t")).source
    assert "<b>a\\x01b</b>" in draw_graph(graph_with_label("a\x01b")).source


def test_markup_in_labels_is_escaped():
    source = draw_graph(graph_with_label("<b>&x</b>")).source
    assert "&lt;b&gt;&amp;x&lt;/b&gt;" in source


def test_nan_and_inf_values_and_gradients_are_drawn_as_such():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = Value(np.array([np.nan, np.inf, -np.inf]), requires_grad=True, label="a")
        loss = (a * 2.0).sum()
        source = draw_graph(loss, grads=True).source
    node_a = next(line for line in source.splitlines() if "<b>a</b>" in line)
    assert "data [nan, inf, -inf]" in node_a and "grad [2, 2, 2]" in node_a


# ----------------------------------------------------------------------------- NaN gradients never pass

class SquareWithNanGradient(Function):
    """x * x whose backward gives NaN for element 1 (and right values elsewhere)."""

    name = "adv_square_with_nan_gradient"

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(g, out, x):
        return (g * x * np.array([2.0, np.nan]),)


@pytest.mark.parametrize("method", ["full", "projection"])
def test_a_nan_gradient_fails_every_check(method):
    x = Value(np.array([0.5, 1.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        check_grads(lambda x: SquareWithNanGradient.apply(x), (x,), method=method, seed=0)
    assert "nan" in str(caught.value)


def test_the_projection_report_says_the_gradient_is_not_finite():
    x = Value(np.array([0.5, 1.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        check_grads(lambda x: SquareWithNanGradient.apply(x), (x,), method="projection", seed=0)
    report = str(caught.value)
    assert "non-finite gradient for input 0" in report
    assert "x numeric along this direction" not in report  # not a 'constant factor' of nan


def test_the_full_report_counts_and_lists_the_nan_entries():
    x = Value(np.array([0.5, 1.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: SquareWithNanGradient.apply(x), (x,))
    report = str(caught.value)
    assert "2 of 4 Jacobian entries wrong" in report  # column 1: d out[0]/dx[1] and d out[1]/dx[1] are NaN
    assert "(1,)    (1,)   nan       2" in report
    assert "not reentrant" not in report  # both backward passes give the same NaN: not a reentrancy failure


# ----------------------------------------------------------------------------- drawings of huge and tiny numbers

def test_the_mean_of_huge_finite_data_is_not_drawn_as_inf_or_nan():
    a = Value(np.full(100, 1e307), requires_grad=True, label="a")
    b = Value(np.array([1e308, -1e308] * 50), requires_grad=True, label="b")
    source = draw_graph(a + b).source
    node_a = next(line for line in source.splitlines() if "<b>a</b>" in line)
    node_b = next(line for line in source.splitlines() if "<b>b</b>" in line)
    assert "min 1e+307  mean 1e+307  max 1e+307" in node_a
    assert "min -1e+308  mean 0  max 1e+308" in node_b


@pytest.mark.parametrize("scale, norm", [(1e200, "1e+201"), (1e-200, "1e-199")])
def test_the_text_view_gives_the_gradient_norm_of_huge_and_tiny_gradients(scale, norm):
    a = Value(np.ones(100), requires_grad=True, label="a")  # d/da sum(a * scale) = scale everywhere: norm 10 scale
    text = format_graph((a * scale).sum(), grads=True)
    row_a = next(line for line in text.splitlines() if line.split()[:2] == ["n0", "a"])
    assert row_a.split()[-1] == norm
