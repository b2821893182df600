"""The SQLite store: one file (WAL), migrated when opened, with one part per table group.

Every public method turns SQLite's errors into StoreError, so no caller needs to know SQLite.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from db.calls import CallTables
from db.configuration import ConfigurationTables
from db.digests import DigestTables
from db.locks import LockTable
from db.matches import MatchTables
from db.runs import RunTables
from db.schema import migrations
from db.tables import StoreError

BUSY_TIMEOUT_MS = 10_000
StoreClass = TypeVar("StoreClass", bound=type)


def _raising_store_errors(cls: StoreClass) -> StoreClass:
    """Wrap every public method so that a SQLite error leaves it as a StoreError."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise StoreError(f"database {self.path}: {method.__name__}: {exc}") from exc

        return wrapper

    for name in dir(cls):
        attribute = getattr(cls, name)
        if not name.startswith("_") and callable(attribute):
            setattr(cls, name, wrap(attribute))
    return cls


@_raising_store_errors
class Store(ConfigurationTables, CallTables, RunTables, MatchTables, DigestTables, LockTable):
    """One SQLite database file (WAL), migrated to the current schema when opened."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrations.apply(Database(conn))
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
