"""The autograd engine: `Value`, the `Function` op protocol, `backward`, `grad` and the grad modes.

A `Value` wraps a NumPy array. Every op applied to values that require grad
records its `Function` (`_op`), its parents (`_prev`) and its static arguments
(`_args`) on the result, which makes the graph. `backward()` sorts that graph
topologically (iteratively, so deep graphs are fine) and walks it in reverse,
calling each op's `backward` rule (the chain rule).

Example:
    >>> a = Value(2.0, requires_grad=True)
    >>> (a * a + a.exp()).backward()
    >>> round(float(a.grad.data), 6)   # 2a + exp(a)
    11.389056
"""
from __future__ import annotations

import functools
import itertools
import linecache
import operator
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .utils.capture import recorder as _capture_recorder

__all__ = [
    "Value", "Function", "AnomalyError", "no_grad", "enable_grad", "is_grad_enabled",
    "set_grad_enabled", "grad", "detect_anomaly",
]

ArrayLike = Any


class _State:
    """Global switches read by every op (module attributes, kept in one place)."""

    grad_enabled = True
    anomaly = False


_state = _State()


# ----------------------------------------------------------------------------- grad modes

class _GradMode:
    """Base of `no_grad` / `enable_grad`: a context manager that is also a decorator."""

    enabled = True

    def __enter__(self) -> None:
        self._prev = _state.grad_enabled
        _state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self._prev

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Disable graph recording (context manager or decorator), like `torch.no_grad`.

    Example:
        >>> w = Value([1.0, 2.0], requires_grad=True)
        >>> with no_grad():
        ...     y = w * 2
        >>> y.requires_grad
        False
    """

    enabled = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside `no_grad` (context manager or decorator).

    Example:
        >>> with no_grad():
        ...     with enable_grad():
        ...         y = Value(1.0, requires_grad=True) * 2
        >>> y.requires_grad
        True
    """

    enabled = True


class set_grad_enabled(_GradMode):
    """Turn graph recording on or off: `with set_grad_enabled(False): ...`.

    Example:
        >>> with set_grad_enabled(False):
        ...     is_grad_enabled()
        False
    """

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)
        self._prev = _state.grad_enabled
        _state.grad_enabled = self.enabled

    def __enter__(self) -> None:
        pass


def is_grad_enabled() -> bool:
    """True when ops record the graph (outside `no_grad`).

    Example:
        >>> is_grad_enabled()
        True
    """
    return _state.grad_enabled


# ----------------------------------------------------------------------------- anomaly mode

class AnomalyError(FloatingPointError):
    """Raised in `detect_anomaly()` mode by the first op that produces NaN or inf."""


class detect_anomaly:
    """Find the first op that produces NaN or inf, in forward or in backward.

    Inside the context, every op's output (and every gradient an op's backward
    returns) is checked; the first non-finite one raises `AnomalyError` naming
    the op and the line of your code that created the node.

    Example:
        >>> x = Value([0.0, 1.0], requires_grad=True)
        >>> with detect_anomaly():
        ...     y = x.log()                      # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        AnomalyError: forward of 'log' produced -inf ...
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> detect_anomaly:
        self._prev = _state.anomaly
        _state.anomaly = self.check_nan
        return self

    def __exit__(self, *exc: object) -> None:
        _state.anomaly = self._prev


def _user_frame() -> str:
    """'file:line: code' of the innermost frame outside tinygrad_lab (where the user made the node)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("tinygrad_lab"):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {code}"


def _check_finite(array: Any, what: str, op_name: str, where: str) -> None:
    array = np.asarray(array)
    if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        bad = "nan" if np.any(np.isnan(array)) else "inf"
        raise AnomalyError(f"{what} of '{op_name}' produced {bad}; the node was created at {where}")


# ----------------------------------------------------------------------------- Function: the op protocol

OPS: dict[str, type[Function]] = {}
"""Registry of the library's own ops by name (the gradient tests check that each one is covered)."""


class Function:
    """Base class of every differentiable op; subclass it to write your own.

    `forward(*arrays, **static_args)` computes the result on NumPy arrays.
    `backward(g, out, *inputs, **static_args)` returns one gradient per input
    (or None). It receives arrays in an ordinary backward and `Value`s under
    `create_graph=True`; written with operators and `tinygrad_lab.ops`
    functions it serves both, so higher-order gradients come for free.

    Example:
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
    """

    name = "function"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        defined_in = sys._getframe(1).f_code.co_filename  # the file whose class statement made cls
        if cls.__module__.startswith("tinygrad_lab.") and not defined_in.startswith("<"):
            OPS[cls.name] = cls

    @staticmethod
    def forward(*arrays: np.ndarray, **args: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define forward(*arrays)")

    @staticmethod
    def backward(g: Any, out: Any, *inputs: Any, **args: Any) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define backward(g, out, *inputs)")

    @classmethod
    def apply(cls, *inputs: Any, **args: Any) -> Value:
        """Run the op on values (or arrays/numbers, taken as constants) and record it."""
        values = inputs
        for x in inputs:
            if not isinstance(x, Value):
                values = tuple(v if isinstance(v, Value) else Value(v) for v in inputs)
                break
        data = cls.forward(*[v.data for v in values], **args)
        if not isinstance(data, (np.ndarray, np.generic)):
            data = np.asarray(data)
        return _make(cls, data, values, args or None)


def _make(op: type[Function], data: Any, parents: tuple, args: dict | None = None) -> Value:
    """Create the result node of `op` (the one place every op goes through).

    `data` is an ndarray, or a NumPy scalar for 0-d results (NumPy's own result
    type there, which has the same attributes; converting it would cost more
    than the op on scalar graphs).
    """
    out = _new_value(Value)
    out.data = data
    out.grad = None
    out.label = None
    out._retains_grad = False
    out._seq = _next_seq()
    out._calls = ()
    record = False
    if _state.grad_enabled:
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
    if _state.anomaly:
        out._origin = _user_frame()
        _check_finite(data, "forward", op.name, out._origin)
    return out


_new_value = object.__new__
_next_seq = itertools.count().__next__  # creation order: always a topological order of the graph


# ----------------------------------------------------------------------------- Value

def _as_array(data: Any, dtype: Any) -> np.ndarray:
    """Python numbers and lists become float64 (as PyTorch users expect); arrays keep their dtype."""
    if isinstance(data, Value):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.array(data)
    array = np.array(data)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.dtype.kind not in "fc":
        raise TypeError(f"Value() takes numbers, lists of numbers or NumPy arrays; got {type(data).__name__} "
                        f"with dtype {array.dtype}")
    return array


def _const(x: Any, like: np.ndarray) -> Value:
    """Wrap a Python number or array operand as a constant Value (floats keep the other operand's dtype)."""
    if isinstance(x, (int, float)) and like.dtype.kind == "f":
        data = like.dtype.type(x)
    else:
        data = x if isinstance(x, np.ndarray) else np.asarray(x)   # arrays as they are (jit's traced ones too)
    v = _new_value(Value)
    v.data = data
    v.grad = None
    v.requires_grad = False
    v.label = None
    v._op = None
    v._prev = ()
    v._args = None
    v._retains_grad = False
    v._seq = _next_seq()
    v._calls = ()
    return v


class Value:
    """A NumPy array that records the operations applied to it, for reverse-mode gradients.

    `Value(data, requires_grad=False, dtype=None, label=None)`: Python numbers
    and lists become float64; NumPy arrays keep their dtype (copied) unless
    `dtype` is given. Only floating-point values can require grad.

    Example:
        >>> x = Value([1.0, 2.0, 3.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        Value([2., 4., 6.])
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_prev", "_args", "_retains_grad",
                 "_seq", "_calls", "_origin", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None,
                 label: str | None = None) -> None:
        self.data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(f"only floating-point Values can require gradients, but this one has dtype "
                            f"{self.data.dtype}; pass dtype=np.float64 (or float32) to convert it")
        self.grad: Value | None = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._op: type[Function] | None = None
        self._prev: tuple | None = ()
        self._args: dict | None = None
        self._retains_grad = False
        self._seq = _next_seq()
        self._calls: tuple = ()

    # -- array-like attributes
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of `data`."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions of `data`."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of `data`."""
        return self.data.dtype

    @property
    def size(self) -> int:
        """The number of elements of `data`."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for values not produced by a recorded op (inputs, parameters, constants)."""
        return self._op is None

    @property
    def grad_fn(self) -> type[Function] | None:
        """The op that produced this value (None for leaves), as in PyTorch."""
        return self._op

    def __len__(self) -> int:
        return len(self.data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.data, dtype=dtype)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    __hash__ = object.__hash__

    def item(self) -> float | int | bool:
        """The value of a one-element Value as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a Value with one element, but this one has shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (no copy), as `Tensor.numpy()`."""
        return np.asarray(self.data)

    def tolist(self) -> Any:
        """`data` as (nested) Python lists."""
        return self.data.tolist()

    def detach(self) -> Value:
        """A new leaf sharing `data`, cut from the graph."""
        return _const(self.data, self.data)

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf value after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a Value that does not require grad")
        self._retains_grad = True

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradient: `.grad = None`, or (set_to_none=False) zeros in its place."""
        grad = self.grad
        if grad is None or set_to_none:
            self.grad = None
        elif grad.requires_grad or not isinstance(grad.data, np.ndarray) or not grad.data.flags.writeable:
            self.grad = _const(np.zeros_like(self.data), self.data)
        else:
            grad.data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Value:
        """Set `requires_grad` on a leaf in place and return it."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_() can only change leaves; use detach() first")
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(f"only floating-point Values can require gradients, not dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def astype(self, dtype: Any) -> Value:
        """A differentiable cast to another floating dtype (or a constant for other dtypes)."""
        return _ops.cast(self, dtype)

    def float(self) -> Value:
        """Cast to float32 (as `Tensor.float()`)."""
        return self.astype(np.float32)

    def double(self) -> Value:
        """Cast to float64 (as `Tensor.double()`)."""
        return self.astype(np.float64)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Value(", threshold=64)
        extra = ""
        if self.data.dtype != np.float64:
            extra += f", dtype={self.data.dtype}"
        if self._op is not None:
            extra += f", op={self._op.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        if self.label:
            extra += f", label={self.label!r}"
        return f"Value({body}{extra})"

    # -- backward
    def backward(self, gradient: ArrayLike | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, detect_anomaly: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (the chain rule over the graph).

        `gradient` is required for non-scalar outputs (the vector of the
        vector-Jacobian product). The graph is freed unless `retain_graph`;
        `create_graph=True` records the backward pass too (higher-order
        gradients). `detect_anomaly=True` checks every gradient for NaN/inf.

        Example:
            >>> x = Value([1.0, 2.0], requires_grad=True)
            >>> (x * 3).backward(gradient=[1.0, 1.0]); x.grad
            Value([3., 3.])
        """
        if detect_anomaly and not _state.anomaly:
            with globals()["detect_anomaly"]():
                return self.backward(gradient, retain_graph, create_graph)
        if not self.requires_grad:
            raise RuntimeError("backward() on a Value that does not require grad: no input of its graph has "
                               "requires_grad=True (or it was computed inside no_grad())")
        seed = _seed_gradient(self, gradient, "backward()")
        keep = create_graph if retain_graph is None else retain_graph
        _run_backward((self,), (seed,), keep, create_graph, None)

    # -- differentiable methods (the ops live in ops.py)
    def exp(self) -> Value:
        """e ** self elementwise."""
        return _ops.exp(self)

    def log(self) -> Value:
        """Natural logarithm elementwise."""
        return _ops.log(self)

    def sqrt(self) -> Value:
        """Square root elementwise."""
        return _ops.sqrt(self)

    def abs(self) -> Value:
        """Absolute value elementwise (gradient 0 at 0)."""
        return _ops.abs(self)

    def tanh(self) -> Value:
        """Hyperbolic tangent elementwise."""
        return _ops.tanh(self)

    def sigmoid(self) -> Value:
        """1 / (1 + exp(-self)) elementwise, stable for large |x|."""
        return _ops.sigmoid(self)

    def relu(self) -> Value:
        """max(self, 0) elementwise."""
        return _ops.relu(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Value:
        """Limit to [min, max] (gradient 1 inside, 0 outside), as `Tensor.clamp`."""
        return _ops.clip(self, min, max)

    clamp = clip

    def sum(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Value:
        """Sum over `axis` (None: all); `dim=`/`keepdim=` work too."""
        return _ops.sum(self, axis, keepdims, **torch_names)

    def mean(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Value:
        """Mean over `axis` (None: all)."""
        return _ops.mean(self, axis, keepdims, **torch_names)

    def max(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Value:
        """Largest element over `axis` (values only; ties share the gradient)."""
        return _ops.max(self, axis, keepdims, **torch_names)

    def min(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Value:
        """Smallest element over `axis` (values only; ties share the gradient)."""
        return _ops.min(self, axis, keepdims, **torch_names)

    def logsumexp(self, axis: Any = None, keepdims: bool = False, **torch_names: Any) -> Value:
        """log(sum(exp(self))) over `axis`, stable."""
        return _ops.logsumexp(self, axis, keepdims, **torch_names)

    def softmax(self, axis: int = -1, **torch_names: Any) -> Value:
        """Softmax over `axis` (default last)."""
        return _ops.softmax(self, axis, **torch_names)

    def log_softmax(self, axis: int = -1, **torch_names: Any) -> Value:
        """log(softmax(self)) over `axis`, stable."""
        return _ops.log_softmax(self, axis, **torch_names)

    def reshape(self, *shape: Any) -> Value:
        """A new shape with the same elements: `x.reshape(2, 3)` or `x.reshape((2, 3))`."""
        return _ops.reshape(self, *shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Value:
        """Merge the axes start_dim..end_dim into one (`Tensor.flatten`)."""
        shape = self.shape
        start, end = start_dim % max(self.ndim, 1), end_dim % max(self.ndim, 1)
        return _ops.reshape(self, shape[:start] + (-1,) + shape[end + 1:]) if self.ndim else self.reshape(1)

    def unsqueeze(self, dim: int) -> Value:
        """Insert an axis of length 1 at `dim`."""
        dim = dim % (self.ndim + 1)
        return _ops.reshape(self, self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim: int | None = None) -> Value:
        """Drop axes of length 1 (all, or just `dim` if it has length 1)."""
        if dim is None:
            return _ops.reshape(self, tuple(s for s in self.shape if s != 1))
        dim = dim % max(self.ndim, 1)
        if self.ndim == 0 or self.shape[dim] != 1:
            return self
        return _ops.reshape(self, self.shape[:dim] + self.shape[dim + 1:])

    def transpose(self, dim0: int | None = None, dim1: int | None = None) -> Value:
        """Swap axes dim0 and dim1 (`torch.transpose`); with no arguments reverse all axes."""
        return _ops.transpose(self, dim0, dim1)

    def permute(self, *axes: Any) -> Value:
        """Reorder the axes (`Tensor.permute`)."""
        return _ops.permute(self, *axes)

    @property
    def T(self) -> Value:
        """All axes reversed (the matrix transpose for 2-D)."""
        return _ops.permute(self, tuple(reversed(range(self.ndim))))

    def matmul(self, other: Any) -> Value:
        """Matrix product `self @ other`."""
        return _ops.matmul(self, other)

    def pow(self, exponent: Any) -> Value:
        """self ** exponent."""
        return _ops.pow(self, exponent)

    def draw(self, **kwargs: Any) -> Any:
        """The computation graph of this value as a `graphviz.Digraph` (see `tinygrad_lab.viz.draw_graph`)."""
        from .viz import draw_graph
        return draw_graph(self, **kwargs)

    # -- operators
    def __add__(self, other: Any) -> Value:
        other = other if type(other) is Value else _operand(other, self)
        return _make(Add, self.data + other.data, (self, other))

    def __radd__(self, other: Any) -> Value:
        other = _operand(other, self)
        return _make(Add, other.data + self.data, (other, self))

    def __sub__(self, other: Any) -> Value:
        other = other if type(other) is Value else _operand(other, self)
        return _make(Sub, self.data - other.data, (self, other))

    def __rsub__(self, other: Any) -> Value:
        other = _operand(other, self)
        return _make(Sub, other.data - self.data, (other, self))

    def __mul__(self, other: Any) -> Value:
        other = other if type(other) is Value else _operand(other, self)
        return _make(Mul, self.data * other.data, (self, other))

    def __rmul__(self, other: Any) -> Value:
        other = _operand(other, self)
        return _make(Mul, other.data * self.data, (other, self))

    def __truediv__(self, other: Any) -> Value:
        other = other if type(other) is Value else _operand(other, self)
        return _make(Div, self.data / other.data, (self, other))

    def __rtruediv__(self, other: Any) -> Value:
        other = _operand(other, self)
        return _make(Div, other.data / self.data, (other, self))

    def __neg__(self) -> Value:
        return _make(Neg, -self.data, (self,))

    def __pos__(self) -> Value:
        return self

    def __pow__(self, exponent: Any) -> Value:
        return _ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> Value:
        return _ops.pow(_operand(base, self), self)

    def __matmul__(self, other: Any) -> Value:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Value:
        return _ops.matmul(_operand(other, self), self)

    def __getitem__(self, index: Any) -> Value:
        return _ops.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError("Values are immutable in the graph; build a new one (e.g. with where() or concat()), "
                        "or change `.data` directly outside of any graph")

    # comparisons: non-differentiable boolean Values
    def __lt__(self, other: Any) -> Value:
        return _const(self.data < _data(other), self.data)

    def __le__(self, other: Any) -> Value:
        return _const(self.data <= _data(other), self.data)

    def __gt__(self, other: Any) -> Value:
        return _const(self.data > _data(other), self.data)

    def __ge__(self, other: Any) -> Value:
        return _const(self.data >= _data(other), self.data)

    def __eq__(self, other: Any) -> Value:  # type: ignore[override]
        return _const(self.data == _data(other), self.data)

    def __ne__(self, other: Any) -> Value:  # type: ignore[override]
        return _const(self.data != _data(other), self.data)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs on Values: differentiable when the ufunc has a Value op, plain arrays otherwise."""
        op = _ops.UFUNCS.get(ufunc)
        if op is not None and method == "__call__" and not kwargs:
            return op(*inputs)
        arrays = [x.data if isinstance(x, Value) else x for x in inputs]
        return getattr(ufunc, method)(*arrays, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """Other NumPy functions (np.mean, np.concatenate, ...) see the arrays and return plain results."""
        return func(*_unwrap(args), **_unwrap(kwargs))


def _unwrap(obj: Any) -> Any:
    """`obj` with every Value (also inside lists, tuples and dicts) replaced by its array."""
    if isinstance(obj, Value):
        return obj.data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(x) for x in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _operand(x: Any, like: Value) -> Value:
    """The other operand of a binary operator as a Value (Python numbers keep `like`'s float dtype)."""
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float, np.ndarray, np.generic, list, tuple)):
        return _const(x, like.data)
    raise TypeError(f"unsupported operand type for a Value operation: {type(x).__name__}")


def _seed_gradient(out: Value, gradient: Any, caller: str) -> Any:
    if gradient is None:
        if out.data.size != 1:
            raise RuntimeError(f"{caller} on a non-scalar output of shape {out.shape} needs `gradient` (the "
                               f"vector of the vector-Jacobian product), e.g. loss.sum().backward() or "
                               f"out.backward(gradient=np.ones({out.shape}))")
        return np.ones(out.shape, dtype=out.data.dtype)
    g = gradient.data if isinstance(gradient, Value) else np.asarray(gradient, dtype=out.data.dtype)
    if g.shape != out.shape:
        raise ValueError(f"{caller}: gradient has shape {g.shape}, but the output has shape {out.shape}")
    return g


# ----------------------------------------------------------------------------- backward

_FREED = ("this graph was already freed by an earlier backward(): to backward through it again (or to call "
          "grad() twice), pass retain_graph=True to the first backward()/grad()")


def _topological_order(roots: Sequence[Value], stops: set[int]) -> list[Value]:
    """Nodes that require grad reachable from `roots`, parents before children.

    An iterative search collects the nodes; creation order (`_seq`) sorts them,
    since an op's inputs always exist before its output.
    """
    found = {id(r): r for r in roots}
    stack = list(roots)
    while stack:
        node = stack.pop()
        parents = node._prev
        if parents is None:
            raise RuntimeError(_FREED)
        if stops and id(node) in stops:
            continue
        for parent in parents:
            if parent.requires_grad and id(parent) not in found:
                found[id(parent)] = parent
                stack.append(parent)
    return sorted(found.values(), key=_creation_order)


_creation_order = operator.attrgetter("_seq")


def _sum_to(g: Any, parent: Value, node: Value) -> Any:
    """Reduce a gradient that was broadcast to the output's shape back to its input's shape."""
    shape = parent.data.shape
    try:
        if np.broadcast_shapes(g.shape, shape) == g.shape:
            return _ops.sum_to(g, shape)
    except ValueError:
        pass
    index = next(i for i, p in enumerate(node._prev) if p is parent)
    raise RuntimeError(f"backward of '{node._op.name}' returned a gradient of shape {g.shape} for its input "
                       f"{index}, which has shape {shape}; a gradient must have the input's shape (or the "
                       f"broadcast output's shape)")


def _run_backward(roots: Sequence[Value], seeds: Sequence[Any], retain_graph: bool, create_graph: bool,
                  inputs: Sequence[Value] | None) -> dict[int, Any] | None:
    """The chain rule over the graph. With `inputs`, return their gradients instead of filling `.grad`.

    Nodes are visited children first; each op's rule turns the gradient of its
    output into gradients of its inputs, which add up per input. Arrays flow
    through the rules unless `create_graph`, when Values do (recording the pass).
    """
    wanted = {id(v) for v in inputs} if inputs is not None else set()
    order = _topological_order(roots, wanted)
    grads: dict[int, Any] = {}
    for root, seed in zip(roots, seeds):
        if create_graph and not isinstance(seed, Value):
            seed = _const(seed, root.data)
        key = id(root)
        grads[key] = grads[key] + seed if key in grads else seed
    found: dict[int, Any] = {}
    anomaly = _state.anomaly
    fill_grads = inputs is None
    was_enabled, _state.grad_enabled = _state.grad_enabled, create_graph
    try:
        for node in reversed(order):
            key = id(node)
            g = grads.pop(key, None)
            if g is None:
                continue
            if key in wanted:
                found[key] = g
                continue
            op = node._op
            if op is None or node._retains_grad:
                if fill_grads:
                    _accumulate(node, g, create_graph)
                if op is None:
                    continue
            parents = node._prev
            args = node._args
            if create_graph:
                local = op.backward(g, node, *parents, **args) if args else op.backward(g, node, *parents)
            elif args:
                local = op.backward(g, node.data, *[p.data for p in parents], **args)
            else:
                local = op.backward(g, node.data, *[p.data for p in parents])
            if type(local) is not tuple:
                local = tuple(local) if isinstance(local, list) else (local,)
            if anomaly:
                _check_local(node, local)
            for parent, gp in zip(parents, local):
                if gp is None or not parent.requires_grad:
                    continue
                if gp.shape != parent.data.shape:
                    gp = _sum_to(gp, parent, node)
                pkey = id(parent)
                prev = grads.get(pkey)
                grads[pkey] = gp if prev is None else prev + gp
            if not retain_graph:
                node._prev = None
    finally:
        _state.grad_enabled = was_enabled
    return found if inputs is not None else None


def _check_local(node: Value, local: tuple) -> None:
    where = getattr(node, "_origin", None) or ("an unknown line (the forward pass ran outside detect_anomaly(); "
                                               "run it inside `with detect_anomaly():` to record where)")
    for g in local:
        if g is not None:
            _check_finite(g.data if isinstance(g, Value) else g, "backward", node._op.name, where)


def _accumulate(node: Value, g: Any, create_graph: bool) -> None:
    """Add `g` into `node.grad` (a Value); a fresh array, never a view shared with another gradient."""
    if create_graph:
        node.grad = g if node.grad is None else node.grad + g
        return
    if isinstance(g, Value):
        g = g.data
    if node.grad is None:
        g = g.copy() if isinstance(g, np.ndarray) and g.dtype == node.data.dtype else np.array(g, node.data.dtype)
        node.grad = _const(g, node.data)
    else:
        node.grad.data = node.grad.data + g
    capture = _capture_recorder()
    if capture is not None:          # tinygrad_lab.jit is recording: it keeps this gradient up to date
        capture.leaf_grad(node)


def grad(outputs: Value | Sequence[Value], inputs: Value | Sequence[Value],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Value | None, ...]:
    """Gradients of `outputs` with respect to `inputs`, without touching any `.grad` (`torch.autograd.grad`).

    Example:
        >>> x = Value(3.0, requires_grad=True)
        >>> (dx,) = grad(x ** 3, x, create_graph=True)    # 3x^2 = 27
        >>> (ddx,) = grad(dx, x)                          # 6x = 18
        >>> float(dx.data), float(ddx.data)
        (27.0, 18.0)
    """
    outputs = (outputs,) if isinstance(outputs, Value) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Value) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Value, np.ndarray)) or np.isscalar(grad_outputs):
        grad_outputs = (grad_outputs,) * len(outputs) if len(outputs) == 1 or grad_outputs is None else None
    if grad_outputs is None or len(grad_outputs) != len(outputs):
        raise ValueError(f"grad_outputs must have one entry per output ({len(outputs)})")
    for i, v in enumerate(inputs):
        if not isinstance(v, Value) or not v.requires_grad:
            raise RuntimeError(f"grad(): input {i} does not require grad; create it with requires_grad=True")
    roots, seeds = [], []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"grad(): output {i} does not require grad: it does not depend on any input "
                               "that requires grad")
        roots.append(out)
        seeds.append(_seed_gradient(out, g, "grad()") if not (create_graph and isinstance(g, Value)) else g)
    keep = create_graph if retain_graph is None else retain_graph
    found = _run_backward(roots, seeds, keep, create_graph, inputs)
    result = []
    for i, v in enumerate(inputs):
        g = found.get(id(v))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad(): input {i} was not used to compute the outputs; pass allow_unused=True "
                               "to get None for it")
        if g is not None and not isinstance(g, Value):
            g = _const(np.array(g, dtype=v.data.dtype), v.data)
        result.append(g)
    return tuple(result)


# Elementwise arithmetic ops used by the operators above are defined here, beside Value, so the
# operator fast path needs no import. Their lowercase functions live in ops.py with the others.

class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1 (broadcasting is reduced by the engine)."""

    name = "add"

    @staticmethod
    def forward(a, b):
        return a + b

    @staticmethod
    def backward(g, out, a, b):
        return g, g


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    name = "sub"

    @staticmethod
    def forward(a, b):
        return a - b

    @staticmethod
    def backward(g, out, a, b):
        return g, -g


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    name = "mul"

    @staticmethod
    def forward(a, b):
        return a * b

    @staticmethod
    def backward(g, out, a, b):
        return g * b, g * a


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b^2 = -z/b."""

    name = "div"

    @staticmethod
    def forward(a, b):
        return a / b

    @staticmethod
    def backward(g, out, a, b):
        gb = g / b
        return gb, -gb * out


class Neg(Function):
    """z = -a;  dz/da = -1."""

    name = "neg"

    @staticmethod
    def forward(a):
        return -a

    @staticmethod
    def backward(g, out, a):
        return (-g,)


from . import ops as _ops  # noqa: E402  (ops builds on the classes above)
