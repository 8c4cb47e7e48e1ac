"""Anomaly scores: one number per image, higher = more anomalous.

Every score function has the same signature, ``score(model, images) -> (n,) float32``, so scores
are interchangeable (see :data:`SCORES`). All are deterministic: they use the codings *mean*,
never a random sample, so the same model gives the same scores on every call (the seed notebook
sampled, and its scores changed each time they were computed).
"""

from __future__ import annotations

import numpy as np


def reconstruction_mae(model, images, batch_size: int = 2048) -> np.ndarray:
    """Mean absolute pixel error between each image and its reconstruction (the seed's score).

    ``images``: ``(n, 28, 28)`` float32 in ``[0, 1]``. Returns ``(n,)`` float32, in pixel units
    (0 = perfect, 1 = every pixel fully wrong).
    """
    images = np.asarray(images, dtype=np.float32)
    reconstructions = model.reconstruct(images, batch_size=batch_size)
    return np.abs(images - reconstructions).reshape(len(images), -1).mean(axis=1)


#: Score functions by name. Later chapters add KL, latent Mahalanobis and the ELBO here.
SCORES = {"mae": reconstruction_mae}
