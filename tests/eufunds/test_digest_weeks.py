"""The weeks after: what comes back (changed, closing soon), ISO weeks in Swedish time across
daylight-saving changes, and each department's digest weekday."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from db import Store
from db.records import Department
from eufunds.digests import send_digests
from eufunds.matching import run_match
from eufunds.pipeline import digests_due
from notifier.render import swedish_date
from notifier.send import read_outbox
from tests.support.databases import copy_database, digests, stored_match, upsert_one
from tests.support.digest_runs import (
    DEPARTMENTS,
    NEXT_WEEK,
    NOW,
    WEEK,
    sent_items,
    statuses,
)
from tests.support.mail import text_part

STOCKHOLM = ZoneInfo("Europe/Stockholm")


# The following weeks --------------------------------------------------------------------


@pytest.fixture(scope="module")
def delivered_db(tmp_path_factory, matched_snapshot, config) -> Path:
    """The matched database after week 34's digests were written to the outbox (never written)."""
    folder = tmp_path_factory.mktemp("delivered")
    db_path = copy_database(matched_snapshot, folder / "delivered.db")
    with Store(db_path) as store:
        outcomes = send_digests(store, config, NOW, folder / "outbox", None)
    assert statuses(outcomes) == {"written": DEPARTMENTS}
    return db_path


@pytest.fixture
def delivered_store(delivered_db, tmp_path) -> Iterator[Store]:
    """A copy of the database after week 34's digests."""
    with Store(copy_database(delivered_db, tmp_path / "delivered.db")) as store:
        yield store


def _first_new_call(store: Store, department: Department, beyond: datetime) -> str:
    """A call sent to the department in week 34 as new only, with its next deadline beyond."""
    for call_id, reasons in sent_items(store, WEEK)[department.id].items():
        deadlines = [d for d in store.get_call(call_id).deadlines if d >= NOW]
        if reasons == "new" and deadlines and min(deadlines) > beyond:
            return call_id
    raise AssertionError(f"no call of {department.id} sent as new with a deadline after {beyond}")


def test_next_week_repeats_no_match(delivered_store, config, tmp_path):
    """A week later nothing sent in week 34 comes back as new: a call sent then comes back
    only as closing soon; new ones are calls a section's cap held back in week 34."""
    run_match(delivered_store, config, NEXT_WEEK)
    send_digests(delivered_store, config, NEXT_WEEK, tmp_path, None)
    before = sent_items(delivered_store, WEEK)
    after = sent_items(delivered_store, "2026-W35")
    assert sum(len(items) for items in after.values()) > 0
    for department_id, items in after.items():
        sent_before = set(before.get(department_id, {}))
        for call_id, reasons in items.items():
            if call_id in sent_before:
                assert reasons == "closing-soon"
            else:
                assert reasons.startswith("new")
    assert {d.status for d in digests(delivered_store, "2026-W35")} <= {"written", "empty"}


def test_changed_deadline_comes_back_as_changed(delivered_store, config, tmp_path):
    """A sent call whose deadline moved after the digest is in next week's digest as changed."""
    department = next(d for d in config.departments if d.id == "miljo-och-halsa")
    beyond = NEXT_WEEK + timedelta(days=department.lead_time_days)
    call_id = _first_new_call(delivered_store, department, beyond)
    call = delivered_store.get_call(call_id)
    moved = [max(call.deadlines) + timedelta(days=30)]
    changed_call = replace(call, deadlines=moved, next_deadline=moved[0])
    assert upsert_one(delivered_store, changed_call, NOW + timedelta(days=3)) == "changed"
    run_match(delivered_store, config, NEXT_WEEK)
    assert stored_match(delivered_store, call_id, department.id) is not None
    [outcome] = send_digests(
        delivered_store, config, NEXT_WEEK, tmp_path, None, department_ids=[department.id]
    )
    assert sent_items(delivered_store, "2026-W35")[department.id][call_id] == "changed"
    message = read_outbox(outcome.path)
    changed_section = text_part(message).split("== Ändrade utlysningar")[1]
    assert call.title in changed_section
    before, after = swedish_date(max(call.deadlines)), swedish_date(moved[0])
    assert f"Ändrat: sista ansökningsdag flyttad från {before} till {after}" in changed_section
    # The calendar updates the event week 34 sent: same UID, higher SEQUENCE, the new end.
    week34 = read_outbox(Path(delivered_store.digest_of(department.id, WEEK).outbox_path))
    [old_event] = _events_of(week34, call_id)
    [new_event] = _events_of(message, call_id)
    assert str(new_event["uid"]) == str(old_event["uid"])
    assert int(new_event["sequence"]) > int(old_event["sequence"])
    assert old_event.decoded("dtstart") != new_event.decoded("dtstart")


def _events_of(message, call_id: str) -> list:
    """The calendar events of one call in a digest message."""
    [attachment] = list(message.iter_attachments())
    calendar = Calendar.from_ical(attachment.get_payload(decode=True))
    assert calendar["method"] == "PUBLISH"
    return [e for e in calendar.walk("VEVENT") if str(e["uid"]).endswith(f"/{call_id}@eufunds")]


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
    assert sent_items(delivered_store, week)[department.id][call_id] == "closing-soon"
    text = text_part(read_outbox(outcome.path))
    title = delivered_store.get_call(call_id).title
    assert title in text.split("== Stänger snart")[1].split("\n== ")[0]
    a_week_later = within + timedelta(days=7)
    assert a_week_later < deadline
    [later] = send_digests(
        delivered_store, config, a_week_later, tmp_path, None, department_ids=[department.id]
    )
    assert later.iso_week != week
    assert call_id not in sent_items(delivered_store, later.iso_week)[department.id]


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
    assert "already-done" not in statuses(first)
    same_week = send_digests(matched_store, config, late_sunday, tmp_path, None)
    assert statuses(same_week) == {"already-done": DEPARTMENTS}
    next_week = send_digests(matched_store, config, monday, tmp_path, None)
    assert {o.iso_week for o in next_week} == {"2026-W44"}
    assert "already-done" not in statuses(next_week)


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
    assert "already-done" not in statuses(on_monday)
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
    assert "already-done" not in statuses(outcomes)
