"""A department's digest items of a week: what its digest would hold and show, from its
matches and what earlier digests sent (used by the digests and by profile previews)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from db import Call, Match, Store
from db.records import Department, DigestItem
from notifier.sections import shown_items
from notifier.selection import select_items


def week_items(
    store: Store,
    department: Department,
    matches: Sequence[Match],
    calls: Mapping[str, Call],
    now: datetime,
    calibrated: bool,
    before_week: str = "",
) -> tuple[list[DigestItem], list[DigestItem]]:
    """A department's items this week from these matches, and those its digest shows: what
    it shows is what it records as sent, so calls past a section's cap stay unsent and may
    come in a later week. ``before_week``: count only digests of earlier weeks (a preview)."""
    history = store.digest_history(department.id, before_week=before_week)
    # Changes since each call was last sent (the oldest such moment bounds the query).
    sent = [history.call_sent_at[m.call_id] for m in matches if m.call_id in history.call_sent_at]
    changes = store.changes_since([m.call_id for m in matches], min(sent)) if sent else {}
    items = select_items(matches, calls, history, changes, now, department.lead_time_days)
    return items, shown_items(items, now, department.min_score, calibrated)
