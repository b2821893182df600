"""A real browser for the tests: Playwright for Python driving Debian's chromium, headless.

Playwright's own browser download cannot be fetched here, so the browser is launched by its
executable path (EUFUNDS_CHROMIUM, else /usr/bin/chromium). `.ci/run` installs chromium when
it is missing and sets EUFUNDS_REQUIRE_BROWSER=1, so on CI a missing browser fails the tests;
elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
# Screenshots and other test output are kept here (not committed).
OUTPUT = Path(os.environ.get("EUFUNDS_TEST_OUTPUT", REPOSITORY / "test-output"))


def chromium_path() -> str | None:
    """Debian's chromium, where it is installed."""
    given = os.environ.get("EUFUNDS_CHROMIUM")
    if given:
        return given
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launched_browser() -> Iterator:
    """A headless chromium (a pytest fixture body): skipped, or failed on CI, without one."""
    path = chromium_path()
    if path is None:
        message = "chromium not installed (apt-get install chromium; .ci/run does)"
        if os.environ.get("EUFUNDS_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


def screenshot_path(name: str) -> Path:
    """Where a test keeps a screenshot."""
    folder = OUTPUT / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
