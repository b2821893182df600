"""The calls table and its change history: upserts with change tracking, sightings, closing
the calls a source no longer lists (reading them: db/call_queries.py)."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from db.deadlines import listed_next_deadline, still_open
from db.records import Call, CallStatus
from db.rows import columns, from_row, to_row, to_text
from db.same_calls import note_listing, same_call
from db.tables import Tables, insert_sql

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
# Tracked too, but only when a call has them: calls stored before they existed keep their
# content hash, so adding them changed no call that lacks them (the portal's calls gained the
# grant range, once, at their first crawl after it was added).
OPTIONAL_TRACKED_FIELDS = ("regions", "audience", "cofinancing", "grant_min_eur", "grant_max_eur")
# The most words a full-text search looks for.
MAX_WORDS = 10
# What listings, the matcher and digests read: every column but the source's raw answer.
WITHOUT_RAW = columns(Call, exclude=("raw",))
# The source's raw answer is kept zlib-compressed (at this level), as a BLOB: read back only
# by get_call, it is a third of the size.
RAW_COMPRESSION = 6


class UpsertOutcome(StrEnum):
    """What storing a crawled call did."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    # The same call as one another source listed first: noted with that call, not stored.
    LISTED_ELSEWHERE = "listed-elsewhere"


def content_hash(call: Call) -> str:
    """Hash the tracked fields of a call, so re-crawling identical content is a no-op."""
    payload = {name: _field_text(call, name) for name in TRACKED_FIELDS}
    payload |= {
        name: _field_text(call, name) for name in OPTIONAL_TRACKED_FIELDS if getattr(call, name)
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


def compress_raw(text: str | bytes | None) -> bytes | str | None:
    """The raw answer as stored: zlib-compressed UTF-8 (nothing stays nothing)."""
    if not text:
        return text
    if isinstance(text, bytes):
        return text
    return zlib.compress(text.encode("utf-8"), RAW_COMPRESSION)


def decompress_raw(value: str | bytes | None) -> str:
    """The raw answer as the source gave it, from its stored form."""
    if isinstance(value, bytes):
        return zlib.decompress(value).decode("utf-8")
    return value or ""


def _stored_row(call: Call, exclude: tuple[str, ...] = ()) -> dict:
    """The row of a call as stored: its raw answer compressed."""
    row = to_row(call, exclude=exclude)
    row["raw"] = compress_raw(row["raw"])
    return row


def _field_text(call: Call, name: str) -> str:
    """Render one tracked field as comparable text (as stored in call_changes)."""
    value = getattr(call, name)
    if name == "deadlines":
        return json.dumps([to_text(d) for d in value])
    if isinstance(value, datetime):
        return to_text(value) or ""
    return "" if value is None else str(value)


class CallTables(Tables):
    """Calls and call_changes."""

    def upsert_calls(
        self,
        calls: Sequence[Call],
        now: datetime,
        crawl_run_id: int | None = None,
        keep: Mapping[str, Sequence[str]] | None = None,
    ) -> list[UpsertOutcome]:
        """Store crawled calls in one transaction; whether each was new, changed or unchanged.

        Changes to tracked fields are written to call_changes in the same transaction.
        ``keep`` names, per call id, fields the source gave unreadably: a stored call keeps
        its values of those.
        """
        keep = keep or {}
        with self.conn:
            return [self._upsert(call, now, crawl_run_id, keep.get(call.id, ())) for call in calls]

    def _upsert(
        self, call: Call, now: datetime, crawl_run_id: int | None, keep: Sequence[str]
    ) -> UpsertOutcome:
        old_row = self.conn.execute(
            f"SELECT {WITHOUT_RAW} FROM calls WHERE id = ?", [call.id]
        ).fetchone()
        if old_row is not None and keep:
            old = from_row(Call, old_row)
            for name in keep:
                setattr(call, name, getattr(old, name))
            call.next_deadline = listed_next_deadline(call.deadlines, now)
        call.content_hash = content_hash(call)
        if old_row is None:
            stored = same_call(self.conn, call)
            if stored is not None:
                note_listing(self.conn, stored, call.source_id, call.id, now)
                return UpsertOutcome.LISTED_ELSEWHERE
            call.first_seen = call.last_seen = call.last_changed = now
            row = _stored_row(call)
            self.conn.execute(insert_sql("calls", row), list(row.values()))
            return UpsertOutcome.NEW
        if old_row["content_hash"] == call.content_hash:
            self.conn.execute(
                "UPDATE calls SET last_seen = ?, next_deadline = ?, raw = ?, item_hash = ? "
                "WHERE id = ?",
                [
                    to_text(now),
                    to_text(call.next_deadline),
                    compress_raw(call.raw),
                    call.item_hash,
                    call.id,
                ],
            )
            return UpsertOutcome.UNCHANGED
        old = from_row(Call, old_row)
        call.first_seen = old.first_seen
        call.last_seen = call.last_changed = now
        row = _stored_row(call, exclude=("id",))
        assignments = ", ".join(f"{name} = ?" for name in row)
        self.conn.execute(f"UPDATE calls SET {assignments} WHERE id = ?", [*row.values(), call.id])
        self._record_changes(old, call, now, crawl_run_id)
        return UpsertOutcome.CHANGED

    def item_hashes(self, source_id: str) -> dict[str, str]:
        """The item hash of each call of a source stored by a crawl of it (id -> hash)."""
        rows = self.conn.execute(
            "SELECT id, item_hash FROM calls WHERE source_id = ? AND item_hash != ''",
            [source_id],
        )
        return {row[0]: row[1] for row in rows}

    def see_calls(
        self, sightings: Sequence[tuple[str, str, datetime | None]], now: datetime
    ) -> int:
        """Record that a crawl listed these calls again exactly as they are stored (id, item
        hash, next deadline): last seen now, the next deadline as of now; nothing else
        changes. Returns how many were recorded: a call whose item hash changed meanwhile
        (which the job lock rules out during a crawl) is left as it is."""
        with self.conn:
            cursor = self.conn.executemany(
                "UPDATE calls SET last_seen = ?, next_deadline = ? WHERE id = ? AND item_hash = ?",
                [
                    (to_text(now), to_text(next_deadline), call_id, hashed)
                    for call_id, hashed, next_deadline in sightings
                ],
            )
        return cursor.rowcount

    def _record_changes(
        self, old: Call, new: Call, now: datetime, crawl_run_id: int | None
    ) -> None:
        stamp = to_text(now)
        rows = [
            (new.id, name, _field_text(old, name), _field_text(new, name), stamp, crawl_run_id)
            for name in (*TRACKED_FIELDS, *OPTIONAL_TRACKED_FIELDS)
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
        closed = 0
        with self.conn:
            # Only the calls the listing did not hold are read whole.
            listed = self.conn.execute(
                "SELECT id FROM calls WHERE source_id = ? AND status != ?",
                [source_id, CallStatus.CLOSED],
            )
            unseen = [row[0] for row in listed if row[0] not in seen]
            one_of, ids = self._id_list(unseen)
            found = self.conn.execute(
                f"SELECT {WITHOUT_RAW} FROM calls WHERE id IN {one_of}", [ids]
            )
            by_id = {row["id"]: row for row in found}
            for row in (by_id[call_id] for call_id in unseen):
                call = from_row(Call, row)
                if call.id in seen or not call.deadlines or still_open(call, now):
                    continue
                before = call.status
                call.status = CallStatus.CLOSED
                self.conn.execute(
                    # The item it was read from no longer stands for it: listed again,
                    # even unchanged, the call is read in full (and opens again).
                    "UPDATE calls SET status = ?, last_changed = ?, content_hash = ?, "
                    "item_hash = '' WHERE id = ?",
                    [call.status, to_text(now), content_hash(call), call.id],
                )
                self.conn.execute(
                    "INSERT INTO call_changes (call_id, field, old, new, changed_at, "
                    "crawl_run_id) VALUES (?, 'status', ?, ?, ?, ?)",
                    [call.id, before, call.status, to_text(now), crawl_run_id],
                )
                closed += 1
        return closed
