import numpy as np
import pytest

from vaelib.evaluation import auroc, confusion, evaluate, predict_anomaly, results_table

Y = [1, 1, 0, 0, 0, 0, 0, 0]  # 1 = anomaly
SCORES = [0.9, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.8]


def test_the_worked_example():
    r = evaluate(Y, SCORES, 0.5)
    (tn, fp), (fn, tp) = r["confusion"]
    assert (tp, fn, fp, tn) == (1, 1, 1, 5)
    assert r["anomaly_positive"] == {"precision": 0.5, "recall": 0.5}
    assert r["accuracy"] == 0.75
    # Normal as positive (the seed's convention): 5 of 6 predicted normal are normal, 5 of 6 normal found.
    assert r["normal_positive"]["precision"] == pytest.approx(5 / 6)
    assert r["normal_positive"]["recall"] == pytest.approx(5 / 6)


def test_confusion_is_2x2_for_all_normal_input():
    cm = confusion([False] * 4, [False, False, True, False])
    assert cm.shape == (2, 2) and cm.tolist() == [[3, 1], [0, 0]]


def test_all_normal_input_evaluates_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = evaluate([0, 0, 0], [0.1, 0.2, 0.3], 0.25)
    assert r["confusion"] == [[2, 1], [0, 0]] and np.isnan(r["auroc"])
    assert r["anomaly_positive"]["precision"] == 0.0


def test_threshold_must_be_one_number():
    with pytest.raises(TypeError, match="single number"):
        predict_anomaly(SCORES, np.array([0.1, 0.2]))


def test_scores_at_the_threshold_are_anomalous():
    assert predict_anomaly([0.4, 0.5, 0.6], 0.5).tolist() == [False, True, True]


def test_auroc_of_the_example():
    # 12 anomaly/normal pairs: 0.9 beats all 6; 0.2 beats 5 of 6 (loses to 0.8) -> 11/12.
    assert auroc(Y, SCORES) == pytest.approx(11 / 12)


def test_bad_labels_and_lengths_are_rejected():
    with pytest.raises(ValueError, match="booleans or 0/1"):
        evaluate([2, 0], [0.1, 0.2], 0.5)
    with pytest.raises(ValueError, match="differ in length"):
        evaluate([1, 0, 0], [0.1, 0.2], 0.5)


def test_results_table_labels_both_conventions():
    table = results_table({"best": evaluate(Y, SCORES, 0.5)}, {"best": "best"}, reference={"best": {"accuracy": 0.9}})
    text = table._repr_markdown_()
    assert "precision (anomaly+)" in text and "recall (normal+)" in text
    assert "| best | 0.5000 | 0.7500 | 0.5000 | 0.5000 | 0.8333 | 0.8333 | 0.9000 |" in text
