"""The web app in a real browser (Playwright driving Debian's chromium) against the app
served over HTTP on 127.0.0.1: log in, edit a profile and watch the live preview change,
save, roll back, search calls. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from db import Store
from tests.support.browser import launched_browser, screenshot_path
from tests.support.web_server import served_app
from tests.web.conftest import PASSWORDS


@pytest.fixture
def served(site) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, in a thread, stopped afterwards."""
    yield from served_app(site.app)


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def test_coordinator_tunes_a_profile_and_searches(browser, served, site):
    """Log in, add a keyword: the live preview shows what it brings in (without pressing a
    button), save, roll back, then search the calls."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(f"{served}/profiler/social")
        assert "/logga-in" in page.url
        page.fill("input[name=name]", "anna")
        page.fill("input[name=password]", PASSWORDS["anna"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{served}/profiler/social")
        page.screenshot(path=screenshot_path("web-profile-before.png"))

        keywords = page.locator("textarea[name=keywords_en]")
        keywords.fill(keywords.input_value() + "\nhydrogen = 3\nzzzz unheard of = 1")
        added = page.locator("#preview-panel .added")
        added.wait_for(timeout=15_000)
        assert "Hydrogen cities" in added.inner_text()
        assert "zzzz unheard of: träffar ingen utlysning" in page.locator(".hits").inner_text()
        page.screenshot(path=screenshot_path("web-profile-preview.png"), full_page=True)

        page.fill("input[name=note]", "vätgas i bostäder")
        page.click("button:text('Spara')")
        page.wait_for_selector(".notice")
        assert "Sparad som version 2." in page.locator(".notice").inner_text()
        page.click("button:text('Återställ')")
        page.wait_for_selector(".notice:has-text('återställd')")
        with Store(site.db_path) as store:
            versions = store.profile_versions("social")
        assert [v.version for v in versions] == [3, 2, 1]
        assert versions[0].profile == versions[2].profile

        page.goto(f"{served}/utlysningar")
        page.fill("input[name=q]", "climate adaptation")
        page.click("form[role=search] button")
        page.wait_for_url("**/utlysningar?q=climate+adaptation*")
        assert page.locator("table.list tbody tr").count() > 0
        assert page.get_by_role("link", name="Climate Change Adaptation").count() >= 1
        page.screenshot(path=screenshot_path("web-search.png"), full_page=True)
    finally:
        page.close()


def test_pages_fit_a_phone(browser, served):
    """At 390 px the calls page and a profile scroll only down, never sideways."""
    page = browser.new_page(viewport={"width": 390, "height": 900})
    try:
        page.goto(f"{served}/logga-in")
        page.fill("input[name=name]", "lars")
        page.fill("input[name=password]", PASSWORDS["lars"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{served}/utlysningar")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=screenshot_path("web-calls-390px.png"), full_page=True)
    finally:
        page.close()
