"""pytest plugin of tinygrad_lab (registered as the ``pytest11`` entry point ``tinygrad_lab``).

Installed with the package, so pytest loads it on every run. It:

* registers three hypothesis profiles and loads one:

  - ``tinygrad_lab`` (the default): ``deadline=None`` (the first call of a NumPy op can be slow),
    50 examples;
  - ``ci`` (loaded automatically when ``CI`` is set): new random examples on every run, ``deadline=None``,
    no example database, failing examples printed with a ``@reproduce_failure`` blob, 50 examples;
  - ``derandomized``: the same examples on every run (a fixed, reproducible check), 50 examples;
  - ``dev``: 10 examples, ``deadline=None``: quick edit-test loops.

  Choose with ``pytest --tinygrad-lab-profile=ci`` or ``HYPOTHESIS_PROFILE=ci pytest``. Hypothesis's
  own ``--hypothesis-profile`` still wins, and a profile your ``conftest.py`` already loaded is kept.
  Unless a profile is asked for, hypothesis is imported (and the profile loaded) only just before
  the first test module that uses it, so pytest runs without hypothesis tests start fast.
* adds fixtures: ``rng`` (a seeded ``numpy.random.Generator``, different but reproducible for each
  test; the base seed is ``--tinygrad-lab-seed``, default 0), ``gradcheck``, ``assert_grad_close``
  and ``check_grads`` (the functions of :mod:`tinygrad_lab.testing`).

Example test using the fixtures::

    def test_my_op(rng, assert_grad_close):
        x = Value(rng.normal(size=(3, 4)), requires_grad=True)
        assert_grad_close(my_op, (x,))

Nothing here imports hypothesis or the engine at load time: without hypothesis the profiles are
simply skipped, and pytest keeps working.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import zlib
from typing import Any

import pytest

PROFILE_OPTION = "--tinygrad-lab-profile"
SEED_OPTION = "--tinygrad-lab-seed"
DEFAULT_PROFILE = "tinygrad_lab"
PROFILE_NAMES = ("tinygrad_lab", "ci", "derandomized", "dev")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinygrad_lab", "tinygrad_lab gradient-check testing")
    group.addoption(
        PROFILE_OPTION,
        action="store",
        default=None,
        metavar="NAME",
        help="hypothesis profile to load: tinygrad_lab (default), ci or dev "
        "(or any profile registered by your conftest). Also read from $HYPOTHESIS_PROFILE.",
    )
    group.addoption(
        SEED_OPTION,
        action="store",
        type=int,
        default=0,
        metavar="SEED",
        help="base seed of the `rng` fixture (default 0).",
    )


def register_profiles() -> bool:
    """Register the ``tinygrad_lab``, ``ci`` and ``dev`` hypothesis profiles.

    Returns False (and does nothing) when hypothesis is not installed.

    Example::

        >>> from tinygrad_lab.testing.plugin import register_profiles
        >>> register_profiles()
        True
    """
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:
        return False
    slow_ok = [HealthCheck.too_slow]
    base = settings.get_profile("default")  # hypothesis's defaults, whatever profile is active right now
    settings.register_profile(
        DEFAULT_PROFILE, base, max_examples=50, deadline=None, suppress_health_check=slow_ok
    )
    settings.register_profile(
        "ci",
        base,
        max_examples=50,
        derandomize=False,  # each CI run draws new examples; a failure prints the blob that reproduces it
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=slow_ok,
    )
    settings.register_profile(
        "derandomized",
        base,
        max_examples=50,
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=slow_ok,
    )
    settings.register_profile("dev", base, max_examples=10, deadline=None, suppress_health_check=slow_ok)
    return True


def _requested_profile(config: pytest.Config) -> str | None:
    return config.getoption(PROFILE_OPTION, default=None) or os.environ.get("HYPOTHESIS_PROFILE") or None


_CONFIGURED = "_tinygrad_lab_profile_done"


def _hypothesis_installed() -> bool:
    try:
        return importlib.util.find_spec("hypothesis") is not None
    except (ImportError, ValueError):
        return False


@pytest.hookimpl(tryfirst=True)  # before hypothesis's plugin, so --hypothesis-profile can name our profiles
def pytest_configure(config: pytest.Config) -> None:
    # Importing hypothesis takes a while: do it now only when a profile was asked for (or a conftest already
    # imported it); otherwise just before the first test module that uses hypothesis is imported.
    asked = _requested_profile(config) or config.getoption("--hypothesis-profile", default=None)
    if asked or sys.modules.get("hypothesis") is not None:
        _load_profile(config)


def pytest_pycollect_makemodule(module_path: Any, parent: Any) -> None:
    config = parent.config
    if getattr(config, _CONFIGURED, False):
        return
    try:
        text = module_path.read_text(encoding="utf-8", errors="ignore")
    except OSError:
        return
    if "hypothesis" in text or "strategies" in text:
        _load_profile(config)


def _load_profile(config: pytest.Config) -> None:
    if getattr(config, _CONFIGURED, False):
        return
    setattr(config, _CONFIGURED, True)
    if not register_profiles():
        return
    from hypothesis import settings
    from hypothesis.errors import InvalidArgument

    requested = _requested_profile(config)
    if requested is not None:
        try:
            settings.load_profile(requested)
        except InvalidArgument:
            raise pytest.UsageError(
                f"{PROFILE_OPTION} / HYPOTHESIS_PROFILE: unknown hypothesis profile {requested!r}; "
                f"tinygrad_lab registers {', '.join(PROFILE_NAMES)}"
            ) from None
        return
    if config.getoption("--hypothesis-profile", default=None):
        return  # hypothesis's own plugin loads it
    # Keep a profile the user's conftest already chose; replace only hypothesis's automatic ones.
    current = getattr(settings, "_current_profile", "default")
    if current in ("default", None):
        settings.load_profile(DEFAULT_PROFILE)
    elif current == "ci":  # hypothesis auto-loads its "ci" on CI machines: ours replaced it above
        settings.load_profile("ci")


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _hypothesis_installed():
        return "tinygrad_lab: hypothesis not installed (strategies and profiles unavailable)"
    if sys.modules.get("hypothesis") is None:
        return (
            f"tinygrad_lab: hypothesis profile {_requested_profile(config) or DEFAULT_PROFILE!r} "
            "(loaded with the first test module using hypothesis)"
        )
    from hypothesis import settings

    name = getattr(settings, "_current_profile", None)
    return f"tinygrad_lab: hypothesis profile {name!r}" if name else None


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> Any:
    """A ``numpy.random.Generator`` seeded from ``--tinygrad-lab-seed`` and the test's id.

    Each test gets its own reproducible stream (rerunning one test alone gives the same numbers).

    Example::

        def test_shapes(rng):
            x = rng.normal(size=(2, 3))
    """
    import numpy as np

    base = request.config.getoption(SEED_OPTION, default=0) or 0
    return np.random.default_rng([int(base), zlib.crc32(request.node.nodeid.encode())])


@pytest.fixture(name="gradcheck")
def gradcheck_fixture() -> Any:
    """:func:`tinygrad_lab.testing.gradcheck`, as a fixture.

    Example::

        def test_square(gradcheck):
            x = Value([1.0, 2.0], requires_grad=True)
            assert gradcheck(lambda x: x * x, (x,))
    """
    from .gradcheck import gradcheck

    return gradcheck


@pytest.fixture(name="assert_grad_close")
def assert_grad_close_fixture() -> Any:
    """:func:`tinygrad_lab.testing.assert_grad_close`, as a fixture.

    Example::

        def test_square(assert_grad_close):
            assert_grad_close(lambda x: x * x, (Value([1.0, 2.0], requires_grad=True),))
    """
    from .gradcheck import assert_grad_close

    return assert_grad_close


@pytest.fixture(name="check_grads")
def check_grads_fixture() -> Any:
    """:func:`tinygrad_lab.testing.check_grads`, as a fixture.

    Example::

        def test_big(check_grads, rng):
            x = Value(rng.normal(size=(200, 300)), requires_grad=True)
            check_grads(lambda x: x.tanh(), (x,), method="projection")
    """
    from .gradcheck import check_grads

    return check_grads
