"""A staff member's click in a real digest, in a real browser (Playwright driving Debian's
chromium): the digest goes out with feedback links, the "Vi vill söka" link opens a page
whose button records the verdict, and the coordinator then sees it counted and the
application opened. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from db import Store
from db.records import WebUser
from eufunds.digests import send_digests
from notifier.send import read_outbox
from notifier.tokens import read_feedback_token, recipient_key
from tests.support.browser import launched_browser, screenshot_path
from tests.support.databases import copy_database
from tests.support.digest_runs import NOW
from tests.support.mail import html_part
from tests.support.web_server import served_app
from tests.web.conftest import PASSWORDS, ROLES, SECRET
from web.app import create_app

WEB = "https://eu.jonkoping.example"


@pytest.fixture(scope="module")
def browser():
    yield from launched_browser()


@pytest.fixture
def mailed(matched_snapshot, config, user_hashes, tmp_path):
    """Social's week-34 digest written with feedback links (one message per recipient) on a
    copy of the matched snapshot, and the app on that database."""
    db_path = copy_database(matched_snapshot, tmp_path / "mailed.db")
    linked = replace(config, organisation=replace(config.organisation, web_url=WEB))
    with Store(db_path) as store:
        for name, password_hash in user_hashes.items():
            store.add_user(WebUser(name, ROLES[name], password_hash, NOW))
        send_digests(
            store,
            linked,
            NOW,
            tmp_path / "outbox",
            None,
            department_ids=["social"],
            feedback_secret=SECRET,
        )
    [first, *_] = sorted((tmp_path / "outbox").glob("*.eml"))
    app = create_app(linked, db_path, SECRET, clock=lambda: NOW)
    return read_outbox(first), app, db_path


@pytest.fixture
def served(mailed):
    yield from served_app(mailed[1])


def test_a_click_in_the_digest_is_counted_for_the_coordinator(browser, mailed, served):
    message, _, db_path = mailed
    html = html_part(message)
    links = re.findall(r'href="(' + re.escape(WEB) + r'/aterkoppling/[^"]+)"', html)
    token_of = {link: read_feedback_token(SECRET, link.rsplit("/", 1)[1], NOW) for link in links}
    apply_link = next(link for link, claim in token_of.items() if claim.verdict == "apply")
    claim = token_of[apply_link]
    # The link names its recipient by a keyed hash only: the one this message went to.
    recipient = message["To"]
    assert recipient not in apply_link and claim.recipient_key == recipient_key(
        SECRET, claim.digest_id, recipient
    )
    page = browser.new_page(viewport={"width": 390, "height": 800})
    try:
        page.goto(served + urlsplit(apply_link).path)
        assert page.locator("h1").inner_text() == "Ditt svar"
        page.click("button:text('Skicka svaret')")
        page.wait_for_selector("h1:text('Tack!')", timeout=15_000)
        assert "nu öppnad i kommunens ansökningsflöde" in page.inner_text("main")
        page.screenshot(path=screenshot_path("feedback-thanks.png"), full_page=True)

        page.set_viewport_size({"width": 1280, "height": 1000})
        page.goto(f"{served}/aterkoppling")
        page.fill("input[name=name]", "anna")
        page.fill("input[name=password]", PASSWORDS["anna"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{served}/aterkoppling")
        row = page.locator("table.list tbody tr", has_text="Socialförvaltningen").first
        assert row.locator("td").all_inner_texts()[1:] == ["0", "0", "1"]
        assert recipient in page.inner_text("main")
        page.screenshot(path=screenshot_path("feedback-coordinator.png"), full_page=True)

        page.goto(f"{served}/ansokningar")
        assert "Intresse" in page.inner_text("main")
    finally:
        page.close()
    with Store(db_path) as store:
        [given] = store.feedback("social")
        [application] = store.applications()
    assert (given.verdict, given.recipient, given.call_id) == (
        "apply",
        recipient,
        claim.call_id,
    )
    assert (application.call_id, application.opened_by) == (claim.call_id, recipient)
