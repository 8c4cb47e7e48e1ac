"""Values for the problems a fresh user found by trying to break the package."""

import numpy as np
import pytest

from vaelib.data import DataNotFoundError, find_data_dir
from vaelib.evaluation import predict_anomaly
from vaelib.params import ParameterError, parse_classes
from vaelib.plots import image_grid, reconstruction_grid
from vaelib.runs import check_writable
from vaelib.thresholds import best_accuracy_threshold


def test_inverted_scores_still_break_ties_to_the_lowest_candidate():
    # Anomalies score lower here; candidates run from 0.15 up to 0.85 and ties go to the lowest.
    scores, y = [0.9, 0.8, 0.1, 0.2], [False, False, True, True]
    assert best_accuracy_threshold(scores, y, n_candidates=2) == pytest.approx(0.15)


@pytest.mark.parametrize("labels", [[0, 0, 2, 2], [0, 0, 0.5, 0.5], ["False", "False", "True", "True"]])
def test_threshold_search_rejects_labels_that_are_not_boolean(labels):
    with pytest.raises(ValueError, match="booleans or 0/1"):
        best_accuracy_threshold([0.1, 0.2, 0.3, 0.4], labels)


def test_nan_or_boolean_threshold_is_refused():
    with pytest.raises(ValueError, match="finite"):
        predict_anomaly([0.1], float("nan"))
    with pytest.raises(ValueError, match="finite"):
        predict_anomaly([0.1], True)


def test_numpy_class_ids_are_accepted():
    assert parse_classes(np.array([2, 0])) == (0, 2)
    assert parse_classes(np.int64(7)) == (7,) and parse_classes(range(3)) == (0, 1, 2)


def test_a_file_as_run_dir_fails_before_training(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ParameterError, match="cannot be used as a folder"):
        check_writable(tmp_path / "afile")


def test_data_dir_that_is_not_a_folder_says_so(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist or is not a folder"):
        find_data_dir(tmp_path / "nowhere")


def test_empty_or_mismatched_grids_are_refused():
    with pytest.raises(ValueError, match="n > 0"):
        image_grid(np.zeros((0, 28, 28)))
    with pytest.raises(ValueError, match="differ in number"):
        reconstruction_grid(np.zeros((3, 28, 28)), np.zeros((2, 28, 28)))
