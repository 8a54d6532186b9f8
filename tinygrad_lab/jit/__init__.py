"""Capture a training step's NumPy calls once, replay them: `tinygrad_lab.jit` (in the manner of tinygrad's TinyJit).

A function decorated with :func:`jit` runs eagerly on its first call. The next two calls run it
eagerly too, but record every NumPy call it makes (forward, loss, backward: each ufunc, reduction,
copy and indexing, with the arrays it read and wrote) and check that both recordings are the same
program. From then on a call with arguments of the same shapes and dtypes replays the flat list of
NumPy calls into the recorded (preallocated) buffers: no Values, no graph, no Python logic of the
model. Argument arrays passed again (full-batch training) are read in place, new ones (mini-batches)
are copied into the recorded input buffers. An optimizer's (and a learning-rate scheduler's)
``step()`` is recorded as one call and made for real at each replay (so learning-rate schedules and
Adam's step counter work); parameters and optimizer state are updated in place, so eager code sees
them. The results are those of the eager function, bit for bit.

What re-captures and what raises:

* other shapes, dtypes or non-array arguments: a new capture (one per signature, kept);
* a Python branch on data (``if loss < 0.1:``, a check such as BCE's input range): recorded as a
  guard, checked at every replay; when it would go the other way the call runs eagerly and the
  step is captured again;
* a step whose two recordings differ (a Python number or constant array that changes between
  calls, e.g. a random dropout mask, a new parameter): a ``JitWarning`` explaining what changed, and
  the function runs eagerly from then on for those argument shapes (the results stay right);
* ``float(loss)`` or ``.item()`` on the step's data: ``JitError`` naming the line (the number
  would be frozen at its captured value);
* a parameter whose ``.data`` was replaced (not updated in place), a parameter frozen or unfrozen
  (``requires_grad_``), a module switched by ``train()`` / ``eval()``: a new capture;
* a random draw (dropout in training mode), a gradient computed outside the recorded NumPy calls
  (convolutions, pooling, embeddings), a branch on data after ``optimizer.step()``: a ``JitWarning``, and
  the function runs eagerly for those argument shapes.

Python side effects of the function (printing, appending to a list) happen only while capturing,
as with ``jax.jit``; return Values (copies of the results are returned at every call).

Example:
    >>> from tinygrad_lab import Value, nn, optim
    >>> from tinygrad_lab.random import manual_seed
    >>> _ = manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    >>> opt = optim.SGD(model.parameters(), lr=1.0)
    >>> @jit
    ... def step(x, y):
    ...     opt.zero_grad()
    ...     loss = nn.MSELoss()(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> x, y = Value(np.array([[0.0, 1.0], [1.0, 0.0]])), Value(np.array([[1.0], [1.0]]))
    >>> losses = [float(step(x, y).data) for _ in range(6)]
    >>> step.replays, losses[-1] < losses[0]
    (3, True)
"""
from .errors import JitError, JitWarning
from .function import JitFunction, jit

__all__ = ["jit", "JitFunction", "JitError", "JitWarning"]
