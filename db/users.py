"""The web app's tables: users with a role and a password hash, and login attempts."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from db.records import WebUser
from db.rows import from_row, from_rows, to_text
from db.tables import Tables


class UserExists(Exception):
    """A user of that name is there already."""


class UserTables(Tables):
    """Users of the web app and the login attempts that rate-limit logins."""

    def add_user(self, user: WebUser) -> None:
        """Store a new user; UserExists when the name is taken."""
        try:
            with self.conn:
                self.conn.execute(
                    "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    [user.name, user.role, user.password_hash, to_text(user.created_at)],
                )
        except sqlite3.IntegrityError:
            raise UserExists(f"there is already a user named {user.name!r}") from None

    def user(self, name: str) -> WebUser | None:
        """The user of this name, if there is one."""
        row = self.conn.execute("SELECT * FROM users WHERE name = ?", [name]).fetchone()
        return from_row(WebUser, row) if row else None

    def users(self) -> list[WebUser]:
        """Every user, by name."""
        rows = self.conn.execute("SELECT * FROM users ORDER BY name")
        return from_rows(WebUser, rows)

    def record_login(self, name: str, address: str, at: datetime, succeeded: bool) -> int:
        """Note a login attempt (for the rate limit); its id."""
        with self.conn:
            cursor = self.conn.execute(
                "INSERT INTO login_attempts (name, address, at, succeeded) VALUES (?, ?, ?, ?)",
                [name, address, to_text(at), int(succeeded)],
            )
        return int(cursor.lastrowid)

    def login_succeeded(self, attempt_id: int) -> None:
        """Mark a login attempt, noted as failed before the password was checked, as one
        that succeeded."""
        with self.conn:
            self.conn.execute(
                "UPDATE login_attempts SET succeeded = 1 WHERE rowid = ?", [attempt_id]
            )

    def failed_logins(self, name: str, address: str, since: datetime) -> tuple[int, int]:
        """Failed login attempts since a moment: for this name, and from this address."""
        row = self.conn.execute(
            "SELECT coalesce(sum(name = ?), 0), coalesce(sum(address = ?), 0) "
            "FROM login_attempts WHERE succeeded = 0 AND at >= ?",
            [name, address, to_text(since)],
        ).fetchone()
        return int(row[0]), int(row[1])
