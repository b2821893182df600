"""The applications tables: one application per call and lead department, edits that keep
their history, and nothing recorded for an edit that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db import Call, Store, StoreError
from db.records import ApplicationState
from tests.support.databases import upsert_one

NOW = datetime(2026, 9, 1, 8, tzinfo=UTC)


@pytest.fixture
def with_call(store: Store) -> Store:
    # Hand-written call: the pipeline's mechanics do not depend on a real call's content.
    upsert_one(
        store,
        Call(id="ft_portal/TEST-1", source_id="ft_portal", identifier="TEST-1", title="Test"),
        NOW,
    )
    return store


def test_opening_twice_opens_one_application(with_call):
    """A second "Vi vill söka" from the same department finds the first application."""
    first, opened = with_call.open_application("ft_portal/TEST-1", "social", "a@x.se", NOW)
    again, opened_again = with_call.open_application(
        "ft_portal/TEST-1", "social", "b@x.se", NOW + timedelta(hours=1)
    )
    assert opened and not opened_again
    assert again == first
    assert first.state == ApplicationState.INTEREST
    assert first.opened_by == "a@x.se"
    assert len(with_call.applications()) == 1
    assert [e.changes for e in with_call.application_events(first.id)] == [
        {"state": [None, "interest"]}
    ]


def test_another_department_opens_its_own(with_call):
    with_call.open_application("ft_portal/TEST-1", "social", "a@x.se", NOW)
    with_call.open_application("ft_portal/TEST-1", "culture", "c@x.se", NOW)
    assert {a.department_id for a in with_call.applications(call_id="ft_portal/TEST-1")} == {
        "social",
        "culture",
    }
    assert [a.department_id for a in with_call.applications(department_id="culture")] == ["culture"]


def test_changes_are_kept_with_who_when_and_why(with_call):
    application, _ = with_call.open_application("ft_portal/TEST-1", "social", "a@x.se", NOW)
    later = NOW + timedelta(days=3)
    changed = with_call.change_application(
        application.id,
        {"state": "preparing", "partners": ("Bodø", "Kuopio"), "applied_amount": 250_000},
        "samordnare",
        later,
        "Startmöte hållet",
    )
    assert changed.state == ApplicationState.PREPARING
    assert changed.partners == ("Bodø", "Kuopio")
    assert changed.updated_at == later
    event = with_call.application_events(application.id)[-1]
    assert (event.by, event.at, event.note) == ("samordnare", later, "Startmöte hållet")
    assert event.changes == {
        "state": ["interest", "preparing"],
        "partners": ["[]", '["Bodø", "Kuopio"]'],
        "applied_amount": [None, 250000],
    }


def test_an_edit_that_changes_nothing_records_nothing(with_call):
    application, _ = with_call.open_application("ft_portal/TEST-1", "social", "a@x.se", NOW)
    same = with_call.change_application(
        application.id, {"state": "interest", "notes": ""}, "samordnare", NOW + timedelta(days=1)
    )
    assert same == application
    assert len(with_call.application_events(application.id)) == 1


def test_unknown_fields_and_applications_are_refused(with_call):
    application, _ = with_call.open_application("ft_portal/TEST-1", "social", "a@x.se", NOW)
    with pytest.raises(StoreError, match="not an editable field"):
        with_call.change_application(application.id, {"opened_by": "x"}, "s", NOW)
    with pytest.raises(StoreError, match="no application 999"):
        with_call.change_application(999, {"notes": "x"}, "s", NOW)
    assert with_call.application(application.id) == application


def test_an_application_needs_a_stored_call(store):
    with pytest.raises(StoreError):
        store.open_application("ft_portal/NOT-STORED", "social", "a@x.se", NOW)
    assert store.applications() == []
