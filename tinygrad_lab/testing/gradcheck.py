"""Gradient checks, the public API: compare the gradients backward computes with finite differences.

* :func:`gradcheck` / :func:`gradgradcheck`: ``torch.autograd.gradcheck`` semantics (full Jacobians,
  central differences in float64), plus a failure report: the wrong output/input pairs, their worst
  entries, and hints when the error looks like a known mistake (constant factor, sign, transposed,
  missing broadcast reduction, zero gradient, non-differentiable points).
* :func:`check_grads`: full or cheap random-projection checks (``<u, J v>``), first or second order.
* :func:`gradcheck_module`: every parameter (by name) and float input of an ``nn.Module``.
* :func:`assert_grad_close`: the pytest-friendly form.
* :class:`GradcheckError`, :class:`GradcheckWarning`, :class:`GradcheckFailure`: what a check gives back.

Float inputs of lower precision (float32, float16) are checked on float64 copies, so differences are
computed in float64; a :class:`GradcheckWarning` says so. The work is done below this module:
``point`` (calling func), ``jacobian``, ``diagnosis`` (the hints), ``op_check`` (each op on its own),
``report``, ``full_check`` and ``projection_check``.

Example:
    >>> from tinygrad_lab import Value
    >>> x = Value([0.5, -1.0, 2.0], requires_grad=True)
    >>> gradcheck(lambda x: (x * x.exp()).sum(), (x,))
    True
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..autograd import Value, detect_anomaly, unwrap
from ..utils.checks import is_integer
from ..utils.frames import user_stacklevel
from .errors import GradcheckError, GradcheckFailure, GradcheckWarning
from .full_check import full_check, gradgrad_check
from .jacobian import unit_normals
from .point import as_tuple, checked_slots, default_name, differentiable_outputs, float64_inputs
from .projection_check import directional_first_order, projection_check
from .report import Outcome, lowered_input_notes
from .tolerance import Tolerance, check_nonnegative, checked_tolerance

__all__ = [
    "GradcheckError", "GradcheckWarning", "GradcheckFailure", "gradcheck", "gradgradcheck", "check_grads",
    "gradcheck_module", "assert_grad_close", "detect_anomaly",
]


# ----------------------------------------------------------------------------- shared steps


def _in_float64(inputs: tuple, tol: Tolerance) -> tuple[tuple, list[str]]:
    """Float64 copies of the lower-precision float inputs, and the caveats that say so."""
    converted, lowered = float64_inputs(inputs)
    return converted, lowered_input_notes([(default_name(p, inputs[p]), dtype) for p, dtype in lowered], tol.eps)


@contextmanager
def _explaining_float64_copies(notes: list[str], caller: str) -> Iterator[None]:
    """If func fails on the float64 copies of its inputs, add a note saying the check made them."""
    try:
        yield
    except Exception as error:
        if notes:
            note = (f"{caller} called func with float64 copies of its lower-precision float inputs, so that "
                    "finite differences are computed in float64; Values that func uses without taking them as "
                    "inputs keep their dtype: pass them as inputs too (or check a module with gradcheck_module, "
                    "which converts its parameters)")
            if sys.version_info >= (3, 11):
                error.add_note(note)
            else:  # Python 3.10 has no add_note: set what it sets (PEP 678's __notes__, which pytest shows)
                error.__notes__ = [*getattr(error, "__notes__", ()), note]  # type: ignore[attr-defined]
        raise


def _check_options(order: Any, method: Any, caller: str, directions: Any = 1) -> None:
    if not is_integer(order) or order not in (1, 2):
        raise ValueError(f"{caller}: order must be 1 or 2, got {order!r}")
    if method not in ("full", "projection"):
        raise ValueError(f"{caller}: method must be 'full' or 'projection', got {method!r}")
    if not is_integer(directions) or directions < 1:
        raise ValueError(f"{caller}: directions must be an integer >= 1 (random directions per check), "
                         f"got {directions!r}")


def _finish(outcome: Outcome, raise_exception: bool) -> bool:
    __tracebackhide__ = True
    if not outcome.failures:
        if outcome.notes:
            message = "gradient check passed, but:\n  - " + "\n  - ".join(outcome.notes)
            warnings.warn(message, GradcheckWarning, stacklevel=user_stacklevel())
        return True
    if raise_exception:
        raise GradcheckError(outcome.report, outcome.failures)
    return False


# ----------------------------------------------------------------------------- gradcheck, gradgradcheck


def gradcheck(func: Callable[..., Any], inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0) -> bool:
    """Check the gradients of `func` at `inputs` against central finite differences (like torch's gradcheck).

    `func` takes the inputs (Values; other items are passed through) and returns a Value or a tuple of
    Values. Every floating-point input Value with ``requires_grad=True`` is checked: the full Jacobian of
    each output with respect to it is built with one backward per output element and compared with
    central differences (step `eps`, computed in float64): an entry is wrong when
    ``|analytic - numeric| > atol + rtol * |numeric|``. Backward is also run twice (its results must
    agree within `nondet_tol`). Float inputs of lower precision (float32, float16) are checked on
    float64 copies, as finite differences in float32 would be mostly round-off; a
    :class:`GradcheckWarning` says so. `eps` must be a finite number > 0, the tolerances finite and >= 0
    (else ValueError).

    Returns True; on a mismatch raises :class:`GradcheckError` whose message is a report (the wrong
    output/input pairs, their worst entries, hints such as "analytic = 0.5 x numeric") or returns False
    when ``raise_exception=False``. Caveats (inputs not float64, a point where the function has a kink)
    are issued as :class:`GradcheckWarning` when the check passes, and listed in the report otherwise.

    Example:
        >>> from tinygrad_lab import Value
        >>> a = Value([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> b = Value([0.5, -0.5], requires_grad=True)
        >>> gradcheck(lambda a, b: (a * b).tanh(), (a, b))
        True
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's frame
    tol = checked_tolerance("gradcheck", eps, atol, rtol)
    nondet_tol = check_nonnegative("gradcheck", "nondet_tol", nondet_tol)
    inputs, notes = _in_float64(as_tuple(inputs), tol)
    with _explaining_float64_copies(notes, "gradcheck"):
        outcome = full_check(func, inputs, tol, nondet_tol, "gradcheck", notes=notes)
    return _finish(outcome, raise_exception)


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
                  seed: int | None = 0) -> bool:
    """Check second-order gradients (``torch.autograd.gradgradcheck``).

    Builds ``first_order(inputs, grad_outputs) = grad(func(inputs), inputs, grad_outputs, create_graph=True)``
    and runs :func:`gradcheck` on it, so the gradients of the gradients (with respect to the inputs
    and to the grad_outputs that require grad) are compared with finite differences. `grad_outputs`
    defaults to random normal Values that require grad, drawn from `seed` (0 by default, so a check
    gives the same verdict every run; None for fresh randomness).

    Example:
        >>> from tinygrad_lab import Value
        >>> x = Value([0.3, -0.7], requires_grad=True)
        >>> gradgradcheck(lambda x: (x * x * x).sum(), (x,))
        True
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's frame
    tol = checked_tolerance("gradgradcheck", eps, atol, rtol)
    nondet_tol = check_nonnegative("gradgradcheck", "nondet_tol", nondet_tol)
    inputs, notes = _in_float64(as_tuple(inputs), tol)
    with _explaining_float64_copies(notes, "gradgradcheck"):
        outcome = gradgrad_check(func, inputs, grad_outputs, tol, nondet_tol, seed, "gradgradcheck", notes=notes)
    return _finish(outcome, raise_exception)


# ----------------------------------------------------------------------------- check_grads


def check_grads(func: Callable[..., Any], inputs: Any, order: int = 1, method: str = "full", eps: float = 1e-6,
                atol: float = 1e-5, rtol: float = 1e-3, seed: int | None = None, directions: int = 3,
                raise_exception: bool = True) -> bool:
    """Check first (``order=1``) or first and second (``order=2``) derivatives of `func` at `inputs`.

    ``method='full'`` compares whole Jacobians (:func:`gradcheck`, and :func:`gradgradcheck` for order 2).
    ``method='projection'`` compares random directional derivatives ``<u, J v>`` (u a random unit vector
    over the outputs, v standard normal over the checked inputs): one backward and two forward calls per
    direction, whatever the input size, so large inputs are cheap. Order 2 by projection checks the
    gradient of the (differentiable) directional derivative ``<grad(<u, f>), v>`` along a further random
    direction. `seed` makes the random directions (and grad_outputs) reproducible.

    Example:
        >>> import numpy as np
        >>> from tinygrad_lab import Value
        >>> x = Value(np.linspace(-1, 1, 10_000), requires_grad=True)
        >>> check_grads(lambda x: x.tanh() * x, (x,), order=2, method="projection", seed=0)
        True
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's frame
    _check_options(order, method, "check_grads", directions)
    tol = checked_tolerance("check_grads", eps, atol, rtol)
    projection = "check_grads(method='projection')"
    titles = ("gradcheck", "gradgradcheck") if method == "full" else (projection, f"{projection}, order 2")
    inputs, notes = _in_float64(as_tuple(inputs), tol)
    with _explaining_float64_copies(notes, "check_grads"):
        outcome = _check_orders(func, inputs, order, method, tol, seed, directions, titles, notes=notes)
    return _finish(outcome, raise_exception)


def _check_orders(func: Callable, inputs: tuple, order: int, method: str, tol: Tolerance, seed: int | None,
                  directions: int, titles: tuple[str, str], names: list[str] | None = None,
                  output_names: list[str] | None = None, notes: list[str] | None = None) -> Outcome:
    """The first-order check by `method`, then (order 2, if it passed) the second-order one; titles per order."""
    rng = np.random.default_rng(seed)
    notes = notes or []
    if method == "full":
        first = full_check(func, inputs, tol, 0.0, titles[0], names, output_names, notes=notes)
    else:
        first = projection_check(func, inputs, tol, rng, directions, titles[0], "first derivative", names, notes)
    if first.failures or order == 1:
        return first
    if method == "full":
        second = gradgrad_check(func, inputs, None, tol, 0.0, 0 if seed is None else seed, titles[1], names, notes)
    else:
        slots = checked_slots(inputs, names, titles[1])
        u = unit_normals([out.shape for out in differentiable_outputs(func, inputs, titles[1])], rng)
        v = [rng.standard_normal(s.shape) for s in slots]
        directional = directional_first_order(func, [s.position for s in slots], u, v, titles[1])
        what = "second derivative u . d2f[v, w]"
        second = projection_check(directional, inputs, tol, rng, directions, titles[1], what, names, notes)
    merged = list(dict.fromkeys(first.notes + second.notes))
    return Outcome(second.failures, merged, second.lines, second.culprits)


# ----------------------------------------------------------------------------- modules


def _default_loss(rng: np.random.Generator) -> Callable[[Any], Value]:
    weights: dict[int, np.ndarray] = {}

    def weighted_sum(output: Any) -> Value:
        total: Any = Value(0.0)
        for k, out in enumerate(as_tuple(output)):
            if not isinstance(out, Value) or out.dtype.kind != "f":
                continue
            if k not in weights:
                weights[k] = rng.standard_normal(out.shape)
            total = total + (out * Value(weights[k].astype(out.dtype))).sum()
        return total

    return weighted_sum


@contextmanager
def _float64_copy_of(module: Any) -> Iterator[None]:
    """Give every parameter float64 data (a copy) for the check; restore the module exactly afterwards.

    Parameters get their original arrays (same objects, same dtypes) and requires_grad flags back;
    buffers (running statistics that a forward may update) get their original objects and contents back.
    """
    params, buffers, seen = [], [], set()
    for _, param in module.named_parameters():
        if isinstance(param, Value) and id(param) not in seen:
            seen.add(id(param))
            params.append((param, param.data, param.requires_grad))
            if param.dtype.kind == "f":
                param.data = param.data.astype(np.float64)  # always a copy: the user's array is never touched
    for sub in module.modules() if hasattr(module, "modules") else [module]:
        for name, buffer in dict(getattr(sub, "_buffers", None) or {}).items():
            array = unwrap(buffer)
            buffers.append((sub, name, buffer, array.copy() if isinstance(array, np.ndarray) else None))
    try:
        yield
    finally:
        for param, data, requires_grad in reversed(params):
            param.data = data
            param.requires_grad = requires_grad
        for sub, name, buffer, contents in reversed(buffers):
            if getattr(sub, name, None) is not buffer:
                setattr(sub, name, buffer)
            array = unwrap(buffer)
            if contents is not None and isinstance(array, np.ndarray) and array.flags.writeable:
                np.copyto(array, contents)


def _float64_input(x: Any, checked: bool) -> Any:
    """A float input as a new float64 Value (requiring grad when `checked`, else a constant); others unchanged."""
    data = unwrap(x)
    if isinstance(data, (np.ndarray, list, float)) and np.asarray(data).dtype.kind == "f":
        return Value(np.array(data, dtype=np.float64), requires_grad=checked, label=getattr(x, "label", None))
    return x


def gradcheck_module(module: Any, inputs: Any, loss_fn: Callable[[Any], Value] | None = None, eps: float = 1e-6,
                     atol: float = 1e-5, rtol: float = 1e-3, seed: int | None = 0, check_inputs: bool = True,
                     raise_exception: bool = True, order: int = 1, method: str = "full",
                     directions: int = 3) -> bool:
    """Check the gradients of every parameter (by name) and every float input of an ``nn.Module``.

    The scalar checked is ``loss_fn(module(*inputs))``; by default a sum of the outputs weighted by
    fixed random numbers (seeded by `seed`), which catches any wrong entry of the Jacobian. The check
    runs on float64 copies of the parameters, buffers and float inputs; the module is restored exactly
    afterwards (same arrays, same dtypes, even if the check raises), and no ``.grad`` is touched.
    With ``check_inputs=False`` the inputs are constants (only the parameters are checked).
    `order` and `method` (with `directions`) are those of :func:`check_grads`.
    A failure names the parameter, e.g. ``parameter '1.weight'``. If the module's output changes between
    calls with the same inputs (dropout in training mode), the check fails and says so.

    Example:
        >>> import numpy as np
        >>> from tinygrad_lab import nn
        >>> net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        >>> gradcheck_module(net, np.random.default_rng(0).normal(size=(5, 3)))
        True
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's frame
    title = f"gradcheck_module({type(module).__name__})"
    if not hasattr(module, "named_parameters"):
        raise TypeError(f"gradcheck_module: module must be an nn.Module (with named_parameters()), "
                        f"got {type(module).__name__}")
    _check_options(order, method, "gradcheck_module", directions)
    tol = checked_tolerance("gradcheck_module", eps, atol, rtol)
    loss = loss_fn if loss_fn is not None else _default_loss(np.random.default_rng(seed))
    with _float64_copy_of(module):
        params = [(name, p) for name, p in module.named_parameters() if p.requires_grad and p.dtype.kind == "f"]
        model_inputs = tuple(_float64_input(x, check_inputs) for x in as_tuple(inputs))

        def loss_of(*args: Any) -> Value:
            out = loss(module(*args[len(params) :]))
            if not isinstance(out, Value):
                raise TypeError(f"{title}: loss_fn must return a Value, got {type(out).__name__}")
            return out

        names = [f"parameter {name!r}" for name, _ in params]
        names += [default_name(i, x) for i, x in enumerate(model_inputs)]
        everything = tuple(p for _, p in params) + model_inputs
        outcome = _check_orders(loss_of, everything, order, method, tol, seed, directions,
                                (title, f"{title}, order 2"), names, ["loss"])
    return _finish(outcome, raise_exception)


# ----------------------------------------------------------------------------- assertions


def assert_grad_close(func: Callable[..., Any], inputs: Any, order: int = 1, method: str = "full", eps: float = 1e-6,
                      atol: float = 1e-5, rtol: float = 1e-3, seed: int | None = None,
                      loss_fn: Callable[[Any], Value] | None = None) -> None:
    """Assert the gradients of `func` (a function, or an ``nn.Module``) match finite differences.

    For pytest: a failure raises :class:`GradcheckError` (an ``AssertionError``) whose message is the
    readable report, and this function's frame is hidden from the traceback. A module is checked with
    :func:`gradcheck_module` (with `loss_fn`); a function with :func:`check_grads`; both honour `order`
    and `method`.

    Example:
        >>> from tinygrad_lab import Value
        >>> assert_grad_close(lambda x: x.sigmoid(), (Value([0.1, 2.0], requires_grad=True),))
    """
    __tracebackhide__ = True
    if hasattr(func, "named_parameters") and callable(func):
        seed = 0 if seed is None else seed
        gradcheck_module(func, inputs, loss_fn=loss_fn, eps=eps, atol=atol, rtol=rtol, seed=seed, order=order,
                         method=method)
        return
    check_grads(func, inputs, order=order, method=method, eps=eps, atol=atol, rtol=rtol, seed=seed)
