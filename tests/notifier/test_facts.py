"""What a digest item says of a call (notifier/facts.py), on the snapshot's real calls: the
kind of funding in Swedish, consortium, grant per project, who may apply, Swedish terms and
the summary without the portal's headings."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from db import Store
from db.records import Call
from notifier.facts import (
    action_type,
    clean_summary,
    consortium,
    grant_text,
    swedish_terms,
    who_may_apply,
)
from tests.support.databases import copy_database

CL5 = "ft_portal/HORIZON-CL5-2027-07-D3-16"


@pytest.fixture(scope="module")
def calls(crawled_snapshot, tmp_path_factory) -> dict[str, Call]:
    """The snapshot's crawled calls, by id."""
    path = copy_database(crawled_snapshot, tmp_path_factory.mktemp("facts") / "calls.db")
    with Store(path) as store:
        return {call.id: call for call in store.list_calls()}


def test_every_kind_of_funding_in_the_snapshot_is_said_in_swedish(calls):
    """Each type of action the portal gives (and cascade calls) has a Swedish name; none
    falls back to the portal's English words."""
    english = {
        call.type_of_action: action_type(call)
        for call in calls.values()
        if call.type_of_action and action_type(call) == call.type_of_action
    }
    assert english == {}
    cascades = [call for call in calls.values() if call.kind == "cascade"]
    assert cascades
    assert all(action_type(call).startswith(("kaskad", "pris")) for call in cascades)


@pytest.mark.parametrize(
    ("given", "swedish"),
    [
        ("HORIZON Research and Innovation Actions", "forskningsprojekt"),
        ("HORIZON Innovation Actions", "innovationsprojekt (demonstration och pilot)"),
        ("HORIZON Coordination and Support Actions", "samordningsprojekt"),
        ("CERV Lump Sum Grants", "projektbidrag med klumpsumma"),
        ("LIFE Operating Grants Framework Partnerships", "driftsbidrag"),
        ("HORIZON Recognition Prize", "pris"),
        ("HORIZON Pre-commercial Procurement", "innovationsupphandling"),
        ("LIFE Project Grants", "projektbidrag"),
        ("EUBA Type of Action", ""),
    ],
)
def test_kinds_of_funding(calls, given, swedish):
    """Real types of action of the snapshot, each as a municipality would call it."""
    call = next(c for c in calls.values() if c.type_of_action == given)
    assert action_type(call) == swedish


def test_grant_per_project_is_told_apart_from_the_budget(calls):
    """A Horizon topic of 28.5 million euro for three projects: 9.5 million per project."""
    call = calls[CL5]
    assert call.budget_eur == 28_500_000
    assert grant_text(call) == "9,5 miljoner euro per projekt (3 projekt väntas få bidrag)"
    ranged = replace(call, grant_min_eur=2_000_000, grant_max_eur=3_000_000)
    assert grant_text(ranged).startswith("2 miljoner euro till 3 miljoner euro per projekt")
    by_count = replace(call, grant_min_eur=None, grant_max_eur=None)
    assert grant_text(by_count).startswith("cirka 9,5 miljoner euro per projekt")
    assert grant_text(replace(by_count, expected_grants=None)) == ""


def test_consortium_by_programme_rules_and_by_text(calls):
    """Horizon research and innovation actions need three organisations from three countries
    (the programme's general conditions); a call's own text can say so, or say one applicant
    may do; a prize says nothing."""
    ria = next(
        c
        for c in calls.values()
        if c.type_of_action == "HORIZON Research and Innovation Actions"
        and "consorti" not in c.summary.lower()
    )
    assert consortium(ria).startswith("kräver konsortium: minst tre organisationer")
    prize = next(c for c in calls.values() if c.type_of_action == "HORIZON Recognition Prize")
    assert consortium(prize) == ""
    said = [c for c in calls.values() if re.search(r"\bconsorti(um|a)\b", c.summary, re.I)]
    assert said and all(consortium(c) for c in said)
    # Hand-written: no snapshot call says that a single applicant may apply.
    single = replace(prize, summary="Proposals may be submitted by a single applicant.")
    assert consortium(single) == "en sökande kan räcka"


def test_who_may_apply_prefers_the_source(calls):
    """The source's own words when it states who may apply, else the rules' labels."""
    call = calls[CL5]
    assert who_may_apply(call, ["riktar sig till kommuner och regioner"]) == (
        "riktar sig till kommuner och regioner"
    )
    stated = replace(call, audience="Kommuner,  regioner och   företag")
    assert who_may_apply(stated, ["riktar sig till kommuner och regioner"]) == (
        "Kommuner, regioner och företag"
    )


def test_matched_terms_in_swedish_once():
    """A term the configuration pairs with a Swedish one is said in Swedish, and only once."""
    pairs = {"climate adaptation": "klimatanpassning", "town twinning": "vänort"}
    found = ["climate adaptation", "klimatanpassning", "town twinning", "air quality"]
    assert swedish_terms(found, pairs) == ["klimatanpassning", "vänort", "air quality"]


def test_summaries_lose_the_portals_headings(calls):
    """No cleaned summary keeps the portal's 'Expected Outcome:' or 'Scope:' headings, though
    many real summaries carry them; each is cut within 400 characters at a word."""
    headed = [c for c in calls.values() if "Expected Outcome:" in c.summary]
    assert len(headed) > 100
    for call in headed:
        cleaned = clean_summary(call.summary)
        assert "Expected Outcome:" not in cleaned and "Scope:" not in cleaned
        assert len(cleaned) <= 402
        assert cleaned.endswith(" …") or len(cleaned) < 400


def test_footnote_marks_go_and_numbers_stay():
    """Footnote marks after words or stops go; years, decimals, units, CO2 and COVID-19 stay
    (hand-written)."""
    text = "Support policies1 and goals.2 In 2030, CO2 and COVID-19 matter[3]."
    assert clean_summary(text) == "Support policies and goals. In 2030, CO2 and COVID-19 matter."
    kept = "EUR 2.5 million for 40 km2 of land, 1,5 miljoner."
    assert clean_summary(kept) == kept
