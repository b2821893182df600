"""What week 34's real digests say (the matched snapshot, written to the outbox): mail headers
that stop auto-replies, the summary first, the sources actually crawled, each call's facts,
sibling topics grouped, sections capped with the rest counted and left unsent."""

from __future__ import annotations

import re

import pytest

from db import Store
from eufunds.config import Config
from notifier.sections import SECTION_CAP
from tests.support.databases import digest_items
from tests.support.digest_runs import WEEK, recorded
from tests.support.mail import html_part
from tests.support.mail import text_part as raw_text_part


@pytest.fixture(scope="module")
def store(written_week):
    with Store(written_week.db_path) as opened:
        yield opened


def text_part(message) -> str:
    """The text part with plain newlines (the outbox keeps the wire's CRLF)."""
    return raw_text_part(message).replace("\r\n", "\n")


def _shown_titles(text: str) -> list[str]:
    """The titles of the calls a digest's text part shows."""
    return re.findall(r"^(?:  )?\* (.+)$", text, re.M)


def test_mail_says_it_is_automatic_and_how_to_stop_it(written_week, config: Config):
    """Auto-Submitted and Exchange's suppression header stop out-of-office replies; the
    List-Unsubscribe link mails the coordinator, naming the department."""
    coordinator = config.organisation.coordinator_email
    for message in written_week.messages.values():
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["X-Auto-Response-Suppress"] == "All"
        assert message["List-Unsubscribe"].startswith(f"<mailto:{coordinator}?subject=")


def test_summary_comes_first_and_as_the_preview(written_week):
    """The text part opens with the summary line; the HTML carries it hidden before the
    greeting (the inbox preview)."""
    for message in written_week.messages.values():
        text, html = text_part(message), html_part(message)
        first = text.splitlines()[0]
        assert re.fullmatch(
            r"\d+ utlysningar?, \d+ (stark matchning|starka matchningar), "
            r"\d+ stänger inom två veckor\.",
            first,
        )
        assert html.index(first.rstrip(".")) < html.index("Hej ")


def test_intro_names_only_the_sources_crawled(written_week):
    """Only the portal was crawled (replayed): the intro names it and no other source."""
    for message in written_week.messages.values():
        intro = next(line for line in text_part(message).splitlines() if "Här är" in line)
        assert "från EU Funding & Tenders Portal som matchar" in intro
        assert "Tillväxtverket" not in intro and "nationella" not in intro


def test_each_call_says_kind_programme_and_why(written_week, store):
    """Every call shown has its kind of funding (where the portal gives one), a Swedish line
    on its programme (where programmes.toml has one) and why it matched."""
    for department_id, message in written_week.messages.items():
        text = text_part(message)
        items = dict(digest_items(store, recorded(store)[department_id].id))
        typed = sum(
            1
            for call_id in items
            if (call := store.get_call(call_id)).type_of_action or call.kind == "cascade"
        )
        assert text.count("\n  Typ: ") == typed
        assert text.count("\n  Varför: ") == len(items)
        assert "\n  Om programmet: " in text


def test_recorded_items_are_the_ones_shown(written_week, store):
    """What a digest records as sent is what it shows; a section past its cap counts the
    rest, which stay unsent."""
    capped = 0
    for department_id, message in written_week.messages.items():
        text = text_part(message)
        items = digest_items(store, recorded(store)[department_id].id)
        titles = [store.get_call(call_id).title for call_id, _ in items]
        assert sorted(_shown_titles(text)) == sorted(titles)
        for heading, count, body in re.findall(
            r"== (.+?) \((\d+)\) ==\n(.*?)(?=\n== |\n--\n)", text, re.S
        ):
            shown = len(re.findall(r"^(?:  )?\* ", body, re.M))
            left = re.search(r"Ytterligare (\d+) utlysning", body)
            assert shown <= SECTION_CAP, heading
            assert int(count) == shown + (int(left.group(1)) if left else 0)
            capped += bool(left)
    assert capped, "week 34 has a section past its cap"


def _groups(text: str) -> list[tuple[str, list[str]]]:
    """Each group of a digest's text part: its header and the titles of its calls (the
    indented '  * ' lines until the next call, group, section or footer)."""
    groups: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        header = re.fullmatch(r"(.+) \(\d+ delar av samma utlysning\):", line)
        if header:
            groups.append((header.group(1), []))
        elif line.startswith("  * ") and groups:
            groups[-1][1].append(line[4:])
        elif line.startswith(("* ", "== ", "--", "Ytterligare")):
            groups.append(("", []))
    return [(header, titles) for header, titles in groups if header]


def test_sibling_topics_are_grouped_under_their_call(written_week, store):
    """Topics of one call shown together under the call's title; they share its identifier."""
    grouped = 0
    for department_id, message in written_week.messages.items():
        sent = [
            store.get_call(call_id)
            for call_id, _ in digest_items(store, recorded(store)[department_id].id)
        ]
        for header, titles in _groups(text_part(message)):
            siblings = [call for call in sent if call.title in titles]
            assert len(titles) >= 2 and len(siblings) == len(titles)
            assert len({call.call_identifier for call in siblings}) == 1
            assert siblings[0].call_identifier
            assert header in (siblings[0].call_title, siblings[0].call_identifier)
            grouped += 1
    assert grouped, "week 34 groups sibling topics somewhere"


def test_week_is_the_snapshot_week(store):
    """The digests were recorded for week 34."""
    assert set(recorded(store, WEEK))


def test_forthcoming_calls_open_soon_with_grant_and_consortium(written_week, store):
    """Across week 34's digests: forthcoming calls stand under 'Öppnar snart' with their
    opening date; every shown call whose source gives a grant per project says it; every
    shown Horizon research or innovation action says a consortium is needed."""
    opening = grants = consortia = 0
    for department_id, message in written_week.messages.items():
        text = text_part(message)
        sent = [
            store.get_call(call_id)
            for call_id, _ in digest_items(store, recorded(store)[department_id].id)
        ]
        forthcoming = [c for c in sent if c.status == "forthcoming"]
        if forthcoming:
            section = text.split("== Öppnar snart")[1].split("\n== ")[0].split("\n--\n")[0]
            assert all(c.title in section for c in forthcoming)
            opening += section.count("\n  Öppnar: ")
        with_grant = [c for c in sent if c.grant_max_eur or (c.budget_eur and c.expected_grants)]
        assert text.count("\n  Bidrag: ") == len(with_grant)
        grants += len(with_grant)
        ria = [
            c
            for c in sent
            if re.search(r"HORIZON (JU )?(Research and )?Innovation Actions", c.type_of_action)
        ]
        assert text.count("\n  Konsortium: ") >= len(ria)
        consortia += len(ria)
    assert opening and grants and consortia
