"""The full check: whole Jacobians by backward and by central differences, compared pair by pair.

:func:`full_check` is the work behind ``gradcheck`` (and ``check_grads(method='full')``,
``gradcheck_module``); :func:`gradgrad_check` runs it on the first-order gradients for
``gradgradcheck``. Besides comparing values, the full check audits the shapes backward returns,
runs backward twice (it must be reentrant), calls func twice (it must be deterministic), and
after a failure checks each op of the graph on its own.

Example:
    >>> x = Value([0.5, -1.0], requires_grad=True)
    >>> full_check(lambda x: x.tanh(), (x,), Tolerance(), 0.0, "gradcheck").failures
    []
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import Value
from .diagnosis import NOT_TWICE_DIFFERENTIABLE, JacobianPair, all_wrong_entries_at_kinks, graph_cut
from .errors import GradcheckFailure
from .jacobian import Kink, analytic_jacobians, grads_of, numeric_jacobian
from .op_check import audit_backward_shapes, find_culprits
from .point import Point, as_tuple, checked_slots, default_name, differentiable_outputs, float64_inputs, writable
from .report import (
    Outcome,
    failed_outcome,
    failure_for_pair,
    kink_note,
    lowered_input_notes,
    output_dtype_notes,
    output_label,
)
from .tolerance import Tolerance

__all__ = ["full_check", "gradgrad_check", "as_grad_outputs"]


def full_check(func: Callable, inputs: tuple, tol: Tolerance, nondet_tol: float, title: str,
               input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
               zero_gradient_cause: str = "", notes: Sequence[str] = ()) -> Outcome:
    """gradcheck's work: full Jacobians by backward and by central differences, compared pair by pair.

    `notes` are caveats known before the check (inputs converted to float64); the check adds its own.

    Example:
        >>> x = Value([0.0, 1.0], requires_grad=True)
        >>> outcome = full_check(lambda x: x.abs(), (x,), Tolerance(), 0.0, "gradcheck")
        >>> outcome.failures, outcome.notes[0][:37]
        ([], 'input 0 element (0,) = 0 is at (or wi')
    """
    slots = checked_slots(inputs, input_names, title)
    with writable(slots):
        point = Point(func, inputs, slots, title)
        outputs = point.outputs
        names = list(output_names) if output_names is not None else [f"output {k}" for k in range(len(outputs))]
        output_notes = output_dtype_notes(point, names)
        notes = list(notes) + output_notes
        round_off = next((f"{names[k]} is {outputs[k].dtype}" for k in point.indices
                          if outputs[k].dtype != np.float64), "")

        shape_failures = audit_backward_shapes(point.checked)
        if shape_failures:
            return failed_outcome(title, shape_failures, notes, tol)

        analytic, unused = analytic_jacobians(point)
        failures = _reentrancy_failures(point, analytic, nondet_tol)
        again = point.evaluate()
        if not np.all(np.abs(again - point.f0) <= nondet_tol) and not np.array_equal(again, point.f0, equal_nan=True):
            failures.append(_nondeterminism_failure(float(np.nanmax(np.abs(again - point.f0)))))
            return failed_outcome(title, failures, notes, tol)

        for i, slot in enumerate(slots):
            numeric, kinks = numeric_jacobian(point, slot, tol)
            compared = [failure_for_pair(names[k], outputs[k].shape, slot.name, slot.shape, str(slot.value.dtype),
                                         analytic[i][rows], numeric[rows], tol, round_off)
                        for k, rows in point.rows()]
            for k, failure in zip(point.indices, compared):
                if failure is not None:
                    _add_cause(failure, outputs[k], unused[i], zero_gradient_cause)
                    failures.append(failure)
            if round_off:  # lower-precision outputs: one-sided differences are round-off, not evidence of kinks
                continue
            _explain_by_kinks([f for f in compared if f is not None], kinks, tol)
            notes += [kink_note(slot, kink, output_label(point, kink.output_row, names), tol.eps) for kink in kinks]
    if not failures:
        return Outcome(failures, notes)
    return failed_outcome(title, failures, notes, tol, find_culprits(point.checked, tol))


def _explain_by_kinks(failures: list[GradcheckFailure], kinks: list[Kink], tol: Tolerance) -> None:
    """When every wrong entry of a finite-difference failure (of one input) sits at a detected kink, say so first."""
    if not kinks:
        return
    at_kink = {k.element for k in kinks}
    for failure in failures:
        assert failure.analytic is not None and failure.numeric is not None
        pair = JacobianPair(failure.analytic, failure.numeric, failure.input_shape, failure.output_shape, tol)
        hint = all_wrong_entries_at_kinks(pair, at_kink)
        if hint:
            failure.hints.insert(0, hint)


def _add_cause(failure: GradcheckFailure, output: Value, unused: bool, zero_gradient_cause: str) -> None:
    if zero_gradient_cause and failure.hints and failure.hints[-1].startswith("zero gradient"):
        failure.hints.insert(0, zero_gradient_cause)
        return
    cause = graph_cut(failure.output, failure.input, output.requires_grad, unused)
    if cause:
        failure.hints.insert(0, cause)


def _reentrancy_failures(point: Point, analytic: list[np.ndarray], nondet_tol: float) -> list[GradcheckFailure]:
    again, _ = analytic_jacobians(point)
    failures = []
    for slot, first, second in zip(point.slots, analytic, again):
        same = (first == second) | (np.isnan(first) & np.isnan(second))  # a NaN in both passes is the same result
        difference = float(np.max(np.where(same, 0.0, np.abs(first - second)), initial=0.0))
        if not difference <= nondet_tol:
            hint = (f"backward is not deterministic (not reentrant): two backward passes through the same graph "
                    f"gave gradients for {slot.name} that differ by {difference:.3g} > nondet_tol={nondet_tol:g}; "
                    "backward must not depend on state it changes")
            summary = f"backward is not reentrant for {slot.name}"
            failures.append(GradcheckFailure("outputs", slot.name, (), slot.shape, first, second, [hint], summary))
    return failures


def _nondeterminism_failure(difference: float) -> GradcheckFailure:
    hint = ("func is not deterministic, so finite differences are meaningless: random ops (dropout, "
            "sampling) must be seeded inside func, and modules put in eval mode")
    summary = f"func returned different outputs for the same inputs (max difference {difference:.3g})"
    return GradcheckFailure("func", "inputs", (), (), None, None, [hint], summary)


# ----------------------------------------------------------------------------- second order


def as_grad_outputs(grad_outputs: Any, outputs: list[Value], seed: int | None) -> tuple:
    """The grad_outputs of a second-order check: the given ones (checked against the outputs), or random
    normal Values that require grad, drawn from `seed`.

    Example:
        >>> [g.shape for g in as_grad_outputs(None, [Value([1.0, 2.0])], seed=0)]
        [(2,)]
    """
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        return tuple(Value(rng.standard_normal(out.shape).astype(out.dtype), requires_grad=True) for out in outputs)
    given = tuple(v if isinstance(v, Value) else Value(np.asarray(v, dtype=np.float64))
                  for v in as_tuple(grad_outputs))
    if len(given) != len(outputs):
        raise ValueError(f"gradgradcheck: grad_outputs has {len(given)} entries but func returns {len(outputs)} "
                         "floating-point outputs; give one per output")
    for k, (g, out) in enumerate(zip(given, outputs)):
        if g.shape != out.shape:
            raise ValueError(f"gradgradcheck: grad_outputs[{k}] has shape {g.shape} but output {k} has shape "
                             f"{out.shape}")
    return given


def gradgrad_check(func: Callable, inputs: tuple, grad_outputs: Any, tol: Tolerance, nondet_tol: float,
                   seed: int | None, title: str, names: Sequence[str] | None = None,
                   notes: Sequence[str] = ()) -> Outcome:
    """gradgradcheck's work: :func:`full_check` of the first-order gradients (of the inputs and the grad_outputs).

    Example:
        >>> x = Value([0.3, -0.7], requires_grad=True)
        >>> gradgrad_check(lambda x: x.tanh(), (x,), None, Tolerance(), 0.0, 0, "gradgradcheck").failures
        []
    """
    slots = checked_slots(inputs, names, title)
    given, lowered = float64_inputs(as_grad_outputs(grad_outputs, differentiable_outputs(func, inputs, title), seed))
    notes = list(notes) + lowered_input_notes([(f"grad_output {k}", dtype) for k, dtype in lowered], tol.eps)

    def first_order(*args: Any) -> tuple:
        """(inputs..., grad_outputs...) -> gradients of sum(grad_output * output) for each checked input."""
        xs, grads_out = args[: len(inputs)], args[len(inputs) :]
        wrt = [xs[slot.position] for slot in slots]
        grads = grads_of(differentiable_outputs(func, xs, title), wrt, grads_out, create_graph=True)
        return tuple(g if g is not None else Value(np.zeros(x.shape, dtype=x.dtype)) for g, x in zip(grads, wrt))

    input_names = list(names) if names is not None else [default_name(p, x) for p, x in enumerate(inputs)]
    input_names += [f"grad_output {k}" for k in range(len(given))]
    output_names = [f"grad of {slot.name}" for slot in slots]
    return full_check(first_order, inputs + given, tol, nondet_tol, title, input_names, output_names,
                      NOT_TWICE_DIFFERENTIABLE, notes)
