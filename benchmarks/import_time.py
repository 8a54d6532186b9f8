"""How long `import tinygrad_lab` takes, in fresh processes, and what it imports.

Each round starts, in turn, `python -c pass`, `python -c "import numpy"` and `python -c "import
tinygrad_lab"` (and the same import from `--compare PATH`, another checkout, when given), and times each
process from start to exit; the medians over `--rounds` rounds are printed, with tinygrad_lab's own
share (its median minus NumPy's). Then `python -X importtime` says which of the package's modules cost
the most (cumulative milliseconds, median over the runs, NumPy already imported), and the script lists
the optional heavy libraries the import pulled in (none should be: matplotlib, graphviz, tqdm, torch,
concurrent.futures, ... are imported where they are used).

    python benchmarks/import_time.py                                   # this checkout
    python benchmarks/import_time.py --compare /tmp/base --json import.json

One BLAS thread is set for the child processes (OpenBLAS starts its threads at `import numpy`).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

from results_file import new_results, write_json

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("matplotlib", "graphviz", "tqdm", "torch", "scipy", "sklearn", "dask", "distributed", "hypothesis",
         "pytest", "concurrent.futures", "multiprocessing", "numpy.random", "zipfile", "IPython", "pandas")


def _env(path: str) -> dict[str, str]:
    """The child's environment: `path` first on the module path (the child also runs in `path`, since
    `python -c` puts its working folder before PYTHONPATH), one BLAS thread, and Python's bytecode cache on
    (as on a user's machine: without it every import compiles the package's source again, about 60 ms)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=path)
    for name in ("PYTHONSTARTUP", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


def wall_ms(code: str, path: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=_env(path), cwd=path, check=True)
    return (time.perf_counter() - start) * 1e3


def importtime_ms(path: str, runs: int, top: int) -> list[tuple[str, float]]:
    """The package's modules with the largest cumulative import time (ms, median over runs; NumPy preloaded)."""
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import numpy; import tinygrad_lab"],
                             env=_env(path), cwd=path, capture_output=True, text=True, check=True).stderr
        after_numpy = False
        for line in out.splitlines():
            m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line)
            if not m:
                continue
            name = m.group(3)
            if not after_numpy:
                after_numpy = name == "numpy" and not m.group(2)
                continue
            times.setdefault(name, []).append(int(m.group(1)) / 1e3)
    ranked = sorted(((name, statistics.median(ts)) for name, ts in times.items()), key=lambda r: -r[1])
    return ranked[:top]


def heavy_imports(path: str) -> list[str]:
    code = ("import sys, json; import tinygrad_lab; "
            f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], env=_env(path), cwd=path, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", default=HERE, help="the checkout whose tinygrad_lab is imported")
    parser.add_argument("--compare", default=None, help="another checkout, timed in the same rounds")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--top", type=int, default=12, help="modules listed from -X importtime")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args(argv)
    cases = {"python -c pass": ("pass", args.path), "import numpy": ("import numpy", args.path),
             "import tinygrad_lab": ("import tinygrad_lab", args.path)}
    if args.compare:
        cases["import tinygrad_lab (--compare)"] = ("import tinygrad_lab", args.compare)
    for code, path in cases.values():            # warm the file cache and write the .pyc files
        wall_ms(code, path)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, (code, path) in cases.items():
            samples[name].append(wall_ms(code, path))
    medians = {name: statistics.median(ts) for name, ts in samples.items()}
    print(f"wall time of a fresh process, median of {args.rounds} interleaved rounds (ms):")
    for name, ts in samples.items():
        print(f"  {name:<34}{medians[name]:8.1f}   (min {min(ts):.1f}, max {max(ts):.1f})")
    own = {name: medians[name] - medians["import numpy"] for name in medians if name.startswith("import tinygrad")}
    for name, ms in own.items():
        print(f"  {name + ' minus import numpy':<34}{ms:8.1f}")
    ranked = {"path": importtime_ms(args.path, 5, args.top)}
    if args.compare:
        ranked["compare"] = importtime_ms(args.compare, 5, args.top)
    for which, rows in ranked.items():
        print(f"-X importtime, cumulative ms after NumPy, median of 5 ({getattr(args, which)}):")
        for name, ms in rows:
            print(f"  {ms:7.1f}  {name}")
    heavy = {"path": heavy_imports(args.path)}
    if args.compare:
        heavy["compare"] = heavy_imports(args.compare)
    for which, names in heavy.items():
        print(f"heavy optional modules imported by `import tinygrad_lab` ({getattr(args, which)}): "
              f"{', '.join(names) or 'none'}")
    write_json(args.json, new_results(rounds=args.rounds, path=args.path, compare=args.compare, median_ms=medians,
                                      minus_numpy_ms=own, samples_ms=samples, importtime_ms=ranked,
                                      heavy_imports=heavy))
    return 0


if __name__ == "__main__":
    sys.exit(main())
