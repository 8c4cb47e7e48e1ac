"""Build the book: execute every chapter with papermill, validate with nbval, render with Jupyter Book.

Usage: ``python tools/build_book.py --profile quick`` (``make book PROFILE=quick`` calls this).

Steps, each of which must succeed before the next starts:

1. check the profile's parameters (unknown names or bad values stop the build at once);
2. stage the book sources in ``_build/src`` and execute ``notebooks/*.ipynb`` into it, in order,
   with a clean run directory ``_build/src/runs/<profile>``;
3. re-execute the executed notebooks with nbval and compare the outputs of the cells tagged
   ``nbval-check-output`` (shapes, thresholds, metrics);
4. build the HTML with execution off and warnings as errors, then publish it to ``_build/html``.

A failure anywhere leaves the previously published ``_build/html`` untouched.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
SRC = BUILD / "src"
HTML = BUILD / "html"


def load_profile(name: str) -> dict:
    from vaelib.params import CourseParameters, ParameterError

    path = ROOT / "profiles" / f"{name}.yml"
    if not path.is_file() or not name.replace("-", "").replace("_", "").isalnum():
        choices = sorted(p.stem for p in (ROOT / "profiles").glob("*.yml"))
        sys.exit(f"Unknown profile {name!r}: there is no {path.relative_to(ROOT)}. Choose one of {choices}.")
    try:
        params = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        sys.exit(f"{path.relative_to(ROOT)} is not valid YAML: {exc}")
    if not isinstance(params, dict):
        sys.exit(f"{path.relative_to(ROOT)} must hold 'name: value' lines (a mapping), e.g. 'epochs: 3'.")
    if "run_dir" in params:
        sys.exit(f"{path.relative_to(ROOT)} sets run_dir; the build sets it to ../runs/{name} itself.")
    params["run_dir"] = f"../runs/{name}"
    try:
        CourseParameters.from_mapping(params)
    except ParameterError as exc:
        sys.exit(f"{path.relative_to(ROOT)}: {exc}")
    return params


def stage_sources(profile: str) -> None:
    """Fresh sources in ``_build/src``; of the runs there, only this profile's is wiped."""
    if SRC.exists():
        for entry in SRC.iterdir():
            if entry.name != "runs":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.rmtree(SRC / "runs" / profile, ignore_errors=True)
    (SRC / "notebooks").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, SRC / name)
    shutil.copytree(ROOT / "book", SRC / "book")


EDITIONS = ("instructor", "student")


def set_edition(edition: str) -> None:
    """The student edition hides every exercise's solution: sphinx-exercise's ``hide_solutions``.

    Only the staged ``_build/src/_config.yml`` changes; the repository's stays as it is.
    """
    if edition not in EDITIONS:
        sys.exit(f"Unknown edition {edition!r}; choose one of {list(EDITIONS)}.")
    if edition == "student":
        path = SRC / "_config.yml"
        config = yaml.safe_load(path.read_text())
        config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
        path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


def strip_solutions() -> None:
    """Student edition: drop the ``{solution}`` blocks from the staged notebooks too.

    ``hide_solutions`` removes them from the HTML; this keeps them out of the pages' ``.ipynb``
    downloads. A block runs from its opening fence to the next line holding the same fence.
    """
    for path in sorted((SRC / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            kept, fence = [], None
            for line in "".join(cell["source"]).split("\n"):
                if fence is None and line.lstrip("`:").startswith("{solution}") and line[:1] in "`:":
                    fence = line[: len(line) - len(line.lstrip(line[0]))]
                elif fence is not None:
                    if line.strip() == fence:
                        fence = None
                else:
                    kept.append(line)
            cell["source"] = "\n".join(kept)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def tidy_for_the_page(path: Path) -> None:
    """Show the parameters once: hide the parameters and injected cells, keep the checked table.

    Also refuse a page with stderr output (warnings, log lines): students should never see them.
    """
    nb = json.loads(path.read_text())
    noisy = [i for i, cell in enumerate(nb["cells"]) for out in cell.get("outputs", [])
             if out.get("output_type") == "stream" and out.get("name") == "stderr"]
    if noisy:
        raise RuntimeError(f"{path.name}: cells {noisy} wrote to stderr (warnings or log lines); "
                           "silence them at the source so that the page stays clean.")
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if ("parameters" in tags or "injected-parameters" in tags) and "remove-cell" not in tags:
            tags.append("remove-cell")
            cell["metadata"]["tags"] = tags
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


#: Seconds between starting the two processes of a wave: each starts a Jupyter kernel, and two
#: kernels starting at once can pick the same free TCP port ("Address already in use", "Kernel
#: died before replying to kernel_info"); a kernel has bound its ports well within this time.
KERNEL_STAGGER_S = 2

#: What a kernel that could not start leaves in the output; such a run is tried once more.
KERNEL_START_FAILURE = "Kernel died before replying to kernel_info"


def run_captured(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd`` with its output captured; a run whose kernel died before it started (a port
    taken meanwhile) is tried once more."""
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0 and KERNEL_START_FAILURE in done.stdout + done.stderr:
        print(f"  {what}: the kernel did not start; trying once more", flush=True)
        done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    return done


def run_quietly(cmd: list[str], what: str, **kwargs) -> None:
    """Run ``cmd`` (:func:`run_captured`); show its output only if it fails (kernels print
    start-up noise on stderr)."""
    done = run_captured(cmd, what, **kwargs)
    if done.returncode != 0:
        print(done.stdout[-20000:], done.stderr[-20000:], sep="\n", file=sys.stderr)
        raise RuntimeError(f"{what} failed (exit status {done.returncode}); its output is above.")


def execute_one(notebook: Path, params: dict) -> None:
    out = SRC / "notebooks" / notebook.name
    start = time.perf_counter()
    papermill = Path(sys.executable).parent / "papermill"
    run_quietly([str(papermill), str(notebook), str(out), "--cwd", str(out.parent), "--no-progress-bar",
                 "-y", json.dumps(params)], f"executing {notebook.name}")
    tidy_for_the_page(out)
    print(f"  executing {notebook.name} ... {time.perf_counter() - start:.0f} s", flush=True)


def execute(params: dict) -> None:
    """Two chapters at a time (the machine's two cores): 01 beside 02, which trains; then 03-06,
    which all read the run that 02 saved."""
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    first = [nb for nb in notebooks if nb.name[:2] in ("01", "02")]
    rest = [nb for nb in notebooks if nb not in first]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for wave in (first, rest):
            futures = []
            for i, nb in enumerate(wave):
                if i == 1:  # the first two start apart (later ones wait for a worker; run_quietly retries)
                    time.sleep(KERNEL_STAGGER_S)
                futures.append(pool.submit(execute_one, nb, params))
            for future in futures:
                future.result()


#: nbval's two processes: chapters split so that both take about as long.
VALIDATION_GROUPS = (("01", "02", "05"), ("03", "04", "06"))


def validate() -> None:
    """Re-execute the executed notebooks with nbval in two processes side by side (each with its own
    kernels, started apart), and fail if either finds a checked output that differs."""
    notebooks = sorted((SRC / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    groups = [[nb for nb in notebooks if nb.name[:2] in group] for group in VALIDATION_GROUPS]
    groups.append([nb for nb in notebooks if all(nb not in g for g in groups)])  # chapters added later

    def run(group):
        cmd = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q", "-p", "no:cacheprovider",
               "--rootdir", str(SRC), *map(str, group)]
        return run_captured(cmd, "validating " + ", ".join(nb.name for nb in group), cwd=SRC)

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = []
        for i, group in enumerate(g for g in groups if g):
            if i:
                time.sleep(KERNEL_STAGGER_S)
            futures.append(pool.submit(run, group))
        results = [future.result() for future in futures]
    for done in results:
        print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "", flush=True)
    failed = [done for done in results if done.returncode != 0]
    for done in failed:
        print(done.stdout[-20000:], done.stderr[-20000:], sep="\n", file=sys.stderr)
    if failed:
        raise RuntimeError("nbval found checked outputs that differ (or could not run); its report is above.")


def render() -> None:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    run_quietly([str(jupyter_book), "build", str(SRC), "--warningiserror", "--keep-going"], "jupyter-book build")
    if HTML.exists():
        shutil.rmtree(HTML)
    shutil.copytree(SRC / "_build" / "html", HTML)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="full", help="profiles/<name>.yml (default: full)")
    parser.add_argument("--edition", default="instructor", choices=EDITIONS,
                        help="student: build without the exercises' solutions (default: instructor)")
    args = parser.parse_args()
    start = time.perf_counter()
    params = load_profile(args.profile)
    print(f"[1/3] executing the chapters, profile {args.profile!r}, {args.edition} edition ({params})")
    stage_sources(args.profile)
    set_edition(args.edition)
    try:
        execute(params)
        print("[2/3] validating the executed notebooks with nbval")
        validate()
        if args.edition == "student":
            strip_solutions()
        print("[3/3] building the HTML")
        render()
    except KeyboardInterrupt:
        print(f"\nBook build interrupted. Nothing was published; {HTML.relative_to(ROOT)} is unchanged.",
              file=sys.stderr)
        return 130
    except Exception as exc:  # report briefly; papermill's message holds the cell's error
        print(f"\nBook build FAILED: {exc}\nNothing was published; {HTML.relative_to(ROOT)} is unchanged.", file=sys.stderr)
        return 1
    metrics = json.loads((SRC / "runs" / args.profile / "metrics.json").read_text())
    print(f"\nTest accuracy at the validation-chosen threshold: {metrics['test_accuracy']:.4f} "
          f"(seed 0.90275); AUROC {metrics['auroc']:.4f}")
    print(f"Book built in {time.perf_counter() - start:.0f} s: {HTML.relative_to(ROOT)}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
