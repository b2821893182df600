"""The score table: reasons, deadlines, explanations and look-ups by id.

Real calls and hand-written profiles, see tests/matcher/support.py.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import timedelta

import numpy as np
import pytest

from db.records import Call, Match
from matcher.rank import Matcher, closing_soon, is_matchable
from matcher.rounding import rounded
from matcher.scores import MATCH_FIELDS
from tests.matcher.support import (
    CLIMATE_ADAPTATION,
    CLIMATE_KEYWORDS,
    CLIMATE_SERVICES,
    DEPARTMENTS,
    DISASTER_RISK,
    LIFE_ADAPTATION,
    NOW,
    UNRELATED,
)

# Reasons -------------------------------------------------------------------------------


def test_reason_terms_name_the_profile_keywords_found(table, settings):
    """Match.terms names the keywords the call contains, best first, from the profile."""
    match = table.match(DISASTER_RISK, "climate")
    labels = [label for label, _ in match.terms]
    assert {"climate adaptation", "disaster risk management"} <= set(labels)
    profile = set(CLIMATE_KEYWORDS) | {sv for sv, en in settings.terms if en in CLIMATE_KEYWORDS}
    assert set(labels) <= profile
    shares = [share for _, share in match.terms]
    assert shares == sorted(shares, reverse=True)


def test_reason_shares_sum_to_one(table):
    """The shares of the reason terms add up to the whole text score."""
    for call_id in (DISASTER_RISK, CLIMATE_SERVICES, LIFE_ADAPTATION):
        shares = [share for _, share in table.match(call_id, "climate").terms]
        assert sum(shares) == pytest.approx(1, abs=0.01)


def test_no_reason_terms_without_a_text_score(table):
    """A call that shares nothing with the profile has no score and no reasons."""
    match = table.match(UNRELATED[1], "climate")
    assert match.text_score == 0 and match.terms == ()


def test_reason_focus_area_is_the_one_whose_keywords_occur(table):
    """A climate-adaptation call names the focus area 'Klimat', not 'Kultur'."""
    match = table.match(DISASTER_RISK, "climate")
    assert "Klimat" in match.focus_areas
    assert "Kultur" not in match.focus_areas
    assert match.focus_score > 0


# Deadlines -----------------------------------------------------------------------------


def _dated(status: str, *days: int) -> Call:
    """A hand-made call with deadlines the given number of days from NOW."""
    return Call(
        id="test/dated",
        source_id="test",
        identifier="dated",
        title="Dated call",
        status=status,
        deadlines=[NOW + timedelta(days=d) for d in days],
    )


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (_dated("open", 10), True),
        (_dated("forthcoming", 200), True),
        (_dated("open"), True),
        (_dated("open", -30, 5), True),
        (_dated("open", 0), True),
        (_dated("open", -1), False),
        (_dated("open", -30, -1), False),
        (_dated("closed", 10), False),
        (_dated("closed"), False),
    ],
    ids=[
        "open",
        "forthcoming",
        "no-deadline",
        "one-deadline-left",
        "deadline-now",
        "deadline-passed",
        "all-deadlines-passed",
        "closed",
        "closed-no-deadline",
    ],
)
def test_is_matchable(call, expected):
    """A call is matchable unless closed or past every deadline."""
    assert is_matchable(call, NOW) is expected


def test_is_matchable_without_a_clock_only_checks_the_status():
    """Without 'now', only a closed call is unmatchable."""
    assert is_matchable(_dated("open", -30), None) is True
    assert is_matchable(_dated("closed", 30), None) is False


@pytest.mark.parametrize(
    ("call", "lead_time_days", "expected"),
    [
        (_dated("open", 10), 21, True),
        (_dated("open", 21), 21, True),
        (_dated("open", 22), 21, False),
        (_dated("open", -5, 40), 21, False),
        (_dated("open", -5, 15, 60), 21, True),
        (_dated("open", -5), 21, False),
        (_dated("open"), 21, False),
        (_dated("open", 30), 45, True),
    ],
    ids=[
        "within",
        "on-the-last-day",
        "one-day-too-late",
        "next-deadline-far",
        "next-deadline-near",
        "only-passed",
        "no-deadline",
        "longer-lead-time",
    ],
)
def test_closing_soon(call, lead_time_days, expected):
    """Closing soon means the next deadline ahead falls within the lead time."""
    assert closing_soon(call, NOW, lead_time_days) is expected


@pytest.fixture(scope="module")
def deadline_table(calls, settings):
    """Real calls, every tenth marked closed, scored for two climate profiles."""
    corpus = [replace(c, status="closed") if i % 10 == 0 else c for i, c in enumerate(calls)]
    departments = [d for d in DEPARTMENTS if d.id in ("climate", "climate-early")]
    return Matcher(departments, [], settings).fit(corpus).score(corpus)


def _everything(table) -> dict[str, float]:
    """Minimum scores of zero: every matchable call is a match."""
    return {d.id: 0.0 for d in table.departments}


def test_matches_never_include_closed_or_expired_calls(deadline_table):
    """With no minimum score, matches are exactly the matchable real calls."""
    matched = {
        m.call_id for m in deadline_table.matches(NOW, min_scores=_everything(deadline_table))
    }
    closed = {c.id for c in deadline_table.calls if c.status == "closed"}
    expired = {c.id for c in deadline_table.calls if c.deadlines and max(c.deadlines) < NOW}
    assert closed and expired
    assert matched.isdisjoint(closed | expired)
    assert matched == {c.id for c in deadline_table.calls} - closed - expired


def test_ignore_deadlines_includes_closed_and_expired_calls(deadline_table):
    """ignore_deadlines=True matches every call, closed or not."""
    matches = deadline_table.matches(
        NOW, min_scores=_everything(deadline_table), ignore_deadlines=True
    )
    assert {m.call_id for m in matches} == {c.id for c in deadline_table.calls}


def test_minimum_score_filters_matches(deadline_table):
    """Without overrides, only scores at the department's minimum or above are matched."""
    matches = deadline_table.matches(NOW)
    assert matches
    assert all(m.score >= 0.05 for m in matches)
    assert len(matches) < len(deadline_table.matches(NOW, min_scores=_everything(deadline_table)))


def test_closing_soon_flag_follows_the_lead_time(deadline_table):
    """A real call due in about a month is closing soon for a 45-day lead time, not a 21-day one."""
    due = next(c for c in deadline_table.calls if c.id == CLIMATE_ADAPTATION).deadlines[0]
    assert timedelta(days=21) < due - NOW <= timedelta(days=45)
    matches = deadline_table.matches(NOW, min_scores=_everything(deadline_table))
    flags = {m.department_id: m.flags for m in matches if m.call_id == CLIMATE_ADAPTATION}
    assert "closing-soon" in flags["climate-early"]
    assert "closing-soon" not in flags["climate"]


def test_every_closing_soon_flag_is_due_within_the_lead_time(deadline_table):
    """No match is flagged closing soon unless a deadline falls within the lead time."""
    lead = {d.id: d.lead_time_days for d in deadline_table.departments}
    calls = {c.id: c for c in deadline_table.calls}
    matches = deadline_table.matches(NOW, min_scores=_everything(deadline_table))
    flagged = [m for m in matches if "closing-soon" in m.flags]
    assert flagged
    for m in matches:
        expected = closing_soon(calls[m.call_id], NOW, lead[m.department_id])
        assert ("closing-soon" in m.flags) is expected


# Explanations --------------------------------------------------------------------------


def test_explain_fields(table):
    """explain() gives the match, call, department, factors and focus areas best first."""
    explanation = table.explain(DISASTER_RISK, "climate-negative", NOW)
    assert explanation.match == table.match(DISASTER_RISK, "climate-negative", NOW)
    assert explanation.call.id == DISASTER_RISK
    assert explanation.department.id == "climate-negative"
    assert [flag for flag, _ in explanation.factors] == ["negative:disaster"]
    names = [name for name, _ in explanation.focus_by_area]
    assert sorted(names) == ["Klimat", "Kultur"]
    assert names[0] == "Klimat"
    scores = [score for _, score in explanation.focus_by_area]
    assert scores == sorted(scores, reverse=True)
    assert explanation.matchable is True


def test_explain_says_whether_the_score_reaches_the_minimum(table):
    """above_minimum compares the score with the department's minimum score."""
    for call_id in (DISASTER_RISK, UNRELATED[1]):
        explanation = table.explain(call_id, "climate", NOW)
        minimum = explanation.department.min_score
        assert explanation.above_minimum is (explanation.match.score >= minimum)
    assert table.explain(DISASTER_RISK, "climate").above_minimum
    assert not table.explain(UNRELATED[1], "climate").above_minimum


def test_explain_says_when_a_call_cannot_be_matched(deadline_table):
    """A closed call is explained, and marked as not matchable."""
    closed = next(c for c in deadline_table.calls if c.status == "closed")
    assert deadline_table.explain(closed.id, "climate", NOW).matchable is False


# Look-ups by id ------------------------------------------------------------------------


def test_ranking_of_an_unknown_department_is_a_key_error(table):
    """Asking for a department that is not in the matcher names it."""
    with pytest.raises(KeyError, match="nowhere"):
        table.ranking("nowhere")


def test_match_by_ids_is_the_match_among_all_matches(deadline_table):
    """match(call id, department id) finds the very match that matches() makes for the pair."""
    matches = deadline_table.matches(NOW, min_scores=_everything(deadline_table))
    for department_id in ("climate", "climate-early"):
        chosen = [m for m in matches if m.department_id == department_id][::100]
        assert len(chosen) > 5
        for m in chosen:
            assert deadline_table.match(m.call_id, department_id, NOW) == m


def test_explain_by_ids_names_that_call_and_department(table):
    """explain(call id, department id) explains that call for that department."""
    explanation = table.explain(LIFE_ADAPTATION, "climate-preferred", NOW)
    assert explanation.call.id == explanation.match.call_id == LIFE_ADAPTATION
    assert explanation.department.id == explanation.match.department_id == "climate-preferred"


@pytest.mark.parametrize("look_up", ["match", "explain"])
def test_unknown_call_id_is_a_lookup_error_naming_it(table, look_up):
    """A call the table did not score is a LookupError (KeyError) that names it."""
    with pytest.raises(LookupError, match="no call 'ft_portal/NOPE' among the 1394 calls"):
        getattr(table, look_up)("ft_portal/NOPE", "climate")


@pytest.mark.parametrize("look_up", ["match", "explain"])
def test_unknown_department_id_is_a_lookup_error_naming_the_known_ones(table, look_up):
    """A department not in the table is a KeyError naming it and the departments it has."""
    with pytest.raises(KeyError, match=r"no department 'nowhere' \(known: sv-klimat, en-energy"):
        getattr(table, look_up)(DISASTER_RISK, "nowhere")


def test_rounded_is_pythons_round():
    """Scores rounded many at once are Python's round, also at and next to halves."""
    generator = np.random.default_rng(14)
    values = np.concatenate(
        [
            generator.random(200_000),
            generator.random(1000) * 1e6,
            -generator.random(1000),
            (np.arange(-20_000, 20_000) + 0.5) / 1e4,
            np.nextafter((np.arange(20_000) + 0.5) / 1e4, 1),
            np.nextafter((np.arange(20_000) + 0.5) / 1e4, 0),
            [0.0, -0.0, 1e300, -1e300, np.inf, -np.inf, 1e-320],
        ]
    )
    found = rounded(values, 4)
    wanted = [round(float(value), 4) for value in values]
    assert [repr(v) for v in found] == [repr(v) for v in wanted]


def test_matches_are_made_in_the_order_of_match_fields():
    """ScoreTable.matches gives Match its fields in order: the order they have."""
    assert tuple(field.name for field in fields(Match)) == MATCH_FIELDS
