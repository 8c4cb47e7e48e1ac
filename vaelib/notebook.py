"""Helpers for the course notebooks: quiet, consistent output and checked parameters.

Each chapter starts with :func:`setup`, has one cell tagged ``parameters`` that sets the names in
:data:`~vaelib.params.PARAMETER_NAMES`, and then calls :func:`read_parameters`.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import os
import sys
import warnings

from vaelib.params import PARAMETER_NAMES, CourseParameters, ParameterError

PAPERMILL_HEADER = "# Parameters"


@contextlib.contextmanager
def _quiet_stderr():
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up lines bypass Python."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def setup() -> None:
    """Inline PNG figures in one style, and no TensorFlow/absl log lines in the page."""
    import matplotlib as mpl

    with _quiet_stderr():
        import keras  # noqa: F401 - imported here so that its start-up noise goes nowhere
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="keras")
    try:
        ip = get_ipython()  # noqa: F821 - defined inside IPython only
        ip.run_line_magic("matplotlib", "inline")
    except NameError:
        pass
    mpl.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 100, "axes.labelsize": 11, "axes.titlesize": 11,
        "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.spines.top": False, "axes.spines.right": False,
    })


def injected_names(history) -> list[str]:
    """Names assigned by the most recent papermill-injected cell in ``history`` (cell sources)."""
    for source in reversed(list(history)):
        if source.lstrip().startswith(PAPERMILL_HEADER):
            tree = ast.parse(source)
            return [t.id for node in tree.body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)]
    return []


def read_parameters(namespace: dict | None = None) -> CourseParameters:
    """Collect and check the parameters set in the notebook (and any that papermill injected).

    Fails with :class:`~vaelib.params.ParameterError` on a bad value, and on an injected name
    that is not a parameter (papermill itself only warns, and the typo would be silently ignored).
    """
    if namespace is None:
        namespace = get_ipython().user_ns  # noqa: F821 - defined inside IPython only
    unknown = sorted(set(injected_names(namespace.get("In", []))) - set(PARAMETER_NAMES))
    if unknown:
        raise ParameterError(
            f"Unknown parameter(s) {', '.join(unknown)}. The parameters are: {', '.join(PARAMETER_NAMES)}."
        )
    missing = [name for name in PARAMETER_NAMES if name not in namespace]
    if missing:
        raise ParameterError(f"The parameters cell does not set {', '.join(missing)}.")
    return CourseParameters(**{name: namespace[name] for name in PARAMETER_NAMES})
