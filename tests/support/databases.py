"""Database helpers for tests: consistent copies, and reads the product itself never needs."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from db import Call, Match, Store, UpsertOutcome
from db.records import Digest
from db.rows import from_row


def copy_database(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite database (WAL included), through the backup API."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)
    return target


def content_digest(path: Path) -> str:
    """A hash of everything a database holds (its SQL dump), to show it was not changed."""
    with closing(sqlite3.connect(path)) as connection:
        dump = "\n".join(connection.iterdump())
    return hashlib.sha256(dump.encode()).hexdigest()


def upsert_one(store: Store, call: Call, now: datetime) -> UpsertOutcome:
    """Store one crawled call, as a crawl that found it would; whether it was new or changed."""
    [outcome] = store.upsert_calls([call], now)
    return outcome


def applied_migrations(store: Store) -> list[str]:
    """Names of the schema migrations applied to a database, oldest first."""
    rows = store.conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")
    return [row[0] for row in rows]


def active_departments(store: Store) -> int:
    """How many departments are active."""
    return store.conn.execute("SELECT count(*) FROM departments WHERE active = 1").fetchone()[0]


def digests(store: Store, iso_week: str | None = None) -> list[Digest]:
    """Recorded digests (of one ISO week, or all), newest first."""
    where, params = ("WHERE iso_week = ?", [iso_week]) if iso_week else ("", [])
    rows = store.conn.execute(f"SELECT * FROM digests {where} ORDER BY id DESC", params)
    return [from_row(Digest, row) for row in rows]


def digest_items(store: Store, digest_id: int) -> list[tuple[str, str]]:
    """The (call id, reasons as stored) of one digest."""
    rows = store.conn.execute(
        "SELECT call_id, reason FROM digest_items WHERE digest_id = ? ORDER BY call_id",
        [digest_id],
    )
    return [(row[0], row[1]) for row in rows]


def stored_match(store: Store, call_id: str, department_id: str) -> Match | None:
    """The stored match of one call for one department."""
    row = store.conn.execute(
        "SELECT * FROM matches WHERE call_id = ? AND department_id = ?",
        [call_id, department_id],
    ).fetchone()
    return from_row(Match, row) if row else None


def stored_state(store: Store) -> dict[str, tuple]:
    """What a crawl may change about each stored call, by id."""
    return {
        call.id: (call.content_hash, call.title, call.deadlines, call.status, call.last_changed)
        for call in store.list_calls()
    }
