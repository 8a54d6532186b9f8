"""The package looks after itself: it ships its type marker and licence, writes its version in one place,
describes itself to package indexes, and CI type-checks it."""
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import tinygrad_lab

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tinygrad_lab"

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml on Python 3.10 needs tomli")


@pytest.fixture(scope="module")
def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_py_typed_marker_is_shipped(pyproject):
    assert (PACKAGE / "py.typed").is_file()
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["tinygrad_lab"]
    assert "Typing :: Typed" in pyproject["project"]["classifiers"]


def test_licence_file_matches_the_declared_licence(pyproject):
    project = pyproject["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "MIT License"
    assert re.search(r"^Copyright \(c\) \d{4} \S", text, re.M)
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
    # PEP 639: an SPDX expression replaces the licence classifier; setuptools refuses both together.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


def test_version_is_written_in_one_place(pyproject):
    project = pyproject["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "tinygrad_lab._version.__version__"}
    from tinygrad_lab import _version
    assert tinygrad_lab.__version__ == _version.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", tinygrad_lab.__version__)
    # No other file in the package or the project configuration writes a version number.
    writers = [p.relative_to(ROOT).as_posix() for p in [*PACKAGE.rglob("*.py"), ROOT / "pyproject.toml"]
               if re.search(r"""^\s*(__version__|version)\s*=\s*["']""", p.read_text(encoding="utf-8"), re.M)]
    assert writers == ["tinygrad_lab/_version.py"]


def test_classifiers_match_the_supported_pythons(pyproject):
    project = pyproject["project"]
    assert "urls" not in project or all(url.startswith("https://") for url in project["urls"].values())
    minimum = tuple(int(n) for n in re.fullmatch(r">=(\d+)\.(\d+)", project["requires-python"]).groups())
    versions = [tuple(int(n) for n in c.rsplit(" ", 1)[1].split("."))
                for c in project["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions and min(versions) == minimum


def test_ci_type_checks_the_package(pyproject):
    mypy = pyproject["tool"]["mypy"]
    assert mypy["packages"] == ["tinygrad_lab"]
    assert not mypy.get("ignore_errors")
    overrides = mypy.get("overrides", [])
    assert not [o for o in overrides if o.get("ignore_errors")], "no module may switch type checking off wholesale"
    assert any(dep.startswith("mypy") for dep in pyproject["project"]["optional-dependencies"]["test"])
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.index("-m ruff check") < ci.index(".venv/bin/python -m mypy || exit 1")


_LOOSENING = ("disable_error_code", "disallow_untyped_defs", "disallow_incomplete_defs", "check_untyped_defs",
              "ignore_errors")


def _package_exemptions(mypy: dict) -> list[tuple[list[str], list[str]]]:
    """(module patterns, loosened settings) of each mypy override that loosens the checks for package modules."""
    exempt = []
    for override in mypy.get("overrides", []):
        patterns = override["module"] if isinstance(override["module"], list) else [override["module"]]
        ours = [p for p in patterns if p == "tinygrad_lab" or p.startswith(("tinygrad_lab.", "*"))]
        loosened = [k for k in _LOOSENING if k in override]
        if ours and loosened:
            exempt.append((ours, loosened))
    return exempt


def test_no_package_module_is_exempt_from_any_error_code(pyproject):
    """Every module of the package is checked with every error code, every function annotated: the transitional
    exemptions (autograd and ops were the last) must not come back, in pyproject.toml or in a file."""
    mypy = pyproject["tool"]["mypy"]
    assert not mypy.get("disable_error_code"), "a global disable_error_code switches codes off for the package"
    assert mypy.get("disallow_untyped_defs") is True
    exempt = _package_exemptions(mypy)
    assert not exempt, f"mypy overrides loosen the checks for package modules: {exempt}; fix the types instead"
    inline = [p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py")
              if re.search(r"^#\s*mypy:", p.read_text(encoding="utf-8"), re.M)]
    assert not inline, f"inline mypy configuration comments (# mypy: ...) in {inline}"


def test_exemption_check_finds_the_old_transitional_override():
    old = tomllib.loads('''
        [tool.mypy]
        packages = ["tinygrad_lab"]
        [[tool.mypy.overrides]]
        module = ["graphviz", "graphviz.*"]
        ignore_missing_imports = true
        [[tool.mypy.overrides]]
        module = ["tinygrad_lab.autograd.*", "tinygrad_lab.ops.*"]
        disable_error_code = ["arg-type", "misc"]
        disallow_untyped_defs = false
        [[tool.mypy.overrides]]
        module = "tinygrad_lab.cli"
        warn_unused_ignores = false
    ''')
    assert _package_exemptions(old["tool"]["mypy"]) == [
        (["tinygrad_lab.autograd.*", "tinygrad_lab.ops.*"], ["disable_error_code", "disallow_untyped_defs"])]


@pytest.mark.slow
def test_mypy_passes_on_the_package():
    pytest.importorskip("mypy", reason="the type check needs mypy (pip install -e '.[test]')")
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _setuptools_can_build():
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


@pytest.mark.skipif(not _setuptools_can_build(), reason="building the wheel offline needs setuptools>=77 installed")
def test_built_wheel_ships_marker_licence_and_version(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "runs", "site", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = archive.read(metadata).decode()
        licence = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert licence and archive.read(licence[0]) == (ROOT / "LICENSE").read_bytes()
    assert "tinygrad_lab/py.typed" in names
    assert f"\nVersion: {tinygrad_lab.__version__}\n" in meta
    assert "\nLicense-Expression: MIT\n" in meta
    assert "\nClassifier: Typing :: Typed\n" in meta
