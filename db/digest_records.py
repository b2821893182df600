"""Record types of the weekly digests: why a call is in one, what became of a digest and
of each recipient's message, and what a department was already sent.

Part of db/records.py (which re-exports every name here): kept apart only to keep each
file short. Import them from db.records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.records import Call, CallChange, Match


class DigestReason(StrEnum):
    """Why a call is in a department's digest this week."""

    NEW = "new"
    CHANGED = "changed"
    CLOSING_SOON = "closing-soon"


class DigestStatus(StrEnum):
    """What became of a department's digest for a week (the last four are never stored)."""

    CLAIMED = "claimed"
    SENT = "sent"
    WRITTEN = "written"
    EMPTY = "empty"
    FAILED = "failed"
    DRY_RUN = "dry-run"
    ALREADY_DONE = "already-done"
    UNRECORDED = "unrecorded"
    STUCK = "stuck"


# A digest that reached its recipients: by SMTP, or as a file in the outbox.
DELIVERED = (DigestStatus.SENT, DigestStatus.WRITTEN)
# What the coordinator must see: a digest not delivered, delivered but not recorded, or left
# by a run that stopped while sending it.
DIGEST_PROBLEMS = (DigestStatus.FAILED, DigestStatus.UNRECORDED, DigestStatus.STUCK)


@dataclass(frozen=True)
class DigestItem:
    """A call in a department's digest, with why it is there this week."""

    call: Call
    match: Match
    reasons: tuple[DigestReason, ...]
    changes: tuple[CallChange, ...] = ()


@dataclass(frozen=True)
class DigestHistory:
    """What a department has already been sent."""

    sent_call_ids: frozenset[str]
    closing_soon_sent: frozenset[str]
    last_sent_at: datetime | None
    # When each call was last sent: a change after it is news, whichever digest came since
    # (a digest past its cap leaves some changes unsent).
    call_sent_at: Mapping[str, datetime] = field(default_factory=dict)


@dataclass
class Digest:
    """One department's digest for one ISO week, as recorded."""

    id: int
    department_id: str
    iso_week: str
    status: DigestStatus
    recipients: list[str]
    message_id: str = ""
    subject: str = ""
    outbox_path: str = ""
    item_count: int = 0
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    error: str = ""


class DeliveryStatus(StrEnum):
    """How a digest's message to one recipient stands (digests with feedback links)."""

    # Recorded before it goes out: left so, a run stopped while sending it (stuck).
    SENDING = "sending"
    SENT = "sent"
    # For now (tried again by the next run, with the message as it was built).
    FAILED = "failed"
    # For good (the server refused the address): noted, never tried again.
    REFUSED = "refused"
    # No longer among the department's recipients when it was to be sent again.
    DROPPED = "dropped"


@dataclass(frozen=True)
class DigestDelivery:
    """A digest's message to one recipient: whether it went out, and if it failed after
    others had theirs, the message itself, to be sent as it was."""

    digest_id: int
    recipient: str
    status: DeliveryStatus
    message_id: str
    at: datetime
    error: str = ""
    message: bytes | None = None
