"""The function under check at its point: which inputs are checked, calling func, moving inputs in place.

A gradient check calls `func` many times at slightly moved inputs. :class:`Point` holds the call at
the original inputs (its outputs flattened to one float64 vector) and calls `func` again after a
perturbation; :func:`checked_slots` picks the inputs whose gradients are checked;
:func:`float64_inputs` gives float64 copies of lower-precision float inputs, so that finite
differences are computed in float64.

Example:
    >>> x = Value([1.0, 2.0], requires_grad=True)
    >>> point = Point(lambda x: x * x, (x,), checked_slots((x,), None, "gradcheck"), "gradcheck")
    >>> point.f0
    array([1., 4.])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..autograd import Value

__all__ = [
    "Slot", "Point", "as_tuple", "default_name", "checked_slots", "call_func", "differentiable_outputs",
    "writable", "float64_inputs",
]


@dataclass
class Slot:
    """An input whose gradient is checked: its position in `inputs`, its name and its Value.

    Example:
        >>> Slot(0, "input 0", Value([1.0, 2.0], requires_grad=True)).shape
        (2,)
    """

    position: int
    name: str
    value: Value

    @property
    def shape(self) -> tuple:
        """The input's shape."""
        return self.value.shape


def as_tuple(inputs: Any) -> tuple:
    """`inputs` as a tuple (a single input becomes a 1-tuple).

    Example:
        >>> as_tuple([1, 2]), as_tuple(3)
        ((1, 2), (3,))
    """
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


def default_name(position: int, value: Any) -> str:
    """How reports name an input: 'input 0', with the Value's label when it has one.

    Example:
        >>> default_name(1, Value([1.0], label="w"))
        "input 1 ('w')"
    """
    label = getattr(value, "label", None)
    return f"input {position}" + (f" ({label!r})" if label else "")


def _describe(x: Any) -> str:
    if isinstance(x, Value):
        return f"Value(shape={x.shape}, dtype={x.dtype}, requires_grad={x.requires_grad})"
    return type(x).__name__


def checked_slots(inputs: tuple, names: Sequence[str] | None, caller: str) -> list[Slot]:
    """The floating-point input Values that require grad, named; a clear error when there is none.

    Example:
        >>> [s.name for s in checked_slots((Value([1.0], requires_grad=True), 2.0), None, "gradcheck")]
        ['input 0']
    """
    slots = [
        Slot(position, names[position] if names is not None else default_name(position, value), value)
        for position, value in enumerate(inputs)
        if isinstance(value, Value) and value.requires_grad and value.dtype.kind == "f"
    ]
    if not slots:
        kinds = ", ".join(_describe(x) for x in inputs) or "nothing"
        raise ValueError(f"{caller} needs at least one input Value with requires_grad=True (a floating-point "
                         f"Value); got {kinds}. Create inputs with Value(data, requires_grad=True).")
    return slots


def _refuse_in_place_changes(before: list[tuple[int, Value, np.ndarray]], title: str) -> None:
    """Restore every input Value whose data func changed in place, and say which one (a check calls func many
    times at the same point, so a func that moves its inputs makes every difference meaningless)."""
    changed = []
    for position, x, data in before:
        now = x.data
        if now.shape != data.shape or now.dtype != data.dtype or not np.array_equal(now, data, equal_nan=True):
            changed.append(position)
            if now.shape == data.shape and now.dtype == data.dtype and now.flags.writeable:
                now[...] = data  # the user's own array gets its values back
            else:
                x.data = data
    if changed:
        which = ", ".join(f"input {p}" for p in changed)
        raise ValueError(f"{title}: func changed the data of {which} in place (restored); a gradient check calls "
                         "func many times at the same inputs, so func must not modify them: compute on a copy "
                         "(y = x * 1.0) or with ops that return new Values")


def call_func(func: Callable, inputs: tuple, caller: str) -> tuple:
    """Call `func` and return its outputs as a tuple of Values (with a clear error for anything else, and for a
    func that changes the data of its input Values in place: they are restored).

    Example:
        >>> len(call_func(lambda x: (x, x * 2), (Value([1.0]),), "gradcheck"))
        2
    """
    before = [(p, x, x.data.copy()) for p, x in enumerate(inputs) if isinstance(x, Value)]
    result = func(*inputs)
    _refuse_in_place_changes(before, caller)
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    for k, out in enumerate(outputs):
        if not isinstance(out, Value):
            extra = (" (did you use .data, .numpy() or a NumPy function? those leave the graph)"
                     if isinstance(out, (np.ndarray, np.generic, float)) else "")
            raise TypeError(f"{caller}: func must return a Value or a tuple of Values, but output {k} is "
                            f"{type(out).__name__}{extra}")
    return tuple(outputs)


def _float_outputs(outputs: tuple) -> list[int]:
    return [k for k, out in enumerate(outputs) if out.dtype.kind == "f"]


def differentiable_outputs(func: Callable, inputs: tuple, caller: str) -> list[Value]:
    """The floating-point outputs of a call of `func` (the ones a gradient check differentiates).

    Example:
        >>> [o.dtype.name for o in differentiable_outputs(lambda x: (x > 0, x * 2), (Value([1.0]),), "check")]
        ['float64']
    """
    outputs = call_func(func, inputs, caller)
    return [outputs[k] for k in _float_outputs(outputs)]


class Point:
    """`func` called at `inputs`, the point where its gradients are checked.

    Keeps the outputs, which of them are checked (the floating-point ones: `indices`, `checked`) and their
    values as one flat float64 vector `f0`; `evaluate()` computes that vector again after a perturbation.

    Example:
        >>> x = Value([1.0, 2.0], requires_grad=True)
        >>> point = Point(lambda x: (x.sum(), x > 1), (x,), checked_slots((x,), None, "check"), "check")
        >>> point.indices, point.rows()
        ([0], [(0, slice(0, 1, None))])
    """

    def __init__(self, func: Callable, inputs: tuple, slots: list[Slot], title: str) -> None:
        self.func, self.inputs, self.slots, self.title = func, inputs, slots, title
        self.outputs = call_func(func, inputs, title)
        self.indices = _float_outputs(self.outputs)
        if not self.indices:
            raise ValueError(f"{title}: func returned no floating-point output to differentiate "
                             f"(got dtypes {[str(o.dtype) for o in self.outputs]})")
        self.checked = [self.outputs[k] for k in self.indices]
        self.shapes = [out.shape for out in self.checked]

    @cached_property
    def f0(self) -> np.ndarray:
        """The checked outputs at the original inputs, flattened into one float64 vector."""
        return self.flat(self.outputs)

    def flat(self, outputs: tuple) -> np.ndarray:
        """The checked ones of `outputs` as one flat float64 vector."""
        return np.concatenate([np.asarray(outputs[k].data, dtype=np.float64).ravel() for k in self.indices])

    def rows(self) -> list[tuple[int, slice]]:
        """(output index, its rows in a Jacobian) for each checked output."""
        result, start = [], 0
        for out_index, out in zip(self.indices, self.checked):
            result.append((out_index, slice(start, start + out.size)))
            start += out.size
        return result

    def call(self) -> list[Value]:
        """The checked outputs of a new call of func (a new graph)."""
        outputs = call_func(self.func, self.inputs, self.title)
        return [outputs[k] for k in self.indices]

    def evaluate(self) -> np.ndarray:
        """f0 at the current (perturbed) inputs; func must return the same structure each call."""
        outputs = call_func(self.func, self.inputs, self.title)
        got = [outputs[k].shape for k in self.indices] if len(outputs) > max(self.indices) else None
        if got != self.shapes:
            raise RuntimeError(f"{self.title}: func returned outputs of shapes {got} after an input was perturbed "
                               f"by eps, but {self.shapes} at the original inputs; func must return the same "
                               "structure each call")
        return self.flat(outputs)


@contextmanager
def writable(slots: list[Slot]) -> Iterator[None]:
    """Make every checked input's data writable for in-place perturbation; restore the arrays afterwards.

    Example:
        >>> x = Value([1.0, 2.0], requires_grad=True)
        >>> x.data.setflags(write=False)
        >>> with writable([Slot(0, "x", x)]):
        ...     x.data.flags.writeable
        True
        >>> x.data.flags.writeable
        False
    """
    saved = []
    for slot in slots:
        if not slot.value.data.flags.writeable:
            saved.append((slot, slot.value.data))
            slot.value.data = slot.value.data.copy()
    try:
        yield
    finally:
        for slot, data in saved:
            slot.value.data = data


def float64_inputs(inputs: tuple) -> tuple[tuple, list[tuple[int, np.dtype]]]:
    """The inputs with every lower-precision float Value replaced by a float64 copy, and the (position,
    original dtype) of each replaced Value that requires grad.

    Finite differences in float32 with eps = 1e-6 are mostly round-off (float32 resolves about 1e-7
    relative), so a check in float32 blames kinks and constant factors that do not exist. The copies
    keep the label and requires_grad; the user's Values are not touched.

    Example:
        >>> x = Value(np.array([0.3], dtype=np.float32), requires_grad=True)
        >>> copies, lowered = float64_inputs((x, 2.0))
        >>> copies[0].dtype, copies[0] is x, lowered
        (dtype('float64'), False, [(0, dtype('float32'))])
    """
    converted, lowered = [], []
    for position, x in enumerate(inputs):
        if isinstance(x, Value) and x.dtype.kind == "f" and x.dtype.itemsize < 8:
            if x.requires_grad:
                lowered.append((position, x.dtype))
            x = Value(x.data.astype(np.float64), requires_grad=x.requires_grad, label=x.label)
        converted.append(x)
    return tuple(converted), lowered
