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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_atomic"]


@contextmanager
def atomic_path(path: str | os.PathLike, make_parents: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds, rename it onto `path`.

    On an error the temporary file is removed and `path` is left as it was.
    Files get the usual permissions (the umask), unlike `tempfile.mkstemp`'s 0600.

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
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
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
