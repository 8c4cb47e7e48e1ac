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


def test_split_rejects_a_bad_seed_2d_labels_and_absent_classes():
    from vaelib.data import load_sample, make_split

    images, labels = load_sample()
    with pytest.raises(ParameterError, match="seed=-1"):
        make_split(images, labels, images, labels, seed=-1)
    with pytest.raises(ValueError, match="1-D"):
        make_split(images, labels[:, None], images, labels)
    keep = labels != 7
    with pytest.raises(ValueError, match=r"no images of class\(es\) \[7\]"):
        make_split(images[keep], labels[keep], images, labels)


def test_histogram_and_grid_refuse_meaningless_input():
    from vaelib.plots import score_histogram

    with pytest.raises(ValueError, match="NaN"):
        score_histogram({"a": [0.1, np.nan]})
    with pytest.raises(ValueError, match="must be a number"):
        score_histogram({"a": [0.1, 0.2]}, {"t": None})
    with pytest.raises(ValueError, match="divide 0-255"):
        image_grid(np.full((2, 28, 28), 200.0))


def test_missing_run_message_repeats_the_non_default_parameters(tmp_path):
    from vaelib.params import CourseParameters
    from vaelib.runs import RunNotFoundError, load_run

    params = CourseParameters(epochs=3, normal_classes=[1, 3], run_dir=str(tmp_path / "r"))
    with pytest.raises(RunNotFoundError) as info:
        load_run(params)
    assert '-y "normal_classes: [1, 3]"' in str(info.value) and "-p epochs 3" in str(info.value)
