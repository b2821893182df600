"""The same call listed by two sources: found, stored once, and each other listing noted.

Two listings are the same call when they share an identifier (the portal's topic code in a
programme's feed), a link, or a title (letters and digits, case aside) and the same next
deadline day. The call stored first stays the call; the other source's listing is kept in
call_sources, so the call shows every source that lists it.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta

from db.records import Call
from db.rows import to_text

_NOT_WORD = re.compile(r"[^\w]+")


def same_call(conn: sqlite3.Connection, call: Call) -> str | None:
    """The id of a call of another source that is the same call, if one is stored."""
    checks = [("identifier IN (?, ?)", [call.identifier, call.identifier])]
    if call.url:
        link = call.url.rstrip("/")
        checks.append(("url IN (?, ?)", [link, f"{link}/"]))
    for clause, values in checks:
        row = conn.execute(
            f"SELECT id FROM calls WHERE {clause} AND source_id != ? ORDER BY first_seen LIMIT 1",
            [*values, call.source_id],
        ).fetchone()
        if row:
            return row[0]
    if call.next_deadline is None or not call.title:
        return None
    day = call.next_deadline.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = conn.execute(
        "SELECT id, title FROM calls WHERE next_deadline >= ? AND next_deadline < ? "
        "AND source_id != ?",
        [to_text(day), to_text(day + timedelta(days=1)), call.source_id],
    )
    title = _plain_title(call.title)
    return next((row[0] for row in rows if _plain_title(row[1]) == title), None)


def note_listing(
    conn: sqlite3.Connection, call_id: str, source_id: str, listed_as: str, now: datetime
) -> None:
    """Note that a source lists a stored call (as its own id ``listed_as``), now."""
    conn.execute(
        "INSERT INTO call_sources (call_id, source_id, listed_as, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(call_id, source_id) "
        "DO UPDATE SET listed_as = excluded.listed_as, last_seen = excluded.last_seen",
        [call_id, source_id, listed_as, to_text(now), to_text(now)],
    )


def _plain_title(title: str) -> str:
    """A title reduced to its words, lower case: how two sources' titles of one call agree."""
    return " ".join(_NOT_WORD.sub(" ", title.casefold()).split())
