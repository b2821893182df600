"""When calls close: deadlines that name a day or a moment, the next one, whether a call
can still be applied for, and a status from dates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from db.records import Call, CallStatus

# A deadline at exactly midnight UTC is a date without a time of day (the portal's way of
# giving "1 December 2027"; the real hour is usually 17:00 Brussels time). Such a call can
# still be applied for during that whole day.


def is_date_only(deadline: datetime) -> bool:
    """The deadline is a date: exactly midnight UTC."""
    utc = deadline.astimezone(UTC)
    return (utc.hour, utc.minute, utc.second, utc.microsecond) == (0, 0, 0, 0)


def named_day(deadline: datetime) -> date | None:
    """The day a deadline names when it names a day rather than a moment: a date-only
    deadline (midnight UTC), or the end of a day in UTC (23:59, as cascade calls give it,
    which in Swedish time falls on the next day); None for a moment."""
    utc = deadline.astimezone(UTC)
    if is_date_only(deadline) or (utc.hour, utc.minute) == (23, 59):
        return utc.date()
    return None


def deadline_end(deadline: datetime) -> datetime:
    """When a deadline has passed: its moment, or the end of its day when date-only."""
    return deadline + timedelta(days=1) if is_date_only(deadline) else deadline


def upcoming_deadlines(deadlines: Sequence[datetime], now: datetime) -> list[datetime]:
    """The deadlines that have not passed at ``now``, earliest first."""
    return sorted(d for d in deadlines if deadline_end(d) >= now)


def next_deadline(deadlines: Sequence[datetime], now: datetime) -> datetime | None:
    """The first deadline that has not passed at ``now``."""
    upcoming = upcoming_deadlines(deadlines, now)
    return upcoming[0] if upcoming else None


def listed_next_deadline(deadlines: Sequence[datetime], now: datetime) -> datetime | None:
    """The deadline to list a call by: the next one, or the last when all have passed."""
    return next_deadline(deadlines, now) or max(deadlines, default=None)


def status_by_dates(opening: datetime | None, deadlines: Sequence[datetime], now: datetime) -> str:
    """A call's status judged by its dates alone: closed once every deadline has passed,
    forthcoming until it opens, else open."""
    if deadlines and not upcoming_deadlines(deadlines, now):
        return CallStatus.CLOSED
    if opening is not None and opening > now:
        return CallStatus.FORTHCOMING
    return CallStatus.OPEN


def still_open(call: Call, now: datetime | None) -> bool:
    """A call can still be applied for: not closed, and a deadline ahead (or none known)."""
    if call.status == CallStatus.CLOSED:
        return False
    if now is None or not call.deadlines:
        return True
    return any(deadline_end(deadline) >= now for deadline in call.deadlines)
