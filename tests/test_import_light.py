"""`import tinygrad_lab` stays light: optional libraries (plotting, drawing, progress bars, PyTorch, executors)
and the modules behind rarely used names load where they are used. The import time itself is measured by
`benchmarks/import_time.py`, not here."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_lab

ROOT = Path(__file__).resolve().parents[1]
NOT_AT_IMPORT = ("matplotlib", "graphviz", "tqdm", "torch", "sklearn", "scipy", "dask", "distributed",
                 "concurrent.futures", "multiprocessing", "hypothesis", "numpy.random", "zipfile", "json",
                 "tinygrad_lab.testing", "tinygrad_lab.checkpoint", "tinygrad_lab.viz", "tinygrad_lab.plots",
                 "tinygrad_lab.lab", "tinygrad_lab.experiments", "tinygrad_lab.cli")


def _modules_after(code: str) -> list[str]:
    script = f"import sys\n{code}\nprint(repr(sorted(sys.modules)))"   # no json: it is one of the names checked
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.splitlines()[-1])


def test_import_tinygrad_lab_imports_no_optional_library():
    loaded = set(_modules_after("import tinygrad_lab"))
    assert "tinygrad_lab" in loaded and "numpy" in loaded
    assert [name for name in NOT_AT_IMPORT if name in loaded] == []


def test_lazy_names_load_on_first_use_in_a_fresh_process():
    loaded = set(_modules_after("from tinygrad_lab import gradcheck, save\nimport tinygrad_lab as t\n"
                                "assert t.gradgradcheck is t.testing.gradgradcheck and t.load is t.checkpoint.load"))
    assert {"tinygrad_lab.testing", "tinygrad_lab.checkpoint"} <= loaded


def test_lazy_names_are_the_modules_functions():
    from tinygrad_lab import checkpoint, testing

    assert tinygrad_lab.gradcheck is testing.gradcheck and tinygrad_lab.gradgradcheck is testing.gradgradcheck
    assert tinygrad_lab.save is checkpoint.save and tinygrad_lab.load is checkpoint.load
    assert {"gradcheck", "gradgradcheck", "save", "load", "jit", "Value"} <= set(dir(tinygrad_lab))
    assert set(tinygrad_lab.__all__) <= set(dir(tinygrad_lab))


def test_every_public_module_names_each_export_once():
    import importlib
    import pkgutil

    modules = ["tinygrad_lab", *(info.name for info in pkgutil.walk_packages(tinygrad_lab.__path__, "tinygrad_lab."))]
    assert len(modules) > 50
    for name in modules:
        names = getattr(importlib.import_module(name), "__all__", [])
        assert len(names) == len(set(names)), (name, sorted(n for n in set(names) if names.count(n) > 1))


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'gradchek'"):
        tinygrad_lab.gradchek  # noqa: B018


def test_the_global_generator_is_made_once_on_first_use_and_reseedable():
    loaded = _modules_after("import tinygrad_lab.random as r\nimport threading\n"
                            "gens = []\n"
                            "ts = [threading.Thread(target=lambda: gens.append(r.get_generator())) for _ in range(8)]\n"
                            "[t.start() for t in ts]; [t.join() for t in ts]\n"
                            "assert len({id(g) for g in gens}) == 1 and gens[0] is r.get_generator()\n"
                            "a = r.manual_seed(3).random(); b = r.manual_seed(3).random()\n"
                            "assert a == b and r.get_generator() is not gens[0]")
    assert "numpy.random" in loaded
