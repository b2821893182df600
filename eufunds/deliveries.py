"""A digest's messages, one per recipient when each carries its own feedback links: each is
recorded as it goes out, and one that failed after others had theirs is kept whole and sent
as it was by a later run, never again to those who had it."""

from __future__ import annotations

import email
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path

from db import Store
from db.records import DeliveryStatus, Digest, DigestDelivery, DigestStatus
from notifier.send import SendError, SmtpSender, outbox_path, write_outbox


@dataclass(frozen=True)
class DigestOutcome:
    """What happened to one department's digest in a run."""

    department_id: str
    iso_week: str
    status: DigestStatus
    items: int = 0
    path: Path | None = None
    error: str = ""


def error_text(exc: Exception) -> str:
    """A failure as the digest's record and the run's report say it."""
    return str(exc) if isinstance(exc, SendError) else f"{type(exc).__name__}: {exc}"


def pending_note(failures: Sequence[tuple[str, EmailMessage, str]]) -> str:
    """Who still waits for their message (recipient, message, error), and why."""
    names = ", ".join(recipient for recipient, _, _ in failures)
    return f"not yet delivered to {names} ({failures[0][2]}); the next run sends theirs"


def record_delivery(
    store: Store,
    now: datetime,
    digest_id: int | None,
    recipient: str,
    message: EmailMessage,
    status: DeliveryStatus,
    error: str = "",
) -> None:
    """Record how one recipient's message went; a failed one is kept to be sent as it was."""
    assert digest_id is not None
    kept = message.as_bytes(policy=SMTP) if status == DeliveryStatus.FAILED else None
    store.record_delivery(
        DigestDelivery(digest_id, recipient, status, str(message["Message-ID"]), now, error, kept)
    )


def send_pending(
    store: Store,
    sender: SmtpSender | None,
    outbox: Path,
    now: datetime,
    digest: Digest,
    dry_run: bool,
) -> DigestOutcome:
    """Send the kept messages of a delivered digest that failed for some recipients, as
    they were built; the outcome says who has theirs now and who still waits."""
    department_id, week = digest.department_id, digest.iso_week
    pending = [
        d
        for d in store.digest_deliveries(digest.id)
        if d.status == DeliveryStatus.FAILED and d.message
    ]
    if not pending or dry_run:
        return DigestOutcome(department_id, week, DigestStatus.ALREADY_DONE)
    failures = []
    for delivery in pending:
        assert delivery.message is not None
        message = email.message_from_bytes(delivery.message, policy=default)
        try:
            if sender is None:
                write_outbox(
                    message, outbox_path(outbox, week, department_id, False, delivery.recipient)
                )
            else:
                sender.send(message)
        except Exception as exc:  # noqa: BLE001 - recorded for that recipient, tried again later
            failures.append((delivery.recipient, message, error_text(exc)))
            record_delivery(
                store,
                now,
                digest.id,
                delivery.recipient,
                message,
                DeliveryStatus.FAILED,
                failures[-1][2],
            )
            continue
        record_delivery(store, now, digest.id, delivery.recipient, message, DeliveryStatus.SENT)
    if failures:
        return DigestOutcome(department_id, week, DigestStatus.FAILED, error=pending_note(failures))
    names = ", ".join(d.recipient for d in pending)
    status = DigestStatus.SENT if sender is not None else DigestStatus.WRITTEN
    note = f"sent now to {names} (failed before)"
    return DigestOutcome(department_id, week, status, digest.item_count, error=note)
