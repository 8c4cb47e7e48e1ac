"""What the seed notebook recorded (one run of it, Keras 2, normal classes 0/2/6, anomaly 7).

Its precision and recall treat **normal** as the positive class. The seed's scores were
stochastic and its split unseeded, so these numbers are a yardstick, not a target to hit exactly.
"""

#: The seed's thresholds on the MAE reconstruction score, keyed as in
#: :data:`vaelib.thresholds.THRESHOLD_NAMES`. Its "train" threshold was printed as 0.135 only.
SEED_THRESHOLDS = {
    "train_mean_plus_2.5std": 0.0687384 + 2.5 * 0.025728509,
    "abnormal_valid_mean_minus_std": 0.10780538,
    "normal_valid_mean_plus_std": 0.09606188,
    "midpoint": 0.10193362832069397,
    "best_valid_accuracy": 0.10567260347306759,
}

#: The seed's test results (precision/recall with normal = positive) for the thresholds it evaluated.
#: Confusion matrices are re-ordered to this course's layout: rows true (normal, anomaly),
#: columns predicted (normal, anomaly); the seed printed them the other way round.
SEED_TEST_RESULTS = {
    "best_valid_accuracy": {"accuracy": 0.90275, "precision": 0.9582309582309583, "recall": 0.91,
                            "confusion": [[2730, 270], [119, 881]]},
    "midpoint": {"accuracy": 0.89725, "precision": 0.962486602357985, "recall": 0.898,
                 "confusion": [[2694, 306], [105, 895]]},
    "train_mean_plus_2.5std": {"accuracy": 0.86775, "precision": 0.8693572496263079,
                               "recall": 0.9693333333333334, "confusion": [[2908, 92], [437, 563]]},
}
