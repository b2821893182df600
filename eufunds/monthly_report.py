"""Management's monthly report by e-mail: from [management] report_day on, the previous
month's statistics go to the management recipients once (HTML with the charts, the headline
figures as text, the Excel workbook attached), by SMTP or to the outbox.

The month's mail is claimed in the database before it is built, so two runs never send it
twice; an SMTP failure is recorded with its error and the next run tries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from db import Store
from db.records import LOCAL_TZ, DigestStatus
from eufunds.config import Config
from eufunds.digests import digest_context
from eufunds.periods import previous_month
from eufunds.report import report_html
from eufunds.spreadsheets import workbook
from eufunds.statistics import Statistics, statistics
from notifier.send import SendError, SmtpSender, SmtpSettings, write_outbox

NOT_CONFIGURED = "not-configured"
NOT_DUE = "not-due"


@dataclass(frozen=True)
class ReportOutcome:
    """What one run did about a month's report mail."""

    month: str
    status: str
    path: Path | None = None
    error: str = ""

    def describe(self) -> str:
        """One line for the scheduler's log."""
        line = f"monthly report {self.month}: {self.status}"
        return f"{line} ({self.error})" if self.error else line


def report_message(
    stats: Statistics, organisation: str, sender: str, recipients: tuple[str, ...]
) -> EmailMessage:
    """The report mail: the headline figures as text, the report as HTML, the workbook
    attached. The Message-ID is the same for a month, whenever it is built."""
    message = EmailMessage()
    key = stats.period.key
    domain = sender.rsplit("@", 1)[-1].strip("> ")
    message["Subject"] = f"EU-finansiering: statistik för {stats.period.label}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(stats.made_at.astimezone(LOCAL_TZ))
    message["Message-ID"] = f"<eufunds.report.{key}@{domain}>"
    lines = "\n".join(f"- {line}" for line in stats.summary)
    message.set_content(
        f"Statistik för {stats.period.label} ({stats.period.span()}), {organisation}:\n\n"
        f"{lines}\n\nAlla tabeller finns i den bifogade Excel-filen.\n"
    )
    message.add_alternative(report_html(stats, organisation), subtype="html")
    message.add_attachment(
        workbook(stats),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=f"rapport-{key}.xlsx",
    )
    return message


def send_monthly_report(
    store: Store, config: Config, now: datetime, outbox: Path, smtp: SmtpSettings | None
) -> ReportOutcome:
    """Send the previous month's report if its day has come and it was not sent; without
    SMTP settings write it to the outbox (that counts as sent). A month before it whose mail
    failed is tried first (one mail per run: the next run goes on), so a failure that lasted
    into the next month is not dropped."""
    settings = config.management
    month = previous_month(now)
    if not settings.recipients:
        return ReportOutcome(month.key, NOT_CONFIGURED)
    if now.astimezone(LOCAL_TZ).day < settings.report_day:
        return ReportOutcome(month.key, NOT_DUE)
    earlier = previous_month(month.start)
    left = store.report_mail(earlier.key)
    if left is not None and left.status == DigestStatus.FAILED:
        month = earlier
    mail_id = store.claim_report_mail(month.key, settings.recipients, now)
    if mail_id is None:
        return _claimed_before(store, month, smtp is not None, outbox)
    try:
        stats = statistics(store, config, month, now)
        sender = digest_context(config, smtp).sender
        message = report_message(stats, config.organisation.name, sender, settings.recipients)
    except Exception as exc:
        # Nothing went out: the next run may try again.
        store.finish_report_mail(mail_id, DigestStatus.FAILED, error=f"not built: {exc}")
        raise
    try:
        if smtp is None:
            path = write_outbox(message, report_path(outbox, month.key))
        else:
            refused = _send(smtp, message)
    except (SendError, OSError) as exc:
        store.finish_report_mail(mail_id, DigestStatus.FAILED, error=str(exc))
        return ReportOutcome(month.key, DigestStatus.FAILED, error=str(exc))
    message_id = message["Message-ID"]
    if smtp is None:
        store.finish_report_mail(mail_id, DigestStatus.WRITTEN, message_id, str(path), now)
        return ReportOutcome(month.key, DigestStatus.WRITTEN, path)
    note = f"refused by the server: {', '.join(refused)}" if refused else ""
    store.finish_report_mail(mail_id, DigestStatus.SENT, message_id, sent_at=now, error=note)
    return ReportOutcome(month.key, DigestStatus.SENT, error=note)


def report_path(outbox: Path, month: str) -> Path:
    """Where a month's report mail is written in the outbox."""
    return outbox / f"report-{month}.eml"


def _claimed_before(store: Store, month, by_smtp: bool, outbox: Path) -> ReportOutcome:
    """A month's mail claimed before: done, or left claimed by a run that stopped while
    delivering it. To the outbox a file that is there is whole (recorded now as written);
    one that is not, or one by SMTP that may have gone out, is stuck until the coordinator
    releases it (`eufunds release-report MONTH`)."""
    mail = store.report_mail(month.key)
    if mail is None or mail.status != DigestStatus.CLAIMED:
        return ReportOutcome(month.key, DigestStatus.ALREADY_DONE)
    path = report_path(outbox, month.key)
    if not by_smtp and path.exists():
        store.finish_report_mail(
            mail.id,
            DigestStatus.WRITTEN,
            outbox_path=str(path),
            sent_at=mail.claimed_at,
            error="recorded after an interrupted run had written it",
        )
        return ReportOutcome(month.key, DigestStatus.WRITTEN, path)
    error = (
        f"stuck: a run stopped while sending it (claimed {mail.claimed_at:%Y-%m-%d %H:%M} UTC); "
        f"if it did not go out, send it with: eufunds release-report {month.key}"
    )
    return ReportOutcome(month.key, DigestStatus.STUCK, error=error)


def _send(smtp: SmtpSettings, message: EmailMessage) -> list[str]:
    """Send one message on a connection of its own; the recipients the server refused."""
    sender = SmtpSender(smtp)
    try:
        return sender.send(message)
    finally:
        sender.close()
