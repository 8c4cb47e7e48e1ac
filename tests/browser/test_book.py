"""The built book in a real browser (headless Chromium, no network): every page loads cleanly, its
images load, its math is typeset, exercise solutions open on click, search works, and each chapter
has its Colab button, its .ipynb download and its parameters shown once.

Run after a build: ``make book PROFILE=quick && .venv/bin/python -m pytest -q tests/browser``.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("VAEBOOK_HTML", ROOT / "_build" / "html")).resolve()  # as in conftest.py

# Pages: every HTML page of the book but the generated index, the search page (checked on its own)
# and the root redirect stub.
SKIP = {"genindex.html", "search.html", "py-modindex.html"}
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _is_redirect(path: Path) -> bool:
    return 'http-equiv="Refresh"' in path.read_text(encoding="utf-8", errors="replace")[:2000]


def _pages() -> list[str]:
    if not HTML.is_dir():
        return ["<no build>"]
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if p.parts[len(HTML.parts)] not in {"_static", "_sources", "_images"}
                  and p.name not in SKIP and not _is_redirect(p)) or ["<no build>"]


PAGES = _pages()


def _pages_with(marker: str) -> list[str]:
    return [page for page in PAGES if page != "<no build>" and marker in (HTML / page).read_text(encoding="utf-8")]


# ---------------------------------------------------------------------------------------------------
# helpers


def _drain(driver) -> None:
    driver.get_log("browser")
    driver.get_log("performance")


def _problems(driver, base_url: str) -> list[str]:
    """Console errors and requests to anything but the local server since the last call."""
    problems = [f"console {entry['level']}: {entry['message']}"
                for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    local = urlsplit(base_url).netloc
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") != "Network.requestWillBeSent":
            continue
        url = message["params"]["request"]["url"]
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != local:
            problems.append(f"network request (fails offline): {url}")
    return problems


WAIT_FOR_PAGE = """
const done = arguments[arguments.length - 1];
(async () => {
  // lazy images: load them all now
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(ok => { img.addEventListener("load", ok); img.addEventListener("error", ok); })));
  let mathjax = null;
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    try { await window.MathJax.startup.promise; mathjax = "ok"; } catch (e) { mathjax = String(e); }
  } else if (window.MathJax) {
    mathjax = "MathJax is configured but its script did not run";
  }
  await document.fonts.ready;
  await new Promise(ok => setTimeout(ok, 200));  // let late console errors arrive
  done({
    mathjax: mathjax,
    images: images.map(img => ({src: img.currentSrc || img.src, complete: img.complete,
                                width: img.naturalWidth})),
  });
})().catch(e => done({error: String(e)}));
"""

ARTICLE_TEXT = """
const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
const copy = article.cloneNode(true);
copy.querySelectorAll("pre, code, script, style, mjx-container, mjx-assistive-mml, .highlight").forEach(e => e.remove());
return copy.textContent;
"""


def _open(driver, base_url: str, page: str) -> dict:
    _drain(driver)
    driver.get(urljoin(base_url, page))
    state = driver.execute_async_script(WAIT_FOR_PAGE)
    assert "error" not in state, f"{page}: the page check script failed: {state['error']}"
    return state


# ---------------------------------------------------------------------------------------------------
# every page


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_cleanly(driver, base_url, html_dir, page):
    """No console errors, no request leaves localhost, every <img> loaded, math typeset, no raw TeX."""
    state = _open(driver, base_url, page)
    problems = _problems(driver, base_url)
    broken = [img["src"] for img in state["images"] if not img["complete"] or img["width"] == 0]
    problems += [f"image did not load: {src}" for src in broken]

    n_math = driver.execute_script("return document.querySelectorAll('.math').length")
    if n_math:
        if state["mathjax"] != "ok":
            problems.append(f"MathJax did not run: {state['mathjax']}")
        untypeset = driver.execute_script(
            "return [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container'))"
            ".map(e => e.textContent.slice(0, 80))")
        problems += [f"math not typeset: {text!r}" for text in untypeset]
        errors = driver.execute_script(
            "return [...document.querySelectorAll('mjx-merror, [data-mjx-error]')]"
            ".map(e => e.getAttribute('data-mjx-error') || e.textContent)")
        problems += [f"MathJax error: {text!r}" for text in errors]
    text = driver.execute_script(ARTICLE_TEXT)
    for raw in ("$$", "\\(", "\\)", "\\[", "\\begin{"):
        if raw in text:
            at = text.index(raw)
            problems.append(f"raw TeX {raw!r} left in the page: ...{text[max(0, at - 60):at + 60]!r}...")
    print(f"{page}: {len(state['images'])} images, {n_math} math elements")
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("page", _pages_with('class="solution') or ["<no solutions>"])
def test_solutions_hidden_until_clicked(driver, base_url, html_dir, page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    assert page != "<no solutions>", (
        "No page of the book has an exercise solution (sphinx-exercise `solution` directive); "
        "the book is meant to have exercises with solutions in dropdowns.")
    _open(driver, base_url, page)
    solutions = driver.find_elements(By.CSS_SELECTOR, "div.solution")
    assert solutions, f"{page}: the HTML has solutions but the browser found no div.solution"
    for number, solution in enumerate(solutions, 1):
        where = f"{page}, solution {number} ({solution.get_attribute('id')})"
        body = solution.find_elements(By.CSS_SELECTOR, ":scope > :not(.admonition-title)")
        assert body, f"{where}: the solution is empty"
        assert not any(part.is_displayed() for part in body), (
            f"{where}: the solution is shown before it is clicked; give it `:class: dropdown`")
        toggles = solution.find_elements(By.CSS_SELECTOR, ".admonition-title .toggle-button")
        assert toggles, f"{where}: the solution has no toggle button to open it"
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", toggles[0])
        toggles[0].click()
        WebDriverWait(driver, 10).until(lambda _: any(part.is_displayed() for part in body),
                                        f"{where}: the solution did not open when its toggle was clicked")
    problems = _problems(driver, base_url)
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


def test_some_page_has_math(html_dir):
    """The math check above must not pass vacuously: the book has math (the theory page at least)."""
    assert _pages_with('class="math'), "no page of the built book has math to check"


def test_search_finds_threshold(driver, base_url, html_dir):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _drain(driver)
    driver.get(urljoin(base_url, "search.html?q=threshold"))
    WebDriverWait(driver, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results ul.search li")
        or "did not match" in d.find_element(By.ID, "search-results").text,
        "search for 'threshold' never finished")
    results = driver.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")
    assert results, f"search for 'threshold' found nothing: {driver.find_element(By.ID, 'search-results').text!r}"
    problems = _problems(driver, base_url)
    assert not problems, "search.html:\n  " + "\n  ".join(problems)


def test_root_opens_the_book(driver, base_url, html_dir):
    from selenium.webdriver.support.ui import WebDriverWait

    _drain(driver)
    driver.get(base_url)  # index.html: a redirect to the first page
    WebDriverWait(driver, 30).until(lambda d: d.find_elements("css selector", "article.bd-article h1"),
                                    f"{base_url} does not lead to a page of the book (now at {driver.current_url})")
    driver.execute_async_script(WAIT_FOR_PAGE)
    problems = _problems(driver, base_url)
    assert not problems, "index.html:\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------------------------------------------
# chapter pages


def _colab_url(chapter: str) -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = urlsplit(config["repository"]["url"]).path.strip("/")
    branch = config["repository"].get("branch", "main")
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    return f"{colab}/github/{repo}/blob/{branch}/notebooks/{chapter}.ipynb"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_launch_download_and_parameters(driver, base_url, html_dir, chapter):
    from selenium.webdriver.common.by import By

    page = f"notebooks/{chapter}.html"
    assert (html_dir / page).is_file(), f"chapter {chapter} has no page {page} in the build"
    _open(driver, base_url, page)

    # Colab: the launch button opens the repository's notebooks/<chapter>.ipynb
    colab = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".dropdown-launch-buttons a[href*='colab']")]
    assert colab == [_colab_url(chapter)], f"{page}: Colab launch buttons {colab}, expected [{_colab_url(chapter)}]"

    # Download: a link to the .ipynb, which is a notebook with its outputs
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "a.btn-download-source-button")]
    ipynb = [href for href in links if href.endswith(f"/{chapter}.ipynb")]
    assert ipynb, f"{page}: no download-as-.ipynb link (found {links})"
    with urllib.request.urlopen(ipynb[0], timeout=30) as response:
        notebook = json.loads(response.read())
    assert notebook.get("nbformat") == 4 and notebook["cells"], f"{ipynb[0]} is not a notebook"

    # Parameters: shown once, as the checked table; papermill's cells are not on the page
    text = driver.find_element(By.CSS_SELECTOR, "article.bd-article").text
    assert "# Parameters" not in text and "injected-parameters" not in text, f"{page}: papermill's cell is shown"
    code = " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, "article.bd-article div.cell_input"))
    assert not re.search(r"^\s*(normal_classes|epochs|run_dir)\s*=", code, re.M), (
        f"{page}: a parameters cell is shown as code")
    tables = driver.execute_script(
        "return [...document.querySelectorAll('article.bd-article table')]"
        ".filter(t => /normal_classes/.test(t.textContent)).length")
    assert tables == 1, f"{page}: the parameters are shown in {tables} tables, expected exactly one"
    problems = _problems(driver, base_url)
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------------------------------------------
# no network: nothing in the HTML loads from outside the book


def test_nothing_loads_from_the_network(html_dir):
    remote = re.compile(r"""<(?:script|img|iframe|source|link(?![^>]*rel="(?:canonical|alternate)"))[^>]*"""
                        r"""\s(?:src|href)=["'](?:https?:)?//""", re.I)
    css_remote = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])(?:https?:)?//""", re.I)
    found = [p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html")
             if remote.search(p.read_text(encoding="utf-8", errors="replace"))]
    found += [p.relative_to(html_dir).as_posix() for p in (html_dir / "_static").rglob("*.css")
              if css_remote.search(p.read_text(encoding="utf-8", errors="replace"))]
    assert not found, f"these files load something from the network (breaks offline reading): {found}"
