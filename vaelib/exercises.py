"""Self-checks for the exercises: each says whether an answer is right and, if not, gives a hint.

One check (at least) per chapter. Every check prints one line that starts with ``✓`` (right) or
``✗`` (wrong, followed by a hint) and returns ``True`` or ``False``. The checks are deterministic
and fast: they use fixed random arrays or the numbers of Fashion-MNIST itself, never a trained
model, so they give the same verdict in the book, in Jupyter and in Colab.

* :func:`check_split_sizes` (chapter 1): predicted sizes of the split for your own classes;
* :func:`check_kl` (chapter 2): a NumPy function for the closed-form KL divergence;
* :func:`check_mae` (chapter 3): a NumPy function for the per-image MAE score;
* :func:`check_midpoint` (chapter 4): a function for the midpoint threshold;
* :func:`check_positive_class` (chapter 5): precision and recall for a given positive class;
* :func:`check_interpolation` (chapter 6): a function for straight-line interpolation.
"""

from __future__ import annotations

import numpy as np

from vaelib.params import ParameterError, check_classes

#: Images per class in Fashion-MNIST: 6,000 in the training file, 1,000 in the test file.
TRAIN_PER_CLASS = 6000
TEST_PER_CLASS = 1000
#: The course's validation share (``make_split``'s ``valid_fraction``).
VALID_FRACTION = 0.1


def _verdict(ok: bool, message: str, hint: str = "") -> bool:
    print(f"✓ {message}" if ok else f"✗ {message}" + (f"\n  Hint: {hint}" if hint else ""))
    return ok


def _call(fn, *args):
    """Call the student's function; return ``(result, None)`` or ``(None, error message)``."""
    try:
        return fn(*args), None
    except Exception as exc:  # the student's code may fail in any way; report it, do not raise
        return None, f"{type(exc).__name__}: {exc}"


def _per_image_answer(fn, args, shape, raised_hint: str, one_number_hint: str, shape_hint: str):
    """Call ``fn(*args)`` for a per-image answer of ``shape``: ``(answer, None)`` or ``(None, False)``
    after printing why it is wrong (it raised, it collapsed to one number, or another shape)."""
    got, error = _call(fn, *args)
    if error:
        return None, _verdict(False, f"your function raised {error}", raised_hint)
    got = np.asarray(got, dtype=float)
    if got.shape != shape:
        hint = one_number_hint if got.size == 1 else shape_hint
        return None, _verdict(False, f"your result has shape {got.shape}, expected {shape}.", hint)
    return got, None


def expected_split_sizes(normal_classes, anomaly_classes) -> dict[str, int]:
    """The sizes :meth:`vaelib.data.AnomalySplit.sizes` reports, computed from class counts alone.

    Every class has 6,000 training and 1,000 test images, and the stratified 90/10 split keeps
    5,400 of each class for training and 600 for validation. Returns ``{name: count}``.
    """
    normal, anomaly = check_classes(normal_classes, anomaly_classes)
    n_valid = round(TRAIN_PER_CLASS * VALID_FRACTION)
    n_fit = TRAIN_PER_CLASS - n_valid
    sizes = {
        "normal training": n_fit * len(normal),
        "normal validation": n_valid * len(normal),
        "anomalous validation": n_valid * len(anomaly),
        "normal test": TEST_PER_CLASS * len(normal),
        "anomalous test": TEST_PER_CLASS * len(anomaly),
    }
    sizes["validation"] = sizes["normal validation"] + sizes["anomalous validation"]
    sizes["test"] = sizes["normal test"] + sizes["anomalous test"]
    return sizes


def check_split_sizes(normal_classes, anomaly_classes, your_answer: dict) -> bool:
    """Chapter 1: predict the number of images in each set for your own choice of classes.

    ``your_answer``: ``{name: count}`` for any of the names of
    :meth:`~vaelib.data.AnomalySplit.sizes` (``"normal training"``, ``"validation"``,
    ``"normal validation"``, ``"anomalous validation"``, ``"test"``, ``"normal test"``,
    ``"anomalous test"``). Counts are numbers of images.
    """
    try:
        expected = expected_split_sizes(normal_classes, anomaly_classes)
    except ParameterError as exc:
        return _verdict(False, f"the classes are not a valid choice: {exc}",
                        "choose disjoint lists of class ids 0-9, e.g. [1, 3] and [5].")
    if not isinstance(your_answer, dict) or not your_answer:
        return _verdict(False, "give your answer as a dict, e.g. {'normal training': 10800}.")
    unknown = sorted(set(your_answer) - set(expected))
    if unknown:
        return _verdict(False, f"unknown set name(s) {unknown}.", f"use the names {list(expected)}.")
    wrong = {name: value for name, value in your_answer.items() if value != expected[name]}
    if not wrong:
        return _verdict(True, f"right: {your_answer}")
    name, value = next(iter(wrong.items()))
    if name == "normal training":
        hint = ("training keeps only the normal classes, and only 90% of each: "
                f"{TRAIN_PER_CLASS - round(TRAIN_PER_CLASS * VALID_FRACTION)} images per normal class.")
    elif "validation" in name:
        hint = (f"validation is 10% of the 60,000 training images, stratified: "
                f"{round(TRAIN_PER_CLASS * VALID_FRACTION)} per class, normal and anomalous classes only.")
    else:
        hint = f"the test file holds {TEST_PER_CLASS} images of each class; test keeps the chosen classes only."
    return _verdict(False, f"{name}: you said {value}, which is not right.", hint)


def _kl_reference(mean, log_var):
    return -0.5 * np.sum(1.0 + log_var - mean**2 - np.exp(log_var), axis=-1)


def check_kl(fn) -> bool:
    """Chapter 2: ``fn(mean, log_var)`` should return the KL divergence per sample, in nats.

    Inputs: NumPy arrays ``(batch, codings_size)``; output ``(batch,)``. The KL is that of
    ``N(mean, exp(log_var))`` from the prior ``N(0, I)`` (see the theory page).
    """
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(5, 16))
    log_var = rng.normal(scale=0.5, size=(5, 16))
    expected = _kl_reference(mean, log_var)
    got, wrong = _per_image_answer(fn, (mean, log_var), expected.shape,
                                   raised_hint="use only NumPy: np.sum, np.exp, **2.",
                                   one_number_hint="sum over the codings (axis=-1) only, one KL per image.",
                                   shape_hint="the result needs one number per row of mean: shape (batch,).")
    if wrong is not None:
        return wrong
    if np.allclose(got, expected, rtol=1e-6, atol=1e-9):
        return _verdict(True, "right: your KL matches the closed form.")
    if np.allclose(got, -expected):
        hint = "the sign is wrong: the KL is never negative, so it is -1/2 * sum(1 + log_var - mean² - exp(log_var))."
    elif np.allclose(got, 2 * expected):
        hint = "you forgot the factor 1/2."
    elif np.allclose(got, _kl_reference(mean, np.log(np.exp(log_var) ** 0.5))):
        hint = "log_var is the log of the variance σ², not of σ."
    elif np.allclose(got, -0.5 * np.sum(1.0 + np.log(log_var**2) - mean**2 - log_var**2, axis=-1)):
        hint = "log_var is already a logarithm: the variance is exp(log_var)."
    else:
        hint = "per dimension the KL is (mean² + σ² - 1 - log σ²) / 2, with σ² = exp(log_var); sum over dimensions."
    return _verdict(False, "your KL differs from the closed form.", hint)


def check_mae(fn) -> bool:
    """Chapter 3: ``fn(images, reconstructions)`` should return one MAE score per image.

    Inputs: float arrays ``(n, 28, 28)`` in ``[0, 1]``; output ``(n,)``, in pixel units.
    """
    rng = np.random.default_rng(1)
    images = rng.random((4, 28, 28))
    reconstructions = rng.random((4, 28, 28))
    diff = images - reconstructions
    expected = np.abs(diff).reshape(4, -1).mean(axis=1)
    got, wrong = _per_image_answer(
        fn, (images, reconstructions), expected.shape,
        raised_hint="np.abs(...).mean(axis=(1, 2)) is one way.",
        one_number_hint="you averaged over the images too; average over the pixels of each image only: axis=(1, 2).",
        shape_hint="the score needs one number per image: shape (n,).")
    if wrong is not None:
        return wrong
    if np.allclose(got, expected):
        return _verdict(True, "right: one mean absolute error per image.")
    if np.allclose(got, np.abs(diff).reshape(4, -1).sum(axis=1)):
        hint = "that is the sum over the 784 pixels; the MAE is the mean."
    elif np.allclose(got, (diff**2).reshape(4, -1).mean(axis=1)):
        hint = "that is the mean squared error; the MAE takes absolute values, not squares."
    elif np.allclose(got, diff.reshape(4, -1).mean(axis=1)):
        hint = "without np.abs, positive and negative errors cancel out."
    else:
        hint = "average |image - reconstruction| over the 28 x 28 pixels of each image."
    return _verdict(False, "your scores differ from the per-image MAE.", hint)


def _midpoint_reference(scores, is_anomaly):
    normal, anomalous = scores[~is_anomaly], scores[is_anomaly]
    return ((normal.mean() + normal.std()) + (anomalous.mean() - anomalous.std())) / 2


def check_midpoint(fn) -> bool:
    """Chapter 4: ``fn(scores, is_anomaly)`` should return the seed's midpoint threshold.

    That is the point halfway between (normal mean + σ) and (anomalous mean − σ), with the
    population σ (``ddof=0``). Inputs: scores ``(n,)`` float and ``is_anomaly`` ``(n,)`` bool;
    output: one float, in the units of the scores.
    """
    rng = np.random.default_rng(2)
    is_anomaly = np.r_[np.zeros(30, bool), np.ones(10, bool)]
    scores = np.where(is_anomaly, rng.normal(0.14, 0.03, 40), rng.normal(0.07, 0.025, 40))
    expected = _midpoint_reference(scores, is_anomaly)
    got, error = _call(fn, scores, is_anomaly)
    if error:
        return _verdict(False, f"your function raised {error}", "select with scores[is_anomaly] and scores[~is_anomaly].")
    if np.ndim(got) != 0:
        return _verdict(False, f"your threshold has shape {np.shape(got)}; it must be one number.",
                        "a threshold is a single float, not an array of candidates (the seed's bug).")
    got = float(got)
    if np.isclose(got, expected, rtol=1e-9, atol=1e-12):
        return _verdict(True, f"right: midpoint threshold {got:.4f}.")
    normal, anomalous = scores[~is_anomaly], scores[is_anomaly]
    if np.isclose(got, ((normal.mean() + normal.std(ddof=1)) + (anomalous.mean() - anomalous.std(ddof=1))) / 2):
        hint = "use the population standard deviation, np.std(..., ddof=0) (NumPy's default), as the seed did."
    elif np.isclose(got, (normal.mean() + anomalous.mean()) / 2):
        hint = "that is the midpoint of the two means; the seed moves each mean by one σ towards the other first."
    elif np.isclose(got, ((normal.mean() - normal.std()) + (anomalous.mean() + anomalous.std())) / 2):
        hint = "the signs are swapped: normal mean PLUS σ, anomalous mean MINUS σ."
    elif np.isclose(got, scores.mean()):
        hint = "compute the statistics of the normal and anomalous scores separately."
    else:
        hint = "((normal mean + σ) + (anomalous mean − σ)) / 2, each σ from its own group."
    return _verdict(False, f"your threshold {got:.4f} is not the midpoint ({expected:.4f} expected).", hint)


def check_positive_class(confusion, precision: float, recall: float, positive: str = "normal") -> bool:
    """Chapter 5: precision and recall from a confusion matrix, for a given positive class.

    ``confusion``: 2x2 counts in the course's layout, rows true (normal, anomaly), columns
    predicted (normal, anomaly). ``positive``: ``"normal"`` (the seed's convention) or
    ``"anomaly"``. ``precision`` and ``recall`` are fractions in ``[0, 1]``; 3 decimals suffice.
    """
    cm = np.asarray(confusion, dtype=float)
    if cm.shape != (2, 2):
        return _verdict(False, f"confusion must be 2x2, got shape {cm.shape}.")
    if positive not in ("normal", "anomaly"):
        return _verdict(False, f"positive must be 'normal' or 'anomaly', got {positive!r}.")

    def pr(k):  # k: index of the positive class
        return cm[k, k] / cm[:, k].sum(), cm[k, k] / cm[k, :].sum()

    k = 0 if positive == "normal" else 1
    want_p, want_r = pr(k)
    other_p, other_r = pr(1 - k)
    ok_p, ok_r = abs(precision - want_p) < 5e-4, abs(recall - want_r) < 5e-4
    if ok_p and ok_r:
        return _verdict(True, f"right: with {positive} positive, precision {want_p:.3f} and recall {want_r:.3f}.")
    other = "anomaly" if positive == "normal" else "normal"
    if abs(precision - other_p) < 5e-4 and abs(recall - other_r) < 5e-4:
        hint = (f"those are the numbers with {other} as the positive class. With {positive} positive the "
                f"true positives are the {positive} images predicted {positive}: cell [{k}, {k}].")
    elif abs(precision - want_r) < 5e-4 and abs(recall - want_p) < 5e-4:
        hint = ("precision and recall are swapped: precision divides by the predicted column, "
                "recall by the true row.")
    elif ok_p:
        hint = f"precision is right; recall = true positives / all truly {positive} images (a row sum)."
    elif ok_r:
        hint = f"recall is right; precision = true positives / all images predicted {positive} (a column sum)."
    else:
        hint = (f"precision = TP / (column '{positive}' total), recall = TP / (row '{positive}' total), "
                f"TP = cell [{k}, {k}].")
    return _verdict(False, f"precision {precision:.3f}, recall {recall:.3f} are not right for {positive} positive.", hint)


def check_interpolation(fn) -> bool:
    """Chapter 6: ``fn(start, end, n_steps)`` should walk in a straight line from start to end.

    ``start``, ``end``: codings ``(codings_size,)``; ``n_steps >= 2``. Output ``(n_steps,
    codings_size)``: evenly spaced points, the first equal to ``start`` and the last to ``end``.
    """
    rng = np.random.default_rng(3)
    start, end = rng.normal(size=16), rng.normal(size=16)
    n_steps = 8
    expected = start + np.linspace(0.0, 1.0, n_steps)[:, None] * (end - start)
    got, error = _call(fn, start, end, n_steps)
    if error:
        return _verdict(False, f"your function raised {error}", "np.linspace(0, 1, n_steps)[:, None] gives the weights.")
    got = np.asarray(got, dtype=float)
    if got.shape != expected.shape:
        return _verdict(False, f"your result has shape {got.shape}, expected {expected.shape}.",
                        "one row per step, one column per coding: weights of shape (n_steps, 1) broadcast.")
    if np.allclose(got, expected):
        return _verdict(True, "right: evenly spaced codings from start to end, both included.")
    if np.allclose(got, expected[::-1]):
        hint = "you walk from end to start; the first row should be start."
    elif np.allclose(got[0], start) and not np.allclose(got[-1], end):
        hint = "the last step should be end itself: np.linspace includes both ends, np.arange does not."
    else:
        hint = "row i is (1 - t_i) * start + t_i * end with t = np.linspace(0, 1, n_steps)."
    return _verdict(False, "your codings are not the straight line from start to end.", hint)
