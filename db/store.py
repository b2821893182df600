"""The SQLite store: the only module that reads and writes SQL."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from db.records import (
    Call,
    CallChange,
    CrawlRun,
    Department,
    Digest,
    DigestHistory,
    FocusArea,
    Match,
    MatchRun,
    Source,
    still_open,
)
from db.schema import migrations

BUSY_TIMEOUT_MS = 10_000
MAX_ERROR_SAMPLES = 20

# Fields whose change is news to a department; the content hash covers exactly these.
TRACKED_FIELDS = (
    "title",
    "status",
    "deadlines",
    "opening_date",
    "budget_eur",
    "expected_grants",
    "url",
    "programme",
    "call_identifier",
    "call_title",
    "type_of_action",
    "summary",
    "programme_divisions",
    "kind",
    "language",
)


class StoreError(Exception):
    """The database cannot be opened or used."""


def to_text(moment: datetime | None) -> str | None:
    """Format an aware datetime as the ISO text stored in the database (UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: store aware datetimes only")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_text(text: str | None) -> datetime | None:
    """Parse stored ISO text back into an aware UTC datetime."""
    if not text:
        return None
    return datetime.fromisoformat(text)


def content_hash(call: Call) -> str:
    """Hash the tracked fields of a call, so re-crawling identical content is a no-op."""
    payload = {name: _field_text(call, name) for name in TRACKED_FIELDS}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


def _field_text(call: Call, name: str) -> str:
    """Render one tracked field as comparable text."""
    value = getattr(call, name)
    if name == "deadlines":
        return json.dumps([to_text(d) for d in value])
    if isinstance(value, datetime):
        return to_text(value) or ""
    return "" if value is None else str(value)


def _call_row(call: Call) -> dict:
    return {
        "id": call.id,
        "source_id": call.source_id,
        "identifier": call.identifier,
        "call_identifier": call.call_identifier,
        "call_title": call.call_title,
        "title": call.title,
        "summary": call.summary,
        "url": call.url,
        "programme": call.programme,
        "programme_divisions": json.dumps(call.programme_divisions, ensure_ascii=False),
        "type_of_action": call.type_of_action,
        "kind": call.kind,
        "status": call.status,
        "opening_date": to_text(call.opening_date),
        "deadlines": json.dumps([to_text(d) for d in call.deadlines]),
        "next_deadline": to_text(call.next_deadline),
        "budget_eur": call.budget_eur,
        "expected_grants": call.expected_grants,
        "language": call.language,
        "raw": call.raw,
        "content_hash": call.content_hash,
        "first_seen": to_text(call.first_seen),
        "last_seen": to_text(call.last_seen),
        "last_changed": to_text(call.last_changed),
    }


def _call_from_row(row: sqlite3.Row | dict) -> Call:
    row = dict(row)
    return Call(
        id=row["id"],
        source_id=row["source_id"],
        identifier=row["identifier"],
        title=row["title"],
        url=row["url"] or "",
        call_identifier=row["call_identifier"] or "",
        call_title=row["call_title"] or "",
        summary=row["summary"] or "",
        programme=row["programme"] or "",
        programme_divisions=json.loads(row["programme_divisions"] or "[]"),
        type_of_action=row["type_of_action"] or "",
        kind=row["kind"] or "",
        status=row["status"],
        opening_date=from_text(row["opening_date"]),
        deadlines=[from_text(d) for d in json.loads(row["deadlines"] or "[]")],
        next_deadline=from_text(row["next_deadline"]),
        budget_eur=row["budget_eur"],
        expected_grants=row["expected_grants"],
        language=row["language"] or "",
        raw=row["raw"] or "",
        content_hash=row["content_hash"] or "",
        first_seen=from_text(row["first_seen"]),
        last_seen=from_text(row["last_seen"]),
        last_changed=from_text(row["last_changed"]),
    )


class Store:
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
            self.db = Database(conn)
            migrations.apply(self.db)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        self.conn = conn

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def applied_migrations(self) -> list[str]:
        """Names of the schema migrations applied to this database, oldest first."""
        return [m.name for m in migrations.applied(self.db)]

    # Configuration -------------------------------------------------------------

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
            self.conn.execute("UPDATE sources SET active = 0")
            self.conn.execute("UPDATE departments SET active = 0")
            self.conn.execute("UPDATE focus_areas SET active = 0")
            for source in sources:
                row = asdict(source) | {"enabled": int(source.enabled), "active": 1}
                self._upsert_row("sources", row)
            for department in departments:
                row = _department_row(department) | {"active": 1, "updated_at": stamp}
                self._upsert_row("departments", row, keep_if_same="profile_hash")
            for area in focus_areas:
                row = _focus_area_row(area) | {"active": 1, "updated_at": stamp}
                self._upsert_row("focus_areas", row)

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
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name != "id")
        self.conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            list(row.values()),
        )

    def department_count(self) -> int:
        """How many departments are active."""
        return self.conn.execute("SELECT count(*) FROM departments WHERE active = 1").fetchone()[0]

    # Crawl runs ----------------------------------------------------------------

    def start_crawl_run(self, source_id: str, now: datetime) -> int:
        """Record the start of a crawl and return its id."""
        with self.conn:
            cursor = self.conn.execute(
                "INSERT INTO crawl_runs (source_id, started, status, pages, items_seen, "
                "items_new, items_changed, items_invalid, items_skipped, error_count, errors) "
                "VALUES (?, ?, 'running', 0, 0, 0, 0, 0, 0, 0, '[]')",
                [source_id, to_text(now)],
            )
        return cursor.lastrowid

    def finish_crawl_run(self, run: CrawlRun) -> None:
        """Write the final counts, status and error sample of a crawl run."""
        with self.conn:
            self.conn.execute(
                "UPDATE crawl_runs SET finished = ?, status = ?, pages = ?, items_seen = ?, "
                "items_new = ?, items_changed = ?, items_invalid = ?, items_skipped = ?, "
                "closed_marked = ?, error_count = ?, errors = ? WHERE id = ?",
                [
                    to_text(run.finished),
                    run.status,
                    run.pages,
                    run.items_seen,
                    run.items_new,
                    run.items_changed,
                    run.items_invalid,
                    run.items_skipped,
                    run.closed_marked,
                    run.error_count,
                    json.dumps(run.errors[:MAX_ERROR_SAMPLES], ensure_ascii=False),
                    run.id,
                ],
            )

    def fail_crawl_run(self, run_id: int, message: str, now: datetime) -> bool:
        """Mark a run that is still 'running' as failed; False if it had already finished."""
        with self.conn:
            row = self.conn.execute(
                "SELECT status, error_count, errors FROM crawl_runs WHERE id = ?", [run_id]
            ).fetchone()
            if row is None or row["status"] != "running":
                return False
            errors = json.loads(row["errors"] or "[]") + [message]
            self.conn.execute(
                "UPDATE crawl_runs SET status = 'failed', finished = ?, error_count = ?, "
                "errors = ? WHERE id = ?",
                [
                    to_text(now),
                    row["error_count"] + 1,
                    json.dumps(errors[:MAX_ERROR_SAMPLES], ensure_ascii=False),
                    run_id,
                ],
            )
        return True

    def crawl_run(self, run_id: int) -> CrawlRun | None:
        """One crawl run by id."""
        row = self.conn.execute("SELECT * FROM crawl_runs WHERE id = ?", [run_id]).fetchone()
        return _crawl_run_from_row(row) if row else None

    def crawl_runs(self, source_id: str | None = None, limit: int = 20) -> list[CrawlRun]:
        """The newest crawl runs, newest first."""
        where, params = ("WHERE source_id = ?", [source_id]) if source_id else ("", [])
        rows = self.conn.execute(
            f"SELECT * FROM crawl_runs {where} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
        return [_crawl_run_from_row(r) for r in rows]

    # Calls ---------------------------------------------------------------------

    def upsert_call(self, call: Call, now: datetime, crawl_run_id: int | None = None) -> str:
        """Store a crawled call; return 'new', 'changed' or 'unchanged'.

        Changes to tracked fields are written to call_changes in the same transaction.
        """
        return self.upsert_calls([call], now, crawl_run_id)[0]

    def upsert_calls(
        self, calls: Sequence[Call], now: datetime, crawl_run_id: int | None = None
    ) -> list[str]:
        """Store crawled calls in one transaction; 'new', 'changed' or 'unchanged' for each."""
        with self.conn:
            return [self._upsert(call, now, crawl_run_id) for call in calls]

    def _upsert(self, call: Call, now: datetime, crawl_run_id: int | None) -> str:
        call.content_hash = content_hash(call)
        stamp = to_text(now)
        old_row = self.conn.execute("SELECT * FROM calls WHERE id = ?", [call.id]).fetchone()
        if old_row is None:
            call.first_seen = call.last_seen = call.last_changed = now
            row = _call_row(call)
            self.conn.execute(
                f"INSERT INTO calls ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )
            return "new"
        if old_row["content_hash"] == call.content_hash:
            self.conn.execute(
                "UPDATE calls SET last_seen = ?, next_deadline = ?, raw = ? WHERE id = ?",
                [stamp, to_text(call.next_deadline), call.raw, call.id],
            )
            return "unchanged"
        old = _call_from_row(old_row)
        call.first_seen = old.first_seen
        call.last_seen = call.last_changed = now
        row = _call_row(call)
        assignments = ", ".join(f"{name} = ?" for name in row if name != "id")
        values = [value for name, value in row.items() if name != "id"]
        self.conn.execute(f"UPDATE calls SET {assignments} WHERE id = ?", [*values, call.id])
        self._record_changes(old, call, stamp, crawl_run_id)
        return "changed"

    def _record_changes(self, old: Call, new: Call, stamp: str, crawl_run_id: int | None) -> None:
        rows = [
            (new.id, name, _field_text(old, name), _field_text(new, name), stamp, crawl_run_id)
            for name in TRACKED_FIELDS
            if _field_text(old, name) != _field_text(new, name)
        ]
        self.conn.executemany(
            "INSERT INTO call_changes (call_id, field, old, new, changed_at, crawl_run_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def mark_unseen_closed(
        self, source_id: str, seen_ids: Iterable[str], now: datetime, crawl_run_id: int | None
    ) -> int:
        """Close calls of a source missing from a complete listing whose deadlines have passed.

        Calls are never deleted; calls without deadlines or with a deadline still
        ahead stay as they were. Returns how many calls were closed.
        """
        seen = set(seen_ids)
        stamp = to_text(now)
        closed = 0
        with self.conn:
            rows = self.conn.execute(
                "SELECT * FROM calls WHERE source_id = ? AND status != 'closed'", [source_id]
            ).fetchall()
            for row in rows:
                call = _call_from_row(row)
                if call.id in seen or not call.deadlines or still_open(call, now):
                    continue
                old_status, call.status = call.status, "closed"
                self.conn.execute(
                    "UPDATE calls SET status = 'closed', last_changed = ?, content_hash = ? "
                    "WHERE id = ?",
                    [stamp, content_hash(call), call.id],
                )
                self.conn.execute(
                    "INSERT INTO call_changes (call_id, field, old, new, changed_at, "
                    "crawl_run_id) VALUES (?, 'status', ?, 'closed', ?, ?)",
                    [call.id, old_status, stamp, crawl_run_id],
                )
                closed += 1
        return closed

    def get_call(self, call_id: str) -> Call | None:
        """One call by its stable id."""
        row = self.conn.execute("SELECT * FROM calls WHERE id = ?", [call_id]).fetchone()
        return _call_from_row(row) if row else None

    def call_changes(self, call_id: str) -> list[CallChange]:
        """The change history of one call, oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM call_changes WHERE call_id = ? ORDER BY id", [call_id]
        )
        return [
            CallChange(
                call_id=r["call_id"],
                field=r["field"],
                old=r["old"],
                new=r["new"],
                changed_at=from_text(r["changed_at"]),
            )
            for r in rows
        ]

    def count_calls(self, source_id: str | None = None) -> int:
        """How many calls are stored (for one source, or all)."""
        if source_id:
            sql, params = "SELECT count(*) FROM calls WHERE source_id = ?", [source_id]
        else:
            sql, params = "SELECT count(*) FROM calls", []
        return self.conn.execute(sql, params).fetchone()[0]

    def list_calls(
        self,
        status: Sequence[str] = (),
        programme: str | None = None,
        deadline_before: datetime | None = None,
        deadline_after: datetime | None = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> list[Call]:
        """Calls matching every given filter, soonest next deadline first."""
        clauses, params = [], []
        if status:
            clauses.append(f"status IN ({', '.join('?' * len(status))})")
            params += list(status)
        if programme:
            clauses.append("programme LIKE ?")
            params.append(f"%{programme}%")
        if deadline_before:
            clauses.append("next_deadline < ?")
            params.append(to_text(deadline_before))
        if deadline_after:
            clauses.append("next_deadline >= ?")
            params.append(to_text(deadline_after))
        if text:
            clauses.append("(title LIKE ? OR summary LIKE ? OR identifier LIKE ?)")
            params += [f"%{text}%"] * 3
        order = "next_deadline IS NULL, next_deadline, id"
        return [_call_from_row(r) for r in self._select("calls", clauses, params, order, limit)]

    def _select(
        self, table: str, clauses: list[str], params: list, order: str, limit: int | None
    ) -> sqlite3.Cursor:
        """Rows of a table matching every clause, in order, at most ``limit``."""
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM {table} {where} ORDER BY {order}"
        if limit:
            sql += " LIMIT ?"
            params = [*params, limit]
        return self.conn.execute(sql, params)

    # Matches -------------------------------------------------------------------

    def matchable_calls(self, now: datetime) -> list[Call]:
        """Calls that can still be applied for: not closed, some deadline ahead or none known."""
        rows = self.conn.execute("SELECT * FROM calls WHERE status != 'closed' ORDER BY id")
        calls = [_call_from_row(row) for row in rows]
        return [c for c in calls if still_open(c, now)]

    def scored_hashes(self) -> dict[str, str]:
        """The content hash each call had when it was last scored."""
        rows = self.conn.execute("SELECT call_id, content_hash FROM scored_calls")
        return {row[0]: row[1] for row in rows}

    def matched_versions(self) -> dict[str, str | None]:
        """The profile version each active department was last matched with."""
        rows = self.conn.execute("SELECT id, matched_version FROM departments WHERE active = 1")
        return {row[0]: row[1] for row in rows}

    def save_matches(
        self,
        matches: Sequence[Match],
        changed_calls: Sequence[Call],
        rescored_departments: Sequence[str],
        matchable_ids: Sequence[str],
        versions: dict[str, str],
        mode: str,
        started: datetime,
        now: datetime,
    ) -> MatchRun:
        """Replace the matches of every re-scored pair in one transaction and record the run.

        Re-scored pairs are the changed calls for every department, and every matchable
        call for the departments whose profile changed. Matches of calls that can no longer
        be applied for (closed, or every deadline passed) are marked expired, not deleted.
        """
        stamp = to_text(now)
        with self.conn:
            self.conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS matchable (call_id TEXT PRIMARY KEY)"
            )
            self.conn.execute("DELETE FROM temp.matchable")
            self.conn.executemany(
                "INSERT INTO temp.matchable VALUES (?)", [(call_id,) for call_id in matchable_ids]
            )
            self.conn.execute(
                "UPDATE matches SET expired_at = ? WHERE expired_at IS NULL "
                "AND call_id NOT IN (SELECT call_id FROM temp.matchable)",
                [stamp],
            )
            removed = 0
            for call in changed_calls:
                removed += self.conn.execute(
                    "DELETE FROM matches WHERE call_id = ?", [call.id]
                ).rowcount
            for department_id in rescored_departments:
                removed += self.conn.execute(
                    "DELETE FROM matches WHERE department_id = ? "
                    "AND call_id IN (SELECT call_id FROM temp.matchable)",
                    [department_id],
                ).rowcount
            self.conn.executemany(
                "INSERT OR REPLACE INTO matches (call_id, department_id, score, text_score, "
                "focus_score, terms, focus_areas, flags, profile_version, matched_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [_match_row(match, stamp) for match in matches],
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
            cursor = self.conn.execute(
                "INSERT INTO match_runs (started, finished, mode, calls_scored, "
                "departments_rescored, matches_stored, matches_removed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    to_text(started),
                    stamp,
                    mode,
                    len(changed_calls),
                    json.dumps(list(rescored_departments)),
                    len(matches),
                    removed,
                ],
            )
        return MatchRun(
            id=cursor.lastrowid,
            started=started,
            finished=now,
            mode=mode,
            calls_scored=len(changed_calls),
            departments_rescored=list(rescored_departments),
            matches_stored=len(matches),
            matches_removed=removed,
        )

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
                    "indices": row["indices"],
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
                        fields["indices"],
                        fields["counts"],
                        json.dumps(list(fields["rules"])),
                        json.dumps(list(fields["swedish_words"]), ensure_ascii=False),
                    )
                    for call_id, content, version, fields in analyses
                ],
            )

    # Digests -------------------------------------------------------------------

    def claim_digest(
        self, department_id: str, iso_week: str, recipients: Sequence[str], now: datetime
    ) -> int | None:
        """Claim a department's digest for a week; None when it was already sent or claimed.

        Claiming is the once-only check and its record in one step: a unique index on
        (department, week) lets only one claim through, and only a failed digest can be
        claimed again. A digest left 'claimed' by a process that stopped while sending is
        not retried: it may have gone out.
        """
        stamp = to_text(now)
        with self.conn:
            try:
                cursor = self.conn.execute(
                    "INSERT INTO digests (department_id, iso_week, status, recipients, "
                    "item_count, claimed_at) VALUES (?, ?, 'claimed', ?, 0, ?)",
                    [department_id, iso_week, json.dumps(list(recipients)), stamp],
                )
                return cursor.lastrowid
            except sqlite3.IntegrityError:
                retried = self.conn.execute(
                    "UPDATE digests SET status = 'claimed', claimed_at = ?, recipients = ?, "
                    "error = NULL WHERE department_id = ? AND iso_week = ? AND status = 'failed' "
                    "RETURNING id",
                    [stamp, json.dumps(list(recipients)), department_id, iso_week],
                ).fetchone()
                return retried[0] if retried else None

    def finish_digest(
        self,
        digest_id: int,
        status: str,
        items: Sequence[tuple[str, str]] = (),
        message_id: str = "",
        subject: str = "",
        outbox_path: str = "",
        sent_at: datetime | None = None,
        error: str = "",
    ) -> None:
        """Record how a claimed digest ended, with its items (call id, reasons), at once."""
        with self.conn:
            self.conn.execute(
                "UPDATE digests SET status = ?, message_id = ?, subject = ?, outbox_path = ?, "
                "item_count = ?, sent_at = ?, error = ? WHERE id = ?",
                [
                    status,
                    message_id,
                    subject,
                    outbox_path,
                    len(items),
                    to_text(sent_at),
                    error or None,
                    digest_id,
                ],
            )
            self.conn.execute("DELETE FROM digest_items WHERE digest_id = ?", [digest_id])
            self.conn.executemany(
                "INSERT INTO digest_items (digest_id, call_id, reason) VALUES (?, ?, ?)",
                [(digest_id, call_id, reason) for call_id, reason in items],
            )

    def digest_history(self, department_id: str) -> DigestHistory:
        """The calls already delivered to a department, and when it last got a digest."""
        rows = self.conn.execute(
            "SELECT i.call_id, i.reason, d.sent_at FROM digest_items i "
            "JOIN digests d ON d.id = i.digest_id "
            "WHERE d.department_id = ? AND d.status IN ('sent', 'written')",
            [department_id],
        ).fetchall()
        last = self.conn.execute(
            "SELECT max(sent_at) FROM digests WHERE department_id = ? "
            "AND status IN ('sent', 'written')",
            [department_id],
        ).fetchone()[0]
        return DigestHistory(
            sent_call_ids=frozenset(row["call_id"] for row in rows),
            closing_soon_sent=frozenset(
                row["call_id"] for row in rows if "closing-soon" in row["reason"].split(",")
            ),
            last_sent_at=from_text(last),
        )

    def changes_since(self, call_ids: Sequence[str], since: datetime) -> dict[str, list]:
        """Changes of these calls recorded after a moment, by call."""
        found: dict[str, list] = {}
        for call_id in call_ids:
            changes = [c for c in self.call_changes(call_id) if c.changed_at > since]
            if changes:
                found[call_id] = changes
        return found

    def digests(self, iso_week: str | None = None) -> list[Digest]:
        """Recorded digests (of one ISO week, or all), newest first."""
        where, params = ("WHERE iso_week = ?", [iso_week]) if iso_week else ("", [])
        rows = self.conn.execute(f"SELECT * FROM digests {where} ORDER BY id DESC", params)
        return [_digest_from_row(row) for row in rows]

    def digest_items(self, digest_id: int) -> list[tuple[str, str]]:
        """The (call id, reasons) of one digest."""
        rows = self.conn.execute(
            "SELECT call_id, reason FROM digest_items WHERE digest_id = ? ORDER BY call_id",
            [digest_id],
        )
        return [(row[0], row[1]) for row in rows]

    # Job lock --------------------------------------------------------------------

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
        return [_match_from_row(r) for r in self._select("matches", clauses, params, order, limit)]

    def get_match(self, call_id: str, department_id: str) -> Match | None:
        """The stored match of one call for one department."""
        row = self.conn.execute(
            "SELECT * FROM matches WHERE call_id = ? AND department_id = ?",
            [call_id, department_id],
        ).fetchone()
        return _match_from_row(row) if row else None


def _digest_from_row(row: sqlite3.Row) -> Digest:
    return Digest(
        id=row["id"],
        department_id=row["department_id"],
        iso_week=row["iso_week"],
        status=row["status"],
        recipients=json.loads(row["recipients"] or "[]"),
        message_id=row["message_id"] or "",
        subject=row["subject"] or "",
        outbox_path=row["outbox_path"] or "",
        item_count=row["item_count"] or 0,
        claimed_at=from_text(row["claimed_at"]),
        sent_at=from_text(row["sent_at"]),
        error=row["error"] or "",
    )


def _match_row(match: Match, stamp: str) -> tuple:
    return (
        match.call_id,
        match.department_id,
        match.score,
        match.text_score,
        match.focus_score,
        json.dumps([list(term) for term in match.terms], ensure_ascii=False),
        json.dumps(list(match.focus_areas), ensure_ascii=False),
        json.dumps(list(match.flags), ensure_ascii=False),
        match.profile_version,
        stamp,
    )


def _match_from_row(row: sqlite3.Row) -> Match:
    return Match(
        call_id=row["call_id"],
        department_id=row["department_id"],
        score=row["score"],
        text_score=row["text_score"],
        focus_score=row["focus_score"],
        terms=tuple((term, weight) for term, weight in json.loads(row["terms"])),
        focus_areas=tuple(json.loads(row["focus_areas"])),
        flags=tuple(json.loads(row["flags"])),
        profile_version=row["profile_version"],
    )


def _department_row(department: Department) -> dict:
    row = {
        "id": department.id,
        "name": department.name,
        "description_sv": department.description_sv,
        "description_en": department.description_en,
        "keywords_sv": json.dumps(department.keywords_sv, ensure_ascii=False),
        "keywords_en": json.dumps(department.keywords_en, ensure_ascii=False),
        "negative_keywords": json.dumps(department.negative_keywords, ensure_ascii=False),
        "preferred_programmes": json.dumps(department.preferred_programmes, ensure_ascii=False),
        "min_score": department.min_score,
        "lead_time_days": department.lead_time_days,
        "recipients": json.dumps(department.recipients),
        "digest_weekday": department.digest_weekday,
    }
    blob = json.dumps(row, sort_keys=True, ensure_ascii=False).encode()
    return row | {"profile_hash": hashlib.sha256(blob).hexdigest()}


def _focus_area_row(area: FocusArea) -> dict:
    return asdict(area) | {
        "keywords_sv": json.dumps(area.keywords_sv, ensure_ascii=False),
        "keywords_en": json.dumps(area.keywords_en, ensure_ascii=False),
    }


def _crawl_run_from_row(row: sqlite3.Row) -> CrawlRun:
    return CrawlRun(
        id=row["id"],
        source_id=row["source_id"],
        started=from_text(row["started"]),
        finished=from_text(row["finished"]),
        status=row["status"],
        pages=row["pages"],
        items_seen=row["items_seen"],
        items_new=row["items_new"],
        items_changed=row["items_changed"],
        items_invalid=row["items_invalid"],
        items_skipped=row["items_skipped"],
        closed_marked=row["closed_marked"],
        error_count=row["error_count"],
        errors=json.loads(row["errors"] or "[]"),
    )
