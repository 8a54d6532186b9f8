"""The pytest plugin (entry point ``tinygrad_lab``): profiles, options, fixtures, and life without hypothesis.

Runs that change hypothesis's global profile restore this session's afterwards; the lazy default
path and the no-hypothesis case run in fresh subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest

pytest_plugins = ["pytester"]

PROFILE_PROBE = """
from hypothesis import settings

def test_profile():
    print("PROFILE", settings.get_current_profile_name(), settings.default.max_examples,
          settings.default.derandomize, settings.default.deadline)
"""


def profile_line(result: pytest.RunResult) -> list[str]:
    lines = [line.split("PROFILE ", 1)[1] for line in result.outlines if "PROFILE " in line]
    assert lines, result.stdout.str()
    return lines[0].split()


def test_fixtures_and_the_default_profile(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CI", raising=False)  # on CI machines hypothesis picks its "ci" profile instead
    pytester.makepyfile(
        PROFILE_PROBE
        + textwrap.dedent("""
        import zlib
        import numpy as np
        from tinygrad_lab import Value

        def test_rng_is_seeded_per_test_from_the_seed_option(rng, request):
            expected = np.random.default_rng([7, zlib.crc32(request.node.nodeid.encode())])
            assert rng.random() == expected.random()

        def test_gradcheck_fixtures(gradcheck, assert_grad_close, check_grads, rng):
            x = Value(rng.normal(size=(2, 3)), requires_grad=True)
            assert gradcheck(lambda x: x.tanh(), (x,))
            assert_grad_close(lambda x: x.exp(), (x,))
            assert check_grads(lambda x: x * x, (x,), method="projection", seed=0)
    """)
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", "--tinygrad-lab-seed=7")
    result.assert_outcomes(passed=3)
    assert profile_line(result) == ["tinygrad_lab", "50", "False", "None"]
    result.stdout.fnmatch_lines(["tinygrad_lab: hypothesis profile 'tinygrad_lab'*"])


@pytest.fixture
def restore_profile():
    """In-process runs change hypothesis's global profile: put this session's back afterwards."""
    from hypothesis import settings

    name = settings.get_current_profile_name()
    yield
    settings.load_profile(name)


def test_profile_option_and_environment_variable(pytester: pytest.Pytester, restore_profile, monkeypatch):
    pytester.makepyfile(PROFILE_PROBE)
    assert profile_line(pytester.runpytest_inprocess("-s", "--tinygrad-lab-profile=ci")) == [
        "ci",
        "50",
        "False",   # CI draws new examples on every run
        "None",
    ]
    assert profile_line(pytester.runpytest_inprocess("-s", "--tinygrad-lab-profile=derandomized"))[:3] == [
        "derandomized",
        "50",
        "True",
    ]
    monkeypatch.setenv("HYPOTHESIS_PROFILE", "dev")
    assert profile_line(pytester.runpytest_inprocess("-s")) == ["dev", "10", "False", "None"]


def test_users_choices_win(pytester: pytest.Pytester, restore_profile):
    pytester.makeconftest("""
        from hypothesis import settings
        settings.register_profile("mine", max_examples=3)
        settings.load_profile("mine")
    """)
    pytester.makepyfile(PROFILE_PROBE)
    assert profile_line(pytester.runpytest_inprocess("-s"))[:2] == ["mine", "3"]
    assert profile_line(pytester.runpytest_inprocess("-s", "--hypothesis-profile=dev"))[:2] == ["dev", "10"]


def test_unknown_profile_is_a_usage_error(pytester: pytest.Pytester, restore_profile):
    pytester.makepyfile(PROFILE_PROBE)
    result = pytester.runpytest_inprocess("--tinygrad-lab-profile=nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown hypothesis profile 'nope'*registers tinygrad_lab, ci, derandomized, dev*"])


def test_assert_grad_close_failure_shows_the_report_not_the_internals(pytester: pytest.Pytester):
    pytester.makepyfile("""
        from tinygrad_lab import Function, Value

        class HalfSquare(Function):
            @staticmethod
            def forward(x):
                return x * x

            @staticmethod
            def backward(g, out, x):
                return (g * x,)

        def test_my_op(assert_grad_close):
            assert_grad_close(lambda x: HalfSquare.apply(x), (Value([1.0, 2.0], requires_grad=True),))
    """)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "GradcheckError: gradcheck failed: 1 gradient does not match finite differences" in output
    assert "analytic = 0.5 (= 1/2) x numeric" in output
    assert "op 'halfsquare'" in output
    assert "def _finish" not in output and "raise GradcheckError" not in output


BLOCK_HYPOTHESIS = """
import sys

sys.modules["hypothesis"] = None  # what Python sees when hypothesis is not installed: imports of it fail
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""


def test_pytest_and_the_package_work_without_hypothesis(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_without="""
        import pytest
        import tinygrad_lab.testing
        from tinygrad_lab import Value

        def test_plugin_fixtures_still_work(rng, gradcheck):
            assert gradcheck(lambda x: x.tanh(), (Value(rng.normal(size=3), requires_grad=True),))

        def test_strategies_say_what_is_missing():
            with pytest.raises(ImportError, match="needs hypothesis"):
                tinygrad_lab.testing.strategies
    """
    )
    runner = pytester.makepyfile(run_blocked=BLOCK_HYPOTHESIS)
    # No autoloading (hypothesis's own plugin would not exist either); ours is loaded by name instead.
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run(
        [
            sys.executable,
            str(runner),
            "-p",
            "tinygrad_lab.testing.plugin",
            "-p",
            "no:cacheprovider",
            "test_without.py",
        ],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert "tinygrad_lab: hypothesis not installed" in result.stdout


def test_rng_fixture_is_the_documented_generator(rng, request):  # the default seed is 0
    expected = np.random.default_rng([0, zlib.crc32(request.node.nodeid.encode())])
    assert rng.normal() == expected.normal()
