"""The run directory: what chapter 02 trains, and what later chapters read instead of retraining.

A run directory holds:

* ``config.json``: the :class:`~vaelib.params.CourseParameters` and the training config;
* ``model.keras``: the trained VAE (best-validation weights);
* ``history.json``: per-epoch losses, best epoch, training seconds;
* ``scores.npz``: cached scores of the training, validation and test images;
* ``thresholds.json`` and ``metrics.json``: written by chapters 04 and 05.

Files are written atomically (to a temporary name, then renamed), so a crash or a bad input never
leaves a half-written run behind and never destroys the previous one.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vaelib.model import VAE, load_vae, save_vae
from vaelib.params import CourseParameters, ParameterError
from vaelib.scores import SCORES

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.json"
SCORES_FILE = "scores.npz"
#: Parameters that must match between the saved run and the chapter reading it.
MUST_MATCH = ("normal_classes", "anomaly_classes", "epochs", "batch_size", "codings_size", "seed")


class RunNotFoundError(FileNotFoundError):
    """The run directory holds no trained model yet."""


class RunMismatchError(ValueError):
    """The saved run was trained with other parameters than the chapter asks for."""


def write_json(path: str | os.PathLike, data) -> None:
    """Write ``data`` as indented JSON, atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=True) + "\n")
    os.replace(tmp, path)


def check_writable(run_dir) -> None:
    """Make sure ``run_dir`` is (or can become) a writable folder, before any expensive work."""
    path = Path(run_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ParameterError(
            f"run_dir {str(path)!r} cannot be used as a folder for the run ({type(exc).__name__}: {exc}). "
            "Give a folder path that can be created and written, e.g. '../runs/default'."
        ) from None


def save_run(run_dir, model: VAE, history: dict, params: CourseParameters, training: dict) -> Path:
    """Save a freshly trained model with its history and config; drop caches of an older model."""
    path = Path(run_dir)
    path.mkdir(parents=True, exist_ok=True)
    for stale in (SCORES_FILE, "thresholds.json", "metrics.json"):
        (path / stale).unlink(missing_ok=True)
    save_vae(model, path / MODEL_FILE)
    write_json(path / HISTORY_FILE, history)
    write_json(path / CONFIG_FILE, {"parameters": params.to_dict(), "training": training})
    return path


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Run:
    """A saved run. ``model`` is loaded on first use; ``scores`` are computed once and cached."""

    path: Path
    config: dict
    history: dict
    _model: VAE | None = field(default=None, repr=False)

    @property
    def model(self) -> VAE:
        if self._model is None:
            try:
                self._model = load_vae(self.path / MODEL_FILE)
            except (OSError, ValueError, zipfile.BadZipFile) as exc:
                raise RunNotFoundError(
                    f"{self.path / MODEL_FILE} cannot be loaded ({type(exc).__name__}). Run "
                    "notebooks/02_training.ipynb again with the same parameters to train it afresh."
                ) from None
        return self._model

    def scores(self, split, score: str = "mae") -> dict[str, np.ndarray]:
        """Scores ``{"train", "valid", "test"}`` of ``split``'s images, each ``(n,)`` float32.

        Computed once per model and score name, then read from ``scores.npz`` (the cache is keyed
        by the model file's SHA-256, so retraining invalidates it).
        """
        if score not in SCORES:
            raise ValueError(f"Unknown score {score!r}; choose from {sorted(SCORES)}.")
        cache = self.path / SCORES_FILE
        key = _fingerprint(self.path / MODEL_FILE)
        stored = {}
        if cache.is_file():
            try:
                with np.load(cache) as npz:
                    stored = {name: npz[name] for name in npz.files}
            except (OSError, ValueError, EOFError, zipfile.BadZipFile):
                stored = {}  # a damaged cache is only a cache: compute the scores again
            if str(stored.get("model_sha256", "")) != key:
                stored = {}
        names = {part: f"{score}/{part}" for part in ("train", "valid", "test")}
        images = {"train": split.train_images, "valid": split.valid_images, "test": split.test_images}
        if not all(n in stored and len(stored[n]) == len(images[p]) for p, n in names.items()):
            for part, name in names.items():
                stored[name] = SCORES[score](self.model, images[part])
            stored["model_sha256"] = np.array(key)
            tmp = cache.with_name("scores.partial.npz")
            np.savez(tmp, **stored)
            os.replace(tmp, cache)
        return {part: stored[name] for part, name in names.items()}

    def write_json(self, name: str, data) -> Path:
        """Write ``data`` to ``<run_dir>/<name>`` atomically; return the path."""
        write_json(self.path / name, data)
        return self.path / name


def _papermill_args(params: CourseParameters) -> str:
    """The ``-y``/``-p`` options that reproduce ``params`` (defaults left out)."""
    defaults = CourseParameters().to_dict()
    args = ""
    for name, value in params.to_dict().items():
        if value != defaults[name] or name == "run_dir":
            args += f' -y "{name}: {value}"' if isinstance(value, list) else f" -p {name} {value}"
    return args


def _read_run(path: Path) -> tuple[dict, dict]:
    """``(config, history)`` of the run in ``path``; :class:`RunNotFoundError` if damaged."""
    try:
        config = json.loads((path / CONFIG_FILE).read_text())
        history = json.loads((path / HISTORY_FILE).read_text())
        if not isinstance(config["parameters"], dict):
            raise TypeError("'parameters' is not a mapping")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunNotFoundError(
            f"The run in run_dir {str(path)!r} is incomplete or damaged ({type(exc).__name__}: {exc}). "
            "Run notebooks/02_training.ipynb again with the same parameters to train it afresh."
        ) from None
    return config, history


def _differences(config: dict, params: CourseParameters) -> list[str]:
    """The :data:`MUST_MATCH` parameters in which a saved run's config differs from ``params``."""
    asked = params.to_dict()
    return [k for k in MUST_MATCH if config["parameters"].get(k) != asked[k]]


def load_run(params: CourseParameters) -> Run:
    """Open the run in ``params.run_dir``, checking it was trained with the same parameters.

    Raises:
        RunNotFoundError: no trained model there; the message says how to train one.
        RunMismatchError: it was trained with other classes, epochs, etc.; the message lists them.
    """
    path = Path(params.run_dir)
    if not (path / MODEL_FILE).is_file() or not (path / CONFIG_FILE).is_file():
        raise RunNotFoundError(
            f"No trained model in run_dir {str(path)!r}. Chapters 03-06 read the model that chapter "
            "02 trains: run notebooks/02_training.ipynb first with the same parameters, e.g.\n"
            f"  papermill notebooks/02_training.ipynb out.ipynb --cwd notebooks{_papermill_args(params)}"
        )
    config, history = _read_run(path)
    asked = params.to_dict()
    differ = [f"{k}: saved {config['parameters'].get(k)!r}, asked {asked[k]!r}" for k in _differences(config, params)]
    if differ:
        raise RunMismatchError(
            f"The run in {str(path)!r} was trained with other parameters ({'; '.join(differ)}). "
            "Re-run chapter 02 with these parameters, or point run_dir at another folder."
        )
    return Run(path=path, config=config, history=history)


def train_or_load(params: CourseParameters, train_images, valid_images, config, print_every: int = 10):
    """``train_vae``, unless ``params.run_dir`` already holds a complete run trained identically.

    "Identically" means the same :data:`MUST_MATCH` parameters and the same training config,
    with a history of ``config.epochs`` epochs. Then the
    saved model and history are returned and the same epoch lines are printed from the saved
    history, so the output matches a fresh training; otherwise this trains with
    :func:`~vaelib.training.train_vae` and saves the new run with :func:`save_run` (only after
    training succeeded, so a failure leaves the old run as it was). Returns ``(model, history)``
    either way. The images are not fingerprinted: they are determined by the parameters
    (classes, seed, data files).
    """
    from vaelib.training import EpochPrinter, train_vae

    path = Path(params.run_dir)
    check_writable(path)
    try:
        saved, history = _read_run(path)
    except RunNotFoundError:
        saved, history = None, None

    if saved is not None:
        differ = _differences(saved, params)
        if (not differ and (path / MODEL_FILE).is_file()
                and saved.get("training") == config.to_dict()
                and len(history.get("loss", [])) == config.epochs):
            try:
                model = load_vae(path / MODEL_FILE)
            except (OSError, ValueError, zipfile.BadZipFile):
                model = None  # a damaged model file: train afresh below
            if model is not None:
                if print_every:
                    printer = EpochPrinter(print_every)
                    printer.set_params({"epochs": config.epochs})
                    for epoch, (loss, val_loss) in enumerate(zip(history["loss"], history["val_loss"])):
                        printer.on_epoch_end(epoch, {"loss": loss, "val_loss": val_loss})
                return model, history
        print(f"run_dir {str(path)!r} holds a run trained with other settings"
              f"{' (' + ', '.join(differ) + ')' if differ else ''}; it is replaced when training succeeds.")
    model, history = train_vae(train_images, valid_images, config, print_every=print_every)
    save_run(path, model, history, params, config.to_dict())
    return model, history
