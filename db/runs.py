"""The crawl_runs table: every crawl of a source with its counts, status and error sample."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from db.records import CrawlCounts, CrawlRun, RunStatus
from db.rows import from_row, from_rows, to_json, to_row, to_text
from db.tables import Tables, insert_sql

MAX_SAMPLES = 20


class RunTables(Tables):
    """Crawl runs: started before the crawl, finished (or failed) after it."""

    def start_crawl_run(self, source_id: str, now: datetime) -> int:
        """Record the start of a crawl and return its id."""
        run = CrawlRun(id=0, source_id=source_id, started=now)
        row = to_row(run, exclude=("id",))
        with self.conn:
            cursor = self.conn.execute(insert_sql("crawl_runs", row), list(row.values()))
        return cursor.lastrowid

    def finish_crawl_run(
        self,
        run_id: int,
        status: RunStatus,
        counts: CrawlCounts,
        errors: Sequence[str],
        notes: Sequence[str],
        finished: datetime,
    ) -> None:
        """Write the final counts, status and samples of errors and dropped input of a run."""
        row = to_row(counts.counts()) | {
            "status": status,
            "finished": to_text(finished),
            "errors": to_json(list(errors)[:MAX_SAMPLES]),
            "notes": to_json(list(notes)[:MAX_SAMPLES]),
        }
        assignments = ", ".join(f"{name} = ?" for name in row)
        with self.conn:
            self.conn.execute(
                f"UPDATE crawl_runs SET {assignments} WHERE id = ?", [*row.values(), run_id]
            )

    def fail_crawl_run(self, run_id: int, message: str, now: datetime) -> bool:
        """Mark a run that is still 'running' as failed; False if it had already finished."""
        with self.conn:
            row = self.conn.execute(
                "SELECT status, error_count, errors FROM crawl_runs WHERE id = ?", [run_id]
            ).fetchone()
            if row is None or row["status"] != RunStatus.RUNNING:
                return False
            errors = json.loads(row["errors"] or "[]") + [message]
            self.conn.execute(
                "UPDATE crawl_runs SET status = ?, finished = ?, error_count = ?, errors = ? "
                "WHERE id = ?",
                [
                    RunStatus.FAILED,
                    to_text(now),
                    row["error_count"] + 1,
                    to_json(errors[:MAX_SAMPLES]),
                    run_id,
                ],
            )
        return True

    def skip_crawl_run(self, run_id: int, reason: str, now: datetime) -> None:
        """Record a run that read nothing on purpose (a source a replay does not hold)."""
        with self.conn:
            self.conn.execute(
                "UPDATE crawl_runs SET status = ?, finished = ?, pages_expected = 0, notes = ? "
                "WHERE id = ?",
                [RunStatus.SKIPPED, to_text(now), to_json([reason]), run_id],
            )

    def fail_running_crawl_runs(self, message: str, now: datetime) -> int:
        """Mark every run still 'running' as failed with this message; how many there were."""
        ids = [
            row[0]
            for row in self.conn.execute(
                "SELECT id FROM crawl_runs WHERE status = ?", [RunStatus.RUNNING]
            )
        ]
        return sum(self.fail_crawl_run(run_id, message, now) for run_id in ids)

    def crawl_run(self, run_id: int) -> CrawlRun | None:
        """One crawl run by id."""
        row = self.conn.execute("SELECT * FROM crawl_runs WHERE id = ?", [run_id]).fetchone()
        return from_row(CrawlRun, row) if row else None

    def crawl_runs(self, source_id: str | None = None, limit: int = 20) -> list[CrawlRun]:
        """The newest crawl runs, newest first."""
        clauses, params = (["source_id = ?"], [source_id]) if source_id else ([], [])
        rows = self._select("crawl_runs", clauses, params, "id DESC", limit)
        return from_rows(CrawlRun, rows)
