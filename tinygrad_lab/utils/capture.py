"""The hook between `tinygrad_lab.jit` and the code it captures: which calls run for real at every replay.

While `tinygrad_lab.jit` captures a step in this thread, `recorder()` returns its recorder; a method
wrapped with `opaque` (every optimizer's `step`) is then not traced NumPy call by NumPy call but
recorded as one call, made again (eagerly, with its own Python logic: learning-rate schedules,
step counters) at each replay. Outside a capture the wrapper only calls the method.

Example:
    >>> class Counter:
    ...     n = 0
    ...     @opaque
    ...     def step(self):
    ...         self.n += 1
    ...         return self.n
    >>> Counter().step()
    1
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["opaque", "recorder", "set_recorder", "as_array", "as_recorded", "watch", "not_replayable",
           "TRACED_TYPES"]

_local = threading.local()

#: Array types whose NumPy calls a capture records (tinygrad_lab.jit adds its own); kept by `as_array`.
TRACED_TYPES: list[type] = []


def as_array(x: Any) -> Any:
    """``np.asarray(x)``, except that arrays being recorded by a capture stay what they are.

    Example:
        >>> as_array([1.0, 2.0]).tolist()
        [1.0, 2.0]
    """
    if type(x) in TRACED_TYPES:
        return x
    return np.asarray(x)


def as_recorded(x: np.ndarray) -> np.ndarray:
    """A NumPy array that a step keeps besides its arguments and parameters (a layer's running statistics),
    seen by the capture running in this thread: reading and updating it in place are then recorded, and made
    again on the array itself at every replay, instead of read once and frozen. Without a capture: `x`.

    Example:
        >>> counter = np.zeros(())
        >>> as_recorded(counter) is counter      # no capture is running
        True
    """
    if _active[0] and TRACED_TYPES and getattr(_local, "recorder", None) is not None \
            and type(x) not in TRACED_TYPES:
        return x.view(TRACED_TYPES[0])
    return x


def watch(owner: Any, *names: str) -> None:
    """Tell the capture running in this thread that the step depends on the Python attributes ``names`` of
    ``owner``, kept in its ``__dict__`` (a module's ``training`` flag and its version, counting its attribute
    changes): a replay checks
    they still have the values they had at the end of the capture, and captures again if not. Without a
    capture: nothing.

    Example:
        >>> class Layer:
        ...     training = True
        >>> watch(Layer(), "training")     # no capture is running
    """
    if _active[0]:
        active = getattr(_local, "recorder", None)
        if active is not None:
            active.watch(owner, names)


def not_replayable(reason: str) -> None:
    """Tell the capture running in this thread that the step does something a replay cannot make again
    (`reason` says what, completing "the step ...": a random draw would be repeated, a Python-level loop over
    elements is not recorded): the step is not replayed, it runs eagerly with a JitWarning. Without a capture:
    nothing.

    Example:
        >>> not_replayable("draws random numbers")     # no capture is running
    """
    if _active[0]:
        active = getattr(_local, "recorder", None)
        if active is not None:
            active.not_replayable(reason)


_active = [0]              # how many threads have a recorder: 0 lets every check skip the thread-local lookup
_active_lock = threading.Lock()


def recorder() -> Any:
    """The recorder of the capture running in this thread, or None.

    Example:
        >>> recorder() is None
        True
    """
    if not _active[0]:
        return None
    return getattr(_local, "recorder", None)


def set_recorder(value: Any) -> Any:
    """Install ``value`` as this thread's recorder (None: none); returns the previous one.

    Example:
        >>> set_recorder(None) is None
        True
    """
    previous = getattr(_local, "recorder", None)
    _local.recorder = value
    change = (value is not None) - (previous is not None)
    if change:
        with _active_lock:
            _active[0] += change
    return previous


def _takes_closure_only(method: Callable) -> bool:
    import inspect
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return False
    return (len(params) == 2 and params[1].name == "closure" and params[1].default is None
            and params[1].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD)


def opaque(method: Callable) -> Callable:
    """Wrap a method so that a capture records it as one call, run for real at every replay.

    Example:
        >>> opaque(lambda self: 1)(None)
        1
    """
    if getattr(method, "_opaque", False):
        return method

    def general(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _active[0]:
            active = getattr(_local, "recorder", None)
            if active is not None:
                return active.opaque(method, self, args, kwargs)
        return method(self, *args, **kwargs)

    def closure_only(self: Any, closure: Any = None) -> Any:   # step(self, closure=None): no argument packing
        if _active[0]:
            active = getattr(_local, "recorder", None)
            if active is not None:
                return active.opaque(method, self, () if closure is None else (closure,), {})
        return method(self, closure)

    wrapper: Any = functools.wraps(method)(closure_only if _takes_closure_only(method) else general)

    wrapper._opaque = True
    return wrapper
