"""The jit package's errors: `JitError` (a step that cannot be replayed faithfully) and `JitWarning`."""

__all__ = ["JitError", "JitWarning"]


class JitError(RuntimeError):
    """A function given to `jit` cannot be captured and replayed faithfully (the message says why)."""


class JitWarning(RuntimeWarning):
    """A jitted function's two recordings differed: it keeps running, eagerly (the message says why)."""
