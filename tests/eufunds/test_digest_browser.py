"""Week 34's real digests in a real browser (Playwright driving Debian's chromium) at a
phone's width and a desktop's: nothing wider than the screen, the municipality's name as the
header, deadlines legible and emphasised. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import pytest

from tests.support.browser import launched_browser, screenshot_path
from tests.support.mail import html_part

WIDTHS = (390, 800)
# The department with the most calls in week 34's digests: the longest page.
LONGEST = "kultur-och-fritid"


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


@pytest.mark.parametrize("width", WIDTHS)
def test_digest_reads_on_a_phone_and_a_desktop(browser, written_week, config, width):
    """No horizontal scrolling; the header names the municipality and the department; the
    body text is at least 14 px; every deadline is shown, bold, the near ones in red."""
    html = html_part(written_week.messages[LONGEST])
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.set_content(html)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width
        header = page.locator("body > div").nth(1).locator("div").first
        assert config.organisation.name in header.inner_text()
        body_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert body_size >= 14
        deadlines = page.get_by_text("Sista ansökningsdag:")
        assert deadlines.count() >= 5
        weights = deadlines.evaluate_all("els => els.map(e => getComputedStyle(e).fontWeight)")
        assert all(int(weight) >= 700 for weight in weights)
        colours = deadlines.evaluate_all("els => els.map(e => getComputedStyle(e).color)")
        assert "rgb(161, 26, 26)" in colours
        page.screenshot(path=screenshot_path(f"digest-{LONGEST}-{width}px.png"), full_page=True)
    finally:
        page.close()


def test_preview_text_is_hidden(browser, written_week):
    """The summary leads the HTML as the inbox preview but is not shown on the page twice."""
    html = html_part(written_week.messages[LONGEST])
    page = browser.new_page(viewport={"width": 800, "height": 900})
    try:
        page.set_content(html)
        preview = page.locator("body > div").first
        assert "stänger inom två veckor" in preview.text_content()
        assert not preview.is_visible()
        assert page.get_by_text("I korthet:").is_visible()
    finally:
        page.close()
