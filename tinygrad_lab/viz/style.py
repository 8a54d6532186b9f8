"""How a graph looks: every colour and shape (so the legend and the nodes always agree) and the texts
shown for values and ops (shapes, data and gradient summaries, op arguments).

Example:
    >>> import numpy as np
    >>> _summary(np.array([1.0, float("nan"), 3.0, 4.0, 5.0]))
    ('min 1  mean 3.25  max 5; 1 NaN', 1)
    >>> _fmt_shape(()), _fmt_arg(slice(1, None)), _plural(1, "value")
    ('scalar', '[1:]', '1 value')
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

_FONT = "Helvetica"
_STYLE = {
    # kind: (node attributes, legend text)
    "param": ({"fillcolor": "#c7e9c0", "color": "#31a354"}, "parameter"),
    "input": ({"fillcolor": "#c6dbef", "color": "#3182bd"}, "leaf (requires grad)"),
    "const": ({"fillcolor": "#f0f0f0", "color": "#969696", "style": "rounded,filled,dashed"},
              "constant (no grad)"),
    "value": ({"fillcolor": "#ffffff", "color": "#636363"}, "intermediate value"),
    "root": ({"fillcolor": "#fdd49e", "color": "#d95f0e", "penwidth": "2.2"}, "output (root)"),
    "op": ({"shape": "ellipse", "fillcolor": "#fff7bc", "color": "#cc9a06", "style": "filled",
            "margin": "0.04,0.02"}, "operation"),
    "module": ({"shape": "box3d", "fillcolor": "#e5d8f0", "color": "#756bb1", "style": "filled",
                "margin": "0.18,0.16"},  # room between the title and the (thick, 3-d) border
               "module call (collapsed)"),
    "more": ({"shape": "note", "fillcolor": "#eeeeee", "color": "#969696", "style": "filled,dashed"},
             "nodes left out (max_nodes)"),
    "freed": ({"shape": "note", "fillcolor": "#fee0d2", "color": "#de2d26", "style": "filled"},
              "graph freed by backward()"),
    "bad": ({}, "red border: NaN or inf inside"),
}
_BAD_BORDER = {"color": "#e31a1c", "penwidth": "2.5"}
_CLUSTER_FILLS = ("#f4f2fb", "#eae7f6", "#dfdaf0")
_ORDER_COLOR = "#b2182b"
_MAIN_EDGE = " [weight=4]"
_TINY = 4  # arrays with at most this many numbers are shown in full
_NO_GRAD_YET = "grad: not computed \u2014 call backward()"
_NOTES = {
    "no_grad_yet": "No gradients yet: call backward() (retain_graph=True keeps the graph to draw it after).",
    "not_kept": "Intermediate values keep no gradient unless .retain_grad() is called before backward().",
    "computed": "grad: the gradient of the output, computed for this drawing (grads=True); no .grad was changed.",
}
_FREED_TEXT = "graph freed by backward();\nuse retain_graph=True to draw after backward"


def _num(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.4g}"


def _nested(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested(x) for x in items) + "]"
    return _num(items)


def _scale(x: np.ndarray) -> float:
    """The largest |x| when finite and > 0 (dividing by it keeps sums of huge or tiny numbers in range), else 1."""
    top = float(np.max(np.abs(x), initial=0.0))
    return top if 0 < top < math.inf else 1.0


def _mean(x: np.ndarray) -> float:
    """The mean of float64 numbers without overflow (1e308 and 1e308 average to 1e308, not inf)."""
    top = _scale(x)
    return top * float(np.mean(x / top))


def _l2_norm(x: np.ndarray) -> float:
    """sqrt(sum(x**2)) of float64 numbers without overflow or underflow of the squares.

    Example:
        >>> _l2_norm(np.array([1e200] * 4)), _l2_norm(np.array([1e-200] * 4))
        (2e+200, 2e-200)
    """
    top = _scale(x)
    return top * float(np.sqrt(np.sum(np.square(x / top))))


def _summary(array: np.ndarray) -> tuple[str, int]:
    """A short text for an array and how many of its numbers are NaN or inf."""
    kind = array.dtype.kind
    if kind not in "biuf":
        return str(array.dtype), 0
    if array.ndim == 0 and kind == "f":  # the common scalar case, kept fast for long chains
        number = float(array)
        return f"{number:.4g}", 0 if math.isfinite(number) else 1
    if array.size == 0:
        return "empty", 0
    if array.size <= _TINY:
        bad = 0 if array.dtype.kind != "f" else int(array.size - np.count_nonzero(np.isfinite(array)))
        return (_num(array.item()) if array.ndim == 0 else _nested(array.tolist())), bad
    x = array.astype(np.float64, copy=False)
    finite = np.isfinite(x)
    bad = int(x.size - np.count_nonzero(finite))
    note = ""
    if bad:
        nans = int(np.count_nonzero(np.isnan(x)))
        note = ", ".join(t for t in (f"{nans} NaN" if nans else "", f"{bad - nans} inf" if bad - nans else "")
                         if t)
        x = x[finite]
        if x.size == 0:
            return note, bad
        note = "; " + note
    return f"min {_num(x.min())}  mean {_num(_mean(x))}  max {_num(x.max())}{note}", bad


def _fmt_shape(shape: tuple) -> str:
    return "scalar" if len(shape) == 0 else str(tuple(int(s) for s in shape))


def _fmt_index_part(x: Any) -> str:
    if isinstance(x, slice):
        text = ("" if x.start is None else str(x.start)) + ":" + ("" if x.stop is None else str(x.stop))
        return text + (f":{x.step}" if x.step is not None else "")
    if x is Ellipsis:
        return "..."
    return _fmt_arg(x)


def _fmt_arg(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return _nested(x.tolist()) if x.size <= _TINY else f"array{_fmt_shape(x.shape)} {x.dtype}"
    if isinstance(x, slice) or x is Ellipsis:
        return "[" + _fmt_index_part(x) + "]"
    if isinstance(x, tuple) and any(isinstance(p, slice) or p is Ellipsis for p in x):
        return "[" + ", ".join(_fmt_index_part(p) for p in x) + "]"
    if isinstance(x, (tuple, list)):
        inner = ", ".join(_fmt_arg(p) for p in x)
        return f"({inner},)" if isinstance(x, tuple) and len(x) == 1 else (
            f"({inner})" if isinstance(x, tuple) else f"[{inner}]")
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return _num(x)
    if isinstance(x, str):
        return x
    if isinstance(x, np.dtype):
        return str(x)
    if isinstance(x, type):
        return x.__name__
    if hasattr(x, "shape") and hasattr(x, "_prev"):
        return f"Value{_fmt_shape(x.shape)}"
    return repr(x)


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _op_name(op: Any) -> str:
    return getattr(op, "name", None) or getattr(op, "__name__", type(op).__name__).lower()


def _op_args(value: Any, full: bool = False) -> list[str]:
    """The op's static arguments as ``name=value`` texts (None and False left out), each cut to 40
    characters unless ``full``."""
    args = getattr(value, "_args", None) or {}
    texts = [f"{k}={_fmt_arg(v)}" for k, v in args.items() if v is not None and v is not False]
    return texts if full else [_short(t) for t in texts]


def _grad_norm(value: Any) -> float | None:
    grad = getattr(value, "grad", None)
    if grad is None:
        return None
    data = np.asarray(getattr(grad, "data", grad))
    if data.dtype.kind not in "biuf":
        return None
    return _l2_norm(data.astype(np.float64, copy=False))


_DTYPE_NAMES: dict[Any, str] = {}


def _dtype_name(dtype: Any) -> str:
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
