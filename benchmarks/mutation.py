"""Mutation testing of the core modules with mutmut: does the suite catch small plausible bugs?

mutmut changes one thing at a time in the source (``a + b`` -> ``a - b``, ``>`` -> ``>=``, a constant,
a dropped argument ...) and runs the tests that reach the changed function. A mutant the tests fail on
is *killed*; one they pass on *survived*: either a bug the suite cannot see, or an equivalent change
(docs/mutation.md lists the survivors and why).

Each target below runs in its own scratch copy of the repository (``build/mutation/<target>``), so runs
are scoped (only that module's mutants, only the tests listed for it) and never touch the work tree.
The package layout is moving: to follow it, edit ``TARGETS`` (source files to mutate, tests to run).

Run it in a virtual environment *without* PyTorch (the goal is a score that holds without the parity
tests), with the test extra and mutmut installed::

    python3 -m venv .venv-notorch && .venv-notorch/bin/pip install -e '.[test]' mutmut==3.8.1
    .venv-notorch/bin/python benchmarks/mutation.py                     # every target
    .venv-notorch/bin/python benchmarks/mutation.py optim schedulers    # some targets
    .venv-notorch/bin/python benchmarks/mutation.py --list              # the targets

It is slow (from a minute for the schedulers to about 10 minutes for ``ops_layers`` on two idle cores; ``--jobs``
sets the parallel workers, default 2) and is not part of the README's test command; docs/mutation.md lists
the times. It prints the score per target and writes ``build/mutation/
<target>/survivors.txt`` with the diff of every surviving mutant.
"""
from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# target name -> (source files to mutate, tests that cover them). Paths are relative to the repository.
TARGETS: dict[str, tuple[list[str], list[str]]] = {
    "engine": (
        ["tinygrad_lab/autograd/engine.py", "tinygrad_lab/autograd/function.py", "tinygrad_lab/autograd/value.py",
         "tinygrad_lab/autograd/grad_mode.py", "tinygrad_lab/autograd/anomaly_mode.py",
         "tinygrad_lab/autograd/hooks.py"],
        ["tests/test_engine.py", "tests/test_ops_grad.py", "tests/test_kinks.py", "tests/testing/test_anomaly.py",
         "tests/test_engine_edges.py", "tests/autograd", "tests/test_hooks.py", "tests/test_numbers.py",
         "tests/test_value_copy.py", "tests/test_tensor_ops.py", "tests/test_jit.py"],
    ),
    "ops": (
        ["tinygrad_lab/ops/arithmetic.py", "tinygrad_lab/ops/unary.py", "tinygrad_lab/ops/selection.py",
         "tinygrad_lab/ops/reduce.py", "tinygrad_lab/ops/movement.py", "tinygrad_lab/ops/indexing.py",
         "tinygrad_lab/ops/linalg.py", "tinygrad_lab/ops/softmax.py", "tinygrad_lab/ops/_dispatch.py"],
        ["tests/test_ops_grad.py", "tests/test_kinks.py", "tests/test_engine.py", "tests/test_ops_edges.py",
         "tests/test_engine_edges.py", "tests/test_tensor_ops.py", "tests/test_numbers.py",
         "tests/test_fuzz_layers.py", "tests/nn/test_sparse.py", "tests/autograd/test_dtype_rule.py",
         "tests/autograd/test_gradient_buffers.py", "tests/test_linalg_contracts.py",
         "tests/test_indexing_contracts.py", "tests/test_pad_and_mean_contracts.py",
         "tests/test_large_array_rules.py"],
    ),
    # the op families that came with the layers (not in the old single-file ops.py)
    "ops_layers": (
        ["tinygrad_lab/ops/activation.py", "tinygrad_lab/ops/convolution.py", "tinygrad_lab/ops/normalization.py",
         "tinygrad_lab/ops/pooling.py", "tinygrad_lab/ops/statistics.py"],
        ["tests/test_ops_grad.py", "tests/nn/test_conv.py", "tests/nn/test_pooling.py",
         "tests/nn/test_normalization.py", "tests/nn/test_layers_extra.py", "tests/test_tensor_ops.py",
         "tests/test_ops_edges.py", "tests/test_fuzz_layers.py", "tests/nn/test_normalization_contracts.py",
         "tests/test_statistics_contracts.py", "tests/test_activation_contracts.py",
         "tests/nn/test_pooling_contracts.py", "tests/nn/test_conv_contracts.py"],
    ),
    "functional": (
        ["tinygrad_lab/nn/functional.py", "tinygrad_lab/ops/loss.py"],
        ["tests/nn/test_nn_losses.py", "tests/nn/test_nn_layers.py", "tests/test_ops_grad.py",
         "tests/nn/test_functional_edges.py"],
    ),
    "optim": (
        ["tinygrad_lab/optim/optimizer.py", "tinygrad_lab/optim/sgd.py", "tinygrad_lab/optim/adam.py",
         "tinygrad_lab/optim/rmsprop.py"],
        ["tests/optim/test_optim.py", "tests/optim/test_optim_edges.py", "tests/optim/test_adam_blocks.py"],
    ),
    "schedulers": (
        ["tinygrad_lab/optim/lr_scheduler.py"],
        ["tests/optim/test_lr_scheduler.py", "tests/optim/test_plateau_thresholds.py",
         "tests/optim/test_lr_scheduler_edges.py"],
    ),
}

# what the scratch copy needs besides the package and the tests
COPIED = ["tinygrad_lab", "tests", "pyproject.toml", "README.md", "docs"]

# Statements not mutated: the text of error and warning messages (tests match the phrases that matter; a
# changed letter is not a change of behaviour). Each is a regular expression for the statement's first line.
NOT_MUTATED = [r"^\s*raise \w+\(", r"^\s*warnings\.warn\("]

STATUS_OF_LINE = re.compile(r"^\s*(\S+):\s*(\w[\w ]*)$")


def _mutmut_config(sources: list[str], tests: list[str], deselected: list[str] = ()) -> str:
    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(item) for item in items) + "]"
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["tinygrad_lab"]\n'
        f"only_mutate = {toml_list(sources)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        # hypothesis draws the same examples on every run (a mutant's verdict must not depend on luck);
        # -p no:randomly keeps the order fixed too, and -x stops at the first failing test
        'pytest_add_cli_args = ["-p", "no:randomly", "-p", "no:cacheprovider", "-x", "-q", '
        f'"--tinygrad-lab-profile=mutation"{"".join(", " + json.dumps("--deselect=" + t) for t in deselected)}]\n'
        f"do_not_mutate_patterns = {toml_list(NOT_MUTATED)}\n"
        "use_git_change_detection = false\n"
        "timeout_multiplier = 5.0\n"
    )


def _prepare(name: str, sources: list[str], tests: list[str]) -> tuple[Path, list[str]]:
    work = ROOT / "build" / "mutation" / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for item in COPIED:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, work / item, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        elif src.exists():
            shutil.copy2(src, work / item)
    missing = [p for p in sources if not (work / p).exists()]
    if missing:
        raise SystemExit(f"mutation target {name!r}: these sources do not exist (update TARGETS): {missing}")
    absent = [p for p in tests if not (work / p).exists()]
    if absent:
        print(f"{name}: no such test files, skipped (update TARGETS): {absent}", flush=True)
    tests = [p for p in tests if p not in absent]
    pyproject = work / "pyproject.toml"
    (work / "pyproject.base.toml").write_text(pyproject.read_text())
    pyproject.write_text(pyproject.read_text() + _mutmut_config(sources, tests))
    return work, tests


def _frame_sensitive_tests(work: Path, tests: list[str], env: dict) -> list[str]:
    """The tests that fail on the unmutated code once mutmut's trampolines are in the call stack.

    They assert where a warning or an anomaly report points (the user's file and line); the trampolines add
    frames outside the package, so those tests cannot run under mutmut and are deselected (and listed)."""
    out = subprocess.run([sys.executable, "-m", "pytest", *tests, "-q", "-rf", "-p", "no:randomly", "-p",
                          "no:cacheprovider", "--tinygrad-lab-profile=mutation"], cwd=work / "mutants",
                         env=dict(env, MUTANT_UNDER_TEST=""), capture_output=True, text=True).stdout
    return sorted(set(re.findall(r"^FAILED (\S+?)(?: - |$)", out, re.M)))


def _mutmut() -> str:
    """The mutmut command of this interpreter (not `python -m mutmut`, which puts the unmutated copy first on
    sys.path)."""
    return str(Path(sys.executable).with_name("mutmut"))


def _results(work: Path, env: dict) -> dict[str, str]:
    out = subprocess.run([_mutmut(), "results", "--all", "true"], cwd=work, env=env,
                         capture_output=True, text=True).stdout
    status = {}
    for line in out.splitlines():
        match = STATUS_OF_LINE.match(line)
        if match:
            status[match.group(1)] = match.group(2).strip()
    return status


def _names_in(survivors_file: Path) -> list[str]:
    """The mutant names listed in a survivors.txt written by an earlier run."""
    return sorted({line.split()[1] for line in survivors_file.read_text().splitlines() if line.startswith("# ")
                   and line.rstrip().endswith(")")})


class _MutantSources:
    """The diff of a mutant against its original function, read from mutmut's trampolined copy of the package
    (mutmut keeps every mutant as a function `<name>__mutmut_<n>` beside `<name>__mutmut_orig`); much faster than
    one `mutmut show` process per survivor."""

    def __init__(self, mutants: Path) -> None:
        self.mutants = mutants
        self.functions: dict[str, dict[str, str]] = {}

    def _module(self, key: str) -> tuple[str, dict[str, str]]:
        parts = key.split(".")
        for end in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:end])
            path = self.mutants.joinpath(*parts[:end]).with_suffix(".py")
            if path.exists():
                if module not in self.functions:
                    source = path.read_text()
                    lines = source.splitlines()   # sliced per function (ast.get_source_segment splits every call)
                    self.functions[module] = {
                        node.name: "\n".join(lines[node.lineno - 1:node.end_lineno])
                        for node in ast.walk(ast.parse(source))
                        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno}
                return module, self.functions[module]
        raise KeyError(key)

    def diff(self, key: str) -> str:
        try:
            module, functions = self._module(key)
        except KeyError:
            return "(source not found)"
        name = key[len(module) + 1:]
        original = functions.get(re.sub(r"__mutmut_\d+$", "__mutmut_orig", name))
        mutant = functions.get(name)
        if original is None or mutant is None:
            return "(source not found)"
        mutant = mutant.replace(name, re.sub(r"__mutmut_\d+$", "__mutmut_orig", name), 1)
        lines = difflib.unified_diff(original.splitlines(), mutant.splitlines(), module, module, lineterm="", n=1)
        return "\n".join(lines)


def run_target(name: str, jobs: int, rerun: Path | None = None) -> dict:
    sources, tests = TARGETS[name]
    work, tests = _prepare(name, sources, tests)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["HYPOTHESIS_PROFILE"] = "mutation"
    start = time.monotonic()
    log = work / "mutmut.log"
    deselected: list[str] = []
    only = _names_in(rerun) if rerun is not None else []
    with log.open("w") as handle:
        subprocess.run([_mutmut(), "run", "--max-children", str(jobs), *only], cwd=work, env=env,
                       stdout=handle, stderr=subprocess.STDOUT)
    if "failed to collect stats" in log.read_text():
        deselected = _frame_sensitive_tests(work, tests, env)
        print(f"{name}: deselected (they assert stack frames, which mutmut's trampolines change): {deselected}",
              flush=True)
        (work / "pyproject.toml").write_text((work / "pyproject.base.toml").read_text()
                                             + _mutmut_config(sources, tests, deselected))
        with log.open("a") as handle:
            subprocess.run([_mutmut(), "run", "--max-children", str(jobs), *only], cwd=work, env=env,
                           stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    status = _results(work, env)
    if only:   # a rerun of an earlier run's survivors (names, or patterns such as f__mutmut_*): those verdicts only
        status = {key: verdict for key, verdict in status.items() if any(fnmatch.fnmatchcase(key, n) for n in only)}
    counts: dict[str, int] = {}
    for verdict in status.values():
        counts[verdict] = counts.get(verdict, 0) + 1
    survivors = sorted(key for key, verdict in status.items() if verdict in ("survived", "no tests"))
    functions = _MutantSources(work / "mutants")
    with (work / "survivors.txt").open("w") as handle:
        for key in survivors:
            handle.write(f"# {key} ({status[key]})\n{functions.diff(key)}\n\n")
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    tested = killed + counts.get("survived", 0) + counts.get("no tests", 0)
    return {"target": name, "mutants": len(status), "killed": killed, "survived": len(survivors),
            "score": 100.0 * killed / tested if tested else float("nan"), "counts": counts,
            "seconds": round(seconds), "survivors": survivors, "deselected": deselected}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help=f"targets to run (default: all of {', '.join(TARGETS)})")
    parser.add_argument("--jobs", type=int, default=2, help="parallel mutmut workers (default 2)")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--rerun", type=Path, metavar="SURVIVORS_TXT",
                        help="run only the mutants listed in an earlier run's survivors.txt (one target; copy the "
                             "file first: the run rewrites build/mutation/<target>/)")
    args = parser.parse_args(argv)
    if args.list:
        for name, (sources, tests) in TARGETS.items():
            print(f"{name}: mutate {', '.join(sources)}; tests {', '.join(tests)}")
        return 0
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown targets {unknown}; choose from {', '.join(TARGETS)}")
    try:
        import mutmut  # noqa: F401
    except ImportError:
        parser.error("mutmut is not installed: pip install mutmut==3.8.1")
    summary = []
    if args.rerun is not None and len(args.targets) != 1:
        parser.error("--rerun takes exactly one target")
    for name in args.targets or list(TARGETS):
        result = run_target(name, args.jobs, args.rerun)
        summary.append(result)
        print(f"{name:12s} {result['killed']:4d} / {result['killed'] + result['survived']:4d} killed "
              f"({result['score']:.1f}%), {result['survived']} survived, {result['seconds']} s  {result['counts']}",
              flush=True)
    out = ROOT / "build" / "mutation" / "summary.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous.update({r["target"]: r for r in summary})
    out.write_text(json.dumps(previous, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
