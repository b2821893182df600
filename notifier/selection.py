"""Which matched calls go into a department's digest this week, and why. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from db.deadlines import next_deadline, still_open
from db.records import Call, CallChange, DigestHistory, DigestItem, DigestReason, Match

NEWS_FIELDS = ("deadlines", "status", "title", "opening_date", "budget_eur")


def select_items(
    matches: Sequence[Match],
    calls: Mapping[str, Call],
    history: DigestHistory,
    changes: Mapping[str, Sequence[CallChange]],
    now: datetime,
    lead_time_days: int,
) -> list[DigestItem]:
    """Matches not yet sent, matched calls that changed since the last digest, and calls
    closing within the lead time that were not yet announced as closing soon.

    Closing soon first (soonest deadline first), then by match score.
    """
    soon = now + timedelta(days=lead_time_days)
    items = []
    for match in matches:
        call = calls.get(match.call_id)
        if call is None or not still_open(call, now):
            continue
        reasons = []
        news = []
        if call.id not in history.sent_call_ids:
            reasons.append(DigestReason.NEW)
        else:
            sent = history.call_sent_at.get(call.id)
            news = [
                c
                for c in changes.get(call.id, ())
                if c.field in NEWS_FIELDS and (sent is None or c.changed_at > sent)
            ]
            if news:
                reasons.append(DigestReason.CHANGED)
        deadline = next_deadline(call.deadlines, now)
        if deadline and deadline <= soon and call.id not in history.closing_soon_sent:
            reasons.append(DigestReason.CLOSING_SOON)
        if reasons:
            items.append(DigestItem(call, match, tuple(reasons), tuple(news)))

    def order(item: DigestItem) -> tuple:
        closing = DigestReason.CLOSING_SOON in item.reasons
        deadline = next_deadline(item.call.deadlines, now) if closing else None
        return (not closing, deadline or now, -item.match.score, item.call.id)

    return sorted(items, key=order)
