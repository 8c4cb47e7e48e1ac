"""Evaluate thresholded scores with scikit-learn's metrics.

Labels are booleans, ``True`` = anomalous. The confusion matrix is always 2x2 in the fixed order
of :data:`CLASS_ORDER`: rows are the true class, columns the predicted class.

Precision and recall depend on which class is called "positive", so both are reported:

* ``anomaly_positive``: the usual convention in anomaly detection (recall = share of anomalies
  caught);
* ``normal_positive``: the seed notebook's convention (its labels were ``True`` for normal).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, recall_score, roc_auc_score

from vaelib.tables import Table

CLASS_ORDER = ("normal", "anomaly")


def as_anomaly_labels(is_anomaly) -> np.ndarray:
    """Booleans or 0/1 (1 = anomaly) as a flat boolean array; anything else is an error."""
    y = np.asarray(is_anomaly).ravel()
    if y.dtype != bool and not (np.issubdtype(y.dtype, np.number) and np.isin(y, (0, 1)).all()):
        raise ValueError("is_anomaly must hold booleans or 0/1 (1 = anomaly).")
    return y.astype(bool)


def _labels_and_scores(is_anomaly, scores):
    y = as_anomaly_labels(is_anomaly)
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"is_anomaly and scores differ in length: {y.size} vs {s.size}.")
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN or infinite values.")
    return y, s


def predict_anomaly(scores, threshold: float) -> np.ndarray:
    """``True`` where ``score >= threshold``. ``threshold`` must be one number."""
    if np.ndim(threshold) != 0:
        raise TypeError(f"threshold must be a single number, got an array of shape {np.shape(threshold)}.")
    if isinstance(threshold, (bool, np.bool_)) or not np.isfinite(float(threshold)):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}.")
    return np.asarray(scores, dtype=np.float64) >= float(threshold)


def confusion(is_anomaly, predicted_anomaly) -> np.ndarray:
    """2x2 counts ``[[normal→normal, normal→anomaly], [anomaly→normal, anomaly→anomaly]]``.

    Rows: true class; columns: predicted class; both in :data:`CLASS_ORDER`. Always 2x2, even
    when one class is absent.
    """
    return confusion_matrix(np.asarray(is_anomaly, bool), np.asarray(predicted_anomaly, bool),
                            labels=[False, True])


def auroc(is_anomaly, scores) -> float:
    """Area under the ROC curve of the scores (threshold-free); NaN if only one class is present."""
    y, s = _labels_and_scores(is_anomaly, scores)
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, s))


def evaluate(is_anomaly, scores, threshold: float) -> dict:
    """Accuracy, 2x2 confusion matrix, precision/recall under both conventions, and AUROC.

    Returns plain Python numbers (JSON-ready)::

        {"threshold", "accuracy", "confusion": [[tn, fp], [fn, tp]] (anomaly = positive),
         "anomaly_positive": {"precision", "recall"},
         "normal_positive": {"precision", "recall"}, "auroc"}
    """
    y, s = _labels_and_scores(is_anomaly, scores)
    predicted = predict_anomaly(s, threshold)
    out = {"threshold": float(threshold), "accuracy": float(accuracy_score(y, predicted)),
           "confusion": confusion(y, predicted).tolist()}
    for name, positive in (("anomaly_positive", True), ("normal_positive", False)):
        out[name] = {
            "precision": float(precision_score(y, predicted, pos_label=positive, zero_division=0)),
            "recall": float(recall_score(y, predicted, pos_label=positive, zero_division=0)),
        }
    out["auroc"] = auroc(y, s)
    return out


def results_table(results: dict, labels: dict | None = None, reference: dict | None = None):
    """One row per threshold: its value, accuracy, and precision/recall under both conventions.

    ``results``: ``{key: evaluate(...) dict}``; ``labels``: ``{key: readable name}``;
    ``reference``: ``{key: {"accuracy": ...}}`` adds a column with a recorded accuracy (for
    example the seed's), "-" where none was recorded.
    """
    header = ["threshold", "value", "accuracy", "precision (anomaly+)", "recall (anomaly+)",
              "precision (normal+)", "recall (normal+)"]
    if reference is not None:
        header.append("seed accuracy")
    rows = []
    for key, r in results.items():
        row = [(labels or {}).get(key, key), r["threshold"], r["accuracy"],
               r["anomaly_positive"]["precision"], r["anomaly_positive"]["recall"],
               r["normal_positive"]["precision"], r["normal_positive"]["recall"]]
        if reference is not None:
            row.append(reference.get(key, {}).get("accuracy", "-"))
        rows.append(row)
    return Table(header, rows)
