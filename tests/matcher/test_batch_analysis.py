"""Analyses of many calls at once are the per-call path's, byte for byte.

The per-call path (``Analyser.analyse``, ``analyse_call``) is the reference. The batch path
(``batch_analysis.analyse_many``, which ``Matcher.analyses`` uses) must store the same fields
for the calls of the real replayed snapshot, the research calls (English and Swedish, read
where they lie in ../shared), and texts made to probe the edges of tokenising, lower-casing
and the rules' pre-checks.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from pathlib import Path

import pytest

from db import Call, Store
from eufunds.config import load_config
from matcher import batch_analysis
from matcher.analysis import Analyser, CallAnalysis
from matcher.batch_analysis import analyse_many, forget_vocabulary
from matcher.rank import Matcher, analyse_call, analyse_calls, analyser_for, call_language
from tests.support.databases import copy_database

# Patterns beside the configured ones: groups of alternatives (required choices), a pattern
# that needs a case twin ("ſ" is an "s" to a case-insensitive pattern), a top-level "|".
PROBE_RULES = [
    ("pilots", [r"\b(pilot|lighthouse) (cities|sites)\b"]),
    ("smes", [r"\bfor (tech )?(SMEs|start-?ups)\b", "climate|energy"]),
    ("twins", ["(six|nine) (istanbul|ankara)"]),
]


@pytest.fixture(autouse=True)
def fresh_vocabulary():
    """Each test starts from an empty vocabulary, as a new process would."""
    forget_vocabulary()


@pytest.fixture(scope="module")
def analyser() -> Analyser:
    """The analyser of the embedded configuration (its title weight and rules)."""
    return analyser_for(load_config().matching)


@pytest.fixture(scope="module")
def snapshot_calls(crawled_snapshot: Path, tmp_path_factory) -> list[Call]:
    """Every call of the replayed real snapshot, as stored."""
    db_path = copy_database(crawled_snapshot, tmp_path_factory.mktemp("batch") / "calls.db")
    with Store(db_path) as store:
        return store.list_calls()


def stored(analyses: list[CallAnalysis]) -> list[dict]:
    """The fields each analysis is stored as (arrays as their bytes)."""
    return [analysis.to_fields() for analysis in analyses]


def test_snapshot_analyses_are_the_per_call_ones(snapshot_calls, analyser):
    """Every call of the real snapshot, analysed in one batch, is stored as analysed alone."""
    reference = [analyse_call(call, analyser) for call in snapshot_calls]
    assert stored(analyse_calls(snapshot_calls, analyser)) == stored(reference)
    assert len(snapshot_calls) >= 600
    assert sum(bool(analysis.rules) for analysis in reference) >= 50


def test_research_calls_in_both_languages(calls, analyser):
    """The research calls (Swedish ones among them) analysed in one batch."""
    reference = [analyse_call(call, analyser) for call in calls]
    assert stored(analyse_calls(calls, analyser)) == stored(reference)
    swedish = [analysis for analysis in reference if analysis.language == "sv"]
    assert len(swedish) >= 10
    assert sum(bool(analysis.swedish_words) for analysis in swedish) >= 10


def test_small_batches_in_another_order_with_the_vocabulary_kept(calls, analyser):
    """Batches of a few calls, shuffled, each meeting what earlier batches left behind."""
    order = list(range(len(calls)))
    random.Random(14).shuffle(order)
    for start in range(0, 210, 7):
        batch = [calls[number] for number in order[start : start + 7]]
        reference = [analyse_call(call, analyser) for call in batch]
        assert stored(analyse_calls(batch, analyser)) == stored(reference)


def test_the_vocabulary_starts_over_when_large(calls, analyser, monkeypatch):
    """A vocabulary past its size limit is dropped between batches; results stay the same."""
    monkeypatch.setattr("matcher.vocabulary.MAX_CACHED_WORDS", 200)
    for start in range(0, 300, 100):
        batch = calls[start : start + 100]
        before = batch_analysis._vocabulary
        reference = [analyse_call(call, analyser) for call in batch]
        assert stored(analyse_calls(batch, analyser)) == stored(reference)
        assert start == 0 or batch_analysis._vocabulary is not before


def test_matcher_analyses_only_the_calls_it_lacks(snapshot_calls, config):
    """Matcher.analyses takes given analyses, keeps what it made, and makes the rest at once."""
    matcher = Matcher(config.departments, config.focus_areas, config.matching)
    half = {call.id: analyse_call(call, matcher.analyser) for call in snapshot_calls[::2]}
    analyses = matcher.analyses(snapshot_calls, half)
    assert all(analyses[2 * n] is half[call.id] for n, call in enumerate(snapshot_calls[::2]))
    reference = [analyse_call(call, matcher.analyser) for call in snapshot_calls]
    assert stored(analyses) == stored(reference)
    assert all(a is b for a, b in zip(matcher.analyses(snapshot_calls), analyses, strict=True))


def test_no_calls():
    """An empty batch has no analyses."""
    assert analyse_many(Analyser(2.0, []), []) == []


EDGE_TEXTS = [
    "",
    "   ",
    "Q",
    "QQ q Q-Q",
    "e-tjänster för Nature-Based solutions -x- a--b -- - c- -d",
    "children’s rights — and women’s “health” … 2026_call x_y 3D",
    "DIGITAL-2026-BESTUSE-09 ERASMUS+ H2020 CO₂ ²⁄₃ ½ Ⅻ",
    "ΟΔΟΣ ΑΣ Σ. ΜΑΣ\nΟΔΟΣ",
    "İstanbul ıstanbul pilot ſites Six İSTANBUL for SMEſ KELVIN",
    "Pilot Cities for tech start-ups, lighthouse sites",
    "\x00nul\x00 \ud800 lone surrogate \udfff end",
    "tab\tline\nfeed\rcarriage\x0bvertical\x1cfile\u2028line\u00a0nbsp\u3000wide",
    "Fußball STRASSE ǅungla ﬁnance ﬂow",
    "Kommunerna och regionerna: klimatanpassningsåtgärder, vänortssamarbete, ungdomsutbyten",
    "local and regional authorities of municipalities; Research and Innovation Actions",
]


def edge_calls() -> list[tuple[str, str, str, str, str]]:
    """Calls made of the edge texts, in both languages and every place of a call."""
    made = []
    for number, text in enumerate(EDGE_TEXTS):
        other = EDGE_TEXTS[(number + 3) % len(EDGE_TEXTS)]
        for language in ("en", "sv"):
            made.append((language, text, other, f"{text} {other}", text[:12]))
            made.append((language, other, "", text, ""))
    return made


@pytest.mark.parametrize("title_weight", [1.0, 2.0, 3.4])
def test_edge_texts(analyser, title_weight):
    """Texts at the edges of tokenising, lower-casing and the rules: as the reference."""
    rules = [(rule_id, patterns) for rule_id, patterns in PROBE_RULES]
    rules += [(rule_id, [pattern.pattern for _, pattern in p]) for rule_id, p in analyser.rules]
    probe = Analyser(title_weight, rules)
    made = edge_calls()
    reference = [probe.analyse(*call) for call in made]
    assert stored(analyse_many(probe, made)) == stored(reference)
    assert sum("twins" in analysis.rules for analysis in reference) >= 2
    assert sum("pilots" in analysis.rules for analysis in reference) >= 2


ALPHABET = list("aeiouklmnpsty -.,’—\n") + [
    "Q",
    "ſ",
    "İ",
    "ı",
    "Σ",
    "å",
    "ö",
    "2",
    "_",
    "\x00",
    "och ",
    "the ",
    "pilot ",
    "sites ",
    "for ",
    "SMEs ",
    "istanbul ",
    "six ",
]


def random_calls(seed: int, count: int) -> list[tuple[str, str, str, str, str]]:
    """Calls of random texts over ALPHABET (letters, stop words, rule words, oddities)."""
    generator = random.Random(seed)

    def text(length: int) -> str:
        return "".join(generator.choice(ALPHABET) for _ in range(generator.randint(0, length)))

    return [
        (generator.choice(["en", "sv"]), text(20), text(30), text(200), text(10))
        for _ in range(count)
    ]


def test_random_texts(analyser):
    """Random texts over an alphabet of letters, stop words, rule words and oddities."""
    probe = Analyser(2.0, PROBE_RULES)
    made = random_calls(14, 600)
    reference = [probe.analyse(*call) for call in made]
    assert stored(analyse_many(probe, made)) == stored(reference)
    assert sum(bool(analysis.rules) for analysis in reference) >= 20


def test_batches_from_two_threads(calls, analyser):
    """Two threads analysing at once share the vocabulary and get the reference analyses."""
    halves = [calls[: len(calls) // 2], calls[len(calls) // 2 :]]
    results: dict[int, list[CallAnalysis]] = {}

    def analyse(number: int) -> None:
        results[number] = analyse_calls(halves[number], analyser)

    threads = [threading.Thread(target=analyse, args=(number,)) for number in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for number, half in enumerate(halves):
        assert stored(results[number]) == stored([analyse_call(c, analyser) for c in half])


def test_detected_language_is_kept(calls, analyser):
    """A call whose source names no language is analysed in the one detected."""
    call = dataclasses.replace(calls[0], language="")
    [analysis] = analyse_calls([call], analyser)
    assert analysis.language == call_language(call)
