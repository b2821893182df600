"""Dates and statuses as Swedish and English web pages write them.

"13 augusti 2026", "2026-08-13 kl. 14.00", "senast 1 oktober" (no year: the next 1 October),
"15 October 2026", "October 15, 2026"; a time of day is Swedish time, a date alone is that
date (midnight UTC, the date-only convention). "Öppen", "Kommande", "Stängd" and their
English words are statuses.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from crawler.fields import FIRST_YEAR, LAST_YEAR
from db.records import LOCAL_TZ, SWEDISH_MONTHS, CallStatus

ENGLISH_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_MONTHS = {name: n for names in (SWEDISH_MONTHS, ENGLISH_MONTHS) for n, name in enumerate(names, 1)}
_MONTHS |= {name[:3]: n for name, n in list(_MONTHS.items())}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TIME = r"(?:,?\s*(?:kl\.?|klockan|at)?\s*(\d{1,2})[.:](\d{2}))?"
_PATTERNS = (
    # 2026-08-13, 2026-08-13 kl. 14.00, 2026-08-13T14:00
    re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:\s*kl\.?\s*|[T ])?(?:(\d{1,2})[.:](\d{2}))?"),
    # 13 augusti 2026, 1 oktober (no year), 15 October 2026 at 17:00
    re.compile(rf"\b(\d{{1,2}})\.?\s+({_MONTH})\.?(?:\s+(\d{{4}}))?{_TIME}", re.IGNORECASE),
    # October 15, 2026
    re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}}),?\s+(\d{{4}}){_TIME}", re.IGNORECASE),
)
# Words before a date that make it the deadline.
_DEADLINE = re.compile(
    r"(sista\s+ans[öo]kningsdag(?:en)?|ans[öo]k\s+senast|senast|stänger|deadline|closes?(?:\s+on)?"
    r"|closing\s+date|apply\s+by|submission\s+deadline)\s*(?:är|is|:)?\s*",
    re.IGNORECASE,
)
STATUS_WORDS = {
    "öppen": CallStatus.OPEN,
    "öppna": CallStatus.OPEN,
    "pågående": CallStatus.OPEN,  # Tillväxtverket's word for a call open now
    "open": CallStatus.OPEN,
    "kommande": CallStatus.FORTHCOMING,
    "forthcoming": CallStatus.FORTHCOMING,
    "upcoming": CallStatus.FORTHCOMING,
    "stängd": CallStatus.CLOSED,
    "stängda": CallStatus.CLOSED,
    "closed": CallStatus.CLOSED,
}


def written_date(text: str, now: datetime) -> datetime | None:
    """The first date written in a text, as an aware UTC datetime; None when there is none
    (or it is no real date, or outside the years a call can have)."""
    found = _first_match(text)
    if found is None:
        return None
    year, month, day, hour, minute = found
    if year is None:  # "1 oktober": the next such day from today
        today = now.astimezone(LOCAL_TZ).date()
        year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    return _moment(year, month, day, hour, minute)


def formatted_date(text: str, date_format: str, now: datetime) -> datetime | None:
    """A date written in a source's own format (strptime, e.g. "%d/%m/%Y %H:%M"), read as
    the other written dates are (a time of day is Swedish time); else as pages write dates."""
    if date_format:
        try:
            found = datetime.strptime(text.strip(), date_format)
        except ValueError:
            found = None
        if found is not None:
            timed = any(code in date_format for code in ("%H", "%I", "%M"))
            return _moment(
                found.year,
                found.month,
                found.day,
                found.hour if timed else None,
                found.minute if timed else None,
            )
    return written_date(text, now)


def deadline_in(text: str, now: datetime) -> datetime | None:
    """The deadline a text states ("Sista ansökningsdag: 13 augusti 2026", "Deadline 15
    October 2026"): the first date after a deadline word; None when it states none."""
    for match in _DEADLINE.finditer(text):
        moment = written_date(text[match.end() : match.end() + 60], now)
        if moment is not None:
            return moment
    return None


def deadline_unreadable(text: str, now: datetime) -> bool:
    """The text states a deadline in the form of a date that is no date ("Sista
    ansökningsdag: 31 februari 2026"), and no other deadline that is one."""
    if deadline_in(text, now) is not None:
        return False
    return any(
        _first_match(text[match.end() : match.end() + 60]) is not None
        for match in _DEADLINE.finditer(text)
    )


def written_status(text: str) -> str | None:
    """The status a word states (Öppen, Kommande, Stängd, Open...), or None."""
    return STATUS_WORDS.get(text.strip().lower().rstrip(".:"))


def _first_match(text: str) -> tuple[int | None, int, int, int | None, int | None] | None:
    """(year, month, day, hour, minute) of the earliest date written in the text."""
    earliest = None
    for number, pattern in enumerate(_PATTERNS):
        match = pattern.search(text)
        if match and (earliest is None or match.start() < earliest[0]):
            earliest = (match.start(), number, match.groups())
    if earliest is None:
        return None
    _, number, groups = earliest
    if number == 0:
        year, month, day, hour, minute = groups
    elif number == 1:
        day, month, year, hour, minute = groups
    else:
        month, day, year, hour, minute = groups
    month = int(month) if month.isdigit() else _MONTHS[month.lower().rstrip(".")]
    return (
        int(year) if year else None,
        month,
        int(day),
        int(hour) if hour else None,
        int(minute) if minute else None,
    )


def _moment(
    year: int, month: int, day: int, hour: int | None, minute: int | None
) -> datetime | None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        if hour is None:
            return datetime(year, month, day, tzinfo=UTC)
        return datetime(year, month, day, hour, minute or 0, tzinfo=LOCAL_TZ).astimezone(UTC)
    except ValueError:
        return None
