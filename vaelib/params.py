"""The course's notebook parameters: one set, shared by every chapter, checked in one place.

Papermill passes values as Python objects (``-y``/``-f`` YAML) or as strings (``-p``), so every
parser here accepts both: ``"[0, 2, 6]"``, ``"0,2,6"`` and ``[0, 2, 6]`` are the same classes,
and a string is never iterated character by character.
"""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass, fields

import numpy as np


class ParameterError(ValueError):
    """A parameter has a wrong name or value; the message names it and says what is allowed."""


def parse_classes(value, name: str = "classes") -> tuple[int, ...]:
    """Class ids 0-9 as a sorted tuple, from an int, a list/tuple, or a string like ``"[0,2,6]"``."""
    original = value
    if isinstance(value, str):
        text = value.strip()
        try:
            value = ast.literal_eval(text if text.startswith(("[", "(")) else f"[{text}]")
        except (ValueError, SyntaxError):
            raise ParameterError(
                f"{name}={original!r} is not a list of class ids; write it like [0, 2, 6]."
            ) from None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        value = [value]
    if not isinstance(value, (list, tuple, set, frozenset, range)):
        raise ParameterError(f"{name}={original!r} is not a list of class ids; write it like [0, 2, 6].")
    ids = list(value)
    if not ids:
        raise ParameterError(f"{name} is empty; give at least one class id from 0 to 9.")
    ids = [int(i) if isinstance(i, np.integer) else i for i in ids]
    for item in ids:
        if isinstance(item, bool) or not isinstance(item, int):
            raise ParameterError(f"{name}={original!r}: {item!r} is not an integer class id (0-9).")
        if not 0 <= item <= 9:
            raise ParameterError(f"{name}={original!r}: class id {item} is outside 0-9.")
    if len(set(ids)) != len(ids):
        raise ParameterError(f"{name}={original!r} repeats a class id.")
    return tuple(sorted(ids))


def check_classes(normal_classes, anomaly_classes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Parse and check the two class lists; return them as sorted tuples of ints.

    Raises :class:`ParameterError` for an empty list, an id outside 0-9,
    or a class that is in both lists.
    """
    normal = parse_classes(normal_classes, "normal_classes")
    anomaly = parse_classes(anomaly_classes, "anomaly_classes")
    overlap = sorted(set(normal) & set(anomaly))
    if overlap:
        raise ParameterError(
            f"Classes {overlap} are in both normal_classes {list(normal)} and anomaly_classes "
            f"{list(anomaly)}; a class must be either normal or anomalous."
        )
    return normal, anomaly


def positive_int(value, name: str) -> int:
    """An integer > 0, from an int or a string of digits."""
    if isinstance(value, str) and value.strip().lstrip("+").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{name}={value!r} must be a whole number greater than 0.")
    if value <= 0:
        raise ParameterError(f"{name}={value} must be greater than 0.")
    return value


def optional_path(value, name: str) -> str | None:
    """``None`` (or ``""``/``"None"``) for "not given", else the path as a string."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None", "null")):
        return None
    if not isinstance(value, str):
        raise ParameterError(f"{name}={value!r} must be a path (a string) or None.")
    return value


@dataclass(frozen=True)
class CourseParameters:
    """Everything an instructor may change when re-running a chapter.

    ``epochs``, ``batch_size`` and ``codings_size`` must be > 0; ``seed`` is any integer
    ``>= 0``; ``run_dir`` is where chapter 02 saves the trained model and later chapters read
    it; ``data_dir`` is an optional folder holding the Fashion-MNIST files.
    """

    normal_classes: tuple[int, ...] = (0, 2, 6)
    anomaly_classes: tuple[int, ...] = (7,)
    epochs: int = 100
    batch_size: int = 128
    codings_size: int = 16
    seed: int = 42
    run_dir: str = "../runs/default"
    data_dir: str | None = None

    def __post_init__(self):
        normal, anomaly = check_classes(self.normal_classes, self.anomaly_classes)
        object.__setattr__(self, "normal_classes", normal)
        object.__setattr__(self, "anomaly_classes", anomaly)
        for name in ("epochs", "batch_size", "codings_size"):
            object.__setattr__(self, name, positive_int(getattr(self, name), name))
        seed = self.seed
        if isinstance(seed, str) and seed.strip().isdigit():
            seed = int(seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ParameterError(f"seed={self.seed!r} must be a whole number >= 0.")
        object.__setattr__(self, "seed", seed)
        run_dir = optional_path(self.run_dir, "run_dir")
        if run_dir is None:
            raise ParameterError("run_dir is empty; give a folder such as '../runs/default'.")
        object.__setattr__(self, "run_dir", run_dir)
        object.__setattr__(self, "data_dir", optional_path(self.data_dir, "data_dir"))

    @classmethod
    def from_mapping(cls, values: dict) -> "CourseParameters":
        """Build from a dict, rejecting names that are not parameters (papermill only warns)."""
        unknown = sorted(set(values) - set(PARAMETER_NAMES))
        if unknown:
            raise ParameterError(
                f"Unknown parameter(s) {', '.join(unknown)}. "
                f"The parameters are: {', '.join(PARAMETER_NAMES)}."
            )
        return cls(**values)

    def _repr_markdown_(self) -> str:
        from vaelib.tables import Table

        rows = [[f"`{k}`", f"`{v!r}`", PARAMETER_HELP[k]] for k, v in self.to_dict().items()]
        return Table(["parameter", "value", "meaning"], rows)._repr_markdown_()

    def to_dict(self) -> dict:
        """Plain JSON-ready values (lists, not tuples)."""
        out = asdict(self)
        out["normal_classes"] = list(self.normal_classes)
        out["anomaly_classes"] = list(self.anomaly_classes)
        return out


PARAMETER_NAMES = tuple(f.name for f in fields(CourseParameters))
PARAMETER_HELP = {
    "normal_classes": "class ids treated as normal; the model trains on these only",
    "anomaly_classes": "class ids treated as anomalies (validation and test only)",
    "epochs": "training epochs (chapter 2)",
    "batch_size": "images per gradient step",
    "codings_size": "dimension of the latent space",
    "seed": "seed of the split, the initial weights and the sampling noise",
    "run_dir": "folder where chapter 2 saves the model and later chapters read it",
    "data_dir": "folder with the Fashion-MNIST files (None: search the usual places)",
}
