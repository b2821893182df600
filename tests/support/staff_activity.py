"""Staff activity for statistics tests: feedback on week 34's digest items and applications
moving through the pipeline, written through the store's own methods (the week-34
database has digests but no feedback or applications).

What is written (hand-chosen so that periods split it):
- feedback in August 2026 on the first five items of Socialförvaltningen's digest (three
  relevant, one not relevant, one "vi vill söka") and in September on two of the
  energy company's (both not relevant);
- four applications: social's granted in November after being handed in (1 000 000 kr)
  in September, 800 000 kr granted; environment's handed in in August for 200 000 euro at
  11,50 kr and rejected in October; culture's handed in in September for 50 000 euro with
  no rate (it cannot be turned into kronor); and social's second, opened and withdrawn in
  September.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db import Store
from db.records import LOCAL_TZ, ApplicationState, Feedback, Verdict

AUGUST = datetime(2026, 8, 24, 9, tzinfo=LOCAL_TZ)
SEPTEMBER = datetime(2026, 9, 10, 9, tzinfo=LOCAL_TZ)
BY = "anna"


@dataclass(frozen=True)
class Activity:
    """The ids of what was written."""

    feedback_calls: dict[str, list[str]]
    applications: dict[str, int]


def _digest_calls(store: Store, department_id: str) -> tuple[int, list[str]]:
    [digest] = store.department_digests(department_id)
    return digest.id, [call_id for call_id, _ in store.digest_call_ids(digest.id)]


def add_activity(store: Store) -> Activity:
    """Write the feedback and applications described above."""
    social_digest, social_calls = _digest_calls(store, "social")
    energy_digest, energy_calls = _digest_calls(store, "energibolag")
    verdicts = [Verdict.RELEVANT] * 3 + [Verdict.NOT_RELEVANT, Verdict.APPLY]
    for n, (call_id, verdict) in enumerate(zip(social_calls, verdicts, strict=False)):
        store.record_feedback(
            Feedback(social_digest, "social", call_id, f"person{n}@example.org", verdict, AUGUST)
        )
    for call_id in energy_calls[:2]:
        store.record_feedback(
            Feedback(
                energy_digest,
                "energibolag",
                call_id,
                "el@example.org",
                Verdict.NOT_RELEVANT,
                SEPTEMBER,
            )
        )
    culture_call = _digest_calls(store, "kultur-och-fritid")[1][0]
    environment_call = _digest_calls(store, "miljo-och-halsa")[1][0]
    applications = {
        "social": _application(
            store,
            social_calls[4],
            "social",
            [
                (datetime(2026, 8, 25, tzinfo=LOCAL_TZ), {"state": ApplicationState.PREPARING}),
                (
                    datetime(2026, 9, 5, tzinfo=LOCAL_TZ),
                    {
                        "state": ApplicationState.SUBMITTED,
                        "submitted_on": "2026-09-05",
                        "applied_amount": 1_000_000,
                    },
                ),
                (
                    datetime(2026, 11, 20, tzinfo=LOCAL_TZ),
                    {
                        "state": ApplicationState.GRANTED,
                        "decided_on": "2026-11-20",
                        "granted_amount": 800_000,
                    },
                ),
            ],
        ),
        "miljo-och-halsa": _application(
            store,
            environment_call,
            "miljo-och-halsa",
            [
                (datetime(2026, 8, 26, tzinfo=LOCAL_TZ), {"state": ApplicationState.PREPARING}),
                (
                    datetime(2026, 8, 30, tzinfo=LOCAL_TZ),
                    {
                        "state": ApplicationState.SUBMITTED,
                        "submitted_on": "2026-08-30",
                        "currency": "EUR",
                        "applied_amount": 200_000,
                        "sek_per_eur": 11.5,
                    },
                ),
                (
                    datetime(2026, 10, 15, tzinfo=LOCAL_TZ),
                    {"state": ApplicationState.REJECTED, "decided_on": "2026-10-15"},
                ),
            ],
        ),
        "kultur-och-fritid": _application(
            store,
            culture_call,
            "kultur-och-fritid",
            [
                (datetime(2026, 9, 1, tzinfo=LOCAL_TZ), {"state": ApplicationState.PREPARING}),
                (
                    datetime(2026, 9, 20, tzinfo=LOCAL_TZ),
                    {
                        "state": ApplicationState.SUBMITTED,
                        "submitted_on": "2026-09-20",
                        "currency": "EUR",
                        "applied_amount": 50_000,
                    },
                ),
            ],
        ),
        "social-withdrawn": _application(
            store,
            social_calls[0],
            "social",
            [(datetime(2026, 9, 12, tzinfo=LOCAL_TZ), {"state": ApplicationState.WITHDRAWN})],
            opened=datetime(2026, 9, 1, tzinfo=LOCAL_TZ),
        ),
    }
    return Activity({"social": social_calls[:5], "energibolag": energy_calls[:2]}, applications)


def _application(
    store: Store,
    call_id: str,
    department_id: str,
    moves: list[tuple[datetime, dict]],
    opened: datetime = AUGUST,
) -> int:
    """Open an application and make its changes, each at its moment; its id."""
    application, opened_now = store.open_application(call_id, department_id, BY, opened)
    assert opened_now
    for moment, changes in moves:
        store.change_application(application.id, changes, BY, moment)
    return application.id
