"""The configuration tables: sources, departments and focus areas as last configured."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from db.records import Department, FocusArea, Source
from db.rows import to_row, to_text
from db.tables import Tables


class ConfigurationTables(Tables):
    """Sources, departments and focus areas; entries no longer configured stay, inactive."""

    def sync_config(
        self,
        sources: Sequence[Source],
        departments: Sequence[Department],
        focus_areas: Sequence[FocusArea],
        now: datetime,
    ) -> None:
        """Store the active configuration; entries no longer configured are kept, inactive."""
        stamp = to_text(now)
        with self.conn:
            for table in ("sources", "departments", "focus_areas"):
                self.conn.execute(f"UPDATE {table} SET active = 0")
            for source in sources:
                self._upsert_row("sources", to_row(source) | {"active": 1})
            for department in departments:
                row = _department_row(department) | {"active": 1, "updated_at": stamp}
                self._upsert_row("departments", row, keep_if_same="profile_hash")
            for area in focus_areas:
                self._upsert_row("focus_areas", to_row(area) | {"active": 1, "updated_at": stamp})

    def _upsert_row(self, table: str, row: dict, keep_if_same: str | None = None) -> None:
        """Insert or update one configuration row, keeping updated_at when nothing changed.

        An upsert, not INSERT OR REPLACE: replacing would delete the row and lose the
        columns the configuration does not carry (matched_version) and rows referring to it.
        """
        if keep_if_same:
            old = self.conn.execute(
                f"SELECT {keep_if_same}, updated_at FROM {table} WHERE id = ?", [row["id"]]
            ).fetchone()
            if old and old[0] == row[keep_if_same]:
                row = row | {"updated_at": old[1]}
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name != "id")
        self.conn.execute(
            f"INSERT INTO {table} ({names}) VALUES ({marks}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            list(row.values()),
        )

    def source_validators(self, source_id: str) -> tuple[str, str]:
        """The ETag and Last-Modified of a source's last complete answer (empty when none)."""
        row = self.conn.execute(
            "SELECT etag, last_modified FROM sources WHERE id = ?", [source_id]
        ).fetchone()
        return (row[0] or "", row[1] or "") if row else ("", "")

    def save_source_validators(self, source_id: str, etag: str, last_modified: str) -> None:
        """Remember a source's ETag and Last-Modified, once its answer was stored whole."""
        with self.conn:
            self.conn.execute(
                "UPDATE sources SET etag = ?, last_modified = ? WHERE id = ?",
                [etag, last_modified, source_id],
            )

    def matched_versions(self) -> dict[str, str | None]:
        """The profile version each active department was last matched with."""
        rows = self.conn.execute("SELECT id, matched_version FROM departments WHERE active = 1")
        return {row[0]: row[1] for row in rows}


def _department_row(department: Department) -> dict:
    """A department's row with the hash of its profile (kept unchanged keeps updated_at)."""
    row = to_row(department)
    blob = json.dumps(row, sort_keys=True, ensure_ascii=False).encode()
    return row | {"profile_hash": hashlib.sha256(blob).hexdigest()}
