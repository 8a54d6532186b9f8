"""Suite-wide test settings.

The ``rng`` fixture (a ``numpy.random.Generator`` seeded from the test's id, so every test draws the same
numbers whichever tests ran before it) comes from tinygrad_lab's pytest plugin; tests take their random
data from it, never from a module-level generator.

The hypothesis profile ``mutation`` is for ``benchmarks/mutation.py``: derandomized, so a mutant's
verdict does not depend on which examples a run happened to draw; 5 examples per property, so a
run over the op table stays within minutes.

The ``needs_dot`` marker: tests that need the Graphviz program ``dot`` (an SVG or PNG drawn by the real
program) carry ``@pytest.mark.needs_dot``; on a machine without the program they skip with a reason that
names it, so the README's test command passes on a fresh machine. Everything else about drawing (the DOT
text, the fallback file and hint) is tested without it; CI installs Graphviz and runs them all.
"""
from __future__ import annotations

import shutil

import pytest

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the suite runs without hypothesis too (its property tests then skip or fail to import)
    pass
else:
    settings.register_profile("mutation", max_examples=5, derandomize=True, deadline=None, database=None,
                              suppress_health_check=[HealthCheck.too_slow])

NEEDS_DOT_REASON = ("needs the Graphviz program 'dot', which is not on PATH (install it: apt-get install graphviz, "
                    "brew install graphviz or conda install graphviz); CI installs it")


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_dot: needs the Graphviz program 'dot'; skips when it is not on PATH")


def pytest_collection_modifyitems(config, items):
    if shutil.which("dot") is not None:
        return
    skip = pytest.mark.skip(reason=NEEDS_DOT_REASON)
    for item in items:
        if item.get_closest_marker("needs_dot") is not None:
            item.add_marker(skip)
