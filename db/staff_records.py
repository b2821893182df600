"""Record types of what people do with the calls: staff feedback, applications, web users.

Part of db/records.py (which re-exports every name here): kept apart only to keep each
file short. Import them from db.records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """What a member of staff says of a call in a digest (one click from it)."""

    RELEVANT = "relevant"
    NOT_RELEVANT = "not-relevant"
    APPLY = "apply"


@dataclass(frozen=True)
class Feedback:
    """One recipient's word on one call of one digest."""

    digest_id: int
    department_id: str
    call_id: str
    recipient: str
    verdict: str
    at: datetime
    comment: str = ""


def newest_verdicts(feedback: Iterable[Feedback]) -> list[Feedback]:
    """Each reader's newest verdict on each call for each department: a call can come again
    in a later digest and be judged again, and the later word is what the reader thinks
    (statistics, the coordinator's counts and labels all count one verdict per reader and
    call)."""
    newest: dict[tuple[str, str, str], Feedback] = {}
    for given in feedback:
        key = (given.department_id, given.call_id, given.recipient)
        kept = newest.get(key)
        if kept is None or (given.at, given.digest_id) > (kept.at, kept.digest_id):
            newest[key] = given
    return list(newest.values())


@dataclass(frozen=True)
class WebUser:
    """A user of the web app: a coordinator (edits) or management (reads)."""

    name: str
    role: str
    password_hash: str
    created_at: datetime


# The web app's roles: what each may do is checked on every route (web/).
ROLES = ("coordinator", "management")


class ApplicationState(StrEnum):
    """Where an application stands in a department's pipeline."""

    INTEREST = "interest"
    PREPARING = "preparing"
    SUBMITTED = "submitted"
    GRANTED = "granted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


# The pipeline's states as staff and management read them, in pipeline order.
APPLICATION_STATE_NAMES = {
    ApplicationState.INTEREST: "Intresse",
    ApplicationState.PREPARING: "Förbereder",
    ApplicationState.SUBMITTED: "Inlämnad",
    ApplicationState.GRANTED: "Beviljad",
    ApplicationState.REJECTED: "Avslag",
    ApplicationState.WITHDRAWN: "Avstått",
}

# The moves the pipeline allows from each state: forward, withdrawing, and one step back to
# correct a mistake (a decision entered too early, a withdrawal taken back).
APPLICATION_MOVES: dict[ApplicationState, tuple[ApplicationState, ...]] = {
    ApplicationState.INTEREST: (ApplicationState.PREPARING, ApplicationState.WITHDRAWN),
    ApplicationState.PREPARING: (
        ApplicationState.SUBMITTED,
        ApplicationState.WITHDRAWN,
        ApplicationState.INTEREST,
    ),
    ApplicationState.SUBMITTED: (
        ApplicationState.GRANTED,
        ApplicationState.REJECTED,
        ApplicationState.WITHDRAWN,
        ApplicationState.PREPARING,
    ),
    ApplicationState.GRANTED: (ApplicationState.SUBMITTED,),
    ApplicationState.REJECTED: (ApplicationState.SUBMITTED,),
    ApplicationState.WITHDRAWN: (ApplicationState.INTEREST,),
}

# The currencies an amount may be given in; the other is computed with the rate used.
CURRENCIES = ("SEK", "EUR")


@dataclass(frozen=True)
class Application:
    """A department's application for a call, from first interest to the funder's decision.

    Amounts are whole units of ``currency``; ``sek_per_eur`` is the rate used to give them
    in the other currency (None: not known, so the other currency is not given).
    """

    id: int
    call_id: str
    department_id: str
    state: ApplicationState
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    currency: str = "SEK"
    applied_amount: int | None = None
    granted_amount: int | None = None
    sek_per_eur: float | None = None
    partners: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    submitted_on: str = ""
    decided_on: str = ""
    notes: str = ""

    def amount_in(self, amount: int | None, currency: str) -> float | None:
        """An amount of this application (as entered) in ``currency``; None when it is not
        given or the rate to convert it is not."""
        if amount is None:
            return None
        if currency == self.currency:
            return float(amount)
        if not self.sek_per_eur:
            return None
        return amount * self.sek_per_eur if currency == "SEK" else amount / self.sek_per_eur


# The fields of an application the coordinator edits (the rest are kept by the store).
APPLICATION_FIELDS = (
    "state",
    "department_id",
    "currency",
    "applied_amount",
    "granted_amount",
    "sek_per_eur",
    "partners",
    "departments",
    "submitted_on",
    "decided_on",
    "notes",
)


@dataclass(frozen=True)
class ApplicationEvent:
    """One change to an application: who, when, what (field -> [old, new]) and why."""

    id: int
    application_id: int
    at: datetime
    by: str
    changes: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class ReportMail:
    """Management's report of one month (YYYY-MM) as mailed, or tried: its status is a
    digest's (claimed, sent, written to the outbox, failed)."""

    id: int
    month: str
    status: str
    recipients: tuple[str, ...]
    claimed_at: datetime
    message_id: str = ""
    outbox_path: str = ""
    sent_at: datetime | None = None
    error: str = ""
