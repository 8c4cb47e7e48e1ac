import numpy as np
import pytest

from vaelib.thresholds import THRESHOLD_NAMES, best_accuracy_threshold, mean_plus_k_std, midpoint, seed_thresholds


def test_mean_plus_2_5_std_uses_ddof_0():
    assert mean_plus_k_std([1, 2, 3], 2.5) == pytest.approx(4.0412, abs=5e-5)


def test_midpoint_of_the_seeds_validation_thresholds():
    assert midpoint(0.069794 + 0.026268, 0.135028 - 0.027222) == pytest.approx(0.101934, abs=5e-7)


def test_best_threshold_is_a_float_that_separates_clean_data():
    scores = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    y = np.array([False, False, False, True, True])
    best = best_accuracy_threshold(scores, y, n_candidates=100)
    assert type(best) is float
    assert 0.3 < best <= 0.8


def test_ties_go_to_the_lowest_candidate():
    # Normal mean 0.1, anomalous mean 0.9: every candidate in (0.1, 0.9] is perfect; 0.1 itself is not.
    scores, y = np.array([0.1, 0.9]), np.array([False, True])
    candidates = np.linspace(0.1, 0.9, 5)
    assert best_accuracy_threshold(scores, y, n_candidates=5) == pytest.approx(candidates[1])


def test_best_threshold_needs_both_classes_and_matching_lengths():
    with pytest.raises(ValueError, match="both normal and anomalous"):
        best_accuracy_threshold([0.1, 0.2], [False, False])
    with pytest.raises(ValueError, match="differ in length"):
        best_accuracy_threshold([0.1, 0.2], [False])


def test_nan_scores_are_rejected():
    with pytest.raises(ValueError, match="NaN"):
        mean_plus_k_std([0.1, np.nan], 1.0)


def test_seed_thresholds_are_five_named_floats():
    rng = np.random.default_rng(0)
    train = rng.normal(0.07, 0.026, 1000)
    valid = np.concatenate([rng.normal(0.07, 0.026, 300), rng.normal(0.135, 0.027, 100)])
    y = np.arange(400) >= 300
    t = seed_thresholds(train, valid, y)
    assert list(t) == list(THRESHOLD_NAMES)
    assert all(type(v) is float for v in t.values())
    assert t["midpoint"] == pytest.approx((t["abnormal_valid_mean_minus_std"] + t["normal_valid_mean_plus_std"]) / 2)
    assert t["train_mean_plus_2.5std"] == pytest.approx(train.mean() + 2.5 * train.std())
