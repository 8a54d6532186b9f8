"""Recording a step: the traced array type (`_Traced`), whose NumPy calls go to the thread's recorder, the recorder
that turns them into a flat program of calls (`_Recorder`), the one of the first eager call (`_Discoverer`),
and the calls a program holds besides NumPy's own (copies, refreshes, item assignments, guards).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..autograd import Value
from ..utils.capture import TRACED_TYPES, recorder, set_recorder
from ..utils.frames import user_location
from .errors import JitError


class _GuardFailed(Exception):
    """A recorded Python branch on data would go the other way: the replay stops (before any change)."""


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _plain(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, _Traced) else x


def _map_arrays(x: Any, fn: Callable[[np.ndarray], Any]) -> Any:
    """`x` with `fn` applied to every array in it, through tuples, lists and dicts (the rest as it is)."""
    if isinstance(x, np.ndarray):
        return fn(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_map_arrays(v, fn) for v in x)
    if isinstance(x, dict):
        return {k: _map_arrays(v, fn) for k, v in x.items()}
    return x


def _plain_deep(x: Any) -> Any:
    return _map_arrays(x, _plain)


def _arrays_in(x: Any) -> list[np.ndarray]:
    if isinstance(x, np.ndarray):
        return [x]
    if isinstance(x, (list, tuple)):
        return [a for v in x for a in _arrays_in(v)]
    if isinstance(x, dict):
        return [a for v in x.values() for a in _arrays_in(v)]
    return []


class _Traced(np.ndarray):
    """An array of a step being captured: NumPy calls on it are recorded by the thread's recorder."""

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        rec = recorder()
        out = kwargs.get("out")
        call_kwargs = dict(kwargs)
        if out is not None:
            call_kwargs["out"] = tuple(_plain(o) for o in out)
        plain_in = tuple(_plain(x) for x in inputs)
        if rec is not None and isinstance(rec, _Recorder) and not rec.suspended:
            for written in (plain_in[:1] if method == "at" else call_kwargs.get("out") or ()):
                if written is not None:
                    rec.before_write(written)
        result = getattr(ufunc, method)(*plain_in, **call_kwargs)
        if rec is None or not isinstance(rec, _Recorder) or rec.suspended:
            if out is not None and method != "at":   # the out arrays themselves, as NumPy: `p.data -= u` in an
                return out[0] if len(out) == 1 else out   # optimizer's step keeps p.data the traced array
            return result
        return rec.ufunc(ufunc, method, plain_in, call_kwargs, out, result)

    def __array_function__(self, func: Any, types: Iterable[Any], args: Iterable[Any],
                           kwargs: Mapping[str, Any]) -> Any:
        rec = recorder()
        plain_args, plain_kwargs = _plain_deep(tuple(args)), _plain_deep(dict(kwargs))
        result = func(*plain_args, **plain_kwargs)
        if rec is None or not isinstance(rec, _Recorder) or rec.suspended:
            return result
        return rec.function(func, plain_args, plain_kwargs, result)

    # -- methods that make new arrays without a ufunc (views need nothing: they share the buffer): the names in
    # _RECORDED_METHODS below call this
    def _method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        rec = recorder()
        plain_args, plain_kwargs = _plain_deep(args), _plain_deep(kwargs)
        result = getattr(np.ndarray, name)(self.view(np.ndarray), *plain_args, **plain_kwargs)
        if rec is None or not isinstance(rec, _Recorder) or rec.suspended:
            return result
        return rec.method(name, self.view(np.ndarray), plain_args, plain_kwargs, result)

    def __setitem__(self, index: Any, value: Any) -> None:
        rec = recorder()
        plain = self.view(np.ndarray)
        index, value = _plain_deep(index), _plain(value)
        if rec is not None and isinstance(rec, _Recorder) and not rec.suspended:
            rec.before_write(plain)
        plain[index] = value
        if rec is not None and isinstance(rec, _Recorder) and not rec.suspended:
            rec.setitem(plain, index, value)

    def fill(self, value: Any) -> None:
        self.__setitem__(Ellipsis, value)

    # -- Python numbers from data would be frozen at their captured value: refused while capturing
    def _convert(self, how: str) -> Any:
        plain = self.view(np.ndarray)
        rec = recorder()
        if rec is not None and isinstance(rec, _Recorder) and not rec.suspended:
            raise JitError(f"tinygrad_lab.jit: the step turns data into a Python value ({how}) at "
                           f"{user_location()}; a captured step would keep the captured value forever. Return the "
                           "Value and convert it outside the jitted function (branches on comparisons of Values, "
                           "such as `if loss < 0.1:`, are fine: they are checked at every replay)")
        return plain

    def __float__(self) -> float:
        return float(self._convert("float()"))

    def __int__(self) -> int:
        return int(self._convert("int()"))

    def __index__(self) -> int:
        return self._convert("an index").__index__()

    def __complex__(self) -> complex:
        return complex(self._convert("complex()"))

    def item(self, *args: Any) -> Any:
        return self._convert(".item()").item(*args)

    def tolist(self) -> Any:
        return self._convert(".tolist()").tolist()

    # -- Python values of data: a branch on one is a guard, checked at every replay
    def __bool__(self) -> bool:
        value = bool(self.view(np.ndarray))
        rec = recorder()
        if rec is not None and isinstance(rec, _Recorder) and not rec.suspended:
            rec.guard(self.view(np.ndarray), value)
        return value


def _recorded_method(name: str) -> Callable[..., Any]:
    def method(self: _Traced, *args: Any, **kwargs: Any) -> Any:
        return self._method(name, *args, **kwargs)
    method.__name__, method.__qualname__ = name, f"_Traced.{name}"
    return method


_RECORDED_METHODS = ("copy", "astype", "reshape", "ravel", "flatten", "__getitem__", "argmax", "argmin", "dot",
                     "take", "round", "cumsum", "repeat")
for _name in _RECORDED_METHODS:
    setattr(_Traced, _name, _recorded_method(_name))


TRACED_TYPES.append(_Traced)   # the ops keep these arrays as they are (np.asarray would drop the recording)

_UFUNC_CALL = "__call__"


class _Recorder:
    """Builds the flat program of one capture: entries (callable, args, kwargs) and what they read."""

    def __init__(self) -> None:
        self.suspended = False
        self.program: list[tuple[Callable, tuple, dict]] = []
        self.signature: list[tuple] = []
        self.externals: list[np.ndarray] = []     # per signature entry: the external arrays read, in order
        self.producer: dict[int, int] = {}        # id(root buffer) -> index of the entry that made it
        self.buffers: list[np.ndarray] = []       # keeps every buffer alive (ids stay unique)
        self.buffers_by_id: dict[int, np.ndarray] = {}
        self.args: dict[int, int] = {}            # id(root of an argument buffer) -> argument position
        self.params: dict[int, int] = {}          # id(a parameter's array) -> its position
        self.writes_external = False
        self.guard_positions: list[tuple[int, bool]] = []
        self.optimizers: list[Any] = []
        self.leaves: dict[int, Value] = {}        # leaves whose .grad the step set (by id)
        self.reads: list[list[np.ndarray]] = []   # per entry: the arrays it reads (for dead-code elimination)
        self.program_entries: list[tuple[Callable, tuple, dict]] = []
        self.watched: dict[int, tuple[Any, tuple[str, ...]]] = {}   # objects whose Python attributes the step read
        self.unreplayable: str | None = None      # why the step cannot be replayed (a random draw), if so
        self.written: dict[int, np.ndarray] = {}  # arrays the step does not own that recorded calls write
        self.opaque_calls = 0                     # optimizer (scheduler) steps so far: their writes are unknown
        self.guard_after_opaque = False           # a branch on data after one (a replay could not undo the step)
        self.refresh_after_opaque = False         # a call whose result's shape may change, after one
        self.refreshed = False                    # such a call at all (its shape is checked at every replay)
        self.initial: dict[int, tuple[np.ndarray, np.ndarray]] = {}   # written arrays as they were before

    # -- describing inputs
    def _describe(self, x: Any) -> tuple:
        if isinstance(x, np.ndarray):
            root = _root(x)
            geometry = (x.shape, x.dtype.str, x.strides)
            key = id(root)
            if key in self.producer:
                return ("buf", self.producer[key], geometry)
            if key in self.args:
                return ("arg", self.args[key], geometry)
            if key in self.params:
                return ("param", self.params[key], geometry)
            self.externals.append(x)
            return ("ext", geometry)
        if isinstance(x, (list, tuple)):
            return (type(x).__name__, tuple(self._describe(v) for v in x))
        if isinstance(x, dict):
            return ("dict", tuple((k, self._describe(v)) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))))
        if isinstance(x, (float, np.floating)) and math.isnan(x):
            return ("nan", type(x).__name__)
        if isinstance(x, (bool, int, float, complex, str, type(None), np.generic, np.dtype, slice, type(Ellipsis))):
            return ("const", type(x).__name__, x)
        return ("obj", type(x).__name__, id(x))

    def _new_buffer(self, result: Any) -> np.ndarray:
        buf = result if isinstance(result, np.ndarray) else np.asarray(result)
        if not buf.flags.writeable or buf.base is not None:
            buf = np.array(buf)
        self.buffers.append(buf)
        self.buffers_by_id[id(buf)] = buf
        self.producer[id(buf)] = len(self.program)
        return buf

    def _is_ours(self, a: np.ndarray) -> bool:
        key = id(_root(a))
        return key in self.producer or key in self.args

    def _add(self, fn: Callable, args: tuple, kwargs: dict, signature: tuple, reads: list | None = None) -> None:
        self.program.append((fn, args, kwargs))
        self.signature.append(signature)
        self.reads.append(_arrays_in(args) + _arrays_in({k: v for k, v in kwargs.items() if k != "out"})
                          if reads is None else reads)

    # -- recording
    def ufunc(self, ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict, out: Any, result: Any) -> Any:
        fn = ufunc if method == _UFUNC_CALL else getattr(ufunc, method)
        other = {k: v for k, v in kwargs.items() if k != "out"}
        described = (self._describe(inputs), self._describe(other))
        if method == "at":       # in place on inputs[0]
            if not self._is_ours(inputs[0]):
                self._writes(inputs[0])
            self._add(fn, inputs, kwargs, ("ufunc.at", ufunc.__name__, *described))
            return result
        if out is not None:
            outs = kwargs["out"]
            for o in outs:
                if o is not None and not self._is_ours(o):
                    self._writes(o)
            self._add(fn, inputs, kwargs, ("ufunc", ufunc.__name__, method, *described, self._describe(outs)))
            return out[0] if len(out) == 1 else out
        results = result if isinstance(result, tuple) else (result,)
        bufs = [self._new_buffer(r) for r in results]
        run_kwargs = dict(kwargs, out=tuple(bufs))
        self._add(fn, inputs, run_kwargs, ("ufunc", ufunc.__name__, method, *described,
                                           tuple((b.shape, b.dtype.str) for b in bufs)))
        traced = tuple(b.view(_Traced) for b in bufs)
        return traced if isinstance(result, tuple) else traced[0]

    def _fresh(self, kind: str, name: str, func: Callable, args: tuple, kwargs: dict, result: Any,
               sources: list[np.ndarray]) -> Any:
        """A result that is a view of an input needs nothing; a new array becomes a buffer refreshed by copy."""
        if isinstance(result, np.ndarray) and result.base is not None:
            root = _root(result)
            if any(_root(s) is root for s in sources):
                return result.view(_Traced)
        if not isinstance(result, (np.ndarray, np.generic)):
            return result                    # shapes, dtypes, Python objects: no data
        buf = self._new_buffer(result)
        signature = (kind, name, self._describe(args), self._describe(kwargs), (buf.shape, buf.dtype.str))
        if kind == "method" and name in ("copy", "astype"):
            self._add(_assign_all, (buf, sources[0]), {}, signature, reads=sources)
        else:   # the call's arrays stay visible in the entry (not in a closure): the passes can see and rebind them
            self.refreshed = True
            if self.opaque_calls:
                self.refresh_after_opaque = True
            self._add(_refresh, (buf, func, *args), kwargs, signature, reads=_arrays_in(args) + _arrays_in(kwargs))
        return buf.view(_Traced)

    def function(self, func: Any, args: tuple, kwargs: dict, result: Any) -> Any:
        if isinstance(result, (tuple, list)) and any(isinstance(r, np.ndarray) for r in result):
            raise JitError(f"tinygrad_lab.jit cannot record numpy.{func.__name__} (it returns several arrays); "
                           "run this step without jit")
        return self._fresh("function", func.__name__, func, args, kwargs, result, _arrays_in(args) + _arrays_in(kwargs))

    def method(self, name: str, plain: np.ndarray, args: tuple, kwargs: dict, result: Any) -> Any:
        return self._fresh("method", name, getattr(np.ndarray, name), (plain, *args), kwargs, result, [plain])

    def setitem(self, plain: np.ndarray, index: Any, value: Any) -> None:
        if not self._is_ours(plain):
            self._writes(plain)
        self._add(_setitem, (plain, index, value), {},
                  ("setitem", self._describe(plain), self._describe(index), self._describe(value)),
                  reads=[plain] + _arrays_in(index) + _arrays_in(value))

    def before_write(self, a: np.ndarray) -> None:
        """A recorded call is about to write ``a``: keep what an array the step does not own held before."""
        if not self._is_ours(a):
            root = _root(a)
            if id(root) not in self.initial:
                self.initial[id(root)] = (root, root.copy())

    def _writes(self, a: np.ndarray) -> None:
        """A recorded call writes an array the step does not own (a parameter, running statistics)."""
        self.writes_external = True
        self.written.setdefault(id(_root(a)), _root(a))

    def guard(self, plain: np.ndarray, value: bool) -> None:
        if self.opaque_calls:
            self.guard_after_opaque = True
        self.guard_positions.append((len(self.program), self.writes_external))
        self._add(_check, (plain, value, self.writes_external), {}, ("guard", self._describe(plain), value),
                  reads=[plain])

    def leaf_grad(self, leaf: Value) -> None:
        if not self.suspended:
            self.leaves[id(leaf)] = leaf

    def watch(self, owner: Any, names: tuple[str, ...]) -> None:
        if not self.suspended:
            self.watched.setdefault(id(owner), (owner, names))

    def not_replayable(self, reason: str) -> None:
        if not self.suspended and self.unreplayable is None:
            self.unreplayable = reason

    def opaque(self, method: Callable, owner: Any, args: tuple, kwargs: dict) -> Any:
        if (_arrays_in(args) or _arrays_in(kwargs) or any(callable(a) or isinstance(a, Value) for a in args)
                or kwargs):
            raise JitError(f"tinygrad_lab.jit: {type(owner).__name__}.{method.__name__}() is called with "
                           "data or a closure as arguments (e.g. ReduceLROnPlateau's metric), which a replay would "
                           "pass again as captured; call it without them inside a jitted step, or outside the "
                           "jitted function")
        if owner not in self.optimizers:
            self.optimizers.append(owner)
        self.writes_external = True
        self.opaque_calls += 1
        self.suspended = True
        try:
            result = method(owner, *args, **kwargs)
        finally:
            self.suspended = False
        self._add(method, (owner, *args), dict(kwargs), ("opaque", type(owner).__qualname__, method.__name__,
                                                         len(self.optimizers)))
        return result


class _Discoverer:
    """The recorder of the first (eager) call: only notes which optimizers the step uses."""

    def __init__(self) -> None:
        self.optimizers: list[Any] = []

    def leaf_grad(self, leaf: Value) -> None:
        pass

    def watch(self, owner: Any, names: tuple[str, ...]) -> None:
        pass

    def not_replayable(self, reason: str) -> None:
        pass

    def opaque(self, method: Callable, owner: Any, args: tuple, kwargs: dict) -> Any:
        if owner not in self.optimizers:
            self.optimizers.append(owner)
        previous = set_recorder(None)
        try:
            return method(owner, *args, **kwargs)
        finally:
            set_recorder(previous)


# -- the calls of a program besides NumPy's own
def _assign_all(buf: np.ndarray, src: np.ndarray) -> None:
    buf[...] = src


def _refresh(buf: np.ndarray, func: Callable, /, *args: Any, **kwargs: Any) -> None:
    result = func(*args, **kwargs)
    if np.shape(result) != buf.shape:   # a shape that depends on data (np.flatnonzero, a[mask]): stop the replay
        raise _GuardFailed("shape")
    buf[...] = result


def _setitem(buf: np.ndarray, index: Any, value: Any) -> None:
    buf[index] = value


def _check(data: np.ndarray, value: bool, after_writes: bool) -> None:
    """A recorded Python branch on data: stop the replay if it would go the other way."""
    if bool(data) != value:
        raise _GuardFailed(after_writes)
