"""Fields of an EU Funding & Tenders portal search result read into typed values: the
titles, the deadlines and the budget overview. Pure: the spider (spiders/ft_portal.py)
calls them per result and notes what they could not read."""

from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple

from crawler.fields import count, euros, first, portal_date, text


class Budget(NamedTuple):
    """A topic's budget as its overview gives it (EUR), with why it could not be read."""

    budget: int | None
    grants: int | None
    readable: bool
    grant_range: tuple[int | None, int | None]
    problem: str = ""


def titles(row: dict, metadata: dict, kind: str) -> tuple[str, str]:
    """Parse the call's own title and the title of the call (or topic) it belongs to.

    A cascade-funding row carries its parent topic's title in ``title`` and its own
    name in ``callTitle``; staff need the cascade call's own name.
    """
    summary = text(row.get("summary"))
    topic_title = first(metadata, "title") or summary
    call_title = first(metadata, "callTitle")
    if kind == "cascade" and (call_title or summary):
        return call_title or summary, topic_title
    return topic_title, call_title


def deadlines(metadata: dict) -> list[datetime] | None:
    """Parse all deadlines as aware UTC datetimes, earliest first; None when any of them
    is no date (then none is taken: a partial list would misstate the next deadline)."""
    given = metadata.get("deadlineDate")
    if given is None:
        return []
    if not isinstance(given, list):
        return None
    parsed = [portal_date(value) for value in given]
    if None in parsed:
        return None
    return sorted(set(parsed))


def budget(metadata: dict, identifier: str) -> Budget:
    """This topic's budget in EUR, expected grants and the smallest and largest grant one
    project may get, from budgetOverview; and whether it could be read (a truncated
    overview, or amounts that are no plausible sums, cannot), with why not."""
    nothing = (None, None)
    overview_text = first(metadata, "budgetOverview")
    if not overview_text or not identifier:
        return Budget(None, None, True, nothing)
    try:
        overview = json.loads(overview_text)
        actions = [
            action
            for group in (overview.get("budgetTopicActionMap") or {}).values()
            for action in group
            if str(action.get("action", "")).split(" - ")[0].strip() == identifier
        ]
        amounts = [a for action in actions for a in (action.get("budgetYearMap") or {}).values()]
        grants = [a.get("expectedGrants") for a in actions if a.get("expectedGrants") is not None]
        lows = [a.get("minContribution") for a in actions if a.get("minContribution")]
        highs = [a.get("maxContribution") for a in actions if a.get("maxContribution")]
    except (ValueError, TypeError, AttributeError, KeyError):
        return Budget(None, None, False, nothing, f"{identifier}: budget overview unreadable")
    if not actions:
        return Budget(None, None, True, nothing)
    total, counts = euros(amounts), [count(g) for g in grants]
    # Amounts that are no amounts are left out: the range is a help, not a sum.
    low = min(filter(None, (euros([a]) for a in lows)), default=None)
    high = max(filter(None, (euros([a]) for a in highs)), default=None)
    if total is None or None in counts:
        problem = f"{identifier}: budget overview holds amounts that are no sums"
        return Budget(None, None, False, nothing, problem)
    return Budget(total or None, (sum(counts) if counts else None), True, (low, high))
