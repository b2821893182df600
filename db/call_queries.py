"""Reading the calls table: single calls, listings and searches, change history, and the
calls the matcher works on (the writing side is db/calls.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from db.calls import MAX_WORDS, WITHOUT_RAW, decompress_raw
from db.deadlines import still_open
from db.records import LOCAL_TZ, Call, CallChange, CallStatus
from db.rows import from_row, from_rows, from_text, to_text
from db.tables import Tables


class CallQueries(Tables):
    def get_call(self, call_id: str) -> Call | None:
        """One call by its stable id, with every field."""
        row = self.conn.execute("SELECT * FROM calls WHERE id = ?", [call_id]).fetchone()
        if row is None:
            return None
        call = from_row(Call, row)
        call.raw = decompress_raw(row["raw"])
        return call

    def newest_sighting(self) -> datetime | None:
        """When a crawl last saw any call (None: no calls)."""
        return from_text(self.conn.execute("SELECT max(last_seen) FROM calls").fetchone()[0])

    def calls_state(self) -> tuple[int, str, str]:
        """What changes whenever a crawl stores, changes or sees calls: how many there are,
        and the newest change and sighting (a cache of the calls is fresh while it holds)."""
        row = self.conn.execute(
            "SELECT count(*), coalesce(max(last_changed), ''), coalesce(max(last_seen), '') "
            "FROM calls"
        ).fetchone()
        return int(row[0]), row[1], row[2]

    def call_ids(self) -> list[str]:
        """Every stored call's id."""
        return [row[0] for row in self.conn.execute("SELECT id FROM calls ORDER BY id")]

    def calls_by_id(self, call_ids: Sequence[str]) -> dict[str, Call]:
        """The calls with these ids (without the raw answer), in one query."""
        one_of, ids = self._id_list(call_ids)
        rows = self.conn.execute(f"SELECT {WITHOUT_RAW} FROM calls WHERE id IN {one_of}", [ids])
        return {row["id"]: from_row(Call, row) for row in rows}

    def call_sources(self, call_id: str) -> list[tuple[str, str]]:
        """The other sources that list a call, with the id each gives it, in first-seen order."""
        rows = self.conn.execute(
            "SELECT source_id, listed_as FROM call_sources WHERE call_id = ? ORDER BY first_seen",
            [call_id],
        )
        return [(row[0], row[1]) for row in rows]

    def call_changes(self, call_id: str) -> list[CallChange]:
        """The change history of one call, oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM call_changes WHERE call_id = ? ORDER BY id", [call_id]
        )
        return from_rows(CallChange, rows)

    def changes_since(
        self, call_ids: Sequence[str], since: datetime
    ) -> dict[str, list[CallChange]]:
        """Changes of these calls recorded after a moment, by call, oldest first (one query)."""
        one_of, ids = self._id_list(call_ids)
        rows = self.conn.execute(
            f"SELECT * FROM call_changes WHERE call_id IN {one_of} AND changed_at > ? ORDER BY id",
            [ids, to_text(since)],
        )
        found: dict[str, list[CallChange]] = {}
        for row in rows:
            found.setdefault(row["call_id"], []).append(from_row(CallChange, row))
        return found

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
        """Calls matching every given filter, soonest next deadline first (without raw)."""
        clauses, params = [], []
        if status:
            clauses.append(f"status IN ({', '.join('?' * len(status))})")
            params += list(status)
        if programme:
            clauses.append("programme LIKE ?")
            params.append(f"%{programme}%")
        for bound, operator in ((deadline_before, "<"), (deadline_after, ">=")):
            if bound:
                clause, values = _deadline_clause(bound, operator)
                clauses.append(clause)
                params += values
        if text:
            clauses.append("(title LIKE ? OR summary LIKE ? OR identifier LIKE ?)")
            params += [f"%{text}%"] * 3
        order = "next_deadline IS NULL, next_deadline, id"
        rows = self._select("calls", clauses, params, order, limit, WITHOUT_RAW)
        return from_rows(Call, rows)

    def search_calls(
        self,
        text: str = "",
        programme: str = "",
        status: str = "",
        source_id: str = "",
        department_id: str = "",
        deadline_after: datetime | None = None,
        deadline_before: datetime | None = None,
        limit: int = 100,
    ) -> tuple[list[Call], int]:
        """Calls whose words hold every word of ``text`` (a word may be the start of one;
        full-text, best first), filtered; and how many there are in all.

        The text is only ever words: quotes and FTS5 operators in it are not syntax."""
        # At most MAX_WORDS distinct words; a word of two letters or more may be the start
        # of one (a one-letter prefix would match nearly every call).
        words = list(dict.fromkeys(re.findall(r"\w+", text.lower())))[:MAX_WORDS]
        clauses, params = [], []
        query = " ".join(f'"{w}"*' if len(w) > 1 else f'"{w}"' for w in words)
        source = "calls"
        if words:
            source = "calls JOIN calls_fts ON calls_fts.rowid = calls.rowid"
            clauses.append("calls_fts MATCH ?")
            params.append(query)
        for column, value in (
            ("programme", programme),
            ("status", status),
            ("source_id", source_id),
        ):
            if value:
                clauses.append(f"calls.{column} = ?")
                params.append(value)
        if department_id:
            clauses.append(
                "calls.id IN (SELECT call_id FROM matches WHERE department_id = ? "
                "AND expired_at IS NULL)"
            )
            params.append(department_id)
        for bound, operator in ((deadline_after, ">="), (deadline_before, "<")):
            if bound is not None:
                clause, values = _deadline_clause(bound, operator)
                clauses.append(clause)
                params += values
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        total = self.conn.execute(f"SELECT count(*) FROM {source} {where}", params).fetchone()[0]
        order = "calls.next_deadline IS NULL, calls.next_deadline, calls.id"
        if words:
            order = "calls_fts.rank, " + order
        selected = ", ".join(f"calls.{name}" for name in WITHOUT_RAW.split(", "))
        rows = self.conn.execute(
            f"SELECT {selected} FROM {source} {where} ORDER BY {order} LIMIT ?", [*params, limit]
        )
        return from_rows(Call, rows), int(total)

    def programmes(self) -> list[str]:
        """Every programme name the stored calls carry, in order."""
        rows = self.conn.execute(
            "SELECT DISTINCT programme FROM calls WHERE programme != '' ORDER BY programme"
        )
        return [row[0] for row in rows]

    def matchable_hashes(self, now: datetime) -> dict[str, str]:
        """The content hash of each call that can still be applied for (as matchable_calls
        chooses them), read without the rest of the calls: whether anything is new to score."""
        rows = self.conn.execute(
            "SELECT id, content_hash, status, deadlines FROM calls WHERE status != ? ORDER BY id",
            [CallStatus.CLOSED],
        )
        calls = from_rows(Call, rows)
        return {c.id: c.content_hash for c in calls if still_open(c, now)}

    def matchable_calls(self, now: datetime) -> list[Call]:
        """Calls that can still be applied for: not closed, some deadline ahead or none known."""
        rows = self.conn.execute(
            f"SELECT {WITHOUT_RAW} FROM calls WHERE status != ? ORDER BY id", [CallStatus.CLOSED]
        )
        calls = from_rows(Call, rows)
        return [c for c in calls if still_open(c, now)]


def _deadline_clause(bound: datetime, operator: str) -> tuple[str, list[str]]:
    """SQL comparing a call's next deadline with a bound (midnight of a day in Swedish time):
    a deadline that names a day (midnight UTC, or 23:59 UTC) as that day, others as moments
    (db.records.named_day says the same)."""
    named = "substr(calls.next_deadline, 12, 5) IN ('00:00', '23:59')"
    clause = (
        f"(({named} AND substr(calls.next_deadline, 1, 10) {operator} ?) "
        f"OR (NOT {named} AND calls.next_deadline {operator} ?))"
    )
    return clause, [bound.astimezone(LOCAL_TZ).date().isoformat(), to_text(bound)]
