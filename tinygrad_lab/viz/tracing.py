"""Walking a computation graph into nodes and edges (`trace`, `GraphTrace`).

Every `Value` made by an op remembers its inputs (`_prev`); `trace` walks them
iteratively (a 100,000-node chain is fine) and orders the nodes as `backward()`
does, by creation.

Example:
    >>> from tinygrad_lab import Value
    >>> t = trace(Value(2.0, requires_grad=True) * 3.0)
    >>> len(t), t.edges
    (3, [(0, 2), (1, 2)])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..autograd import Value
from ..autograd import creation_order as _creation_order

__all__ = ["GraphTrace", "trace"]


@dataclass(frozen=True)
class GraphTrace:
    """The nodes and edges of a computation graph, for drawing it your own way.

    ``nodes`` are the ``Value``s in topological order (every value comes after the values it was
    computed from; the roots come last), ``edges`` are ``(parent_index, child_index)`` pairs, one per
    input of each op (``x * x`` gives two edges), ``roots`` the indices of the values you traced and
    ``freed`` the indices of values whose graph was freed by ``backward()``.

    Example:
        >>> from tinygrad_lab import Value
        >>> w = Value([1.0, 2.0], requires_grad=True)
        >>> t = trace((w * w).sum())
        >>> [(p, c, t.nodes[c]._op.name) for p, c in t.edges]
        [(0, 1, 'mul'), (0, 1, 'mul'), (1, 2, 'sum')]
    """

    nodes: list
    edges: list[tuple[int, int]]
    roots: list[int]
    freed: list[int]
    parents: list[tuple[int, ...]] = field(repr=False)
    _index: dict[int, int] = field(repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.nodes)

    def index(self, value: Any) -> int:
        """The position of ``value`` in ``nodes`` (``ValueError`` if it is not in the graph)."""
        try:
            return self._index[id(value)]
        except KeyError:
            raise ValueError("this Value is not part of the traced graph") from None

    def backward_order(self) -> list[int]:
        """Node indices in the order ``backward()`` visits them: the roots first, leaves last.

        Only values that require grad are visited (constants get no gradient). The engine walks
        the graph in reverse creation order, which is the reverse of ``nodes``; so this numbers the
        steps of the chain rule: when a value is visited its gradient is complete, and its op
        passes the gradient on to the op's inputs.

        Example:
            >>> from tinygrad_lab import Value
            >>> a = Value(2.0, requires_grad=True)
            >>> t = trace(a * 3.0)
            >>> [t.nodes[i].shape for i in t.backward_order()]
            [(), ()]
        """
        return [i for i in range(len(self.nodes) - 1, -1, -1) if self.nodes[i].requires_grad]


def _as_roots(root: Any, caller: str) -> list:
    if isinstance(root, Value):
        return [root]
    if isinstance(root, (list, tuple)) and root and all(isinstance(r, Value) for r in root):
        return list(root)
    got = f"an empty {type(root).__name__}" if isinstance(root, (list, tuple)) and not root else (
        type(root).__name__)
    raise TypeError(f"{caller}(root=...) expects a Value or a non-empty list of Values, got {got}")


def trace(root: Any) -> GraphTrace:
    """Walk the graph that produced ``root`` (a ``Value`` or a list of them), without recursion.

    The nodes come in the order they were created (a topological order: inputs first), so the
    same computation always gives the same trace.

    Example:
        >>> from tinygrad_lab import Value
        >>> a = Value(3.0, requires_grad=True)
        >>> t = trace(a * a + 1)     # a, a * a, the constant 1, the sum
        >>> len(t.nodes), len(t.edges)
        (4, 4)
    """
    roots = _as_roots(root, "trace")
    nodes: list = []
    parents: list[tuple[int, ...]] = []
    index: dict[int, int] = {}
    on_stack: set[int] = set()
    for start in roots:
        if id(start) in index:
            continue
        on_stack.add(id(start))
        stack = [(start, iter(start._prev or ()))]
        while stack:  # depth-first, post-order: a value is appended after all its inputs
            value, inputs = stack[-1]
            for parent in inputs:
                if id(parent) not in index and id(parent) not in on_stack:
                    on_stack.add(id(parent))
                    stack.append((parent, iter(parent._prev or ())))
                    break
            else:
                stack.pop()
                index[id(value)] = len(nodes)
                nodes.append(value)
                parents.append(tuple(index[id(p)] for p in (value._prev or ())))
    if all(hasattr(v, "_seq") for v in nodes):  # creation order: the order the engine uses
        nodes.sort(key=_creation_order)
        index = {id(v): i for i, v in enumerate(nodes)}
        parents = [tuple(index[id(p)] for p in (v._prev or ())) for v in nodes]
    edges = [(p, child) for child, ps in enumerate(parents) for p in ps]
    freed = [i for i, v in enumerate(nodes) if v._prev is None]
    root_ids = list(dict.fromkeys(index[id(r)] for r in roots))
    return GraphTrace(nodes, edges, root_ids, freed, parents, index)
