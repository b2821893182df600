"""The digests and digest_items tables: one digest per department and ISO week, never twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime

from db.records import (
    DELIVERED,
    DeliveryStatus,
    Digest,
    DigestDelivery,
    DigestHistory,
    DigestReason,
    DigestStatus,
)
from db.rows import from_row, from_rows, from_text, to_json, to_text
from db.tables import Tables, insert_sql


def claim_once(
    conn: sqlite3.Connection,
    table: str,
    key: Mapping[str, str],
    recipients: Sequence[str],
    now: datetime,
    initial: Mapping[str, object] | None = None,
) -> int | None:
    """Claim the one mail of ``table`` that ``key`` names (its columns and values): its id,
    or None when it was sent or claimed already (a new row also gets the ``initial`` values).

    Claiming is the once-only check and its record in one step: a unique index on the key's
    columns lets only one claim through, and only a failed mail can be claimed again. One
    left claimed by a process that stopped while sending is not tried again: it may have
    gone out.
    """
    fields = {**key, "status": DigestStatus.CLAIMED, "recipients": to_json(recipients)}
    fields |= {"claimed_at": to_text(now), **(initial or {})}
    with conn:
        try:
            return conn.execute(insert_sql(table, fields), list(fields.values())).lastrowid
        except sqlite3.IntegrityError:
            where = " AND ".join(f"{name} = ?" for name in key)
            retried = conn.execute(
                f"UPDATE {table} SET status = ?, claimed_at = ?, recipients = ?, error = NULL "
                f"WHERE {where} AND status = ? RETURNING id",
                [
                    DigestStatus.CLAIMED,
                    fields["claimed_at"],
                    fields["recipients"],
                    *key.values(),
                    DigestStatus.FAILED,
                ],
            ).fetchone()
            if retried:
                return retried[0]
            # Nothing to claim again: the mail exists (sent, or being sent), else the row
            # broke another rule (an unknown department), which is no "already sent".
            if conn.execute(f"SELECT 1 FROM {table} WHERE {where}", list(key.values())).fetchone():
                return None
            raise


# digest_items.reason holds a digest item's reasons joined by this; only this module reads it.
_REASON_SEPARATOR = ","


class DigestTables(Tables):
    """Digests: claimed before building, finished with their items after delivery."""

    def claim_digest(
        self, department_id: str, iso_week: str, recipients: Sequence[str], now: datetime
    ) -> int | None:
        """Claim a department's digest for a week; None when it was already sent or claimed
        (see ``claim_once``)."""
        key = {"department_id": department_id, "iso_week": iso_week}
        return claim_once(self.conn, "digests", key, recipients, now, {"item_count": 0})

    def finish_digest(
        self,
        digest_id: int,
        status: DigestStatus,
        items: Sequence[tuple[str, Sequence[DigestReason]]] = (),
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
                [
                    (digest_id, call_id, _REASON_SEPARATOR.join(reasons))
                    for call_id, reasons in items
                ],
            )

    def digest_of(self, department_id: str, iso_week: str) -> Digest | None:
        """A department's digest of a week as recorded, if any."""
        row = self.conn.execute(
            "SELECT * FROM digests WHERE department_id = ? AND iso_week = ?",
            [department_id, iso_week],
        ).fetchone()
        return from_row(Digest, row) if row else None

    def digest_by_id(self, digest_id: int) -> Digest | None:
        """A recorded digest by its id, if there is one."""
        row = self.conn.execute("SELECT * FROM digests WHERE id = ?", [digest_id]).fetchone()
        return from_row(Digest, row) if row else None

    def department_digests(self, department_id: str, limit: int = 10) -> list[Digest]:
        """A department's newest recorded digests, newest first."""
        rows = self.conn.execute(
            "SELECT * FROM digests WHERE department_id = ? ORDER BY iso_week DESC, id DESC LIMIT ?",
            [department_id, limit],
        )
        return from_rows(Digest, rows)

    def digest_call_ids(self, digest_id: int) -> list[tuple[str, tuple[str, ...]]]:
        """The calls one digest held, each with why it was there."""
        rows = self.conn.execute(
            "SELECT call_id, reason FROM digest_items WHERE digest_id = ? ORDER BY rowid",
            [digest_id],
        )
        return [(row[0], tuple(row[1].split(_REASON_SEPARATOR))) for row in rows]

    def reclaim_digest(self, digest_id: int, now: datetime) -> None:
        """Claim again a digest left claimed by a run that stopped (to deliver it now)."""
        with self.conn:
            self.conn.execute(
                "UPDATE digests SET claimed_at = ? WHERE id = ? AND status = ?",
                [to_text(now), digest_id, DigestStatus.CLAIMED],
            )

    def release_stuck_digest(self, department_id: str, iso_week: str, reason: str) -> bool:
        """Let the next run send what a run left half-sent: the department's digest of that
        week left claimed (as failed, with the reason), and its messages to single
        recipients left sending, of any week (as failed, kept as built); False when nothing
        was stuck."""
        with self.conn:
            cursor = self.conn.execute(
                "UPDATE digests SET status = ?, error = ? "
                "WHERE department_id = ? AND iso_week = ? AND status = ?",
                [DigestStatus.FAILED, reason, department_id, iso_week, DigestStatus.CLAIMED],
            )
            released = self.conn.execute(
                "UPDATE digest_deliveries SET status = ?, error = ? WHERE status = ? AND "
                "digest_id IN (SELECT id FROM digests WHERE department_id = ?)",
                [DeliveryStatus.FAILED, reason, DeliveryStatus.SENDING, department_id],
            )
        return cursor.rowcount == 1 or released.rowcount > 0

    def digests_waiting(self, department_id: str, before_week: str) -> list[Digest]:
        """A department's delivered digests of weeks before ``before_week`` with messages
        to single recipients still to send (or left sending), oldest first."""
        delivered = ", ".join("?" * len(DELIVERED))
        rows = self.conn.execute(
            f"SELECT * FROM digests WHERE department_id = ? AND iso_week < ? "
            f"AND status IN ({delivered}) AND id IN (SELECT digest_id FROM digest_deliveries "
            "WHERE status = ? OR (status = ? AND message IS NOT NULL)) ORDER BY iso_week",
            [
                department_id,
                before_week,
                *DELIVERED,
                DeliveryStatus.SENDING,
                DeliveryStatus.FAILED,
            ],
        )
        return from_rows(Digest, rows)

    def record_delivery(self, delivery: DigestDelivery) -> None:
        """Record how a digest's message to one recipient stands (replacing what was
        recorded before), with the message as built when it is given (one that may still go
        out)."""
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO digest_deliveries "
                "(digest_id, recipient, status, message_id, at, error, message) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    delivery.digest_id,
                    delivery.recipient,
                    delivery.status,
                    delivery.message_id,
                    to_text(delivery.at),
                    delivery.error,
                    delivery.message,
                ],
            )

    def digest_deliveries(self, digest_id: int) -> list[DigestDelivery]:
        """A digest's messages to its recipients, as recorded (digests with feedback links)."""
        rows = self.conn.execute(
            "SELECT * FROM digest_deliveries WHERE digest_id = ? ORDER BY recipient", [digest_id]
        )
        return from_rows(DigestDelivery, rows)

    def digest_history(self, department_id: str, before_week: str = "") -> DigestHistory:
        """The calls already delivered to a department, and when it last got a digest; with
        ``before_week`` (like '2026-W34'), only in the weeks before it."""
        delivered = ", ".join("?" * len(DELIVERED))
        weeks = " AND iso_week < ?" if before_week else ""
        extra = [before_week] if before_week else []
        rows = self.conn.execute(
            "SELECT i.call_id, i.reason, d.sent_at FROM digest_items i "
            "JOIN digests d ON d.id = i.digest_id "
            f"WHERE d.department_id = ? AND d.status IN ({delivered})"
            f"{weeks.replace('iso_week', 'd.iso_week')}",
            [department_id, *DELIVERED, *extra],
        ).fetchall()
        last = self.conn.execute(
            "SELECT max(sent_at) FROM digests "
            f"WHERE department_id = ? AND status IN ({delivered}){weeks}",
            [department_id, *DELIVERED, *extra],
        ).fetchone()[0]
        return DigestHistory(
            sent_call_ids=frozenset(row["call_id"] for row in rows),
            closing_soon_sent=frozenset(
                row["call_id"]
                for row in rows
                if DigestReason.CLOSING_SOON in row["reason"].split(_REASON_SEPARATOR)
            ),
            last_sent_at=from_text(last),
            call_sent_at=_newest_by_call(rows),
        )


def _newest_by_call(rows) -> dict:
    """When each call was last sent (the newest of its digests' send times)."""
    newest: dict = {}
    for row in rows:
        sent = from_text(row["sent_at"])
        if sent is not None and (row["call_id"] not in newest or sent > newest[row["call_id"]]):
            newest[row["call_id"]] = sent
    return newest
