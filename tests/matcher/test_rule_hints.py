"""Required choices of the who-may-apply patterns: texts every match contains.

The real matches are those of the configured patterns in the labelled calls of
../shared/eval/dev.jsonl and the research calls, read where they lie.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from eufunds.config import load_config
from matcher.rule_hints import CASE_TWINS, may_skip, required_choices
from tests.conftest import SHARED

LABELLED_CALLS = SHARED / "eval" / "dev.jsonl"
RESEARCH_CALLS = SHARED / "research" / "calls.jsonl"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("EU External Action", [("eu external action",)]),
        (
            r"\b(pilot|lighthouse) (cities|sites)\b",
            [("cities", "sites"), ("lighthouse", "pilot")],
        ),
        (r"\bfor (tech |agrifood )?(SMEs|start-?ups)\b", [("for ",), ("smes", "start")]),
        (r"open call[^.:]{0,60}\b(SMEs|scale-?ups)\b", [("open call",), ("scale", "smes")]),
        ("climate|energy", [("climate", "energy")]),
        (
            "(?:climate|energy) (?:adaptation|efficiency)",
            [("climate", "energy"), ("adaptation", "efficiency")],
        ),
        (r"a(bcd(efg|hij))+klm", [("klm",)]),
        ("(bcd)?klm", [("klm",)]),
        ("(abc|)klm", [("klm",)]),
        ("(?=look)ahead", [("ahead",)]),
        ("(?P<name>named)group", [("group",)]),
        (r"\bJönköpings län\b", []),
        ("(climate|[a-z]+) policy", [(" policy",)]),
        ("member states?", [("member state",)]),
    ],
)
def test_required_choices(pattern, expected):
    """Plain runs, and the longest run of each alternative of a group that must occur."""
    assert sorted(required_choices(pattern)) == sorted(expected)


@pytest.mark.parametrize(
    "pattern",
    ["(?x) climate adaptation", "(?#a comment)climate", r"\x41ction", r"(city)\1 twins", "a("],
    ids=["inline-flag", "comment", "unknown-escape", "back-reference", "not-a-pattern"],
)
def test_no_choices_when_unsure(pattern):
    """A pattern the scan cannot read with certainty requires nothing."""
    assert required_choices(pattern) == ()


def test_case_twins_are_all_the_characters_a_letter_matches_besides_its_own():
    """Every character a case-insensitive a-z matches lower-cases to that letter, except the
    CASE_TWINS (found by trying every character there is)."""
    every = "".join(chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code < 0xE000)
    twins = set()
    for letter in "abcdefghijklmnopqrstuvwxyz":
        found = re.findall(letter, every, re.IGNORECASE)
        twins |= {char for char in found if char.lower() != letter}
    assert twins == set(CASE_TWINS)


def test_may_skip_only_without_case_twins():
    """A text with a case twin may match a pattern without its choices in lower case."""
    assert may_skip("Pilot sites")
    assert not may_skip("Pilot ſites")
    assert re.search("pilot sites", "Pilot ſites", re.IGNORECASE)


@pytest.fixture(scope="module")
def real_texts() -> list[str]:
    """Title, description and programme of the labelled and the research calls."""
    rows = []
    for path in (LABELLED_CALLS, RESEARCH_CALLS):
        with path.open(encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle if line.strip()]
    return [
        f"{row['title']}\n{row.get('description') or ''}\n{row.get('programme') or ''}"
        for row in rows
    ]


def test_choices_hold_in_every_real_match(real_texts):
    """Wherever a configured pattern matches a real call, each of its choices is there."""
    patterns = [p for rule in load_config().matching.eligibility_rules for p in rule.patterns]
    matched = with_choices = 0
    for pattern in patterns:
        choices = required_choices(pattern)
        for text in real_texts:
            if re.search(pattern, text, re.IGNORECASE):
                matched += 1
                with_choices += bool(choices)
                assert may_skip(text)
                lowered = text.lower()
                assert all(any(t in lowered for t in choice) for choice in choices), pattern
    assert matched >= 100
    assert with_choices >= 50
