"""pyproject.toml (pip) and environment.yml (conda) must list the same dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def test_pip_and_conda_list_the_same_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = set(project["dependencies"]) | set(project["optional-dependencies"]["book"]) \
        | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {normalise(r) for r in pip} == {normalise(r) for r in conda_pip if r != "-e ."}


def test_jupyter_book_is_pinned_to_1x_and_tf_keras_stays_out_of_the_product():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"jupyter-book>=1.0.4,<2"' in text
    project = tomllib.loads(text)["project"]
    product = project["dependencies"] + project["optional-dependencies"]["book"]
    assert not any("tf-keras" in r or "tf_keras" in r for r in product)
