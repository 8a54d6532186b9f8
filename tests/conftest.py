"""Suite-wide test settings.

The ``rng`` fixture (a ``numpy.random.Generator`` seeded from the test's id, so every test draws the same
numbers whichever tests ran before it) comes from tinygrad_lab's pytest plugin; tests take their random
data from it, never from a module-level generator.

The hypothesis profile ``mutation`` is for ``benchmarks/mutation.py``: derandomized, so a mutant's
verdict does not depend on which examples a run happened to draw; 5 examples per property, so a
run over the op table stays within minutes.
"""
from __future__ import annotations

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the suite runs without hypothesis too (its property tests then skip or fail to import)
    pass
else:
    settings.register_profile("mutation", max_examples=5, derandomize=True, deadline=None, database=None,
                              suppress_health_check=[HealthCheck.too_slow])
