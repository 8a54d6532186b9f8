"""`Value`: a NumPy array that records the ops applied to it (the node type of the graph).

`Value` only dispatches: each method and operator calls its op in
`tinygrad_lab.ops`; nodes are filled by `make_node` (`function.py`) and
gradients computed by the engine (`engine.py`). Also the one home of the small
helpers every layer shares: `unwrap` (a Value's array, or the object itself)
and `as_value` (an operand as a Value, numbers taking the other operand's
dtype).

The file is long because `Value` has PyTorch's many tensor methods; each is a one-line dispatch and
the class reads top to bottom (array attributes, backward, methods by family, operators, copying).

Example:
    >>> a = Value(2.0, requires_grad=True)
    >>> (a * a + a.exp()).backward()
    >>> round(float(a.grad.data), 6)   # 2a + exp(a)
    11.389056
"""
from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..utils.capture import TRACED_TYPES, as_array
from ..utils.checks import check_bool

__all__ = ["Value", "unwrap", "as_value"]

ArrayLike = Any


_NUMERIC_KINDS = "biufc"   # bool, signed and unsigned integers, floats, complex


def _dim(dim: Any, size: int, name: str) -> int:
    """`dim` as an index in range(size) (negatives count from the end); PyTorch's TypeError/IndexError."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(dim).__name__} {dim!r}")
    if not -size <= dim < size:
        raise IndexError(f"Dimension out of range (expected {name} to be in range of [{-size}, {size - 1}], "
                         f"but got {dim})")
    return int(dim) % size


def _not_numeric(data: Any, dtype: Any) -> TypeError:
    return TypeError(f"Value() takes numbers, lists of numbers or numeric NumPy arrays; got {type(data).__name__} "
                     f"with dtype {dtype}")


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    """Python numbers and lists become float64 (as PyTorch users expect); arrays keep their dtype (copied).

    Non-numeric data (strings, objects, dates, void) is a TypeError, with or without `dtype`; so is a
    `dtype` that is not numeric, or complex data cast to a real dtype (it would drop the imaginary part).
    """
    if isinstance(data, Value):
        data = data.data
    from_numpy = isinstance(data, (np.ndarray, np.generic))
    if from_numpy:
        source = as_array(data)    # a jit capture's traced array stays traced: its copy below is recorded
    else:
        try:
            source = np.array(data)
        except ValueError as err:       # ragged nested lists
            raise ValueError(f"Value() needs numbers or a rectangular nested list of numbers: {err}") from None
    if source.dtype.kind not in _NUMERIC_KINDS:
        raise _not_numeric(data, source.dtype)
    if dtype is None:
        if from_numpy:                          # NumPy data keeps its dtype (copied)
            return source.copy(order="K") if type(source) in TRACED_TYPES else np.array(source)
        return source.astype(np.float64) if source.dtype.kind in "biu" else source
    target = np.dtype(dtype)
    if target.kind not in _NUMERIC_KINDS:
        raise TypeError(f"Value() dtype must be a numeric NumPy dtype (bool, integer, floating or complex), got "
                        f"{target}")
    if source.dtype.kind == "c" and target.kind != "c":
        raise TypeError(f"Value() cannot convert complex data to {target} (the imaginary part would be lost); "
                        f"pass data.real if that is what you mean")
    if target.kind in "iu" and source.dtype.kind == "f" and source.size:
        info = np.iinfo(target)   # PyTorch's rule: every number in [min, max] before truncation (127.9 is not)
        top = float(info.max)     # 64-bit maxima round up to 2**63 / 2**64, which do not fit
        below_top = source.max() <= top if top == info.max else source.max() < top
        if not (np.isfinite(source).all() and info.min <= source.min() and below_top):
            raise ValueError(f"Value() cannot convert data outside [{info.min}, {info.max}] (or inf/nan) to "
                             f"{target}")
    if type(source) in TRACED_TYPES:
        return source.astype(target, order="K")
    return np.array(source, dtype=target)


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

    __slots__ = ("data", "_grad", "requires_grad", "label", "_op", "_prev", "_args", "_retains_grad",
                 "_seq", "_calls", "_origin", "__weakref__")
    __array_priority__ = 1000
    #: True on `nn.Parameter`: layers below nn (drawings) tell weights apart without importing nn
    _is_parameter = False
    # the public slots' types, for type checkers (make_node fills them)
    data: np.ndarray
    requires_grad: bool
    label: str | None
    # the private slots (make_node fills them; the engine and drawings read them)
    _grad: Value | None                    # `.grad` (the engine writes it directly: its gradients fit)
    _op: type[Function] | None             # the op that made this node, None for leaves and constants
    _prev: tuple[Value, ...] | None        # its inputs; None once backward() has freed the graph
    _args: dict[str, Any] | None           # the op's static arguments
    _retains_grad: bool
    _seq: int                              # creation order
    _calls: tuple[tuple[Any, int], ...]    # (module, start) tags of the module calls that made it (nn.call_tags)
    _origin: str                           # under detect_anomaly(): where the forward pass made it

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None,
                 label: str | None = None) -> None:
        check_bool(requires_grad, "requires_grad", "Value()")
        array = _as_array(data, dtype)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(f"only real floating-point Values can require gradients, but this one has dtype "
                            f"{array.dtype}; pass dtype=np.float64 (or float32) to convert it")
        make_node(None, array, requires_grad=bool(requires_grad), label=label, node=self)

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

    def __iter__(self) -> Iterator[Value]:
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
        return constant(self.data)

    @property
    def grad(self) -> Value | None:
        """The gradient that backward() accumulated here (a Value of this Value's shape and dtype), or None.

        Assigning one checks it as `Tensor.grad` does: a Value (or None) of the same shape and dtype.

        Example:
            >>> w = Value([1.0, 2.0], requires_grad=True)
            >>> w.grad = Value([0.5])
            Traceback (most recent call last):
            ...
            RuntimeError: cannot assign a gradient of shape (1,) to a Value of shape (2,); give it the Value's shape
        """
        return self._grad

    @grad.setter
    def grad(self, value: Value | None) -> None:
        if value is not None:
            if not isinstance(value, Value):
                raise TypeError(f"the assigned grad must be a Value or None, got {type(value).__name__}; wrap an "
                                "array as Value(array)")
            if value.data.shape != self.data.shape:
                raise RuntimeError(f"cannot assign a gradient of shape {value.data.shape} to a Value of shape "
                                   f"{self.data.shape}; give it the Value's shape")
            if value.data.dtype != self.data.dtype:
                raise RuntimeError(f"cannot assign a gradient of dtype {value.data.dtype} to a Value of dtype "
                                   f"{self.data.dtype}: convert it first, e.g. grad.astype({str(self.data.dtype)!r})")
        self._grad = value

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf value after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a Value that does not require grad")
        self._retains_grad = True

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradient: `.grad = None`, or (set_to_none=False) zeros in its place."""
        grad = self._grad     # the slot behind the checked `.grad`: None and zeros of our shape always fit
        if grad is None or set_to_none:
            self._grad = None
        elif grad.requires_grad or not isinstance(grad.data, np.ndarray) or not grad.data.flags.writeable:
            self._grad = constant(np.zeros_like(self.data))
        else:
            grad.data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Value:
        """Set `requires_grad` on a leaf in place and return it."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_() can only change leaves; use detach() first")
        check_bool(requires_grad, "requires_grad", "requires_grad_()")
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only real floating-point Values can require gradients, not dtype {self.data.dtype}")
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
        return self.astype("float64")

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
        _engine.backward(self, gradient, retain_graph, create_graph, check_anomaly=detect_anomaly)

    # -- differentiable methods (the ops live in tinygrad_lab.ops)
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

    def clip(self, min: builtins.float | None = None, max: builtins.float | None = None) -> Value:
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
        """Merge the axes start_dim..end_dim into one (`Tensor.flatten`); a 0-d Value becomes shape (1,)."""
        shape = self.shape
        start, end = _dim(start_dim, max(self.ndim, 1), "start_dim"), _dim(end_dim, max(self.ndim, 1), "end_dim")
        if start > end:
            raise RuntimeError(f"flatten() has invalid args: start_dim ({start_dim}) cannot come after end_dim "
                               f"({end_dim}) for a Value with {self.ndim} dimension(s)")
        merged = int(np.prod(shape[start:end + 1]))         # not -1: exact also for zero-size Values
        return _ops.reshape(self, shape[:start] + (merged,) + shape[end + 1:]) if self.ndim else self.reshape(1)

    def unsqueeze(self, dim: int) -> Value:
        """Insert an axis of length 1 at `dim` (in [-ndim - 1, ndim], as PyTorch)."""
        dim = _dim(dim, self.ndim + 1, "dim")
        return _ops.reshape(self, self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim: int | None = None) -> Value:
        """Drop axes of length 1 (all, or just `dim` if it has length 1; an existing `dim` of another length
        is left alone, as PyTorch)."""
        if dim is None:
            return _ops.reshape(self, tuple(s for s in self.shape if s != 1))
        dim = _dim(dim, max(self.ndim, 1), "dim")
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

    def var(self, axis: Any = None, correction: builtins.float | None = 1, keepdims: bool = False,
            **torch_names: Any) -> Value:
        """Variance over `axis` with `correction` (1 by default), as `Tensor.var`."""
        return _ops.var(self, axis, correction, keepdims, **torch_names)

    def std(self, axis: Any = None, correction: builtins.float | None = 1, keepdims: bool = False,
            **torch_names: Any) -> Value:
        """Standard deviation over `axis` with `correction` (1 by default), as `Tensor.std`."""
        return _ops.std(self, axis, correction, keepdims, **torch_names)

    def argmax(self, axis: int | None = None, keepdims: bool = False, **torch_names: Any) -> Value:
        """Index of the largest element (an int64 Value, no gradient), as `Tensor.argmax`."""
        return _ops.argmax(self, axis, keepdims, **torch_names)

    def argmin(self, axis: int | None = None, keepdims: bool = False, **torch_names: Any) -> Value:
        """Index of the smallest element (an int64 Value, no gradient), as `Tensor.argmin`."""
        return _ops.argmin(self, axis, keepdims, **torch_names)

    def cumsum(self, axis: int | None = None, *, dim: int | None = None) -> Value:
        """Cumulative sum along `dim`, as `Tensor.cumsum`."""
        return _ops.cumsum(self, axis, dim=dim)

    def gather(self, dim: int, index: Any) -> Value:
        """Values along `dim` at `index`, as `Tensor.gather`."""
        return _ops.gather(self, dim, index)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Value:
        """A copy with `src` added at `index` along `dim`, as `Tensor.scatter_add`."""
        return _ops.scatter_add(self, dim, index, src)

    def masked_fill(self, mask: Any, value: builtins.float) -> Value:
        """`value` where `mask` is True, as `Tensor.masked_fill`."""
        return _ops.masked_fill(self, mask, value)

    def split(self, split_size: Any, dim: int = 0) -> tuple:
        """Pieces along `dim` (a size or a list of sizes), as `Tensor.split`."""
        return _ops.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """`chunks` nearly equal pieces along `dim`, as `Tensor.chunk`."""
        return _ops.chunk(self, chunks, dim)

    def expand(self, *sizes: Any) -> Value:
        """Broadcast to `sizes` (-1 keeps a size), as `Tensor.expand`."""
        return _ops.expand(self, *sizes)

    def expand_as(self, other: Any) -> Value:
        """Broadcast to the shape of `other`, as `Tensor.expand_as`."""
        return _ops.expand(self, tuple(other.shape))

    def repeat(self, *repeats: Any) -> Value:
        """Tile `repeats` times per axis, as `Tensor.repeat`."""
        return _ops.repeat(self, *repeats)

    def flip(self, *dims: Any) -> Value:
        """Reverse along `dims`, as `Tensor.flip`."""
        return _ops.flip(self, dims[0] if len(dims) == 1 else dims)

    def erf(self) -> Value:
        """The error function elementwise, as `Tensor.erf`."""
        return _ops.erf(self)

    def register_hook(self, hook: Callable[[Any], Any]) -> Any:
        """Call `hook(grad)` when this Value's gradient is computed; it may return a replacement gradient.

        As `Tensor.register_hook`.

        Returns a handle whose `.remove()` takes the hook out (see `tinygrad_lab.autograd.hooks`).
        """
        return _hooks.register_hook(self, hook)

    draw: Callable[..., Any]
    """`value.draw(**options)`: the computation graph as a drawing (`tinygrad_lab.viz.draw_graph`).

    Attached by the package root (`tinygrad_lab/__init__.py`), which alone may join the layers: the
    engine knows nothing of drawings.
    """

    # -- operators
    def __add__(self, other: Any) -> Value:
        other = other if type(other) is Value else as_value(other, self)
        return make_node(Add, Add.forward(self.data, other.data), (self, other))

    def __radd__(self, other: Any) -> Value:
        other = as_value(other, self)
        return make_node(Add, Add.forward(other.data, self.data), (other, self))

    def __sub__(self, other: Any) -> Value:
        other = other if type(other) is Value else as_value(other, self)
        return make_node(Sub, Sub.forward(self.data, other.data), (self, other))

    def __rsub__(self, other: Any) -> Value:
        other = as_value(other, self)
        return make_node(Sub, Sub.forward(other.data, self.data), (other, self))

    def __mul__(self, other: Any) -> Value:
        other = other if type(other) is Value else as_value(other, self)
        return make_node(Mul, Mul.forward(self.data, other.data), (self, other))

    def __rmul__(self, other: Any) -> Value:
        other = as_value(other, self)
        return make_node(Mul, Mul.forward(other.data, self.data), (other, self))

    def __truediv__(self, other: Any) -> Value:
        other = other if type(other) is Value else as_value(other, self)
        return make_node(Div, Div.forward(self.data, other.data), (self, other))

    def __rtruediv__(self, other: Any) -> Value:
        other = as_value(other, self)
        return make_node(Div, Div.forward(other.data, self.data), (other, self))

    def __neg__(self) -> Value:
        return make_node(Neg, Neg.forward(self.data), (self,))

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _ops.abs(self)

    def __pow__(self, exponent: Any) -> Value:
        return _ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> Value:
        return _ops.pow(as_value(base, self), self)

    def __matmul__(self, other: Any) -> Value:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Value:
        return _ops.matmul(as_value(other, self), self)

    def __getitem__(self, index: Any) -> Value:
        return _ops.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError("Values are immutable in the graph; build a new one (e.g. with where() or concat()), "
                        "or change `.data` directly outside of any graph")

    # comparisons: non-differentiable boolean Values
    def __lt__(self, other: Any) -> Value:
        return constant(self.data < unwrap(other))

    def __le__(self, other: Any) -> Value:
        return constant(self.data <= unwrap(other))

    def __gt__(self, other: Any) -> Value:
        return constant(self.data > unwrap(other))

    def __ge__(self, other: Any) -> Value:
        return constant(self.data >= unwrap(other))

    def __eq__(self, other: Any) -> Value:  # type: ignore[override]
        return constant(self.data == unwrap(other))

    def __ne__(self, other: Any) -> Value:  # type: ignore[override]
        return constant(self.data != unwrap(other))

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs on Values: differentiable when the ufunc has a Value op, plain arrays otherwise."""
        op = _ops.UFUNCS.get(ufunc)
        if op is not None and method == "__call__" and not kwargs:
            return op(*inputs)
        arrays = [x.data if isinstance(x, Value) else x for x in inputs]
        return getattr(ufunc, method)(*arrays, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        """Other NumPy functions (np.mean, np.concatenate, ...) see the arrays and return plain results."""
        return func(*_unwrap_all(args), **_unwrap_all(kwargs))

    # -- copying and pickling: leaves only, as PyTorch's deepcopy. A leaf's copy has its own
    # data, grad (as a leaf) and the same requires_grad and label; a non-leaf is refused with a clear
    # error instead of recursing through its whole graph (RecursionError on deep graphs).
    def _refuse_copy_of_non_leaf(self, what: str) -> None:
        if self._op is not None:
            raise RuntimeError(f"Only Values created explicitly by the user (graph leaves) support {what}; this "
                               f"one was computed by '{self._op.name}'. Copy v.detach() (a leaf with the same "
                               f"data), or the leaves it was computed from")

    def __deepcopy__(self, memo: dict) -> Value:
        self._refuse_copy_of_non_leaf("the deepcopy protocol")
        import copy

        new = type(self)._from_leaf_state(copy.deepcopy(self.data, memo), self.requires_grad,
                                          None if self.grad is None else self.grad.data.copy(), self.label,
                                          copy.deepcopy(getattr(self, "__dict__", None), memo))
        return new     # copy.deepcopy records it in memo

    def __reduce_ex__(self, protocol: Any) -> tuple:
        self._refuse_copy_of_non_leaf("copy.copy and pickle")
        grad = None if self.grad is None else self.grad.data
        return (type(self)._from_leaf_state,
                (self.data, self.requires_grad, grad, self.label, getattr(self, "__dict__", None)))

    @classmethod
    def _from_leaf_state(cls, data: np.ndarray, requires_grad: bool, grad: np.ndarray | None, label: str | None,
                         extra: dict | None) -> Value:
        """Rebuild a leaf from `__reduce_ex__`'s state (without calling a subclass's `__init__`)."""
        new = make_node(None, data, requires_grad=bool(requires_grad), label=label,
                        node=object.__new__(cls))  # any subclass layout
        if grad is not None:
            new.grad = constant(grad)
        if extra:
            new.__dict__.update(extra)
        return new


def _unwrap_all(obj: Any) -> Any:
    """`obj` with every Value (also inside lists, tuples and dicts) replaced by its array."""
    if isinstance(obj, Value):
        return obj.data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap_all(x) for x in obj)
    if isinstance(obj, dict):
        return {k: _unwrap_all(v) for k, v in obj.items()}
    return obj


def unwrap(x: Any) -> Any:
    """A Value's array, or `x` itself (arrays, numbers, anything else).

    Example:
        >>> unwrap(Value([1.0])), unwrap(2.0)
        (array([1.]), 2.0)
    """
    return x.data if isinstance(x, Value) else x


def as_value(x: Any, like: Value) -> Value:
    """`x` as a Value: Values as they are, numbers and arrays as constants that take `like`'s float dtype.

    `like` is the op's Value operand (every dispatcher has one: without, it computes on arrays). The dtype
    rule (docs/engine.md): Python numbers, NumPy scalars and plain real arrays mixed into an op with a
    floating-point Value are constants of that Value's dtype, so a float32 model stays float32 whatever the
    arrays it meets.

    Example:
        >>> as_value(2, Value(np.float32(1.0))).dtype
        dtype('float32')
    """
    if isinstance(x, Value):
        return x
    like_data = like.data
    if isinstance(x, (int, float)):      # Python numbers (x * 2, 1 - p): constant() gives them like's float dtype
        return constant(x, like_data)
    if not isinstance(x, (np.ndarray, np.generic, list, tuple)):
        raise TypeError(f"unsupported operand type for a Value operation: {type(x).__name__}")
    value = constant(x)     # arrays and NumPy scalars as they are; the Value's float dtype is applied below
    kind = value.data.dtype.kind
    if kind not in _NUMERIC_KINDS:
        raise TypeError(f"unsupported operand for a Value operation: {type(x).__name__} with dtype "
                        f"{value.data.dtype} (numbers, numeric arrays and Values only)")
    if kind != "c" and like_data.dtype.kind == "f" and value.data.dtype != like_data.dtype:
        value.data = np.asarray(value.data, dtype=like_data.dtype)   # a constant takes the Value's dtype
    return value


# Value's methods call these; they import Value in turn (autograd <-> ops is the one allowed circle).
from .. import ops as _ops  # noqa: E402
from ..ops.arithmetic import Add, Div, Mul, Neg, Sub  # noqa: E402
from . import engine as _engine  # noqa: E402
from . import hooks as _hooks  # noqa: E402
from .function import Function, constant, make_node  # noqa: E402
