"""Reading and writing state files: `.npz` archives of named arrays, with an optional JSON header.

The one file format of the library (`nn.save`, `Module.save`, `Optimizer.save`): a zip
archive of `.npy` entries, never pickled, written atomically through
`tinygrad_lab.utils.files.atomic_path`. Numbers, strings and nested lists that are not arrays
(an optimizer's hyper-parameters) travel as one JSON text entry.

This module sits below `nn` and `optim` in the layers: it knows arrays and files, not modules
or optimizers.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "state.npz")
    >>> save_state({"w": np.ones(2)}, path)
    >>> load_state(path)["w"].tolist()
    [1.0, 1.0]
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .autograd import unwrap
from .utils.files import atomic_path

__all__ = ["StateFileError", "write_npz", "read_npz", "save_state", "load_state", "json_entry",
           "read_json_entry"]


class StateFileError(ValueError):
    """A state file cannot be used: not an .npz archive, damaged, or its content is not what was expected.

    A `ValueError`, so code that caught `ValueError` for bad files keeps working.

    Example:
        >>> issubclass(StateFileError, ValueError)
        True
    """


def write_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Write arrays as an .npz archive at exactly `path` (atomically, never with pickle).

    The folder of `path` must exist (a typo in a folder name is an error, not a new folder).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "a.npz")
        >>> write_npz(path, {"x": np.arange(3)}); read_npz(path)["x"].tolist()
        [0, 1, 2]
    """
    import zipfile  # here, not at import: `import tinygrad_lab` stays light

    with atomic_path(path, make_parents=False) as tmp, open(tmp, "xb") as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for key, array in arrays.items():
                with archive.open(key + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read an .npz archive as a dict of name -> array (no pickle); `StateFileError` for a bad file.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "bad.npz")
        >>> _ = open(path, "w").write("not a zip")
        >>> read_npz(path)
        Traceback (most recent call last):
        ...
        tinygrad_lab.serialization.StateFileError: ... is not an .npz state file ...
    """
    import zipfile  # here, not at import: `import tinygrad_lab` stays light

    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile):
        raise StateFileError(f"{path} is not an .npz state file (an archive of named arrays, as nn.save "
                             "writes; it may be empty or truncated; files are never read with pickle)") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise StateFileError(f"{path} holds a single array, not an .npz archive of named arrays "
                             f"(write it with nn.save)")
    state = {}
    with archive:
        for key in archive.files:
            try:
                state[key] = archive[key]
            except ValueError as err:
                if "allow_pickle" not in str(err):
                    raise StateFileError(f"{path}: entry '{key}' cannot be read ({err})") from None
                raise StateFileError(f"{path}: entry '{key}' holds Python objects, which would need pickle to "
                                     "load; state files hold numeric arrays only (write them with nn.save)") from None
            except (EOFError, zipfile.BadZipFile) as err:
                raise StateFileError(f"{path}: entry '{key}' is damaged ({err}); the file may be "
                                     "truncated") from None
    return state


def save_state(state: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Save a mapping of name -> array (or `Value`) as an .npz archive at `path` (numeric arrays only).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "s.npz")
        >>> save_state({"w": np.zeros((2, 2))}, path); load_state(path)["w"].shape
        (2, 2)
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"save() takes a Module or a mapping of name -> array, got {type(state).__name__}")
    arrays = {}
    for key, value in state.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"state keys must be non-empty strings, got {key!r}")
        array = np.asarray(unwrap(value))
        if array.dtype.kind not in "biufc":
            raise TypeError(f"cannot save '{key}': dtype {array.dtype} is not numeric (files never use "
                            "pickle)")
        arrays[key] = array
    write_npz(path, arrays)


def load_state(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read an .npz archive written by `save_state` (or `nn.save`) as a dict of name -> array (no pickle).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "s.npz")
        >>> save_state({"w": np.ones(2)}, path); load_state(path)["w"].tolist()
        [1.0, 1.0]
    """
    return read_npz(path)


def json_entry(obj: Any, what: str = "this state") -> np.ndarray:
    """`obj` as JSON text in a 0-d string array, ready to be an entry of `write_npz` (TypeError if not JSON-able).

    Example:
        >>> str(json_entry({"lr": 0.1}))
        '{"lr": 0.1}'
    """
    import json  # here, not at import: `import tinygrad_lab` stays light

    try:
        return np.array(json.dumps(obj))
    except (TypeError, ValueError) as err:
        raise TypeError(f"cannot save {what} without pickle: {err}") from None


def read_json_entry(arrays: Mapping[str, np.ndarray], name: str, path: str | os.PathLike) -> Any:
    """Decode the JSON entry `name` of an archive read by `read_npz`; `StateFileError` if it is not valid JSON.

    Example:
        >>> read_json_entry({"h.json": json_entry([1, 2])}, "h.json", "f.npz")
        [1, 2]
    """
    import json  # here, not at import: `import tinygrad_lab` stays light

    array = arrays[name]
    if array.dtype.kind != "U" or array.ndim != 0:
        raise StateFileError(f"{os.fspath(path)}: entry '{name}' should be JSON text, got an array of dtype "
                             f"{array.dtype} and shape {array.shape}")
    try:
        return json.loads(str(array))
    except json.JSONDecodeError as err:
        raise StateFileError(f"{os.fspath(path)}: entry '{name}' is not valid JSON ({err}); the file was "
                             "damaged or edited by hand") from None
