"""Migration m020 on a database of the version before: every call kept (its raw answer
compressed, read back the same), full-text search unchanged and no longer rewritten by
updates it does not hold, the space given back."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlite_utils import Database

from db import Store
from db.calls import decompress_raw
from db.schema import MIGRATION_NAMES, PAGE_SIZE, migrations
from tests.support.databases import applied_migrations

SEARCHES = ("climate adaptation", "cultural heritage", "hydrogen", "schools")


def fts_pages(db_path: Path) -> int:
    """Pages the full-text index's data takes."""
    with closing(sqlite3.connect(db_path)) as connection:
        return connection.execute("SELECT count(*) FROM calls_fts_data").fetchone()[0]


@pytest.fixture(scope="module")
def old_database(crawled_snapshot: Path, tmp_path_factory) -> Path:
    """The snapshot's calls in a database of the schema before m020 (raw JSON as text, the
    full-text index rewritten by every update), after three re-crawls' worth of updates."""
    db_path = tmp_path_factory.mktemp("old") / "old.db"
    migrations.apply(Database(db_path), stop_before="m020_compact_calls")
    with (
        closing(sqlite3.connect(crawled_snapshot)) as new,
        closing(sqlite3.connect(db_path)) as old,
    ):
        new.create_function("plain", 1, decompress_raw)
        old_columns = [row[1] for row in old.execute("PRAGMA table_info(calls)")]
        names = ", ".join(old_columns)
        chosen = ", ".join("plain(raw)" if name == "raw" else name for name in old_columns)
        rows = new.execute(f"SELECT {chosen} FROM calls ORDER BY rowid").fetchall()
        with old:
            old.executemany(
                f"INSERT INTO calls ({names}) VALUES ({', '.join('?' * len(old_columns))})", rows
            )
            for day in ("2026-08-23", "2026-08-24", "2026-08-25"):
                old.execute("UPDATE calls SET last_seen = ?", [f"{day}T12:00:00+00:00"])
    return db_path


@pytest.fixture(scope="module")
def before(old_database: Path) -> dict:
    """What the old database holds and finds, read before it is migrated."""
    with closing(sqlite3.connect(old_database)) as connection:
        connection.row_factory = sqlite3.Row
        calls = {row["id"]: dict(row) for row in connection.execute("SELECT * FROM calls")}
        found = {
            words: [
                row[0]
                for row in connection.execute(
                    "SELECT calls.id FROM calls JOIN calls_fts ON calls_fts.rowid = calls.rowid "
                    "WHERE calls_fts MATCH ? ORDER BY calls_fts.rank, calls.id",
                    [" ".join(f'"{w}"*' for w in words.split())],
                )
            ]
            for words in SEARCHES
        }
    return {
        "calls": calls,
        "found": found,
        "size": old_database.stat().st_size,
        "fts_pages": fts_pages(old_database),
    }


@pytest.fixture(scope="module")
def migrated(old_database: Path, before: dict) -> Path:
    """The old database opened by this version (which migrates it)."""
    with Store(old_database) as store:
        assert applied_migrations(store) == MIGRATION_NAMES
    return old_database


def test_every_call_is_kept_with_its_raw_answer(migrated: Path, before: dict):
    with Store(migrated) as store:
        assert set(store.call_ids()) == set(before["calls"])
        for call_id, old in before["calls"].items():
            call = store.get_call(call_id)
            assert call.raw == old["raw"]
            assert (call.title, call.summary, call.content_hash) == (
                old["title"],
                old["summary"],
                old["content_hash"],
            )
            assert call.item_hash == ""


def test_raw_answers_are_stored_compressed(migrated: Path, before: dict):
    with closing(sqlite3.connect(migrated)) as connection:
        kinds = {row[0] for row in connection.execute("SELECT DISTINCT typeof(raw) FROM calls")}
        stored = connection.execute("SELECT sum(length(raw)) FROM calls").fetchone()[0]
    assert kinds == {"blob"}
    assert stored < 0.6 * sum(len(c["raw"].encode()) for c in before["calls"].values())


def test_search_finds_the_same_calls(migrated: Path, before: dict):
    with closing(sqlite3.connect(migrated)) as connection:
        for words, ids in before["found"].items():
            query = " ".join(f'"{w}"*' for w in words.split())
            found = connection.execute(
                "SELECT calls.id FROM calls JOIN calls_fts ON calls_fts.rowid = calls.rowid "
                "WHERE calls_fts MATCH ? ORDER BY calls_fts.rank, calls.id",
                [query],
            ).fetchall()
            assert [row[0] for row in found] == ids


def test_the_space_is_given_back(migrated: Path, before: dict):
    assert fts_pages(migrated) < before["fts_pages"] / 2
    assert migrated.stat().st_size < 0.8 * before["size"]
    with closing(sqlite3.connect(migrated)) as connection:
        assert connection.execute("PRAGMA freelist_count").fetchone()[0] == 0


def test_updates_outside_the_index_leave_it_alone(migrated: Path, tmp_path: Path):
    with closing(sqlite3.connect(migrated)) as connection, connection:
        connection.execute("UPDATE calls SET last_seen = '2026-09-01T12:00:00+00:00'")
    pages = fts_pages(migrated)
    with closing(sqlite3.connect(migrated)) as connection, connection:
        connection.execute("UPDATE calls SET last_seen = '2026-09-02T12:00:00+00:00'")
        call_id, title = connection.execute("SELECT id, title FROM calls LIMIT 1").fetchone()
        connection.execute(
            "UPDATE calls SET title = ? WHERE id = ?", [f"{title} zyxwvutsrq", call_id]
        )
    assert fts_pages(migrated) <= pages + 2
    with Store(migrated) as store:
        found, total = store.search_calls("zyxwvutsrq")
    assert [c.id for c in found] == [call_id]


def test_pages_are_larger(migrated: Path, db_path: Path):
    with closing(sqlite3.connect(migrated)) as connection:
        assert connection.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with Store(db_path):
        pass
    with closing(sqlite3.connect(db_path)) as connection:
        assert connection.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
