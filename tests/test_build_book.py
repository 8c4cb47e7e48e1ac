"""The book build's process handling: a kernel that could not start is retried once, and only that."""
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def build_book():
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flaky_command(tmp_path, message):
    """A command that fails with ``message`` the first time it runs and succeeds after that."""
    script = tmp_path / "flaky.py"
    script.write_text(
        "import pathlib, sys\n"
        f"mark = pathlib.Path({str(tmp_path / 'ran')!r})\n"
        "if not mark.exists():\n"
        "    mark.touch()\n"
        f"    print({message!r}, file=sys.stderr)\n"
        "    sys.exit(1)\n")
    return [sys.executable, str(script)]


def test_a_kernel_that_did_not_start_is_tried_once_more(build_book, tmp_path, capsys):
    build_book.run_quietly(flaky_command(tmp_path, build_book.KERNEL_START_FAILURE), "executing 01_data.ipynb")
    assert "trying once more" in capsys.readouterr().out


def test_other_failures_are_not_retried(build_book, tmp_path):
    with pytest.raises(RuntimeError, match="executing 02_training.ipynb failed"):
        build_book.run_quietly(flaky_command(tmp_path, "NameError: name 'x' is not defined"),
                               "executing 02_training.ipynb")
    assert (tmp_path / "ran").exists()
