"""Score factors: negative keywords, preferred programmes and who-may-apply rules.

Real calls and hand-written profiles, see tests/matcher/support.py.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from crawler.regions import regions_named
from db.programmes import plain_programme, programme_is
from matcher.rank import Matcher
from tests.matcher.support import (
    BROAD,
    CLIMATE_ADAPTATION,
    CLIMATE_SERVICES,
    DISASTER_RISK,
    LIFE_ADAPTATION,
    NORRLAND_BROADBAND,
    SMALAND_ENERGY,
    hand_written_department,
)

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
    department = hand_written_department(
        "schools", en={"school": 1.0}, negative=("european universities",)
    )
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
    """Calls of other programmes, or a code that names no programme, get no boost."""
    assert "preferred-programme" not in table.match(DISASTER_RISK, "climate-preferred").flags
    assert "preferred-programme" not in table.match(LIFE_ADAPTATION, "climate-preferred-part").flags


@pytest.mark.parametrize(
    ("programme", "code", "preferred"),
    [
        # Programme names as the real calls of ../shared carry them.
        ("Justice Programme (JUST)", "JUST", True),
        ("Just Transition Mechanism (JTM)", "JUST", False),
        ("Erasmus  (ERASMUS )", "ERASMUS", True),
        ("European Social Fund   (ESF) ", "ESF", True),
        ("Tillväxtverket (EU funding, regionalfondsprogram)", "ERUF", True),
        ("Pilot Projects %26 Preparation Actions (PPPA)", "PPPA", True),
        # Programme names the other configured sources give their calls.
        ("Interreg Baltic Sea Region", "INTERREG", True),
        ("Interreg", "INTERREG", True),
        ("Interregional Innovation Investments Instrument (I3)", "INTERREG", False),
        ("Europeiska socialfonden+ (ESF+)", "ESF", True),
        ("Vinnova", "ERUF", False),
    ],
)
def test_preferred_programme_codes_name_the_programmes_calls_carry(
    settings, programme, code, preferred
):
    """A code of matching.toml's [programmes] covers exactly its programmes' names."""
    names = dict(settings.programmes)[code]
    assert programme_is(plain_programme(programme), names) is preferred


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
    # "...local authorities..." (mobility for all).
    "local-authorities": ("HORIZON-CL5-2027-06-D6-08", "HORIZON-CL5-2027-07-D3-16"),
    # "Living labs driving transformative change...".
    "pilot-sites": ("HORIZON-CL6-2027-01-BIODIV-06", CLIMATE_ADAPTATION),
    # "MSCA Doctoral Networks 2027".
    "research-action": ("HORIZON-MSCA-2027-DN-01-01", CLIMATE_ADAPTATION),
    # "Sustainable Gender Equality Champions" (a prize).
    "prize": ("HORIZON-WIDERA-2026-GENDER-Prize-01", CLIMATE_ADAPTATION),
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


# Calls for other regions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("regions", "flag", "factor"),
    [
        (["ES", "FR", "PT"], "out-of-area", "out_of_area_factor"),  # Interreg, south-west Europe
        (["SE33"], "out-of-area", "out_of_area_factor"),  # Övre Norrland
        (["SE21", "SE22"], "own-area", "own_area_factor"),  # Småland med öarna holds SE211
        (["SE211", "SE212", "SE213"], "own-area", "own_area_factor"),  # Jönköpings, Kronobergs...
        (["SE211", "FI", "DK"], None, None),  # an Interreg area that holds ours among others
        (["SE"], None, None),  # all of Sweden
        ([], None, None),  # a call that names no region is for anyone
    ],
)
def test_a_calls_regions_lower_or_lift_it(calls, settings, regions, flag, factor):
    """A call whose regions leave out Jönköpings län (SE211) scores lower by the area factor,
    flagged out of area; a Swedish call for our region scores higher, flagged own area; one
    for a wider area holding ours, or naming none, is neither."""
    call = next(c for c in calls if c.id == CLIMATE_ADAPTATION)
    placed = replace(call, id=f"{call.id}-placed", regions=regions)
    matcher = Matcher([BROAD], [], settings).fit(calls)
    table = matcher.score([call, placed])
    plain, there = table.match(call.id, "broad"), table.match(placed.id, "broad")
    expected = getattr(settings, factor) if factor else 1.0
    assert there.score == pytest.approx(plain.score * expected, rel=0.01)
    area_flags = {"out-of-area", "own-area"} & set(there.flags)
    assert area_flags == ({flag} if flag else set())


@pytest.mark.parametrize(
    ("call_id", "flag"),
    [(NORRLAND_BROADBAND, "out-of-area"), (SMALAND_ENERGY, "own-area")],
)
def test_swedish_calls_are_placed_by_the_regions_their_text_names(calls, settings, call_id, flag):
    """Real Tillväxtverket calls, their regions read from their text as the crawl does
    ("i Övre Norrland", "i Småland och Öarna"): flagged by where they are for."""
    call = next(c for c in calls if c.id == call_id)
    placed = replace(call, regions=regions_named(f"{call.title}\n{call.summary}"))
    table = Matcher([BROAD], [], settings).fit(calls).score([placed])
    assert flag in table.match(call_id, "broad").flags
