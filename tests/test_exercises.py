"""The exercises' self-checks: a right answer passes, typical wrong answers fail with the right hint."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from vaelib import exercises as ex

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# Chapter 1: split sizes
def test_expected_split_sizes_of_the_defaults_are_the_books():
    assert ex.expected_split_sizes([0, 2, 6], [7]) == {
        "normal training": 16200, "validation": 2400, "normal validation": 1800,
        "anomalous validation": 600, "test": 4000, "normal test": 3000, "anomalous test": 1000}


def test_expected_split_sizes_match_make_split_on_the_real_data():
    from vaelib.data import DataNotFoundError, load_fashion_mnist, make_split

    try:
        data = load_fashion_mnist()
    except DataNotFoundError:
        pytest.skip("Fashion-MNIST is not installed")
    assert make_split(*data, [1, 3], [5, 9]).sizes() == ex.expected_split_sizes([1, 3], [5, 9])


def test_check_split_sizes_right_and_wrong(capsys):
    assert ex.check_split_sizes([1, 3], [5], {"normal training": 10800, "anomalous test": 1000}) is True
    assert capsys.readouterr().out.startswith("✓")
    # a typical slip: all 6,000 training images of each class instead of 90% of them
    assert ex.check_split_sizes([1, 3], [5], {"normal training": 12000}) is False
    out = capsys.readouterr().out
    assert out.startswith("✗") and "5400 images per normal class" in out


def test_check_split_sizes_rejects_bad_classes_and_names(capsys):
    assert ex.check_split_sizes([1, 3], [3], {"test": 3000}) is False
    assert "disjoint" in capsys.readouterr().out
    assert ex.check_split_sizes([1], [5], {"train": 5400}) is False
    assert "unknown set name" in capsys.readouterr().out


# Chapter 2: KL divergence
def test_check_kl(capsys):
    def right(mean, log_var):
        return -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=-1)

    assert ex.check_kl(right) is True
    assert ex.check_kl(lambda m, lv: -right(m, lv)) is False
    assert "the sign is wrong" in capsys.readouterr().out
    assert ex.check_kl(lambda m, lv: 2 * right(m, lv)) is False
    assert "factor 1/2" in capsys.readouterr().out
    assert ex.check_kl(lambda m, lv: right(m, lv).sum()) is False
    assert "axis=-1" in capsys.readouterr().out


def test_check_kl_reports_an_exception_instead_of_raising(capsys):
    assert ex.check_kl(lambda m, lv: undefined_name) is False  # noqa: F821
    assert "NameError" in capsys.readouterr().out


# Chapter 3: MAE score
def test_check_mae(capsys):
    assert ex.check_mae(lambda x, r: np.abs(x - r).mean(axis=(1, 2))) is True
    assert ex.check_mae(lambda x, r: np.abs(x - r).mean()) is False
    assert "axis=(1, 2)" in capsys.readouterr().out
    assert ex.check_mae(lambda x, r: ((x - r) ** 2).mean(axis=(1, 2))) is False
    assert "mean squared error" in capsys.readouterr().out


# Chapter 4: midpoint threshold
def test_check_midpoint_accepts_the_library_function(capsys):
    from vaelib.thresholds import mean_plus_k_std, midpoint

    def right(scores, is_anomaly):
        return midpoint(mean_plus_k_std(scores[~is_anomaly], 1), mean_plus_k_std(scores[is_anomaly], -1))

    assert ex.check_midpoint(right) is True
    assert capsys.readouterr().out.startswith("✓ right: midpoint threshold")


def test_check_midpoint_hints(capsys):
    def with_ddof_1(s, y):
        return ((s[~y].mean() + s[~y].std(ddof=1)) + (s[y].mean() - s[y].std(ddof=1))) / 2

    assert ex.check_midpoint(with_ddof_1) is False
    assert "ddof=0" in capsys.readouterr().out
    assert ex.check_midpoint(lambda s, y: (s[~y].mean() + s[y].mean()) / 2) is False
    assert "midpoint of the two means" in capsys.readouterr().out
    assert ex.check_midpoint(lambda s, y: np.array([0.1, 0.2])) is False
    assert "one number" in capsys.readouterr().out


# Chapter 5: positive class
SEED_CONFUSION = [[2730, 270], [119, 881]]  # rows true (normal, anomaly), columns predicted


def test_check_positive_class_reproduces_the_seeds_numbers(capsys):
    # the seed reported precision 0.9582 and recall 0.91 with normal as the positive class
    assert ex.check_positive_class(SEED_CONFUSION, 0.958, 0.910, positive="normal") is True
    assert ex.check_positive_class(SEED_CONFUSION, 881 / 1151, 881 / 1000, positive="anomaly") is True


def test_check_positive_class_hints(capsys):
    capsys.readouterr()
    assert ex.check_positive_class(SEED_CONFUSION, 881 / 1151, 0.881, positive="normal") is False
    assert "anomaly as the positive class" in capsys.readouterr().out
    assert ex.check_positive_class(SEED_CONFUSION, 0.910, 0.958, positive="normal") is False
    assert "swapped" in capsys.readouterr().out


# Chapter 6: interpolation
def test_check_interpolation(capsys):
    def right(start, end, n_steps):
        t = np.linspace(0, 1, n_steps)[:, None]
        return (1 - t) * start + t * end

    def without_end(start, end, n_steps):
        t = np.arange(n_steps)[:, None] / n_steps
        return (1 - t) * start + t * end

    assert ex.check_interpolation(right) is True
    assert ex.check_interpolation(without_end) is False
    assert "np.linspace includes both ends" in capsys.readouterr().out


# The solutions printed in the notebooks pass their own checks.
def solution_snippets():
    """Python code blocks inside ```{solution} directives that call a vaelib.exercises check."""
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"]) if cell["cell_type"] == "markdown" else ""
            for block in re.findall(r"````\{solution\}(.*?)\n````", source, flags=re.S):
                for code in re.findall(r"```python\n(.*?)```", block, flags=re.S):
                    if "check_" in code:
                        yield pytest.param(code, id=f"{path.stem}")


@pytest.mark.parametrize("code", list(solution_snippets()))
def test_solution_code_passes_its_check(code, capsys):
    exec(compile(code, "<solution>", "exec"), {})
    out = capsys.readouterr().out
    assert "✓" in out and "✗" not in out, out


def test_every_chapter_has_three_exercises_and_a_self_check():
    for path in NOTEBOOKS:
        text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        assert text.count("{exercise}") >= 3, path.name
        assert text.count("{solution}") >= text.count("{exercise}"), path.name
        assert "vaelib.exercises import" in text, path.name
