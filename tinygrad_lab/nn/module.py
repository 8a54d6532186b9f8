"""`Module`: the building block of models, as in `torch.nn` (`Parameter` lives in `parameter.py`).

A `Module` registers the `Parameter`s and sub-modules assigned to its
attributes, so `parameters()`, `state_dict()`, `train()`/`eval()` and
`zero_grad()` reach the whole tree. Files are `.npz` archives (no pickle),
written atomically (`tinygrad_lab.serialization`). The file is one class that
reads top to bottom as `torch/nn/modules/module.py` does (calling, hooks,
registration, traversal, modes, state dicts, files); the forward-hook machinery
(`hooks.py`) and the module-call tags for drawings (`call_tags.py`) live beside it.

Example:
    >>> from tinygrad_lab import Value, nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = nn.Linear(2, 4)
    ...         self.fc2 = nn.Linear(4, 1)
    ...     def forward(self, x):
    ...         return self.fc2(self.fc1(x).sigmoid())
    >>> model = TwoLayer()
    >>> [name for name, _ in model.named_parameters()]
    ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    >>> model(Value([[0.5, -1.0]])).shape
    (1, 1)
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, cast

import numpy as np

from ..autograd import Value, unwrap
from ..autograd.function import next_creation_number
from ..serialization import load_state, save_state
from ..utils.capture import _active as _capturing
from ..utils.capture import watch
from ..utils.checks import check_bool
from ..utils.hooks import RemovableHandle
from .call_tags import tag_outputs
from .hooks import add_forward_hook, forward_with_hooks
from .parameter import Parameter
from .summary import summarize

__all__ = ["Parameter", "Module", "IncompatibleKeys", "StateDictError", "save", "load", "load_state"]


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` did not match: `missing_keys` and `unexpected_keys`."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictError(RuntimeError):
    """A state dict does not fit the model (missing/unexpected keys, wrong shapes or dtypes)."""


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (torch's layout for nested reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class of every layer and model: subclass it, assign layers and Parameters, write `forward`.

    Attributes that are `Parameter`s or `Module`s are registered automatically
    (each kind in assignment order), which gives `parameters()`, `named_parameters()`
    with dotted names, `state_dict()`, `train()`/`eval()` and a nested repr. As in
    PyTorch, those list a module's own Parameters first, then each sub-module's.

    Example:
        >>> class Affine(Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.scale = Parameter([2.0])
        ...     def forward(self, x):
        ...         return x * self.scale
        >>> Affine()(Value([3.0]))
        Value([6.], op=mul)
    """

    training: bool
    # the registries (filled in __init__, kept by __setattr__): None marks a declared-but-absent entry
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, np.ndarray | Value | None]
    _non_persistent_buffers: set[str]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers"] = set()
        d["_modules"] = {}

    # ------------------------------------------------------------------ calling

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of this module; every subclass defines it."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" '
                                  'function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = next_creation_number()   # the values this call makes are numbered after it (drawings' tags)
        if _capturing[0]:   # a jit capture in some thread: a replay checks the attributes (and train()/eval())
            watch(self, "_version")
        if self._hooks_active:
            out = forward_with_hooks(self, args, kwargs)
        else:
            out = self.forward(*args, **kwargs) if kwargs else self.forward(*args)
        if type(out) is Value:   # the common case inline: tag it if this call made it (see call_tags)
            if out._seq > start:
                out._calls += ((self, start),)
        elif isinstance(out, (Value, tuple)):
            tag_outputs(self, start, out)
        return out


    # ------------------------------------------------------------------ forward hooks

    _hooks_active = False  # True on an instance while it has forward (pre-)hooks: then __call__ runs them

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call `hook(module, args)` before each forward; it may return new args (a tuple, or one value).

        With `with_kwargs=True` it is `hook(module, args, kwargs)` and may return
        `(args, kwargs)`. Hooks run in registration order (`prepend=True` puts
        this one first), as `torch.nn.Module.register_forward_pre_hook`.

        Example:
            >>> from tinygrad_lab.nn import Linear
            >>> layer = Linear(1, 1, bias=False); layer.weight.data[:] = 2.0
            >>> handle = layer.register_forward_pre_hook(lambda m, args: args[0] * 10)
            >>> layer(Value([[1.0]])).item()
            20.0
            >>> handle.remove(); layer(Value([[1.0]])).item()
            2.0
        """
        return add_forward_hook(self, "_forward_pre_hooks", hook, prepend, with_kwargs, False)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call `hook(module, args, output)` after each forward; a non-None return value replaces the output.

        With `with_kwargs=True` it is `hook(module, args, kwargs, output)`;
        `always_call=True` runs it even when forward raises. As
        `torch.nn.Module.register_forward_hook`.

        Example:
            >>> from tinygrad_lab.nn import ReLU
            >>> shapes = []
            >>> _ = (relu := ReLU()).register_forward_hook(lambda m, args, out: shapes.append(out.shape))
            >>> _ = relu(Value([[1.0, -1.0]])); shapes
            [(1, 2)]
        """
        return add_forward_hook(self, "_forward_hooks", hook, prepend, with_kwargs, always_call)

    # ------------------------------------------------------------------ registration

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call (call "
                                     "super().__init__() first in your __init__)")
            self._forget(name, keep="_parameters")
            params[name] = value
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign sub-modules before Module.__init__() call (call "
                                     "super().__init__() first in your __init__)")
            self._forget(name, keep="_modules")
            d["_modules"][name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' (a Parameter or "
                                f"None expected; to change its values assign to self.{name}.data)")
            params[name] = None
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module '{name}' (a Module or "
                                "None expected)")
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            d["_buffers"][name] = self._as_buffer(name, value)
            value = d["_buffers"][name]
        d[name] = value
        d["_version"] = d.get("_version", 0) + 1   # any attribute set (a jit replay checks it: captures again)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name: str, keep: str = "") -> None:
        """Drop `name` from the registries (but `keep`, so a re-assignment keeps its place in order)."""
        d = self.__dict__
        for registry in ("_parameters", "_modules", "_buffers"):
            if registry != keep:
                d[registry].pop(name, None)
        if keep != "_buffers":
            d["_non_persistent_buffers"].discard(name)

    @staticmethod
    def _as_buffer(name: str, value: Any) -> Any:
        if value is None or isinstance(value, (np.ndarray, Value)):
            return value
        try:
            return np.asarray(value)
        except Exception:  # pragma: no cover - very unusual objects
            raise TypeError(f"buffer '{name}' must be a NumPy array, a Value or None, "
                            f"got {type(value).__name__}") from None

    def _check_new_name(self, name: Any, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot register a {what} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{what} name must be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{what} name must be a non-empty string without '.', got {name!r}")
        registered = any(name in self.__dict__[r] for r in ("_parameters", "_modules", "_buffers"))
        if not registered and (name in self.__dict__ or hasattr(type(self), name)):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a Parameter (or None, a declared-but-absent parameter such as a disabled bias).

        Example:
            >>> m = Module(); m.register_parameter("bias", None); m.bias is None
            True
        """
        self._check_new_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot register {type(param).__name__} as parameter '{name}' (a Parameter or "
                            "None expected)")
        self._forget(name, keep="_parameters")   # re-registering keeps the name's place (state-dict order), as torch
        self.__dict__["_parameters"][name] = param
        self.__dict__[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under `name` (what attribute assignment does).

        Example:
            >>> m = Module(); m.add_module("head", Module()); [n for n, _ in m.named_children()]
            ['head']
        """
        self._check_new_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._forget(name, keep="_modules")
        self.__dict__["_modules"][name] = module
        self.__dict__[name] = module

    register_module = add_module

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Add a non-trainable array saved in the state dict (unless `persistent=False`).

        Example:
            >>> m = Module(); m.register_buffer("mean", np.zeros(3)); list(m.state_dict())
            ['mean']
        """
        self._check_new_name(name, "buffer")
        check_bool(persistent, "persistent", "register_buffer()")
        tensor = self._as_buffer(name, tensor)
        self._forget(name, keep="_buffers")
        self.__dict__["_buffers"][name] = tensor
        if persistent:
            self.__dict__["_non_persistent_buffers"].discard(name)
        else:
            self.__dict__["_non_persistent_buffers"].add(name)
        self.__dict__[name] = tensor

    # ------------------------------------------------------------------ traversal

    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and every module below it; the root's name is ''.

        Example:
            >>> from tinygrad_lab.nn import Sequential, Linear
            >>> [n for n, _ in Sequential(Linear(1, 1)).named_modules()]
            ['', '0']
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every module below it (each once)."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct sub-modules."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        check_bool(recurse, "recurse", "named_parameters()/named_buffers()")
        check_bool(remove_duplicate, "remove_duplicate", "named_parameters()/named_buffers()")
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for name, member in module.__dict__[registry].items():
                if member is None:
                    continue
                if remove_duplicate:
                    if id(member) in seen:
                        continue
                    seen.add(id(member))
                yield module_prefix + ("." if module_prefix else "") + name, member

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs: '0.weight', 'fc1.bias', ... (shared ones once).

        Example:
            >>> from tinygrad_lab.nn import Linear
            >>> [n for n, _ in Linear(2, 3).named_parameters()]
            ['weight', 'bias']
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter of this module and its sub-modules (what an optimizer takes).

        Example:
            >>> from tinygrad_lab.nn import Linear
            >>> [p.shape for p in Linear(2, 3).parameters()]
            [(3, 2), (3,)]
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        """(dotted name, array) for the registered buffers."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Any]:
        """The registered buffers (non-trainable arrays)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path such as 'encoder.0' ('' is this module).

        Example:
            >>> from tinygrad_lab.nn import Sequential, Linear
            >>> Sequential(Linear(1, 2)).get_submodule("0")
            Linear(in_features=1, out_features=2, bias=True)
        """
        module: Module = self
        if target == "":
            return module
        walked: list[str] = []
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                where = ".".join(walked) or type(self).__name__
                raise AttributeError(f"{where} has no sub-module '{part}' (looking up '{target}')")
            walked.append(part)
            module = child
        return module

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every sub-module (children first) and on this module; return self.

        Example:
            >>> from tinygrad_lab.nn import Sequential, Linear, init
            >>> def zero_biases(m):
            ...     if isinstance(m, Linear): init.zeros_(m.bias)
            >>> model = Sequential(Linear(2, 2)).apply(zero_biases)
            >>> model[0].bias.data.tolist()
            [0.0, 0.0]
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients

    def train(self, mode: bool = True) -> Module:
        """Set training mode (affects Dropout) on this module and all below it; return self.

        Example:
            >>> Module().train(False).training
            False
        """
        if not isinstance(mode, bool):
            raise TypeError(f"train() takes a bool mode, got {type(mode).__name__}")
        for module in self.modules():
            d = module.__dict__
            if d.get("training") is not mode:
                d["training"] = mode
                d["_version"] = d.get("_version", 0) + 1   # a jit replay checks it (captures again)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (same as `train(False)`); return self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter; return self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter (to None by default, or to zeros).

        Example:
            >>> from tinygrad_lab.nn import Linear
            >>> layer = Linear(2, 1); layer(Value([[1.0, 2.0]])).sum().backward()
            >>> layer.zero_grad(); layer.weight.grad is None
            True
        """
        check_bool(set_to_none, "set_to_none", "zero_grad()")
        for param in self.parameters():
            param.zero_grad(set_to_none)

    def to(self, dtype: Any) -> Module:
        """Cast every floating parameter and buffer to `dtype` (e.g. np.float32) in place; return self."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to() takes a floating dtype, got {dtype}")
        # arrays already of `dtype` are kept (as torch: no copy), so whoever holds them (a captured jit step, an
        # optimizer's view) still sees the module's values
        for param in self.parameters():
            if param.data.dtype != dtype:
                param.data = param.data.astype(dtype)
            if param.grad is not None and param.grad.data.dtype != dtype:
                param.grad = Value(param.grad.data.astype(dtype))
        for module in self.modules():
            for name, buffer in module._buffers.items():
                array = buffer.data if isinstance(buffer, Value) else buffer
                if not isinstance(array, np.ndarray) or array.dtype.kind != "f" or array.dtype == dtype:
                    continue
                if isinstance(buffer, Value):
                    buffer.data = array.astype(dtype)
                else:
                    module.__setattr__(name, array.astype(dtype))
        return self

    def float(self) -> Module:
        """Cast parameters to float32; return self."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast parameters to float64; return self."""
        return self.to(np.float64)

    # ------------------------------------------------------------------ state

    def state_dict(self, *, prefix: str = "", keep_vars: bool = False) -> dict[str, Any]:
        """Every parameter and persistent buffer by dotted name, as copied NumPy arrays.

        With `keep_vars=True` the Parameter objects themselves are returned.

        Example:
            >>> from tinygrad_lab.nn import Linear
            >>> {k: v.shape for k, v in Linear(2, 3).state_dict().items()}
            {'weight': (3, 2), 'bias': (3,)}
        """
        check_bool(keep_vars, "keep_vars", "state_dict()")
        state: dict[str, Any] = {}
        for key, _, _, value in self._state_entries(prefix):
            if keep_vars:
                state[key] = value
            else:
                state[key] = np.array(unwrap(value), copy=True)
        return state

    def _state_entries(self, prefix: str = "") -> Iterator[tuple[str, Module, str, Any]]:
        """(key, owner, kind, value) for everything in the state dict, recursing like torch (no dedup)."""
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, self, "parameter", param
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                yield prefix + name, self, "buffer", buffer
        for name, module in self._modules.items():
            if module is not None:
                yield from module._state_entries(prefix + name + ".")

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from `state_dict` into the parameters and buffers, by name.

        Everything is checked before anything changes: with `strict=True`
        missing or unexpected keys raise `StateDictError`; a shape mismatch
        or a value that cannot be cast to the parameter's dtype always raises.
        A failed load leaves the model unchanged. Returns the missing and
        unexpected keys (as `torch.nn.Module.load_state_dict`).

        Example:
            >>> from tinygrad_lab.nn import Linear
            >>> a, b = Linear(2, 3), Linear(2, 3)
            >>> b.load_state_dict(a.state_dict())
            IncompatibleKeys(missing_keys=[], unexpected_keys=[])
            >>> bool((a.weight.data == b.weight.data).all())
            True
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError("load_state_dict() expects a mapping of name -> array, got "
                            f"{type(state_dict).__name__}")
        check_bool(strict, "strict", "load_state_dict()")
        entries = list(self._state_entries())
        expected = {key for key, *_ in entries}
        missing = [key for key, *_ in entries if key not in state_dict]
        unexpected = [key for key in state_dict if key not in expected]
        errors: list[str] = []
        if strict:
            if missing:
                errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
        updates: list[tuple[Module, str, str, np.ndarray]] = []
        for key, owner, kind, current in entries:
            if key not in state_dict:
                continue
            checked = _checked_array(key, state_dict[key], np.asarray(current.data if isinstance(current, Value)
                                                                       else current))
            if isinstance(checked, str):
                errors.append(checked)
            else:
                updates.append((owner, key.rsplit(".", 1)[-1], kind, checked))
        if errors:
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                                 + "\n\t".join(errors))
        for owner, name, kind, array in updates:
            _copy_into(owner, name, kind, array)
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: str | os.PathLike) -> None:
        """Write `state_dict()` to `path` as an .npz archive (no pickle; atomic: a crash leaves no half file).

        Example:
            >>> import os, tempfile
            >>> from tinygrad_lab.nn import Linear
            >>> a, b = Linear(2, 3), Linear(2, 3)
            >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
            >>> a.save(path); _ = b.load(path)
            >>> bool((a.weight.data == b.weight.data).all())
            True
        """
        save(self, path)

    def load(self, path: str | os.PathLike, strict: bool = True) -> IncompatibleKeys:
        """Load parameters saved by `save(path)` (see `load_state_dict` for `strict`)."""
        return load(self, path, strict=strict)

    # ------------------------------------------------------------------ description

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of scalar parameters (each shared Parameter counted once).

        Example:
            >>> from tinygrad_lab.nn import Linear
            >>> Linear(2, 4).num_parameters()
            12
        """
        return int(sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only))

    def summary(self, input_shape: tuple[int, ...] | None = None, dtype: Any = np.float64) -> str:
        """A table of the sub-modules with their parameter shapes and counts, and the totals.

        With `input_shape`, a forward pass on zeros of that shape (in `no_grad`,
        eval mode, then the previous mode is restored) adds each module's output shape.

        Example:
            >>> from tinygrad_lab.nn import Sequential, Linear, Sigmoid
            >>> print(Sequential(Linear(2, 4), Sigmoid()).summary())   # doctest: +NORMALIZE_WHITESPACE
            Sequential
            name  type     parameters                params
            ----  -------  ------------------------  ------
            0     Linear   weight (4, 2), bias (4,)  12
            1     Sigmoid  -                         0
            Total params: 12 (trainable: 12, non-trainable: 0)
        """
        return summarize(self, input_shape, dtype)

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in its repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = type(self).__name__ + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


# ---------------------------------------------------------------------- helpers

def _checked_array(key: str, value: Any, current: np.ndarray) -> str | np.ndarray:
    """The error message (a str), or the array to copy, for one state-dict entry."""
    try:
        array = np.asarray(unwrap(value))
    except Exception as err:  # noqa: BLE001 - report any conversion failure in the user's terms
        return f"value for {key} is not an array ({type(value).__name__}: {err})."
    if array.dtype.kind not in "biuf":
        return (f"value for {key} has dtype {array.dtype}, which cannot be loaded into a "
                f"{current.dtype} array.")
    if array.shape != current.shape:
        return (f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} from checkpoint, "
                f"the shape in current model is {tuple(current.shape)}.")
    if not np.can_cast(array.dtype, current.dtype, casting="same_kind"):
        return f"value for {key} has dtype {array.dtype}, which cannot be cast to {current.dtype}."
    return array


def _copy_into(owner: Module, name: str, kind: str, array: np.ndarray) -> None:
    if kind == "parameter":
        param = cast(Parameter, owner._parameters[name])  # a state entry: present, not None
        if param.data.flags.writeable:
            np.copyto(param.data, array, casting="same_kind")
        else:
            param.data = np.array(array, dtype=param.data.dtype)
        return
    buffer = owner._buffers[name]
    if isinstance(buffer, np.ndarray) and buffer.flags.writeable:
        np.copyto(buffer, array, casting="same_kind")   # in place, as torch: whoever holds the array (a jit
        return                                          # replay updating running statistics) sees the values
    if isinstance(buffer, Value):
        buffer.data = np.array(array, dtype=buffer.data.dtype)
    else:
        owner.__setattr__(name, np.array(array, dtype=np.asarray(buffer).dtype))


def save(obj: Module | Mapping[str, Any], path: str | os.PathLike) -> None:
    """Save a module's `state_dict()` (or a mapping of name -> array) as an .npz archive at `path`.

    No pickle is used and the write is atomic (temporary file + rename); see `tinygrad_lab.serialization`.

    Example:
        >>> import os, tempfile
        >>> from tinygrad_lab.nn import Linear
        >>> path = os.path.join(tempfile.mkdtemp(), "weights.npz")
        >>> save(Linear(2, 1), path); sorted(load_state(path))
        ['bias', 'weight']
    """
    if not isinstance(obj, (Module, Mapping)):
        raise TypeError(f"save() takes a Module or a mapping of name -> array, got {type(obj).__name__}")
    save_state(obj.state_dict() if isinstance(obj, Module) else obj, path)


def load(module: Module, path: str | os.PathLike, strict: bool = True) -> IncompatibleKeys:
    """Load an .npz file written by `save` into `module` (see `Module.load_state_dict`).

    Example:
        >>> import os, tempfile
        >>> from tinygrad_lab.nn import Linear
        >>> a, b = Linear(2, 1), Linear(2, 1)
        >>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
        >>> save(a, path); load(b, path)
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
    """
    if not isinstance(module, Module):
        raise TypeError(f"load() takes the Module to load into first, got {type(module).__name__}")
    return module.load_state_dict(load_state(path), strict=strict)
