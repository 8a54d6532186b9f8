"""`Optimizer`: parameter groups, per-parameter state and state dicts, as `torch.optim.Optimizer`.

Subclasses implement `step()` with NumPy on `p.data` in place: an update never
records graph history and never changes `.grad`; parameters whose grad is
None are skipped.

Example:
    >>> from tinygrad_lab import nn, optim
    >>> model = nn.Linear(2, 1)
    >>> opt = optim.SGD([{"params": [model.weight]}, {"params": [model.bias], "lr": 0.5}], lr=0.1)
    >>> [group["lr"] for group in opt.param_groups]
    [0.1, 0.5]
"""
from __future__ import annotations

import copy
import json
import numbers
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ..engine import Value, enable_grad
from ..utils.capture import opaque

__all__ = ["Optimizer"]


def _check_non_negative(value: Any, name: str) -> None:
    """Raise ValueError (PyTorch's wording) unless `value` is a real number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0.0:
        raise ValueError(f"Invalid {name}: {value}")


class Optimizer:
    """Base class of the optimizers: holds `param_groups` (a list of dicts) and `state` (per parameter).

    `params` is an iterable of parameters (`Value`s, e.g. `model.parameters()`)
    or of dicts, each with a 'params' entry and its own options (the others come
    from the optimizer's defaults). A float leaf handed to an optimizer is a
    parameter, so one created without `requires_grad=True` is switched to it
    (micrograd-style scalar models train without ceremony).

    Example:
        >>> from tinygrad_lab import Value, optim
        >>> w = Value([1.0, 2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w.data.tolist()       # w - 0.1 * 2w
        [0.8, 1.6]
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:   # tinygrad_lab.jit replays a step as one call (its Python logic runs)
            cls.step = opaque(cls.__dict__["step"])

    def __init__(self, params: Iterable[Value] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._validate_group(self.defaults)
        self.state: defaultdict[Value, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, (Value, dict)):
            raise TypeError("params argument given to the optimizer should be an iterable of Values or "
                            f"dicts, but got {type(params).__name__} (wrap a single one in a list)")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's hyper-parameters (subclasses override; raise ValueError naming the bad one)."""

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
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Value (parameter {i} of the group was computed "
                                 f"by '{p._op.name}'); optimize the leaf it came from")
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
        for p in params:  # a Value handed to an optimizer is a parameter: it needs gradients
            p.requires_grad = True
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
        """Restore a state saved by `state_dict()` (checked first: a bad one changes nothing).

        The groups must match this optimizer's in number and sizes; hyper-parameters
        (including learning rates) are taken from the saved state, arrays are
        copied and cast to their parameter's dtype.

        Example:
            >>> from tinygrad_lab import Value, optim
            >>> w = Value([1.0], requires_grad=True)
            >>> a = optim.SGD([w], lr=0.1, momentum=0.9); b = optim.SGD([w], lr=0.5, momentum=0.9)
            >>> b.load_state_dict(a.state_dict()); b.param_groups[0]["lr"]
            0.1
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("an optimizer state dict is a dict with 'state' and 'param_groups' entries (as "
                             "returned by Optimizer.state_dict())")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter group(s), but the "
                             f"optimizer has {len(self.param_groups)}")
        params_by_index: dict[Any, Value] = {}
        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size "
                                 f"of optimizer's group: group {i} has {len(saved['params'])} saved "
                                 f"parameter(s), the optimizer's has {len(group['params'])}")
            params_by_index.update(zip(saved["params"], group["params"], strict=True))
            new_group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            for name, default in self.defaults.items():
                new_group.setdefault(name, default)
            new_group["params"] = group["params"]
            self._validate_group(new_group)
            new_groups.append(new_group)
        new_state: defaultdict[Value, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            if key not in params_by_index:
                raise ValueError(f"loaded state dict has state for parameter index {key!r}, which is not in "
                                 "any of its parameter groups")
            p = params_by_index[key]
            new_state[p] = {name: self._loaded_value(p, key, name, value) for name, value in values.items()}
        self.param_groups[:] = new_groups
        self.state = new_state

    def save(self, path: str | os.PathLike) -> None:
        """Write `state_dict()` to an .npz file (arrays as entries, the rest as JSON; no pickle, atomic).

        Example:
            >>> import os, tempfile
            >>> from tinygrad_lab import Value, optim
            >>> w = Value([1.0], requires_grad=True); opt = optim.Adam([w], lr=0.1)
            >>> (w * w).sum().backward(); opt.step()
            >>> path = os.path.join(tempfile.mkdtemp(), "adam.npz"); opt.save(path)
            >>> resumed = optim.Adam([w], lr=0.5); resumed.load(path); resumed.state[w]["step"]
            1
        """
        from ..nn.module import _write_npz_atomically
        state = self.state_dict()
        arrays, plain = {}, {}
        for index, values in state["state"].items():
            for name, value in values.items():
                if isinstance(value, np.ndarray):
                    arrays[f"state/{index}/{name}"] = value
                else:
                    plain.setdefault(str(index), {})[name] = value
        header = {"param_groups": state["param_groups"], "state": plain}
        try:
            arrays["optimizer.json"] = np.array(json.dumps(header))
        except TypeError as err:
            raise TypeError(f"cannot save this optimizer's state without pickle: {err}") from None
        _write_npz_atomically(path, arrays)

    def load(self, path: str | os.PathLike) -> None:
        """Restore a state written by `save(path)` (see `load_state_dict`; a bad file changes nothing)."""
        from ..nn.module import load_state
        arrays = load_state(path)
        if "optimizer.json" not in arrays:
            raise ValueError(f"{os.fspath(path)} is not an optimizer state file (write one with Optimizer.save)")
        header = json.loads(str(arrays.pop("optimizer.json")))
        state: dict[int, dict[str, Any]] = {int(i): dict(v) for i, v in header["state"].items()}
        for key, array in arrays.items():
            _, index, name = key.split("/", 2)
            state.setdefault(int(index), {})[name] = array
        groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in header["param_groups"]]
        self.load_state_dict({"state": state, "param_groups": groups})

    @staticmethod
    def _loaded_value(p: Value, index: Any, name: str, value: Any) -> Any:
        """A state entry ready to use: arrays (or tensors) copied into the parameter's dtype and shape."""
        if name == "step":
            return int(np.asarray(getattr(value, "data", value)))
        if isinstance(value, (np.ndarray, Value)) or hasattr(value, "__array__"):
            array = np.asarray(value.data if isinstance(value, Value) else value).copy()
            if array.shape != p.data.shape:
                raise ValueError(f"loaded state dict: '{name}' of parameter {index} has shape {array.shape}, "
                                 f"but the parameter has shape {p.data.shape}")
            return array.astype(p.data.dtype, copy=False)
        return copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
