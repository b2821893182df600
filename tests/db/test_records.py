"""Deadline rules shared by matching, digests and closed marking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.deadlines import deadline_end, is_date_only, next_deadline, still_open
from db.records import Call, MatchFlag, flag_rule, negative_flag, rule_flag

DATE_ONLY = datetime(2026, 9, 22, tzinfo=UTC)  # the portal's "22 September 2026"
TIMED = datetime(2026, 9, 22, 15, 0, tzinfo=UTC)


def _call(*deadlines: datetime, status: str = "open") -> Call:
    # Hand-written call: only its deadlines and status matter here.
    return Call("t/1", "t", "1", "Call", status=status, deadlines=list(deadlines))


def test_midnight_utc_is_a_date():
    """Midnight UTC is a date without a time; any other moment is a time of day."""
    assert is_date_only(DATE_ONLY)
    assert not is_date_only(TIMED)


def test_date_only_deadline_lasts_its_whole_day():
    """A date-only deadline passes at the end of its day, a timed one at its moment."""
    assert deadline_end(DATE_ONLY) == DATE_ONLY + timedelta(days=1)
    assert deadline_end(TIMED) == TIMED


def test_call_is_open_on_its_deadline_day():
    """On the deadline day itself (10:00 in Stockholm) a date-only call is still open."""
    morning = datetime(2026, 9, 22, 8, 0, tzinfo=UTC)
    assert still_open(_call(DATE_ONLY), morning)
    assert next_deadline([DATE_ONLY], morning) == DATE_ONLY
    assert not still_open(_call(DATE_ONLY), DATE_ONLY + timedelta(days=1, seconds=1))


def test_timed_deadline_passes_at_its_moment():
    """A deadline with a time of day has passed one second after it."""
    assert still_open(_call(TIMED), TIMED)
    assert not still_open(_call(TIMED), TIMED + timedelta(seconds=1))


def test_closed_or_undated_calls():
    """A closed call is never open; a call without deadlines is open until closed."""
    assert not still_open(_call(TIMED, status="closed"), TIMED - timedelta(days=1))
    assert still_open(_call(), TIMED)


def test_rule_flags_name_their_rule_and_nothing_else():
    """A rule's flag reads back as the rule; other flags name no rule."""
    assert flag_rule(rule_flag("third-countries")) == "third-countries"
    assert flag_rule(negative_flag("militär")) is None
    assert flag_rule(MatchFlag.CLOSING_SOON) is None
