"""The job_locks table: a named lock with a holder and an expiry, so runs never overlap."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from db.records import JobLock
from db.rows import from_row, to_text
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

    def take_over_lock(
        self, name: str, previous: str, holder: str, now: datetime, ttl: timedelta
    ) -> bool:
        """Take a lock from a holder known to be gone; False if it changed hands meanwhile."""
        with self.conn:
            cursor = self.conn.execute(
                "UPDATE job_locks SET holder = ?, acquired_at = ?, expires_at = ? "
                "WHERE name = ? AND holder = ?",
                [holder, to_text(now), to_text(now + ttl), name, previous],
            )
        return cursor.rowcount == 1

    def release_lock(self, name: str, holder: str) -> bool:
        """Give a lock back (only its holder can); False when this holder did not hold it."""
        with self.conn:
            cursor = self.conn.execute(
                "DELETE FROM job_locks WHERE name = ? AND holder = ?", [name, holder]
            )
        return cursor.rowcount == 1

    def lock(self, name: str) -> JobLock | None:
        """A lock as held now, if anyone holds it."""
        row = self.conn.execute("SELECT * FROM job_locks WHERE name = ?", [name]).fetchone()
        return from_row(JobLock, row) if row else None

    def lock_holder(self, name: str) -> str | None:
        """Who holds a lock, if anyone."""
        held = self.lock(name)
        return held.holder if held else None
