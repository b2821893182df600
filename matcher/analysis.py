"""Text analysis for Swedish and English: tokens, stop words, Snowball stems, 1–2-grams."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# The Snowball project's Swedish stop-word list.
SWEDISH_STOP_WORDS = frozenset(
    """
    och det att i en jag hon som han på den med var sig för så till är men ett om hade de av
    icke mig du henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde
    något från ut när efter upp vi dem vara vad över än dig kan sina här ha mot alla under
    någon eller allt mycket sedan ju denna själv detta åt utan varit hur ingen mitt ni bli
    blev oss din dessa några deras blir mina samma vilken er sådan vår blivit dess inom
    mellan sådant varför varje vilka ditt vem vilket sitta sådana vart dina vars vårt våra
    ert era vilkas ska även samt genom andra annat bland olika kommer får finns skall också
    """.split()
)

# Words every funding call uses and no profile phrase needs; they say nothing about who a
# call is for. Words that do form phrases ("climate action", "rural development", "european
# universities") stay, and inverse document frequency weighs them down where they are common.
FUNDING_BOILERPLATE = frozenset(
    """
    expected outcome outcomes scope proposals proposal applicants applicant should will shall
    contribute contribution including include includes also may must within aim aims
    objective objectives ensure related relevant particular particularly addressed address
    addressing order make well
    """.split()
)

STOP_WORDS = {
    "en": frozenset(ENGLISH_STOP_WORDS) | FUNDING_BOILERPLATE,
    "sv": SWEDISH_STOP_WORDS,
}
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
_SWEDISH_HINT = frozenset("och att för med som på av det är inte till eller samt".split())
_ENGLISH_HINT = frozenset("and the of to for with in on is are be by or this that".split())


@lru_cache(maxsize=4)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer({"sv": "swedish", "en": "english"}[language])


@lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    """The Snowball stem of one lower-case word; hyphenated words stem their last part."""
    head, _, tail = word.rpartition("-")
    stemmed = _stemmer(language).stemWord(tail)
    return f"{head}-{stemmed}" if head else stemmed


def detect_language(text: str) -> str:
    """Guess 'sv' or 'en' from common function words and Swedish letters."""
    words = text.lower().split()
    swedish = sum(w in _SWEDISH_HINT for w in words) + 2 * sum(c in "åäö" for c in text.lower())
    english = sum(w in _ENGLISH_HINT for w in words)
    return "sv" if swedish > english else "en"


def words(text: str) -> list[str]:
    """Lower-case words of a text (letters and inner hyphens)."""
    return _WORD.findall(text.lower())


def stems(text: str, language: str) -> list[str]:
    """Stems of the content words of a text, in order; stop words become gaps (None-free)."""
    stop = STOP_WORDS[language]
    return [stem(w, language) for w in words(text) if w not in stop and len(w) > 1]


SWEDISH_TAG = "sv:"


def terms(text: str, language: str) -> list[str]:
    """Unigram and bigram features of a text: stems and pairs of adjacent content stems.

    Swedish features are tagged, so a Swedish stem never meets an English one by accident
    ("parker" and "parking" both stem to "park"); the term list bridges the languages.
    """
    unigrams = stems(text, language)
    features = unigrams + [f"{a} {b}" for a, b in zip(unigrams, unigrams[1:], strict=False)]
    if language == "sv":
        return [SWEDISH_TAG + feature for feature in features]
    return features


def phrase_terms(phrase: str, language: str) -> list[str]:
    """Features a keyword phrase stands for: its stems and, for phrases, its bigrams.

    Stop words inside a phrase are dropped ("våld i nära relationer" -> våld, nära, relation).
    """
    return terms(phrase, language)
