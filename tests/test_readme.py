"""The README's examples run, and its quick start is the two commands CI relies on."""
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_python_examples_run(code):
    exec(compile(code, "README.md", "exec"), {})


def test_quick_start_has_exactly_the_two_commands():
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", quick_start, re.S)
    commands = block.strip().splitlines()
    assert len(commands) == 2
    assert commands[0].endswith("tinygrad-lab demo")
    assert commands[1].endswith("-m pytest") and "[test]" in commands[1]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "grep -m1 -E '^python3 -m venv .*pytest' README.md" in ci
    assert re.match(r"^python3 -m venv .*pytest", commands[1])
