"""The application pipeline's rules: which edits the coordinator may make, checked before the
store applies them. Pure: form text in, typed changes or Swedish problems out."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from db.records import (
    APPLICATION_MOVES,
    APPLICATION_STATE_NAMES,
    CURRENCIES,
    Application,
    ApplicationState,
)

# Amounts are whole kronor or euro; no municipal project comes near this.
MAX_AMOUNT = 10**11
# A plausible rate of kronor per euro (it has stayed within 8-12 since the euro began).
RATE_RANGE = (1.0, 100.0)
MAX_PARTNERS = 50
MAX_NOTES = 5000


def parse_application_form(
    current: Application, form: Mapping[str, str], departments: Sequence[str]
) -> tuple[dict, list[str]]:
    """The changes an edit form asks for, typed, and what is wrong with it (Swedish, one line
    per problem; no changes are given when there is any problem)."""
    problems: list[str] = []
    changes: dict = {}
    state = form.get("state", current.state)
    if state != current.state:
        problems += move_problems(current.state, state)
        changes["state"] = state
    lead = form.get("department_id", current.department_id)
    if lead not in departments:
        problems.append(f"Okänd avdelning: {lead}.")
    changes["department_id"] = lead
    currency = form.get("currency", current.currency)
    if currency not in CURRENCIES:
        problems.append(f"Valutan ska vara {' eller '.join(CURRENCIES)}.")
    changes["currency"] = currency
    for name, label in (("applied_amount", "Sökt belopp"), ("granted_amount", "Beviljat belopp")):
        amount, problem = _amount(form.get(name, ""), label)
        changes[name] = amount
        problems += problem
    rate, problem = _rate(form.get("sek_per_eur", ""))
    changes["sek_per_eur"] = rate
    problems += problem
    partners = _lines(form.get("partners", ""))
    if len(partners) > MAX_PARTNERS:
        problems.append(f"Högst {MAX_PARTNERS} partner.")
    changes["partners"] = tuple(partners)
    others = [d for d in _lines(form.get("departments", "")) if d != lead]
    unknown = [d for d in others if d not in departments]
    if unknown:
        problems.append(f"Okänd avdelning: {', '.join(unknown)}.")
    changes["departments"] = tuple(dict.fromkeys(others))
    for name, label in (("submitted_on", "Inlämnad den"), ("decided_on", "Beslut den")):
        day, problem = _day(form.get(name, ""), label)
        changes[name] = day
        problems += problem
    notes = form.get("notes", "").strip()
    if len(notes) > MAX_NOTES:
        problems.append(f"Anteckningarna får vara högst {MAX_NOTES} tecken.")
    changes["notes"] = notes
    return ({} if problems else changes), problems


def move_problems(current: str, new: str) -> list[str]:
    """Why the pipeline does not allow moving from one state to another (empty: allowed)."""
    try:
        target = ApplicationState(new)
    except ValueError:
        return [f"Okänt läge: {new}."]
    if target in APPLICATION_MOVES[ApplicationState(current)]:
        return []
    allowed = ", ".join(APPLICATION_STATE_NAMES[s] for s in APPLICATION_MOVES[current])
    return [
        f"Från {APPLICATION_STATE_NAMES[ApplicationState(current)]} går det inte att gå till "
        f"{APPLICATION_STATE_NAMES[target]} (bara till {allowed})."
    ]


def _amount(text: str, label: str) -> tuple[int | None, list[str]]:
    """A whole amount written the Swedish way ("1 250 000", "1250000", "1 250 000 kr")."""
    cleaned = re.sub(r"[\s\u00a0\u202f]|kr|sek|eur|€", "", text.strip().lower())
    if not cleaned:
        return None, []
    if not cleaned.isdigit():
        return None, [f"{label} ska vara ett heltal, t.ex. 1 250 000."]
    amount = int(cleaned)
    if amount > MAX_AMOUNT:
        return None, [f"{label} är orimligt stort."]
    return amount, []


def _rate(text: str) -> tuple[float | None, list[str]]:
    cleaned = text.strip().replace(",", ".")
    if not cleaned:
        return None, []
    try:
        rate = float(cleaned)
    except ValueError:
        return None, ["Kursen ska vara ett tal, kronor per euro, t.ex. 11,20."]
    if not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        return None, ["Kursen ska vara kronor per euro, t.ex. 11,20."]
    return rate, []


def _day(text: str, label: str) -> tuple[str, list[str]]:
    cleaned = text.strip()
    if not cleaned:
        return "", []
    try:
        return date.fromisoformat(cleaned).isoformat(), []
    except ValueError:
        return "", [f"{label} ska vara ett datum, ÅÅÅÅ-MM-DD."]


def _lines(text: str) -> list[str]:
    """One name per line (or comma), blanks and repeats dropped, order kept."""
    names = [part.strip() for part in re.split(r"[\n,;]", text)]
    return list(dict.fromkeys(name[:200] for name in names if name))
