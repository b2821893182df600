"""Counts for management's statistics: calls, matches, digests, feedback, applications and
crawls, each over a span of time (start inclusive, end exclusive; None: unbounded).

Only counting happens here; eufunds/statistics.py turns the counts into tables.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from db.records import DELIVERED, Application, CallStatus, RunStatus
from db.rows import from_row, from_text, to_text
from db.tables import Tables


def _within(column: str, start: datetime | None, end: datetime | None) -> tuple[str, list]:
    """SQL saying a stored moment falls in [start, end), and its parameters."""
    clauses, params = ["1"], []
    if start is not None:
        clauses.append(f"{column} >= ?")
        params.append(to_text(start))
    if end is not None:
        clauses.append(f"{column} < ?")
        params.append(to_text(end))
    return " AND ".join(clauses), params


# A call that can be applied for at a moment: open, and no passed last deadline.
_STILL_OPEN = "(c.next_deadline IS NULL OR c.next_deadline >= ?)"


# An application's field as a change recorded before a moment left it (the newest such), and
# as it was before the first change at or after a moment: SQL for ``field`` of application a.
_LAST_BEFORE = (
    "(SELECT json_extract(e.changes, '$.{field}[1]') FROM application_events e "
    "WHERE e.application_id = a.id AND json_extract(e.changes, '$.{field}') IS NOT NULL "
    "AND e.at < ? ORDER BY e.at DESC, e.id DESC LIMIT 1)"
)
_FIRST_FROM = (
    "(SELECT json_extract(e.changes, '$.{field}[0]') FROM application_events e "
    "WHERE e.application_id = a.id AND json_extract(e.changes, '$.{field}') IS NOT NULL "
    "AND e.at >= ? ORDER BY e.at, e.id LIMIT 1)"
)
# An application's lead department at a moment (two parameters: the moment, twice).
_LEAD_AT = (
    f"coalesce({_LAST_BEFORE.format(field='department_id')}, "
    f"{_FIRST_FROM.format(field='department_id')}, a.department_id)"
)


class StatisticsTables(Tables):
    """Read-only counts over the whole database for the statistics and reports."""

    def call_sightings(
        self, start: datetime | None, end: datetime | None
    ) -> list[tuple[str, datetime]]:
        """(programme, first seen) of every call first seen in the span."""
        where, params = _within("first_seen", start, end)
        rows = self.conn.execute(
            f"SELECT programme, first_seen FROM calls WHERE first_seen IS NOT NULL AND {where}",
            params,
        )
        return [(row[0] or "", from_text(row[1])) for row in rows]

    def match_counts(
        self, start: datetime | None, end: datetime | None
    ) -> dict[str, tuple[int, int]]:
        """Per department: matches of calls first seen in the span, and how many of them are
        current (not expired)."""
        where, params = _within("c.first_seen", start, end)
        rows = self.conn.execute(
            "SELECT m.department_id, count(*), sum(m.expired_at IS NULL) FROM matches m "
            f"JOIN calls c ON c.id = m.call_id WHERE {where} GROUP BY m.department_id",
            params,
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    def digest_counts(
        self, start: datetime | None, end: datetime | None
    ) -> dict[str, tuple[int, int]]:
        """Per department: digests delivered in the span, and the calls they held."""
        where, params = _within("d.sent_at", start, end)
        delivered = ", ".join("?" * len(DELIVERED))
        rows = self.conn.execute(
            "SELECT d.department_id, count(DISTINCT d.id), count(i.call_id) FROM digests d "
            "LEFT JOIN digest_items i ON i.digest_id = d.id "
            f"WHERE d.status IN ({delivered}) AND {where} GROUP BY d.department_id",
            [*DELIVERED, *params],
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    def feedback_counts(
        self, start: datetime | None, end: datetime | None
    ) -> dict[tuple[str, str], int]:
        """(department, verdict) -> how many verdicts were given in the span: one per reader
        and call, the latest in the span (a call that came again in a later digest and was
        judged again counts once)."""
        where, params = _within("at", start, end)
        rows = self.conn.execute(
            "SELECT department_id, verdict, count(*) FROM ("
            "SELECT department_id, verdict, row_number() OVER ("
            "PARTITION BY department_id, call_id, recipient ORDER BY at DESC, digest_id DESC"
            f") AS newest FROM feedback WHERE {where}) WHERE newest = 1 "
            "GROUP BY department_id, verdict",
            params,
        )
        return {(row[0], row[1]): row[2] for row in rows}

    def application_states(self, end: datetime | None) -> list[tuple[str, str]]:
        """(department, state) of every application opened before ``end``, as it was then:
        its lead department and state after their last changes before ``end`` (a lead changed
        only later: the one it had before that change), or now without an end."""
        if end is None:
            rows = self.conn.execute("SELECT department_id, state FROM applications")
            return [(row[0], row[1]) for row in rows]
        stamp = to_text(end)
        rows = self.conn.execute(
            f"SELECT {_LEAD_AT}, coalesce({_LAST_BEFORE.format(field='state')}, a.state) "
            "FROM applications a WHERE a.opened_at < ?",
            [stamp, stamp, stamp, stamp],
        )
        return [(row[0], row[1]) for row in rows]

    def applications_with_programme(
        self, end: datetime | None = None
    ) -> list[tuple[Application, str]]:
        """Every application with the programme of its call; with an ``end``, each with the
        lead department it had then (as ``application_states`` counts it)."""
        lead, params = ("a.department_id", []) if end is None else (_LEAD_AT, [to_text(end)] * 2)
        rows = self.conn.execute(
            f"SELECT a.*, c.programme AS call_programme, {lead} AS lead_then "
            "FROM applications a JOIN calls c ON c.id = a.call_id ORDER BY a.id",
            params,
        )
        return [
            (
                replace(from_row(Application, row), department_id=row["lead_then"]),
                row["call_programme"] or "",
            )
            for row in rows
        ]

    def focus_area_calls(
        self, now: datetime, start: datetime | None, end: datetime | None
    ) -> dict[str, dict[str, int]]:
        """Per focus area name (as matches carry them): distinct calls of current matches
        open and forthcoming at ``now``, and calls first seen in the span that reached it."""
        where, params = _within("c.first_seen", start, end)
        rows = self.conn.execute(
            "SELECT area.value, "
            "count(DISTINCT CASE WHEN m.expired_at IS NULL AND c.status = ? "
            f"AND {_STILL_OPEN} THEN c.id END), "
            "count(DISTINCT CASE WHEN m.expired_at IS NULL AND c.status = ? "
            f"AND {_STILL_OPEN} THEN c.id END), "
            f"count(DISTINCT CASE WHEN {where} THEN c.id END) "
            "FROM matches m JOIN calls c ON c.id = m.call_id, json_each(m.focus_areas) AS area "
            "GROUP BY area.value",
            [CallStatus.OPEN, to_text(now), CallStatus.FORTHCOMING, to_text(now), *params],
        )
        return {row[0]: {"open": row[1], "forthcoming": row[2], "new": row[3]} for row in rows}

    def source_call_counts(
        self, now: datetime, start: datetime | None, end: datetime | None
    ) -> dict[str, tuple[int, int, int]]:
        """Per source: calls stored, calls open at ``now``, calls first seen in the span."""
        where, params = _within("c.first_seen", start, end)
        rows = self.conn.execute(
            "SELECT c.source_id, count(*), "
            f"sum(c.status = ? AND {_STILL_OPEN}), sum(CASE WHEN {where} THEN 1 ELSE 0 END) "
            "FROM calls c GROUP BY c.source_id",
            [CallStatus.OPEN, to_text(now), *params],
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    def crawl_run_counts(
        self, start: datetime | None, end: datetime | None
    ) -> dict[str, tuple[int, int]]:
        """Per source: crawls started in the span (skipped ones left out), and those failed."""
        where, params = _within("started", start, end)
        rows = self.conn.execute(
            "SELECT source_id, count(*), sum(status = ?) FROM crawl_runs "
            f"WHERE status != ? AND {where} GROUP BY source_id",
            [RunStatus.FAILED, RunStatus.SKIPPED, *params],
        )
        return {row[0]: (row[1], row[2]) for row in rows}
