"""The examples in the docstrings run and give what they show; every public name has a docstring."""
import doctest
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import tinygrad_lab

MODULES = sorted(info.name for info in pkgutil.walk_packages(tinygrad_lab.__path__, "tinygrad_lab.")
                 if not info.name.endswith(("__main__", ".plugin")))


@pytest.mark.parametrize("name", ["tinygrad_lab", *MODULES])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    globs = {"np": np, "Value": tinygrad_lab.Value, "tinygrad_lab": tinygrad_lab}
    with np.errstate(all="ignore"):
        result = doctest.testmod(module, extraglobs=globs, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                                 verbose=False)
    assert result.failed == 0


@pytest.mark.parametrize("name", ["tinygrad_lab", *MODULES])
def test_public_names_have_docstrings(name):
    module = importlib.import_module(name)
    public = getattr(module, "__all__", None)
    if public is None:
        public = [n for n, obj in vars(module).items() if not n.startswith("_")
                  and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == name]
    missing = [n for n in public if not inspect.getdoc(getattr(module, n))]
    assert not missing, f"{name}: public names without a docstring: {missing}"
