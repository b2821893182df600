"""The SQLite store: one file (WAL), migrated when opened, with one part per table group.

Every public method turns SQLite's errors into StoreError, so no caller needs to know SQLite.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from db.applications import ApplicationTables
from db.call_queries import CallQueries
from db.calls import CallTables
from db.configuration import ConfigurationTables
from db.digests import DigestTables
from db.feedback import FeedbackTables
from db.locks import LockTable
from db.matches import MatchTables
from db.profiles import ProfileTables
from db.report_mails import ReportMailTables
from db.runs import RunTables
from db.schema import (
    MIGRATION_NAMES,
    MIGRATION_SET,
    MIGRATIONS_TABLE,
    PAGE_SIZE,
    migration_set,
)
from db.statistics import StatisticsTables
from db.tables import StoreError
from db.users import UserTables

BUSY_TIMEOUT_MS = 10_000
OPEN_ATTEMPTS = 60
# What SQLite says when another process is setting up or migrating the same new database.
RACES = ("locked", "already exists", "duplicate column")
StoreClass = TypeVar("StoreClass", bound=type)


def _raising_store_errors(cls: StoreClass) -> StoreClass:
    """Wrap every public method so that a SQLite error leaves it as a StoreError."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except (sqlite3.Error, OverflowError) as exc:
                # OverflowError: a number larger than SQLite stores, refused like bad SQL.
                raise StoreError(f"database {self.path}: {method.__name__}: {exc}") from exc

        return wrapper

    for name in dir(cls):
        attribute = getattr(cls, name)
        if not name.startswith("_") and callable(attribute):
            setattr(cls, name, wrap(attribute))
    return cls


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Set the connection up (WAL, busy timeout, foreign keys) and bring the schema up to
    date; refuse a database written by a newer version.

    Processes opening a new database at the same moment each switch it to WAL and migrate
    it: one may find the other's change in its way (SQLite answers "locked" at once rather
    than wait, to avoid a deadlock), or find a migration it was about to apply already done
    by the other. It tries again (both steps are idempotent, and a migration and its record
    are one transaction), so a second run meets the job lock, never a half-made database.
    """
    for attempt in range(OPEN_ATTEMPTS):
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Takes effect in a new, empty database only (m020 sets it in older ones).
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            _migrate(conn, path)
            return
        except sqlite3.OperationalError as exc:
            if not any(race in str(exc) for race in RACES) or attempt == OPEN_ATTEMPTS - 1:
                raise
            conn.rollback()
            time.sleep(0.05)


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply the migrations this database lacks; a StoreError if it has unknown ones."""
    applied = _applied_migrations(conn)
    newer = [name for name in applied if name not in MIGRATION_NAMES]
    if newer:
        raise StoreError(
            f"database {path} was written by a newer version of eufunds (schema {newer[-1]}; "
            f"this version knows up to {MIGRATION_NAMES[-1]}): upgrade eufunds"
        )
    if set(MIGRATION_NAMES) - set(applied):
        from sqlite_utils import Database

        migration_set().apply(Database(conn))


def _applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """The names of the migrations this database has applied, in order (as sqlite-utils'
    Migrations.applied reads them, without importing it)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
    ).fetchone()
    if found is None:
        return []
    rows = conn.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
        [MIGRATION_SET],
    )
    return [row[0] for row in rows]


@_raising_store_errors
class Store(
    ConfigurationTables,
    CallTables,
    CallQueries,
    RunTables,
    MatchTables,
    DigestTables,
    LockTable,
    UserTables,
    ProfileTables,
    FeedbackTables,
    ApplicationTables,
    StatisticsTables,
    ReportMailTables,
):
    """One SQLite database file (WAL), migrated to the current schema when opened."""

    def __init__(self, path: str | Path, create: bool = True):
        """Open the database at ``path``; create it there unless ``create`` is False."""
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"no database at {self.path} (eufunds crawl or run-once makes one)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.row_factory = sqlite3.Row
            _prepare(conn, self.path)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        self.conn = conn

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
