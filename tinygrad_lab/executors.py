"""Where sweeps run: local worker processes, or a Dask cluster (the same ``concurrent.futures`` interface).

:func:`executor` gives a ``concurrent.futures.Executor``: a ``ProcessPoolExecutor`` with ``jobs``
processes, or, with ``dask`` (a scheduler address such as ``"tcp://10.0.0.5:8786"``, or a
``distributed.Client`` / ``LocalCluster`` you made), ``distributed.Client(dask).get_executor()``.
Dask is an optional dependency: ``pip install -e '.[cluster]'``.

On several machines::

    dask scheduler                                # on one machine: prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 2      # on each machine (with tinygrad_lab installed)
    tinygrad-lab experiments --dask tcp://HOST:8786

Example:
    >>> with executor(jobs=1) as pool:
    ...     pool.submit(pow, 2, 10).result()
    1024
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

__all__ = ["executor", "DASK_HINT"]

DASK_HINT = ("install the optional cluster dependencies: pip install -e '.[cluster]' "
             "(or pip install 'dask[distributed]')")


class _InProcess(Executor):
    """Runs each task at submit time in this process (jobs=1: no pickling, easy debugging)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(error)
        return future


@contextlib.contextmanager
def executor(jobs: int = 1, dask: Any = None, timeout: float = 10.0) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor: in this process (jobs=1), local processes, or a Dask cluster.

    ``timeout``: seconds to wait for the Dask scheduler to answer.

    Example:
        >>> with executor(jobs=1) as pool:
        ...     [f.result() for f in [pool.submit(abs, -3)]]
        [3]
    """
    if dask is not None:
        try:
            import distributed
        except ImportError as error:
            raise RuntimeError(f"--dask needs Dask's distributed scheduler, which is not installed; {DASK_HINT}") \
                from error
        if isinstance(dask, distributed.Client):
            yield dask.get_executor()
            return
        try:
            client = distributed.Client(dask, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as error:
            raise RuntimeError(f"could not connect to the Dask scheduler at {dask!r} ({error}); start one with "
                               "`dask scheduler` and workers with `dask worker ADDRESS`") from error
        try:
            yield client.get_executor()
        finally:
            client.close()
        return
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if jobs == 1:
        yield _InProcess()
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield pool
