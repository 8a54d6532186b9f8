"""Atomic file writes: a reader (or a crash) never sees half a file.

Every file the library writes (weights, optimizer state, figures, drawings,
reports) goes through `atomic_path`: the content is written to a temporary file
in the same folder, which is then renamed onto the target.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> write_atomic(path, "hello").read_text()
    'hello'
"""
from __future__ import annotations

import os
import signal
import stat
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_atomic", "remove_stale_temporaries"]


_TEMP_SUFFIX = ".tmp"


def _temporary_name(target: Path) -> Path:
    """`.name.<pid>.<random>.tmp` beside the target: hidden, and owned by this process."""
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{_TEMP_SUFFIX}")


def _pid_is_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True          # someone else's process: leave its files alone
    return True


def remove_stale_temporaries(target: str | os.PathLike) -> list[Path]:
    """Remove temporary files left beside `target` by earlier saves whose process is gone (killed mid-write).

    A temporary file of a process that is still running is kept (it may be writing right now).

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> stale = os.path.join(folder, ".w.npz.999999999.abcd1234.tmp")
        >>> _ = open(stale, "w").close()
        >>> [p.name for p in remove_stale_temporaries(os.path.join(folder, "w.npz"))]
        ['.w.npz.999999999.abcd1234.tmp']
    """
    target = Path(target)
    removed: list[Path] = []
    prefix = f".{target.name}."
    try:
        candidates = list(target.parent.iterdir())
    except OSError:
        return removed
    for candidate in candidates:
        name = candidate.name
        if not (name.startswith(prefix) and name.endswith(_TEMP_SUFFIX)):
            continue
        parts = name[len(prefix):-len(_TEMP_SUFFIX)].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or _pid_is_alive(int(parts[0])):
            continue
        try:
            candidate.unlink()
            removed.append(candidate)
        except OSError:
            pass
    return removed


def _resolve_target(path: Path) -> Path:
    """Where the bytes go: the file a symlink points to (so the link stays a link), else the path itself."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


class _TerminateRequested(BaseException):
    """SIGTERM arrived during an atomic write: unwound like KeyboardInterrupt so the temporary is removed."""


@contextmanager
def _terminate_as_exception() -> Iterator[None]:
    """In the main thread, turn SIGTERM (when it has Python's default action) into an exception for the block."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (ValueError, OSError):  # pragma: no cover - exotic embedding
        yield
        return
    if previous is not signal.SIG_DFL:
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise _TerminateRequested

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _TerminateRequested:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)    # die as the sender asked, now that nothing is left behind
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def atomic_path(path: str | os.PathLike, make_parents: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds, rename it onto `path`.

    - On an error (or Ctrl-C, or SIGTERM in the main thread) the temporary file is removed and `path`
      is left as it was; temporaries left by processes that were killed outright are removed by the
      next save of the same file.
    - Saving over an existing file keeps its permission bits; saving through a symlink writes the
      file it points to and leaves the link in place.
    - New files get the usual permissions (the umask), unlike `tempfile.mkstemp`'s 0600.
    - An error while writing names `path`, not the temporary file.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
        >>> with atomic_path(path) as tmp:
        ...     _ = tmp.write_text("done")
        >>> open(path).read()
        'done'
    """
    path = Path(path).absolute()
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not exist")
    target = _resolve_target(path)
    remove_stale_temporaries(target)
    tmp = _temporary_name(target)
    try:
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
    except OSError:
        mode = None
    with _terminate_as_exception():
        try:
            yield tmp
            if mode is not None:
                os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException as error:
            tmp.unlink(missing_ok=True)
            if isinstance(error, OSError) and error.filename is not None and str(tmp) in str(error.filename):
                raise OSError(error.errno, f"cannot write {path}: {error.strerror}", str(path)) from error
            raise


def write_atomic(path: str | os.PathLike, data: bytes | str, make_parents: bool = True) -> Path:
    """Write bytes or text (UTF-8) to `path` atomically and return the path.

    Example:
        >>> import os, tempfile
        >>> write_atomic(os.path.join(tempfile.mkdtemp(), "a.bin"), b"\\x00\\x01").stat().st_size
        2
    """
    with atomic_path(path, make_parents) as tmp:
        with open(tmp, "xb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)
