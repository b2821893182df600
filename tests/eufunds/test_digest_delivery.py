"""Delivering digests: once per week, failures recorded and retried, outbox, dry runs,
empty weeks. Each test writes on its own copy of the session's matched snapshot."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import pytest
from click.testing import CliRunner

from db import Store, StoreError
from db.records import Digest
from eufunds.cli import main
from eufunds.digests import DigestOutcome, send_digests
from notifier.send import read_outbox
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
from tests.support.mail import html_part, text_part
from tests.support.smtp import SENDER, Received, plain_settings, silent_server, smtp_server_running

# Once only, failures and retries --------------------------------------------------------


def test_second_run_in_the_same_week_sends_nothing(matched_store, config, smtp_server, tmp_path):
    """13 messages the first time; a second run in the same ISO week is all 'already-done'."""
    outbox = tmp_path / "outbox"
    first = send_digests(matched_store, config, NOW, outbox, smtp_server.settings)
    assert statuses(first) == {"sent": DEPARTMENTS}
    assert len(smtp_server.received) == DEPARTMENTS
    later_that_week = datetime(2026, 8, 23, 21, 59, tzinfo=UTC)  # Sunday 23.59 in Stockholm
    second = send_digests(matched_store, config, later_that_week, outbox, smtp_server.settings)
    assert statuses(second) == {"already-done": DEPARTMENTS}
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
def recovery(tmp_path_factory, matched_snapshot, config) -> Recovery:
    """A run whose server answers 451 after three messages, then a run with it healthy."""
    folder = tmp_path_factory.mktemp("recovery")
    db_path = copy_database(matched_snapshot, folder / "r.db")
    with smtp_server_running() as server, Store(db_path) as store:
        server.handler.accept_only = 3
        first = send_digests(store, config, NOW, folder, server.settings)
        after_first = recorded(store)
        items_after_first = {d: digest_items(store, x.id) for d, x in after_first.items()}
        server.handler.accept_only = None
        second = send_digests(store, config, NOW + timedelta(hours=1), folder, server.settings)
        after_second = recorded(store)
        items_after_second = {d: digest_items(store, x.id) for d, x in after_second.items()}
    return Recovery(
        first,
        after_first,
        items_after_first,
        second,
        after_second,
        items_after_second,
        server.received,
    )


def test_failure_mid_run_is_recorded_and_the_run_goes_on(recovery):
    """3 sent, then 10 failed with the server's 451 in the digests table; no items for those."""
    assert statuses(recovery.first) == {"sent": 3, "failed": 10}
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
    grouped = by_department(recovery.received, config)
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
    assert statuses(outcomes) == {"written": DEPARTMENTS}
    digests_of_week = recorded(matched_store)
    for department in config.departments:
        path = outbox / f"{WEEK}-{department.id}.eml"
        outcome = next(o for o in outcomes if o.department_id == department.id)
        assert outcome.path == path
        assert digests_of_week[department.id].status == "written"
        assert digests_of_week[department.id].outbox_path == str(path)
        message = read_outbox(path)
        assert message["Subject"] == digests_of_week[department.id].subject
        assert message_id(message) == digests_of_week[department.id].message_id
        assert department.name in message["Subject"]
    assert sorted(p.name for p in outbox.iterdir()) == sorted(
        f"{WEEK}-{d.id}.eml" for d in config.departments
    )
    again = send_digests(matched_store, config, NOW, outbox, None)
    assert statuses(again) == {"already-done": DEPARTMENTS}


def test_outbox_sender_is_the_organisation(matched_store, config, tmp_path):
    """Without SMTP the digests are from the organisation's contact address."""
    send_digests(matched_store, config, NOW, tmp_path, None, department_ids=["social"])
    message = read_outbox(tmp_path / f"{WEEK}-social.eml")
    org = config.organisation
    assert parseaddr(message["From"]) == (org.name, org.contact_email)


def test_dry_run_writes_files_records_nothing_then_real_run_sends(
    matched_snapshot, config, smtp_server, tmp_path, monkeypatch
):
    """`eufunds digest --dry-run` writes 13 files and records nothing; the real run then sends."""
    db_path = copy_database(matched_snapshot, tmp_path / "cli.db")
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
    assert len(list(preview.glob(f"preview-{WEEK}-*.eml"))) == DEPARTMENTS
    assert smtp_server.received == []
    with Store(db_path) as store:
        assert digests(store) == []
    real = CliRunner().invoke(main, [*common, "--outbox", str(tmp_path / "outbox")])
    assert real.exit_code == 0, real.output
    assert len(smtp_server.received) == DEPARTMENTS
    assert not (tmp_path / "outbox").exists()
    with Store(db_path) as store:
        assert {d.status for d in digests(store, WEEK)} == {"sent"}


def test_after_delivery_dry_run_says_done_and_preview_shows_the_week(
    matched_store, config, tmp_path
):
    """Once week 34 is written, a dry run says each department already had it (not 'empty')
    and leaves the delivered files alone; a preview writes week 34's digest again, whole,
    as 'preview-...' files, recording nothing."""
    outbox = tmp_path / "outbox"
    written = send_digests(matched_store, config, NOW, outbox, None)
    before = {o.department_id: o.path.read_bytes() for o in written}
    dry = send_digests(matched_store, config, NOW, outbox, None, dry_run=True)
    assert statuses(dry) == {"already-done": DEPARTMENTS}
    preview = send_digests(
        matched_store, config, NOW, outbox, None, department_ids=["social"], preview=True
    )
    [shown] = preview
    assert shown.status == "dry-run" and shown.path.name == f"preview-{WEEK}-social.eml"
    assert shown.items == next(o.items for o in written if o.department_id == "social")
    assert {o.department_id: o.path.read_bytes() for o in written} == before
    assert len(digests(matched_store, WEEK)) == DEPARTMENTS


def test_digest_for_an_unknown_department_names_the_known_ones(matched_snapshot, tmp_path):
    """A typo in --department is one line listing the departments there are."""
    db_path = copy_database(matched_snapshot, tmp_path / "cli.db")
    result = CliRunner().invoke(
        main, ["digest", "--preview", "--department", "socail", "--db", str(db_path)]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: unknown department: socail (known: stadskontoret,")


# Empty digests --------------------------------------------------------------------------


def test_empty_digest_is_not_sent(unmatched_store, config, smtp_server, tmp_path):
    """A department with nothing new gets no e-mail; the week is recorded 'empty'."""
    outcomes = send_digests(unmatched_store, config, NOW, tmp_path, smtp_server.settings)
    assert statuses(outcomes) == {"empty": DEPARTMENTS}
    assert smtp_server.received == []
    assert {d.status for d in digests(unmatched_store, WEEK)} == {"empty"}


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
    assert "Inget nytt den här veckan" in text_part(message)
    assert "Inget nytt den här veckan" in html_part(message)
    assert list(message.iter_attachments()) == []
    assert recorded(unmatched_store)[wanting.id].item_count == 0


# Failures around delivery ------------------------------------------------------------------


def test_failure_while_building_is_recorded_and_retried(matched_store, config, tmp_path):
    """A department whose digest cannot be built is recorded failed; the others are delivered,
    and the next run delivers it."""
    broken = config.departments[0]
    # Fault injection: a department whose recipients cannot form a To: header.
    unusable = replace(broken, recipients=("a@example.org\nBcc: x@example.org",))
    faulty = replace(config, departments=(unusable, *config.departments[1:]))
    first = send_digests(matched_store, faulty, NOW, tmp_path / "first", None)
    assert statuses(first) == {"failed": 1, "written": DEPARTMENTS - 1}
    assert recorded(matched_store)[broken.id].status == "failed"
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
            raise StoreError("database eufunds.db: finish_digest: database is locked")
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
    assert second.status == "stuck"
    assert f"eufunds digest --retry {department.id}" in second.error
    assert len(smtp_server.received) == 1
    assert recorded(matched_store)[department.id].status == "claimed"


def test_server_that_never_answers_costs_one_timeout(matched_store, config, tmp_path):
    """A server that accepts connections and never answers fails the run after one timeout:
    the first digest waits for it, the others fail at once naming it; all are retried later."""
    with silent_server() as port:
        settings = replace(plain_settings(port), timeout=1)
        started = time.monotonic()
        outcomes = send_digests(matched_store, config, NOW, tmp_path, settings)
        elapsed = time.monotonic() - started
    assert elapsed < 4
    assert statuses(outcomes) == {"failed": DEPARTMENTS}
    assert "timed out" in outcomes[0].error
    assert all("not tried, the server failed earlier in this run" in o.error for o in outcomes[1:])
    assert {d.status for d in recorded(matched_store).values()} == {"failed"}


# Runs that stopped while delivering -----------------------------------------------------


def _claim_and_stop(store: Store, department_id: str, config) -> int:
    """The state a run leaves when it is killed after claiming a digest, before recording it."""
    department = next(d for d in config.departments if d.id == department_id)
    digest_id = store.claim_digest(department.id, WEEK, department.recipients, NOW)
    assert digest_id is not None
    return digest_id


def test_outbox_digest_never_written_is_written_by_the_next_run(matched_store, config, tmp_path):
    """Killed before its file was written, a department's digest is written by the next run."""
    _claim_and_stop(matched_store, "social", config)
    outbox = tmp_path / "outbox"
    [outcome] = send_digests(matched_store, config, NOW, outbox, None, department_ids=["social"])
    assert (outcome.status, outcome.path) == ("written", outbox / f"{WEEK}-social.eml")
    assert recorded(matched_store)["social"].status == "written"
    assert digest_items(matched_store, recorded(matched_store)["social"].id)


def test_outbox_digest_written_but_not_recorded_is_recorded_not_rewritten(
    matched_store, config, tmp_path
):
    """Killed after writing its file, a digest is recorded as written by the next run, with the
    items the file shows (even when the matches changed meanwhile) and the file's Message-ID;
    the file is left as it was."""
    outbox = tmp_path / "outbox"
    [first] = send_digests(matched_store, config, NOW, outbox, None, department_ids=["social"])
    written = first.path.read_bytes()
    shown = digest_items(matched_store, recorded(matched_store)["social"].id)
    with matched_store.conn:  # as if the process had died before recording the file
        matched_store.conn.execute("UPDATE digests SET status = 'claimed'")
        matched_store.conn.execute("DELETE FROM digest_items")
        # ... and the matches changed before the next run: the file still says what it showed.
        matched_store.conn.execute("DELETE FROM matches WHERE department_id = 'social'")
    later = NOW + timedelta(hours=2)
    [outcome] = send_digests(matched_store, config, later, outbox, None, department_ids=["social"])
    assert (outcome.status, outcome.items) == ("written", first.items)
    assert first.path.read_bytes() == written
    digest = recorded(matched_store)["social"]
    assert digest.message_id == f"<eufunds.digest.social.{WEEK}@example.org>"
    assert digest_items(matched_store, digest.id) == shown


def test_smtp_digest_left_claimed_is_shown_stuck_until_retried(
    matched_snapshot, config, smtp_server, tmp_path, monkeypatch
):
    """By SMTP a digest left claimed may have gone out: `eufunds digest` lists it as stuck with
    what to do (exit 1) and sends nothing; `--retry` sends it with its stable Message-ID."""
    db_path = copy_database(matched_snapshot, tmp_path / "stuck.db")
    with Store(db_path) as store:
        _claim_and_stop(store, "social", config)
    for name, value in {
        "EUFUNDS_SMTP_HOST": "127.0.0.1",
        "EUFUNDS_SMTP_PORT": str(smtp_server.settings.port),
        "EUFUNDS_SMTP_SECURITY": "none",
        "EUFUNDS_SMTP_FROM": SENDER,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("EUFUNDS_CONFIG", raising=False)
    command = ["digest", "--as-of", "2026-08-22", "--department", "social", "--db", str(db_path)]
    listed = CliRunner().invoke(main, command)
    assert listed.exit_code == 1
    assert "stuck" in listed.output
    assert "eufunds digest --retry social" in listed.output
    assert smtp_server.received == []
    retried = CliRunner().invoke(main, [*command, "--retry", "social"])
    assert retried.exit_code == 0, retried.output
    [received] = smtp_server.received
    assert message_id(received.message) == f"<eufunds.digest.social.{WEEK}@jonkoping.example>"
    with Store(db_path) as store:
        assert recorded(store)["social"].status == "sent"
    again = CliRunner().invoke(main, [*command, "--retry", "social"])
    assert again.exit_code == 1
    assert "no stuck digest of social in 2026-W34" in again.output
