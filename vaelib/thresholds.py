"""The seed notebook's five ways to turn scores into a threshold.

An image is called anomalous when its score is **at or above** the threshold (the seed called it
normal when ``loss < threshold``). Standard deviations use ``ddof=0`` (NumPy's default, as in
the seed): the population standard deviation. All functions return a Python ``float``.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score

from vaelib.evaluation import as_anomaly_labels


def _scores(values, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError(f"{name} is empty.")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite scores.")
    return values


def mean_plus_k_std(scores, k: float) -> float:
    """``mean(scores) + k * std(scores)`` (ddof 0). Use a negative ``k`` for mean minus."""
    s = _scores(scores, "scores")
    return float(s.mean() + k * s.std(ddof=0))


def midpoint(a: float, b: float) -> float:
    """The point halfway between two thresholds."""
    return float((float(a) + float(b)) / 2)


def best_accuracy_threshold(scores, is_anomaly, n_candidates: int = 100) -> float:
    """The candidate threshold with the highest accuracy on labelled (validation) data.

    Candidates: ``n_candidates`` evenly spaced values from the mean normal score to the mean
    anomalous score, both ends included. Ties go to the **lowest** such threshold. Returns one
    float, never an array.
    """
    s = _scores(scores, "scores")
    y = as_anomaly_labels(is_anomaly)
    if y.shape != s.shape:
        raise ValueError(f"scores and is_anomaly differ in length: {s.size} vs {y.size}.")
    if y.all() or not y.any():
        raise ValueError("best_accuracy_threshold needs both normal and anomalous examples.")
    if isinstance(n_candidates, bool) or not isinstance(n_candidates, (int, np.integer)) or n_candidates < 2:
        raise ValueError(f"n_candidates must be a whole number >= 2, got {n_candidates!r}.")
    means = sorted((s[~y].mean(), s[y].mean()))  # ascending, so that ties go to the lowest
    candidates = np.linspace(means[0], means[1], int(n_candidates))
    accuracies = [accuracy_score(y, s >= c) for c in candidates]
    return float(candidates[int(np.argmax(accuracies))])


#: Human-readable names of the five thresholds, in the seed's order.
THRESHOLD_NAMES = {
    "train_mean_plus_2.5std": "normal training mean + 2.5 σ",
    "abnormal_valid_mean_minus_std": "anomalous validation mean − σ",
    "normal_valid_mean_plus_std": "normal validation mean + σ",
    "midpoint": "midpoint of the two above",
    "best_valid_accuracy": "best validation accuracy",
}


def seed_thresholds(train_scores, valid_scores, valid_is_anomaly, n_candidates: int = 100) -> dict[str, float]:
    """All five thresholds, keyed as in :data:`THRESHOLD_NAMES`.

    ``train_scores``: scores of the normal training images; ``valid_scores`` and the boolean
    ``valid_is_anomaly``: the labelled validation set (normal and anomalous).
    """
    valid = _scores(valid_scores, "valid_scores")
    y = as_anomaly_labels(valid_is_anomaly)
    if y.shape != valid.shape:
        raise ValueError(f"valid_scores and valid_is_anomaly differ in length: {valid.size} vs {y.size}.")
    if y.all() or not y.any():
        raise ValueError("The validation set needs both normal and anomalous images to derive thresholds "
                         f"(it has {int((~y).sum())} normal and {int(y.sum())} anomalous).")
    abnormal_minus = mean_plus_k_std(valid[y], -1.0)
    normal_plus = mean_plus_k_std(valid[~y], 1.0)
    return {
        "train_mean_plus_2.5std": mean_plus_k_std(train_scores, 2.5),
        "abnormal_valid_mean_minus_std": abnormal_minus,
        "normal_valid_mean_plus_std": normal_plus,
        "midpoint": midpoint(abnormal_minus, normal_plus),
        "best_valid_accuracy": best_accuracy_threshold(valid, y, n_candidates),
    }
