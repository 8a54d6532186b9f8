"""The passes run once on a captured program: dead-call, copy and repeated-call elimination, buffer reuse, binding
each call in its cheapest form (`_compile`), and binding the caller's argument arrays (`_direct_program`).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .capture import _Capture
from .tracing import _arrays_in, _assign_all, _check, _map_arrays, _refresh, _root, _setitem


def _compile(capture: _Capture) -> None:
    """The passes (dead calls, copies, repeated calls, buffer reuse), then one zero-argument callable per call."""
    _eliminate_dead_code(capture)
    _eliminate_copies(capture)
    _eliminate_common_calls(capture)
    _reuse_buffers(capture)
    capture.calls = [_bind(fn, args, kwargs) for fn, args, kwargs in capture.program]


#: ufuncs whose outputs must be given by keyword (NumPy deprecates a third positional argument to them)
_OUT_BY_KEYWORD = frozenset({np.maximum, np.minimum, np.fmax, np.fmin})
_REDUCE_DEFAULTS = {"dtype": None, "keepdims": False, "where": True}


def _as_operand(a: Any, dtype: np.dtype) -> Any:
    """A Python or NumPy number as a 0-d array of ``dtype`` (what NumPy converts it to anyway, done once)."""
    if type(a) in (int, float) or (isinstance(a, np.generic) and a.dtype == dtype):
        return np.array(a, dtype=dtype)
    return a


def _bind(fn: Callable, args: tuple, kwargs: dict) -> Callable[[], Any]:
    """One recorded call as a zero-argument callable, in the cheapest form NumPy accepts for it.

    A ufunc's outputs go as positional arguments (keyword parsing costs more than the call on small
    arrays), a reduction's defaults are dropped, and numbers are converted to the arrays' dtype once.
    """
    outs = kwargs.get("out")
    if isinstance(fn, np.ufunc) and outs is not None and all(o is not None for o in outs):
        rest = {k: v for k, v in kwargs.items() if k != "out"}
        dtype = outs[0].dtype
        if (len(outs) == 1 and dtype.kind == "f"
                and all(a.dtype == dtype for a in args if isinstance(a, np.ndarray))):
            args = tuple(_as_operand(a, dtype) for a in args)
        if not rest and len(args) == fn.nin and len(outs) == fn.nout and fn not in _OUT_BY_KEYWORD:
            return functools.partial(fn, *args, *outs)
        rest["out"] = outs
        return functools.partial(fn, *args, **rest)
    ufunc = getattr(fn, "__self__", None)
    if (isinstance(ufunc, np.ufunc) and getattr(fn, "__name__", "") == "reduce" and outs is not None
            and len(outs) == 1 and len(args) == 1):
        rest = {k: v for k, v in kwargs.items() if k != "out"}
        for k, default in _REDUCE_DEFAULTS.items():
            if k in rest and rest[k] is default:
                del rest[k]
        if set(rest) <= {"axis", "keepdims"}:    # reduce(array, axis, dtype, out, keepdims): all positional
            return functools.partial(fn, args[0], rest.get("axis", 0), None, outs[0], rest.get("keepdims", False))
        rest["out"] = outs
        return functools.partial(fn, *args, **rest)
    return functools.partial(fn, *args, **kwargs)


def _ufunc_of(fn: Any) -> np.ufunc | None:
    """The ufunc of a recorded call (a ufunc, or one of its methods such as ``np.add.reduce``), else None."""
    if isinstance(fn, np.ufunc):
        return fn
    owner = getattr(fn, "__self__", None)
    return owner if isinstance(owner, np.ufunc) else None


def _writes_of(fn: Any, args: tuple, kwargs: dict) -> list[np.ndarray] | None:
    """The arrays a recorded call writes; None for a call of unknown effect (an optimizer's step)."""
    if _ufunc_of(fn) is not None:
        written = [o for o in kwargs.get("out") or () if isinstance(o, np.ndarray)]
        return written + [args[0]] if getattr(fn, "__name__", "") == "at" else written
    if fn in (_assign_all, _refresh, _setitem):
        return [args[0]]
    if fn is _check:
        return []
    return None


def _written_roots(program: list[tuple[Callable, tuple, dict]]) -> set[int]:
    """id() of every buffer some recorded call writes (any array a call of unknown effect gets counts)."""
    written: set[int] = set()
    for fn, args, kwargs in program:
        arrays = _writes_of(fn, args, kwargs)
        written.update(id(_root(a)) for a in (_arrays_in(args) + _arrays_in(kwargs) if arrays is None else arrays))
    return written


class _NotRebased(Exception):
    """A view of a buffer that cannot be made on another array the same way."""


def _rebase(x: Any, mapping: dict[int, tuple[np.ndarray, np.ndarray]], readonly: bool = False) -> Any:
    """``x`` with every view of a buffer in ``mapping`` (id(buffer) -> (buffer, array of the same layout))
    made the same way on the array (``readonly``: views that cannot write)."""
    def rebased(x: np.ndarray) -> np.ndarray:
        hit = mapping.get(id(_root(x)))
        if hit is None:
            return x
        buf, array = hit
        if x is buf and not readonly:
            return array
        offset = x.__array_interface__["data"][0] - buf.__array_interface__["data"][0]
        if x.dtype != buf.dtype or offset < 0 or any(st < 0 for st in buf.strides):
            raise _NotRebased
        view = np.ndarray(x.shape, x.dtype, buffer=array.ravel(order="K"), offset=offset, strides=x.strides)
        if readonly:
            view.flags.writeable = False
        return view
    return _map_arrays(x, rebased)


def _call_key(x: Any, version: dict[int, int]) -> Any:
    """What a call's operand is, for finding repeated calls: an array by its memory, layout and how many
    writes its buffer has had so far; a number by its type and exact digits (0.0 and -0.0 differ)."""
    if isinstance(x, np.ndarray):
        root = _root(x)
        return ("a", id(root), x.__array_interface__["data"][0], x.shape, x.strides, x.dtype.str,
                version.get(id(root), 0))
    if isinstance(x, (tuple, list)):
        return (type(x).__name__, tuple(_call_key(v, version) for v in x))
    if isinstance(x, dict):
        return ("dict", tuple((k, _call_key(v, version)) for k, v in sorted(x.items())))
    if x is None or isinstance(x, (bool, int, float, complex, str, np.generic, np.dtype)):
        return (type(x).__name__, repr(x))
    return ("obj", id(x))


def _eliminate_common_calls(capture: _Capture) -> None:
    """A ufunc call repeating an earlier one on unchanged inputs: later calls read the earlier result.

    E.g. MSE's ``output - target``, computed by its forward and again by its backward; the softmax
    cross-entropy's backward recomputes from the logits. Both results must be buffers written once.
    """
    try:
        program, reads = _common_calls_dropped(capture, list(capture.program), list(capture.reads))
    except _NotRebased:          # a view of a repeated result that cannot be made on the earlier one: keep both
        return
    capture.program, capture.reads = program, reads


def _common_calls_dropped(capture: _Capture, program: list, reads: list) -> tuple[list, list]:
    ours, live = capture.recorder.buffers_by_id, capture.live_roots
    write_count: dict[int, int] = {}
    for fn, args, kwargs in program:
        for a in _writes_of(fn, args, kwargs) or ():
            write_count[id(_root(a))] = write_count.get(id(_root(a)), 0) + 1
    version: dict[int, int] = {}
    seen: dict[Any, np.ndarray] = {}
    mapping: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    keep = [True] * len(program)
    for i, (fn, args, kwargs) in enumerate(program):
        if mapping:
            args, kwargs = _rebase(args, mapping), _rebase(kwargs, mapping)
            program[i] = (fn, args, kwargs)
            reads[i] = _rebase(reads[i], mapping)
        writes = _writes_of(fn, args, kwargs)
        if writes is None:                      # an optimizer's step: anything may have changed
            seen.clear()
            continue
        outs = kwargs.get("out")
        key = None
        if (_ufunc_of(fn) is not None and getattr(fn, "__name__", "") != "at" and outs is not None
                and len(outs) == 1 and isinstance(outs[0], np.ndarray)):
            out = outs[0]
            if id(out) in ours and write_count.get(id(out)) == 1 and id(out) not in live:
                rest = {k: v for k, v in kwargs.items() if k != "out"}
                key = (fn, _call_key(args, version), _call_key(rest, version), out.shape, out.strides,
                       out.dtype.str)
        for a in writes:
            version[id(_root(a))] = version.get(id(_root(a)), 0) + 1
        if key is None:
            continue
        earlier = seen.get(key)
        if earlier is None:
            seen[key] = outs[0]
        else:
            mapping[id(outs[0])] = (outs[0], earlier)
            keep[i] = False
    return ([e for e, k in zip(program, keep, strict=True) if k],
            [r for r, k in zip(reads, keep, strict=True) if k])


def _direct_program(capture: _Capture, arrays: tuple) -> None:
    """Bind the caller's argument arrays into a second list of calls, which then reads them in place.

    An argument qualifies when the step never writes its buffer nor returns it, the caller's array
    has the buffer's exact layout, and it shares no memory with a buffer, parameter or optimizer state
    the replay writes. The others are still copied in. The eager step reads the caller's arrays too.
    """
    capture.bound, capture.direct_calls, capture.direct_copies = [], capture.calls, capture.copies
    capture.last_arrays = arrays
    written = _written_roots(capture.program)
    guarded = [b for b in capture.recorder.buffers if id(b) not in capture.recorder.args]
    guarded += [p.data for p, _ in capture.params]
    for opt in capture.recorder.optimizers:
        for state in getattr(opt, "state", {}).values():
            guarded += [a for a in state.values() if isinstance(a, np.ndarray)] if isinstance(state, dict) else []
    mapping: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for i, buf in capture.copies:
        a = arrays[i] if i < len(arrays) else None
        if (type(a) is not np.ndarray or a.shape != buf.shape or a.dtype != buf.dtype or a.strides != buf.strides
                or not (a.flags.c_contiguous or a.flags.f_contiguous)
                or id(buf) in written or id(buf) in capture.live_roots
                or any(np.may_share_memory(a, g) for g in guarded)):
            continue
        mapping[id(buf)] = (buf, a)
    if not mapping:
        return
    try:
        program = [(fn, _rebase(args, mapping, readonly=True), _rebase(kwargs, mapping, readonly=True))
                   for fn, args, kwargs in capture.program]
    except _NotRebased:
        return
    capture.direct_calls = [_bind(fn, args, kwargs) for fn, args, kwargs in program]
    capture.bound = [(i, mapping[id(buf)][1]) for i, buf in capture.copies if id(buf) in mapping]
    capture.direct_copies = [(i, buf) for i, buf in capture.copies if id(buf) not in mapping]


def _full_view_of(a: Any, root: np.ndarray) -> bool:
    return (isinstance(a, np.ndarray) and a.shape == root.shape and a.strides == root.strides
            and a.dtype == root.dtype and a.__array_interface__["data"][0] == root.__array_interface__["data"][0])


def _substitute(x: Any, old: np.ndarray, new: np.ndarray) -> Any:
    return _map_arrays(x, lambda a: new if _root(a) is old else a)


def _reuse_buffers(capture: _Capture) -> None:
    """An elementwise NumPy call writes into an input buffer that nothing reads afterwards (better cache use)."""
    rec = capture.recorder
    program, reads = capture.program, capture.reads
    last_read: dict[int, int] = {}
    for i, entry_reads in enumerate(reads):
        for a in entry_reads:
            last_read[id(_root(a))] = i
    visible = (_assign_all,)

    def transparent(fn: Any) -> bool:
        return isinstance(fn, np.ufunc) or fn in visible or getattr(fn, "__self__", None).__class__ is np.ufunc

    ours = rec.buffers_by_id
    for i, (fn, args, kwargs) in enumerate(program):
        outs = kwargs.get("out")
        if not isinstance(fn, np.ufunc) or fn.signature is not None or outs is None or len(outs) != 1:
            continue
        out = outs[0]
        if id(out) not in ours or id(out) in capture.live_roots or last_read.get(id(out), -1) < i:
            continue
        if any(isinstance(a, np.ndarray) and _root(a) is out for a in args):
            continue
        later = [j for j in range(i + 1, len(program)) if any(_root(a) is out for a in reads[j])]
        if not all(transparent(program[j][0]) and all(_full_view_of(a, out) for a in reads[j] if _root(a) is out)
                   for j in later):
            continue
        for a in args:
            if not isinstance(a, np.ndarray):
                continue
            root = _root(a)
            if (id(root) in ours and id(root) not in capture.live_roots and _full_view_of(a, root)
                    and root.shape == out.shape and root.dtype == out.dtype and root.flags.writeable
                    and last_read.get(id(root)) == i and root is not out):
                program[i] = (fn, args, dict(kwargs, out=(root,)))
                for j in later:
                    f, a2, k2 = program[j]
                    program[j] = (f, _substitute(a2, out, root), _substitute(k2, out, root))
                    reads[j] = _substitute(reads[j], out, root)
                last_read[id(root)] = last_read[id(out)]
                break


def _eliminate_copies(capture: _Capture) -> None:
    """A copy of a fresh ufunc result that nothing else reads: let the ufunc write into the copy's buffer."""
    rec = capture.recorder
    program, reads = capture.program, capture.reads
    readers: dict[int, int] = {}
    for entry_reads in reads:
        for a in entry_reads:
            readers[id(_root(a))] = readers.get(id(_root(a)), 0) + 1
    made_by = {id(rec.buffers_by_id[key]): index for key, index in rec.producer.items() if key in rec.buffers_by_id}
    index_of = {id(entry): i for i, entry in enumerate(program)}
    drop: set[int] = set()
    for i, (fn, args, _) in enumerate(program):
        if fn is not _assign_all:
            continue
        buf, src = args
        root = _root(src)
        if (src.shape != root.shape or src.strides != root.strides or src.dtype != buf.dtype
                or readers.get(id(root), 0) != 1 or id(root) in capture.live_roots):
            continue
        j_original = made_by.get(id(root))
        if j_original is None:
            continue
        j = index_of.get(id(rec.program_entries[j_original]))
        if j is None:
            continue
        pfn, pargs, pkwargs = program[j]
        outs = pkwargs.get("out")
        is_ufunc = isinstance(pfn, np.ufunc) or isinstance(getattr(pfn, "__self__", None), np.ufunc)
        if not is_ufunc or outs is None or len(outs) != 1 or outs[0] is not root:
            continue
        program[j] = (pfn, pargs, dict(pkwargs, out=(buf,)))
        drop.add(i)
    if drop:
        capture.program = [e for i, e in enumerate(program) if i not in drop]
        capture.reads = [r for i, r in enumerate(reads) if i not in drop]


def _eliminate_dead_code(capture: _Capture) -> None:
    """Drop entries whose buffers nothing reads (e.g. the input gradient of the first layer)."""
    rec = capture.recorder
    live: set[int] = set()

    def mark(layout: Any) -> None:
        if layout[0] in ("value", "array"):
            live.add(id(_root(layout[1])))
        elif layout[0] == "seq":
            for x in layout[2]:
                mark(x)
        elif layout[0] == "dict":
            for x in layout[1].values():
                mark(x)

    mark(capture.outputs)
    for _, g in capture.grads:
        if g is not None:
            live.add(id(_root(g.data)))
    capture.live_roots = set(live)
    keep = [True] * len(capture.program)
    made_by = {index: key for key, index in rec.producer.items()}
    for i in range(len(capture.program) - 1, -1, -1):
        kind = capture.signature[i][0]
        key = made_by.get(i)
        if key is not None and key not in live and kind in ("ufunc", "function", "method"):
            keep[i] = False
            continue
        for a in rec.reads[i]:
            live.add(id(_root(a)))
    rec.program_entries = list(capture.program)
    capture.program = [e for e, k in zip(capture.program, keep, strict=True) if k]
    capture.reads = [r for r, k in zip(rec.reads, keep, strict=True) if k]
