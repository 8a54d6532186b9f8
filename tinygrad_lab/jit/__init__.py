"""Capture a training step's NumPy calls once, replay them: `tinygrad_lab.jit` (in the manner of tinygrad's TinyJit).

A function decorated with :func:`jit` runs eagerly on its first call. The next two calls run it
eagerly too, but record every NumPy call it makes (forward, loss, backward: each ufunc, reduction,
copy and indexing, with the arrays it read and wrote) and check that both recordings are the same
program. From then on a call with arguments of the same shapes and dtypes replays the flat list of
NumPy calls into the recorded (preallocated) buffers: no Values, no graph, no Python logic of the
model. Argument arrays passed again (full-batch training) are read in place, new ones (mini-batches)
are copied into the recorded input buffers. An optimizer's
``step()`` is recorded as one call and made for real at each replay (so learning-rate schedules and
Adam's step counter work); parameters and optimizer state are updated in place, so eager code sees
them. The results are those of the eager function, bit for bit.

What re-captures and what raises:

* other shapes, dtypes or non-array arguments: a new capture (one per signature, kept);
* a Python branch on data (``if loss < 0.1:``, a check such as BCE's input range): recorded as a
  guard, checked at every replay; when it would go the other way the call runs eagerly and the
  step is captured again;
* a step whose two recordings differ (a Python number or constant array that changes between
  calls, e.g. a random dropout mask, a new parameter): a ``JitWarning`` explaining what changed, and
  the function runs eagerly from then on for those argument shapes (the results stay right);
* ``float(loss)`` or ``.item()`` on the step's data: ``JitError`` naming the line (the number
  would be frozen at its captured value);
* a parameter whose ``.data`` was replaced (not updated in place): a new capture.

Python side effects of the function (printing, appending to a list) happen only while capturing,
as with ``jax.jit``; return Values (copies of the results are returned at every call).

This file is one pipeline read top to bottom: the traced array type and the recorder, the capture of
two recordings, `JitFunction` (signatures, guards, replay), then the passes run once on a recording
(dead-call, copy and repeated-call elimination, buffer reuse, binding each call in its cheapest form,
binding the caller's arrays).

Example:
    >>> from tinygrad_lab import Value, nn, optim
    >>> from tinygrad_lab.random import manual_seed
    >>> _ = manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    >>> opt = optim.SGD(model.parameters(), lr=1.0)
    >>> @jit
    ... def step(x, y):
    ...     opt.zero_grad()
    ...     loss = nn.MSELoss()(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> x, y = Value(np.array([[0.0, 1.0], [1.0, 0.0]])), Value(np.array([[1.0], [1.0]]))
    >>> losses = [float(step(x, y).data) for _ in range(6)]
    >>> step.replays, losses[-1] < losses[0]
    (3, True)
"""
from __future__ import annotations

import functools
import math
import operator
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..autograd import Value
from ..autograd.function import constant as _const
from ..autograd.function import make_node as _make_node
from ..utils.capture import TRACED_TYPES, recorder, set_recorder
from ..utils.fperrors import ignore_overflow, restore_errors
from ..utils.frames import user_location

__all__ = ["jit", "JitFunction", "JitError", "JitWarning"]


class JitError(RuntimeError):
    """A function given to `jit` cannot be captured and replayed faithfully (the message says why)."""


class JitWarning(RuntimeWarning):
    """A jitted function's two recordings differed: it keeps running, eagerly (the message says why)."""


_EAGER = object()   # the state of a signature whose step cannot be replayed: call the function itself


class _GuardFailed(Exception):
    """A recorded Python branch on data would go the other way: the replay stops (before any change)."""


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _plain(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, _Traced) else x


def _plain_deep(x: Any) -> Any:
    if isinstance(x, _Traced):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_plain_deep(v) for v in x)
    if isinstance(x, dict):
        return {k: _plain_deep(v) for k, v in x.items()}
    return x


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
        result = getattr(ufunc, method)(*plain_in, **call_kwargs)
        if rec is None or not isinstance(rec, _Recorder) or rec.suspended:
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

    # -- methods that make new arrays without a ufunc (views need nothing: they share the buffer)
    def _method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        rec = recorder()
        plain_args, plain_kwargs = _plain_deep(args), _plain_deep(kwargs)
        result = getattr(np.ndarray, name)(self.view(np.ndarray), *plain_args, **plain_kwargs)
        if rec is None or not isinstance(rec, _Recorder) or rec.suspended:
            return result
        return rec.method(name, self.view(np.ndarray), plain_args, plain_kwargs, result)

    def copy(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("copy", *args, **kwargs)

    def astype(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("astype", *args, **kwargs)

    def reshape(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("reshape", *args, **kwargs)

    def ravel(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("ravel", *args, **kwargs)

    def flatten(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("flatten", *args, **kwargs)

    def __getitem__(self, index: Any) -> Any:
        return self._method("__getitem__", index)

    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("argmax", *args, **kwargs)

    def argmin(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("argmin", *args, **kwargs)

    def dot(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("dot", *args, **kwargs)

    def take(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("take", *args, **kwargs)

    def round(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("round", *args, **kwargs)

    def cumsum(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("cumsum", *args, **kwargs)

    def repeat(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("repeat", *args, **kwargs)

    def __setitem__(self, index: Any, value: Any) -> None:
        rec = recorder()
        plain = self.view(np.ndarray)
        index, value = _plain_deep(index), _plain(value)
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
                self.writes_external = True
            self._add(fn, inputs, kwargs, ("ufunc.at", ufunc.__name__, *described))
            return result
        if out is not None:
            outs = kwargs["out"]
            for o in outs:
                if o is not None and not self._is_ours(o):
                    self.writes_external = True
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
            self.writes_external = True
        self._add(_setitem, (plain, index, value), {},
                  ("setitem", self._describe(plain), self._describe(index), self._describe(value)),
                  reads=[plain] + _arrays_in(index) + _arrays_in(value))

    def guard(self, plain: np.ndarray, value: bool) -> None:
        self.guard_positions.append((len(self.program), self.writes_external))
        self._add(_check, (plain, value, self.writes_external), {}, ("guard", self._describe(plain), value),
                  reads=[plain])

    def leaf_grad(self, leaf: Value) -> None:
        if not self.suspended:
            self.leaves[id(leaf)] = leaf

    def opaque(self, method: Callable, owner: Any, args: tuple, kwargs: dict) -> Any:
        if _arrays_in(args) or _arrays_in(kwargs) or any(callable(a) for a in args) or kwargs:
            raise JitError(f"tinygrad_lab.jit: {type(owner).__name__}.{method.__name__}() is called with "
                           "arguments (a closure?); call it without arguments inside a jitted step")
        if owner not in self.optimizers:
            self.optimizers.append(owner)
        self.writes_external = True
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

    def opaque(self, method: Callable, owner: Any, args: tuple, kwargs: dict) -> Any:
        if owner not in self.optimizers:
            self.optimizers.append(owner)
        previous = set_recorder(None)
        try:
            return method(owner, *args, **kwargs)
        finally:
            set_recorder(previous)


def _parameters(optimizers: list[Any]) -> list[Value]:
    return [p for opt in optimizers for group in opt.param_groups for p in group["params"]]


class _Capture:
    """One recorded step: its program, argument buffers, parameter bindings and output layout."""

    def __init__(self, recorder: _Recorder, arg_buffers: list[np.ndarray | None], params: list[tuple[Value, Any]],
                 grads: list[tuple[Value, Any]], outputs: Any) -> None:
        self.program = recorder.program
        self.signature = recorder.signature
        self.externals = recorder.externals
        self.recorder = recorder
        self.arg_buffers = arg_buffers
        self.params = params
        self.grads = grads
        self.outputs = outputs
        self.rebuild = _rebuilder(outputs)
        self.reads: list[list[np.ndarray]] = recorder.reads
        self.live_roots: set[int] = set()
        self.calls: list[Callable[[], Any]] = []
        # arguments read in place: (position, the caller's array) bound into `direct_calls`, the others copied
        self.copies = [(i, buf) for i, buf in enumerate(arg_buffers) if buf is not None]
        self.bound: list[tuple[int, np.ndarray]] = []
        self.direct_calls: list[Callable[[], Any]] = []
        self.direct_copies: list[tuple[int, np.ndarray]] = self.copies
        self.fast: tuple = ()                 # (array, shape, dtype) per argument when every one is bound
        self.last_arrays: tuple = ()


def _output_layout(result: Any) -> Any:
    """How to rebuild the function's result at a replay: Values and arrays from buffers, the rest as is."""
    if isinstance(result, Value):
        data = result.data
        if isinstance(data, _Traced):
            return ("value", data.view(np.ndarray))
        return ("const", result)
    if isinstance(result, _Traced):
        return ("array", result.view(np.ndarray))
    if isinstance(result, (list, tuple)):
        return ("seq", type(result), [_output_layout(r) for r in result])
    if isinstance(result, dict):
        return ("dict", {k: _output_layout(v) for k, v in result.items()})
    return ("const", result)


def _rebuilder(layout: Any) -> Callable[[], Any]:
    """`_rebuild` of ``layout`` as a callable, quicker for the usual result, one Value."""
    if layout[0] == "value":
        buf = layout[1]
        return lambda: _make_node(None, buf.copy())
    return functools.partial(_rebuild, layout)


def _rebuild(layout: Any) -> Any:
    kind = layout[0]
    if kind == "value":
        return _const(layout[1].copy(), layout[1])
    if kind == "array":
        return layout[1].copy()
    if kind == "seq":
        return layout[1](_rebuild(x) for x in layout[2])
    if kind == "dict":
        return {k: _rebuild(v) for k, v in layout[1].items()}
    return layout[1]


def _same_outputs(a: Any, b: Any) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "const":
        x, y = a[1], b[1]
        if isinstance(x, Value) or isinstance(y, Value):
            return x is y
        try:
            return bool(x == y) or (x != x and y != y)
        except Exception:
            return x is y
    if a[0] == "seq":
        return a[1] is b[1] and len(a[2]) == len(b[2]) and all(map(_same_outputs, a[2], b[2]))
    if a[0] == "dict":
        return a[1].keys() == b[1].keys() and all(_same_outputs(a[1][k], b[1][k]) for k in a[1])
    return True


class JitFunction:
    """A function whose calls are captured and replayed (see :func:`jit`).

    ``captures`` counts recordings made, ``replays`` calls served by replaying; ``reset()`` forgets
    every capture (e.g. after changing the model's structure). ``warn=False`` falls back to eager calls
    without a ``JitWarning`` (for library code that uses jit as an internal detail).

    Example:
        >>> f = JitFunction(lambda x: x * 2)
        >>> [float(f(Value(1.0)).data) for _ in range(4)], f.replays
        ([2.0, 2.0, 2.0, 2.0], 1)
    """

    def __init__(self, fn: Callable, warn: bool = True) -> None:
        self.fn = fn
        self.warn = warn
        functools.update_wrapper(self, fn)
        self.captures = 0
        self.replays = 0
        self._state: dict[Any, Any] = {}
        self._fast: _Capture | None = None     # the capture whose arguments are read in place, for a quick match

    def reset(self) -> None:
        """Forget every capture: the next calls run eagerly and capture again.

        Example:
            >>> f = jit(lambda x: x + 1); f.reset(); f.captures
            0
        """
        self._state.clear()
        self._fast = None

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else functools.partial(self.__call__, obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if recorder() is not None:                 # a jitted function inside another capture: just run it
            return self.fn(*args, **kwargs)
        fast = self._fast
        if fast is not None and not kwargs and len(args) == len(fast.fast):
            # the arrays the replay reads in place, passed again: nothing to look up, nothing to copy
            for x, (a, shape, dtype) in zip(args, fast.fast):
                if type(x) is Value:
                    if x.data is not a or x.requires_grad:
                        break
                elif x is not a:
                    break
                if a.shape != shape or a.dtype is not dtype:
                    break
            else:
                try:
                    return self._run(fast, fast.direct_calls, (), args)
                except _GuardFailed as failed:
                    return self._guard_failed(failed, self._key(args, kwargs), args, kwargs)
        key = self._key(args, kwargs)
        state = self._state.get(key)
        if isinstance(state, _Capture):
            try:
                return self._replay(state, args, kwargs)
            except _GuardFailed as failed:
                return self._guard_failed(failed, key, args, kwargs)
        if state is None:
            return self._discover(key, args, kwargs)
        if state is _EAGER:
            return self.fn(*args, **kwargs)
        optimizers, first = state
        capture, result = self._capture(args, kwargs, optimizers)
        if capture is None:                      # the step uses another optimizer now: start again
            self._state[key] = None
        elif first is None:                      # a second recording will be compared with this one
            self._state[key] = (optimizers, capture)
        else:
            try:
                self._compare(first, capture)
            except JitError as error:          # the step ran completely: keep its result, go on eagerly
                if self.warn:
                    warnings.warn(f"{error}. This function now runs eagerly for these argument shapes.", JitWarning,
                                  stacklevel=2)
                self._state[key] = _EAGER
                return result
            _compile(capture)
            self._state[key] = capture
            self._bind_arguments(capture, self._arrays(args, kwargs), quick=not kwargs)
        return result

    def _guard_failed(self, failed: _GuardFailed, key: Any, args: tuple, kwargs: dict) -> Any:
        if failed.args[0]:
            raise JitError("tinygrad_lab.jit: a Python branch on data went the other way during a replay, "
                           "after the step had already changed parameters in place; the step cannot be "
                           "replayed safely: run it without jit") from None
        self._fast = None
        self._state[key] = None          # run eagerly now, capture again next time
        return self._discover(key, args, kwargs)

    @staticmethod
    def _arrays(args: tuple, kwargs: dict) -> tuple:
        values = list(args) + [kwargs[k] for k in sorted(kwargs)] if kwargs else args
        return tuple(x.data if isinstance(x, Value) else x if isinstance(x, np.ndarray) else None for x in values)

    def _bind_arguments(self, capture: _Capture, arrays: tuple, quick: bool) -> None:
        """Let the replay read the caller's arrays in place (see `_direct_program`).

        ``quick``: the call had positional arguments only; when all of them are read in place, the next
        calls with the same arrays skip the signature look-up.
        """
        _direct_program(capture, arrays)
        self._fast = None
        if quick and capture.bound and len(capture.bound) == len(arrays) and not capture.direct_copies:
            capture.fast = tuple((a, a.shape, a.dtype) for a in arrays)
            self._fast = capture

    # -- the three phases
    def _discover(self, key: Any, args: tuple, kwargs: dict) -> Any:
        """Run eagerly, noting the optimizers; the next call captures."""
        discoverer = _Discoverer()
        previous = set_recorder(discoverer)
        try:
            result = self.fn(*args, **kwargs)
        finally:
            set_recorder(previous)
        self._state[key] = (discoverer.optimizers, None)
        return result

    def _capture(self, args: tuple, kwargs: dict, optimizers: list[Any]) -> tuple[_Capture | None, Any]:
        rec = _Recorder()
        arg_buffers: list[np.ndarray | None] = []

        def traced_arg(x: Any) -> Any:
            if isinstance(x, Value):
                if x.requires_grad:
                    raise JitError("tinygrad_lab.jit: arguments must be data (Values that do not require grad); "
                                   "make the parameters part of the model or optimizer, not arguments")
                buf = np.array(x.data)
                rec.args[id(buf)] = len(arg_buffers)
                rec.buffers.append(buf)
                arg_buffers.append(buf)
                return _value_of(buf.view(_Traced))
            if isinstance(x, np.ndarray):
                buf = np.array(x)
                rec.args[id(buf)] = len(arg_buffers)
                rec.buffers.append(buf)
                arg_buffers.append(buf)
                return buf.view(_Traced)
            arg_buffers.append(None)
            return x

        call_args = tuple(traced_arg(a) for a in args)
        call_kwargs = {k: traced_arg(v) for k, v in sorted(kwargs.items())}
        params = _parameters(optimizers)
        plain = [p.data for p in params]
        for i, p in enumerate(params):
            rec.params[id(_root(p.data))] = i
            p.data = p.data.view(_Traced)
        previous = set_recorder(rec)
        try:
            result = self.fn(*call_args, **call_kwargs)
        finally:
            set_recorder(previous)
            for p, data in zip(params, plain, strict=True):
                p.data = data
        self.captures += 1
        if rec.optimizers != optimizers and rec.optimizers:
            # a new optimizer appeared: discover again from this call
            return None, _rebuild(_output_layout(result))
        grads = []
        known = {id(p) for p in params}
        for p in params + [v for k, v in rec.leaves.items() if k not in known]:
            if p.grad is not None:
                if isinstance(p.grad.data, _Traced):
                    p.grad.data = p.grad.data.view(np.ndarray)
                if not isinstance(p.grad.data, np.ndarray) or not rec._is_ours(p.grad.data):
                    raise JitError("tinygrad_lab.jit: a parameter's gradient was not computed by recorded NumPy "
                                   "calls (it was converted outside NumPy's dispatch); run this step without jit")
            grads.append((p, p.grad))
        capture = _Capture(rec, arg_buffers, list(zip(params, plain, strict=True)), grads, _output_layout(result))
        return capture, _rebuild(capture.outputs)

    def _compare(self, first: _Capture | None, second: _Capture) -> None:
        if first is None:
            return
        a, b = first.signature, second.signature
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                what = (f"{_name(x)} then {_name(y)}" if _name(x) != _name(y) else
                        f"{_name(x)} with a different Python number, constant or operand")
                raise JitError(f"tinygrad_lab.jit: the step made different NumPy calls on two calls with the same "
                               f"argument shapes (call #{i}: {what}): it depends on data "
                               "through Python (a branch, a Python number that changes, a random draw) or its "
                               "model changed; jit needs the same NumPy calls every time: run it without jit")
        if len(a) != len(b):
            raise JitError(f"tinygrad_lab.jit: the step made {len(a)} NumPy calls once and {len(b)} the next time "
                           "with the same argument shapes: it depends on data through Python; run it without jit")
        for i, (u, v) in enumerate(zip(first.externals, second.externals, strict=True)):
            same_array = _root(u) is _root(v) and u.__array_interface__ == v.__array_interface__
            if not same_array and not (u.shape == v.shape and np.array_equal(u, v, equal_nan=True)):
                raise JitError("tinygrad_lab.jit: an array the step reads but does not get as an argument changed "
                               f"between two calls (constant #{i}, shape {u.shape}): e.g. a random mask or data "
                               "taken from outside; pass changing data as arguments, or run it without jit")
        if not _same_outputs(first.outputs, second.outputs):
            raise JitError("tinygrad_lab.jit: the step returned a Python value that changed between two calls; "
                           "return Values or arrays instead (e.g. the loss Value, not float(loss))")

    def _replay(self, capture: _Capture, args: tuple, kwargs: dict) -> Any:
        values = list(args) + [kwargs[k] for k in sorted(kwargs)] if kwargs else args
        calls, copies = capture.direct_calls, capture.direct_copies
        for i, a in capture.bound:
            x = values[i]
            if (x.data if isinstance(x, Value) else x) is not a:
                calls, copies = capture.calls, capture.copies
                arrays = self._arrays(args, kwargs)
                last = capture.last_arrays
                if len(last) == len(arrays) and all(map(operator.is_, arrays, last)):
                    # the same arrays twice in a row: read them in place from now on
                    self._bind_arguments(capture, arrays, quick=not kwargs)
                    calls, copies = capture.direct_calls, capture.direct_copies
                capture.last_arrays = arrays
                break
        return self._run(capture, calls, copies, values)

    def _run(self, capture: _Capture, calls: list[Callable[[], Any]], copies: Iterable[tuple[int, np.ndarray]],
             values: tuple | list) -> Any:
        for p, data in capture.params:
            if p.data is not data:               # replaced, not updated in place: capture again
                raise _GuardFailed(False)
        for i, buf in copies:
            x = values[i]
            buf[...] = x.data if isinstance(x, Value) else x
        for p, g in capture.grads:
            p.grad = g
        token = ignore_overflow()      # as the eager step's sigmoid does (warnings are capture-time side effects)
        try:
            for call in calls:
                call()
        finally:
            restore_errors(token)
        self.replays += 1
        return capture.rebuild()

    def _key(self, args: tuple, kwargs: dict) -> Any:
        if not kwargs:                                   # the common case: Values only
            key = []
            for x in args:
                if type(x) is not Value:
                    break
                data = x.data
                key.append((data.shape, data.dtype, x.requires_grad))
            else:
                return tuple(key)

        def one(x: Any) -> Any:
            if isinstance(x, Value):
                return ("V", x.data.shape, x.data.dtype.str, x.requires_grad)
            if isinstance(x, np.ndarray):
                return ("A", x.shape, x.dtype.str)
            try:
                hash(x)
            except TypeError:
                raise JitError(f"tinygrad_lab.jit: argument of type {type(x).__name__} is neither array data nor "
                               "hashable; pass Values or arrays (data), or numbers/strings (settings)") from None
            return ("S", type(x), x)
        return tuple(one(a) for a in args), tuple((k, one(v)) for k, v in sorted(kwargs.items()))


def _assign_all(buf: np.ndarray, src: np.ndarray) -> None:
    buf[...] = src


def _refresh(buf: np.ndarray, func: Callable, /, *args: Any, **kwargs: Any) -> None:
    buf[...] = func(*args, **kwargs)


def _setitem(buf: np.ndarray, index: Any, value: Any) -> None:
    buf[index] = value


def _check(data: np.ndarray, value: bool, after_writes: bool) -> None:
    """A recorded Python branch on data: stop the replay if it would go the other way."""
    if bool(data) != value:
        raise _GuardFailed(after_writes)


def _compile(capture: _Capture) -> None:
    """The passes (dead calls, copies, repeated calls, buffer reuse), then one zero-argument callable per call."""
    _eliminate_dead_code(capture)
    _eliminate_copies(capture)
    _eliminate_common_calls(capture)
    _reuse_buffers(capture)
    capture.calls = [_bind(fn, args, kwargs) for fn, args, kwargs in capture.program]


#: ufuncs whose outputs must be given by keyword (NumPy deprecates a third positional argument to them)
_OUT_BY_KEYWORD = frozenset({np.maximum, np.minimum, np.fmax, np.fmin})
_REDUCE_DEFAULTS = {"dtype": None, "keepdims": False, "where": True}


def _as_operand(a: Any, dtype: np.dtype) -> Any:
    """A Python or NumPy number as a 0-d array of ``dtype`` (what NumPy converts it to anyway, done once)."""
    if type(a) in (int, float) or (isinstance(a, np.generic) and a.dtype == dtype):
        return np.array(a, dtype=dtype)
    return a


def _bind(fn: Callable, args: tuple, kwargs: dict) -> Callable[[], Any]:
    """One recorded call as a zero-argument callable, in the cheapest form NumPy accepts for it.

    A ufunc's outputs go as positional arguments (keyword parsing costs more than the call on small
    arrays), a reduction's defaults are dropped, and numbers are converted to the arrays' dtype once.
    """
    outs = kwargs.get("out")
    if isinstance(fn, np.ufunc) and outs is not None and all(o is not None for o in outs):
        rest = {k: v for k, v in kwargs.items() if k != "out"}
        dtype = outs[0].dtype
        if (len(outs) == 1 and dtype.kind == "f"
                and all(a.dtype == dtype for a in args if isinstance(a, np.ndarray))):
            args = tuple(_as_operand(a, dtype) for a in args)
        if not rest and len(args) == fn.nin and len(outs) == fn.nout and fn not in _OUT_BY_KEYWORD:
            return functools.partial(fn, *args, *outs)
        rest["out"] = outs
        return functools.partial(fn, *args, **rest)
    ufunc = getattr(fn, "__self__", None)
    if (isinstance(ufunc, np.ufunc) and getattr(fn, "__name__", "") == "reduce" and outs is not None
            and len(outs) == 1 and len(args) == 1):
        rest = {k: v for k, v in kwargs.items() if k != "out"}
        for k, default in _REDUCE_DEFAULTS.items():
            if k in rest and rest[k] is default:
                del rest[k]
        if set(rest) <= {"axis", "keepdims"}:    # reduce(array, axis, dtype, out, keepdims): all positional
            return functools.partial(fn, args[0], rest.get("axis", 0), None, outs[0], rest.get("keepdims", False))
        rest["out"] = outs
        return functools.partial(fn, *args, **rest)
    return functools.partial(fn, *args, **kwargs)


def _ufunc_of(fn: Any) -> np.ufunc | None:
    """The ufunc of a recorded call (a ufunc, or one of its methods such as ``np.add.reduce``), else None."""
    if isinstance(fn, np.ufunc):
        return fn
    owner = getattr(fn, "__self__", None)
    return owner if isinstance(owner, np.ufunc) else None


def _writes_of(fn: Any, args: tuple, kwargs: dict) -> list[np.ndarray] | None:
    """The arrays a recorded call writes; None for a call of unknown effect (an optimizer's step)."""
    if _ufunc_of(fn) is not None:
        written = [o for o in kwargs.get("out") or () if isinstance(o, np.ndarray)]
        return written + [args[0]] if getattr(fn, "__name__", "") == "at" else written
    if fn in (_assign_all, _refresh, _setitem):
        return [args[0]]
    if fn is _check:
        return []
    return None


def _written_roots(program: list[tuple[Callable, tuple, dict]]) -> set[int]:
    """id() of every buffer some recorded call writes (any array a call of unknown effect gets counts)."""
    written: set[int] = set()
    for fn, args, kwargs in program:
        arrays = _writes_of(fn, args, kwargs)
        written.update(id(_root(a)) for a in (_arrays_in(args) + _arrays_in(kwargs) if arrays is None else arrays))
    return written


class _NotRebased(Exception):
    """A view of a buffer that cannot be made on another array the same way."""


def _rebase(x: Any, mapping: dict[int, tuple[np.ndarray, np.ndarray]], readonly: bool = False) -> Any:
    """``x`` with every view of a buffer in ``mapping`` (id(buffer) -> (buffer, array of the same layout))
    made the same way on the array (``readonly``: views that cannot write)."""
    if isinstance(x, np.ndarray):
        hit = mapping.get(id(_root(x)))
        if hit is None:
            return x
        buf, array = hit
        if x is buf and not readonly:
            return array
        offset = x.__array_interface__["data"][0] - buf.__array_interface__["data"][0]
        if x.dtype != buf.dtype or offset < 0 or any(st < 0 for st in buf.strides):
            raise _NotRebased
        view = np.ndarray(x.shape, x.dtype, buffer=array.ravel(order="K"), offset=offset, strides=x.strides)
        if readonly:
            view.flags.writeable = False
        return view
    if isinstance(x, tuple):
        return tuple(_rebase(v, mapping, readonly) for v in x)
    if isinstance(x, list):
        return [_rebase(v, mapping, readonly) for v in x]
    if isinstance(x, dict):
        return {k: _rebase(v, mapping, readonly) for k, v in x.items()}
    return x


def _call_key(x: Any, version: dict[int, int]) -> Any:
    """What a call's operand is, for finding repeated calls: an array by its memory, layout and how many
    writes its buffer has had so far; a number by its type and exact digits (0.0 and -0.0 differ)."""
    if isinstance(x, np.ndarray):
        root = _root(x)
        return ("a", id(root), x.__array_interface__["data"][0], x.shape, x.strides, x.dtype.str,
                version.get(id(root), 0))
    if isinstance(x, (tuple, list)):
        return (type(x).__name__, tuple(_call_key(v, version) for v in x))
    if isinstance(x, dict):
        return ("dict", tuple((k, _call_key(v, version)) for k, v in sorted(x.items())))
    if x is None or isinstance(x, (bool, int, float, complex, str, np.generic, np.dtype)):
        return (type(x).__name__, repr(x))
    return ("obj", id(x))


def _eliminate_common_calls(capture: _Capture) -> None:
    """A ufunc call repeating an earlier one on unchanged inputs: later calls read the earlier result.

    E.g. MSE's ``output - target``, computed by its forward and again by its backward; the softmax
    cross-entropy's backward recomputes from the logits. Both results must be buffers written once.
    """
    try:
        program, reads = _common_calls_dropped(capture, list(capture.program), list(capture.reads))
    except _NotRebased:          # a view of a repeated result that cannot be made on the earlier one: keep both
        return
    capture.program, capture.reads = program, reads


def _common_calls_dropped(capture: _Capture, program: list, reads: list) -> tuple[list, list]:
    ours, live = capture.recorder.buffers_by_id, capture.live_roots
    write_count: dict[int, int] = {}
    for fn, args, kwargs in program:
        for a in _writes_of(fn, args, kwargs) or ():
            write_count[id(_root(a))] = write_count.get(id(_root(a)), 0) + 1
    version: dict[int, int] = {}
    seen: dict[Any, np.ndarray] = {}
    mapping: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    keep = [True] * len(program)
    for i, (fn, args, kwargs) in enumerate(program):
        if mapping:
            args, kwargs = _rebase(args, mapping), _rebase(kwargs, mapping)
            program[i] = (fn, args, kwargs)
            reads[i] = _rebase(reads[i], mapping)
        writes = _writes_of(fn, args, kwargs)
        if writes is None:                      # an optimizer's step: anything may have changed
            seen.clear()
            continue
        outs = kwargs.get("out")
        key = None
        if (_ufunc_of(fn) is not None and getattr(fn, "__name__", "") != "at" and outs is not None
                and len(outs) == 1 and isinstance(outs[0], np.ndarray)):
            out = outs[0]
            if id(out) in ours and write_count.get(id(out)) == 1 and id(out) not in live:
                rest = {k: v for k, v in kwargs.items() if k != "out"}
                key = (fn, _call_key(args, version), _call_key(rest, version), out.shape, out.strides,
                       out.dtype.str)
        for a in writes:
            version[id(_root(a))] = version.get(id(_root(a)), 0) + 1
        if key is None:
            continue
        earlier = seen.get(key)
        if earlier is None:
            seen[key] = outs[0]
        else:
            mapping[id(outs[0])] = (outs[0], earlier)
            keep[i] = False
    return ([e for e, k in zip(program, keep, strict=True) if k],
            [r for r, k in zip(reads, keep, strict=True) if k])


def _direct_program(capture: _Capture, arrays: tuple) -> None:
    """Bind the caller's argument arrays into a second list of calls, which then reads them in place.

    An argument qualifies when the step never writes its buffer nor returns it, the caller's array
    has the buffer's exact layout, and it shares no memory with a buffer, parameter or optimizer state
    the replay writes. The others are still copied in. The eager step reads the caller's arrays too.
    """
    capture.bound, capture.direct_calls, capture.direct_copies = [], capture.calls, capture.copies
    capture.last_arrays = arrays
    written = _written_roots(capture.program)
    guarded = [b for b in capture.recorder.buffers if id(b) not in capture.recorder.args]
    guarded += [p.data for p, _ in capture.params]
    for opt in capture.recorder.optimizers:
        for state in getattr(opt, "state", {}).values():
            guarded += [a for a in state.values() if isinstance(a, np.ndarray)] if isinstance(state, dict) else []
    mapping: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for i, buf in capture.copies:
        a = arrays[i] if i < len(arrays) else None
        if (type(a) is not np.ndarray or a.shape != buf.shape or a.dtype != buf.dtype or a.strides != buf.strides
                or not (a.flags.c_contiguous or a.flags.f_contiguous)
                or id(buf) in written or id(buf) in capture.live_roots
                or any(np.may_share_memory(a, g) for g in guarded)):
            continue
        mapping[id(buf)] = (buf, a)
    if not mapping:
        return
    try:
        program = [(fn, _rebase(args, mapping, readonly=True), _rebase(kwargs, mapping, readonly=True))
                   for fn, args, kwargs in capture.program]
    except _NotRebased:
        return
    capture.direct_calls = [_bind(fn, args, kwargs) for fn, args, kwargs in program]
    capture.bound = [(i, mapping[id(buf)][1]) for i, buf in capture.copies if id(buf) in mapping]
    capture.direct_copies = [(i, buf) for i, buf in capture.copies if id(buf) not in mapping]


def _full_view_of(a: Any, root: np.ndarray) -> bool:
    return (isinstance(a, np.ndarray) and a.shape == root.shape and a.strides == root.strides
            and a.dtype == root.dtype and a.__array_interface__["data"][0] == root.__array_interface__["data"][0])


def _substitute(x: Any, old: np.ndarray, new: np.ndarray) -> Any:
    if isinstance(x, np.ndarray):
        return new if _root(x) is old else x
    if isinstance(x, tuple):
        return tuple(_substitute(v, old, new) for v in x)
    if isinstance(x, list):
        return [_substitute(v, old, new) for v in x]
    if isinstance(x, dict):
        return {k: _substitute(v, old, new) for k, v in x.items()}
    return x


def _reuse_buffers(capture: _Capture) -> None:
    """An elementwise NumPy call writes into an input buffer that nothing reads afterwards (better cache use)."""
    rec = capture.recorder
    program, reads = capture.program, capture.reads
    last_read: dict[int, int] = {}
    for i, entry_reads in enumerate(reads):
        for a in entry_reads:
            last_read[id(_root(a))] = i
    visible = (_assign_all,)

    def transparent(fn: Any) -> bool:
        return isinstance(fn, np.ufunc) or fn in visible or getattr(fn, "__self__", None).__class__ is np.ufunc

    ours = rec.buffers_by_id
    for i, (fn, args, kwargs) in enumerate(program):
        outs = kwargs.get("out")
        if not isinstance(fn, np.ufunc) or fn.signature is not None or outs is None or len(outs) != 1:
            continue
        out = outs[0]
        if id(out) not in ours or id(out) in capture.live_roots or last_read.get(id(out), -1) < i:
            continue
        if any(isinstance(a, np.ndarray) and _root(a) is out for a in args):
            continue
        later = [j for j in range(i + 1, len(program)) if any(_root(a) is out for a in reads[j])]
        if not all(transparent(program[j][0]) and all(_full_view_of(a, out) for a in reads[j] if _root(a) is out)
                   for j in later):
            continue
        for a in args:
            if not isinstance(a, np.ndarray):
                continue
            root = _root(a)
            if (id(root) in ours and id(root) not in capture.live_roots and _full_view_of(a, root)
                    and root.shape == out.shape and root.dtype == out.dtype and root.flags.writeable
                    and last_read.get(id(root)) == i and root is not out):
                program[i] = (fn, args, dict(kwargs, out=(root,)))
                for j in later:
                    f, a2, k2 = program[j]
                    program[j] = (f, _substitute(a2, out, root), _substitute(k2, out, root))
                    reads[j] = _substitute(reads[j], out, root)
                last_read[id(root)] = last_read[id(out)]
                break


def _eliminate_copies(capture: _Capture) -> None:
    """A copy of a fresh ufunc result that nothing else reads: let the ufunc write into the copy's buffer."""
    rec = capture.recorder
    program, reads = capture.program, capture.reads
    readers: dict[int, int] = {}
    for entry_reads in reads:
        for a in entry_reads:
            readers[id(_root(a))] = readers.get(id(_root(a)), 0) + 1
    made_by = {id(rec.buffers_by_id[key]): index for key, index in rec.producer.items() if key in rec.buffers_by_id}
    index_of = {id(entry): i for i, entry in enumerate(program)}
    drop: set[int] = set()
    for i, (fn, args, _) in enumerate(program):
        if fn is not _assign_all:
            continue
        buf, src = args
        root = _root(src)
        if (src.shape != root.shape or src.strides != root.strides or src.dtype != buf.dtype
                or readers.get(id(root), 0) != 1 or id(root) in capture.live_roots):
            continue
        j_original = made_by.get(id(root))
        if j_original is None:
            continue
        j = index_of.get(id(rec.program_entries[j_original]))
        if j is None:
            continue
        pfn, pargs, pkwargs = program[j]
        outs = pkwargs.get("out")
        is_ufunc = isinstance(pfn, np.ufunc) or isinstance(getattr(pfn, "__self__", None), np.ufunc)
        if not is_ufunc or outs is None or len(outs) != 1 or outs[0] is not root:
            continue
        program[j] = (pfn, pargs, dict(pkwargs, out=(buf,)))
        drop.add(i)
    if drop:
        capture.program = [e for i, e in enumerate(program) if i not in drop]
        capture.reads = [r for i, r in enumerate(reads) if i not in drop]


def _eliminate_dead_code(capture: _Capture) -> None:
    """Drop entries whose buffers nothing reads (e.g. the input gradient of the first layer)."""
    rec = capture.recorder
    live: set[int] = set()

    def mark(layout: Any) -> None:
        if layout[0] in ("value", "array"):
            live.add(id(_root(layout[1])))
        elif layout[0] == "seq":
            for x in layout[2]:
                mark(x)
        elif layout[0] == "dict":
            for x in layout[1].values():
                mark(x)

    mark(capture.outputs)
    for _, g in capture.grads:
        if g is not None:
            live.add(id(_root(g.data)))
    capture.live_roots = set(live)
    keep = [True] * len(capture.program)
    made_by = {index: key for key, index in rec.producer.items()}
    for i in range(len(capture.program) - 1, -1, -1):
        kind = capture.signature[i][0]
        key = made_by.get(i)
        if key is not None and key not in live and kind in ("ufunc", "function", "method"):
            keep[i] = False
            continue
        for a in rec.reads[i]:
            live.add(id(_root(a)))
    rec.program_entries = list(capture.program)
    capture.program = [e for e, k in zip(capture.program, keep, strict=True) if k]
    capture.reads = [r for r, k in zip(rec.reads, keep, strict=True) if k]


def _value_of(data: np.ndarray) -> Value:
    """A constant Value holding exactly ``data`` (Value() would copy it into a plain array)."""
    value = Value(0.0)
    value.data = data
    return value


def _name(signature: tuple) -> str:
    if signature[0] in ("ufunc", "ufunc.at"):
        return f"numpy.{signature[1]}" + (f".{signature[2]}" if signature[0] == "ufunc" and
                                          signature[2] != _UFUNC_CALL else "")
    if signature[0] in ("function", "method"):
        return f"{signature[0]} {signature[1]}"
    if signature[0] == "opaque":
        return f"{signature[1]}.{signature[2]}()"
    return signature[0]


def jit(fn: Callable) -> JitFunction:
    """Capture ``fn``'s NumPy calls and replay them on later calls (see the module docstring).

    Example:
        >>> double = jit(lambda x: x * 2.0)
        >>> [double(Value([1.0, 2.0])).data.tolist() for _ in range(4)][-1]
        [2.0, 4.0]
    """
    return JitFunction(fn)
