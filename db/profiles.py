"""The profile_versions table: each department's profile, versioned (newest first)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from db.records import Department, ProfileVersion
from db.rows import from_text, to_text
from db.tables import Tables

TUPLES = ("negative_keywords", "preferred_programmes", "recipients")


def profile_json(department: Department) -> str:
    """A profile as stored (JSON of its fields)."""
    return json.dumps(asdict(department), ensure_ascii=False, sort_keys=True)


def profile_from_json(text: str) -> Department:
    """A stored profile back as a Department."""
    fields = json.loads(text)
    for name in TUPLES:
        fields[name] = tuple(fields[name])
    return Department(**fields)


class ProfileTables(Tables):
    """Versioned department profiles."""

    def seed_profiles(self, departments: Sequence[Department], now: datetime) -> list[str]:
        """Store version 1 of each department that has no stored profile (from the
        configuration); return the ids seeded."""
        seeded = []
        with self.conn:
            for department in departments:
                known = self.conn.execute(
                    "SELECT 1 FROM profile_versions WHERE department_id = ? LIMIT 1",
                    [department.id],
                ).fetchone()
                if known:
                    continue
                self._insert_version(department, 1, "configuration", now, "from config/")
                seeded.append(department.id)
        return seeded

    def save_profile(self, department: Department, saved_by: str, now: datetime, note: str) -> int:
        """Store a new version of a department's profile; its number."""
        with self.conn:
            row = self.conn.execute(
                "SELECT coalesce(max(version), 0) FROM profile_versions WHERE department_id = ?",
                [department.id],
            ).fetchone()
            version = int(row[0]) + 1
            self._insert_version(department, version, saved_by, now, note)
        return version

    def current_profiles(self) -> dict[str, Department]:
        """Each department's newest profile."""
        rows = self.conn.execute(
            "SELECT p.department_id, p.profile FROM profile_versions p "
            "JOIN (SELECT department_id, max(version) AS version FROM profile_versions "
            "GROUP BY department_id) newest USING (department_id, version)"
        )
        return {row[0]: profile_from_json(row[1]) for row in rows}

    def profile_versions(self, department_id: str) -> list[ProfileVersion]:
        """A department's saved versions, newest first."""
        rows = self.conn.execute(
            "SELECT * FROM profile_versions WHERE department_id = ? ORDER BY version DESC",
            [department_id],
        )
        return [
            ProfileVersion(
                department_id=row["department_id"],
                version=row["version"],
                profile=profile_from_json(row["profile"]),
                saved_by=row["saved_by"],
                saved_at=from_text(row["saved_at"]),
                note=row["note"],
            )
            for row in rows
        ]

    def _insert_version(
        self, department: Department, version: int, saved_by: str, now: datetime, note: str
    ) -> None:
        self.conn.execute(
            "INSERT INTO profile_versions (department_id, version, profile, saved_by, saved_at, "
            "note) VALUES (?, ?, ?, ?, ?, ?)",
            [department.id, version, profile_json(department), saved_by, to_text(now), note],
        )
