"""Feature keys: every feature of the real calls and of the default profiles has its own key,
and a profile word never picks up an unrelated feature of a call.

The calls are the 1,394 real calls of ../shared/research/calls.jsonl and the 502 of
../shared/eval/dev.jsonl, read where they lie.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import replace

from eufunds.config import load_config
from matcher.analysis import feature_key, phrase_terms, terms
from matcher.profiles import prepare_department
from matcher.rank import Matcher, call_language
from tests.conftest import REPO, SHARED
from tests.matcher.support import hand_written_department, research_call

# With the 20-bit hash used before, this Swedish housing keyword shared its column with the
# English bigram "eu nation" ("EU national ..."), so English calls scored for it.
HOUSING = "bostadsförsörjning"
OLD_HASH_PARTNER = "eu nation"


def _rows(path):
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_every_real_feature_has_a_key_of_its_own(settings):
    """All distinct features of 1,896 real calls and of the 13 default profiles have
    distinct keys (tens of thousands of features)."""
    features: set[str] = set()
    for row in _rows(SHARED / "research" / "calls.jsonl") + _rows(SHARED / "eval" / "dev.jsonl"):
        call = research_call(row | {"status": "Open for submission", "deadline": None})
        language = call_language(call)
        features.update(terms(f"{call.title} {call.programme} {call.summary}", language))
    config = load_config(REPO / "config")
    for department in config.departments:
        profile = prepare_department(department, config.matching.terms)
        features.update(f for keyword in profile.keywords for f, _ in keyword.features)
    assert len(features) > 20_000
    assert len({feature_key(feature) for feature in features}) == len(features)


def test_a_profile_word_does_not_score_an_unrelated_feature(settings):
    """An English call about EU national authorities has no text score for a profile whose
    only keyword is the Swedish word for housing supply (the pair collided before)."""

    def old_column(feature: str) -> int:
        return zlib.crc32(feature.encode()) & 0xFFFFF

    [housing_feature] = terms(HOUSING, "sv")
    assert old_column(housing_feature) == old_column(OLD_HASH_PARTNER)
    call = research_call(
        {
            "id": "hand-written",
            "title": "Support to EU national authorities",
            "description": "Cooperation between EU national authorities on reporting.",
            "programme": "Hand-written",
            "url": "",
            "status": "Open for submission",
            "deadline": None,
        }
    )
    housing = hand_written_department("housing", sv={HOUSING: 3.0})
    matcher = Matcher([housing], [], settings).fit([call])
    assert OLD_HASH_PARTNER in terms(call.title, "en")
    assert matcher.score([call]).text[0, 0] == 0.0


def _hand_written_call(call_id: str, title: str, summary: str = "", **fields):
    """A hand-written call (no real call isolates these wordings)."""
    row = {
        "id": call_id,
        "title": title,
        "description": summary,
        "programme": "Hand-written",
        "url": "",
        "status": "Open for submission",
        "deadline": None,
    }
    return replace(research_call(row), **fields)


def test_a_negation_stays_in_a_phrase(settings, calls):
    """'not in employment' keeps its 'not': a call for young people not in employment
    scores higher for it than a call about employment growth."""
    assert "not employ" in phrase_terms("not in employment", "en")
    neets = _hand_written_call("neets", "Young people not in employment or education")
    growth = _hand_written_call("growth", "Employment growth in young companies")
    department = hand_written_department("neets", en={"not in employment": 3.0})
    table = Matcher([department], [], settings).fit([*calls, neets, growth]).score([neets, growth])
    assert table.text[0, 0] > 2 * table.text[1, 0]


def test_programme_divisions_are_no_call_text(settings, calls):
    """A call in the division 'Neighbourhood East' (a region of the world) has no text score
    for a profile about neighbourhoods unless its own text is about them."""
    department = hand_written_department("neighbourhoods", en={"neighbourhoods": 3.0})
    east = _hand_written_call(
        "east", "Support to civil society", programme_divisions=["Neighbourhood East"]
    )
    local = _hand_written_call("local", "Renewal of deprived neighbourhoods")
    table = Matcher([department], [], settings).fit([*calls, east, local]).score([east, local])
    assert table.text[0, 0] == 0.0
    assert table.text[1, 0] > 0.0


def test_content_words_are_no_stop_words():
    """Words scikit-learn's stop list holds but calls mean: fire, system, third."""
    assert phrase_terms("fire prevention", "en") == ["fire", "prevent", "fire prevent"]
    assert "energi system" in terms("energy system", "en")
    assert "third countri" in terms("third countries", "en")


def test_the_words_of_a_phrase_count_only_together(settings, calls):
    """'fire prevention': a call about preventing diseases gets nothing from it; a call with
    both words (not side by side) gets its single words' share; the phrase itself the most."""
    prevention = _hand_written_call("diseases", "Prevention of infectious diseases")
    both = _hand_written_call("both", "Prevention and response: fire services in rural areas")
    phrase = _hand_written_call("phrase", "Fire prevention in rural areas")
    department = hand_written_department("fire", en={"fire prevention": 3.0})
    corpus = [*calls, prevention, both, phrase]
    table = Matcher([department], [], settings).fit(corpus).score([prevention, both, phrase])
    assert table.text[0, 0] == 0.0
    assert 0.0 < table.text[1, 0] < table.text[2, 0]
    assert table.match("both", "fire").terms == (("fire prevention", 1.0),)
    assert table.match("diseases", "fire").terms == ()
