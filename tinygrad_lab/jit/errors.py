"""The jit package's errors: `JitError` (a step that cannot be replayed faithfully) and `JitWarning`."""

__all__ = ["JitError", "JitWarning"]


class JitError(RuntimeError):
    """A function given to `jit` cannot be captured and replayed faithfully (the message says why)."""


class JitWarning(RuntimeWarning):
    """A jitted function's two recordings differed: it keeps running, eagerly (the message says why)."""


class _Unreplayable(JitError):
    """A step that ran completely while captured but cannot be replayed: it runs eagerly (a JitWarning)."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result
