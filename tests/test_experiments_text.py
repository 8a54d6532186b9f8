"""The experiments report's sentences about stuck runs come from the measured numbers (issue 13): no claim the
measurements contradict."""
import math
import re

import numpy as np

from tinygrad_lab.experiments import RunSummary, stuck_runs_text
from tinygrad_lab.experiments.report import _local_minimum_section


def run(wrong, group="learning_rate", variant="1", loss=0.04):
    return RunSummary(group, variant, "xor_easy", 0, 21, not wrong, 1 - len(wrong) / 21, math.nan, loss, 100, 100,
                      None if wrong else 50, list(wrong), 0.1, "max_epochs", np.zeros(0))


MIDDLE = (0.5, 0.5)


def test_no_stuck_runs():
    assert stuck_runs_text([run([]), run([])]) == "All 2 XOR-easy runs converged: none got stuck."


def test_when_none_ends_one_point_wrong_the_text_does_not_say_they_typically_do():
    runs = [run([(0.0, 0.0), (0.1, 0.1), MIDDLE], "init", "zeros"), run([(0.0, 1.0), (0.1, 0.9), MIDDLE]),
            run([(0.2, 0.2), (0.3, 0.3)]), run([])]
    text = stuck_runs_text(runs)
    assert text.startswith("3 of 4 XOR-easy runs did not converge.")
    assert "None ended with exactly one point wrong; the most common outcome was 3 points wrong (2 of 3 runs)." in text
    assert "local minimum" not in text and "typical" not in text
    assert "(0.5, 0.5) in 2 runs" in text                       # the most frequent wrong point, counted
    section = "\n".join(_local_minimum_section(runs))
    assert "classifies 20 of 21" not in section and "leaves the middle point" not in section


def test_the_middle_point_local_minimum_is_named_when_measured():
    runs = [run([MIDDLE], loss=0.0385), run([MIDDLE], loss=0.0391), run([(0.0, 0.0)]),
            run([(0.0, 0.0), (1.0, 0.0)], "activation_on_off", "none"), run([])]
    text = stuck_runs_text(runs)
    assert "4 of 5 XOR-easy runs did not converge. 3 of them ended with exactly one point wrong, the middle point " \
           "(0.5, 0.5) in 2: the local minimum" in text
    assert f"median final loss {np.median([0.0385, 0.0391]):.3g}" in text
    assert "learning_rate: 1 (3)" in text and "activation_on_off: none (1)" in text


def test_counts_agree_with_the_runs():
    rng = np.random.default_rng(0)
    points = [MIDDLE, (0.0, 0.0), (0.9, 0.1)]
    runs = [run([points[j] for j in sorted(set(rng.integers(0, 3, size=rng.integers(0, 3))))]) for _ in range(40)]
    stuck = [r for r in runs if not r.converged]
    text = stuck_runs_text(runs)
    assert text.startswith(f"{len(stuck)} of 40 XOR-easy runs did not converge.")
    one = sum(len(r.wrong_points) == 1 for r in stuck)
    stated = re.search(r"(\d+) of them ended with exactly one point wrong", text)
    assert stated and int(stated.group(1)) == one
