"""Shared test configuration: the ``needs_dot`` marker.

Tests that need the Graphviz program ``dot`` (an SVG or PNG drawn by the real program) carry
``@pytest.mark.needs_dot``; on a machine without the program they skip with a reason that names it,
so the README's test command passes on a fresh machine. Everything else about drawing (the DOT
text, the fallback file and hint) is tested without it; CI installs Graphviz and runs them all.
"""
import shutil

import pytest

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
