"""The fast paths give the matches the straightforward arithmetic gives, on the real replayed
snapshot with the configured departments and generated profiles (tests/matcher/reference.py).

Compared: every match (call, department, score, text and focus scores to 1e-9, terms with
their shares, flags, focus areas, profile version), the score arrays, a single match looked
up alone, and each keyword's hits.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from benchmarks.synthetic_profiles import synthetic_departments
from db import Store
from db.records import Match, MatchFlag
from matcher.rank import Matcher, closing_soon
from tests.conftest import SNAPSHOT_NOW
from tests.matcher.reference import Reference, reference

# Configured departments + generated ones (the generator pairs each department with others;
# past 12 x 13 pairs it mixes one with itself, so some of those are included).
PROFILES = 13 + 150
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def work(crawled_snapshot: Path, config):
    """The snapshot's calls, their analyses, and the departments (configured + generated)."""
    with Store(crawled_snapshot) as store:
        calls = store.matchable_calls(SNAPSHOT_NOW)
    configured = list(config.departments)
    departments = configured + synthetic_departments(configured, PROFILES - len(configured))
    analyses = Matcher(departments, config.focus_areas, config.matching).analyses(calls)
    known = {call.id: analysis for call, analysis in zip(calls, analyses, strict=True)}
    return calls, analyses, known, departments


@pytest.fixture(scope="module")
def fitted(work, config) -> Matcher:
    calls, _, known, departments = work
    return Matcher(departments, config.focus_areas, config.matching).fit(calls, known)


@pytest.fixture(scope="module")
def expected(work, config) -> Reference:
    """The reference at the snapshot's day and two months later (deadlines passed, closing)."""
    calls, analyses, _, departments = work
    later = SNAPSHOT_NOW + timedelta(days=60)
    nows = (SNAPSHOT_NOW, later)
    return reference(departments, config.focus_areas, config.matching, calls, analyses, nows)


def _assert_same(found: list[Match], wanted: list[Match]) -> None:
    """Same matches in the same order: exact but for scores, which may differ by 1e-9."""
    assert [(m.call_id, m.department_id) for m in found] == [
        (m.call_id, m.department_id) for m in wanted
    ]
    for got, want in zip(found, wanted, strict=True):
        for field in ("score", "text_score", "focus_score"):
            assert getattr(got, field) == pytest.approx(getattr(want, field), abs=TOLERANCE)
        assert (got.terms, got.flags, got.focus_areas, got.profile_version) == (
            want.terms,
            want.flags,
            want.focus_areas,
            want.profile_version,
        ), (got.call_id, got.department_id)


def test_scores_are_the_references(work, fitted, expected):
    """Text, focus-area and final scores of every call for every profile."""
    calls, _, known, _ = work
    table = fitted.score(calls, known)
    want = expected
    assert table.text == pytest.approx(want.text, abs=TOLERANCE)
    assert table.area_scores == pytest.approx(want.area_scores, abs=TOLERANCE)
    assert table.final == pytest.approx(want.final, abs=TOLERANCE)


@pytest.mark.parametrize("days_later", [0, 60])
def test_matches_are_the_references(work, fitted, expected, days_later):
    """Every match with its reasons, on the snapshot's day and when deadlines have passed."""
    calls, _, known, _ = work
    now = SNAPSHOT_NOW + timedelta(days=days_later)
    wanted = expected.matches[now]
    flags = {flag.split(":")[0] for m in wanted for flag in m.flags}
    assert len(wanted) > 1000 and {"closing-soon", "preferred-programme", "rule"} <= flags
    _assert_same(fitted.score(calls, known).matches(now), wanted)


def test_deadlines_passed_leave_calls_out(expected):
    """Two months on, calls whose deadlines have passed are matched no more."""
    later = SNAPSHOT_NOW + timedelta(days=60)
    assert len(expected.matches[later]) < len(expected.matches[SNAPSHOT_NOW])


def test_matches_of_some_calls_are_the_references(work, fitted, expected):
    """Scoring a part of the fitted calls (as eufunds match does for changed ones)."""
    calls, _, known, _ = work
    part = calls[::7]
    ids = {call.id for call in part}
    wanted = [m for m in expected.matches[SNAPSHOT_NOW] if m.call_id in ids]
    _assert_same(fitted.score(part, known).matches(SNAPSHOT_NOW), wanted)


def test_a_match_looked_up_alone_is_the_references(work, fitted, expected):
    """ScoreTable.match for single pairs (the preview and explain path)."""
    calls, _, known, _ = work
    table = fitted.score(calls, known)
    for want in expected.matches[SNAPSHOT_NOW][::97]:
        _assert_same([table.match(want.call_id, want.department_id, SNAPSHOT_NOW)], [want])


def test_negative_keywords_found_are_the_references(work, fitted, expected):
    """The negative keyword named for a pair (no match has one: they lower the score)."""
    calls, _, known, departments = work
    table = fitted.score(calls, known)
    pairs = [
        (i, j) for (i, j), flags in expected.flags.items() if any("negative" in f for f in flags)
    ]
    assert len(pairs) > 100
    for i, j in pairs[::50]:
        found = table.match(calls[i].id, departments[j].id).flags
        assert list(found) == expected.flags[i, j]


def test_flags_of_every_pair_are_the_references(work, fitted, expected):
    """With no minimum score every pair is a match, those with negative keywords too."""
    calls, _, known, departments = work
    table = fitted.score(calls, known)
    everything = table.matches(SNAPSHOT_NOW, min_scores={d.id: -1.0 for d in departments})
    assert len(everything) == len(calls) * len(departments)
    row = {call.id: i for i, call in enumerate(calls)}
    column = {department.id: j for j, department in enumerate(departments)}
    for match in everything:
        i, j = row[match.call_id], column[match.department_id]
        wanted = list(expected.flags[i, j])
        if closing_soon(calls[i], SNAPSHOT_NOW, departments[j].lead_time_days):
            wanted.append(MatchFlag.CLOSING_SOON)
        assert list(match.flags) == wanted
    assert any(flag.startswith("negative:") for m in everything for flag in m.flags)


def test_keyword_hits_are_the_references(work, fitted, expected):
    """How many calls hold each keyword of a profile."""
    calls, _, known, departments = work
    table = fitted.score(calls, known)
    for j in range(0, len(departments), 20):
        assert table.keyword_hits(departments[j].id) == expected.keyword_hits(j)
