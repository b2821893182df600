"""Bilingual profiles: the term list, Swedish compounds, and the versions that name profiles.

Real calls and hand-written profiles, see tests/matcher/support.py.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from db.records import Call, MatchingSettings
from matcher import analysis
from matcher.profiles import MIN_PART, compound_parts, profile_version, profile_versions
from matcher.rank import Matcher, ScoreTable, analyser_for
from tests.matcher.support import (
    CLIMATE_ADAPTATION,
    CLIMATE_CHALLENGES,
    CLIMATE_KEYWORDS,
    DEPARTMENTS,
    DISASTER_RISK,
    FOCUS_AREAS,
    SMALAND_ENERGY,
    UNRELATED,
    hand_written_department,
)


@pytest.fixture(scope="module")
def untranslated(calls: list[Call], settings: MatchingSettings) -> ScoreTable:
    """The same scores without the Swedish–English term list."""
    plain = replace(settings, terms=())
    return Matcher(DEPARTMENTS, FOCUS_AREAS, plain).fit(calls).score(calls)


def _rank(table: ScoreTable, department_id: str, call_id: str) -> int:
    """A call's place in a department's ranking, from 1."""
    return table.ranking(department_id).index(call_id) + 1


def _swedish_ids(table: ScoreTable) -> list[str]:
    """Ids of the Swedish (Tillväxtverket) calls."""
    return [c.id for c in table.calls if c.programme.startswith("Tillväxtverket")]


# Swedish and English -----------------------------------------------------------------


# A Swedish-only profile and an English call; an English-only profile and a Swedish call.
ACROSS_LANGUAGES = [("sv-klimat", CLIMATE_ADAPTATION), ("en-energy", SMALAND_ENERGY)]


@pytest.mark.parametrize(("department_id", "call_id"), ACROSS_LANGUAGES)
def test_profile_finds_a_call_in_the_other_language(table, department_id, call_id):
    """Keywords in one language rank a real call in the other near the top, above unrelated
    calls (climate adaptation in English; energieffektivitet in Swedish)."""
    assert _rank(table, department_id, call_id) <= 10
    for other in UNRELATED:
        assert _rank(table, department_id, call_id) < _rank(table, department_id, other)


@pytest.mark.parametrize(("department_id", "call_id"), ACROSS_LANGUAGES)
def test_profile_reaches_the_other_language_through_the_term_list(
    table, untranslated, department_id, call_id
):
    """Without the term list, keywords in one language do not match the call at all."""
    assert table.match(call_id, department_id).score > 0
    assert untranslated.match(call_id, department_id).score == 0


def test_swedish_profile_reasons_name_the_english_equivalent(table, settings):
    """The reasons of a cross-lingual match name the term-list equivalent of the keyword."""
    english = dict(settings.terms)["klimatanpassning"]
    labels = [label for label, _ in table.match(CLIMATE_ADAPTATION, "sv-klimat").terms]
    assert english in labels


def test_english_profile_finds_the_swedish_call_first(table):
    """Among the Swedish calls, an English energy profile ranks energieffektivitet first."""
    swedish = [c for c in table.ranking("en-energy") if c in set(_swedish_ids(table))]
    assert swedish[0] == SMALAND_ENERGY


@pytest.mark.parametrize(
    ("department_id", "word"), [("sv-klimat-head", "klimat"), ("sv-utmaning-tail", "utmaning")]
)
def test_swedish_compound_matches_its_parts(table, department_id, word):
    """'klimatutmaningar' in a real Swedish title matches the words it is built from."""
    match = table.match(CLIMATE_CHALLENGES, department_id)
    assert match.score > 0
    assert table.ranking(department_id)[0] == CLIMATE_CHALLENGES
    assert [label for label, _ in match.terms] == [word]


def test_compound_parts_are_the_lexicon_words_a_longer_word_starts_or_ends_with():
    """'klimatutmaning' holds 'klimat' and 'utmaning'; 'mat' is too short to look for."""
    lexicon = frozenset({"klimat", "utmaning", "mat"})
    assert compound_parts(["klimatutmaning"], lexicon) == ["klimat", "utmaning"]
    assert len("mat") < MIN_PART


def test_compound_parts_leave_lexicon_words_whole():
    """A word the lexicon holds is itself, not a compound of its parts."""
    lexicon = frozenset({"klimat", "anpassning", "klimatanpassning"})
    assert compound_parts(["klimatanpassning"], lexicon) == []


def test_compound_parts_take_heads_of_the_shortest_length_but_longer_tails():
    """A head may be MIN_PART letters long; a tail must be longer than that."""
    lexicon = frozenset({"skol", "barn"})
    assert len("skol") == len("barn") == MIN_PART
    assert compound_parts(["skolbarn"], lexicon) == ["skol"]


def test_compound_parts_are_only_found_in_swedish_calls(table):
    """A Swedish profile word matched inside compounds gives no English call a score."""
    column = [d.id for d in table.departments].index("sv-klimat-head")
    scored = {c.id for i, c in enumerate(table.calls) if table.final[i, column] > 0}
    assert CLIMATE_CHALLENGES in scored
    assert scored <= set(_swedish_ids(table))


# Profile versions --------------------------------------------------------------------------


def test_match_carries_the_profile_version(table, settings):
    """Every match records the version of the profile it was scored with."""
    department = next(d for d in DEPARTMENTS if d.id == "climate")
    match = table.match(DISASTER_RISK, "climate")
    assert match.profile_version == profile_version(department, settings, FOCUS_AREAS)


def test_profile_version_changes_with_the_profile(settings):
    """Any change to a department's profile or the settings gives a new version."""
    department = hand_written_department("climate", en=CLIMATE_KEYWORDS)
    version = profile_version(department, settings)
    assert (
        profile_version(hand_written_department("climate", en=CLIMATE_KEYWORDS), settings)
        == version
    )
    changed = [
        replace(department, keywords_en={**CLIMATE_KEYWORDS, "stormwater": 1.0}),
        replace(department, keywords_en={**CLIMATE_KEYWORDS, "climate adaptation": 2.0}),
        replace(department, negative_keywords=("nuclear",)),
        replace(department, preferred_programmes=("LIFE",)),
        replace(department, min_score=0.2),
    ]
    assert version not in {profile_version(d, settings) for d in changed}
    tuned = replace(settings, negative_keyword_penalty=settings.negative_keyword_penalty / 2)
    assert profile_version(department, tuned) != version


def test_profile_version_changes_with_the_analyser(settings, monkeypatch):
    """A new version of the calls' analysis (its code, or the word lists it uses) gives
    every profile a new version, so the next match re-scores unchanged calls too; the
    analyser's own version, which keys the stored analyses, is the one the profiles name."""
    department = hand_written_department("climate", en=CLIMATE_KEYWORDS)
    version = profile_version(department, settings)
    before = analyser_for(settings).version
    monkeypatch.setattr(analysis, "ANALYSIS_VERSION", analysis.ANALYSIS_VERSION + "-next")
    assert analyser_for(settings).version != before
    assert profile_version(department, settings) != version
    monkeypatch.setitem(analysis.STOP_WORDS, "sv", analysis.STOP_WORDS["sv"] | {"utlysning"})
    assert len({before, analyser_for(settings).version}) == 2


def test_profile_versions_are_each_departments_own(settings):
    """The versions of many departments at once are those of each department alone."""
    versions = profile_versions(DEPARTMENTS, settings, FOCUS_AREAS)
    assert versions == {d.id: profile_version(d, settings, FOCUS_AREAS) for d in DEPARTMENTS}
    assert len(set(versions.values())) == len(DEPARTMENTS)


def test_profile_version_ignores_who_gets_the_digest(settings):
    """Recipients and digest day do not change matches, so they do not change the version."""
    department = hand_written_department("climate", en=CLIMATE_KEYWORDS)
    moved = replace(
        department, recipients=("ny@example.org",), digest_weekday="friday", send_empty_digest=True
    )
    assert profile_version(moved, settings) == profile_version(department, settings)
