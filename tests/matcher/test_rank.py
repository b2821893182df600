"""Ranking calls for departments: real call text from ../shared, hand-written profiles.

The calls are the 1,394 real calls of ../shared/research/calls.jsonl, read where they lie.
The departments and focus areas below are hand-written profiles that isolate one mechanism
each, so these tests hold while the real profiles and weights in config/ are tuned: they
assert orderings, flags and factors taken from the settings, never tuned score values.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from db.records import Call, Department, FocusArea, MatchingSettings
from eufunds.config import load_config
from matcher.rank import Matcher, closing_soon, is_matchable, profile_version
from tests.conftest import SHARED

CALLS = SHARED / "research" / "calls.jsonl"
NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
STATUSES = {"Open for submission": "open", "Forthcoming": "forthcoming", "Upcoming": "forthcoming"}

# Real calls (ids of calls.jsonl) and why they are used.
CLIMATE_ADAPTATION = "HORIZON-MISS-2026-01-CLIMA-02"  # "...climate adaptation of regions..."
CLIMATE_SERVICES = "HORIZON-MISS-2026-01-CLIMA-03"  # climate adaptation, no "disaster"
DISASTER_RISK = "HORIZON-MISS-2026-01-CLIMA-04"  # "disaster risk management and climate ..."
LIFE_ADAPTATION = "LIFE-2026-SAP-CLIMA-CCA"  # LIFE programme, "Climate Change Adaptation"
SMALAND_ENERGY = "framjaenergieffektivitetismalandochoarna.11970"  # Swedish, Tillväxtverket
NORRLAND_BROADBAND = "byggrobustbredbandiovrenorrland.11988"  # "Bygg robust bredband i ..."
CLIMATE_CHALLENGES = "byggberedskapforframtidensklimatutmaningar.11990"  # "klimatutmaningar"
UNRELATED = (
    "HORIZON-EURATOM-LS-2026-01-05",  # stable isotopes for nuclear medicine
    "SMP-COSME-2024-CLUSTER-01#12906COMPETITIVE_CALLen",  # civil drones
    "HORIZON-CL5-2027-07-D3-16",  # tandem solar photovoltaics
)


def _deadlines(text: str | None) -> list[datetime]:
    """The row's deadline as an aware datetime (dates alone are taken as UTC midnight)."""
    if not text:
        return []
    moment = datetime.fromisoformat(text)
    return [moment if moment.tzinfo else moment.replace(tzinfo=UTC)]


def _call(row: dict) -> Call:
    """A call as the matcher sees it; its language is left for the matcher to detect."""
    deadlines = _deadlines(row["deadline"])
    return Call(
        id=row["id"],
        source_id="research",
        identifier=row["id"],
        title=row["title"],
        url=row["url"],
        summary=row["description"],
        programme=row["programme"],
        status=STATUSES[row["status"]],
        deadlines=deadlines,
        next_deadline=min(deadlines, default=None),
        language="",
    )


def _department(
    department_id: str,
    sv: dict[str, float] | None = None,
    en: dict[str, float] | None = None,
    negative: tuple[str, ...] = (),
    preferred: tuple[str, ...] = (),
    lead_time_days: int = 21,
) -> Department:
    """A hand-written profile: only the keywords given, no free-text description."""
    return Department(
        id=department_id,
        name=department_id.title(),
        description_sv="",
        description_en="",
        keywords_sv=sv or {},
        keywords_en=en or {},
        negative_keywords=negative,
        preferred_programmes=preferred,
        min_score=0.05,
        lead_time_days=lead_time_days,
        recipients=("test@example.org",),
        digest_weekday="monday",
    )


def _focus_area(area_id: str, name: str, en: dict[str, float]) -> FocusArea:
    """A hand-written focus area with English keywords only."""
    return FocusArea(
        id=area_id,
        name=name,
        kind="fokusomrade",
        description_sv="",
        description_en="",
        keywords_sv={},
        keywords_en=en,
        strategy_section="",
        strategy_quote="",
    )


# Hand-written profiles, one mechanism each.
CLIMATE_KEYWORDS = {"climate adaptation": 3.0, "disaster risk management": 2.0}
DEPARTMENTS = (
    # Only Swedish words that the [terms] list of config/matching.toml translates.
    _department("sv-klimat", sv={"klimatanpassning": 3.0, "dagvatten": 2.0}),
    # Only English words that the [terms] list translates.
    _department("en-energy", en={"energy efficiency": 3.0}),
    # Swedish words found only inside the compound "klimatutmaningar": its head and its tail.
    _department("sv-klimat-head", sv={"klimat": 2.0}),
    _department("sv-utmaning-tail", sv={"utmaning": 2.0}),
    _department("climate", en=CLIMATE_KEYWORDS),
    _department("climate-negative", en=CLIMATE_KEYWORDS, negative=("disaster",)),
    _department("climate-preferred", en=CLIMATE_KEYWORDS, preferred=("LIFE",)),
    _department("climate-preferred-part", en=CLIMATE_KEYWORDS, preferred=("LIF",)),
    _department("climate-early", en=CLIMATE_KEYWORDS, lead_time_days=45),
    _department("bredband", sv={"bredband": 2.0}),
    _department("bredband-negative", sv={"bredband": 2.0}, negative=("norrland",)),
)
FOCUS_AREAS = (
    _focus_area("klimat", "Klimat", {"climate adaptation": 2.0, "resilience": 1.0}),
    _focus_area("kultur", "Kultur", {"cultural heritage": 2.0, "museums": 1.0}),
)
# A profile that gives every call used in the eligibility tests some text score.
BROAD = _department(
    "broad",
    en={
        "children": 1.0,
        "startups": 1.0,
        "plant health": 1.0,
        "broadband": 1.0,
        "energy efficiency": 1.0,
        "climate adaptation": 1.0,
    },
)


@pytest.fixture(scope="module")
def config():
    """The configuration in config/ (for its term list and eligibility rules)."""
    return load_config()


@pytest.fixture(scope="module")
def settings(config) -> MatchingSettings:
    """Default weights with the real Swedish–English term list, and no eligibility rules."""
    return MatchingSettings(terms=config.matching.terms)


@pytest.fixture(scope="module")
def calls() -> list[Call]:
    """Every real call of the research list."""
    with CALLS.open(encoding="utf-8") as handle:
        return [_call(json.loads(line)) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def table(calls, settings):
    """The real calls scored for the hand-written departments and focus areas."""
    return Matcher(DEPARTMENTS, FOCUS_AREAS, settings).fit(calls).score(calls)


@pytest.fixture(scope="module")
def untranslated(calls, settings):
    """The same scores without the Swedish–English term list."""
    plain = replace(settings, terms=())
    return Matcher(DEPARTMENTS, FOCUS_AREAS, plain).fit(calls).score(calls)


def _rank(table, department_id: str, call_id: str) -> int:
    """A call's place in a department's ranking, from 1."""
    return table.ranking(department_id).index(call_id) + 1


def _swedish_ids(table) -> list[str]:
    """Ids of the Swedish (Tillväxtverket) calls."""
    return [c.id for c in table.calls if c.programme.startswith("Tillväxtverket")]


# Swedish and English -----------------------------------------------------------------


def test_swedish_profile_finds_an_english_call(table):
    """Swedish-only keywords rank a real English climate-adaptation call near the top."""
    assert _rank(table, "sv-klimat", CLIMATE_ADAPTATION) <= 10
    for other in UNRELATED:
        assert _rank(table, "sv-klimat", CLIMATE_ADAPTATION) < _rank(table, "sv-klimat", other)


def test_swedish_profile_reaches_english_through_the_term_list(table, untranslated):
    """Without the term list, Swedish keywords do not match the English call at all."""
    assert table.match(CLIMATE_ADAPTATION, "sv-klimat").score > 0
    assert untranslated.match(CLIMATE_ADAPTATION, "sv-klimat").score == 0


def test_swedish_profile_reasons_name_the_english_equivalent(table, settings):
    """The reasons of a cross-lingual match name the term-list equivalent of the keyword."""
    english = dict(settings.terms)["klimatanpassning"]
    labels = [label for label, _ in table.match(CLIMATE_ADAPTATION, "sv-klimat").terms]
    assert english in labels


def test_english_profile_finds_a_swedish_call(table):
    """English-only keywords rank a real Swedish call on energieffektivitet near the top."""
    swedish = [c for c in table.ranking("en-energy") if c in set(_swedish_ids(table))]
    assert swedish[0] == SMALAND_ENERGY
    assert _rank(table, "en-energy", SMALAND_ENERGY) <= 10
    for other in UNRELATED:
        assert _rank(table, "en-energy", SMALAND_ENERGY) < _rank(table, "en-energy", other)


def test_english_profile_reaches_swedish_through_the_term_list(table, untranslated):
    """Without the term list, English keywords do not match the Swedish call at all."""
    assert table.match(SMALAND_ENERGY, "en-energy").score > 0
    assert untranslated.match(SMALAND_ENERGY, "en-energy").score == 0


@pytest.mark.parametrize(
    ("department_id", "word"), [("sv-klimat-head", "klimat"), ("sv-utmaning-tail", "utmaning")]
)
def test_swedish_compound_matches_its_parts(table, department_id, word):
    """'klimatutmaningar' in a real Swedish title matches the words it is built from."""
    match = table.match(CLIMATE_CHALLENGES, department_id)
    assert match.score > 0
    assert table.ranking(department_id)[0] == CLIMATE_CHALLENGES
    assert [label for label, _ in match.terms] == [word]


def test_compound_parts_are_only_found_in_swedish_calls(table):
    """A Swedish profile word matched inside compounds gives no English call a score."""
    column = [d.id for d in table.departments].index("sv-klimat-head")
    scored = {c.id for i, c in enumerate(table.calls) if table.final[i, column] > 0}
    assert CLIMATE_CHALLENGES in scored
    assert scored <= set(_swedish_ids(table))


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


def test_match_carries_the_profile_version(table, settings):
    """Every match records the version of the profile it was scored with."""
    department = next(d for d in DEPARTMENTS if d.id == "climate")
    match = table.match(DISASTER_RISK, "climate")
    assert match.profile_version == profile_version(department, settings, FOCUS_AREAS)


def test_profile_version_changes_with_the_profile(settings):
    """Any change to a department's profile or the settings gives a new version."""
    department = _department("climate", en=CLIMATE_KEYWORDS)
    version = profile_version(department, settings)
    assert profile_version(_department("climate", en=CLIMATE_KEYWORDS), settings) == version
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


def test_profile_version_ignores_who_gets_the_digest(settings):
    """Recipients and digest day do not change matches, so they do not change the version."""
    department = _department("climate", en=CLIMATE_KEYWORDS)
    moved = replace(
        department, recipients=("ny@example.org",), digest_weekday="friday", send_empty_digest=True
    )
    assert profile_version(moved, settings) == profile_version(department, settings)


# Negative keywords and preferred programmes -------------------------------------------


def test_negative_keyword_lowers_the_score(table, settings):
    """A call scores lower by the penalty for a department rejecting a word in it, flagged."""
    plain = table.match(DISASTER_RISK, "climate")
    negative = table.match(DISASTER_RISK, "climate-negative")
    assert negative.score < plain.score
    assert negative.score == pytest.approx(
        plain.score * settings.negative_keyword_penalty, rel=0.01
    )
    assert "negative:disaster" in negative.flags
    explanation = table.explain(DISASTER_RISK, "climate-negative")
    assert ("negative:disaster", settings.negative_keyword_penalty) in explanation.factors


def test_negative_keyword_spares_calls_without_it(table):
    """A call without the negative word scores the same with or without it."""
    plain = table.match(CLIMATE_SERVICES, "climate")
    negative = table.match(CLIMATE_SERVICES, "climate-negative")
    assert negative.score == plain.score > 0
    assert not any(flag.startswith("negative:") for flag in negative.flags)


def test_swedish_negative_keyword_in_a_swedish_call(table, settings):
    """A Swedish negative keyword pushes down a real Swedish call that contains it."""
    plain = table.match(NORRLAND_BROADBAND, "bredband")
    negative = table.match(NORRLAND_BROADBAND, "bredband-negative")
    assert plain.score > 0
    assert negative.score == pytest.approx(
        plain.score * settings.negative_keyword_penalty, rel=0.01
    )
    assert "negative:norrland" in negative.flags


EUROPEAN_UNIVERSITIES = "ERASMUS-EDU-2026-POL-EXP-SSEF"  # "...the European Universities ..."
UNIVERSITIES = "HORIZON-CL4-2027-01-MAT-PROD-42"  # "...from universities and public research..."


@pytest.fixture(scope="module")
def phrase_flags(calls, settings) -> dict[str, tuple[str, ...]]:
    """Flags of two real calls for a hand-written profile rejecting 'european universities'."""
    # 'european universities' is a negative keyword of two departments in config/.
    department = _department("schools", en={"school": 1.0}, negative=("european universities",))
    chosen = [c for c in calls if c.id in (EUROPEAN_UNIVERSITIES, UNIVERSITIES)]
    table = Matcher([department], [], settings).fit(calls).score(chosen)
    return {call.id: table.match(call.id, "schools").flags for call in table.calls}


def test_negative_phrase_rejects_calls_with_the_phrase(phrase_flags):
    """A call naming the European Universities initiative is flagged by the phrase."""
    assert "negative:european universities" in phrase_flags[EUROPEAN_UNIVERSITIES]


def test_negative_phrase_spares_calls_with_only_one_of_its_words(phrase_flags):
    """A call that mentions universities, but not European Universities, is not rejected."""
    assert "negative:european universities" not in phrase_flags[UNIVERSITIES]


def test_preferred_programme_lifts_the_score(table, settings):
    """A call of a preferred programme scores 1 + boost times higher, flagged."""
    plain = table.match(LIFE_ADAPTATION, "climate")
    preferred = table.match(LIFE_ADAPTATION, "climate-preferred")
    assert preferred.score > plain.score
    assert preferred.score == pytest.approx(
        plain.score * (1 + settings.preferred_programme_boost), rel=0.01
    )
    assert "preferred-programme" in preferred.flags
    explanation = table.explain(LIFE_ADAPTATION, "climate-preferred")
    assert ("preferred-programme", 1 + settings.preferred_programme_boost) in explanation.factors


def test_preferred_programme_needs_its_whole_abbreviation(table):
    """Calls of other programmes, or a part of the abbreviation, get no boost."""
    assert "preferred-programme" not in table.match(DISASTER_RISK, "climate-preferred").flags
    assert "preferred-programme" not in table.match(LIFE_ADAPTATION, "climate-preferred-part").flags


# Eligibility rules ---------------------------------------------------------------------

# For each rule of config/matching.toml: a real call whose text says who may apply, and a
# real call that does not.
RULE_CALLS = {
    # Programme "EU External Action - Prospect (RELEX-PROSPECT)".
    "third-countries": ("EuropeAid/186723/DD/ACT/EG", CLIMATE_ADAPTATION),
    # Title "Financial Support to Startups and Scaleups (...)".
    "companies-only": ("HORIZON-EIT-2025-KIC-IBA-CC#15343COMPETITIVE_CALLen", CLIMATE_ADAPTATION),
    # "...on the basis of designations by Member States..." (EFSA scientific assistance).
    "national-authorities": ("EUBA-EFSA-2026-PLANTS-01", CLIMATE_ADAPTATION),
    # Tillväxtverket: "Bygg robust bredband i Övre Norrland".
    "other-swedish-region": (NORRLAND_BROADBAND, SMALAND_ENERGY),
    # Tillväxtverket: "Främja energieffektivitet i Småland och Öarna".
    "own-region": (SMALAND_ENERGY, NORRLAND_BROADBAND),
}


@pytest.fixture(scope="module")
def rule_tables(calls, settings, config):
    """The real calls scored for a broad hand-written profile, with and without the rules."""
    with_rules = replace(settings, eligibility_rules=config.matching.eligibility_rules)
    scored = Matcher([BROAD], [], with_rules).fit(calls).score(calls)
    plain = Matcher([BROAD], [], settings).fit(calls).score(calls)
    return scored, plain


def test_every_configured_rule_is_covered(config):
    """Each eligibility rule of config/matching.toml has a real call in these tests."""
    assert {rule.id for rule in config.matching.eligibility_rules} == set(RULE_CALLS)


@pytest.mark.parametrize("rule_id", sorted(RULE_CALLS))
def test_eligibility_rule_flags_a_real_call(rule_tables, config, rule_id):
    """A real call whose text triggers the rule is flagged and gets the rule's factor."""
    rule = next(r for r in config.matching.eligibility_rules if r.id == rule_id)
    scored, plain = rule_tables
    call_id = RULE_CALLS[rule_id][0]
    match = scored.match(call_id, "broad")
    assert f"rule:{rule_id}" in match.flags
    assert (f"rule:{rule_id}", rule.factor) in scored.explain(call_id, "broad").factors
    before = plain.match(call_id, "broad").score
    assert before > 0
    assert (match.score > before) == (rule.factor > 1)


@pytest.mark.parametrize("rule_id", sorted(RULE_CALLS))
def test_eligibility_rule_spares_other_calls(rule_tables, rule_id):
    """A real call whose text does not say so is not flagged by the rule."""
    scored, _ = rule_tables
    assert f"rule:{rule_id}" not in scored.match(RULE_CALLS[rule_id][1], "broad").flags


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


def test_score_needs_fit(settings, calls):
    """Scoring before fitting is a clear error."""
    with pytest.raises(RuntimeError, match="fit"):
        Matcher([BROAD], [], settings).score(calls[:3])


def test_ranking_of_an_unknown_department_is_a_key_error(table):
    """Asking for a department that is not in the matcher names it."""
    with pytest.raises(KeyError, match="nowhere"):
        table.ranking("nowhere")


# Look-ups by id ------------------------------------------------------------------------


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
