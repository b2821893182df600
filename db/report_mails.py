"""The report_mails table: management's monthly report, mailed at most once per month."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from db.digests import claim_once
from db.records import DigestStatus, ReportMail
from db.rows import from_row, to_text
from db.tables import Tables


class ReportMailTables(Tables):
    """Monthly report mails: claimed before building, finished after delivery."""

    def claim_report_mail(self, month: str, recipients: Sequence[str], now: datetime) -> int | None:
        """Claim the report mail of a month; None when it was sent or claimed already (as a
        digest is claimed: see ``db.digests.claim_once``)."""
        return claim_once(self.conn, "report_mails", {"month": month}, recipients, now)

    def finish_report_mail(
        self,
        mail_id: int,
        status: DigestStatus,
        message_id: str = "",
        outbox_path: str = "",
        sent_at: datetime | None = None,
        error: str = "",
    ) -> None:
        """Record how a claimed report mail ended."""
        with self.conn:
            self.conn.execute(
                "UPDATE report_mails SET status = ?, message_id = ?, outbox_path = ?, "
                "sent_at = ?, error = ? WHERE id = ?",
                [status, message_id, outbox_path, to_text(sent_at), error or None, mail_id],
            )

    def report_mail(self, month: str) -> ReportMail | None:
        """The report mail of a month (YYYY-MM), if one was claimed."""
        row = self.conn.execute("SELECT * FROM report_mails WHERE month = ?", [month]).fetchone()
        return from_row(ReportMail, row) if row else None

    def release_stuck_report_mail(self, month: str, reason: str) -> bool:
        """Let the next run send a month's mail left claimed by a run that stopped (as
        failed, with the reason); False when that month's mail is not stuck."""
        with self.conn:
            cursor = self.conn.execute(
                "UPDATE report_mails SET status = ?, error = ? WHERE month = ? AND status = ?",
                [DigestStatus.FAILED, reason, month, DigestStatus.CLAIMED],
            )
        return cursor.rowcount == 1
