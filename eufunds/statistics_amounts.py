"""Amounts applied for and granted, in kronor, per department, programme and year; and
numbers written the Swedish way. Part of the statistics (eufunds/statistics.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from db.records import LOCAL_TZ, Application, ApplicationState
from eufunds.periods import Period

NO_PROGRAMME = "(program saknas)"
# States of an application that was handed in: its amount applied for counts.
HANDED_IN = (ApplicationState.SUBMITTED, ApplicationState.GRANTED, ApplicationState.REJECTED)


def swedish_number(value: float | None, decimals: int = 0) -> str:
    """A number as Swedish text: a decimal comma, and from 10 000 up a (no-break) space
    between thousands (a year stays 2026)."""
    if value is None:
        return ""
    grouping = "," if abs(value) >= 10_000 else ""
    return f"{value:{grouping}.{decimals}f}".replace(",", "\u00a0").replace(".", ",")


def cell_text(value: object) -> str:
    """A table cell as the page and the report show it: numbers the Swedish way, a dash
    for nothing."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, float):
        return swedish_number(value, 1)
    if isinstance(value, int):
        return swedish_number(value)
    return str(value)


def amount_rows(
    applications: list[tuple[Application, str]], names: dict[str, str], period: Period
) -> tuple[list[tuple], int]:
    """Rows (department, programme, year, applied SEK, granted SEK, amounts without a rate)
    and how many amounts in the period could not be turned into kronor.

    An amount applied for counts in the year the application was handed in (else opened),
    once it was; an amount granted in the year of the decision (else the hand-in), once
    granted. Amounts in euro are turned into kronor with the application's own rate.
    """
    sums: dict[tuple[str, str, int], list] = defaultdict(lambda: [0.0, 0.0, 0])
    unconverted = 0
    for application, programme in applications:
        for index, amount, day in _amounts(application):
            if amount is None or not period.holds(_midnight(day)):
                continue
            key = (application.department_id, programme or NO_PROGRAMME, day.year)
            kronor = application.amount_in(amount, "SEK")
            if kronor is None:
                sums[key][2] += 1
                unconverted += 1
            else:
                sums[key][index] += kronor
    order = {department_id: n for n, department_id in enumerate(names)}
    rows = [
        (
            names.get(department_id, department_id),
            programme,
            year,
            round(applied),
            round(granted),
            missing,
        )
        for (department_id, programme, year), (applied, granted, missing) in sorted(
            sums.items(),
            key=lambda item: (order.get(item[0][0], len(order)), item[0][2], item[0][1]),
        )
    ]
    return rows, unconverted


def _amounts(application: Application) -> list[tuple[int, int | None, date]]:
    """(0 for applied or 1 for granted, the amount as entered, the day it counts on)."""
    opened = application.opened_at.astimezone(LOCAL_TZ).date()
    handed_in = _day(application.submitted_on) or opened
    found = []
    if application.state in HANDED_IN or application.submitted_on:
        found.append((0, application.applied_amount, handed_in))
    if application.state == ApplicationState.GRANTED:
        found.append((1, application.granted_amount, _day(application.decided_on) or handed_in))
    return found


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)
