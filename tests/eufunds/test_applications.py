"""The pipeline's rules for the coordinator's edits: moves, amounts, rates, dates, names."""

from __future__ import annotations

from datetime import UTC, datetime

from db.records import APPLICATION_MOVES, Application, ApplicationState
from eufunds.applications import move_problems, parse_application_form

NOW = datetime(2026, 9, 1, 8, tzinfo=UTC)
DEPARTMENTS = ("social", "culture", "education")


def _application(**changes) -> Application:
    fields = {
        "id": 1,
        "call_id": "ft_portal/TEST-1",
        "department_id": "social",
        "state": ApplicationState.INTEREST,
        "opened_by": "a@x.se",
        "opened_at": NOW,
        "updated_at": NOW,
    }
    return Application(**(fields | changes))


def test_every_state_can_be_reached_and_decisions_need_a_submission():
    """From interest every state is reachable; granted and rejected only from submitted."""
    reached, frontier = {ApplicationState.INTEREST}, [ApplicationState.INTEREST]
    while frontier:
        for target in APPLICATION_MOVES[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(ApplicationState)
    assert move_problems("interest", "granted")
    assert move_problems("preparing", "rejected")
    assert move_problems("submitted", "granted") == []
    assert "bara till Förbereder, Avstått" in move_problems("interest", "granted")[0]
    assert move_problems("interest", "bogus") == ["Okänt läge: bogus."]


def test_a_full_form_is_read_the_swedish_way():
    changes, problems = parse_application_form(
        _application(state=ApplicationState.SUBMITTED),
        {
            "state": "granted",
            "department_id": "culture",
            "currency": "EUR",
            "applied_amount": "1 250 000",
            "granted_amount": "1\u00a0000\u00a0000 €",
            "sek_per_eur": "11,20",
            "partners": "Bodø\nKuopio, Svendborg\nKuopio\n",
            "departments": "social\nculture",
            "submitted_on": "2026-09-15",
            "decided_on": "2027-01-20",
            "notes": "  Koordinator: Kuopio  ",
        },
        DEPARTMENTS,
    )
    assert problems == []
    assert changes == {
        "state": "granted",
        "department_id": "culture",
        "currency": "EUR",
        "applied_amount": 1_250_000,
        "granted_amount": 1_000_000,
        "sek_per_eur": 11.2,
        "partners": ("Bodø", "Kuopio", "Svendborg"),
        "departments": ("social",),
        "submitted_on": "2026-09-15",
        "decided_on": "2027-01-20",
        "notes": "Koordinator: Kuopio",
    }


def test_bad_values_are_named_and_nothing_is_changed():
    changes, problems = parse_application_form(
        _application(),
        {
            "state": "granted",
            "department_id": "nowhere",
            "currency": "USD",
            "applied_amount": "12,5 miljoner",
            "sek_per_eur": "0,09",
            "submitted_on": "15/9",
        },
        DEPARTMENTS,
    )
    assert changes == {}
    assert len(problems) == 6
    assert any("Okänd avdelning: nowhere" in p for p in problems)
    assert any("Sökt belopp ska vara ett heltal" in p for p in problems)
    assert any("Kursen" in p for p in problems)
    assert any("ÅÅÅÅ-MM-DD" in p for p in problems)


def test_amounts_convert_with_the_rate_used_or_not_at_all():
    application = _application(currency="EUR", applied_amount=100_000, sek_per_eur=11.5)
    assert application.amount_in(application.applied_amount, "SEK") == 1_150_000
    assert application.amount_in(application.applied_amount, "EUR") == 100_000
    no_rate = _application(currency="SEK", granted_amount=500_000)
    assert no_rate.amount_in(no_rate.granted_amount, "EUR") is None
    assert no_rate.amount_in(no_rate.granted_amount, "SEK") == 500_000
    assert no_rate.amount_in(None, "SEK") is None
