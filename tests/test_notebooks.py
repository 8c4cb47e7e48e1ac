"""The source notebooks follow the course's rules, and bad parameters stop a papermill run early."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from vaelib.params import PARAMETER_NAMES

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_six_chapters():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_plain_parameters_cell_with_every_parameter(path):
    cells = json.loads(path.read_text())["cells"]
    tagged = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    tree = ast.parse(tagged[0]["source"])
    assert all(isinstance(node, ast.Assign) for node in tree.body), "no annotations or logic in parameters"
    assert [node.targets[0].id for node in tree.body] == list(PARAMETER_NAMES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_sources_are_stored_without_outputs(path):
    cells = json.loads(path.read_text())["cells"]
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_cell_holds_more_than_a_screen_of_code(path):
    cells = json.loads(path.read_text())["cells"]
    assert max(len(c["source"].splitlines()) for c in cells if c["cell_type"] == "code") <= 15


def papermill(notebook, tmp_path, *args):
    exe = Path(sys.executable).parent / "papermill"
    return subprocess.run([str(exe), str(ROOT / "notebooks" / notebook), str(tmp_path / "out.ipynb"),
                           "--cwd", str(tmp_path), "--no-progress-bar", *args],
                          capture_output=True, text=True, timeout=300)


def test_papermill_unknown_parameter_fails_the_run(tmp_path):
    done = papermill("02_training.ipynb", tmp_path, "-p", "epoch", "3", "-p", "run_dir", str(tmp_path / "run"))
    assert done.returncode != 0
    assert "Unknown parameter(s) epoch" in done.stderr + done.stdout
    assert not (tmp_path / "run").exists()  # stopped before any training or saving


def test_papermill_bad_epochs_stop_before_training(tmp_path):
    done = papermill("02_training.ipynb", tmp_path, "-p", "epochs", "0", "-p", "run_dir", str(tmp_path / "run"))
    assert done.returncode != 0 and "epochs=0 must be greater than 0" in done.stderr + done.stdout
    assert not (tmp_path / "run").exists()


def test_papermill_yaml_lists_and_string_lists_both_work(tmp_path):
    done = papermill("01_data.ipynb", tmp_path, "-y", "normal_classes: [1, 3]", "-p", "anomaly_classes", "[5,9]")
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads((tmp_path / "out.ipynb").read_text())
    text = json.dumps(out["cells"])
    assert "'normal training': 10800" in text and "'anomalous test': 2000" in text
