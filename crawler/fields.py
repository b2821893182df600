"""Reading values out of a source's JSON, where any value may have any type or size.

Each reader gives the value in the form the call needs, or an empty or None value when the
source gave something else; a value out of any plausible range counts as unreadable.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

# Dates a funding call can have: as for dates given on the command line.
FIRST_YEAR, LAST_YEAR = 2000, 2099
# More euros than any call is for: a larger amount is a mistake, not a budget.
MAX_EUR = 10**13


def values(metadata: dict, key: str) -> list:
    """The values of a key: a list as the portal gives them, or one value as a list (null and
    empty text are none)."""
    found = metadata.get(key)
    if found is None or found == "":
        return []
    return [value for value in (found if isinstance(found, list) else [found]) if value is not None]


def first(metadata: dict, key: str) -> str:
    """The first value of a key as text; empty when there is none."""
    found = values(metadata, key)
    return text(found[0]) if found else ""


def text(value: Any) -> str:
    """A value as text: text as it is, a number written out, anything else empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def portal_date(value: Any) -> datetime | None:
    """Parse a portal date ('2027-08-04T00:00:00.000+0000') as an aware UTC datetime; None
    for anything else, or a date outside the years a call can have."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("+0000", "+00:00").replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment if FIRST_YEAR <= moment.year <= LAST_YEAR else None


def iso_date(value: Any, naive_zone: tzinfo) -> datetime | None:
    """Parse an ISO 8601 date or time as an aware UTC datetime; a time without an offset is
    in ``naive_zone``, a date alone is that date (midnight UTC, the date-only convention);
    None for anything else or a date outside the years a call can have."""
    if not isinstance(value, str) or not value.strip():
        return None
    text_value = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text_value)
        if len(text_value) == 10:  # a date alone
            moment = moment.replace(tzinfo=UTC)
        elif moment.tzinfo is None:
            moment = moment.replace(tzinfo=naive_zone)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment if FIRST_YEAR <= moment.year <= LAST_YEAR else None


def euros(amounts: list[Any]) -> int | None:
    """The sum of amounts in euros, or None when any is no plausible amount."""
    total = 0
    for amount in amounts:
        if isinstance(amount, bool):
            return None
        try:
            value = round(float(amount))
        except (TypeError, ValueError, OverflowError):
            return None
        if not 0 <= value <= MAX_EUR:
            return None
        total += value
    return total if total <= MAX_EUR else None


def count(value: Any) -> int | None:
    """A whole, non-negative count (of results, of grants); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or value < 0 or value > MAX_EUR or int(value) != value:
        return None
    return int(value)
