"""The matcher: fitting before scoring, analyses made once, and the names callers import.

Real calls and hand-written profiles, see tests/matcher/support.py.
"""

from __future__ import annotations

import pytest

from matcher import profiles, scores
from matcher.rank import (
    Explanation,
    Matcher,
    ScoreTable,
    analyse_call,
    analyser_for,
    call_language,
    closing_soon,
    compound_parts,
    is_matchable,
    profile_version,
)
from tests.matcher.support import BROAD


def test_score_needs_fit(settings, calls):
    """Scoring before fitting is a clear error."""
    with pytest.raises(RuntimeError, match="fit"):
        Matcher([BROAD], [], settings).score(calls[:3])


def test_analyses_are_made_once_and_kept(settings, calls):
    """Analysing the same calls again gives back the analyses made the first time."""
    matcher = Matcher([BROAD], [], settings)
    first = matcher.analyses(calls[:20])
    again = matcher.analyses(calls[:20])
    assert all(kept is made for kept, made in zip(again, first, strict=True))


def test_known_analyses_are_used_as_given(settings, calls):
    """An analysis passed in ``known`` (as kept in the database) is used, not made again."""
    made = Matcher([BROAD], [], settings).analyses(calls[:3])
    known = {call.id: analysis for call, analysis in zip(calls[:3], made, strict=True)}
    used = Matcher([BROAD], [], settings).analyses(calls[:3], known)
    assert all(given is kept for given, kept in zip(used, made, strict=True))


def test_names_callers_import_from_rank_are_those_of_their_modules():
    """matcher.rank still offers every name its callers import, as the defining modules' own."""
    assert profile_version is profiles.profile_version
    assert compound_parts is profiles.compound_parts
    assert ScoreTable is scores.ScoreTable and Explanation is scores.Explanation
    assert is_matchable is scores.is_matchable and closing_soon is scores.closing_soon
    defined_here = (Matcher, analyse_call, analyser_for, call_language)
    assert {defined.__module__ for defined in defined_here} == {"matcher.rank"}


def test_released_table_gives_the_same_matches_then_none(calls, settings):
    """matches(release=True) gives exactly the matches, then lets go of the calls x profiles
    arrays (their memory is free while the records are made)."""
    from datetime import UTC, datetime

    from tests.matcher.support import DEPARTMENTS, FOCUS_AREAS

    now = datetime(2026, 8, 22, tzinfo=UTC)
    matcher = Matcher(DEPARTMENTS, FOCUS_AREAS, settings).fit(calls)
    kept = matcher.score(calls)
    released = matcher.score(calls)
    expected = kept.matches(now)
    assert expected and released.matches(now, release=True) == expected
    assert released.final is None and released.text is None
    assert kept.final is not None


def test_the_collector_runs_again_after_matches(table):
    """Matches are made with the cycle collector paused, and it runs again after."""
    import gc

    assert gc.isenabled()
    table.matches(None)
    assert gc.isenabled()
    gc.disable()
    try:
        table.matches(None)
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
