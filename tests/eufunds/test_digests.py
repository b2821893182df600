"""One real week of digests: every department's digest through a real SMTP server.

The database is the session's replayed crawl of the snapshot in ../shared, matched as of the
day it was saved; the week's digests go to aiosmtpd on 127.0.0.1 and are parsed back with
email.policy.default. `now` is always passed in.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import pytest
from icalendar import Calendar

from db import Store
from eufunds.digests import DigestOutcome, send_digests
from notifier.send import SmtpSettings
from tests.support.databases import copy_database, digest_items, digests
from tests.support.digest_runs import (
    DEPARTMENTS,
    NOW,
    WEEK,
    by_department,
    message_id,
    recorded,
    statuses,
)
from tests.support.mail import DIGEST_PARTS, Tags, html_part, text_part
from tests.support.smtp import SENDER, Received, smtp_server_running

# One real week: every department's digest through SMTP ---------------------------------


@dataclass(frozen=True)
class SentWeek:
    """The database after a week's digests went out by SMTP, and what the server got."""

    db_path: Path
    outcomes: list[DigestOutcome]
    messages: dict[str, Received]
    settings: SmtpSettings


@pytest.fixture(scope="module")
def sent_week(tmp_path_factory, matched_snapshot, config) -> SentWeek:
    """send_digests as of NOW to a real SMTP server, on a copy of the matched database."""
    folder = tmp_path_factory.mktemp("sent")
    db_path = copy_database(matched_snapshot, folder / "sent.db")
    with smtp_server_running() as server, Store(db_path) as store:
        outcomes = send_digests(store, config, NOW, folder / "outbox", server.settings)
    grouped = by_department(server.received, config)
    assert all(len(messages) == 1 for messages in grouped.values())
    messages = {department_id: found for department_id, (found,) in grouped.items()}
    return SentWeek(db_path, outcomes, messages, server.settings)


def test_every_department_gets_one_message(sent_week, config):
    """Each of the 13 departments' recipients received exactly one message, in the envelope too."""
    assert set(sent_week.messages) == {d.id for d in config.departments}
    for department in config.departments:
        received = sent_week.messages[department.id]
        assert received.rcpt_tos == department.recipients
        addresses = [parseaddr(a)[1] for a in received.message["To"].split(",")]
        assert tuple(addresses) == department.recipients


def test_every_digest_is_recorded_as_sent(sent_week, config):
    """The digests table holds one 'sent' digest per department with its Message-ID and items."""
    assert statuses(sent_week.outcomes) == {"sent": DEPARTMENTS}
    with Store(sent_week.db_path) as store:
        digests_of_week = recorded(store)
        for outcome in sent_week.outcomes:
            digest = digests_of_week[outcome.department_id]
            message = sent_week.messages[outcome.department_id].message
            assert digest.status == "sent"
            assert digest.sent_at == NOW
            assert digest.error == ""
            assert digest.message_id == message_id(message)
            assert digest.subject == message["Subject"]
            assert digest.item_count == outcome.items > 0
            assert len(digest_items(store, digest.id)) == outcome.items


def test_subject_is_swedish_with_department_and_week(sent_week, config):
    """'EU-finansiering för <department>: <n> utlysningar vecka 34'."""
    for department in config.departments:
        outcome = next(o for o in sent_week.outcomes if o.department_id == department.id)
        noun = "utlysning" if outcome.items == 1 else "utlysningar"
        expected = f"EU-finansiering för {department.name}: {outcome.items} {noun} vecka 34"
        assert sent_week.messages[department.id].message["Subject"] == expected


def test_from_is_the_configured_sender(sent_week):
    """From header and envelope sender are EUFUNDS_SMTP_FROM; the date is now."""
    for received in sent_week.messages.values():
        assert received.message["From"] == SENDER
        assert received.mail_from == parseaddr(SENDER)[1]
        assert received.message["Date"].datetime == NOW


def test_message_ids_are_unique_and_name_department_and_week(sent_week):
    """Every digest has its own Message-ID, naming department and week, at the sender's domain."""
    ids = {d: message_id(r.message) for d, r in sent_week.messages.items()}
    assert len(set(ids.values())) == DEPARTMENTS
    for department_id, found in ids.items():
        assert found == f"<eufunds.digest.{department_id}.{WEEK}@jonkoping.example>"


def test_each_message_has_text_html_and_calendar(sent_week):
    """Text and HTML alternatives plus the deadlines as an .ics attachment."""
    for received in sent_week.messages.values():
        types = [part.get_content_type() for part in received.message.walk()]
        assert types == DIGEST_PARTS


def test_html_links_every_call_of_the_digest(sent_week):
    """Every call in a digest is linked by its URL; every link is http(s) or mailto."""
    with Store(sent_week.db_path) as store:
        for digest in digests(store, WEEK):
            hrefs = Tags(html_part(sent_week.messages[digest.department_id].message)).hrefs()
            for call_id, _ in digest_items(store, digest.id):
                assert store.get_call(call_id).url in hrefs
            assert all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs)


def test_text_lists_deadline_strength_and_reasons(sent_week):
    """The Swedish text part has, per call, its deadline, match strength and matched terms."""
    for department_id, received in sent_week.messages.items():
        text = text_part(received.message)
        outcome = next(o for o in sent_week.outcomes if o.department_id == department_id)
        assert text.count("  Matchning: ") == outcome.items
        assert text.count("  Varför: ") == outcome.items
        assert "  Sista ansökningsdag: " in text
        assert re.search(r"Matchning: (stark|god|möjlig)\s", text)
        assert "(vecka 34, 22 augusti 2026)" in text


def test_html_is_swedish_too(sent_week):
    """The HTML part carries the same Swedish labels."""
    for received in sent_week.messages.values():
        html = html_part(received.message)
        assert '<html lang="sv">' in html
        for label in ("Sista ansökningsdag:", "Matchning:", "Varför:"):
            assert label in html


def test_footer_names_the_coordinator(sent_week, config):
    """Both parts end with the coordinator's name and address."""
    org = config.organisation
    for received in sent_week.messages.values():
        text, html = text_part(received.message), html_part(received.message)
        assert f"Kontakta {org.coordinator_name}, {org.coordinator_email}." in text
        assert f'<a href="mailto:{org.coordinator_email}">{org.coordinator_email}</a>' in html


def _event_end(deadline: datetime):
    """Where a deadline's event ends: at its time, or the day after one that names a day
    (date only, or 23:59 UTC as cascade calls give it)."""
    utc = deadline.astimezone(UTC)
    if (utc.hour, utc.minute, utc.second) == (0, 0, 0) or (utc.hour, utc.minute) == (23, 59):
        return utc.date() + timedelta(days=1)
    return deadline


def test_calendar_has_one_event_per_upcoming_deadline(sent_week):
    """One VEVENT per deadline still ahead; DTEND at the deadline (all-day when date-only)."""
    with Store(sent_week.db_path) as store:
        for digest in digests(store, WEEK):
            expected = Counter(
                (call_id, _event_end(deadline))
                for call_id, _ in digest_items(store, digest.id)
                for deadline in store.get_call(call_id).deadlines
                if deadline >= NOW
            )
            message = sent_week.messages[digest.department_id].message
            [attachment] = list(message.iter_attachments())
            calendar = Calendar.from_ical(attachment.get_payload(decode=True))
            found = Counter(
                (
                    str(event["uid"]).removesuffix("@eufunds").split("/", 1)[1],
                    event.decoded("dtend"),
                )
                for event in calendar.walk("VEVENT")
            )
            assert found == expected
            assert sum(found.values()) >= digest.item_count
