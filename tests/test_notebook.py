"""The tour notebook (docs/tour.ipynb): a page of the site that runs top to bottom in a Jupyter kernel."""
import html
import json
import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tour.ipynb"


def _cells(kind: str) -> list[dict]:
    return [c for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == kind]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_tour_is_in_the_site_and_executed_in_ci():
    site = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^  - .*: tour\.ipynb$", site, re.M) and "mkdocs-jupyter" in site
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install --quiet -e '.[notebooks]'" in ci and "--nbmake docs/tour.ipynb || exit 1" in ci


def test_tour_draws_a_scalar_expression_then_the_lab_network():
    code = [_source(c) for c in _cells("code")]
    drawings = [i for i, src in enumerate(code) if "draw_graph(" in src]
    scalar = next(i for i, src in enumerate(code) if "L = d * f" in src)
    lab = next(i for i, src in enumerate(code) if "build_model(config)" in src)
    assert scalar in drawings and any(i > lab for i in drawings)
    assert "draw_graph(L, grads=True" in code[scalar]                 # every gradient, in one call
    assert "retain_grad" not in "".join(code)


def test_stored_outputs_have_no_errors():
    for cell in _cells("code"):
        assert all(out["output_type"] != "error" for out in cell.get("outputs", [])), _source(cell)


@pytest.fixture
def executed(tmp_path):
    why = "running the notebook needs Jupyter (pip install -e '.[notebooks]')"
    nbformat = pytest.importorskip("nbformat", reason=why)
    nbclient = pytest.importorskip("nbclient", reason=why)
    pytest.importorskip("ipykernel", reason=why)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # The kernel imports this checkout's package (first on its path), as the tests do.
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = path
    try:
        nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    return notebook


def test_tour_runs_and_shows_every_gradient(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    check = next(c for c in code if "v.grad.item()" in c.source)
    (result,) = [o for o in check.outputs if o.output_type == "execute_result"]
    # micrograd's L = (a*b + c) * f with a=2, b=-3, c=10, f=-2, checked by hand in the notebook's text.
    assert result["data"]["text/plain"] == "{'a': 6.0, 'b': -4.0, 'c': -2.0, 'f': 4.0}"
    drawings = [o for c in code if "draw_graph(" in c.source for o in c.outputs if o.output_type == "execute_result"]
    assert len(drawings) == sum("draw_graph(" in c.source for c in code)
    for drawing in drawings:  # the text form is a short view of the graph, not <...GraphDrawing at 0x...>
        assert drawing["data"]["text/plain"].startswith("computation graph: ")
    if shutil.which("dot"):
        assert all("image/svg+xml" in o["data"] for o in drawings)
        scalar_svg = html.unescape(drawings[0]["data"]["image/svg+xml"])
        for grad in ("grad 6", "grad -4", "grad -2", "grad 4", "grad 1"):
            assert grad in scalar_svg
    trained = next(c for c in code if "fit(" in c.source)
    text = "".join(o.get("text", "") for o in trained.outputs if o.output_type == "stream")
    assert "accuracy 1.0" in text
