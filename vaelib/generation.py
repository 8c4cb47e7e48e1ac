"""Generate new images by decoding codings: random draws from the prior, and interpolation."""

from __future__ import annotations

import numpy as np


def random_codings(n: int, codings_size: int, seed: int = 0) -> np.ndarray:
    """``n`` codings drawn from the prior N(0, I): ``(n, codings_size)`` float32, reproducible."""
    if n <= 0 or codings_size <= 0:
        raise ValueError("n and codings_size must be > 0.")
    return np.random.default_rng(seed).standard_normal((n, codings_size)).astype(np.float32)


def interpolate_grid(corners, rows: int, cols: int) -> np.ndarray:
    """Bilinear interpolation of a coarse grid of codings to a finer one, corners kept.

    ``corners``: ``(r, c, d)`` codings laid out on an ``r x c`` grid (``r, c >= 2``). Returns
    ``(rows * cols, d)``: the codings of a ``rows x cols`` grid spanning the same square, row by
    row, evenly spaced. (The seed notebook did this with ``tf.image.resize``, whose half-pixel
    alignment spaces the steps unevenly: shorter at the edges than inside.)
    """
    corners = np.asarray(corners, dtype=np.float32)
    if corners.ndim != 3 or corners.shape[0] < 2 or corners.shape[1] < 2:
        raise ValueError(f"corners must have shape (r >= 2, c >= 2, d), got {corners.shape}.")
    if rows < 2 or cols < 2:
        raise ValueError("rows and cols must be at least 2.")
    r, c, _ = corners.shape
    y = np.linspace(0, r - 1, rows)
    x = np.linspace(0, c - 1, cols)
    y0 = np.minimum(np.floor(y).astype(int), r - 2)
    x0 = np.minimum(np.floor(x).astype(int), c - 2)
    wy = (y - y0)[:, None, None]
    wx = (x - x0)[None, :, None]
    top = corners[y0][:, x0] * (1 - wx) + corners[y0][:, x0 + 1] * wx
    bottom = corners[y0 + 1][:, x0] * (1 - wx) + corners[y0 + 1][:, x0 + 1] * wx
    return (top * (1 - wy) + bottom * wy).reshape(rows * cols, -1).astype(np.float32)
