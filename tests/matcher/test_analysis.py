"""Bilingual text analysis: Snowball stems, stop words, bigrams, language detection, rules.

Language detection runs on real call titles from ../shared/research/calls.jsonl, and the
rule pre-check on the labelled calls of ../shared/eval/dev.jsonl, both read where they lie.
"""

from __future__ import annotations

import json
import re

import pytest

from eufunds.config import load_config
from matcher.analysis import (
    STOP_WORDS,
    Analyser,
    detect_language,
    phrase_terms,
    stem,
    stems,
    terms,
    words,
)
from matcher.rule_hints import required_text
from tests.conftest import SHARED

CALLS = SHARED / "research" / "calls.jsonl"
LABELLED_CALLS = SHARED / "eval" / "dev.jsonl"


@pytest.fixture(scope="module")
def research_rows() -> list[dict]:
    """Every row of the research call list."""
    with CALLS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def swedish_titles(research_rows) -> list[str]:
    """Titles of the calls scraped from Tillväxtverket (Swedish)."""
    titles = [r["title"] for r in research_rows if "tillvaxt" in r["origin"]]
    assert len(titles) >= 10
    return titles


@pytest.fixture(scope="module")
def english_calls(research_rows) -> list[dict]:
    """Calls of the Funding & Tenders Portal feed (English)."""
    rows = [r for r in research_rows if "eu-grants-feed" in r["origin"]]
    assert len(rows) >= 700
    return rows


@pytest.mark.parametrize(
    "inflected", ["klimatanpassningen", "klimatanpassningar", "klimatanpassningens"]
)
def test_swedish_inflections_share_a_stem(inflected):
    """Swedish definite and plural forms stem like the base form."""
    assert stem(inflected, "sv") == stem("klimatanpassning", "sv")


@pytest.mark.parametrize(
    ("word", "base"),
    [("adapting", "adaptation"), ("communities", "community"), ("renovations", "renovation")],
)
def test_english_inflections_share_a_stem(word, base):
    """English inflections and derivations stem like their base form."""
    assert stem(word, "en") == stem(base, "en")


def test_hyphenated_word_stems_its_last_part():
    """A hyphenated word keeps its head and stems its tail."""
    assert stem("nature-based", "en") == "nature-" + stem("based", "en")


def test_words_keep_inner_hyphens_and_drop_digits():
    """Words are lower-cased letters with inner hyphens; numbers are not words."""
    assert words("E-tjänster 2026 för Nature-Based solutions!") == [
        "e-tjänster",
        "för",
        "nature-based",
        "solutions",
    ]


def test_english_stop_words_and_funding_boilerplate_are_removed():
    """English function words and words every call uses leave no stem."""
    text = "The proposals should address the expected outcomes of the call for municipalities"
    assert stems(text, "en") == [stem("municipalities", "en")]
    assert {"proposals", "should", "expected", "the"} <= STOP_WORDS["en"]


def test_swedish_stop_words_are_removed():
    """Swedish function words leave no stem."""
    found = stems("Kommunen och regionen ska arbeta med klimatanpassningen i staden", "sv")
    assert found == [
        stem("kommunen", "sv"),
        stem("regionen", "sv"),
        stem("arbeta", "sv"),
        stem("klimatanpassningen", "sv"),
        stem("staden", "sv"),
    ]


def test_swedish_stop_words_are_not_english_ones():
    """Each language has its own list: 'och' is Swedish only, 'the' English only."""
    assert "och" in STOP_WORDS["sv"] and "och" not in STOP_WORDS["en"]
    assert "the" in STOP_WORDS["en"] and "the" not in STOP_WORDS["sv"]


def _split(features: list[str]) -> tuple[list[str], list[str]]:
    """Unigram and bigram features, apart."""
    return [f for f in features if " " not in f], [f for f in features if " " in f]


def test_terms_are_stems_then_bigrams_of_adjacent_stems():
    """Features are one per content stem, then one per pair of neighbouring content stems."""
    climate, adaptation, coastal, cities = (
        stem(w, "en") for w in ("climate", "adaptation", "coastal", "cities")
    )
    unigrams, bigrams = _split(terms("Climate adaptation of coastal cities", "en"))
    assert len(unigrams) == 4 and len(bigrams) == 3
    stems_in_order = [climate, adaptation, coastal, cities]
    assert all(u.endswith(s) for u, s in zip(unigrams, stems_in_order, strict=True))
    assert bigrams[0].endswith(f"{climate} {adaptation}")
    assert not any(f"{climate} {coastal}" in b for b in bigrams)


def test_bigrams_bridge_removed_stop_words():
    """A stop word between two content words does not stop them forming a bigram."""
    assert terms("adaptation of cities", "en") == terms("adaptation cities", "en")


def test_phrase_terms_drop_inner_stop_words():
    """'våld i nära relationer' stands for what 'våld nära relationer' stands for."""
    features = phrase_terms("våld i nära relationer", "sv")
    assert features == phrase_terms("våld nära relationer", "sv")
    unigrams, bigrams = _split(features)
    assert len(unigrams) == 3 and len(bigrams) == 2


def test_single_word_phrase_has_no_bigram():
    """A one-word keyword stands for its stem alone, whatever its case."""
    features = phrase_terms("Dagvatten", "sv")
    assert features == phrase_terms("dagvatten", "sv")
    assert len(features) == 1 and stem("dagvatten", "sv") in features[0]


def test_swedish_and_english_features_never_collide():
    """'parker' (sv) and 'park' (en) share a stem but no feature: the languages stay apart."""
    assert stem("parker", "sv") == stem("park", "en")
    assert set(terms("parker", "sv")).isdisjoint(terms("park", "en"))


def test_detects_a_real_swedish_title(swedish_titles):
    """A real Tillväxtverket title is Swedish."""
    title = next(t for t in swedish_titles if "energieffektivitet" in t)
    assert detect_language(title) == "sv"


def test_detects_every_real_swedish_title(swedish_titles):
    """Every Tillväxtverket title in the research list is detected as Swedish."""
    assert [t for t in swedish_titles if detect_language(t) != "sv"] == []


def test_detects_a_real_english_title(english_calls):
    """A real Funding & Tenders Portal title is English."""
    title = next(r["title"] for r in english_calls if r["id"] == "HORIZON-MISS-2026-01-CLIMA-02")
    assert detect_language(title) == "en"


def test_detects_every_real_english_call(english_calls):
    """Every portal call (title and description, as the matcher reads it) is English."""
    swedish = [
        r["id"]
        for r in english_calls
        if detect_language(f"{r['title']} {r['description']}") != "en"
    ]
    assert swedish == []


# The literal pre-check of rule patterns ------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("EU External Action", "eu external action"),
        (r"\bEuropeAid\b", "europeaid"),
        (r"designations? by (the )?member states", "member states"),
        (r"established in (a|an) (eligible )?(third|partner) countr", "established in "),
        (r"start-?ups", "start"),
        (r"colou*r", "colo"),
        (r"ab{2,3}cd", "cd"),
        (r"aa+?b*cd", "cd"),
        (r"e\.g\. cities", "e.g. cities"),
        (r"non\-profit", "non-profit"),
        (r"open call[^.:]{0,60}\bSMEs", "open call"),
        (r"[)\]]yz", "yz"),
        (r"\s+climate\s+", "climate"),
        (r"^Interreg$", "interreg"),
        (r"cities.*towns", "cities"),
        (r"\bJönköpings län\b", "jönköpings län"),
    ],
)
def test_required_text_is_the_longest_literal_run(pattern, expected):
    """Groups, classes, escapes, '.' and anchors end a run; a quantifier drops its character."""
    assert required_text(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        "climate|energy",
        "(climate adaptation|energy)",
        "(?x) climate adaptation",
        "(?#a comment)climate",
        r"\x41ction",
        r"(city)\1 twins",
        "climate(",
    ],
    ids=[
        "top-level-alternative",
        "only-a-group",
        "inline-flag",
        "comment",
        "unknown-escape",
        "back-reference",
        "not-a-pattern",
    ],
)
def test_required_text_is_empty_when_unsure(pattern):
    """A pattern the scan cannot read with certainty requires nothing, so nothing is skipped."""
    assert required_text(pattern) == ""


@pytest.fixture(scope="module")
def rules() -> list[tuple[str, tuple[str, ...]]]:
    """The eligibility rules of config/matching.toml: id and patterns."""
    return [(rule.id, rule.patterns) for rule in load_config().matching.eligibility_rules]


@pytest.fixture(scope="module")
def labelled_rows() -> list[dict]:
    """Every labelled call of the dev set."""
    with LABELLED_CALLS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_required_text_is_in_every_real_match(rules, labelled_rows):
    """Wherever a configured pattern matches a real call, its required text is there too."""
    texts = [
        f"{row['title']}\n{row.get('description') or ''}\n{row['programme']}"
        for row in labelled_rows
    ]
    matched = 0
    for pattern in (pattern for _, patterns in rules for pattern in patterns):
        required = required_text(pattern)
        for text in texts:
            if re.search(pattern, text, re.IGNORECASE):
                matched += 1
                assert required in text.lower(), (pattern, required)
    assert matched >= 10


def test_rule_hits_are_what_the_patterns_find(rules, labelled_rows):
    """The pre-check only spares searches: rule hits are those of the patterns alone."""
    analyser = Analyser(2.0, rules)
    hit = 0
    for row in labelled_rows:
        title, summary, programme = (
            row["title"],
            row.get("description") or "",
            row.get("programme") or "",
        )
        rule_text = f"{title}\n{summary}\n{programme}"
        expected = tuple(
            rule_id
            for rule_id, patterns in rules
            if any(re.search(pattern, rule_text, re.IGNORECASE) for pattern in patterns)
        )
        assert analyser.analyse("en", title, "", summary, programme).rules == expected
        hit += bool(expected)
    assert hit >= 10


@pytest.mark.parametrize(
    ("word", "other", "language"),
    [
        ("park", "parking", "en"),
        ("cycle", "cycling", "en"),  # a life cycle is no cycle path
        ("train", "training", "en"),
        ("mobile", "mobility", "en"),
        ("prize", "prise", "en"),  # short words keep their z: prizes are no "prises"
        ("park", "parkering", "sv"),
    ],
)
def test_stems_keep_apart_words_of_other_meanings(word, other, language):
    """Words Snowball would give one stem, though they mean different things, stay apart."""
    assert stem(word, language) != stem(other, language)


@pytest.mark.parametrize(
    ("word", "other", "language"),
    [
        ("entrepreneurship", "entrepreneurs", "en"),
        ("entrepreneurial", "entrepreneur", "en"),
        ("environment", "environmental", "en"),
        ("children", "child", "en"),
        ("women", "woman", "en"),
        # American spelling meets the British spelling EU calls use.
        ("organization", "organisation", "en"),
        ("labor", "labour", "en"),
        ("neighborhoods", "neighbourhood", "en"),
        ("center", "centre", "en"),
        ("defense", "defence", "en"),
        ("städer", "stad", "sv"),
        ("miljön", "miljö", "sv"),
        ("cyklar", "cykel", "sv"),
    ],
)
def test_stems_join_words_of_one_family(word, other, language):
    """Words of one family that Snowball would split get one stem."""
    assert stem(word, language) == stem(other, language)
