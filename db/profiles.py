"""Versioned profiles: each department's profile (profile_versions) and each focus area of
the strategy (focus_area_versions), newest version first."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from db.records import Department, FocusArea, ProfileVersion
from db.rows import from_text, to_text
from db.tables import Tables

TUPLES = ("negative_keywords", "preferred_programmes", "recipients")
# The table of each kind of profile, and its id column.
TABLES = {
    Department: ("profile_versions", "department_id"),
    FocusArea: ("focus_area_versions", "focus_area_id"),
}


def profile_json(profile: Department | FocusArea) -> str:
    """A profile as stored (JSON of its fields)."""
    return json.dumps(asdict(profile), ensure_ascii=False, sort_keys=True)


def profile_from_json(text: str, kind: type = Department) -> Department | FocusArea:
    """A stored profile back as a Department (or FocusArea)."""
    fields = json.loads(text)
    for name in TUPLES:
        if name in fields:
            fields[name] = tuple(fields[name])
    return kind(**fields)


class ProfileTables(Tables):
    """Versioned department profiles and focus areas."""

    def seed_profiles(self, profiles: Sequence[Department | FocusArea], now: datetime) -> list[str]:
        """Store version 1 of each profile that has none stored (from the configuration);
        return the ids seeded."""
        seeded = []
        with self.conn:
            for profile in profiles:
                table, column = TABLES[type(profile)]
                known = self.conn.execute(
                    f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", [profile.id]
                ).fetchone()
                if known:
                    continue
                self._insert_version(profile, 1, "configuration", now, "from config/")
                seeded.append(profile.id)
        return seeded

    def save_profile(
        self, profile: Department | FocusArea, saved_by: str, now: datetime, note: str
    ) -> int:
        """Store a new version of a profile; its number."""
        table, column = TABLES[type(profile)]
        with self.conn:
            # The number is taken in the statement that stores it, so two saves at the same
            # moment get two numbers.
            cursor = self.conn.execute(
                f"INSERT INTO {table} ({column}, version, profile, saved_by, saved_at, note) "
                f"SELECT ?, coalesce(max(version), 0) + 1, ?, ?, ?, ? FROM {table} "
                f"WHERE {column} = ?",
                [profile.id, profile_json(profile), saved_by, to_text(now), note, profile.id],
            )
            row = self.conn.execute(
                f"SELECT version FROM {table} WHERE rowid = ?", [cursor.lastrowid]
            ).fetchone()
        return int(row[0])

    def current_profiles(self, kind: type = Department) -> dict[str, Department | FocusArea]:
        """Each department's (or focus area's) newest profile."""
        table, column = TABLES[kind]
        rows = self.conn.execute(
            f"SELECT p.{column}, p.profile FROM {table} p "
            f"JOIN (SELECT {column}, max(version) AS version FROM {table} "
            f"GROUP BY {column}) newest USING ({column}, version)"
        )
        return {row[0]: profile_from_json(row[1], kind) for row in rows}

    def profile_versions(self, profile_id: str, kind: type = Department) -> list[ProfileVersion]:
        """A profile's saved versions, newest first."""
        table, column = TABLES[kind]
        rows = self.conn.execute(
            f"SELECT * FROM {table} WHERE {column} = ? ORDER BY version DESC", [profile_id]
        )
        return [
            ProfileVersion(
                department_id=row[column],
                version=row["version"],
                profile=profile_from_json(row["profile"], kind),
                saved_by=row["saved_by"],
                saved_at=from_text(row["saved_at"]),
                note=row["note"],
            )
            for row in rows
        ]

    def _insert_version(
        self, profile: Department | FocusArea, version: int, saved_by: str, now: datetime, note: str
    ) -> None:
        table, column = TABLES[type(profile)]
        self.conn.execute(
            f"INSERT INTO {table} ({column}, version, profile, saved_by, saved_at, note) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [profile.id, version, profile_json(profile), saved_by, to_text(now), note],
        )
