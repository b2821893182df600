"""Send each department its weekly digest: at most once per ISO week, never twice."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from db import Store, StoreError
from db.records import (
    DELIVERED,
    LOCAL_TZ,
    DeliveryStatus,
    Department,
    DigestItem,
    DigestStatus,
    SourceHealth,
)
from eufunds.config import WEEKDAYS, Config
from eufunds.deliveries import (
    SETTLED,
    DigestOutcome,
    Letter,
    Mailing,
    deliver_each,
    error_text,
    forget_messages,
    pending_note,
    recipient_path,
    same_address,
    send_pending,
)
from eufunds.health import sources_health
from eufunds.week_items import week_items
from notifier.render import (
    ITEMS_HEADER,
    DigestContext,
    FeedbackLink,
    build_digest,
    digest_message_id,
    iso_week,
)
from notifier.send import (
    SmtpSender,
    SmtpSettings,
    outbox_path,
    read_outbox,
)
from notifier.tokens import feedback_token

# A source crawled successfully this long before a digest is named in its intro.
FRESH = timedelta(days=8)
# The web app's secret (environment): it also signs the digests' feedback links.
SECRET_VARIABLE = "EUFUNDS_SECRET_KEY"


@dataclass(frozen=True)
class _Run:
    """What every department's digest in one run shares."""

    store: Store
    now: datetime
    week: str
    outbox: Path
    context: DigestContext
    sender: SmtpSender | None
    dry_run: bool
    # Sources that need a look: shown in the digests the EU coordinator receives.
    source_problems: tuple[SourceHealth, ...] = ()
    # A preview: this week's digest as it is or would be, whatever was sent this week.
    preview: bool = False
    # Signs the feedback links (with the context's web address; empty: no links).
    feedback_secret: str = ""


def digest_context(
    config: Config,
    smtp: SmtpSettings | None,
    health: Sequence[SourceHealth] = (),
    now: datetime | None = None,
) -> DigestContext:
    """Sender, coordinator contact and the configuration's words for the digests; the intro
    names the sources crawled successfully in the week before ``now``."""
    org = config.organisation
    sender = (smtp.sender if smtp and smtp.sender else "") or f"{org.name} <{org.contact_email}>"
    rules = config.matching.eligibility_rules
    swedish_of: dict[str, str] = {}
    for swedish, english in config.matching.terms:
        swedish_of.setdefault(english, swedish)
    crawled = tuple(
        h.name
        for h in health
        if h.last_success is not None and now is not None and now - h.last_success <= FRESH
    )
    return DigestContext(
        sender=sender,
        coordinator_name=org.coordinator_name,
        coordinator_email=org.coordinator_email,
        rule_labels={rule.id: rule.label for rule in rules},
        organisation=org.name,
        who_rules=frozenset(rule.id for rule in rules if rule.who_may_apply),
        programmes=tuple((code, tuple(names)) for code, names in config.matching.programmes),
        programme_notes=dict(config.programme_notes),
        swedish_of=swedish_of,
        focus_weight=config.matching.focus_weight,
        sources=crawled,
        calibrated=config.matching.model is not None,
        web_url=org.web_url,
    )


def send_digests(
    store: Store,
    config: Config,
    now: datetime,
    outbox: Path,
    smtp: SmtpSettings | None = None,
    dry_run: bool = False,
    department_ids: list[str] | None = None,
    due_by_weekday: bool = False,
    preview: bool = False,
    feedback_secret: str | None = None,
) -> list[DigestOutcome]:
    """Build and deliver this week's digest for every department that has not had it.

    With SMTP settings digests are sent; without, they are written to the outbox and that
    counts as delivered. A dry run writes to the outbox and records nothing. An SMTP
    failure is recorded for that department and the run goes on; the next run sends what
    failed and never what was sent. With ``due_by_weekday`` only departments whose digest
    weekday has come this week are considered, so a digest day the machine missed is
    caught up on the next run in the same week.

    A dry run says which departments already had this week's digest. A preview (a dry run
    too) writes this week's digest as it is or would be, as if none had been sent this week.
    Both write files of their own to the outbox ("preview-..."), never a delivered one.

    With the web app's address in the configuration ([organisation] web_url) and its secret
    (``feedback_secret``, by default EUFUNDS_SECRET_KEY), each call carries one-click
    feedback links, and each recipient gets a message of their own.
    """
    today = now.astimezone(LOCAL_TZ).weekday()
    dry_run = dry_run or preview
    sender = SmtpSender(smtp) if smtp and not dry_run else None
    health = sources_health(store, config.sources)
    problems = tuple(h for h in health if h.problem)
    context = digest_context(config, smtp, health, now)
    secret = os.environ.get(SECRET_VARIABLE, "") if feedback_secret is None else feedback_secret
    run = _Run(
        store, now, iso_week(now), outbox, context, sender, dry_run, problems, preview, secret
    )
    outcomes = []
    try:
        for department in config.departments:
            if department_ids and department.id not in department_ids:
                continue
            if due_by_weekday and WEEKDAYS.index(department.digest_weekday) > today:
                continue
            outcomes += _earlier_waiting(run, department)
            outcomes.append(_deliver(run, department))
    finally:
        if sender:
            sender.close()
    return outcomes


def _deliver(run: _Run, department: Department) -> DigestOutcome:
    """Claim one department's digest of the week (unless a dry run), then deliver it."""
    digest_id = None
    if run.dry_run and not run.preview:
        done = run.store.digest_of(department.id, run.week)
        if done is not None and done.status in DELIVERED:
            return DigestOutcome(department.id, run.week, DigestStatus.ALREADY_DONE)
    if not run.dry_run:
        digest_id = run.store.claim_digest(department.id, run.week, department.recipients, run.now)
        if digest_id is None:
            return _claimed_before(run, department)
    return _deliver_claimed(run, department, digest_id)


def _deliver_claimed(run: _Run, department: Department, digest_id: int | None) -> DigestOutcome:
    """Build and deliver a claimed digest (no claim: a dry run), recording how it went.

    Until the message has gone out, any failure is recorded as 'failed' (retried next run)
    and the run goes on with the next department. Once it has gone out it is recorded as
    delivered; should even that record fail, the claim stays and it is never resent.

    A digest with feedback links goes to each recipient as a message of their own, recorded
    as it goes (eufunds/deliveries.py); once it went to one of them, one that failed for
    another is kept, to be sent as it was by a later run, never again to those who had it.
    Whether a digest goes per recipient is what its records say when it has any (a retry
    without the secret still leaves out those who had theirs), else whether links can be made.
    """
    store, week = run.store, run.week
    before = store.digest_deliveries(digest_id) if digest_id is not None else []
    personal = bool(before) or _links(run, digest_id)
    settled = [d.recipient for d in before if d.status in SETTLED]
    had_it = any(d.status == DeliveryStatus.SENT for d in before)
    targets = (
        [r for r in department.recipients if not any(same_address(r, s) for s in settled)]
        if personal
        else [""]
    )
    try:
        items, messages = _prepare(run, department, targets, digest_id)
        if messages is None:
            if digest_id is not None:
                store.finish_digest(digest_id, DigestStatus.EMPTY, sent_at=run.now)
            return DigestOutcome(department.id, week, DigestStatus.EMPTY)
    except Exception as exc:  # noqa: BLE001 - every failure before delivery is recorded alike
        return _failed(run, department, digest_id, exc)
    mailing = Mailing(store, run.sender, run.outbox, run.now, run.dry_run)
    done = deliver_each(mailing, Letter(week, department.id, digest_id), messages, personal)
    if not done.delivered and not had_it:
        if digest_id is not None:
            forget_messages(mailing, digest_id, done.failures)
        refused = done.refused or [d.recipient for d in before if d.status in SETTLED]
        error = done.failures[0][2] if done.failures else f"refused: {', '.join(refused)}"
        return _failed(run, department, digest_id, error)
    if digest_id is None:
        return DigestOutcome(department.id, week, DigestStatus.DRY_RUN, len(items), done.path)
    status = DigestStatus.SENT if run.sender is not None else DigestStatus.WRITTEN
    # Taken for the other recipients: delivered (never resent to them), the refusal noted.
    notes = [f"recipients refused: {', '.join(done.refused)}"] if done.refused else []
    notes += [pending_note(done.failures)] if done.failures else []
    first = (done.delivered or [message for _, message in messages] or [None])[0]
    try:
        store.finish_digest(
            digest_id,
            status,
            [(item.call.id, item.reasons) for item in items],
            first["Message-ID"] if first else "",
            first["Subject"] if first else "",
            str(done.path or ""),
            sent_at=run.now,
            error="; ".join(notes),
        )
    except StoreError as exc:
        error = f"delivered, but recording it failed ({exc}); it stays claimed, never resent"
        return DigestOutcome(
            department.id, week, DigestStatus.UNRECORDED, len(items), done.path, error
        )
    return DigestOutcome(department.id, week, status, len(items), done.path, "; ".join(notes))


def _links(run: _Run, digest_id: int | None) -> bool:
    """Whether this run can give a digest feedback links: the web app's address and its
    secret are known, and the digest is recorded (links name it; a dry run's would point at
    nothing)."""
    return bool(run.context.web_url and run.feedback_secret and digest_id is not None)


def _failed(
    run: _Run, department: Department, digest_id: int | None, failure: Exception | str
) -> DigestOutcome:
    """Record a digest nobody got as failed (the next run tries it again)."""
    error = failure if isinstance(failure, str) else error_text(failure)
    if digest_id is not None:
        run.store.finish_digest(digest_id, DigestStatus.FAILED, error=error)
    return DigestOutcome(department.id, run.week, DigestStatus.FAILED, error=error)


def _earlier_waiting(run: _Run, department: Department) -> list[DigestOutcome]:
    """Send what earlier weeks' digests still owe single recipients (their messages as
    built), so that nothing waits past the week it was meant for."""
    if run.dry_run:
        return []
    mailing = Mailing(run.store, run.sender, run.outbox, run.now)
    return [
        send_pending(mailing, digest, department.recipients)
        for digest in run.store.digests_waiting(department.id, run.week)
    ]


def _claimed_before(run: _Run, department: Department) -> DigestOutcome:
    """A department's digest of this week was claimed before: done, or left by a run that
    stopped while delivering it (runs never overlap, so a claim still open is such a one).

    A delivered digest whose message failed for some recipients is sent to them now.
    To the outbox, whether it was delivered is knowable: a file that is there is recorded
    as written (files appear whole or not at all), a missing one is written now. By SMTP it
    may have gone out: it stays undelivered, shown as stuck, until the coordinator says to
    send it again (`eufunds digest --retry`), with the same Message-ID as before (and with
    a message per recipient, only to those not recorded as having theirs).
    """
    store, week = run.store, run.week
    digest = store.digest_of(department.id, week)
    if digest is not None and digest.status in DELIVERED:
        mailing = Mailing(store, run.sender, run.outbox, run.now, run.dry_run)
        return send_pending(mailing, digest, department.recipients)
    if digest is None or digest.status != DigestStatus.CLAIMED:
        return DigestOutcome(department.id, week, DigestStatus.ALREADY_DONE)
    if run.sender is not None:
        message_id = digest_message_id(department.id, week, run.context.sender)
        error = (
            f"stuck since {digest.claimed_at:%Y-%m-%d %H:%M} UTC: a run stopped while sending "
            f"it, so it may have gone out (Message-ID {message_id}); if the mail server's log "
            f"shows it did not, send it with: eufunds digest --retry {department.id}"
        )
        return DigestOutcome(department.id, week, DigestStatus.STUCK, error=error)
    personal = bool(store.digest_deliveries(digest.id)) or _links(run, digest.id)
    paths = (
        [recipient_path(run.outbox, week, department.id, r) for r in department.recipients]
        if personal
        else [outbox_path(run.outbox, week, department.id)]
    )
    if not all(path.exists() for path in paths):
        store.reclaim_digest(digest.id, run.now)
        return _deliver_claimed(run, department, digest.id)
    written = read_outbox(paths[0])
    items = _written_items(written)
    if items is None:
        shown, _ = _prepare(run, department, [], digest.id, build=False)
        items = [(item.call.id, item.reasons) for item in shown]
    store.finish_digest(
        digest.id,
        DigestStatus.WRITTEN,
        items,
        written["Message-ID"],
        written["Subject"],
        str(paths[0]),
        sent_at=run.now,
        error="recorded after an interrupted run had written it",
    )
    return DigestOutcome(department.id, week, DigestStatus.WRITTEN, len(items), paths[0])


def _written_items(message: EmailMessage) -> list[tuple[str, tuple[str, ...]]] | None:
    """The calls a written digest shows and why (its items header); None when it has none
    (written by an older version) or it cannot be read."""
    header = message.get(ITEMS_HEADER)
    try:
        return [(str(call_id), tuple(reasons)) for call_id, reasons in json.loads(str(header))]
    except (TypeError, ValueError):
        return None


def _prepare(
    run: _Run,
    department: Department,
    recipients: Sequence[str],
    digest_id: int | None,
    build: bool = True,
) -> tuple[list[DigestItem], list[tuple[str, EmailMessage]] | None]:
    """This week's items for a department and its messages, one per recipient given (""
    for one message to all); None when empty and not wanted, or not asked for."""
    store, now = run.store, run.now
    matches = store.matches(department.id)
    calls = store.calls_by_id([m.call_id for m in matches])
    before = run.week if run.preview else ""
    items, shown = week_items(
        store, department, matches, calls, now, run.context.calibrated, before
    )
    coordinator = run.context.coordinator_email in department.recipients
    problems = run.source_problems if coordinator else ()
    if not build or (not items and not problems and not department.send_empty_digest):
        return shown, None
    messages = []
    for recipient in recipients:
        links = (
            _feedback_links(run, digest_id, recipient)
            if recipient and _links(run, digest_id)
            else None
        )
        digest = build_digest(department, items, now, run.context, problems, recipient, links)
        messages.append((recipient, digest))
    return shown, messages


def _feedback_links(run: _Run, digest_id: int | None, recipient: str) -> FeedbackLink:
    """Links that record one recipient's verdict on a call of this digest in the web app."""
    assert digest_id is not None

    def link(call_id: str, verdict: str) -> str:
        token = feedback_token(run.feedback_secret, digest_id, call_id, recipient, verdict, run.now)
        return f"{run.context.web_url.rstrip('/')}/aterkoppling/{token}"

    return link
