"""A digest's messages, one per recipient when each carries its own feedback links: each is
recorded before and after it goes out, and one that failed after others had theirs is kept
whole and sent as it was by a later run, never again to those who had it.

A recipient's row says: sending (a run stopped while sending it: it may have gone out, so it
is shown as stuck until the coordinator releases it with `eufunds digest --retry`), sent,
failed (for now: tried again; kept as built once others had theirs), refused (the server
refused the address for good: noted, never tried again) or dropped (no longer a recipient).
"""

from __future__ import annotations

import email
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path

from db import Store
from db.records import DeliveryStatus, Digest, DigestDelivery, DigestStatus
from notifier.send import SendError, SmtpSender, outbox_path, write_outbox

# What a recipient's row may say before a message goes to them again (never: sent, refused,
# dropped; and sending, until released).
SETTLED = (DeliveryStatus.SENT, DeliveryStatus.REFUSED, DeliveryStatus.DROPPED)


@dataclass(frozen=True)
class DigestOutcome:
    """What happened to one department's digest in a run."""

    department_id: str
    iso_week: str
    status: DigestStatus
    items: int = 0
    path: Path | None = None
    error: str = ""


@dataclass
class Delivered:
    """How a batch of a digest's messages went."""

    delivered: list[EmailMessage] = field(default_factory=list)
    # (recipient, message, error) of the messages that failed for now.
    failures: list[tuple[str, EmailMessage, str]] = field(default_factory=list)
    # Recipients refused for good (by SMTP: a 5xx answer to the address).
    refused: list[str] = field(default_factory=list)
    # The first outbox file written.
    path: Path | None = None


@dataclass(frozen=True)
class Mailing:
    """Where a digest's messages go: by SMTP (a sender) or to the outbox folder."""

    store: Store
    sender: SmtpSender | None
    outbox: Path
    now: datetime
    dry_run: bool = False


def error_text(exc: Exception) -> str:
    """A failure as the digest's record and the run's report say it."""
    return str(exc) if isinstance(exc, SendError) else f"{type(exc).__name__}: {exc}"


def pending_note(failures: Sequence[tuple[str, EmailMessage, str]]) -> str:
    """Who still waits for their message (recipient, message, error), and why."""
    names = ", ".join(recipient for recipient, _, _ in failures)
    return f"not yet delivered to {names} ({failures[0][2]}); the next run sends theirs"


def same_address(one: str, other: str) -> bool:
    """Whether two addresses are the same mailbox as far as we can tell (case aside)."""
    return one.strip().lower() == other.strip().lower()


@dataclass(frozen=True)
class Letter:
    """Which digest a batch of messages belongs to: its week, department and id (None: a
    dry run, recorded nowhere)."""

    week: str
    department_id: str
    digest_id: int | None


def deliver_each(
    mailing: Mailing,
    letter: Letter,
    messages: Sequence[tuple[str, EmailMessage]],
    recorded: bool,
) -> Delivered:
    """Send or write each (recipient, message) of a digest; with ``recorded`` (one message
    per recipient) each is recorded as sending before and as sent, failed or refused after."""
    done = Delivered()
    digest = letter.digest_id
    for recipient, message in messages:
        if recorded:
            _record(mailing, digest, recipient, message, DeliveryStatus.SENDING)
        try:
            if mailing.sender is None:
                target = outbox_path(
                    mailing.outbox,
                    letter.week,
                    letter.department_id,
                    mailing.dry_run,
                    _file_key(recipient),
                )
                written = write_outbox(message, target)
                done.path = done.path or written
            else:
                done.refused += mailing.sender.send(message)
        except Exception as exc:  # noqa: BLE001 - recorded per recipient, the run goes on
            refusal = isinstance(exc, SendError) and exc.recipient_refused
            if refusal and recorded:
                done.refused.append(recipient)
                _record(mailing, digest, recipient, message, DeliveryStatus.REFUSED, str(exc))
            else:
                done.failures.append((recipient, message, error_text(exc)))
                if recorded:
                    _record(mailing, digest, recipient, message, DeliveryStatus.FAILED, str(exc))
            continue
        done.delivered.append(message)
        if recorded:
            _record(mailing, digest, recipient, message, DeliveryStatus.SENT)
    return done


def forget_messages(mailing: Mailing, digest_id: int, failures) -> None:
    """Keep no built message of a digest nobody got (the next run builds it anew)."""
    for recipient, message, error in failures:
        _record(mailing, digest_id, recipient, message, DeliveryStatus.FAILED, error, keep=False)


def send_pending(mailing: Mailing, digest: Digest, recipients: Sequence[str]) -> DigestOutcome:
    """Send the kept messages of a delivered digest that failed for some recipients, as
    they were built, to those still among ``recipients``; the outcome says who has theirs
    now and who still waits. A message a run stopped while sending is stuck until released."""
    department_id, week = digest.department_id, digest.iso_week
    rows = mailing.store.digest_deliveries(digest.id)
    sending = [d.recipient for d in rows if d.status == DeliveryStatus.SENDING]
    if sending and not mailing.dry_run:
        error = (
            f"stuck: a run stopped while sending it to {', '.join(sending)}, so it may have gone "
            f"out; if the mail server's log shows it did not, send it with: "
            f"eufunds digest --retry {department_id}"
        )
        return DigestOutcome(department_id, week, DigestStatus.STUCK, error=error)
    pending = [d for d in rows if d.status == DeliveryStatus.FAILED and d.message]
    if not pending or mailing.dry_run:
        return DigestOutcome(department_id, week, DigestStatus.ALREADY_DONE)
    messages = []
    for row in pending:
        assert row.message is not None
        message = email.message_from_bytes(row.message, policy=default)
        if any(same_address(row.recipient, r) for r in recipients):
            messages.append((row.recipient, message))
        else:
            _record(mailing, digest.id, row.recipient, message, DeliveryStatus.DROPPED, keep=False)
    letter = Letter(week, department_id, digest.id)
    done = deliver_each(mailing, letter, messages, recorded=True)
    if done.failures:
        error = pending_note(done.failures)
        return DigestOutcome(department_id, week, DigestStatus.FAILED, error=error)
    if not messages:
        return DigestOutcome(department_id, week, DigestStatus.ALREADY_DONE)
    names = ", ".join(recipient for recipient, _ in messages)
    status = DigestStatus.SENT if mailing.sender is not None else DigestStatus.WRITTEN
    note = f"sent now to {names} (failed before)"
    if done.refused:
        note += f"; refused: {', '.join(done.refused)}"
    return DigestOutcome(department_id, week, status, digest.item_count, done.path, note)


def _file_key(recipient: str) -> str:
    """A recipient's part of an outbox file name: readable, and distinct for distinct
    addresses (characters a file name should not hold are replaced, so a hash tells apart
    addresses that differ only there)."""
    if not recipient:
        return ""
    digest = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:8]
    return f"{recipient.strip().lower()}-{digest}"


def recipient_path(outbox: Path, week: str, department_id: str, recipient: str) -> Path:
    """Where one recipient's message of a department's digest is written in the outbox."""
    return outbox_path(outbox, week, department_id, False, _file_key(recipient))


def _record(
    mailing: Mailing,
    digest_id: int | None,
    recipient: str,
    message: EmailMessage,
    status: DeliveryStatus,
    error: str = "",
    keep: bool = True,
) -> None:
    """Record how one recipient's message stands; one that may still go out (sending, or
    failed for now) is kept as built, unless ``keep`` is False."""
    assert digest_id is not None
    waiting = status in (DeliveryStatus.SENDING, DeliveryStatus.FAILED)
    kept = message.as_bytes(policy=SMTP) if waiting and keep else None
    mailing.store.record_delivery(
        DigestDelivery(
            digest_id, recipient, status, str(message["Message-ID"]), mailing.now, error, kept
        )
    )
