"""Matches, match runs, and what the matcher already did per call (scored hashes, analyses)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from db.records import Call, Match, MatchMode, MatchRun
from db.rows import columns, from_rows, to_row, to_text
from db.tables import Tables, insert_sql

MATCH_COLUMNS = columns(Match)


class MatchTables(Tables):
    """matches, match_runs, scored_calls and call_analyses."""

    def scored_hashes(self) -> dict[str, str]:
        """The content hash each call had when it was last scored."""
        rows = self.conn.execute("SELECT call_id, content_hash FROM scored_calls")
        return {row[0]: row[1] for row in rows}

    def save_matches(
        self,
        matches: Sequence[Match],
        changed_calls: Sequence[Call],
        rescored_departments: Sequence[str],
        matchable_ids: Sequence[str],
        versions: dict[str, str],
        mode: MatchMode,
        started: datetime,
        now: datetime,
    ) -> MatchRun:
        """Replace the matches of every re-scored pair in one transaction and record the run.

        Re-scored pairs are the changed calls for every department, and every matchable
        call for the departments whose profile changed. Matches of calls that can no longer
        be applied for (closed, or every deadline passed) are marked expired, not deleted.
        """
        stamp = to_text(now)
        one_of, matchable = self._id_list(matchable_ids)
        with self.conn:
            self.conn.execute(
                f"UPDATE matches SET expired_at = ? WHERE expired_at IS NULL "
                f"AND call_id NOT IN {one_of}",
                [stamp, matchable],
            )
            removed = 0
            for call in changed_calls:
                removed += self.conn.execute(
                    "DELETE FROM matches WHERE call_id = ?", [call.id]
                ).rowcount
            for department_id in rescored_departments:
                removed += self.conn.execute(
                    f"DELETE FROM matches WHERE department_id = ? AND call_id IN {one_of}",
                    [department_id, matchable],
                ).rowcount
            rows = [to_row(match) | {"matched_at": stamp} for match in matches]
            if rows:
                self.conn.executemany(
                    insert_sql("matches", rows[0], "INSERT OR REPLACE"),
                    [list(row.values()) for row in rows],
                )
            self.conn.executemany(
                "INSERT OR REPLACE INTO scored_calls (call_id, content_hash, scored_at) "
                "VALUES (?, ?, ?)",
                [(call.id, call.content_hash, stamp) for call in changed_calls],
            )
            self.conn.executemany(
                "UPDATE departments SET matched_version = ? WHERE id = ?",
                [(version, department_id) for department_id, version in versions.items()],
            )
            run = MatchRun(
                id=0,
                started=started,
                finished=now,
                mode=mode,
                calls_scored=len(changed_calls),
                departments_rescored=list(rescored_departments),
                matches_stored=len(matches),
                matches_removed=removed,
            )
            row = to_row(run, exclude=("id",))
            cursor = self.conn.execute(insert_sql("match_runs", row), list(row.values()))
        run.id = cursor.lastrowid
        return run

    def matches(
        self,
        department_id: str | None = None,
        limit: int | None = None,
        include_expired: bool = False,
    ) -> list[Match]:
        """Current matches (or all, with expired ones), best first, of one department or all."""
        clauses, params = [], []
        if department_id:
            clauses.append("department_id = ?")
            params.append(department_id)
        if not include_expired:
            clauses.append("expired_at IS NULL")
        order = "department_id, score DESC, call_id"
        rows = self._select("matches", clauses, params, order, limit, MATCH_COLUMNS)
        return from_rows(Match, rows)

    def call_matches(self, call_id: str) -> list[Match]:
        """A call's current matches, one per department it matched, best first."""
        rows = self._select(
            "matches",
            ["call_id = ?", "expired_at IS NULL"],
            [call_id],
            "score DESC, department_id",
            None,
            MATCH_COLUMNS,
        )
        return from_rows(Match, rows)

    def call_analyses(self, version: str) -> dict[str, tuple[str, dict]]:
        """Stored text analyses of this analysis version: call id -> (content hash, fields)."""
        rows = self.conn.execute(
            "SELECT * FROM call_analyses WHERE analysis_version = ?", [version]
        )
        return {
            row["call_id"]: (
                row["content_hash"],
                {
                    "language": row["language"],
                    # The feature keys; the column keeps the name it had when they were indices
                    # (rows of an older analysis version are never read as keys).
                    "keys": row["indices"],
                    "counts": row["counts"],
                    "rules": tuple(json.loads(row["rules"])),
                    "swedish_words": tuple(json.loads(row["swedish_words"])),
                },
            )
            for row in rows
        }

    def save_call_analyses(self, analyses: Sequence[tuple[str, str, str, dict]]) -> None:
        """Store (call id, content hash, analysis version, fields) for each analysed call."""
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO call_analyses (call_id, content_hash, analysis_version, "
                "language, indices, counts, rules, swedish_words) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        call_id,
                        content,
                        version,
                        fields["language"],
                        fields["keys"],
                        fields["counts"],
                        json.dumps(list(fields["rules"])),
                        json.dumps(list(fields["swedish_words"]), ensure_ascii=False),
                    )
                    for call_id, content, version, fields in analyses
                ],
            )
