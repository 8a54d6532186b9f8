"""The documentation: the MkDocs site builds strictly with an API reference of every public name, and the
guides say what the code does."""
import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# The public modules, each with its page in the API reference (docs/api/<name without the package>.md).
PUBLIC_MODULES = ["tinygrad_lab", "tinygrad_lab.nn", "tinygrad_lab.nn.functional", "tinygrad_lab.nn.init",
                  "tinygrad_lab.optim", "tinygrad_lab.optim.lr_scheduler", "tinygrad_lab.data", "tinygrad_lab.train",
                  "tinygrad_lab.viz", "tinygrad_lab.testing", "tinygrad_lab.testing.strategies", "tinygrad_lab.lab",
                  "tinygrad_lab.random", "tinygrad_lab.autograd", "tinygrad_lab.ops", "tinygrad_lab.checkpoint",
                  "tinygrad_lab.experiments",
                  "tinygrad_lab.ensemble", "tinygrad_lab.executors"]


def _page(module: str) -> Path:
    return DOCS / "api" / f'{module.removeprefix("tinygrad_lab").lstrip(".") or "index"}.md'


def _public_names(module: str) -> list[str]:
    mod = importlib.import_module(module)
    return [n for n in mod.__all__ if not inspect.ismodule(getattr(mod, n))]


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_module_has_a_reference_page_by_its_public_path(module):
    page = _page(module)
    assert page.is_file(), f"no API page for {module}"
    assert re.findall(r"^::: (\S+)", page.read_text(encoding="utf-8"), re.M) == [module]
    assert f"api/{page.name}" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="building the docs needs MkDocs (pip install -e '.[docs]')")
    pytest.importorskip("material", reason="building the docs needs mkdocs-material (pip install -e '.[docs]')")
    pytest.importorskip("mkdocstrings_handlers.python",
                        reason="the API reference needs mkdocstrings[python] (pip install -e '.[docs]')")
    pytest.importorskip("mkdocs_jupyter",
                        reason="the tour notebook page needs mkdocs-jupyter (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_api_reference_documents_every_public_name(site, module):
    page = _page(module)
    html = (site / "api" / page.stem / "index.html") if page.stem != "index" else site / "api" / "index.html"
    anchors = set(re.findall(r'id="([^"]+)"', html.read_text(encoding="utf-8")))
    missing = [n for n in _public_names(module) if f"{module}.{n}" not in anchors]
    assert not missing, f"{module}: public names missing from the API reference: {missing}"


def test_api_reference_renders_doctests_as_code(site):
    html = (site / "api" / "nn" / "index.html").read_text(encoding="utf-8")
    # Module.named_parameters' example: a highlighted console block, not markdown quotes.
    assert '<span class="go">[&#39;weight&#39;, &#39;bias&#39;]</span>' in html or \
        "<span class=\"go\">['weight', 'bias']</span>" in html
    assert "<blockquote>\n<blockquote>" not in html


# ---- the guides say what the code does ----------------------------------------------------------------------

def _read(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def _call_signature(function) -> str:
    """``name(a=1, b=None)`` as the guides write it (no annotations)."""
    parts, star = [], False
    for p in inspect.signature(function).parameters.values():
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return f"{function.__name__}({', '.join(parts)})"


def test_data_guide_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in _python_blocks(_read("data.md")):  # one page, one namespace, in order (as a reader runs them)
        exec(compile(block, "docs/data.md", "exec"), namespace)


def test_data_guide_gives_every_generator_signature():
    from tinygrad_lab import data
    text = _read("data.md")
    generators = [n for n in data.__all__ if n.startswith("generate_")]
    for name in generators:
        assert f"`{_call_signature(getattr(data, name))}`" in text, name
    assert f"`{_call_signature(data.load_dataset)}`" in text
    for name in data.dataset_names():
        assert f"`{name}`" in text


def test_data_guide_shapes_and_dtypes_are_what_the_generators_return():
    import numpy as np

    from tinygrad_lab import data
    text = _read("data.md")
    assert "| `inputs` | `(n, 2)` | `float64` |" in text and "| `labels` | `(n, 1)` | `float64` |" in text
    for name in data.dataset_names():
        X, Y = data.load_dataset(name, seed=0)
        assert X.shape == (len(X), 2) and X.dtype == np.float64
        assert Y.shape == (len(X), 1) and Y.dtype == np.float64 and set(np.unique(Y)) <= {0.0, 1.0}


def test_fit_signature_and_its_progress_and_quiet_are_documented():
    from tinygrad_lab.train import fit
    text = " ".join(_read("data.md").split())
    assert f"`{_call_signature(fit)}`" in text
    assert "| `progress` |" in text and "| `quiet` |" in text
    assert "quiet=True" in _read("lab.md") and "progress=None" in _read("lab.md")


def test_engine_guide_indexing_example_runs_and_says_repeats_accumulate():
    text = _read("engine.md")
    (block,) = [b for b in _python_blocks(text) if "W[ids]" in b]
    exec(compile(block, "docs/engine.md", "exec"), {})
    assert "differentiable" in text and "sum of its gradients" in text


def test_nn_guide_states_the_parameter_order_modules_use():
    import numpy as np

    from tinygrad_lab import nn
    text = " ".join(_read("nn.md").split())
    assert "in assignment order)" not in text  # the old, wrong claim
    module_doc = " ".join((nn.Module.__doc__ or "").split())       # the API reference's text
    assert "(in assignment order)" not in module_doc and "own Parameters first" in module_doc

    stated = re.search(r"with `self\.fc = nn\.Linear\(\.\.\.\)`, then `self\.scale = nn\.Parameter\(\.\.\.\)`, "
                       r"the order is ((?:`[\w.]+`(?:, )?)+)", text)
    assert stated, "nn.md no longer gives the worked ordering example"

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(1, 1)
            self.scale = nn.Parameter(np.ones(1))

    model = Model()
    assert re.findall(r"`([\w.]+)`", stated.group(1)) == [n for n, _ in model.named_parameters()]
    assert list(model.state_dict()) == [n for n, _ in model.named_parameters()]


def test_lab_guide_names_the_folder_experiments_quick_writes(monkeypatch):
    from tinygrad_lab import cli, experiments
    written = []
    monkeypatch.setattr(experiments, "run_experiments", lambda folder, **kwargs: written.append(str(folder)))
    assert cli.main(["experiments", "--quick"]) == 0
    assert cli.main(["experiments"]) == 0
    quick, full = written
    text = _read("lab.md")
    (line,) = [ln for ln in text.splitlines() if ln.startswith("tinygrad-lab experiments --quick")]
    assert f"{quick}/" in line
    assert f"`{full}/report.md`" in text and f"`{quick}/report.md`" in text
