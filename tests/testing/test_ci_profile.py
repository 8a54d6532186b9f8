"""On CI (the CI environment variable set, as .ci/run has it) hypothesis draws new examples every run."""
import pytest

pytest_plugins = ["pytester"]

PROBE = """
from hypothesis import settings

def test_profile():
    s = settings.default
    print("PROFILE", settings.get_current_profile_name(), s.derandomize, s.print_blob, s.database)
"""


def test_ci_draws_new_examples_and_prints_the_reproduction_blob(pytester: pytest.Pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    pytester.makepyfile(PROBE)
    result = pytester.runpytest_subprocess("-s", "-p", "no:randomly")
    (line,) = [line.split("PROFILE ", 1)[1] for line in result.outlines if "PROFILE " in line]
    assert line.split() == ["ci", "False", "True", "None"]
