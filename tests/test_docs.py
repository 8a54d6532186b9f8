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
                  "tinygrad_lab.random"]


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
