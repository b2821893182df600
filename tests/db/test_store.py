"""The SQLite store: WAL, migrations that keep rows, upserts with change tracking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from db import Call, CrawlCounts, Store, StoreError
from db.records import RunStatus
from db.schema import MIGRATION_NAMES, migrations
from tests.support.databases import active_departments, applied_migrations, upsert_one

NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)


def _call(**changes) -> Call:
    # Hand-written call: store mechanics do not depend on any real call's content.
    fields = {
        "id": "ft_portal/TEST-CALL-01",
        "source_id": "ft_portal",
        "identifier": "TEST-CALL-01",
        "title": "Test call",
        "status": "open",
        "deadlines": [NOW + timedelta(days=30)],
        "next_deadline": NOW + timedelta(days=30),
    }
    return Call(**(fields | changes))


def test_database_uses_wal_and_busy_timeout(store):
    """The file is in WAL mode with a busy timeout, so a reader never blocks the crawler."""
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_every_migration_is_recorded(store):
    """Opening a new file applies every migration and records it."""
    assert applied_migrations(store) == MIGRATION_NAMES


def test_old_database_is_upgraded_without_losing_rows(db_path):
    """A database made by the first schema version is migrated on open, rows intact."""
    old = Database(db_path)
    migrations.apply(old, stop_before="m002_closed_marking")
    old["calls"].insert({"id": "ft_portal/OLD-1", "source_id": "ft_portal", "title": "Old"})
    old["crawl_runs"].insert({"id": 1, "source_id": "ft_portal", "status": "ok", "pages": 3})
    old.conn.close()
    with Store(db_path) as store:
        assert "m002_closed_marking" in applied_migrations(store)
        assert store.count_calls() == 1
        assert store.crawl_run(1).pages == 3
        assert store.crawl_run(1).closed_marked == 0


def test_upsert_new_then_unchanged(store):
    """Storing the same call twice is new, then unchanged, with no change rows."""
    assert upsert_one(store, _call(), NOW) == "new"
    assert upsert_one(store, _call(), NOW + timedelta(days=1)) == "unchanged"
    assert store.call_changes("ft_portal/TEST-CALL-01") == []
    assert store.get_call("ft_portal/TEST-CALL-01").last_seen == NOW + timedelta(days=1)


def test_changed_deadline_is_tracked(store):
    """A moved deadline updates the call and writes one call_changes row."""
    upsert_one(store, _call(), NOW)
    later = NOW + timedelta(days=45)
    assert upsert_one(store, _call(deadlines=[later], next_deadline=later), NOW) == "changed"
    changes = store.call_changes("ft_portal/TEST-CALL-01")
    assert [c.field for c in changes] == ["deadlines"]
    assert later.isoformat(timespec="seconds") in changes[0].new
    assert store.get_call("ft_portal/TEST-CALL-01").deadlines == [later]


def test_unseen_call_closes_only_after_its_deadline(store):
    """A call gone from the listing is closed once its deadline passed, and never deleted."""
    upsert_one(store, _call(), NOW)
    assert store.mark_unseen_closed("ft_portal", [], NOW, None) == 0
    after = NOW + timedelta(days=31)
    assert store.mark_unseen_closed("ft_portal", [], after, None) == 1
    call = store.get_call("ft_portal/TEST-CALL-01")
    assert call.status == "closed"
    assert [(c.field, c.old, c.new) for c in store.call_changes(call.id)] == [
        ("status", "open", "closed")
    ]


def test_closed_call_that_reappears_is_reopened(store):
    """A call closed by us that the source lists again is a change back to open."""
    upsert_one(store, _call(), NOW)
    store.mark_unseen_closed("ft_portal", [], NOW + timedelta(days=31), None)
    assert upsert_one(store, _call(), NOW + timedelta(days=32)) == "changed"
    assert store.get_call("ft_portal/TEST-CALL-01").status == "open"


def test_seen_call_is_not_closed(store):
    """A call still listed stays as the source says, even past its deadline."""
    upsert_one(store, _call(), NOW)
    after = NOW + timedelta(days=31)
    assert store.mark_unseen_closed("ft_portal", ["ft_portal/TEST-CALL-01"], after, None) == 0


def test_sync_config_stores_departments_and_keeps_removed_inactive(store, config):
    """Configured departments are stored; one removed from config stays, inactive."""
    store.sync_config(config.sources, config.departments, config.focus_areas, NOW)
    assert active_departments(store) == 13
    store.sync_config(config.sources, config.departments[:12], config.focus_areas, NOW)
    assert active_departments(store) == 12
    rows = store.conn.execute("SELECT count(*) FROM departments").fetchone()[0]
    assert rows == 13


def test_unopenable_database_is_a_store_error(tmp_path):
    """A path that cannot be a database gives a StoreError naming it."""
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    with pytest.raises(StoreError, match="a-folder.db"):
        Store(folder)


def test_database_made_before_run_notes_is_upgraded(db_path):
    """A crawl run recorded before runs had notes and expected pages reads back with both."""
    old = Database(db_path)
    migrations.apply(old, stop_before="m006_one_record_per_table")
    old["crawl_runs"].insert(
        {"id": 1, "source_id": "ft_portal", "status": "ok", "pages": 8, "errors": "[]"}
    )
    old.conn.close()
    with Store(db_path) as store:
        run = store.crawl_run(1)
    assert (run.pages, run.pages_expected, run.notes, run.errors) == (8, 1, [], [])


def test_finished_run_keeps_notes_apart_from_errors(store):
    """Dropped input is recorded as notes; the errors are only the errors."""
    run_id = store.start_crawl_run("ft_portal", NOW)
    assert store.crawl_run(run_id).status == RunStatus.RUNNING
    counts = CrawlCounts(pages_expected=8, pages=7, items_seen=700, error_count=1)
    store.finish_crawl_run(
        run_id, RunStatus.PARTIAL, counts, ["search page 8: HTTP 500"], ["skipped: x"], NOW
    )
    run = store.crawl_run(run_id)
    assert (run.status, run.pages_expected, run.pages, run.items_seen) == ("partial", 8, 7, 700)
    assert (run.errors, run.notes) == (["search page 8: HTTP 500"], ["skipped: x"])
    assert run.finished == NOW


def test_changes_since_reads_many_calls_in_one_query(store):
    """The changes of any number of calls come from one SELECT, oldest first, by call."""
    for number in range(5):
        upsert_one(store, _call(id=f"ft_portal/TEST-{number}", title="Before"), NOW)
        upsert_one(store, _call(id=f"ft_portal/TEST-{number}", title="After"), NOW)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    ids = [f"ft_portal/TEST-{number}" for number in range(5)]
    changes = store.changes_since(ids, NOW - timedelta(days=1))
    calls = store.calls_by_id(ids)
    store.conn.set_trace_callback(None)
    assert [s.split()[0] for s in statements] == ["SELECT", "SELECT"]
    assert sorted(changes) == ids == sorted(calls)
    assert {(c.field, c.old, c.new) for found in changes.values() for c in found} == {
        ("title", "Before", "After")
    }
    assert store.changes_since(ids, NOW) == {}


def test_sqlite_errors_leave_the_store_as_store_errors(store):
    """A failing statement is a StoreError naming the method, never sqlite3's own error."""
    store.conn.execute("DROP TABLE job_locks")
    with pytest.raises(StoreError, match=r"\.db: lock: no such table: job_locks"):
        store.lock("pipeline")


def test_a_mail_is_claimed_once_and_a_broken_claim_is_an_error(store, config):
    """A digest (or report mail) is claimed once; a failed one can be claimed again; a claim
    the database refuses for another reason (an unknown department) is an error, not a
    silent "already sent"."""
    store.sync_config(config.sources, config.departments, config.focus_areas, NOW)
    department = config.departments[0].id
    first = store.claim_digest(department, "2026-W34", ["a@example.org"], NOW)
    assert first is not None
    assert store.claim_digest(department, "2026-W34", ["a@example.org"], NOW) is None
    store.finish_digest(first, "failed", error="SMTP 451")
    assert store.claim_digest(department, "2026-W34", ["b@example.org"], NOW) == first
    assert store.digest_by_id(first).recipients == ["b@example.org"]
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        store.claim_digest("no-such-department", "2026-W34", ["a@example.org"], NOW)
    assert store.claim_report_mail("2026-08", ["m@example.org"], NOW) is not None
    assert store.claim_report_mail("2026-08", ["m@example.org"], NOW) is None
