"""Figures. Every helper takes plain arrays and returns a :class:`matplotlib.figure.Figure`.

Figures are built without pyplot's global state, so nothing is shown twice or leaked; in a
notebook, make the figure the cell's last expression to display it.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

#: One colour per threshold, shared by every threshold plot (colour-blind-safe palette).
THRESHOLD_COLOURS = ("#009E73", "#56B4E9", "#CC79A7", "#0072B2", "#D55E00", "#E69F00", "#000000")
GROUP_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#8172B3")


def _images(images, name="images") -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) == 0:
        raise ValueError(f"{name} must have shape (n, 28, 28) with n > 0, got {images.shape}.")
    return images


def _mosaic(rows_of_images, pad: int = 2) -> np.ndarray:
    """Tile a list of image rows, each ``(k, 28, 28)`` with k <= the longest row, into one array.

    Drawing one array with one ``imshow`` is many times faster than one subplot per image.
    Padding is 0 (white in the "binary" colour map).
    """
    n_cols = max(len(row) for row in rows_of_images)
    step = 28 + pad
    out = np.zeros((len(rows_of_images) * step - pad, n_cols * step - pad), dtype=np.float32)
    for r, row in enumerate(rows_of_images):
        for c, image in enumerate(row):
            out[r * step:r * step + 28, c * step:c * step + 28] = image
    return out


def _show_mosaic(fig, mosaic, xlabel: str | None = None, ylabel: str | None = None):
    """Draw the mosaic without ticks or frame; keep the axis labels when given."""
    ax = fig.subplots()
    ax.imshow(mosaic, cmap="binary", vmin=0, vmax=1, interpolation="nearest")
    if xlabel is None and ylabel is None:
        ax.set_axis_off()
        return ax
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")
    return ax


def image_grid(images, n_cols: int = 10, titles=None, title: str | None = None,
               xlabel: str | None = None, ylabel: str | None = None) -> Figure:
    """Images ``(n, 28, 28)`` (floats in [0, 1] or uint8) in a grid of ``n_cols`` columns.

    ``titles``: optional list of ``n`` short strings, written above the images; ``xlabel`` and
    ``ylabel``: optional axis labels that say what runs along the grid.
    """
    images = _images(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255
    elif images.size and (np.nanmax(images) > 1 or np.nanmin(images) < 0):
        raise ValueError("float images must lie in [0, 1]; divide 0-255 pixels by 255 (or pass uint8).")
    n = len(images)
    n_cols = max(1, min(n_cols, n))
    n_rows = math.ceil(n / n_cols)
    pad = 14 if titles is not None else 2
    rows = [images[r * n_cols:(r + 1) * n_cols] for r in range(n_rows)]
    fig = Figure(figsize=(1.1 * n_cols, 1.1 * n_rows * (28 + pad) / 30 + (0.4 if title else 0)
                          + (0.3 if xlabel else 0)), layout="constrained")
    ax = _show_mosaic(fig, _mosaic(rows, pad=pad), xlabel, ylabel)
    if titles is not None:
        for i, text in enumerate(titles[:n]):
            ax.text((i % n_cols) * (28 + pad) + 14, (i // n_cols) * (28 + pad) - 1, str(text),
                    ha="center", va="bottom", fontsize=7)
        ax.set_ylim(n_rows * (28 + pad) - pad, -pad + 1)
    if title:
        fig.suptitle(title)
    return fig


def reconstruction_grid(images, reconstructions, n: int = 30, n_cols: int = 10, title: str | None = None,
                        xlabel: str | None = None) -> Figure:
    """The first ``n`` images (odd rows, "input") above their reconstructions (even rows).

    Rows are labelled "input" and "recon."; ``xlabel`` optionally says which images these are.
    """
    images, reconstructions = _images(images), _images(reconstructions, "reconstructions")
    if len(reconstructions) != len(images):
        raise ValueError(f"images and reconstructions differ in number: {len(images)} vs {len(reconstructions)}.")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}.")
    n = min(n, len(images))
    n_cols = max(1, min(n_cols, n))
    blocks = math.ceil(n / n_cols)
    rows = []
    for b in range(blocks):
        rows += [images[b * n_cols:min(n, (b + 1) * n_cols)], reconstructions[b * n_cols:min(n, (b + 1) * n_cols)]]
    fig = Figure(figsize=(0.75 * n_cols + 0.8, 1.55 * blocks + (0.4 if title else 0) + (0.3 if xlabel else 0)),
                 layout="constrained")
    ax = _show_mosaic(fig, _mosaic(rows), xlabel)
    for r in range(2 * blocks):
        ax.text(-4, r * 30 + 14, "input" if r % 2 == 0 else "recon.", ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def pixel_profile(image, reconstruction, title: str | None = None) -> Figure:
    """The 784 pixels of one image and its reconstruction as 1-D curves; the gap between them
    (the reconstruction error) is shaded. Both curves come from the *same* image."""
    image, reconstruction = np.asarray(image), np.asarray(reconstruction)
    if image.shape != (28, 28) or reconstruction.shape != (28, 28):
        raise ValueError(f"image and reconstruction must be (28, 28), got {image.shape} and {reconstruction.shape}.")
    x = np.arange(28 * 28)
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(x, image.ravel(), color="#C44E52", lw=1, label="input")
    ax.plot(x, reconstruction.ravel(), color="#55A868", lw=1, label="reconstruction")
    ax.fill_between(x, reconstruction.ravel(), image.ravel(), color="#4C72B0", alpha=0.35, label="error")
    mae = float(np.abs(image - reconstruction).mean())
    ax.set_xlabel("pixel index (row-major, 0-783)")
    ax.set_ylabel("intensity (0 = white, 1 = black)")
    ax.set_xlim(0, 783)
    ax.set_title((title + "  " if title else "") + f"(MAE = {mae:.4f})")
    ax.legend(loc="upper right", ncols=3)
    return fig


def score_histogram(scores_by_group: dict, thresholds: dict | None = None, xlabel: str = "score",
                    bins: int = 80, title: str | None = None) -> Figure:
    """Overlaid histograms of 1-D scores (one per named group) with vertical threshold lines.

    ``scores_by_group``: ``{label: (n,) array}``; ``thresholds``: ``{label: float}``.
    """
    groups = {k: np.asarray(v, dtype=float).ravel() for k, v in scores_by_group.items()}
    if not groups or any(v.size == 0 for v in groups.values()):
        raise ValueError("score_histogram needs at least one non-empty group of scores.")
    if not all(np.isfinite(v).all() for v in groups.values()):
        raise ValueError("score_histogram got NaN or infinite scores.")
    for label, value in (thresholds or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise ValueError(f"threshold {label!r} must be a number, got {value!r}.")
    every = np.concatenate(list(groups.values()))
    edges = np.histogram_bin_edges(every, bins=bins)
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax = fig.subplots()
    for (label, values), colour in zip(groups.items(), GROUP_COLOURS):
        ax.hist(values, bins=edges, alpha=0.55, color=colour, label=f"{label} (n = {values.size})")
    for (label, value), colour in zip((thresholds or {}).items(), THRESHOLD_COLOURS):
        ax.axvline(value, color=colour, lw=1.8, ls="--", label=f"{label} = {value:.4f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("number of images")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right")
    return fig


def training_curves(history: dict) -> Figure:
    """Training and validation loss per epoch, with the best validation epoch marked."""
    loss, val_loss = history.get("loss", []), history.get("val_loss", [])
    if not loss:
        raise ValueError("history has no 'loss' values.")
    epochs = np.arange(1, len(loss) + 1)
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(epochs, loss, label="training loss")
    if val_loss:
        ax.plot(epochs, val_loss, label="validation loss")
    best = history.get("best_epoch")
    if best:
        ax.axvline(best, color="grey", ls=":", label=f"best validation epoch ({best})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss per pixel (BCE + KL/784, nats)")
    ax.legend()
    return fig


def confusion_figure(confusion, title: str | None = None, labels=("normal", "anomaly")) -> Figure:
    """A 2x2 confusion matrix as an annotated heat map: rows true class, columns predicted."""
    cm = np.asarray(confusion)
    if cm.shape != (2, 2):
        raise ValueError(f"confusion must be 2x2, got {cm.shape}.")
    fig = Figure(figsize=(3.6, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.imshow(cm, cmap="Blues")
    for (r, c), value in np.ndenumerate(cm):
        ax.text(c, r, f"{value}", ha="center", va="center",
                color="white" if value > cm.max() / 2 else "black", fontsize=12)
    ax.set_xticks([0, 1], labels)
    ax.set_yticks([0, 1], labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=10)
    return fig
