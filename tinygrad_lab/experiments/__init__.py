"""The lab's experiment grid: change one thing at a time, train over several seeds, report.

Every group starts from the demo's configuration (2-4-4-1 sigmoid, MSE, plain SGD, Glorot-uniform
gain 4, lr 1 on the linear set and 5 on XOR-easy) and varies one setting: learning rate, hidden
units, hidden layers, activations on or off, which activation, optimizer, loss, initialisation,
batch size, learning-rate schedule; plus a data-scale study on the linear set. Each configuration
runs on both data sets for several seeds (the seeds of a setting trained at once as one stacked model,
see :mod:`tinygrad_lab.ensemble`), in parallel processes or on a Dask cluster, and :func:`run_experiments`
writes one ``report.md`` with a table and a figure per group.

A run *converged* when every training point is classified right at the end; its *epochs to
converge* is the first epoch with zero training errors. The share of seeds that converge makes
the local-minimum problem visible: some initialisations of the same network never get there.

Example:
    >>> from tinygrad_lab.experiments import GROUPS, run_experiments
    >>> [g.key for g in GROUPS][:3]
    ['learning_rate', 'hidden_units', 'hidden_layers']
    >>> run_experiments("runs/experiments", quick=True)          # doctest: +SKIP
    PosixPath('runs/experiments/report.md')
"""
from .grid import EXPERIMENT_DATASET_NAMES, GROUPS, SCALE_SIZES, ExperimentGroup, Variant, group_names, plan
from .report import stuck_runs_text
from .runner import RunSummary, run_config, run_configs, run_experiments

__all__ = ["Variant", "ExperimentGroup", "GROUPS", "SCALE_SIZES", "RunSummary", "run_config", "run_configs",
           "plan", "run_experiments", "group_names", "EXPERIMENT_DATASET_NAMES", "stuck_runs_text"]
