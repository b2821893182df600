"""Scraped text is untrusted: a hostile call renders as inert text, links only http(s)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from notifier.render import build_digest
from tests.support.digest_items import CONTEXT, DEPARTMENT, LATER, NOW, make_call, make_item
from tests.support.mail import Tags, text_and_html

# Untrusted text from the sources ------------------------------------------------------

# A hand-written hostile payload: what a compromised or careless source could put in a call.
HOSTILE = make_call(
    "HOSTILE-1",
    LATER,
    title='<script>alert(1)</script> Grants "for" <b>all</b>',
    summary="Apply now <img src=x onerror=alert(1)> & <a href='javascript:alert(2)'>here</a>",
    programme="<svg onload=alert(3)>",
    url="javascript:alert(document.cookie)",
)
QUOTED_URL = make_call(
    "HOSTILE-2", LATER, url='https://example.org/x" onmouseover="alert(4)', title="Quoted"
)


@pytest.fixture(scope="module")
def hostile_digest() -> EmailMessage:
    """A digest of the hostile calls."""
    items = [make_item(HOSTILE), make_item(QUOTED_URL, terms=(("<i>term</i>", 1.0),))]
    return build_digest(DEPARTMENT, items, NOW, CONTEXT)


def test_hostile_html_has_no_live_tags(hostile_digest):
    """Script, img, svg and b tags from the call are text, not elements."""
    _, html = text_and_html(hostile_digest)
    tags = {tag for tag, _ in Tags(html).tags}
    assert tags.isdisjoint({"script", "img", "svg", "b", "i"})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_hostile_html_has_no_event_attributes(hostile_digest):
    """No element carries an on... attribute (onerror, onload, onmouseover)."""
    _, html = text_and_html(hostile_digest)
    attributes = {name for _, attrs in Tags(html).tags for name in attrs}
    assert not [name for name in attributes if name.startswith("on")]


def test_hostile_html_links_only_http(hostile_digest):
    """A javascript: URL is not linked; a URL with quotes stays inside its href."""
    _, html = text_and_html(hostile_digest)
    hrefs = Tags(html).hrefs()
    assert all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs)
    assert "javascript:" not in html.replace("javascript:alert(2)", "")
    assert 'https://example.org/x" onmouseover="alert(4)' in hrefs


def test_hostile_text_part_has_no_link(hostile_digest):
    """The text part shows '(ingen länk)' instead of a javascript: URL."""
    text, _ = text_and_html(hostile_digest)
    assert "(ingen länk)" in text
    assert "javascript:alert(document.cookie)" not in text


def test_hostile_calendar_has_no_javascript_url(hostile_digest):
    """The .ics carries no javascript: link either."""
    [attachment] = list(hostile_digest.iter_attachments())
    assert b"javascript:" not in attachment.get_payload(decode=True).lower()


# Hand-written: a title that a right-to-left override would show reversed ("...gnp.exe").
BIDI = "\u202e\u2066\u200f"
REVERSED = make_call(
    "BIDI-1",
    LATER,
    title=f"Grants for {BIDI[0]}exe.png towns",
    programme=f"Programme{BIDI[1]} name",
    summary=f"Apply {BIDI[2]}now.",
)


def test_bidirectional_controls_reach_no_part_of_the_digest():
    """Right-to-left overrides and other bidi controls from a call are in no part of the mail:
    subject, text, HTML or calendar."""
    message = build_digest(DEPARTMENT, [make_item(REVERSED)], NOW, CONTEXT)
    text, html = text_and_html(message)
    [calendar] = list(message.iter_attachments())
    ics = calendar.get_payload(decode=True).decode("utf-8")
    for output in (message["Subject"], text, html, ics):
        assert not set(BIDI) & set(output)
    assert "Grants for exe.png towns" in text and "Grants for exe.png towns" in html
    assert "Sista ansökningsdag: Grants for exe.png towns" in ics.replace("\r\n ", "")
