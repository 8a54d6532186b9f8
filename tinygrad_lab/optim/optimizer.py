"""`Optimizer`: parameter groups, per-parameter state and state dicts, as `torch.optim.Optimizer`.

Subclasses implement `step()` with NumPy on `p.data` in place: an update never
records graph history, never changes `.grad` or `requires_grad`; parameters whose
grad is None (frozen ones: `requires_grad_(False)`) are skipped. A subclass declares
its own hyper-parameter checks (`_validate_group`) and the entries of its per-parameter
state (`state_keys`, `optional_state_keys`), which loading checks.

Example:
    >>> from tinygrad_lab import nn, optim
    >>> model = nn.Linear(2, 1)
    >>> opt = optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.5}], lr=0.1)
    >>> [group["lr"] for group in opt.param_groups]
    [0.1, 0.5]
"""
from __future__ import annotations

import copy
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ..autograd import Value, enable_grad
from ..serialization import StateFileError, json_entry, read_json_entry, read_npz, write_npz
from ..utils.capture import opaque
from ..utils.checks import check_bool, is_integer, is_real

__all__ = ["Optimizer", "check_flags", "check_non_negative", "check_number", "lerp_", "python_scalars"]

#: The JSON entry of an optimizer state file (hyper-parameters, optimizer type, non-array state).
HEADER = "optimizer.json"


def check_number(value: Any, name: str) -> None:
    """Raise TypeError unless `value` is a real number (not a bool, a string or None; shared by the optimizers).

    Example:
        >>> check_number("0.1", "learning rate")
        Traceback (most recent call last):
        ...
        TypeError: learning rate must be a real number, got str '0.1'
    """
    if not is_real(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")


def check_non_negative(value: Any, name: str) -> None:
    """Raise TypeError for a non-number, ValueError (PyTorch's wording) unless `value` >= 0 (shared by the optimizers).

    Example:
        >>> check_non_negative(-1, "learning rate")
        Traceback (most recent call last):
        ...
        ValueError: Invalid learning rate: -1
    """
    check_number(value, name)
    if not value >= 0.0:
        raise ValueError(f"Invalid {name}: {value}")


def check_flags(group: dict[str, Any], names: tuple[str, ...], optimizer: str) -> None:
    """Raise TypeError unless each of the options `names` of `group` is True or False (shared by the optimizers).

    A 1 or a string such as "no" would be truthy: taking it would silently switch the option on, and the saved
    state would not load again.

    Example:
        >>> check_flags({"maximize": "no"}, ("maximize",), "SGD")
        Traceback (most recent call last):
        ...
        TypeError: SGD: maximize must be True or False, got str 'no'
    """
    for name in names:
        check_bool(group[name], name, optimizer)


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start += weight * (end - start) in place, in PyTorch's two-sided form (exact at weight 0 and 1).

    Example:
        >>> a = np.array([0.0, 10.0]); lerp_(a, np.array([1.0, 20.0]), 0.25); a.tolist()
        [0.25, 12.5]
    """
    if abs(weight) < 0.5:
        step = end - start
        step *= weight      # weight * (end - start) in step's own buffer (a new NumPy scalar if 0-d): the same numbers
        start += step
    else:
        start[...] = end - (end - start) * (1 - weight)


class Optimizer:
    """Base class of the optimizers: holds `param_groups` (a list of dicts) and `state` (per parameter).

    `params` is an iterable of parameters (`Value`s, e.g. `model.parameters()`)
    or of dicts, each with a 'params' entry and its own options (the others come
    from the optimizer's defaults). As in PyTorch, an optimizer never changes
    `requires_grad`: a frozen parameter (`requires_grad_(False)`) gets no gradient
    and is skipped, so it stays exactly as it was. Create scalar weights with
    `requires_grad=True`.

    Example:
        >>> from tinygrad_lab import Value, optim
        >>> w = Value([1.0, 2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w.data.tolist()       # w - 0.1 * 2w
        [0.8, 1.6]
    """

    #: Entries every saved per-parameter state of this optimizer has (checked on load).
    state_keys: tuple[str, ...] = ()
    #: Entries a saved per-parameter state may have besides `state_keys` (None values are dropped on load).
    optional_state_keys: tuple[str, ...] = ()
    # set by a learning-rate scheduler's wrapper of `step` when it runs (absent until then)
    _opt_called: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:   # tinygrad_lab.jit replays a step as one call (its Python logic runs)
            cls.step = opaque(cls.__dict__["step"])  # type: ignore[method-assign]  # wrapped once per class

    def __init__(self, params: Iterable[Value] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        self.defaults = python_scalars(dict(defaults))
        self._validate_group(self.defaults)
        self.state: defaultdict[Value, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, (Value, dict)):
            raise TypeError("params argument given to the optimizer should be an iterable of Values or "
                            f"dicts, but got {type(params).__name__} (wrap a single one in a list)")
        items: list[Any] = list(params)  # Values, or dicts (add_param_group checks each)
        if not items:
            raise ValueError("optimizer got an empty parameter list")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's hyper-parameters (subclasses override; raise TypeError for a wrong type and
        ValueError for a bad value, naming the bad one)."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing options take the defaults).

        Example:
            >>> from tinygrad_lab import Value, optim
            >>> a, b = Value([1.0], requires_grad=True), Value([2.0], requires_grad=True)
            >>> opt = optim.SGD([a], lr=0.1); opt.add_param_group({"params": [b], "lr": 0.01})
            >>> len(opt.param_groups), opt.param_groups[1]["lr"]
            (2, 0.01)
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry (the Values to optimize)")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Value):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of Values in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"optimizer can only optimize Values, but parameter {i} of the group is a "
                                f"{type(p).__name__}")
            op = p.grad_fn
            if op is not None:
                raise ValueError(f"can't optimize a non-leaf Value (parameter {i} of the group was computed "
                                 f"by '{op.name}'); optimize the leaf it came from")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter group lists the same parameter more than once (it would be updated "
                             "twice per step)")
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        for i, p in enumerate(params):
            if p.dtype.kind != "f":
                raise TypeError(f"optimizer parameter {i} has dtype {p.dtype}; only floating-point Values "
                                "can be trained")
        group = {key: value if key == "params" else python_scalars(value) for key, value in group.items()}
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._validate_group(group)
        self.param_groups.append(group)

    # ------------------------------------------------------------------ stepping

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters (to None by default, else to zeros in place).

        Example:
            >>> from tinygrad_lab import Value, optim
            >>> w = Value([1.0], requires_grad=True); opt = optim.SGD([w], lr=0.1)
            >>> (w * 2).sum().backward(); opt.zero_grad(); w.grad is None
            True
        """
        check_bool(set_to_none, "set_to_none", "zero_grad()")
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad(set_to_none)

    def _gradients(self, group: dict[str, Any]) -> Iterator[tuple[Value, np.ndarray, dict[str, Any]]]:
        """(parameter, gradient, state) for each parameter of `group` that has a gradient (negated to maximize)."""
        maximize = group.get("maximize", False)
        for p in group["params"]:
            if p.grad is not None:
                yield p, -p.grad.data if maximize else p.grad.data, self.state[p]

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters once from their `.grad`; with `closure`, call it first, return its loss."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # ------------------------------------------------------------------ state

    def _index_map(self) -> dict[int, int]:
        """id(param) -> its index, counting through the groups in order (PyTorch's state-dict numbering)."""
        return {id(p): i for i, p in enumerate(p for g in self.param_groups for p in g["params"])}

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, as copies (safe to keep while training goes on).

        `{'state': {index: {name: array or number}}, 'param_groups': [{options..., 'params': [indices]}]}`

        Example:
            >>> from tinygrad_lab import Value, optim
            >>> w = Value([1.0], requires_grad=True)
            >>> optim.SGD([w], lr=0.1).state_dict()["param_groups"][0]["params"]
            [0]
        """
        index = self._index_map()
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, values in self.state.items():
            if values and id(p) in index:
                state[index[id(p)]] = {k: v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v)
                                       for k, v in values.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict()` (checked first: a bad one raises ValueError, changes nothing).

        The groups must match this optimizer's in number and sizes and carry every
        hyper-parameter this optimizer has (a state of another optimizer type does not);
        hyper-parameters (including learning rates) are taken from the saved state, arrays
        are copied and cast to their parameter's dtype.

        Example:
            >>> from tinygrad_lab import Value, optim
            >>> w = Value([1.0], requires_grad=True)
            >>> a = optim.SGD([w], lr=0.1, momentum=0.9); b = optim.SGD([w], lr=0.5, momentum=0.9)
            >>> b.load_state_dict(a.state_dict()); b.param_groups[0]["lr"]
            0.1
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("an optimizer state dict is a dict with 'state' and 'param_groups' entries (as "
                             "returned by Optimizer.state_dict())")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not all(
                isinstance(g, dict) and isinstance(g.get("params"), (list, tuple)) for g in saved_groups):
            raise ValueError("loaded state dict: 'param_groups' must be a list of dicts, each with a 'params' "
                             "list of parameter indices")
        if not isinstance(saved_state, dict):
            raise ValueError(f"loaded state dict: 'state' must be a dict of parameter index -> state, got "
                             f"{type(saved_state).__name__}")
        indices = [index for g in saved_groups for index in g["params"]]
        if not all(is_integer(index) for index in indices) or len(set(indices)) != len(indices):
            raise ValueError("loaded state dict: the 'params' of its parameter groups must be distinct integer "
                             f"indices, got {[g['params'] for g in saved_groups]}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter group(s), but the "
                             f"optimizer has {len(self.param_groups)}")
        params_by_index: dict[Any, Value] = {}
        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size "
                                 f"of optimizer's group: group {i} has {len(saved['params'])} saved "
                                 f"parameter(s), the optimizer's has {len(group['params'])}")
            missing = [key for key in self.defaults if key not in saved]
            if missing:
                raise ValueError(f"loaded state dict: parameter group {i} has no {', '.join(map(repr, missing))}, "
                                 f"which {name} needs (its hyper-parameters are {', '.join(self.defaults)}); "
                                 "was it saved by another optimizer type, or edited?")
            flags = [key for key, default in self.defaults.items()
                     if isinstance(default, bool) and not isinstance(saved[key], (bool, np.bool_))]
            if flags:
                raise ValueError(f"loaded state dict: in parameter group {i}, {', '.join(map(repr, flags))} must be "
                                 f"True or False, got {', '.join(repr(saved[key]) for key in flags)}")
            params_by_index.update(zip(saved["params"], group["params"]))
            new_group = {k: python_scalars(copy.deepcopy(v)) for k, v in saved.items() if k != "params"}
            new_group["params"] = group["params"]
            self._validate_group(new_group)
            new_groups.append(new_group)
        new_state: defaultdict[Value, dict[str, Any]] = defaultdict(dict)
        for key, values in saved_state.items():
            if key not in params_by_index:
                raise ValueError(f"loaded state dict has state for parameter index {key!r}, which is not in "
                                 "any of its parameter groups")
            p = params_by_index[key]
            new_state[p] = self._loaded_state(p, key, values)
        self.param_groups[:] = new_groups
        self.state = new_state

    def _loaded_state(self, p: Value, index: Any, values: Any) -> dict[str, Any]:
        """One parameter's saved state, checked against `state_keys` / `optional_state_keys` and converted."""
        name = type(self).__name__
        if not isinstance(values, dict):
            raise ValueError(f"loaded state dict: the state of parameter {index} must be a dict, got "
                             f"{type(values).__name__}")
        allowed = (*self.state_keys, *self.optional_state_keys)
        unknown = [key for key in values if key not in allowed]
        missing = [key for key in self.state_keys if values.get(key) is None]
        if unknown or missing:
            problem = (f"has {', '.join(map(repr, unknown))}, which {name} does not keep" if unknown
                       else f"lacks {', '.join(map(repr, missing))}")
            raise ValueError(f"loaded state dict: the state of parameter {index} {problem} ({name} keeps "
                             f"{', '.join(allowed) or 'no state'}); was it saved by another optimizer type, or "
                             "edited?")
        return {key: self._loaded_value(p, index, key, value) for key, value in values.items()
                if value is not None}

    @staticmethod
    def _loaded_value(p: Value, index: Any, name: str, value: Any) -> Any:
        """A state entry ready to use: `step` a count, arrays (or tensors) copied in the parameter's dtype and shape."""
        if name == "step":
            try:
                step = np.asarray(value).item()
            except (TypeError, ValueError):
                step = None
            if not is_real(step, finite=True) or step < 0 or step != int(step):
                raise ValueError(f"loaded state dict: 'step' of parameter {index} must be a count >= 0, got "
                                 f"{value!r}")
            return int(step)
        try:
            array = np.asarray(value)
        except Exception:  # noqa: BLE001 - any conversion failure is reported in the user's terms
            array = None
        if array is None or array.dtype.kind not in "biuf":
            raise ValueError(f"loaded state dict: '{name}' of parameter {index} must be a numeric array, got "
                             f"{type(value).__name__}")
        if array.shape != p.data.shape:
            raise ValueError(f"loaded state dict: '{name}' of parameter {index} has shape {array.shape}, "
                             f"but the parameter has shape {p.data.shape}")
        return array.astype(p.data.dtype)   # a copy, always

    def save(self, path: str | os.PathLike) -> None:
        """Write `state_dict()` to an .npz file (arrays as entries, the rest as JSON; no pickle, atomic).

        The file records the optimizer's type: `load` refuses a file of another type.

        Example:
            >>> import os, tempfile
            >>> from tinygrad_lab import Value, optim
            >>> w = Value([1.0], requires_grad=True); opt = optim.Adam([w], lr=0.1)
            >>> (w * w).sum().backward(); opt.step()
            >>> path = os.path.join(tempfile.mkdtemp(), "adam.npz"); opt.save(path)
            >>> resumed = optim.Adam([w], lr=0.5); resumed.load(path); resumed.state[w]["step"]
            1
        """
        state = self.state_dict()
        arrays: dict[str, np.ndarray] = {}
        plain: dict[str, dict[str, Any]] = {}
        for index, values in state["state"].items():
            for name, value in values.items():
                if isinstance(value, np.ndarray):
                    arrays[f"state/{index}/{name}"] = value
                else:
                    plain.setdefault(str(index), {})[name] = value
        header = {"optimizer": type(self).__name__, "param_groups": python_scalars(state["param_groups"]),
                  "state": python_scalars(plain)}
        arrays[HEADER] = json_entry(header, "this optimizer's state")
        write_npz(path, arrays)

    def load(self, path: str | os.PathLike) -> None:
        """Restore a state written by `save(path)` by this optimizer type (see `load_state_dict`).

        Raises `StateFileError` (a ValueError, from `tinygrad_lab.serialization`) when the
        file is not an optimizer state file, was saved by another optimizer type, or does not
        fit this optimizer (groups, hyper-parameters, state entries, shapes). A refused load
        changes nothing.

        Example:
            >>> import os, tempfile
            >>> from tinygrad_lab import Value, optim
            >>> w = Value([1.0], requires_grad=True)
            >>> path = os.path.join(tempfile.mkdtemp(), "sgd.npz"); optim.SGD([w], lr=0.1).save(path)
            >>> optim.Adam([w]).load(path)
            Traceback (most recent call last):
            ...
            tinygrad_lab.serialization.StateFileError: ...sgd.npz was saved by SGD; it cannot be loaded into Adam...
        """
        where = os.fspath(path)
        arrays = read_npz(path)
        if HEADER not in arrays:
            raise StateFileError(f"{where} is not an optimizer state file (write one with Optimizer.save)")
        header = read_json_entry(arrays, HEADER, path)
        del arrays[HEADER]
        if not isinstance(header, dict) or not isinstance(header.get("param_groups"), list) \
                or not isinstance(header.get("state"), dict):
            raise StateFileError(f"{where}: the optimizer header must be a JSON object with 'param_groups' (a list) "
                                 "and 'state' (an object); the file was damaged or edited")
        saved_type = header.get("optimizer")
        if saved_type is not None and saved_type != type(self).__name__:
            raise StateFileError(f"{where} was saved by {saved_type}; it cannot be loaded into "
                                 f"{type(self).__name__} (load it into a {saved_type}, or start the "
                                 f"{type(self).__name__} afresh)")
        try:
            state: dict[int, dict[str, Any]] = {}
            for index, values in header["state"].items():
                if not isinstance(values, dict):
                    raise ValueError(f"the state of parameter {index} must be a JSON object")
                state[_state_index(index)] = dict(values)
            for key, array in arrays.items():
                parts = key.split("/", 2)
                if len(parts) != 3 or parts[0] != "state" or not parts[2]:
                    raise ValueError(f"entry '{key}' is not a state entry (state/<index>/<name>)")
                state.setdefault(_state_index(parts[1]), {})[parts[2]] = array
            groups = [self._group_from_file(g) if isinstance(g, dict) else g for g in header["param_groups"]]
            self.load_state_dict({"state": state, "param_groups": groups})
        except (TypeError, ValueError) as err:       # a hyper-parameter of the wrong type is a damaged file too
            raise StateFileError(f"{where}: {err}") from None

    def _group_from_file(self, group: dict[str, Any]) -> dict[str, Any]:
        """A parameter group as read from JSON: subclasses turn options back into their types (lists to tuples)."""
        return group

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def python_scalars(value: Any) -> Any:
    """`value` with NumPy scalars as Python numbers, inside dicts, lists and tuples too.

    Hyper-parameters are kept so (as PyTorch keeps Python numbers): an np.float32 lr or beta would make NumPy do
    the update's scalar arithmetic in float32, and the JSON header of a saved state could not hold it.

    Example:
        >>> python_scalars({"lr": np.float32(0.5), "betas": (np.float64(0.9), 0.999), "amsgrad": np.bool_(True)})
        {'lr': 0.5, 'betas': (0.9, 0.999), 'amsgrad': True}
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {key: python_scalars(item) for key, item in value.items()}
    if type(value) in (list, tuple):    # exactly: a named tuple is kept as it is
        return type(value)(python_scalars(item) for item in value)
    return value


def _state_index(text: Any) -> int:
    """A parameter index written as text in a state file (ValueError if it is not a non-negative integer)."""
    if isinstance(text, str) and text.isdigit():
        return int(text)
    raise ValueError(f"parameter index {text!r} is not a non-negative integer")
