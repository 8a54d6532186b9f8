"""`jit` and `JitFunction`: the signatures of a jitted function's calls, its three phases (discover, capture twice
and compare, replay), the guards checked at every replay and the caller's arrays read in place.
"""
from __future__ import annotations

import functools
import operator
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import Value
from ..utils.capture import recorder, set_recorder
from ..utils.fperrors import ignore_overflow, restore_errors
from .capture import _Capture, _output_layout, _rebuild, _same_outputs
from .errors import JitError, JitWarning, _Unreplayable
from .passes import _compile, _direct_program
from .tracing import _UFUNC_CALL, _Discoverer, _GuardFailed, _Recorder, _root, _Traced

__all__ = ["jit", "JitFunction"]


_EAGER = object()   # the state of a signature whose step cannot be replayed: call the function itself


def _parameters(optimizers: list[Any]) -> list[Value]:
    # (a learning-rate scheduler's step is recorded as a call too: it has no parameters of its own)
    return [p for opt in optimizers for group in getattr(opt, "param_groups", ()) for p in group["params"]]


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
        try:
            capture, result = self._capture(args, kwargs, optimizers)
        except _Unreplayable as error:         # the step ran completely: keep its result, go on eagerly
            if self.warn:
                warnings.warn(f"{error}. This function now runs eagerly for these argument shapes.", JitWarning,
                              stacklevel=2)
            self._state[key] = _EAGER
            return error.result
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
            raise JitError("tinygrad_lab.jit: an array's shape depended on data (np.flatnonzero, a[mask]) and "
                           "changed during a replay, after the optimizer's step had already changed the parameters; "
                           "the step cannot be replayed safely: run it without jit") from None
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
        leaves = params + [v for k, v in rec.leaves.items() if k not in known]
        for p in leaves:
            if p.grad is not None and isinstance(p.grad.data, _Traced):
                p.grad.data = p.grad.data.view(np.ndarray)
        if rec.guard_after_opaque:
            raise _Unreplayable("tinygrad_lab.jit: the step branches on data (`if loss < t:`, an input check) after "
                                "optimizer.step() (or a scheduler's step); had the branch gone the other way at a "
                                "replay, the step could not have been undone",
                                _rebuild(_output_layout(result)))
        if rec.unreplayable is not None:
            raise _Unreplayable(f"tinygrad_lab.jit: the step {rec.unreplayable}", _rebuild(_output_layout(result)))
        for p in leaves:
            if p.grad is not None and (not isinstance(p.grad.data, np.ndarray) or not rec._is_ours(p.grad.data)):
                raise _Unreplayable("tinygrad_lab.jit: a parameter's gradient was not computed by NumPy calls jit "
                                    "can record (e.g. through a convolution, pooling or embedding layer, or a "
                                    "gradient the step set to a new Value); it cannot be replayed",
                                    _rebuild(_output_layout(result)))
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
            if not same_array and not (u.shape == v.shape and np.array_equal(u, v, equal_nan=u.dtype.kind in "fc")):
                raise JitError("tinygrad_lab.jit: an array the step reads but does not get as an argument changed "
                               f"between two calls (constant #{i}, shape {u.shape}): e.g. a random mask or data "
                               "taken from outside; pass changing data as arguments, or run it without jit")
        firsts, seconds = list(first.recorder.initial.values()), list(second.recorder.initial.values())
        if len(firsts) != len(seconds):
            raise JitError("tinygrad_lab.jit: the step wrote a different number of arrays on two calls with the same "
                           "argument shapes; run it without jit")
        for (made_first, start_first), (made, start) in zip(firsts, seconds, strict=True):
            if made_first is not made:   # made afresh at each call (np.zeros) outside the recording: made again
                if not (start_first.shape == start.shape and start_first.dtype == start.dtype
                        and np.array_equal(start_first, start, equal_nan=True)):
                    raise JitError("tinygrad_lab.jit: an array the step makes and then updates started with other "
                                   "numbers on two calls (it is made from data outside NumPy's recorded calls); "
                                   "run it without jit")
                second.restore.append((made, start))
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
        for p, data, flag in capture.param_guards:
            if p.data is not data or p.requires_grad is not flag:   # replaced (not updated in place), or frozen /
                raise _GuardFailed(False)                           # unfrozen since: capture again
        for attributes, name, value in capture.watched:
            if attributes.get(name) != value:   # a module switched by train() / eval(), or an attribute set (a
                raise _GuardFailed(False)       # parameter, a buffer, eps): capture again
        for p, data in capture.module_params:
            if p.data is not data:
                raise _GuardFailed(False)
        for i, buf in copies:
            x = values[i]
            buf[...] = x.data if isinstance(x, Value) else x
        for p, g in capture.grads:
            p._grad = g     # the checked setter's slot: the captured gradients fit (checked once, at capture)
        for array, made in capture.restore:
            np.copyto(array, made)
        for array, saved in capture.undo:
            np.copyto(saved, array)
        token = ignore_overflow()      # as the eager step's sigmoid does (warnings are capture-time side effects)
        try:
            for call in calls:
                call()
        except _GuardFailed as failed:
            if failed.args[0] == "shape" and capture.recorder.refresh_after_opaque:
                raise                          # perhaps after the optimizer's step: cannot be undone
            for array, saved in capture.undo:  # writes before the branch: put back, then the eager call
                np.copyto(array, saved)
            raise _GuardFailed(False) from None
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
