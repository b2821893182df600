"""Choosing a department's digest items: new, changed, closing soon, and their order. Pure.

Calls, matches and history are hand-written; `now` is a parameter, never the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.records import Call, CallChange, DigestHistory, DigestReason, Match
from notifier.selection import (
    next_deadline,
    select_items,
    still_open,
)

NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
LEAD_DAYS = 21
NOTHING_SENT = DigestHistory(frozenset(), frozenset(), None)
LAST_DIGEST = NOW - timedelta(days=7)


def _call(name: str, *deadlines: datetime, status: str = "open") -> Call:
    return Call(
        id=f"ft_portal/{name}",
        source_id="ft_portal",
        identifier=name,
        title=f"Call {name}",
        status=status,
        deadlines=list(deadlines),
    )


def _match(call: Call, score: float = 0.3) -> Match:
    return Match(call.id, "social", score, score, 0.0, terms=(("social inclusion", 1.0),))


def _select(calls, history=NOTHING_SENT, changes=None, scores=None, now=NOW):
    scores = scores or {}
    matches = [_match(call, scores.get(call.id, 0.3)) for call in calls]
    return select_items(matches, {c.id: c for c in calls}, history, changes or {}, now, LEAD_DAYS)


def _sent(*calls: Call, closing_soon: tuple[Call, ...] = ()) -> DigestHistory:
    return DigestHistory(
        frozenset(c.id for c in calls), frozenset(c.id for c in closing_soon), LAST_DIGEST
    )


def _change(call: Call, field: str) -> CallChange:
    return CallChange(call.id, field, "old", "new", NOW - timedelta(days=2))


FAR = NOW + timedelta(days=90)


def test_unsent_match_is_new():
    """A matched call never sent to the department is in the digest as new."""
    call = _call("A", FAR)
    [item] = _select([call])
    assert item.call is call
    assert item.match.call_id == call.id
    assert item.reasons == (DigestReason.NEW,)
    assert item.changes == ()


def test_sent_and_unchanged_is_left_out():
    """A call already sent, unchanged and not closing soon, is not sent again."""
    call = _call("A", FAR)
    assert _select([call], history=_sent(call)) == []


@pytest.mark.parametrize("field", ["deadlines", "status", "title", "opening_date", "budget_eur"])
def test_sent_call_with_news_is_changed(field):
    """A sent call whose deadlines, status, title, opening or budget changed comes back."""
    call = _call("A", FAR)
    change = _change(call, field)
    [item] = _select([call], history=_sent(call), changes={call.id: [change]})
    assert item.reasons == (DigestReason.CHANGED,)
    assert item.changes == (change,)


def test_change_of_summary_alone_is_not_news():
    """A sent call whose summary or link changed is not sent again."""
    call = _call("A", FAR)
    changes = {call.id: [_change(call, "summary"), _change(call, "url")]}
    assert _select([call], history=_sent(call), changes=changes) == []


def test_changes_of_unsent_call_do_not_make_it_changed():
    """A call never sent is new, whatever changed on it before."""
    call = _call("A", FAR)
    [item] = _select([call], changes={call.id: [_change(call, "deadlines")]})
    assert item.reasons == (DigestReason.NEW,)
    assert item.changes == ()


@pytest.mark.parametrize(
    ("days", "closing"),
    [(0.01, True), (LEAD_DAYS, True), (LEAD_DAYS + 0.01, False)],
    ids=["hours-left", "at-lead-time", "just-beyond"],
)
def test_closing_soon_is_within_the_lead_time(days, closing):
    """A deadline within lead_time_days (inclusive) makes the call closing soon."""
    call = _call("A", NOW + timedelta(days=days))
    [item] = _select([call])
    assert (DigestReason.CLOSING_SOON in item.reasons) is closing
    assert DigestReason.NEW in item.reasons


def test_sent_call_entering_lead_time_is_closing_soon():
    """A call sent earlier whose deadline is now near comes back as closing soon only."""
    call = _call("A", NOW + timedelta(days=10))
    [item] = _select([call], history=_sent(call))
    assert item.reasons == (DigestReason.CLOSING_SOON,)


def test_closing_soon_is_announced_once():
    """A call already announced as closing soon is not announced again."""
    call = _call("A", NOW + timedelta(days=10))
    assert _select([call], history=_sent(call, closing_soon=(call,))) == []


def test_next_deadline_decides_closing_soon():
    """Only the first deadline still ahead counts: a passed one does not make it closing."""
    call = _call("A", NOW - timedelta(days=3), FAR)
    [item] = _select([call])
    assert item.reasons == (DigestReason.NEW,)


@pytest.mark.parametrize(
    "call",
    [
        _call("closed", FAR, status="closed"),
        _call("passed", NOW - timedelta(days=30), NOW - timedelta(seconds=1)),
    ],
    ids=["closed", "every-deadline-passed"],
)
def test_calls_that_cannot_be_applied_for_are_left_out(call):
    """Closed calls and calls past every deadline are never in a digest."""
    assert _select([call]) == []


def test_call_without_deadlines_is_new_not_closing():
    """A call with no known deadline can be applied for; it is never closing soon."""
    [item] = _select([_call("A")])
    assert item.reasons == (DigestReason.NEW,)


def test_match_of_unknown_call_is_skipped():
    """A match whose call is not in the mapping is skipped, not an error."""
    call = _call("A", FAR)
    ghost = _call("ghost", FAR)
    items = select_items(
        [_match(ghost), _match(call)], {call.id: call}, NOTHING_SENT, {}, NOW, LEAD_DAYS
    )
    assert [i.call.id for i in items] == [call.id]


def test_order_closing_soon_first_then_score():
    """Closing soon first, soonest deadline first; then the rest by score, best first."""
    soon_late = _call("soon-late", NOW + timedelta(days=15))
    soon_early = _call("soon-early", NOW + timedelta(days=3))
    strong = _call("strong", FAR)
    weak = _call("weak", FAR)
    tied = _call("tied", FAR)
    scores = {
        soon_late.id: 0.9,
        soon_early.id: 0.1,
        strong.id: 0.8,
        weak.id: 0.2,
        tied.id: 0.2,
    }
    items = _select([weak, tied, soon_late, strong, soon_early], scores=scores)
    assert [i.call.identifier for i in items] == [
        "soon-early",
        "soon-late",
        "strong",
        "tied",
        "weak",
    ]


def test_next_deadline_is_first_at_or_after_now():
    """next_deadline skips deadlines that passed; exactly now still counts; none when all passed."""
    call = _call("A", NOW - timedelta(days=1), NOW + timedelta(days=40), NOW)
    assert next_deadline(call.deadlines, NOW) == NOW
    assert next_deadline(call.deadlines, NOW + timedelta(days=41)) is None
    assert next_deadline(_call("B").deadlines, NOW) is None


@pytest.mark.parametrize(
    ("call", "open_"),
    [
        (_call("A", FAR), True),
        (_call("B"), True),
        (_call("C", FAR, status="forthcoming"), True),
        (_call("D", FAR, status="closed"), False),
        (_call("E", NOW - timedelta(days=1)), False),
    ],
    ids=["deadline-ahead", "no-deadline", "forthcoming", "closed", "passed"],
)
def test_still_open(call, open_):
    """Open or forthcoming with a deadline ahead (or none known) can still be applied for."""
    assert still_open(call, NOW) is open_


def test_a_change_not_yet_sent_stays_news_after_a_later_digest():
    """A call sent two weeks ago changed after that; last week's digest did not carry the
    change (past a section's cap): it is still news now, and an older change is not."""
    call = _call("HELD-BACK", NOW + timedelta(days=60))
    sent_at = NOW - timedelta(days=14)
    history = DigestHistory(
        frozenset({call.id}), frozenset(), LAST_DIGEST, call_sent_at={call.id: sent_at}
    )
    moved = CallChange(call.id, "deadlines", "[]", "[]", sent_at + timedelta(days=2))
    older = CallChange(call.id, "status", "forthcoming", "open", sent_at - timedelta(days=1))
    [item] = select_items(
        [_match(call)], {call.id: call}, history, {call.id: [older, moved]}, NOW, LEAD_DAYS
    )
    assert item.reasons == (DigestReason.CHANGED,) and item.changes == (moved,)
