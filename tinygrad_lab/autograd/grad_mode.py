"""Grad mode: whether ops record the graph, per thread (as `torch/autograd/grad_mode.py`).

`no_grad`, `enable_grad` and `set_grad_enabled` are context managers and
decorators; `set_grad_enabled(mode)` also works as a plain call. The mode is
per thread: a `no_grad` block in one thread never stops another thread from
recording, and each new thread starts with grad mode on, as in PyTorch.

The switches live in a context variable (as NumPy's error state does), which
every thread has its own of; an asyncio task also gets its own copy, so a
`no_grad` block in one task never leaks into another task on the same thread.
Its value is one of four immutable `Modes` (grad mode x anomaly mode), so
every op reads both switches with one `_MODES.get()` (`make_node`), a third
of the cost of a `threading.local` read.

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
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class Modes:
    """The switches every op reads: grad mode and anomaly mode (immutable; `set_modes` swaps them).

    Example:
        >>> modes = current_modes()
        >>> modes.grad_enabled, modes.anomaly
        (True, False)
    """

    __slots__ = ("grad_enabled", "anomaly")

    def __init__(self, grad_enabled: bool, anomaly: bool) -> None:
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly

    def __repr__(self) -> str:
        return f"Modes(grad_enabled={self.grad_enabled}, anomaly={self.anomaly})"


_ALL_MODES = {(grad, anomaly): Modes(grad, anomaly) for grad in (True, False) for anomaly in (True, False)}

_MODES: ContextVar[Modes] = ContextVar("tinygrad_lab_modes", default=_ALL_MODES[True, False])
"""The current switches (a new thread starts from the default: grad mode on, anomaly mode off)."""


def current_modes() -> Modes:
    """The switches in force in this thread (and asyncio task).

    Example:
        >>> current_modes() is current_modes()
        True
    """
    return _MODES.get()


def set_modes(grad_enabled: bool | None = None, anomaly: bool | None = None) -> None:
    """Turn grad mode and/or anomaly mode on or off in this thread (None keeps a switch as it is).

    Example:
        >>> set_modes(grad_enabled=False); is_grad_enabled()
        False
        >>> set_modes(grad_enabled=True); is_grad_enabled()
        True
    """
    modes = _MODES.get()
    _MODES.set(_ALL_MODES[modes.grad_enabled if grad_enabled is None else bool(grad_enabled),
                          modes.anomaly if anomaly is None else bool(anomaly)])


def is_grad_enabled() -> bool:
    """True when ops record the graph in this thread (outside `no_grad`).

    Example:
        >>> is_grad_enabled()
        True
    """
    return _MODES.get().grad_enabled


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


class _GradModeSwitch(_DecoratorContextManager):
    """Grad mode set to the class's `mode` inside the block (or the decorated call), the caller's restored after."""

    mode: bool

    def __enter__(self) -> None:
        self.prev = _MODES.get().grad_enabled
        set_modes(grad_enabled=self.mode)

    def __exit__(self, *exc: object) -> None:
        set_modes(grad_enabled=self.prev)


class no_grad(_GradModeSwitch):
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

    mode = False


class enable_grad(_GradModeSwitch):
    """Re-enable graph recording in this thread inside `no_grad` (context manager or decorator).

    Example:
        >>> from tinygrad_lab import Value
        >>> with no_grad():
        ...     with enable_grad():
        ...         y = Value(1.0, requires_grad=True) * 2
        >>> y.requires_grad
        True
    """

    mode = True


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
        self.prev = _MODES.get().grad_enabled
        self.mode = bool(mode)
        set_modes(grad_enabled=self.mode)

    def __call__(self, func: F) -> F:
        set_modes(grad_enabled=self.prev)  # a decorator: building it must not change the mode
        return super().__call__(func)

    def __enter__(self) -> None:
        set_modes(grad_enabled=self.mode)

    def __exit__(self, *exc: object) -> None:
        set_modes(grad_enabled=self.prev)

    def clone(self) -> set_grad_enabled:
        """A fresh `set_grad_enabled` with the same mode (it records the mode in force when it is made)."""
        return self.__class__(self.mode)
