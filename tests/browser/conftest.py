"""Fixtures of the browser check: the built book served on localhost, and a headless Chromium.

The browser is Debian's ``chromium`` driven by its ``chromium-driver`` through Selenium; nothing is
downloaded. Every host but 127.0.0.1 is unresolvable in it, so the pages are checked as they work
on a machine with no network.

Environment variables: ``VAEBOOK_HTML`` (the built book, default ``_build/html``),
``VAEBOOK_CHROMIUM`` / ``VAEBOOK_CHROMEDRIVER`` (default ``/usr/bin/chromium`` and
``/usr/bin/chromedriver``), ``VAEBOOK_REQUIRE_BROWSER=1`` (fail instead of skipping when they are
missing; CI sets it).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("VAEBOOK_HTML", ROOT / "_build" / "html")).resolve()
CHROMIUM = os.environ.get("VAEBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("VAEBOOK_CHROMEDRIVER", "/usr/bin/chromedriver")

MISSING_BUILD = (f"The built book is missing: there is no {HTML}/index.html. "
                 "Run `make book PROFILE=quick` first (or `make test`, which builds it before this check).")


def browser_missing() -> str | None:
    """Why the browser check cannot run here, or None if it can."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        return (f"browser check not run: {' and '.join(missing)} not found. Install Debian's browser and its "
                "driver (`apt-get install chromium chromium-driver`; .ci/run does) or point VAEBOOK_CHROMIUM and "
                "VAEBOOK_CHROMEDRIVER at them.")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "browser check not run: selenium is not installed (pip install -e '.[test]')."
    return None


def pytest_collection_modifyitems(config, items):
    reason = browser_missing()
    if reason is None:
        return
    here = Path(__file__).parent
    mine = [item for item in items if here in Path(str(item.fspath)).parents]
    if os.environ.get("VAEBOOK_REQUIRE_BROWSER"):
        return  # the driver fixture fails with the reason
    for item in mine:
        item.add_marker(pytest.mark.skip(reason=reason))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def html_dir() -> Path:
    if not (HTML / "index.html").is_file():
        pytest.fail(MISSING_BUILD, pytrace=False)
    return HTML


@pytest.fixture(scope="session")
def base_url(html_dir):
    """``http://127.0.0.1:<free port>/``, serving the built book from a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def driver():
    """Headless Chromium with a fresh profile, console and network logging, and no network."""
    reason = browser_missing()
    if reason:
        pytest.fail(f"{reason} (VAEBOOK_REQUIRE_BROWSER is set, so this is an error.)", pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="vaebook-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--no-first-run", "--disable-quic",
                "--window-size=1280,1000", f"--user-data-dir={profile}",
                # no network: every host name but the local server's fails to resolve
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    browser.set_script_timeout(60)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)
