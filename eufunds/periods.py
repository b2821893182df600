"""Periods the statistics are computed for: a quarter, a month, a year, or all the time.

A period runs from midnight of its first day to midnight after its last, in Swedish time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from db.records import LOCAL_TZ, SWEDISH_MONTHS

FIRST_YEAR, LAST_YEAR = 2000, 2099
PERIOD_PATTERN = re.compile(r"^(\d{4})(?:-Q([1-4])|-(\d{2}))?$")


class PeriodError(ValueError):
    """A period that is none of YYYY-Qn, YYYY-MM and YYYY."""


@dataclass(frozen=True)
class Period:
    """A span of time statistics are counted over; no start and end: all the time."""

    key: str
    label: str
    start: datetime | None = None
    end: datetime | None = None

    def holds(self, moment: datetime | None) -> bool:
        """Whether a moment falls in the period (a missing moment falls in all the time only)."""
        if moment is None:
            return self.start is None and self.end is None
        return (self.start is None or moment >= self.start) and (
            self.end is None or moment < self.end
        )

    def span(self) -> str:
        """The first and last day, as staff read them ("2026-07-01 – 2026-09-30")."""
        if self.start is None or self.end is None:
            return "hela tiden"
        last = datetime.fromordinal(self.end.toordinal() - 1)
        return f"{self.start:%Y-%m-%d} – {last:%Y-%m-%d}"


ALL_TIME = Period("", "hela tiden")


def parse_period(text: str) -> Period:
    """A period from YYYY-Qn (a quarter), YYYY-MM (a month) or YYYY (a year)."""
    found = PERIOD_PATTERN.match(text.strip())
    year = int(found.group(1)) if found else 0
    quarter, month = (found.group(2), found.group(3)) if found else (None, None)
    if not found or not FIRST_YEAR <= year <= LAST_YEAR or (month and not 1 <= int(month) <= 12):
        raise PeriodError(
            f"expected a period like 2026-Q3 (a quarter), 2026-08 (a month) or 2026 (a year), "
            f"from {FIRST_YEAR} to {LAST_YEAR}; got {text!r}"
        )
    if quarter:
        first = (int(quarter) - 1) * 3 + 1
        label = f"kvartal {quarter} {year}"
        return Period(f"{year}-Q{quarter}", label, _day(year, first), _day(year, first + 3))
    if month:
        return month_period(year, int(month))
    return Period(str(year), str(year), _day(year, 1), _day(year + 1, 1))


def month_period(year: int, month: int) -> Period:
    """One calendar month ("augusti 2026")."""
    return Period(
        f"{year}-{month:02d}",
        f"{SWEDISH_MONTHS[month - 1]} {year}",
        _day(year, month),
        _day(year, month + 1),
    )


def previous_month(now: datetime) -> Period:
    """The calendar month before the one ``now`` falls in (Swedish time)."""
    local = now.astimezone(LOCAL_TZ)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return month_period(year, month)


def _day(year: int, month: int) -> datetime:
    """Midnight in Swedish time on the first of a month (month 13 is January next year)."""
    if month > 12:
        year, month = year + 1, month - 12
    return datetime(year, month, 1, tzinfo=LOCAL_TZ)
