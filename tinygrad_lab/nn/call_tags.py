"""Module-call tags for drawings: each `Module.__call__` tags the values it made with `(module, inputs)`.

`Value._calls` holds these tags, innermost call first; `tinygrad_lab.viz` reads them to draw one cluster per
module call. The inputs are held weakly (`CallInputs`), so a tag never keeps a graph alive after `backward()`
frees it.

Example:
    >>> from tinygrad_lab import Value, nn
    >>> x = Value([[1.0, 2.0]])
    >>> layer = nn.Linear(2, 1)
    >>> module, inputs = layer(x)._calls[0]
    >>> module is layer, inputs[0] is x
    (True, True)
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from weakref import ref

from ..autograd import Value
from .parameter import Parameter

if TYPE_CHECKING:
    from .module import Module

__all__ = ["CallInputs"]



class CallInputs(ref):
    """The `Value` inputs of one module call, held weakly: `inputs[k]` is the input, None once freed.

    Each call tags the values it made with `(module, inputs)` in `Value._calls`, innermost call
    first; drawings (`tinygrad_lab.viz`) read the tags to draw module clusters. A weak
    reference to the first input (to the others in `.more`) lets `backward()` free the inputs
    with the rest of the graph.
    """

    __slots__ = ("more",)
    more: tuple[CallInputs, ...]  # weak references to the inputs after the first

    def __len__(self) -> int:
        return 1 + len(getattr(self, "more", ()))

    def __iter__(self) -> Iterator[Any]:
        yield self()
        for r in getattr(self, "more", ()):
            yield r()

    def __getitem__(self, k: Any) -> Any:
        return tuple(self)[k]

    def __repr__(self) -> str:
        return f"CallInputs{tuple(self)!r}"

    def __reduce__(self) -> tuple:  # deepcopy and pickle: the copy holds its inputs as a tuple
        return tuple, (tuple(self),)

    @classmethod
    def of(cls, args: tuple) -> CallInputs | tuple[()]:
        """The `Value`s among `args`, held weakly (an empty tuple when there are none)."""
        inputs = None
        for arg in args:
            if isinstance(arg, Value):
                if inputs is None:
                    inputs = cls(arg)
                    inputs.more = ()
                else:
                    inputs.more += (cls(arg),)
        return () if inputs is None else inputs

    @classmethod
    def tag(cls, module: Module, args: tuple, out: Any) -> None:
        """Tag the new `Value`s in `out` (a Value or a tuple of them) with one shared `(module, inputs)`.

        Inputs passed through (`Identity`) and Parameters stay untagged: tags cannot pile up on
        long-lived values. The shared tag tells a call's outputs apart from other calls'.
        """
        call: tuple[Module, CallInputs | tuple[()]] | None = None
        for v in (out if type(out) is tuple else (out,)):
            if not isinstance(v, Value) or isinstance(v, Parameter):
                continue
            for arg in args:
                if arg is v:  # passed through, not made by this call
                    break
            else:
                call = call or (module, cls.of(args))
                v._calls += (call,)
