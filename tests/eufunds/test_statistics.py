"""Management's statistics on a copy of week 34's real database with feedback and
applications added through the store: every figure against counts made here with SQL of
its own, over all the time and over periods that split the activity."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime

import pytest

from db import Store
from db.records import APPLICATION_STATE_NAMES, LOCAL_TZ, DigestStatus, Feedback, Verdict
from eufunds.periods import ALL_TIME, PeriodError, parse_period, previous_month
from eufunds.statistics import statistics
from tests.conftest import SNAPSHOT_NOW
from tests.support.databases import copy_database
from tests.support.staff_activity import add_activity

Q3 = parse_period("2026-Q3")


@pytest.fixture
def active(written_week, tmp_path):
    """Week 34's digests with staff feedback and applications, and what was added."""
    with Store(copy_database(written_week.db_path, tmp_path / "active.db")) as store:
        yield store, add_activity(store)


@pytest.fixture
def active_store(active):
    """The store of ``active``."""
    return active[0]


def _rows(stats, key: str) -> dict:
    """A table's rows by their first cell."""
    return {row[0]: row for row in stats.table(key).rows}


def _names(config) -> dict[str, str]:
    return {d.id: d.name for d in config.departments}


def _sql(store: Store, sql: str, params=()) -> list[tuple]:
    return [tuple(row) for row in store.conn.execute(sql, params)]


def test_periods_are_quarters_months_and_years_in_swedish_time():
    """Bounds at local midnight, end exclusive; Swedish labels; anything else one error."""
    assert (Q3.start.isoformat(), Q3.end.isoformat(), Q3.label) == (
        "2026-07-01T00:00:00+02:00",
        "2026-10-01T00:00:00+02:00",
        "kvartal 3 2026",
    )
    august = parse_period("2026-08")
    assert (august.key, august.label, august.span()) == (
        "2026-08",
        "augusti 2026",
        "2026-08-01 – 2026-08-31",
    )
    year = parse_period("2026")
    assert year.end == datetime(2027, 1, 1, tzinfo=LOCAL_TZ)
    assert parse_period("2026-Q4").end == datetime(2027, 1, 1, tzinfo=LOCAL_TZ)
    assert previous_month(datetime(2027, 1, 1, 0, 30, tzinfo=LOCAL_TZ)).key == "2026-12"
    assert Q3.holds(SNAPSHOT_NOW) and not august.holds(Q3.end)
    for bad in ("2026-Q5", "2026-13", "26-Q3", "1999", "Q3-2026", "", "2026-8"):
        with pytest.raises(PeriodError):
            parse_period(bad)


def test_calls_per_programme_and_month(active_store, config):
    """Every call first seen in week 34 is counted under August for its programme; July has
    none; the chart has one bar per month of the quarter."""
    expected = dict(_sql(active_store, "SELECT programme, count(*) FROM calls GROUP BY 1"))
    for period in (ALL_TIME, Q3):
        table = statistics(active_store, config, period, SNAPSHOT_NOW).table("utlysningar")
        assert {row[0]: row[2] for row in table.rows} == expected
        assert {row[1] for row in table.rows} == {"2026-08"}
    quarter = statistics(active_store, config, Q3, SNAPSHOT_NOW).table("utlysningar")
    total = sum(expected.values())
    assert [(m, v) for m, v, _ in quarter.chart.bars] == [
        ("2026-07", 0),
        ("2026-08", total),
        ("2026-09", 0),
    ]
    july = statistics(active_store, config, parse_period("2026-07"), SNAPSHOT_NOW)
    assert july.table("utlysningar").rows == ()


def test_matches_and_digest_items_per_department(active_store, config):
    """Matches (and current ones) and delivered digests with their items, per department,
    as counted with SQL; none of them in July."""
    matches = {
        d: (n, current)
        for d, n, current in _sql(
            active_store,
            "SELECT department_id, count(*), count(*) - count(expired_at) FROM matches GROUP BY 1",
        )
    }
    items = dict(
        _sql(
            active_store,
            "SELECT d.department_id, (SELECT count(*) FROM digest_items i "
            "WHERE i.digest_id = d.id) FROM digests d WHERE d.status IN ('sent', 'written')",
        )
    )
    rows = _rows(statistics(active_store, config, Q3, SNAPSHOT_NOW), "matchningar")
    for department_id, name in _names(config).items():
        assert rows[name][1:] == (*matches[department_id], 1, items[department_id])
    july = _rows(
        statistics(active_store, config, parse_period("2026-07"), SNAPSHOT_NOW), "matchningar"
    )
    assert {row[1:] for row in july.values()} == {(0, 0, 0, 0)}


def test_feedback_per_department_and_running_precision(active_store, config):
    """Verdicts per department as stored; the share relevant counts "vi vill söka" too, and
    August leaves out the energy company's September verdicts."""
    stored = Counter(
        {
            (d, v): n
            for d, v, n in _sql(
                active_store, "SELECT department_id, verdict, count(*) FROM feedback GROUP BY 1, 2"
            )
        }
    )
    stats = statistics(active_store, config, ALL_TIME, SNAPSHOT_NOW)
    rows = _rows(stats, "aterkoppling")
    names = _names(config)
    for department_id, name in names.items():
        given = [stored[(department_id, v)] for v in ("relevant", "not-relevant", "apply")]
        assert rows[name][1:5] == (*given, sum(given))
    assert rows[names["social"]][5] == 80.0
    assert rows[names["energibolag"]][5] == 0.0
    assert rows[names["stadskontoret"]][5] is None
    chart = stats.table("aterkoppling").chart
    assert chart.scale == 100
    assert [(label, text) for label, _, text in chart.bars] == [
        (names["social"], "80,0 % (4 av 5)"),
        (names["energibolag"], "0,0 % (0 av 2)"),
    ]
    august = _rows(
        statistics(active_store, config, parse_period("2026-08"), SNAPSHOT_NOW), "aterkoppling"
    )
    assert august[names["energibolag"]][4] == 0 and august[names["social"]][4] == 5
    assert "Återkoppling: 7 omdömen, 57,1 % relevanta" in stats.summary


def test_a_call_judged_again_in_a_later_digest_counts_once(active_store, config):
    """A call can come again in a later digest (its deadline nears) and its reader judge it
    again: one verdict per reader and call counts, the latest of the period."""
    [first] = active_store.department_digests("social")
    call_id, reasons = active_store.digest_call_ids(first.id)[0]
    reader = active_store.feedback_of(first.id, call_id, "person0@example.org")
    assert reader is not None and reader.verdict == "relevant"
    later = datetime(2026, 9, 2, 9, tzinfo=LOCAL_TZ)
    again = active_store.claim_digest("social", "2026-W36", ["person0@example.org"], later)
    active_store.finish_digest(again, DigestStatus.SENT, [(call_id, reasons)], sent_at=later)
    active_store.record_feedback(
        Feedback(again, "social", call_id, "person0@example.org", Verdict.NOT_RELEVANT, later)
    )
    names = _names(config)
    every = _rows(statistics(active_store, config, ALL_TIME, SNAPSHOT_NOW), "aterkoppling")
    assert every[names["social"]][1:6] == (2, 2, 1, 5, 60.0)
    august = _rows(
        statistics(active_store, config, parse_period("2026-08"), SNAPSHOT_NOW), "aterkoppling"
    )
    assert august[names["social"]][1:6] == (3, 1, 1, 5, 80.0)


def _states_at(store: Store, end: datetime | None) -> Counter:
    """(department, state) of each application at ``end``, replayed from its events here."""
    states = {}
    opened = dict(_sql(store, "SELECT id, opened_at FROM applications"))
    departments = dict(_sql(store, "SELECT id, department_id FROM applications"))
    events = _sql(
        store, "SELECT application_id, at, changes FROM application_events ORDER BY at, id"
    )
    # Each application's lead as it was opened: before its first change of lead, if any.
    for application_id, _, changes in reversed(events):
        if "department_id" in json.loads(changes):
            departments[application_id] = json.loads(changes)["department_id"][0]
    for application_id, at, changes in events:
        moment = datetime.fromisoformat(at)
        if end is not None and moment >= end:
            continue
        changed = json.loads(changes)
        if "state" in changed:
            states[application_id] = changed["state"][1]
        if "department_id" in changed:
            departments[application_id] = changed["department_id"][1]
    return Counter(
        (departments[a], state)
        for a, state in states.items()
        if end is None or datetime.fromisoformat(opened[a]) < end
    )


def test_applications_per_department_in_their_state_at_the_periods_end(active_store, config):
    """At the end of Q3 three are handed in and one withdrawn; now one is granted, one
    rejected; in July none existed."""
    names = _names(config)
    for period, expected_granted in ((Q3, 0), (ALL_TIME, 1)):
        stats = statistics(active_store, config, period, SNAPSHOT_NOW)
        rows = _rows(stats, "ansokningar")
        replayed = _states_at(active_store, period.end)
        for department_id, name in names.items():
            counts = [replayed[(department_id, state)] for state in APPLICATION_STATE_NAMES]
            assert rows[name][1:] == (*counts, sum(counts))
        assert sum(rows[name][4] for name in rows) == expected_granted
    q3 = _rows(statistics(active_store, config, Q3, SNAPSHOT_NOW), "ansokningar")
    assert q3[names["social"]][1:] == (0, 0, 1, 0, 0, 1, 2)
    july = _rows(
        statistics(active_store, config, parse_period("2026-07"), SNAPSHOT_NOW), "ansokningar"
    )
    assert {row[-1] for row in july.values()} == {0}


def test_an_application_counts_for_its_lead_at_the_periods_end(active, config):
    """An application whose lead moved to another department after Q3 counts for the first
    department at the end of Q3 and for the new one now."""
    store, activity = active
    october = datetime(2026, 10, 20, 9, tzinfo=LOCAL_TZ)
    store.change_application(
        activity.applications["social"], {"department_id": "stadskontoret"}, "anna", october
    )
    names = _names(config)
    for period in (Q3, ALL_TIME):
        rows = _rows(statistics(store, config, period, SNAPSHOT_NOW), "ansokningar")
        replayed = _states_at(store, period.end)
        for department_id, name in names.items():
            counts = [replayed[(department_id, state)] for state in APPLICATION_STATE_NAMES]
            assert rows[name][1:] == (*counts, sum(counts))
    q3 = _rows(statistics(store, config, Q3, SNAPSHOT_NOW), "ansokningar")
    now = _rows(statistics(store, config, ALL_TIME, SNAPSHOT_NOW), "ansokningar")
    assert (q3[names["social"]][-1], q3[names["stadskontoret"]][-1]) == (2, 0)
    assert (now[names["social"]][-1], now[names["stadskontoret"]][-1]) == (1, 1)
    # Its amounts go with it: the kronor applied for in Q3 are the first department's.
    amounts = statistics(store, config, Q3, SNAPSHOT_NOW).table("belopp").rows
    assert {row[0] for row in amounts if row[3] == 1_000_000} == {names["social"]}
    later = statistics(store, config, ALL_TIME, SNAPSHOT_NOW).table("belopp").rows
    assert {row[0] for row in later if row[3] == 1_000_000} == {names["stadskontoret"]}


def test_amounts_in_kronor_per_department_programme_and_year(active, config):
    """Euro turned into kronor at the application's rate; an amount without a rate is
    counted apart and named; granted amounts count in the year (and quarter) of the
    decision."""
    active_store, activity = active
    names = _names(config)

    def programme(key: str) -> str:
        [(name,)] = _sql(
            active_store,
            "SELECT c.programme FROM applications a JOIN calls c ON c.id = a.call_id "
            "WHERE a.id = ?",
            [activity.applications[key]],
        )
        return name

    stats = statistics(active_store, config, ALL_TIME, SNAPSHOT_NOW)
    table = stats.table("belopp")
    assert set(table.rows) == {
        (names["social"], programme("social"), 2026, 1_000_000, 800_000, 0),
        (names["miljo-och-halsa"], programme("miljo-och-halsa"), 2026, 2_300_000, 0, 0),
        (names["kultur-och-fritid"], programme("kultur-och-fritid"), 2026, 0, 0, 1),
    }
    assert "1 belopp kunde inte räknas om till kronor" in table.note
    assert [(label, value) for label, value, _ in table.chart.bars] == [(names["social"], 800_000)]
    q3 = statistics(active_store, config, Q3, SNAPSHOT_NOW).table("belopp")
    assert sum(row[4] for row in q3.rows) == 0 and sum(row[3] for row in q3.rows) == 3_300_000
    q4 = statistics(active_store, config, parse_period("2026-Q4"), SNAPSHOT_NOW).table("belopp")
    assert [row[3:] for row in q4.rows] == [(0, 800_000, 0)]
    assert "Alla belopp kunde räknas om" in q4.note


def test_focus_areas_with_and_without_open_calls(active_store, config):
    """Per focus area, distinct calls of current matches that are open (or forthcoming) on
    the snapshot's day, as counted here from the matches and calls."""
    now = SNAPSHOT_NOW.isoformat()
    found: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for areas, call_id, status, deadline in _sql(
        active_store,
        "SELECT m.focus_areas, c.id, c.status, c.next_deadline FROM matches m "
        "JOIN calls c ON c.id = m.call_id WHERE m.expired_at IS NULL",
    ):
        for area in json.loads(areas):
            if deadline is None or deadline >= now:
                found[area][status].add(call_id)
    rows = _rows(statistics(active_store, config, ALL_TIME, SNAPSHOT_NOW), "fokusomraden")
    assert list(rows) == [area.name for area in config.focus_areas]
    for area in config.focus_areas:
        opened, coming = len(found[area.name]["open"]), len(found[area.name]["forthcoming"])
        assert rows[area.name][2:4] == (opened, coming)
        assert rows[area.name][5] == ("Ja" if opened else "Nej")
    assert {row[5] for row in rows.values()} == {"Ja", "Nej"}


def test_source_coverage(active_store, config):
    """Calls and open calls per source, crawls in the period and the last one's status."""
    now = SNAPSHOT_NOW.isoformat()
    calls = {
        s: (n, o)
        for s, n, o in _sql(
            active_store,
            "SELECT source_id, count(*), sum(status = 'open' AND (next_deadline IS NULL "
            "OR next_deadline >= ?)) FROM calls GROUP BY 1",
            [now],
        )
    }
    crawls = dict(
        _sql(
            active_store,
            "SELECT source_id, count(*) FROM crawl_runs WHERE status != 'skipped' GROUP BY 1",
        )
    )
    rows = _rows(statistics(active_store, config, ALL_TIME, SNAPSHOT_NOW), "kallor")
    for source in config.sources:
        row = rows[source.name]
        assert row[1] == ("Ja" if source.enabled else "Nej")
        assert row[2:4] == calls.get(source.id, (0, 0))
        assert row[5] == crawls.get(source.id, 0)
    portal = rows["EU Funding & Tenders Portal"]
    assert portal[2] > portal[3] > 0 and portal[8] == "lyckad"
