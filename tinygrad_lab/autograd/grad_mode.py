"""Grad mode: whether ops record the graph, per thread (as `torch/autograd/grad_mode.py`).

`no_grad`, `enable_grad` and `set_grad_enabled` are context managers and
decorators; `set_grad_enabled(mode)` also works as a plain call. The mode is
thread-local: a `no_grad` block in one thread never stops another thread from
recording, and each new thread starts with grad mode on, as in PyTorch.

Every op reads the mode once: `make_node` reads this thread's `Modes` object
(`_local.modes`, the object `thread_modes()` returns) in one thread-local read;
anomaly mode's flag sits in the same per-thread object, see `anomaly_mode.py`.

Example:
    >>> from tinygrad_lab import Value
    >>> w = Value([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     (w * 2).requires_grad
    False
    >>> is_grad_enabled()
    True
"""
from __future__ import annotations

import functools
import inspect
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class Modes:
    """The switches of one thread that every op reads: grad mode and anomaly mode.

    Example:
        >>> modes = thread_modes()
        >>> modes.grad_enabled, modes.anomaly
        (True, False)
    """

    __slots__ = ("grad_enabled", "anomaly")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False


class _ThreadModes(threading.local):
    """One `Modes` per thread, made on the thread's first access (so a new thread starts with the defaults)."""

    def __init__(self) -> None:
        self.modes = Modes()


_local = _ThreadModes()


def thread_modes() -> Modes:
    """The calling thread's `Modes` (ops read `_local.modes` directly, one thread-local read per op).

    Example:
        >>> thread_modes() is thread_modes()
        True
    """
    return _local.modes


def is_grad_enabled() -> bool:
    """True when ops record the graph in this thread (outside `no_grad`).

    Example:
        >>> is_grad_enabled()
        True
    """
    return _local.modes.grad_enabled


def _set_grad_enabled(mode: bool) -> None:
    _local.modes.grad_enabled = mode


# ----------------------------------------------------------------------------- decorator support


def _wrap_generator(make_context: Callable[[], Any], func: Callable) -> Callable:
    """Wrap a generator function so that only its own steps run in the context (PyTorch's rule).

    Between resumptions the caller's mode is back in force.
    """

    @functools.wraps(func)
    def generator_context(*args: Any, **kwargs: Any) -> Any:
        gen = func(*args, **kwargs)
        try:
            with make_context():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_context():
                        gen.close()
                    raise
                except BaseException:
                    with make_context():
                        response = gen.throw(*sys.exc_info())
                else:
                    with make_context():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return generator_context


class _DecoratorContextManager:
    """A context manager that also decorates functions (a fresh context per call) and generator functions."""

    def __call__(self, func: F) -> F:
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(self.clone, func)  # type: ignore[return-value]

        @functools.wraps(func)
        def decorate_context(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return func(*args, **kwargs)

        return decorate_context  # type: ignore[return-value]

    def __enter__(self) -> None:  # pragma: no cover - every subclass defines it (as torch's)
        raise NotImplementedError

    def __exit__(self, *exc: object) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def clone(self) -> _DecoratorContextManager:
        """A new context manager of the same kind (one per decorated call)."""
        return self.__class__()


class no_grad(_DecoratorContextManager):
    """Disable graph recording in this thread (context manager or decorator), like `torch.no_grad`.

    Example:
        >>> from tinygrad_lab import Value
        >>> w = Value([1.0, 2.0], requires_grad=True)
        >>> with no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
        >>> @no_grad()
        ... def double(x):
        ...     return x * 2
        >>> double(w).requires_grad
        False
    """

    def __enter__(self) -> None:
        modes = _local.modes
        self.prev = modes.grad_enabled
        modes.grad_enabled = False

    def __exit__(self, *exc: object) -> None:
        _local.modes.grad_enabled = self.prev


class enable_grad(_DecoratorContextManager):
    """Re-enable graph recording in this thread inside `no_grad` (context manager or decorator).

    Example:
        >>> from tinygrad_lab import Value
        >>> with no_grad():
        ...     with enable_grad():
        ...         y = Value(1.0, requires_grad=True) * 2
        >>> y.requires_grad
        True
    """

    def __enter__(self) -> None:
        modes = _local.modes
        self.prev = modes.grad_enabled
        modes.grad_enabled = True

    def __exit__(self, *exc: object) -> None:
        _local.modes.grad_enabled = self.prev


class set_grad_enabled(_DecoratorContextManager):
    """Turn graph recording on or off in this thread, as `torch.set_grad_enabled`.

    Three uses: a plain call `set_grad_enabled(False)` (takes effect at once),
    a context manager `with set_grad_enabled(False): ...` (restores the
    previous mode on exit) and a decorator `@set_grad_enabled(False)` (leaves
    the mode alone when the decorator is built; each call runs in the mode and
    restores the caller's mode afterwards).

    Example:
        >>> with set_grad_enabled(False):
        ...     is_grad_enabled()
        False
        >>> @set_grad_enabled(False)
        ... def inside():
        ...     return is_grad_enabled()
        >>> inside(), is_grad_enabled()
        (False, True)
        >>> _ = set_grad_enabled(False); is_grad_enabled()
        False
        >>> _ = set_grad_enabled(True); is_grad_enabled()
        True
    """

    def __init__(self, mode: bool) -> None:
        self.prev = _local.modes.grad_enabled
        self.mode = bool(mode)
        _set_grad_enabled(self.mode)

    def __call__(self, func: F) -> F:
        _set_grad_enabled(self.prev)  # a decorator: building it must not change the mode
        return super().__call__(func)

    def __enter__(self) -> None:
        _set_grad_enabled(self.mode)

    def __exit__(self, *exc: object) -> None:
        _set_grad_enabled(self.prev)

    def clone(self) -> set_grad_enabled:
        """A fresh `set_grad_enabled` with the same mode (it records the mode in force when it is made)."""
        return self.__class__(self.mode)
