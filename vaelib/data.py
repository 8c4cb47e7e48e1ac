"""Fashion-MNIST: find it, verify it, load it, and split it for anomaly detection.

Images come back as ``uint8`` arrays of shape ``(n, 28, 28)`` (pixel values 0-255) and
labels as ``uint8`` arrays of shape ``(n,)`` holding class ids 0-9 (see :data:`CLASS_NAMES`).
:func:`make_split` scales images to ``float32`` in ``[0, 1]``.

Sources are tried in this order (the first that holds all four files wins):

1. an explicit ``data_dir`` argument, else the ``VAEBOOK_DATA_DIR`` environment variable;
2. the Keras cache, ``$KERAS_HOME/datasets/fashion-mnist`` (default ``~/.keras/...``);
3. Debian's package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``);
4. a download into the Keras cache, when ``download=True`` and the network answers.

Every file's SHA-256 (of its decompressed bytes, so any gzip re-packing is fine) is checked.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from vaelib.params import ParameterError, check_classes

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: SHA-256 of each file's *decompressed* content.
FILES = {
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
ENV_VAR = "VAEBOOK_DATA_DIR"

HOW_TO_GET_DATA = f"""Ways to get Fashion-MNIST:
  * Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist   (files land in {DEBIAN_DIR})
  * online: call load_fashion_mnist(download=True) once; it fills the Keras cache
  * by hand: put the four files {', '.join(FILES)}
    in a folder and pass data_dir=... (or set {ENV_VAR})."""


class DataNotFoundError(FileNotFoundError):
    """No source holds the Fashion-MNIST files."""


class CorruptDataError(ValueError):
    """A Fashion-MNIST file is truncated, not gzip, or has the wrong checksum."""


def keras_cache_dir() -> Path:
    """The folder where Keras keeps Fashion-MNIST (honours ``KERAS_HOME``)."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets" / "fashion-mnist"


def _has_all_files(folder: Path) -> bool:
    return all((folder / name).is_file() for name in FILES)


def find_data_dir(data_dir: str | os.PathLike | None = None, download: bool = False) -> Path:
    """Return the first folder that holds all four Fashion-MNIST files.

    An explicit ``data_dir`` (or ``$VAEBOOK_DATA_DIR``) is a promise: if it lacks a file the
    error names that file instead of silently falling back to another source.
    """
    explicit = data_dir if data_dir not in (None, "") else os.environ.get(ENV_VAR)
    if explicit:
        folder = Path(str(explicit).strip()).expanduser()
        if not folder.is_dir():
            raise DataNotFoundError(f"data_dir {str(folder)!r} does not exist or is not a folder.\n{HOW_TO_GET_DATA}")
        missing = [name for name in FILES if not (folder / name).is_file()]
        if missing:
            raise DataNotFoundError(
                f"data_dir {str(folder)!r} lacks {', '.join(missing)}.\n{HOW_TO_GET_DATA}"
            )
        return folder
    for folder in (keras_cache_dir(), DEBIAN_DIR):
        if _has_all_files(folder):
            return folder
    if download:
        return _download(keras_cache_dir())
    raise DataNotFoundError(
        f"Fashion-MNIST was not found in the Keras cache ({keras_cache_dir()}) "
        f"nor in {DEBIAN_DIR}.\n{HOW_TO_GET_DATA}"
    )


def _download(folder: Path, timeout_s: float = 15.0) -> Path:
    """Download the four files into ``folder``; fail within ``timeout_s`` per file when offline."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        target = folder / name
        if target.is_file():
            continue
        try:
            with urllib.request.urlopen(DOWNLOAD_URL + name, timeout=timeout_s) as response:
                with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
                    shutil.copyfileobj(response, tmp)
            os.replace(tmp.name, target)
        except (urllib.error.URLError, socket.timeout, OSError) as exc:
            raise DataNotFoundError(
                f"Downloading {name} from {DOWNLOAD_URL} failed ({exc}).\n{HOW_TO_GET_DATA}"
            ) from None
    return folder


def _read_idx(path: Path, expected_sha256: str) -> np.ndarray:
    """Decompress and parse one IDX file, checking its SHA-256 and header."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptDataError(
            f"{path} is not a readable gzip file ({exc}); it is truncated or corrupt. "
            f"Delete it and fetch it again.\n{HOW_TO_GET_DATA}"
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_sha256:
        raise CorruptDataError(
            f"{path} has SHA-256 {digest[:12]}..., expected {expected_sha256[:12]}...: "
            "the file is corrupt or is not Fashion-MNIST. Delete it and fetch it again."
        )
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


@lru_cache(maxsize=2)
def _load_from(folder: Path):
    arrays = [_read_idx(folder / name, sha) for name, sha in FILES.items()]
    for array in arrays:
        array.flags.writeable = False
    return tuple(arrays)


def load_fashion_mnist(data_dir: str | os.PathLike | None = None, download: bool = False):
    """Load Fashion-MNIST as ``(x_train, y_train, x_test, y_test)``.

    Shapes: ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``, ``(10000,)``; dtype
    ``uint8``; the arrays are read-only (they are cached in memory).

    Raises:
        DataNotFoundError: no source holds the files; the message says how to get them.
        CorruptDataError: a file is truncated or fails its checksum; the message names it.
    """
    folder = find_data_dir(data_dir, download=download).resolve()
    return _load_from(folder)


def load_sample():
    """A small real sample shipped inside the package: 100 training images per class.

    Returns ``(images, labels)``: ``uint8`` arrays of shapes ``(1000, 28, 28)`` and ``(1000,)``.
    Good for unit tests and an offline demo; far too small to train a useful model.
    """
    with resources.files("vaelib").joinpath("sample/fashion_mnist_sample.npz").open("rb") as f:
        with np.load(f) as npz:
            return npz["images"], npz["labels"]


@dataclass(frozen=True)
class AnomalySplit:
    """Train/validation/test arrays for one choice of normal and anomalous classes.

    Images are ``float32`` in ``[0, 1]`` with shape ``(n, 28, 28)``; ``*_labels`` hold class ids
    and ``*_is_anomaly`` booleans (``True`` = anomalous class). Training holds normal images only.
    """

    normal_classes: tuple[int, ...]
    anomaly_classes: tuple[int, ...]
    train_images: np.ndarray
    train_labels: np.ndarray
    valid_images: np.ndarray
    valid_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    @property
    def valid_is_anomaly(self) -> np.ndarray:
        return np.isin(self.valid_labels, self.anomaly_classes)

    @property
    def test_is_anomaly(self) -> np.ndarray:
        return np.isin(self.test_labels, self.anomaly_classes)

    def subsets(self) -> dict[str, np.ndarray]:
        """The seven image sets the seed notebook shows, by name, in its order."""
        v, t = self.valid_is_anomaly, self.test_is_anomaly
        return {
            "normal training": self.train_images,
            "validation": self.valid_images,
            "normal validation": self.valid_images[~v],
            "anomalous validation": self.valid_images[v],
            "test": self.test_images,
            "normal test": self.test_images[~t],
            "anomalous test": self.test_images[t],
        }

    def sizes(self) -> dict[str, int]:
        """Number of images in each of :meth:`subsets`."""
        return {name: len(images) for name, images in self.subsets().items()}


def make_split(
    x_train,
    y_train,
    x_test,
    y_test,
    normal_classes=(0, 2, 6),
    anomaly_classes=(7,),
    valid_fraction: float = 0.1,
    seed: int = 42,
) -> AnomalySplit:
    """Split Fashion-MNIST for one-class anomaly detection.

    The training set (all ten classes) is split once, stratified by class and seeded, into
    ``1 - valid_fraction`` training and ``valid_fraction`` validation; the split therefore does
    not depend on which classes are chosen. Then:

    * training keeps the normal classes only (the model never sees an anomaly);
    * validation and test keep the normal and the anomalous classes.

    For the defaults that is 16200 training, 1800 + 600 validation and 3000 + 1000 test images.
    """
    normal, anomaly = check_classes(normal_classes, anomaly_classes)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed={seed!r} must be a whole number >= 0.")
    if not isinstance(valid_fraction, (int, float)) or not 0.0 < float(valid_fraction) < 1.0:
        raise ParameterError(f"valid_fraction must lie strictly between 0 and 1, got {valid_fraction}.")
    x_train, y_train = np.asarray(x_train), np.asarray(y_train)
    x_test, y_test = np.asarray(x_test), np.asarray(y_test)
    if x_train.shape[1:] != (28, 28) or x_test.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape (n, 28, 28), got {x_train.shape} and {x_test.shape}.")
    if len(x_train) != len(y_train) or len(x_test) != len(y_test) or y_train.ndim != 1 or y_test.ndim != 1:
        raise ValueError("labels must be 1-D arrays with one class id per image.")
    x_fit, x_valid, y_fit, y_valid = train_test_split(
        x_train, y_train, test_size=valid_fraction, stratify=y_train, random_state=seed
    )
    chosen = normal + anomaly
    keep_fit = np.isin(y_fit, normal)
    keep_valid = np.isin(y_valid, chosen)
    keep_test = np.isin(y_test, chosen)
    for name, labels in (("training", y_train), ("test", y_test)):
        absent = sorted(set(chosen) - set(np.unique(labels).tolist()))
        if absent:
            raise ValueError(f"The {name} labels contain no images of class(es) {absent}; choose classes "
                             "that are in the data.")
    return AnomalySplit(
        normal_classes=normal,
        anomaly_classes=anomaly,
        train_images=_to_unit_float(x_fit[keep_fit]),
        train_labels=y_fit[keep_fit],
        valid_images=_to_unit_float(x_valid[keep_valid]),
        valid_labels=y_valid[keep_valid],
        test_images=_to_unit_float(x_test[keep_test]),
        test_labels=y_test[keep_test],
    )


def load_split(params) -> AnomalySplit:
    """The split for a :class:`~vaelib.params.CourseParameters`: load the data, then :func:`make_split`."""
    return make_split(*load_fashion_mnist(params.data_dir), params.normal_classes, params.anomaly_classes,
                      seed=params.seed)


def _to_unit_float(images: np.ndarray) -> np.ndarray:
    """uint8 0-255 to float32 0-1 (float input is checked to lie in [0, 1] already)."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255)
    images = images.astype(np.float32)
    if images.size and (not np.isfinite(images).all() or images.min() < 0 or images.max() > 1):
        raise ValueError("float images must be finite and lie in [0, 1] (divide uint8 pixels by 255).")
    return images


def main(argv=None) -> int:
    """``python -m vaelib.data``: say where Fashion-MNIST is and verify it (exit 1 if missing)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m vaelib.data", description=main.__doc__)
    parser.add_argument("--data-dir", default=None, help=f"folder with the four files (default: ${ENV_VAR} or auto)")
    parser.add_argument("--download", action="store_true", help="download into the Keras cache if not found")
    args = parser.parse_args(argv)
    try:
        folder = find_data_dir(args.data_dir, download=args.download)
        x_train, _, x_test, _ = load_fashion_mnist(folder)
    except (DataNotFoundError, CorruptDataError) as exc:
        print(exc)
        return 1
    print(f"Fashion-MNIST OK in {folder}: {len(x_train)} training and {len(x_test)} test images, checksums verified.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
