"""The `tinygrad-lab` command: demo, train, experiments, graph; files, exit codes and error messages."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_lab import viz
from tinygrad_lab.cli import build_parser, main
from tinygrad_lab.lab import LabConfig, build_model
from tinygrad_lab.plots import SIZES

ROOT = Path(__file__).resolve().parents[1]


def png_size(path):
    import matplotlib.image

    image = matplotlib.image.imread(str(path))
    return image.shape[1], image.shape[0]


def check_run_files(folder, name, graph_suffix=".svg"):
    for kind, suffix in [("comparison", "_comparison.png"), ("curve", "_learning_curve.png"),
                         ("boundary", "_decision_boundary.png")]:
        path = folder / f"{name}{suffix}"
        assert path.stat().st_size > 1000
        assert png_size(path) == SIZES[kind]
    graph = folder / f"{name}_graph{graph_suffix}"
    assert graph.stat().st_size > 500
    if graph_suffix == ".svg":
        assert "<svg" in graph.read_text()
    assert "digraph" in (folder / f"{name}_graph.dot").read_text()
    with np.load(folder / f"{name}_weights.npz", allow_pickle=False) as archive:
        assert "0.weight" in archive.files
    assert (folder / f"{name}_predictions.csv").read_text().startswith("x1,x2,truth,output,predicted")


def report_links(report):
    text = report.read_text()
    links = [part.split(")")[0] for part in text.split("](")[1:]]
    return text, links


def test_demo_in_process_writes_every_file_and_a_report_linking_them(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--epochs", "300"]) == 0
    printed = capsys.readouterr().out
    assert "epoch 300 loss" in printed
    assert "accuracy" in printed and "   #      x1      x2  truth    output  predicted" in printed
    for name in ("linear", "xor_easy"):
        check_run_files(out, name)
    text, links = report_links(out / "report.md")
    assert "Glorot" in text and "| xor_easy |" in text
    assert len(links) >= 12
    for link in links:
        assert (out / link).exists(), link
    # the saved weights load back into the demo's model
    model = build_model(LabConfig())
    model.load(out / "xor_easy_weights.npz")


def test_demo_as_a_real_process_with_its_defaults_converges(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "tinygrad_lab", "demo", "--out", str(out)], capture_output=True,
                          text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "accuracy 100.00% (21/21 training points right)" in proc.stdout     # the demo's own seed converges
    assert "epoch 5000 loss" in proc.stdout
    check_run_files(out, "xor_easy")
    check_run_files(out, "linear")
    assert (out / "report.md").exists()


def test_train_with_every_kind_of_flag(tmp_path, capsys):
    out = tmp_path / "t"
    argv = ["train", "--dataset", "moons", "--points", "60", "--hidden", "10,5,3,5", "--activation", "relu",
            "--loss", "bce", "--optimizer", "adam", "--lr", "0.02", "--epochs", "40", "--batch-size", "16",
            "--init", "default", "--no-bias", "--scale-inputs", "standard", "--lr-schedule", "plateau",
            "--seed", "3", "--log-every", "20", "--test-points", "50", "--show-network", "--out", str(out),
            "--name", "deep"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "epoch 20 loss" in printed and "epoch 40 loss" in printed
    assert "layer 5 (output layer): Linear(5 -> 1) + Sigmoid" in printed
    assert "layer 1 (hidden layer 1): Linear(2 -> 10) + ReLU" in printed
    unit_lines = [line for line in printed.splitlines() if line.startswith("  unit ")]
    assert len(unit_lines) == 10 + 5 + 3 + 5 + 1
    assert not any("bias" in line for line in unit_lines)                   # --no-bias: no biases shown
    check_run_files(out, "deep")
    with np.load(out / "deep_weights.npz") as archive:
        assert sorted(archive.files) == ["0.weight", "2.weight", "4.weight", "6.weight", "8.weight"]


def test_train_show_network_lists_each_unit(capsys):
    assert main(["train", "--epochs", "5", "--no-files", "--quiet", "--show-network", "--show-points", "2"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("  unit ") == 4 + 4 + 1
    assert "inputs (2 points)" in printed
    assert "final loss" in printed


def test_train_default_folder_is_timestamped(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--epochs", "3", "--quiet", "--no-graph"]) == 0
    folders = list((tmp_path / "runs").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("train-xor_easy-")
    assert (folders[0] / "report.md").exists() and not (folders[0] / "xor_easy_graph.svg").exists()


def test_missing_graphviz_gives_dot_text_and_a_one_line_hint(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    out = tmp_path / "nodot"
    assert main(["train", "--epochs", "3", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "apt-get install graphviz" in printed
    assert (out / "xor_easy_graph.dot").exists() and not (out / "xor_easy_graph.svg").exists()
    text, links = report_links(out / "report.md")
    assert "xor_easy_graph.dot" in links and "DOT text" in text


@pytest.mark.parametrize("name", ["g.svg", "g.dot", "g.png"])
def test_graph_command(tmp_path, capsys, name):
    path = tmp_path / name
    assert main(["graph", "--out", str(path)]) == 0
    assert path.stat().st_size > 500
    assert "2-4-4-1 sigmoid network on xor_easy" in capsys.readouterr().out
    if name == "g.svg":
        text = path.read_text()
        assert "<svg" in text and "linear" in text and "mse_loss" in text


def test_graph_of_another_configuration(tmp_path):
    path = tmp_path / "deep.dot"
    assert main(["graph", "--hidden", "3,3,3", "--activation", "tanh", "--loss", "bce", "--out", str(path)]) == 0
    text = path.read_text()
    assert text.count(">tanh<") == 3 and "binary_cross_entropy" in text and "mse_loss" not in text


def test_experiments_list_and_quick_tiny_run(tmp_path, capsys):
    assert main(["experiments", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "learning_rate" in listed and "data_scale" in listed
    out = tmp_path / "exp"
    assert main(["experiments", "--quick", "--seeds", "1", "--epochs", "5", "--jobs", "1", "--only", "loss,init",
                 "--out", str(out)]) == 0
    text = (out / "report.md").read_text()
    assert "## MSE vs MAE vs BCE" in text and "## Zero vs random vs Glorot initialisation" in text
    assert "## Learning rate" not in text


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out
    assert main(["train", "--help"]) == 0
    assert "--hidden" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert "tinygrad-lab" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: COMMAND"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["train", "--lr", "-1"], "argument --lr: must be a positive number, got '-1'"),
    (["train", "--lr", "fast"], "argument --lr: must be a positive number, got 'fast'"),
    (["train", "--lr", "nan"], "argument --lr: must be a positive number"),
    (["train", "--hidden", "4,x"], "argument --hidden: expected positive layer sizes separated by commas"),
    (["train", "--hidden", "4,0"], "argument --hidden"),
    (["train", "--batch-size", "0"], "argument --batch-size: must be 'full', 'online' or a positive integer"),
    (["train", "--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    (["train", "--momentum", "1.5"], "argument --momentum: must be a number in [0, 1)"),
    (["train", "--activation", "softmax"], "argument --activation: invalid choice: 'softmax'"),
    (["train", "--dataset", "mnist"], "argument --dataset: invalid choice: 'mnist'"),
    (["train", "--seed", "-2"], "argument --seed: must be an integer >= 0"),
    (["experiments", "--only", "nope"], "argument --only: unknown group(s) nope"),
    (["experiments", "--jobs", "0"], "argument --jobs: must be a positive integer"),
    (["train", "--name", "a/b"], "tinygrad-lab: error: name must be a non-empty file-name-safe string"),
    (["graph", "--out", "graph.jpeg"], "tinygrad-lab: error: --out must end in .svg, .png, .pdf or .dot"),
    (["train", "--dataset", "xor_easy", "--points", "50"], "tinygrad-lab: error: data set 'xor_easy' has a fixed"),
])
def test_bad_arguments_get_a_clear_message_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_unwritable_output_folder_is_an_error_not_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    assert main(["train", "--epochs", "2", "--quiet", "--out", str(blocker / "sub")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tinygrad-lab: error:") and "Traceback" not in err


def test_bad_arguments_in_a_real_process_exit_2_without_traceback():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "tinygrad_lab", "train", "--hidden", "four"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2
    assert "argument --hidden" in proc.stderr and "Traceback" not in proc.stderr


def test_parser_parses_the_documented_forms():
    parser = build_parser()
    args = parser.parse_args(["train", "--hidden", "none", "--batch-size", "online"])
    assert args.hidden == () and args.batch_size == 1
    args = parser.parse_args(["train", "--batch-size", "full", "--hidden", "10, 5"])
    assert args.batch_size is None and args.hidden == (10, 5)


def test_demo_note_describes_the_configured_runs_and_points_to_measured_results():
    from tinygrad_lab.lab import demo_configs, demo_note

    note = demo_note(demo_configs(epochs=300))
    assert "2-4-4-1 sigmoid" in note and "300 epochs" in note and "gain 4" in note
    assert "1 on linear" in note and "5 on xor_easy" in note
    assert "docs/lab.md" in note and "benchmarks/demo_convergence.py" in note
    assert "%" not in note        # measured rates live in the docs, not in code
