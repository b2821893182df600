"""How the application pages show an application: amounts the Swedish way in kronor and
euro, the edit form's values, the pipeline's groups and each change of the history in
words. Pure: records in, text out."""

from __future__ import annotations

import json
from typing import Any

from db.records import (
    APPLICATION_FIELDS,
    APPLICATION_STATE_NAMES,
    Application,
    ApplicationEvent,
)

# Every editable field as the pages name it.
FIELD_NAMES = {
    "state": "Läge",
    "department_id": "Ansvarig avdelning",
    "currency": "Valuta",
    "applied_amount": "Sökt belopp",
    "granted_amount": "Beviljat belopp",
    "sek_per_eur": "Kurs (kronor per euro)",
    "partners": "Partner",
    "departments": "Övriga avdelningar",
    "submitted_on": "Inlämnad den",
    "decided_on": "Beslut den",
    "notes": "Anteckningar",
}
UNITS = {"SEK": "kr", "EUR": "€"}
NOTHING = "–"


def whole(number: float) -> str:
    """A whole number with a space between thousands: 1 250 000."""
    return f"{round(number):,}".replace(",", " ")


def rate_text(rate: float | None) -> str:
    """A rate of kronor per euro with a decimal comma: 11,2."""
    return "" if rate is None else f"{rate:g}".replace(".", ",")


def amounts(application: Application, amount: int | None) -> list[str]:
    """An amount of an application in kronor, then euro, as far as its rate allows
    ("1 250 000 kr", "111 607 €"); empty when it is not given."""
    shown = []
    for currency, unit in UNITS.items():
        value = application.amount_in(amount, currency)
        if value is not None:
            shown.append(f"{whole(value)} {unit}")
    return shown


def form_values(application: Application) -> dict[str, Any]:
    """The edit form filled with an application as it is."""
    return {
        "state": application.state,
        "department_id": application.department_id,
        "currency": application.currency,
        "applied_amount": _amount_text(application.applied_amount),
        "granted_amount": _amount_text(application.granted_amount),
        "sek_per_eur": rate_text(application.sek_per_eur),
        "partners": "\n".join(application.partners),
        "departments": list(application.departments),
        "submitted_on": application.submitted_on,
        "decided_on": application.decided_on,
        "notes": application.notes,
        "note": "",
    }


def grouped(applications: list[Application]) -> list[tuple[str, list[Application]]]:
    """Applications by state, every state in pipeline order (an empty one too)."""
    return [
        (state, [a for a in applications if a.state == state]) for state in APPLICATION_STATE_NAMES
    ]


def event_changes(event: ApplicationEvent, names: dict[str, str]) -> list[tuple[str, str, str]]:
    """What one event changed, in field order: (field name, before, after) in words."""
    return [
        (FIELD_NAMES[field], _shown(field, old, names), _shown(field, new, names))
        for field in APPLICATION_FIELDS
        if field in event.changes
        for old, new in [event.changes[field]]
    ]


def _shown(field: str, value: Any, names: dict[str, str]) -> str:
    """A value as the history stores it (the column's value) in words."""
    if field in ("partners", "departments") and isinstance(value, str):
        value = ", ".join(names.get(v, v) if field == "departments" else v for v in _list(value))
    if value is None or value == "":
        return NOTHING
    if field == "state":
        return APPLICATION_STATE_NAMES.get(value, value)
    if field == "department_id":
        return names.get(value, value)
    if field in ("applied_amount", "granted_amount") and isinstance(value, int | float):
        return whole(value)
    if field == "sek_per_eur" and isinstance(value, int | float):
        return rate_text(value)
    return str(value)


def _list(text: str) -> list[str]:
    try:
        items = json.loads(text)
    except ValueError:
        return [text]
    return [str(item) for item in items] if isinstance(items, list) else [text]


def _amount_text(amount: int | None) -> str:
    return "" if amount is None else whole(amount)
