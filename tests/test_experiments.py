"""The experiment grid: planning, the parallel run, the report, and what the experiments are meant to show."""
import csv

import numpy as np
import pytest

from tinygrad_lab.experiments import (
    GROUPS,
    SCALE_SIZES,
    group_names,
    plan,
    run_config,
    run_configs,
    run_experiments,
)
from tinygrad_lab.lab import LabConfig, run
from tinygrad_lab.plots import SIZES


def png_size(path):
    import matplotlib.image

    image = matplotlib.image.imread(str(path))
    return image.shape[1], image.shape[0]


def test_the_grid_covers_every_experiment_of_the_lab():
    keys = group_names()
    assert keys == ["learning_rate", "hidden_units", "hidden_layers", "activation_on_off", "activation",
                    "optimizer", "loss", "init", "batch_size", "lr_schedule", "data_scale"]
    labels = {g.key: [v.label for v in g.variants] for g in GROUPS}
    assert labels["activation"][:3] == ["sigmoid", "tanh", "relu"]
    assert labels["optimizer"] == ["sgd", "momentum", "adam"]
    assert labels["loss"] == ["mse", "mae", "bce"]
    assert labels["init"][0] == "zeros" and any("Glorot" in v for v in labels["init"])
    assert labels["batch_size"] == ["full", "mini-batch 8", "online (1)"]
    assert SCALE_SIZES == tuple(range(100, 1001, 100))
    for group in GROUPS:
        assert group.about and len(group.variants) >= 2


def test_plan_full_grid_one_task_per_variant_dataset_and_seed():
    tasks = plan(seeds=2)
    n_variants = sum(len(g.variants) for g in GROUPS)
    assert len(tasks) == n_variants * 2 * 2 + len(SCALE_SIZES) * 2
    by_group = {t.group for t in tasks}
    assert by_group == set(group_names())
    momentum = [t for t in tasks if t.group == "optimizer" and t.variant == "momentum"]
    base_lr = {t.dataset: t.config.learning_rate for t in tasks if t.group == "optimizer" and t.variant == "sgd"}
    for t in momentum:
        assert t.config.momentum == 0.9 and t.config.learning_rate == pytest.approx(base_lr[t.dataset] * 0.1)
    scale = [t for t in tasks if t.group == "data_scale"]
    assert {t.config.n_points for t in scale} == set(SCALE_SIZES)
    assert all(t.config.stop_at_zero_errors and t.dataset == "linear" for t in scale)
    assert all(t.config.seed == t.seed for t in tasks)


def test_plan_quick_is_a_subset_with_smaller_budgets():
    full, quick = plan(seeds=1), plan(quick=True)
    assert len({t.seed for t in quick}) == 3
    assert len(quick) < 3 * len(full)
    assert max(t.config.epochs for t in quick if t.group != "data_scale") <= 1500
    assert {t.group for t in quick} == set(group_names())
    assert all(t.config.epochs == 7 for t in plan(quick=True, epochs=7))


@pytest.mark.parametrize("kwargs, match", [
    ({"only": ["nope"]}, "unknown experiment group"),
    ({"only": []}, "no experiment group"),
    ({"seeds": 0}, "seeds must be a positive integer"),
    ({"epochs": 0}, "epochs must be a positive integer"),
])
def test_plan_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plan(**kwargs)


def test_run_experiments_rejects_bad_jobs(tmp_path):
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        run_experiments(tmp_path, quick=True, seeds=1, epochs=1, jobs=0, only=["loss"], quiet=True)


def test_quick_grid_in_parallel_writes_a_report_with_every_group(tmp_path):
    out = tmp_path / "exp"
    report = run_experiments(out, quick=True, seeds=2, epochs=15, jobs=2, quiet=True)
    text = report.read_text()
    for group in GROUPS:
        assert f"## {group.title}" in text
        assert png_size(out / f"{group.key}.png") == SIZES["experiment"]
    assert "## Data scale" in text and png_size(out / "data_scale.png") == SIZES["scale"]
    assert "Why some seeds do not converge" in text and "share of seeds that converge" in text
    links = [part.split(")")[0] for part in text.split("](")[1:]]
    assert all((out / link).exists() for link in links)
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(plan(quick=True, seeds=2, epochs=15))
    # every table line reports the converged share as k/n, consistent with the CSV
    for row_line in [line for line in text.splitlines() if line.startswith("| 0.1 | xor_easy |")]:
        converged = sum(int(r["converged"]) for r in rows
                        if r["group"] == "learning_rate" and r["variant"] == "0.1" and r["dataset"] == "xor_easy")
        assert f"**{converged}/2**" in row_line


def test_shared_configurations_are_trained_once(tmp_path, capsys):
    run_experiments(tmp_path, quick=True, seeds=1, epochs=5, jobs=1, only=["learning_rate", "loss"])
    printed = capsys.readouterr().out
    # lr 5 on XOR-easy and 1 on linear are the demo setting, which the loss group's "mse" also is
    assert "running 10 distinct trainings (12 table entries) in 1 process" in printed


def test_stacked_seeds_report_what_lone_runs_report():
    """The workers train the seeds of a setting stacked: every number but the time is the lone run's."""
    configs = [LabConfig(dataset="linear", n_points=30, epochs=300, lr=1.0, log_every=0, test_points=100,
                         stop_at_zero_errors=True, seed=s) for s in range(4)]
    for stacked, config in zip(run_configs(configs), configs, strict=True):
        alone = run_config(config)
        for key in alone:
            if key == "curve":
                np.testing.assert_array_equal(stacked[key], alone[key])
            elif key != "seconds":
                assert stacked[key] == alone[key], key


def _report_numbers(folder):
    with open(folder / "results.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def test_quick_grid_on_a_dask_cluster_is_the_local_grid(tmp_path):
    """`--dask`: the quick grid through an in-process LocalCluster gives the local run's results."""
    distributed = pytest.importorskip("distributed", reason="needs dask[distributed] (pip install -e '.[cluster]')")
    local = run_experiments(tmp_path / "local", quick=True, seeds=2, epochs=20, jobs=1, quiet=True)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        remote = run_experiments(tmp_path / "dask", quick=True, seeds=2, epochs=20, quiet=True,
                                 dask=cluster.scheduler_address)
    assert _report_numbers(local.parent) == _report_numbers(remote.parent)
    assert f"on the Dask cluster at {cluster.scheduler_address}" in remote.read_text()


def test_dask_without_a_scheduler_is_a_clear_error():
    pytest.importorskip("distributed", reason="needs dask[distributed] (pip install -e '.[cluster]')")
    from tinygrad_lab.executors import executor

    with pytest.raises(RuntimeError, match="could not connect to the Dask scheduler.*dask scheduler"):
        with executor(dask="tcp://127.0.0.1:9", timeout=1):
            pass


def test_run_config_reports_what_the_report_needs():
    numbers = run_config(LabConfig(dataset="linear", n_points=30, epochs=400, lr=1.0, log_every=0,
                                   test_points=200, stop_at_zero_errors=True))
    assert numbers["n_points"] == 30 and numbers["curve"].shape == (numbers["epochs_run"],)
    assert numbers["converged"] == (numbers["train_accuracy"] == 1.0)
    assert 0.5 < numbers["test_accuracy"] <= 1.0
    if numbers["converged"]:
        assert numbers["epochs_to_converge"] == numbers["epochs_run"]
        assert numbers["stop_reason"] == "target_accuracy" and numbers["wrong_points"] == []


# ----------------------------------------------------------------------------------------------------
# what the experiments are there to show
# ----------------------------------------------------------------------------------------------------

def test_zero_init_keeps_hidden_units_identical_forever():
    result = run(LabConfig(init="zeros", epochs=300, log_every=0), quiet=True)
    for layer in [m for m in result.model.children() if hasattr(m, "weight")][:-1]:
        w = layer.weight.data
        np.testing.assert_allclose(w, np.broadcast_to(w[:1], w.shape), rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.bias.data, layer.bias.data[0], rtol=0, atol=1e-12)
    assert not result.converged                                  # one unit per layer cannot solve XOR


def test_no_activation_cannot_separate_xor_but_fits_the_linear_set():
    xor = run(LabConfig(activation="none", epochs=1500, log_every=0), quiet=True)
    assert xor.train.accuracy < 0.9
    linear = run(LabConfig(dataset="linear", activation="none", epochs=1500, lr=1.0, log_every=0), quiet=True)
    assert linear.train.accuracy >= 0.95


@pytest.mark.parametrize("hidden", [0, 4, "4,4", (0,), (4, 0), (2.5,), (True,)])
def test_lab_config_refuses_bad_hidden_sizes_with_a_clear_message(hidden):
    with pytest.raises(ValueError, match=r"hidden must be a sequence of positive integers such as \(4, 4\)"):
        LabConfig(hidden=hidden)
    assert LabConfig(hidden=()).architecture == "2-1 sigmoid"          # () is the spelling of "no hidden layer"
