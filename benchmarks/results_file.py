"""What every benchmark script writes with `--json`: the machine it ran on, the date, and its own results.

    results = new_results(repeats=11)            # {"machine": {...}, "date": ..., "repeats": 11}
    results["workloads"] = {...}
    write_json(args.json, results)               # no file when the path is None
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from typing import Any


def machine(**extra: Any) -> dict[str, Any]:
    """The platform, Python, NumPy, CPU count, BLAS threads and load average, plus `extra` entries."""
    import numpy as np

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"platform": platform.platform(), "python": sys.version.split()[0], "numpy": np.__version__,
            "cpus": os.cpu_count(), "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"), "loadavg": load,
            **extra}


def new_results(machine_extra: dict[str, Any] | None = None, **settings: Any) -> dict[str, Any]:
    """A results dictionary: the machine, the date and time, and the run's `settings`."""
    return {"machine": machine(**(machine_extra or {})), "date": time.strftime("%Y-%m-%d %H:%M"), **settings}


def write_json(path: str | None, results: dict[str, Any]) -> None:
    """Write `results` as indented JSON to `path` (nothing when `path` is None)."""
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
