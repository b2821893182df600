"""The feedback table: what staff said of the calls in their digests."""

from __future__ import annotations

from db.records import Feedback
from db.rows import from_row, from_rows, to_text
from db.tables import Tables


class FeedbackTables(Tables):
    """Staff feedback, one row per digest, call and recipient."""

    def record_feedback(self, feedback: Feedback) -> bool:
        """Store a recipient's verdict on a call of a digest; whether anything changed (the
        same verdict again changes nothing, another one replaces it)."""
        with self.conn:
            cursor = self.conn.execute(
                "INSERT INTO feedback (digest_id, department_id, call_id, recipient, verdict, at, "
                "comment) VALUES (?, ?, ?, ?, ?, ?, '') "
                "ON CONFLICT (digest_id, call_id, recipient) DO UPDATE SET "
                "verdict = excluded.verdict, at = excluded.at WHERE verdict != excluded.verdict",
                [
                    feedback.digest_id,
                    feedback.department_id,
                    feedback.call_id,
                    feedback.recipient,
                    feedback.verdict,
                    to_text(feedback.at),
                ],
            )
        return cursor.rowcount == 1

    def comment_feedback(self, digest_id: int, call_id: str, recipient: str, comment: str) -> None:
        """Add a recipient's comment to their feedback on a call."""
        with self.conn:
            self.conn.execute(
                "UPDATE feedback SET comment = ? WHERE digest_id = ? AND call_id = ? "
                "AND recipient = ?",
                [comment, digest_id, call_id, recipient],
            )

    def feedback_of(self, digest_id: int, call_id: str, recipient: str) -> Feedback | None:
        """A recipient's feedback on one call of one digest, if they gave any."""
        row = self.conn.execute(
            "SELECT * FROM feedback WHERE digest_id = ? AND call_id = ? AND recipient = ?",
            [digest_id, call_id, recipient],
        ).fetchone()
        return from_row(Feedback, row) if row else None

    def feedback(self, department_id: str | None = None) -> list[Feedback]:
        """Feedback, newest first, of one department or all."""
        where, params = ("WHERE department_id = ?", [department_id]) if department_id else ("", [])
        rows = self.conn.execute(f"SELECT * FROM feedback {where} ORDER BY at DESC", params)
        return from_rows(Feedback, rows)
