"""One training step of the digits CNN (demos/digits_cnn.py) against PyTorch eager, in float32 and float64.

The network: Conv2d(1, 16, 3, padding=1) - ReLU - MaxPool2d(2) - Conv2d(16, 32, 3, padding=1) - ReLU -
MaxPool2d(2) - Flatten - Linear(128, 10), cross-entropy, Adam; a batch of 32 (and 256) 8x8 images.
Both frameworks get the same weights and the same batches. Prints the median time per step, the ratio,
the split into forward / backward / optimizer step, and the functions where our time goes.

    python benchmarks/digits_cnn.py                 # one BLAS / torch thread (the default; fair on a shared box)
    python benchmarks/digits_cnn.py --threads 2     # let NumPy's BLAS and torch use 2 threads
    python benchmarks/digits_cnn.py --quick

Numbers move 10-25% between runs on a busy machine; compare ratios from one run.
"""
from __future__ import annotations

import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads (default 1)")
parser.add_argument("--quick", action="store_true", help="fewer repeats")
parser.add_argument("--batch", type=int, nargs="*", default=[32, 256], help="batch sizes (default 32 256)")
ARGS = parser.parse_args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):   # before NumPy loads its BLAS
    os.environ[var] = str(ARGS.threads)

import cProfile  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tinygrad_lab as tl  # noqa: E402
from tinygrad_lab import Value, nn, optim  # noqa: E402


def build_ours(dtype):
    tl.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 10)).to(dtype)
    return model, optim.Adam(model.parameters(), lr=3e-3)


def build_torch(torch, ours, dtype):
    tn = torch.nn
    model = tn.Sequential(tn.Conv2d(1, 16, 3, padding=1), tn.ReLU(), tn.MaxPool2d(2),
                          tn.Conv2d(16, 32, 3, padding=1), tn.ReLU(), tn.MaxPool2d(2),
                          tn.Flatten(), tn.Linear(128, 10)).to(getattr(torch, np.dtype(dtype).name))
    model.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return model, torch.optim.Adam(model.parameters(), lr=3e-3)


def timed_pair(first, second, repeats: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """(median, min) ms per call of each step, the two interleaved call by call (a busy machine slows both)."""
    for _ in range(5):
        first()
        second()
    times: tuple[list, list] = ([], [])
    for _ in range(repeats):
        for fn, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return tuple((float(np.median(t)) * 1e3, float(np.min(t)) * 1e3) for t in times)


def phases_ours(model, opt, x, y, repeats: int) -> dict[str, float]:
    """Median ms of forward (incl. loss), backward, optimizer step."""
    result = {"forward": [], "backward": [], "step": []}
    for i in range(repeats + 3):
        t0 = time.perf_counter()
        loss = nn.functional.cross_entropy(model(Value(x)), y)
        t1 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if i >= 3:
            result["forward"].append(t1 - t0)
            result["backward"].append(t2 - t1)
            result["step"].append(t3 - t2)
    return {k: float(np.median(v)) * 1e3 for k, v in result.items()}


def main() -> None:
    try:
        import torch
        torch.set_num_threads(ARGS.threads)
    except ImportError:
        torch = None
        print("(PyTorch is not installed: only our times are shown; pip install torch for the comparison)")
    repeats = 20 if ARGS.quick else 100
    rng = np.random.default_rng(0)
    print(f"digits CNN, one training step (forward + cross-entropy + backward + Adam), {ARGS.threads} thread(s)")
    print("ms per step: median (min) over interleaved repeats; ratio = ours / torch")
    print(f"{'dtype':8} {'batch':>5} {'ours ms':>15} {'torch ms':>15} {'ratio':>12}   ours: forward / backward / step")
    profiled = None
    for dtype in (np.float32, np.float64):
        for batch in ARGS.batch:
            x = rng.random((batch, 1, 8, 8)).astype(dtype)
            y = rng.integers(0, 10, batch)
            model, opt = build_ours(dtype)

            def ours_step(model=model, opt=opt, x=x, y=y):
                loss = nn.functional.cross_entropy(model(Value(x)), y)
                opt.zero_grad()
                loss.backward()
                opt.step()

            split = phases_ours(model, opt, x, y, repeats)
            if torch is not None:
                tmodel, topt = build_torch(torch, model, dtype)
                tx, ty = torch.tensor(x), torch.tensor(y)

                def torch_step(tmodel=tmodel, topt=topt, tx=tx, ty=ty):
                    loss = torch.nn.functional.cross_entropy(tmodel(tx), ty)
                    topt.zero_grad()
                    loss.backward()
                    topt.step()

                (ours_med, ours_min), (torch_med, torch_min) = timed_pair(ours_step, torch_step, repeats)
            else:
                (ours_med, ours_min), _ = timed_pair(ours_step, ours_step, repeats)
                torch_med = torch_min = float("nan")
            print(f"{np.dtype(dtype).name:8} {batch:5d} {ours_med:7.2f} ({ours_min:5.2f}) "
                  f"{torch_med:7.2f} ({torch_min:5.2f}) {ours_med / torch_med:5.2f} ({ours_min / torch_min:4.2f})   "
                  f"{split['forward']:.2f} / {split['backward']:.2f} / {split['step']:.2f}")
            if dtype is np.float32 and batch == ARGS.batch[0]:
                profiled = ours_step
    if profiled is not None:
        print(f"\nwhere our time goes (float32, batch {ARGS.batch[0]}; cProfile, internal time, top 12):")
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(repeats):
            profiled()
        profile.disable()
        stats = pstats.Stats(profile)
        total = sum(v[2] for v in stats.stats.values())
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]
        for (filename, line, name), (_, _, tottime, _, _) in rows:
            where = f"{os.path.basename(filename)}:{line}({name})" if line else name
            print(f"  {100 * tottime / total:5.1f}%  {1e3 * tottime / repeats:6.3f} ms/step  {where}")


if __name__ == "__main__":
    main()
