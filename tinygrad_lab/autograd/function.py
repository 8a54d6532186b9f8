"""The op protocol (`Function`), the registry of the library's ops (`OPS`) and node creation.

Every node of the graph, whether an op's result, a constant or a leaf made by
`Value(...)`, is filled by one function, `make_node`. An op's result records
its `Function` (`_op`), its parents (`_prev`) and its static arguments
(`_args`) when grad mode is on in this thread and a parent requires grad.

Example:
    >>> from tinygrad_lab import Value
    >>> class Cube(Function):
    ...     name = "cube"
    ...     @staticmethod
    ...     def forward(x):
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(g, out, x):
    ...         return (g * 3 * x * x,)
    >>> x = Value(2.0, requires_grad=True)
    >>> Cube.apply(x).backward(); float(x.grad.data)
    12.0
    >>> "cube" in OPS          # only the library's own ops (tinygrad_lab.ops) are registered
    False
"""
from __future__ import annotations

import itertools
import operator
from typing import Any

import numpy as np

from ..utils.frames import user_location
from .anomaly_mode import check_finite
from .grad_mode import _MODES

__all__ = ["Function", "OPS", "make_node", "constant", "creation_order"]

OPS: dict[str, type[Function]] = {}
"""The library's own ops by name: every `Function` subclass defined in a `tinygrad_lab.ops` module.

The gradient tests check that each one has a row in the op table. Ops written
elsewhere (user code, tests, examples) are never registered.
"""

_REGISTERED_PACKAGE = "tinygrad_lab.ops."


class Function:
    """Base class of every differentiable op; subclass it to write your own.

    `forward(*arrays, **static_args)` computes the result on NumPy arrays.
    `backward(g, out, *inputs, **static_args)` returns one gradient per input
    (or None). It receives arrays in an ordinary backward and `Value`s under
    `create_graph=True`; written with operators and `tinygrad_lab.ops`
    functions it serves both, so higher-order gradients come for free.
    A gradient may have the broadcast output's shape: the engine sums it back
    to the input's shape. `name` defaults to the class name in lower case.

    Example:
        >>> from tinygrad_lab import Value
        >>> class Square(Function):
        ...     @staticmethod
        ...     def forward(x):
        ...         return x * x
        ...     @staticmethod
        ...     def backward(g, out, x):
        ...         return (2 * g * x,)
        >>> x = Value(3.0, requires_grad=True)
        >>> y = Square.apply(x); y.backward()
        >>> Square.name, float(x.grad.data)
        ('square', 6.0)
    """

    name = "function"
    #: True: when the first input does not require grad, an ordinary backward pass passes ``needs_input_grad``
    #: (one bool per input, as PyTorch's ``ctx.needs_input_grad``), so the rule can skip that gradient (e.g. a
    #: first layer's input: a matrix product nobody needs).
    needs_input_grad_hint = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        if cls.__module__.startswith(_REGISTERED_PACKAGE):
            other = OPS.get(cls.name)
            if other is not None and (other.__module__, other.__qualname__) != (cls.__module__, cls.__qualname__):
                raise ValueError(f"two ops are named {cls.name!r}: {other.__module__}.{other.__qualname__} and "
                                 f"{cls.__module__}.{cls.__qualname__}; op names must be unique")
            OPS[cls.name] = cls

    @staticmethod
    def forward(*arrays: Any, **args: Any) -> Any:  # pragma: no cover - abstract
        """The op on NumPy arrays (static arguments as keywords); returns an array (or a NumPy scalar).

        Typed loosely on purpose: subclasses declare their own arrays and static arguments (or set `forward`
        to a NumPy function or an `operator` function), and the library's dispatchers may pass the static
        arguments positionally.
        """
        raise NotImplementedError("a Function subclass must define forward(*arrays)")

    @staticmethod
    def backward(g: Any, out: Any, /, *inputs: Any, **args: Any) -> tuple[Any, ...]:  # pragma: no cover - abstract
        """One gradient per input (None for inputs without one), given the output's gradient `g`."""
        raise NotImplementedError("a Function subclass must define backward(g, out, *inputs)")

    @classmethod
    def apply(cls, *inputs: Any, **args: Any) -> Value:
        """Run the op on values (or arrays/numbers, taken as constants) and record it."""
        values = inputs
        for x in inputs:
            if not isinstance(x, Value):
                values = tuple(v if isinstance(v, Value) else Value(v) for v in inputs)
                break
        if len(values) == 1:  # the common unary case, without building an argument list
            data = cls.forward(values[0].data, **args) if args else cls.forward(values[0].data)
        else:
            data = cls.forward(*[v.data for v in values], **args)
        if not isinstance(data, (np.ndarray, np.generic)):
            data = np.asarray(data)
        return make_node(cls, data, values, args or None)


def make_node(op: type[Function] | None, data: Any, parents: tuple = (), args: dict | None = None,
              requires_grad: bool = False, label: str | None = None, node: Value | None = None) -> Value:
    """Fill every slot of a node (the one place nodes are made): an op's result, a constant or a leaf.

    With an `op`, the node records it when grad mode is on in this thread and a
    parent requires grad. Without one (`op=None`: constants and leaves) the node
    is a leaf with the given `requires_grad`. `node` is an existing, empty Value
    to fill (`Value.__init__` passes itself); otherwise a new Value is made.
    `data` is an ndarray, or a NumPy scalar for 0-d results (NumPy's own result
    type there, which has the same attributes; converting it would cost more
    than the op on scalar graphs).

    Example:
        >>> from tinygrad_lab import Value
        >>> c = make_node(None, np.array([1.0, 2.0]))
        >>> c.requires_grad, c.is_leaf
        (False, True)
    """
    out = _new_value(Value) if node is None else node
    out.data = data
    out._grad = None
    out.label = label
    out._retains_grad = False
    out._seq = _next_seq()
    out._calls = ()
    if op is None:  # a leaf or a constant: nothing to record or check
        out.requires_grad = requires_grad
        out._op = None
        out._prev = ()
        out._args = None
        return out
    modes = _MODES.get()  # both switches of this thread in one read per op
    record = False
    if modes.grad_enabled:
        for p in parents:
            if p.requires_grad:
                record = True
                break
    if record:
        out.requires_grad = True
        out._op = op
        out._prev = parents
        out._args = args
    else:
        out.requires_grad = False
        out._op = None
        out._prev = ()
        out._args = None
    if modes.anomaly:
        out._origin = user_location()
        check_finite(data, "forward", op.name, out._origin)
    return out


def constant(x: Any, like: np.ndarray | None = None) -> Value:
    """`x` as a constant node; Python numbers take the float dtype of the array `like`, when given, and Python
    integers its integer dtype (as NumPy and PyTorch: an int32 Value plus 2 stays int32).

    Arrays and NumPy scalars are kept as they are (jit's traced arrays too).

    Example:
        >>> constant(2, np.zeros(1, np.float32)).dtype, constant(2, np.zeros(1, np.int32)).dtype, constant(2).dtype
        (dtype('float32'), dtype('int32'), dtype('int64'))
    """
    kind = "" if like is None else like.dtype.kind
    if kind == "f" and isinstance(x, (int, float)):
        data = like.dtype.type(x)   # type: ignore[union-attr]  # kind is set only when like is given
    elif kind in ("i", "u") and isinstance(x, int):
        try:
            data = like.dtype.type(x)   # type: ignore[union-attr]
        except OverflowError:
            raise OverflowError(f"{x} does not fit the Value's dtype {like.dtype} (NumPy refuses it, PyTorch would "  # type: ignore[union-attr]
                                f"wrap it around); convert the Value first, e.g. v.astype(np.int64)") from None
    else:
        data = x if isinstance(x, (np.ndarray, np.generic)) else np.asarray(x)
    return make_node(None, data)


_new_value = object.__new__
_next_seq = itertools.count().__next__  # creation order: always a topological order of the graph
# For the package (not user API): take a creation number without making a node. A module call takes one
# before its forward, so the values it makes are exactly those numbered after it (nn.call_tags).
next_creation_number = _next_seq

creation_order = operator.attrgetter("_seq")
"""Sort key of nodes in creation order (parents before children), as the engine and drawings use.

Example:
    >>> from tinygrad_lab import Value
    >>> a = Value(1.0); b = a * 2
    >>> sorted([b, a], key=creation_order)[0] is a
    True
"""

from .value import Value  # noqa: E402  (Value's methods call make_node; this module fills Values)
