import numpy as np
import pytest
from matplotlib.figure import Figure

from vaelib import plots
from vaelib.generation import interpolate_grid, random_codings

RNG = np.random.default_rng(0)
IMAGES = RNG.random((12, 28, 28)).astype("float32")


def axes_labels(fig):
    return [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes]


def test_pixel_profile_draws_the_error_against_its_own_image():
    image, recon = IMAGES[0], IMAGES[1]
    fig = plots.pixel_profile(image, recon, title="x")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert np.array_equal(lines[0].get_ydata(), image.ravel())
    assert np.array_equal(lines[1].get_ydata(), recon.ravel())
    assert ax.get_xlabel() and ax.get_ylabel()
    assert f"{np.abs(image - recon).mean():.4f}" in ax.get_title()


def test_histogram_draws_one_line_per_threshold_and_labels_axes():
    fig = plots.score_histogram({"a": RNG.random(50), "b": RNG.random(30)}, {"t1": 0.2, "t2": 0.5}, xlabel="MAE")
    ax = fig.axes[0]
    assert [line.get_xdata()[0] for line in ax.get_lines()] == [0.2, 0.5]
    assert axes_labels(fig) == [("MAE", "number of images")]


def test_histogram_rejects_empty_groups():
    with pytest.raises(ValueError, match="non-empty"):
        plots.score_histogram({"a": []})


def test_grids_and_curves_return_figures():
    assert isinstance(plots.image_grid(IMAGES, n_cols=4, titles=list("abcdefghijkl")), Figure)
    fig = plots.reconstruction_grid(IMAGES, IMAGES, n=12, n_cols=6)
    mosaic = fig.axes[0].images[0].get_array()
    assert mosaic.shape == (4 * 30 - 2, 6 * 30 - 2)  # 2 blocks of (input, reconstruction) rows
    assert np.array_equal(mosaic[30:58, 0:28], IMAGES[0]) and np.array_equal(mosaic[60:88, 0:28], IMAGES[6])
    curves = plots.training_curves({"loss": [0.5, 0.4], "val_loss": [0.45, 0.41], "best_epoch": 2})
    assert axes_labels(curves)[0][0] == "epoch"
    cm = plots.confusion_figure([[5, 1], [1, 1]])
    assert axes_labels(cm) == [("predicted", "true")]


def test_plots_reject_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(n, 28, 28\)"):
        plots.image_grid(np.zeros((3, 784)))
    with pytest.raises(ValueError, match="2x2"):
        plots.confusion_figure(np.zeros((3, 3)))


def test_random_codings_are_reproducible():
    assert np.array_equal(random_codings(5, 16, seed=1), random_codings(5, 16, seed=1))
    assert random_codings(5, 16, seed=1).shape == (5, 16)


def test_interpolation_keeps_the_corners_and_is_linear():
    corners = np.arange(2 * 2 * 3, dtype="float32").reshape(2, 2, 3)
    grid = interpolate_grid(corners, rows=3, cols=5).reshape(3, 5, 3)
    assert np.allclose(grid[0, 0], corners[0, 0]) and np.allclose(grid[-1, -1], corners[1, 1])
    assert np.allclose(grid[1, 2], corners.mean(axis=(0, 1)))
