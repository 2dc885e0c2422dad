"""Browser tests: Selenium driving the real admin in headless Chromium against pytest-django's ``live_server``.

A pytest plugin (the root ``conftest.py`` loads it). Tests marked ``browser`` use the ``browser`` fixture: one
Chromium for the whole run (starting it is most of the cost), a clean cookie jar per test, and on a failure a
screenshot and the page source saved under ``$BROWSER_ARTIFACTS`` (default ``.browser-artifacts/``), which the run
prints at its end. Without Chromium and chromedriver the tests are skipped saying why — except in CI (``CI=true``),
where ``.ci/run`` installs them and a missing browser is a failure. docs/testing.md says how to run them.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

BROWSER_BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
VIEWPORT = (1280, 800)
WAIT_SECONDS = 10


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def artifacts_dir(config) -> Path:
    return Path(os.environ.get("BROWSER_ARTIFACTS") or Path(str(config.rootpath)) / ".browser-artifacts")


def find_browser() -> tuple[str | None, str | None, str]:
    """(chromium binary, chromedriver, why not) — from ``CHROMIUM``/``CHROMEDRIVER`` or the PATH."""
    binary = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, BROWSER_BINARIES)), None)
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return binary, driver, "selenium is not installed (uv sync installs the dev dependencies)"
    missing = [name for name, path in (("chromium", binary), ("chromedriver", driver)) if not path]
    if missing:
        return binary, driver, f"no {' and no '.join(missing)} (apt-get install chromium chromium-driver)"
    return binary, driver, ""


def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome on the item, so the ``browser`` fixture knows at teardown if the test failed."""
    if call.when in ("setup", "call"):
        item.stash.setdefault(_FAILED, False)
        if call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
            item.stash[_FAILED] = True


_FAILED = pytest.StashKey[bool]()
_SAVED = pytest.StashKey[list]()
_COLLECTED = pytest.StashKey[int]()


def pytest_collection_modifyitems(config, items):
    config.stash[_COLLECTED] = sum(1 for item in items if item.get_closest_marker("browser"))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    saved = config.stash.get(_SAVED, [])
    ran = config.stash.get(_COLLECTED, 0)
    if saved:
        terminalreporter.section("browser tests")
        terminalreporter.write_line(f"screenshots and page source of failures in {artifacts_dir(config)}:")
        for path in saved:
            terminalreporter.write_line(f"  {path}")
    elif ran:
        terminalreporter.write_line(f"browser tests: failures would be saved in {artifacts_dir(config)}")


def require_browser() -> tuple[str, str]:
    """(chromium, chromedriver); without them the test is skipped saying why — or fails, in CI."""
    binary, driver_path, missing = find_browser()
    if missing:
        if _in_ci():
            pytest.fail(f"CI must run the browser tests, but {missing}")
        pytest.skip(f"browser tests need a browser: {missing}")
    return binary, driver_path


@pytest.fixture(scope="session")
def chromium(request):
    """One headless Chromium for the session (a fresh one per test would cost seconds each)."""
    binary, driver_path = require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = Path(tempfile.mkdtemp(prefix="coveris-downloads-"))
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()
    shutil.rmtree(downloads, ignore_errors=True)


@pytest.fixture
def browser(request, live_server, chromium):
    """The shared Chromium pointed at the live server, with no cookies, at 1280×800; saves evidence on failure.

    ``live_server`` comes first so that, at the end of the run, Chromium quits before the server stops."""
    from backend.tests.browser_pages import Browser

    page = Browser(chromium, live_server.url)
    page.viewport(*VIEWPORT)
    for stale in page.downloads.iterdir():
        stale.unlink()
    yield page
    if request.node.stash.get(_FAILED, False):
        _save_evidence(request, chromium)
    chromium.delete_all_cookies()
    chromium.get("about:blank")  # nothing of this test's page keeps asking the server for more
    page.console_errors()  # drain this test's console messages


def _save_evidence(request, driver) -> None:
    folder = artifacts_dir(request.config)
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
    saved = request.config.stash.setdefault(_SAVED, [])
    try:
        driver.save_screenshot(str(folder / f"{stem}.png"))
        (folder / f"{stem}.html").write_text(f"<!-- {driver.current_url} -->\n{driver.page_source}", encoding="utf-8")
    except Exception as exc:  # noqa: BLE001 - evidence is best effort; the test's own failure is what matters
        (folder / f"{stem}.txt").write_text(f"could not save the page: {exc!r}", encoding="utf-8")
    saved.append(str(folder / f"{stem}.png"))
