"""The statistics page in a real browser (Playwright driving Debian's chromium): management
logs in, sees the charts drawn, downloads the Excel workbook and reads it back with pandas;
the page fits a phone. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import pandas as pd
import pytest

from db import Store
from tests.support.browser import launched_browser, screenshot_path
from tests.support.staff_activity import add_activity
from tests.support.web_server import served_app
from tests.web.conftest import PASSWORDS


@pytest.fixture
def served(site):
    """The app, with feedback and applications in its database, on 127.0.0.1."""
    with Store(site.db_path) as store:
        add_activity(store)
    yield from served_app(site.app)


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


def _log_in(page, served: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(f"{served}/statistik")
    page.fill("input[name=name]", "lars")
    page.fill("input[name=password]", PASSWORDS["lars"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/statistik")


def test_management_sees_charts_and_reads_the_workbook(browser, served, tmp_path):
    """Five charts are drawn with their bars and values, nothing is refused by the page's
    security policy, and the downloaded workbook has every table."""
    page = browser.new_page()
    refused = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Refused" in message.text else None,
    )
    try:
        _log_in(page, served, 1280)
        charts = page.locator("svg.chart")
        assert charts.count() == 5
        precision = page.locator("#aterkoppling svg.chart")
        assert precision.get_attribute("role") == "img"
        assert precision.bounding_box()["height"] > 40
        assert "80,0 % (4 av 5)" in precision.text_content()
        assert page.locator("#belopp svg.chart rect").first.bounding_box()["width"] > 100
        page.screenshot(path=screenshot_path("web-statistics.png"), full_page=True)
        with page.expect_download() as download:
            page.click("text=Excel (alla tabeller)")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name == "statistik-hela-tiden.xlsx"
        sheets = pd.read_excel(saved, sheet_name=None)
        assert list(sheets)[1:] == [
            "Utlysningar",
            "Matchningar",
            "Återkoppling",
            "Ansökningar",
            "Belopp",
            "Fokusområden",
            "Källor",
        ]
        assert sheets["Belopp"]["Beviljat (SEK)"].sum() == 800_000
        assert refused == []
    finally:
        page.close()


def test_statistics_fit_a_phone(browser, served):
    """At 390 px the page scrolls only down: charts shrink, tables become lists."""
    page = browser.new_page()
    try:
        _log_in(page, served, 390)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=screenshot_path("web-statistics-390px.png"), full_page=True)
    finally:
        page.close()
