"""The SQLite store: WAL, migrations that keep rows, upserts with change tracking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from db import Call, Store, StoreError
from db.schema import migrations
from eufunds.config import load_config

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
    assert store.applied_migrations() == [m.name for m in migrations._migrations]


def test_old_database_is_upgraded_without_losing_rows(db_path):
    """A database made by the first schema version is migrated on open, rows intact."""
    old = Database(db_path)
    migrations.apply(old, stop_before="m002_closed_marking")
    old["calls"].insert({"id": "ft_portal/OLD-1", "source_id": "ft_portal", "title": "Old"})
    old["crawl_runs"].insert({"id": 1, "source_id": "ft_portal", "status": "ok", "pages": 3})
    old.conn.close()
    with Store(db_path) as store:
        assert "m002_closed_marking" in store.applied_migrations()
        assert store.count_calls() == 1
        assert store.crawl_run(1).pages == 3
        assert store.crawl_run(1).closed_marked == 0


def test_upsert_new_then_unchanged(store):
    """Storing the same call twice is new, then unchanged, with no change rows."""
    assert store.upsert_call(_call(), NOW) == "new"
    assert store.upsert_call(_call(), NOW + timedelta(days=1)) == "unchanged"
    assert store.call_changes("ft_portal/TEST-CALL-01") == []
    assert store.get_call("ft_portal/TEST-CALL-01").last_seen == NOW + timedelta(days=1)


def test_changed_deadline_is_tracked(store):
    """A moved deadline updates the call and writes one call_changes row."""
    store.upsert_call(_call(), NOW)
    later = NOW + timedelta(days=45)
    assert store.upsert_call(_call(deadlines=[later], next_deadline=later), NOW) == "changed"
    changes = store.call_changes("ft_portal/TEST-CALL-01")
    assert [c.field for c in changes] == ["deadlines"]
    assert later.isoformat(timespec="seconds") in changes[0].new
    assert store.get_call("ft_portal/TEST-CALL-01").deadlines == [later]


def test_unseen_call_closes_only_after_its_deadline(store):
    """A call gone from the listing is closed once its deadline passed, and never deleted."""
    store.upsert_call(_call(), NOW)
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
    store.upsert_call(_call(), NOW)
    store.mark_unseen_closed("ft_portal", [], NOW + timedelta(days=31), None)
    assert store.upsert_call(_call(), NOW + timedelta(days=32)) == "changed"
    assert store.get_call("ft_portal/TEST-CALL-01").status == "open"


def test_seen_call_is_not_closed(store):
    """A call still listed stays as the source says, even past its deadline."""
    store.upsert_call(_call(), NOW)
    after = NOW + timedelta(days=31)
    assert store.mark_unseen_closed("ft_portal", ["ft_portal/TEST-CALL-01"], after, None) == 0


def test_sync_config_stores_departments_and_keeps_removed_inactive(store):
    """Configured departments are stored; one removed from config stays, inactive."""
    config = load_config()
    store.sync_config(config.sources, config.departments, config.focus_areas, NOW)
    assert store.department_count() == 13
    store.sync_config(config.sources, config.departments[:12], config.focus_areas, NOW)
    assert store.department_count() == 12
    rows = store.conn.execute("SELECT count(*) FROM departments").fetchone()[0]
    assert rows == 13


def test_unopenable_database_is_a_store_error(tmp_path):
    """A path that cannot be a database gives a StoreError naming it."""
    folder = tmp_path / "a-folder.db"
    folder.mkdir()
    with pytest.raises(StoreError, match="a-folder.db"):
        Store(folder)
