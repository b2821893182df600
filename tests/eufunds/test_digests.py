"""Weekly digests end to end: a real replayed crawl, real matches, a real SMTP server.

The database is crawled from the snapshot in ../shared and matched once per module, as of
the day the snapshot was saved; every test that writes works on its own copy. Mail goes to
aiosmtpd on 127.0.0.1 and is parsed back with email.policy.default. `now` is always passed
in: weeks, deadlines and daylight-saving changes are judged against frozen moments.
"""

from __future__ import annotations

import email
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from email.utils import parseaddr
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from db import Store
from db.records import Department, Digest
from eufunds.cli import main
from eufunds.config import Config, load_config
from eufunds.crawling import CrawlOptions, crawl
from eufunds.digests import DigestOutcome, send_digests
from eufunds.matching import run_match
from eufunds.pipeline import LOCK, LOCK_TTL, Busy, PipelineLock, digests_due
from notifier.send import SmtpSettings
from tests.notifier.test_send import (
    SENDER,
    Received,
    RecordingHandler,
    SmtpServer,
    plain_settings,
    running_smtp_server,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)  # the day the snapshot was saved: a Saturday
WEEK = "2026-W34"
NEXT_WEEK = NOW + timedelta(days=7)
DEPARTMENTS = 13


def _copy(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite database, through the backup API."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)
    return target


@pytest.fixture(scope="module")
def config() -> Config:
    """The configuration in config/ (13 departments)."""
    loaded = load_config()
    assert len(loaded.departments) == DEPARTMENTS
    return loaded


@pytest.fixture(scope="module")
def crawled_db(tmp_path_factory, snapshot_dir, config) -> Path:
    """A database crawled from the real snapshot as of NOW, not matched (never written)."""
    db_path = tmp_path_factory.mktemp("crawled") / "crawled.db"
    runs = crawl(config, [], CrawlOptions(db_path, snapshot_dir, NOW))
    assert [run.status for run in runs] == ["ok"]
    return db_path


@pytest.fixture(scope="module")
def matched_db(tmp_path_factory, crawled_db, config) -> Path:
    """The crawled database matched as of NOW (never written)."""
    db_path = _copy(crawled_db, tmp_path_factory.mktemp("matched") / "matched.db")
    with Store(db_path) as store:
        run_match(store, config, NOW)
        assert {m.department_id for m in store.matches()} == {d.id for d in config.departments}
    return db_path


@pytest.fixture
def matched_store(matched_db, tmp_path) -> Iterator[Store]:
    """A copy of the matched database."""
    with Store(_copy(matched_db, tmp_path / "matched.db")) as store:
        yield store


@pytest.fixture
def unmatched_store(crawled_db, config, tmp_path) -> Iterator[Store]:
    """A copy of the crawled database with the departments stored but no matches at all."""
    with Store(_copy(crawled_db, tmp_path / "unmatched.db")) as store:
        store.sync_config(config.sources, config.departments, config.focus_areas, NOW)
        yield store


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 for one test, stopped afterwards."""
    handler = RecordingHandler()
    with running_smtp_server(handler) as port:
        yield SmtpServer(handler, plain_settings(port))


def _by_department(received: list[Received], config: Config) -> dict[str, list[Received]]:
    """Received messages grouped by the department whose recipients they went to."""
    owners = {tuple(d.recipients): d.id for d in config.departments}
    grouped: dict[str, list[Received]] = {}
    for message in received:
        grouped.setdefault(owners[message.rcpt_tos], []).append(message)
    return grouped


def _recorded(store: Store, week: str = WEEK) -> dict[str, Digest]:
    return {d.department_id: d for d in store.digests(week)}


def _statuses(outcomes: list[DigestOutcome]) -> Counter:
    return Counter(o.status for o in outcomes)


def _text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def _message_id(message: EmailMessage) -> str:
    """The Message-ID without the folding space Python's parser keeps when it was folded."""
    return message["Message-ID"].strip()


def _html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


class _Links(HTMLParser):
    """The href of every link in an HTML document."""

    def __init__(self, html: str):
        super().__init__()
        self.hrefs: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href", ""))


# One real week: every department's digest through SMTP ---------------------------------


@dataclass(frozen=True)
class SentWeek:
    """The database after a week's digests went out by SMTP, and what the server got."""

    db_path: Path
    outcomes: list[DigestOutcome]
    messages: dict[str, Received]
    settings: SmtpSettings


@pytest.fixture(scope="module")
def sent_week(tmp_path_factory, matched_db, config) -> SentWeek:
    """send_digests as of NOW to a real SMTP server, on a copy of the matched database."""
    folder = tmp_path_factory.mktemp("sent")
    db_path = _copy(matched_db, folder / "sent.db")
    handler = RecordingHandler()
    with running_smtp_server(handler) as port, Store(db_path) as store:
        settings = plain_settings(port)
        outcomes = send_digests(store, config, NOW, folder / "outbox", settings)
    grouped = _by_department(handler.received, config)
    assert all(len(messages) == 1 for messages in grouped.values())
    messages = {department_id: found for department_id, (found,) in grouped.items()}
    return SentWeek(db_path, outcomes, messages, settings)


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
    assert _statuses(sent_week.outcomes) == {"sent": DEPARTMENTS}
    with Store(sent_week.db_path) as store:
        recorded = _recorded(store)
        for outcome in sent_week.outcomes:
            digest = recorded[outcome.department_id]
            message = sent_week.messages[outcome.department_id].message
            assert digest.status == "sent"
            assert digest.sent_at == NOW
            assert digest.error == ""
            assert digest.message_id == _message_id(message)
            assert digest.subject == message["Subject"]
            assert digest.item_count == outcome.items > 0
            assert len(store.digest_items(digest.id)) == outcome.items


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
    ids = {d: _message_id(r.message) for d, r in sent_week.messages.items()}
    assert len(set(ids.values())) == DEPARTMENTS
    for department_id, message_id in ids.items():
        assert re.fullmatch(
            rf"<[\w.]+\.digest\.{department_id}\.{WEEK}@jonkoping\.example>", message_id
        )


def test_each_message_has_text_html_and_calendar(sent_week):
    """Text and HTML alternatives plus the deadlines as an .ics attachment."""
    for received in sent_week.messages.values():
        types = [part.get_content_type() for part in received.message.walk()]
        assert types == [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "text/calendar",
        ]


def test_html_links_every_call_of_the_digest(sent_week):
    """Every call in a digest is linked by its URL; every link is http(s) or mailto."""
    with Store(sent_week.db_path) as store:
        for digest in store.digests(WEEK):
            hrefs = _Links(_html(sent_week.messages[digest.department_id].message)).hrefs
            for call_id, _ in store.digest_items(digest.id):
                assert store.get_call(call_id).url in hrefs
            assert all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs)


def test_text_lists_deadline_strength_and_reasons(sent_week):
    """The Swedish text part has, per call, its deadline, match strength and matched terms."""
    for department_id, received in sent_week.messages.items():
        text = _text(received.message)
        outcome = next(o for o in sent_week.outcomes if o.department_id == department_id)
        assert text.count("  Matchning: ") == outcome.items
        assert text.count("  Matchade på: ") == outcome.items
        assert "  Sista ansökningsdag: " in text
        assert re.search(r"Matchning: (stark|god|möjlig)\s", text)
        assert "(vecka 34, 22 augusti 2026)" in text


def test_html_is_swedish_too(sent_week):
    """The HTML part carries the same Swedish labels."""
    for received in sent_week.messages.values():
        html = _html(received.message)
        assert '<html lang="sv">' in html
        for label in ("Sista ansökningsdag:", "Matchning:", "Matchade på:"):
            assert label in html


def test_footer_names_the_coordinator(sent_week, config):
    """Both parts end with the coordinator's name and address."""
    org = config.organisation
    for received in sent_week.messages.values():
        text, html = _text(received.message), _html(received.message)
        assert f"Kontakta {org.coordinator_name}, {org.coordinator_email}." in text
        assert f'<a href="mailto:{org.coordinator_email}">{org.coordinator_email}</a>' in html


def _event_end(deadline: datetime):
    """Where a deadline's event ends: at its time, or the day after a date-only deadline."""
    if (deadline.hour, deadline.minute, deadline.second) == (0, 0, 0):
        return deadline.date() + timedelta(days=1)
    return deadline


def test_calendar_has_one_event_per_upcoming_deadline(sent_week):
    """One VEVENT per deadline still ahead; DTEND at the deadline (all-day when date-only)."""
    with Store(sent_week.db_path) as store:
        for digest in store.digests(WEEK):
            expected = Counter(
                (call_id, _event_end(deadline))
                for call_id, _ in store.digest_items(digest.id)
                for deadline in store.get_call(call_id).deadlines
                if deadline >= NOW
            )
            message = sent_week.messages[digest.department_id].message
            [attachment] = list(message.iter_attachments())
            calendar = Calendar.from_ical(attachment.get_payload(decode=True))
            found = Counter(
                (str(event["uid"]).rsplit("/", 1)[0], event.decoded("dtend"))
                for event in calendar.walk("VEVENT")
            )
            assert found == expected
            assert sum(found.values()) >= digest.item_count


# Once only, failures and retries --------------------------------------------------------


def test_second_run_in_the_same_week_sends_nothing(matched_store, config, smtp_server, tmp_path):
    """13 messages the first time; a second run in the same ISO week is all 'already-done'."""
    outbox = tmp_path / "outbox"
    first = send_digests(matched_store, config, NOW, outbox, smtp_server.settings)
    assert _statuses(first) == {"sent": DEPARTMENTS}
    assert len(smtp_server.received) == DEPARTMENTS
    later_that_week = datetime(2026, 8, 23, 21, 59, tzinfo=UTC)  # Sunday 23.59 in Stockholm
    second = send_digests(matched_store, config, later_that_week, outbox, smtp_server.settings)
    assert _statuses(second) == {"already-done": DEPARTMENTS}
    assert {o.iso_week for o in second} == {WEEK}
    assert len(smtp_server.received) == DEPARTMENTS
    assert not outbox.exists()


@dataclass(frozen=True)
class Recovery:
    """Two runs: the server fails after three messages, then it is healthy."""

    first: list[DigestOutcome]
    after_first: dict[str, Digest]
    items_after_first: dict[str, list]
    second: list[DigestOutcome]
    after_second: dict[str, Digest]
    items_after_second: dict[str, list]
    received: list[Received]


@pytest.fixture(scope="module")
def recovery(tmp_path_factory, matched_db, config) -> Recovery:
    """A run whose server answers 451 after three messages, then a run with it healthy."""
    folder = tmp_path_factory.mktemp("recovery")
    handler = RecordingHandler()
    handler.accept_only = 3
    with running_smtp_server(handler) as port, Store(_copy(matched_db, folder / "r.db")) as store:
        settings = plain_settings(port)
        first = send_digests(store, config, NOW, folder, settings)
        after_first = _recorded(store)
        items_after_first = {d: store.digest_items(x.id) for d, x in after_first.items()}
        handler.accept_only = None
        second = send_digests(store, config, NOW + timedelta(hours=1), folder, settings)
        after_second = _recorded(store)
        items_after_second = {d: store.digest_items(x.id) for d, x in after_second.items()}
    return Recovery(
        first,
        after_first,
        items_after_first,
        second,
        after_second,
        items_after_second,
        handler.received,
    )


def test_failure_mid_run_is_recorded_and_the_run_goes_on(recovery):
    """3 sent, then 10 failed with the server's 451 in the digests table; no items for those."""
    assert _statuses(recovery.first) == {"sent": 3, "failed": 10}
    assert [o.status for o in recovery.first[:3]] == ["sent"] * 3
    for outcome in recovery.first[3:]:
        digest = recovery.after_first[outcome.department_id]
        assert digest.status == "failed"
        assert "451" in digest.error
        assert "451" in outcome.error
        assert recovery.items_after_first[outcome.department_id] == []


def test_next_run_sends_only_what_failed(recovery):
    """The healthy run sends the 10 that failed and leaves the 3 already sent."""
    sent_first = {o.department_id for o in recovery.first if o.status == "sent"}
    expected = {
        o.department_id: "already-done" if o.department_id in sent_first else "sent"
        for o in recovery.first
    }
    assert {o.department_id: o.status for o in recovery.second} == expected
    assert {d.status for d in recovery.after_second.values()} == {"sent"}
    assert all(d.error == "" for d in recovery.after_second.values())


def test_each_department_received_exactly_one_digest(recovery, config):
    """Over both runs the server accepted 13 messages, one per department."""
    grouped = _by_department(recovery.received, config)
    assert {d: len(m) for d, m in grouped.items()} == {d.id: 1 for d in config.departments}


def test_items_are_recorded_for_sent_digests(recovery):
    """Every sent digest has its items recorded; the three sent first keep theirs unchanged."""
    for department_id, digest in recovery.after_second.items():
        items = recovery.items_after_second[department_id]
        assert items
        assert len(items) == digest.item_count
    for outcome in recovery.first[:3]:
        department_id = outcome.department_id
        assert (
            recovery.items_after_second[department_id] == recovery.items_after_first[department_id]
        )


def test_partly_refused_digest_is_not_sent_twice(matched_store, config, smtp_server, tmp_path):
    """A recipient who got the digest does not get it again when another recipient refused it."""
    department = next(d for d in config.departments if len(d.recipients) > 1)
    smtp_server.handler.refused_recipients = {department.recipients[-1]}
    only = [department.id]
    send_digests(matched_store, config, NOW, tmp_path, smtp_server.settings, department_ids=only)
    smtp_server.handler.refused_recipients = set()
    send_digests(matched_store, config, NOW, tmp_path, smtp_server.settings, department_ids=only)
    delivered = Counter(a for r in smtp_server.received for a in r.rcpt_tos)
    assert delivered[department.recipients[0]] == 1


# Outbox and dry runs --------------------------------------------------------------------


def test_without_smtp_digests_are_written_to_the_outbox(matched_store, config, tmp_path):
    """No SMTP settings: one .eml per department in the outbox, recorded as 'written'."""
    outbox = tmp_path / "outbox"
    outcomes = send_digests(matched_store, config, NOW, outbox, None)
    assert _statuses(outcomes) == {"written": DEPARTMENTS}
    recorded = _recorded(matched_store)
    for department in config.departments:
        path = outbox / f"{WEEK}-{department.id}.eml"
        outcome = next(o for o in outcomes if o.department_id == department.id)
        assert outcome.path == path
        assert recorded[department.id].status == "written"
        assert recorded[department.id].outbox_path == str(path)
        message = _read_eml(path)
        assert message["Subject"] == recorded[department.id].subject
        assert _message_id(message) == recorded[department.id].message_id
        assert department.name in message["Subject"]
    assert sorted(p.name for p in outbox.iterdir()) == sorted(
        f"{WEEK}-{d.id}.eml" for d in config.departments
    )
    again = send_digests(matched_store, config, NOW, outbox, None)
    assert _statuses(again) == {"already-done": DEPARTMENTS}


def _read_eml(path: Path) -> EmailMessage:
    """An .eml file of the outbox, parsed."""
    return email.message_from_bytes(path.read_bytes(), policy=default)


def test_outbox_sender_is_the_organisation(matched_store, config, tmp_path):
    """Without SMTP the digests are from the organisation's contact address."""
    send_digests(matched_store, config, NOW, tmp_path, None, department_ids=["social"])
    message = _read_eml(tmp_path / f"{WEEK}-social.eml")
    org = config.organisation
    assert parseaddr(message["From"]) == (org.name, org.contact_email)


def test_dry_run_writes_files_records_nothing_then_real_run_sends(
    matched_db, config, smtp_server, tmp_path, monkeypatch
):
    """`eufunds digest --dry-run` writes 13 files and records nothing; the real run then sends."""
    db_path = _copy(matched_db, tmp_path / "cli.db")
    port = str(smtp_server.settings.port)
    for name, value in {
        "EUFUNDS_SMTP_HOST": "127.0.0.1",
        "EUFUNDS_SMTP_PORT": port,
        "EUFUNDS_SMTP_SECURITY": "none",
        "EUFUNDS_SMTP_FROM": SENDER,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("EUFUNDS_CONFIG", raising=False)
    preview = tmp_path / "preview"
    common = ["digest", "--as-of", "2026-08-22", "--db", str(db_path)]
    dry = CliRunner().invoke(main, [*common, "--dry-run", "--outbox", str(preview)])
    assert dry.exit_code == 0, dry.output
    assert len(list(preview.glob(f"{WEEK}-*.eml"))) == DEPARTMENTS
    assert smtp_server.received == []
    with Store(db_path) as store:
        assert store.digests() == []
    real = CliRunner().invoke(main, [*common, "--outbox", str(tmp_path / "outbox")])
    assert real.exit_code == 0, real.output
    assert len(smtp_server.received) == DEPARTMENTS
    assert not (tmp_path / "outbox").exists()
    with Store(db_path) as store:
        assert {d.status for d in store.digests(WEEK)} == {"sent"}


# Empty digests --------------------------------------------------------------------------


def test_empty_digest_is_not_sent(unmatched_store, config, smtp_server, tmp_path):
    """A department with nothing new gets no e-mail; the week is recorded 'empty'."""
    outcomes = send_digests(unmatched_store, config, NOW, tmp_path, smtp_server.settings)
    assert _statuses(outcomes) == {"empty": DEPARTMENTS}
    assert smtp_server.received == []
    assert {d.status for d in unmatched_store.digests(WEEK)} == {"empty"}


def test_send_empty_digest_sends_inget_nytt(unmatched_store, config, smtp_server, tmp_path):
    """A department with send_empty_digest gets 'Inget nytt' and no calendar; others nothing."""
    wanting = replace(config.departments[0], send_empty_digest=True)
    changed = replace(config, departments=(wanting, *config.departments[1:]))
    outcomes = send_digests(unmatched_store, changed, NOW, tmp_path, smtp_server.settings)
    assert {o.department_id: o.status for o in outcomes if o.status != "empty"} == {
        wanting.id: "sent"
    }
    [received] = smtp_server.received
    message = received.message
    assert received.rcpt_tos == wanting.recipients
    assert message["Subject"] == f"EU-finansiering för {wanting.name}: inget nytt vecka 34"
    assert "Inget nytt den här veckan" in _text(message)
    assert "Inget nytt den här veckan" in _html(message)
    assert list(message.iter_attachments()) == []
    assert _recorded(unmatched_store)[wanting.id].item_count == 0


# The following weeks --------------------------------------------------------------------


@pytest.fixture(scope="module")
def delivered_db(tmp_path_factory, matched_db, config) -> Path:
    """The matched database after week 34's digests were written to the outbox (never written)."""
    folder = tmp_path_factory.mktemp("delivered")
    db_path = _copy(matched_db, folder / "delivered.db")
    with Store(db_path) as store:
        outcomes = send_digests(store, config, NOW, folder / "outbox", None)
    assert _statuses(outcomes) == {"written": DEPARTMENTS}
    return db_path


@pytest.fixture
def delivered_store(delivered_db, tmp_path) -> Iterator[Store]:
    """A copy of the database after week 34's digests."""
    with Store(_copy(delivered_db, tmp_path / "delivered.db")) as store:
        yield store


def _sent_items(store: Store, week: str) -> dict[str, dict[str, str]]:
    """Call ids and reasons of each department's digest of a week."""
    return {d.department_id: dict(store.digest_items(d.id)) for d in store.digests(week)}


def _first_new_call(store: Store, department: Department, beyond: datetime) -> str:
    """A call sent to the department in week 34 as new only, with its next deadline beyond."""
    for call_id, reasons in _sent_items(store, WEEK)[department.id].items():
        deadlines = [d for d in store.get_call(call_id).deadlines if d >= NOW]
        if reasons == "new" and deadlines and min(deadlines) > beyond:
            return call_id
    raise AssertionError(f"no call of {department.id} sent as new with a deadline after {beyond}")


def test_next_week_repeats_no_match(delivered_store, config, tmp_path):
    """A week later nothing sent in week 34 comes back as new; only calls now closing soon."""
    run_match(delivered_store, config, NEXT_WEEK)
    send_digests(delivered_store, config, NEXT_WEEK, tmp_path, None)
    before = _sent_items(delivered_store, WEEK)
    after = _sent_items(delivered_store, "2026-W35")
    assert sum(len(items) for items in after.values()) > 0
    for department_id, items in after.items():
        assert all(reasons == "closing-soon" for reasons in items.values())
        assert set(items) <= set(before[department_id])
    assert {d.status for d in delivered_store.digests("2026-W35")} <= {"written", "empty"}


def test_changed_deadline_comes_back_as_changed(delivered_store, config, tmp_path):
    """A sent call whose deadline moved after the digest is in next week's digest as changed."""
    department = next(d for d in config.departments if d.id == "miljo-och-halsa")
    beyond = NEXT_WEEK + timedelta(days=department.lead_time_days)
    call_id = _first_new_call(delivered_store, department, beyond)
    call = delivered_store.get_call(call_id)
    moved = [max(call.deadlines) + timedelta(days=30)]
    changed_call = replace(call, deadlines=moved, next_deadline=moved[0])
    assert delivered_store.upsert_call(changed_call, NOW + timedelta(days=3)) == "changed"
    run_match(delivered_store, config, NEXT_WEEK)
    assert delivered_store.get_match(call_id, department.id) is not None
    [outcome] = send_digests(
        delivered_store, config, NEXT_WEEK, tmp_path, None, department_ids=[department.id]
    )
    assert _sent_items(delivered_store, "2026-W35")[department.id][call_id] == "changed"
    text = _text(_read_eml(outcome.path))
    changed_section = text.split("== Ändrade utlysningar")[1]
    assert call.title in changed_section
    assert "Ändrat: sista ansökningsdag" in changed_section


def test_call_entering_lead_time_is_closing_soon_once(delivered_store, config, tmp_path):
    """A sent call whose deadline comes within the lead time is under 'Stänger snart', once."""
    department = next(d for d in config.departments if d.id == "social")
    lead = timedelta(days=department.lead_time_days)
    call_id = _first_new_call(delivered_store, department, NOW + lead + timedelta(days=8))
    deadline = min(d for d in delivered_store.get_call(call_id).deadlines if d >= NOW)
    within = deadline - lead + timedelta(days=1)
    [outcome] = send_digests(
        delivered_store, config, within, tmp_path, None, department_ids=[department.id]
    )
    week = outcome.iso_week
    assert week != WEEK
    assert _sent_items(delivered_store, week)[department.id][call_id] == "closing-soon"
    text = _text(_read_eml(outcome.path))
    title = delivered_store.get_call(call_id).title
    assert title in text.split("== Stänger snart")[1].split("\n== ")[0]
    a_week_later = within + timedelta(days=7)
    assert a_week_later < deadline
    [later] = send_digests(
        delivered_store, config, a_week_later, tmp_path, None, department_ids=[department.id]
    )
    assert later.iso_week != week
    assert call_id not in _sent_items(delivered_store, later.iso_week)[department.id]


# Week boundaries and daylight saving ----------------------------------------------------


def test_one_digest_per_week_across_the_autumn_change(matched_store, config, tmp_path):
    """Sunday 01.30 (summer time) and 23.30 (winter time) are one week; Monday 00.30 is the next."""
    early_sunday = datetime(2026, 10, 25, 1, 30, tzinfo=STOCKHOLM)
    late_sunday = datetime(2026, 10, 25, 23, 30, tzinfo=STOCKHOLM)
    monday = datetime(2026, 10, 26, 0, 30, tzinfo=STOCKHOLM)
    # 22 hours apart on the wall clock, 23 in fact: the clocks went back an hour in between.
    assert late_sunday.astimezone(UTC) - early_sunday.astimezone(UTC) == timedelta(hours=23)
    first = send_digests(matched_store, config, early_sunday, tmp_path, None)
    assert {o.iso_week for o in first} == {"2026-W43"}
    assert "already-done" not in _statuses(first)
    same_week = send_digests(matched_store, config, late_sunday, tmp_path, None)
    assert _statuses(same_week) == {"already-done": DEPARTMENTS}
    next_week = send_digests(matched_store, config, monday, tmp_path, None)
    assert {o.iso_week for o in next_week} == {"2026-W44"}
    assert "already-done" not in _statuses(next_week)


def test_sunday_night_utc_is_monday_in_stockholm(matched_store, config, tmp_path):
    """Sunday 23.30 UTC is Monday 01.30 in Stockholm: a new week, and Monday's digests are due."""
    sunday_utc = datetime(2026, 8, 30, 23, 30, tzinfo=UTC)
    outcomes = digests_due(config, matched_store.path, sunday_utc, tmp_path, None)
    mondays = {d.id for d in config.departments if d.digest_weekday == "monday"}
    assert {o.department_id for o in outcomes} == mondays
    assert {o.iso_week for o in outcomes} == {"2026-W36"}


def test_digests_due_sends_each_department_on_its_weekday(matched_store, config, tmp_path):
    """Monday 07.00 sends the Monday departments; Tuesday the Tuesday ones, same week, once each."""
    monday = datetime(2026, 8, 24, 7, tzinfo=STOCKHOLM)
    on_monday = digests_due(config, matched_store.path, monday, tmp_path, None)
    on_tuesday = digests_due(config, matched_store.path, monday + timedelta(days=1), tmp_path, None)
    weekday = {d.id: d.digest_weekday for d in config.departments}
    by_day = Counter(weekday.values())
    assert len(on_monday) == by_day["monday"]
    assert "already-done" not in _statuses(on_monday)
    delivered_tuesday = {o.department_id for o in on_tuesday if o.status != "already-done"}
    assert {weekday[d] for d in delivered_tuesday} == {"tuesday"}
    assert len(delivered_tuesday) == by_day["tuesday"]
    assert {o.department_id for o in on_tuesday if o.status == "already-done"} == {
        o.department_id for o in on_monday
    }
    assert {o.iso_week for o in on_monday + on_tuesday} == {"2026-W35"}


def test_missed_digest_day_is_caught_up_in_the_same_week(matched_store, config, tmp_path):
    """A machine off on Monday sends the Monday departments' digests on Wednesday, once."""
    wednesday = datetime(2026, 8, 26, 7, tzinfo=STOCKHOLM)
    outcomes = digests_due(config, matched_store.path, wednesday, tmp_path, None)
    due = {"monday", "tuesday", "wednesday"}
    expected = {d.id for d in config.departments if d.digest_weekday in due}
    assert {o.department_id for o in outcomes} == expected
    assert "already-done" not in _statuses(outcomes)


# The pipeline lock -----------------------------------------------------------------------


def test_store_lock_refuses_a_second_holder_until_it_expires(store):
    """A held lock refuses others; only its holder releases it; once expired anyone takes it."""
    taken = NOW
    assert store.acquire_lock(LOCK, "host-a:1", taken, LOCK_TTL)
    assert not store.acquire_lock(LOCK, "host-b:2", taken + timedelta(hours=1), LOCK_TTL)
    assert not store.acquire_lock(LOCK, "host-b:2", taken + LOCK_TTL, LOCK_TTL)
    store.release_lock(LOCK, "host-b:2")
    assert store.lock_holder(LOCK) == "host-a:1"
    stale = taken + LOCK_TTL + timedelta(seconds=1)
    assert store.acquire_lock(LOCK, "host-b:2", stale, LOCK_TTL)
    assert store.lock_holder(LOCK) == "host-b:2"
    store.release_lock(LOCK, "host-b:2")
    assert store.lock_holder(LOCK) is None


def test_pipeline_lock_refuses_a_concurrent_run(db_path):
    """While one run holds the lock a second is Busy, told who holds it; after it, free."""
    with PipelineLock(db_path) as held:
        busy = re.escape(f"another run is in progress ({held.holder})")
        with pytest.raises(Busy, match=busy), PipelineLock(db_path):
            pass
        with Store(db_path) as store:
            assert store.lock_holder(LOCK) == held.holder
    with Store(db_path) as store:
        assert store.lock_holder(LOCK) is None


def test_pipeline_lock_is_released_when_the_run_fails(db_path):
    """An error inside the run still releases the lock."""
    with pytest.raises(RuntimeError, match="crawl broke"), PipelineLock(db_path):
        raise RuntimeError("crawl broke")
    with Store(db_path) as store:
        assert store.lock_holder(LOCK) is None


def test_stale_pipeline_lock_is_taken_over(db_path):
    """A lock left by a run that died more than the lock's lifetime ago is taken."""
    with Store(db_path) as store:
        died = datetime.now(UTC) - LOCK_TTL - timedelta(minutes=5)
        assert store.acquire_lock(LOCK, "crashed-host:99", died, LOCK_TTL)
    with PipelineLock(db_path) as held, Store(db_path) as store:
        assert store.lock_holder(LOCK) == held.holder


def test_run_once_while_locked_is_one_clear_line(db_path, snapshot_dir, tmp_path):
    """`eufunds run-once` while another run holds the lock exits 1 with one line, no crawl."""
    with Store(db_path) as store:
        assert store.acquire_lock(LOCK, "other-host:4242", datetime.now(UTC), LOCK_TTL)
    result = CliRunner().invoke(
        main,
        [
            "run-once",
            "--replay",
            str(snapshot_dir),
            "--as-of",
            "2026-08-22",
            "--outbox",
            str(tmp_path / "outbox"),
            "--db",
            str(db_path),
        ],
        env={"EUFUNDS_SMTP_HOST": "", "EUFUNDS_CONFIG": None},
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: another run is in progress (other-host:4242)"
    ]
    with Store(db_path) as store:
        assert store.count_calls() == 0
        assert store.lock_holder(LOCK) == "other-host:4242"


# eufunds run-once -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_twice(tmp_path_factory, snapshot_dir):
    """`eufunds run-once --replay --as-of 2026-08-22` twice on a fresh database, to an outbox."""
    folder = tmp_path_factory.mktemp("run-once")
    arguments = [
        "run-once",
        "--replay",
        str(snapshot_dir),
        "--as-of",
        "2026-08-22",
        "--outbox",
        str(folder / "outbox"),
        "--db",
        str(folder / "run.db"),
    ]
    env = {"EUFUNDS_SMTP_HOST": "", "EUFUNDS_CONFIG": None}
    first = CliRunner().invoke(main, arguments, env=env)
    second = CliRunner().invoke(main, arguments, env=env)
    return first, second, folder


def test_run_once_crawls_the_snapshot(run_twice):
    """The first run crawls every call of the snapshot."""
    first, _, _ = run_twice
    assert first.exit_code == 0, first.output
    assert "calls stored: 723" in first.output


def test_run_once_prints_matches_per_department(run_twice, config):
    """A table of matches as of the date, one row per department with its count."""
    first, _, folder = run_twice
    assert "Matches as of 2026-08-22" in first.output
    with Store(folder / "run.db") as store:
        for department in config.departments:
            count = len(store.matches(department.id))
            assert count > 0
            assert re.search(rf"{re.escape(department.name)}\s*│\s*{count}\s*│", first.output)


def test_run_once_delivers_and_shows_a_file(run_twice, config):
    """The digests table, every department delivered, and the path of one file to open."""
    first, _, folder = run_twice
    assert "Digests" in first.output
    assert f"digests delivered: {DEPARTMENTS} of {DEPARTMENTS}" in first.output
    for department in config.departments:
        assert re.search(rf"{re.escape(department.id)}\s*│\s*{WEEK}\s*│\s*written", first.output)
    [opened] = re.findall(r"^open one: (.+)$", first.output, re.MULTILINE)
    assert Path(opened).is_file()
    assert Path(opened).parent == folder / "outbox"


def test_run_once_again_delivers_nothing(run_twice, config):
    """Run again the same day: every digest is already done, nothing delivered, no file."""
    _, second, folder = run_twice
    assert second.exit_code == 0, second.output
    assert f"digests delivered: 0 of {DEPARTMENTS}" in second.output
    assert "open one:" not in second.output
    assert second.output.count("already-done") == DEPARTMENTS
    assert len(list((folder / "outbox").iterdir())) == DEPARTMENTS


# Failures around delivery ------------------------------------------------------------------


def test_failure_while_building_is_recorded_and_retried(matched_store, config, tmp_path):
    """A department whose digest cannot be built is recorded failed; the others are delivered,
    and the next run delivers it."""
    broken = config.departments[0]
    # Fault injection: a department whose recipients cannot form a To: header.
    unusable = replace(broken, recipients=("a@example.org\nBcc: x@example.org",))
    faulty = replace(config, departments=(unusable, *config.departments[1:]))
    first = send_digests(matched_store, faulty, NOW, tmp_path / "first", None)
    assert _statuses(first) == {"failed": 1, "written": DEPARTMENTS - 1}
    assert _recorded(matched_store)[broken.id].status == "failed"
    second = send_digests(matched_store, config, NOW, tmp_path / "second", None)
    assert {o.department_id: o.status for o in second if o.status != "already-done"} == {
        broken.id: "written"
    }


def test_delivered_digest_whose_record_fails_is_never_resent(
    matched_store, config, smtp_server, monkeypatch
):
    """If recording a sent digest fails, it stays claimed: the next run does not resend it."""
    department = config.departments[0]
    real_finish = matched_store.finish_digest

    def locked(digest_id, status, *args, **kwargs):
        if status == "sent":  # fault injection: the database is busy right after sending
            raise sqlite3.OperationalError("database is locked")
        return real_finish(digest_id, status, *args, **kwargs)

    monkeypatch.setattr(matched_store, "finish_digest", locked)
    only = [department.id]
    [first] = send_digests(
        matched_store, config, NOW, Path("unused"), smtp_server.settings, department_ids=only
    )
    assert first.status == "unrecorded" and "never resent" in first.error
    monkeypatch.setattr(matched_store, "finish_digest", real_finish)
    [second] = send_digests(
        matched_store, config, NOW, Path("unused"), smtp_server.settings, department_ids=only
    )
    assert second.status == "already-done"
    assert len(smtp_server.received) == 1
    assert _recorded(matched_store)[department.id].status == "claimed"
