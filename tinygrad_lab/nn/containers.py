"""Containers: `Sequential` (a pipeline), `ModuleList` and `ModuleDict` (registered collections).

Example:
    >>> from tinygrad_lab import nn
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))
    >>> len(model), type(model[0]).__name__, len(model[1:])
    (3, 'Linear', 2)
"""
from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .module import Module, _addindent

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


def _index(idx: Any, length: int, container: str) -> int:
    """A valid non-negative position for `idx` (negative counts from the end), as torch's containers."""
    try:
        idx = operator.index(idx)
    except TypeError:
        raise TypeError(f"{container} indices must be integers or slices, not {type(idx).__name__}") from None
    if not -length <= idx < length:
        raise IndexError(f"index {idx} is out of range for a {container} of length {length}")
    return idx % length


def _check_module(module: Any, container: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{container} holds Modules, got {type(module).__name__}")
    return module


class _IndexedContainer(Module):
    """Shared code of Sequential and ModuleList: children named '0', '1', ... in order."""

    # a container holds Modules only (its methods check each one), as PyTorch's containers declare
    _modules: dict[str, Module]  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _renumber(self, modules: list[Module]) -> None:
        for name in list(self._modules):
            delattr(self, name)
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __delitem__(self, idx: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            del modules[idx]
        else:
            del modules[_index(idx, len(modules), type(self).__name__)]
        self._renumber(modules)

    def __setitem__(self, idx: int, module: Module) -> None:
        _check_module(module, type(self).__name__)
        key = list(self._modules)[_index(idx, len(self), type(self).__name__)]
        setattr(self, key, module)

    def append(self, module: Module) -> Self:
        """Add `module` at the end; return self."""
        self.add_module(str(len(self)), _check_module(module, type(self).__name__))
        return self

    def extend(self, modules: Iterable[Module]) -> Self:
        """Add each of `modules` at the end (all checked first: a refused one adds none); return self."""
        modules = [_check_module(module, type(self).__name__) for module in modules]
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert `module` before position `index` (-len <= index <= len; negative counts from the end)."""
        modules = list(self._modules.values())
        try:
            position = operator.index(index)
        except TypeError:
            raise TypeError(f"{type(self).__name__}.insert: index must be an integer, not "
                            f"{type(index).__name__}") from None
        if not -len(modules) <= position <= len(modules):   # PyTorch's Sequential refuses these too
            raise IndexError(f"{type(self).__name__}.insert: index {position} is out of range for a "
                             f"{type(self).__name__} of length {len(modules)} (use append to add at the end)")
        modules.insert(position, _check_module(module, type(self).__name__))
        self._renumber(modules)

    def pop(self, idx: int | slice) -> Any:
        """Remove and return the module at `idx` (the others are renumbered), as PyTorch's containers.

        Example:
            >>> from tinygrad_lab import nn
            >>> model = nn.Sequential(nn.Linear(1, 2), nn.ReLU())
            >>> type(model.pop(0)).__name__, len(model), type(model[0]).__name__
            ('Linear', 1, 'ReLU')
        """
        module = self[idx]   # type: ignore[index]  # the subclasses index
        del self[idx]
        return module


class Sequential(_IndexedContainer):
    """Modules applied one after another: `Sequential(a, b, c)(x) == c(b(a(x)))`.

    Also takes one `OrderedDict` of name -> module (then the names are kept).
    Supports indexing, negative indices, slicing (a new Sequential), `len`,
    iteration, `append`, `extend`, `insert` and `del`.

    Example:
        >>> from tinygrad_lab import Value, nn
        >>> model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid())
        >>> model
        Sequential(
          (0): Linear(in_features=2, out_features=4, bias=True)
          (1): Sigmoid()
        )
        >>> model(Value([[1.0, 2.0]])).shape
        (1, 4)
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, _check_module(module, "Sequential"))
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), _check_module(module, "Sequential"))

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(idx, len(self), "Sequential")]

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise TypeError(f"can only add a Sequential to a Sequential, not {type(other).__name__}")
        return Sequential(*self, *other)


class ModuleList(_IndexedContainer):
    """A list of modules whose parameters are registered (a plain Python list would hide them).

    Example:
        >>> from tinygrad_lab import nn
        >>> layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        >>> len(list(layers.parameters()))
        6
        >>> layers
        ModuleList(
          (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)
        )
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return list(self._modules.values())[_index(idx, len(self), "ModuleList")]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        """Like torch: runs of identical children are folded into '(i-j): n x Child(...)'."""
        reprs = [repr(module) for module in self]
        if not reprs:
            return "ModuleList()"
        blocks: list[list[Any]] = []  # [start, end, text]
        for i, text in enumerate(reprs):
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, text])
        lines = []
        for start, end, text in blocks:
            head = f"({start})" if start == end else f"({start}-{end}): {end - start + 1} x"
            lines.append(_addindent(f"{head}: {text}" if start == end else f"{head} {text}", 2))
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of name -> module whose parameters are registered (insertion order kept).

    Example:
        >>> from tinygrad_lab import nn
        >>> heads = nn.ModuleDict({"mean": nn.Linear(4, 1), "scale": nn.Linear(4, 1)})
        >>> list(heads.keys()), [n for n, _ in heads.named_parameters()][:2]
        (['mean', 'scale'], ['mean.weight', 'mean.bias'])
    """

    # a container holds Modules only (its methods check each one), as PyTorch's containers declare
    _modules: dict[str, Module]  # type: ignore[assignment]

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict has no module {key!r}; keys are {list(self._modules)}") from None

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _check_module(module, "ModuleDict"))

    def __delitem__(self, key: str) -> None:
        self[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove and return the module under `key`."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        for key in list(self._modules):
            del self[key]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or (name, module) pairs (all checked first: a refused entry adds
        none; a replaced name keeps its place)."""
        pairs = list(modules.items() if isinstance(modules, Mapping) else modules)
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{i} must be a (name, module) pair, got "
                                 f"{pair!r}")
            self._check_new_name(pair[0], "module")
            _check_module(pair[1], "ModuleDict")
        for key, module in pairs:
            self[key] = module
