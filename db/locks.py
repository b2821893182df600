"""The job_locks table: a named lock with a holder and an expiry, so runs never overlap."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from db.rows import to_text
from db.tables import Tables


class Busy(Exception):
    """Another run holds the job lock."""


class LockTable(Tables):
    """Named locks; an expired lock is taken over."""

    def acquire_lock(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take a named lock unless someone else holds it and it has not expired."""
        with self.conn:
            self.conn.execute(
                "DELETE FROM job_locks WHERE name = ? AND expires_at < ?", [name, to_text(now)]
            )
            try:
                self.conn.execute(
                    "INSERT INTO job_locks (name, holder, acquired_at, expires_at) "
                    "VALUES (?, ?, ?, ?)",
                    [name, holder, to_text(now), to_text(now + ttl)],
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def release_lock(self, name: str, holder: str) -> None:
        """Give a lock back (only its holder can)."""
        with self.conn:
            self.conn.execute("DELETE FROM job_locks WHERE name = ? AND holder = ?", [name, holder])

    def lock_holder(self, name: str) -> str | None:
        """Who holds a lock, if anyone."""
        row = self.conn.execute("SELECT holder FROM job_locks WHERE name = ?", [name]).fetchone()
        return row[0] if row else None
