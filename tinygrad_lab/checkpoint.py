"""Checkpoints: `save(obj, path)` and `load(path)` for nested dicts, lists and tuples of arrays, Values, numbers,
strings, bools and None, in one file, without pickle.

Typical content: a model's, an optimizer's and a scheduler's `state_dict()`,
the epoch, the configuration and the random generator's state. The file is an
.npz archive: every array (and Value) is one `.npy` entry; the structure and
the plain values are a JSON manifest stored as one more entry. Nothing is
pickled, so loading a file never runs code. The write is atomic (a crash
leaves the old file or the new one, never half of one). Anything else (sets,
objects, functions, object arrays) is refused with a `TypeError` that names
where it sits, e.g. `checkpoint['optimizer']['state'][0]['momentum']`.

Example:
    >>> import os, tempfile
    >>> import tinygrad_lab as tl
    >>> from tinygrad_lab import nn, optim
    >>> model = nn.Linear(2, 1); opt = optim.Adam(model.parameters())
    >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt")
    >>> tl.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    >>> state = tl.load(path)
    >>> state["epoch"], sorted(state["model"])
    (3, ['bias', 'weight'])
    >>> _ = model.load_state_dict(state["model"]); opt.load_state_dict(state["optimizer"])
"""
from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from .autograd import Value
from .nn.parameter import Parameter
from .serialization import read_npz, write_npz

__all__ = ["save", "load"]

_FORMAT = "tinygrad_lab.checkpoint"
_VERSION = 1
_MANIFEST = "__checkpoint__"
_ARRAY_KINDS = "biufc"


def _where(path: list) -> str:
    return "checkpoint" + "".join(f"[{key!r}]" for key in path)


class _Encoder:
    """Turns the object into a JSON-able manifest and a dict of arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.active: set[int] = set()

    def _array(self, array: np.ndarray, path: list) -> str:
        if array.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"save(): {_where(path)} is an array of dtype {array.dtype}; checkpoints hold numeric or "
                            "boolean arrays only (files never use pickle)")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = array
        return name

    def encode(self, obj: Any, path: list) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Value):
            kind = "Parameter" if isinstance(obj, Parameter) else "Value"
            return {"value": self._array(np.asarray(obj.data), path), "class": kind,
                    "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"array": self._array(obj, path)}
        if isinstance(obj, np.generic):
            return {"scalar": self._array(np.asarray(obj), path)}
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.active:
                raise TypeError(f"save(): {_where(path)} contains itself; checkpoints must be trees")
            self.active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    items = []
                    for key, value in obj.items():
                        if isinstance(key, bool) or not isinstance(key, (str, int)):
                            raise TypeError(f"save(): {_where(path)} has the key {key!r} of type "
                                            f"{type(key).__name__}; dictionary keys must be strings or integers")
                        items.append([key, self.encode(value, [*path, key])])
                    return {"dict": items}
                tag = "list" if isinstance(obj, list) else "tuple"
                return {tag: [self.encode(value, [*path, i]) for i, value in enumerate(obj)]}
            finally:
                self.active.discard(id(obj))
        raise TypeError(f"save(): cannot save {_where(path)} of type {type(obj).__name__}: checkpoints hold dicts, "
                        "lists, tuples, NumPy arrays, Values, numbers, strings, bools and None (files never use "
                        "pickle); convert it first (e.g. a set to a sorted list, an object to its state_dict())")


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write `obj` (nested dicts/lists/tuples of arrays, Values, numbers, strings, bools, None) to `path`.

    One .npz file, no pickle, written atomically. Dict keys must be strings or
    integers (optimizer state dicts use integers). A `TypeError` naming the
    place of the first unsupported item is raised before anything is written.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "c.ckpt")
        >>> save({"step": 10, "losses": [0.5, 0.25], "w": np.ones(2)}, path)
        >>> load(path)["losses"]
        [0.5, 0.25]
        >>> save({"tags": {"a", "b"}}, path)
        Traceback (most recent call last):
        TypeError: save(): cannot save checkpoint['tags'] of type set: checkpoints hold dicts, ...
    """
    encoder = _Encoder()
    root = encoder.encode(obj, [])
    manifest = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root}, allow_nan=False)
    write_npz(path, {**encoder.arrays, _MANIFEST: np.array(manifest)})


def _decode(node: Any, arrays: dict[str, np.ndarray], path: str) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) >= 1:
        if "dict" in node:
            return {key: _decode(value, arrays, path) for key, value in node["dict"]}
        if "list" in node:
            return [_decode(value, arrays, path) for value in node["list"]]
        if "tuple" in node:
            return tuple(_decode(value, arrays, path) for value in node["tuple"])
        if "array" in node:
            return arrays[node["array"]]
        if "scalar" in node:
            return arrays[node["scalar"]][()]
        if "float" in node:
            return float(node["float"])
        if "value" in node:
            data = arrays[node["value"]]
            if node.get("class") == "Parameter":
                return Parameter(data, requires_grad=node.get("requires_grad", True))
            return Value(data, requires_grad=node.get("requires_grad", False))
    raise ValueError(f"{path}: the checkpoint manifest is damaged (unknown entry {str(node)[:80]!r})")


def load(path: str | os.PathLike) -> Any:
    """Read a checkpoint written by `save` (no pickle): the same nesting, with arrays as NumPy arrays.

    Values come back as Values (Parameters as Parameters), tuples as tuples,
    integer dict keys as integers.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "c.ckpt")
        >>> save({"state": {0: {"step": 2}}, "betas": (0.9, 0.999)}, path)
        >>> load(path)
        {'state': {0: {'step': 2}}, 'betas': (0.9, 0.999)}
    """
    arrays = read_npz(path)
    where = os.fspath(path)
    if _MANIFEST not in arrays:
        raise ValueError(f"{where} is not a checkpoint written by tinygrad_lab.save (it has no manifest); model "
                         "weights saved with nn.save are read with nn.load_state")
    try:
        manifest = json.loads(str(arrays.pop(_MANIFEST)))
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: the checkpoint manifest is damaged ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise ValueError(f"{where} is not a checkpoint written by tinygrad_lab.save")
    if manifest.get("version", 0) > _VERSION:
        raise ValueError(f"{where} was written by a newer tinygrad_lab (checkpoint format "
                         f"{manifest.get('version')}); upgrade to read it")
    try:
        return _decode(manifest.get("root"), arrays, where)
    except (KeyError, TypeError, ValueError) as err:    # an entry naming a missing array, a malformed item list
        if isinstance(err, ValueError) and "manifest is damaged" in str(err):
            raise
        raise ValueError(f"{where}: the checkpoint manifest is damaged ({type(err).__name__}: {err})") from None
