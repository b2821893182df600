"""Text analysis for Swedish and English: tokens, stop words, Snowball stems, 1–2-grams."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import Stemmer

from matcher.rule_hints import required_text
from matcher.stopwords import ENGLISH_STOP_WORDS

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

# Words of negation stay: a phrase keeps its meaning ("not in employment" is no call about
# employment, "utan arbete" no call about work).
NEGATIONS = {
    "en": frozenset("not no nor without never none non".split()),
    "sv": frozenset("inte ej icke utan".split()),
}
# Words scikit-learn's English stop list holds that are content words in funding calls
# ("fire prevention" would be "prevention", "energy system" "energy", "third countries"
# "countries").
CONTENT_WORDS = frozenset(
    """
    fire system bill interest detail amount empty full move side thick thin mill third
    serious front top bottom back
    """.split()
)
STOP_WORDS = {
    "en": (frozenset(ENGLISH_STOP_WORDS) | FUNDING_BOILERPLATE) - NEGATIONS["en"] - CONTENT_WORDS,
    "sv": SWEDISH_STOP_WORDS - NEGATIONS["sv"],
}
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
_SWEDISH_HINT = frozenset("och att för med som på av det är inte till eller samt".split())
_ENGLISH_HINT = frozenset("and the of to for with in on is are be by or this that".split())


@lru_cache(maxsize=4)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer({"sv": "swedish", "en": "english"}[language])


# word -> stem, or "" for a stop word; one dictionary look-up per word once a word was seen.
_CONTENT_STEMS: dict[str, dict[str, str]] = {"en": {}, "sv": {}}
MAX_CACHED_WORDS = 500_000


# Where Snowball's stems go wrong for funding calls: words it conflates with others of another
# meaning are kept apart ("parking" is not "park", "training" not "train", "cycling" not
# "cycle" as in life cycle, "mobility" not "mobile"), and words of one family it splits are
# joined ("entrepreneurship" and "entrepreneurs", "environment" and "environmental",
# "children" and "child"; "städer" and "stad", "miljön" and "miljö"). A word here is stemmed
# as its entry says; its entry is a stem of the family, so inflected forms meet it.
STEM_EXCEPTIONS = {
    "en": {
        "parking": "parking",
        "cycling": "cycling",
        "cyclist": "cycling",
        "cyclists": "cycling",
        "bicycle": "cycling",
        "bicycles": "cycling",
        "bike": "cycling",
        "bikes": "cycling",
        "training": "training",
        "trainings": "training",
        "trainee": "training",
        "trainees": "training",
        "mobility": "mobility",
        "entrepreneurship": "entrepreneur",
        "entrepreneurial": "entrepreneur",
        "environment": "environment",
        "environments": "environment",
        "children": "child",
        "women": "woman",
        "men": "man",
    },
    "sv": {
        "städer": "stad",
        "städerna": "stad",
        "miljön": "miljö",
        "miljöns": "miljö",
        "män": "man",
        "männen": "man",
        "cyklar": "cykel",
        "cyklarna": "cykel",
        "cykling": "cykel",
        "cyklister": "cykel",
        "cyklist": "cykel",
    },
}
# American spellings read as British ones, which the EU writes ("organization" is
# "organisation", "labor" "labour", "center" "centre", "defense" "defence").
_AMERICAN = (
    (re.compile(r"^(\w{4,})iz(e|es|ed|ing|ation|ations|ational|er|ers)$"), r"\1is\2"),
    (re.compile(r"^(\w{3,})yz(e|es|ed|ing)$"), r"\1ys\2"),
    (re.compile(r"^(lab|behavi|neighb|col|fav|harb|hon)or(s|ed|ing|al|hood|hoods)?$"), r"\1our\2"),
    (re.compile(r"^(cent|theat|fib)er(s)?$"), r"\1re\2"),
    (re.compile(r"^(defen|offen|licen)se(s)?$"), r"\1ce\2"),
    (re.compile(r"^program(s)?$"), r"programme\1"),
)


def stem(word: str, language: str) -> str:
    """The stem of one lower-case word: Snowball's, except where STEM_EXCEPTIONS says, and
    English in its British spelling; hyphenated words stem their last part."""
    head, _, tail = word.rpartition("-")
    stemmed = STEM_EXCEPTIONS[language].get(tail)
    if stemmed is None:
        if language == "en":
            for pattern, british in _AMERICAN:
                tail = pattern.sub(british, tail)
        stemmed = _stemmer(language).stemWord(tail)
    return f"{head}-{stemmed}" if head else stemmed


def _content_stems(found: list[str], language: str) -> list[str]:
    """Stems of the content words among ``found``, in order (stop words dropped)."""
    cache = _CONTENT_STEMS[language]
    if len(cache) > MAX_CACHED_WORDS:
        cache.clear()
    stop = STOP_WORDS[language]
    for word in set(found).difference(cache):
        cache[word] = "" if word in stop or len(word) < 2 else stem(word, language)
    return [stemmed for stemmed in map(cache.__getitem__, found) if stemmed]


def detect_language(text: str) -> str:
    """Guess 'sv' or 'en' from common function words and Swedish letters."""
    lowered = text.lower()
    found = lowered.split()
    swedish_letters = lowered.count("å") + lowered.count("ä") + lowered.count("ö")
    swedish = sum(w in _SWEDISH_HINT for w in found) + 2 * swedish_letters
    english = sum(w in _ENGLISH_HINT for w in found)
    return "sv" if swedish > english else "en"


def words(text: str) -> list[str]:
    """Lower-case words of a text (letters and inner hyphens)."""
    return _WORD.findall(text.lower())


def stems(text: str, language: str) -> list[str]:
    """Stems of the content words of a text, in order."""
    return _content_stems(words(text), language)


SWEDISH_TAG = "sv:"


def _features(unigrams: list[str], language: str) -> list[str]:
    features = unigrams + [f"{a} {b}" for a, b in zip(unigrams, unigrams[1:], strict=False)]
    if language == "sv":
        return [SWEDISH_TAG + feature for feature in features]
    return features


def terms(text: str, language: str) -> list[str]:
    """Unigram and bigram features of a text: stems and pairs of adjacent content stems.

    Swedish features are tagged, so a Swedish stem never meets an English one by accident
    ("parker" and "parking" both stem to "park"); the term list bridges the languages.
    """
    return _features(stems(text, language), language)


def phrase_terms(phrase: str, language: str) -> list[str]:
    """Features a keyword phrase stands for: its stems and, for phrases, its bigrams.

    Stop words inside a phrase are dropped ("våld i nära relationer" -> våld, nära, relation).
    """
    return terms(phrase, language)


# A feature is named by a 64-bit hash of its text, so a call is analysed once and its analysis
# stays valid whatever else is in the corpus or the profiles; each fit gives the keys it meets
# columns of their own (rank.py), so the matrices are as wide as the vocabulary, no wider.
# Two of n distinct features share a key with probability below n^2 / 2^65: under 3e-6 for ten
# million features (a 20-bit hash, as before, made dozens of profile words share a column with
# unrelated bigrams). Tests check that the features of the real calls and profiles all differ.
_KEYS: dict[str, int] = {}


def feature_key(feature: str) -> int:
    """The stable 64-bit key of a feature."""
    key = _KEYS.get(feature)
    if key is None:
        if len(_KEYS) > MAX_CACHED_WORDS:
            _KEYS.clear()
        key = _KEYS[feature] = hashed_key(feature)
    return key


def hashed_key(feature: str) -> int:
    """The 64-bit key of a feature, hashed each time (``feature_key`` keeps them)."""
    digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def feature_keys(features: Sequence[str]) -> np.ndarray:
    """Keys of many features at once."""
    return np.fromiter((feature_key(f) for f in features), dtype=np.int64, count=len(features))


@dataclass(frozen=True)
class CallAnalysis:
    """A call's text analysed once: feature keys and counts, and who-may-apply rule hits.

    Counts are already weighted (title words count ``title_weight`` times).
    ``swedish_words`` keeps a Swedish call's longer words for compound splitting, which
    depends on the profiles and so happens when scoring.
    """

    language: str
    keys: np.ndarray
    counts: np.ndarray
    rules: tuple[str, ...] = ()
    swedish_words: tuple[str, ...] = ()

    def to_fields(self) -> dict:
        """Plain fields (arrays as little-endian bytes) for storage."""
        return {
            "language": self.language,
            "keys": self.keys.astype("<i8").tobytes(),
            "counts": self.counts.astype("<f4").tobytes(),
            "rules": self.rules,
            "swedish_words": self.swedish_words,
        }

    @classmethod
    def from_fields(cls, fields: dict) -> CallAnalysis:
        """Rebuild an analysis from its stored fields."""
        return cls(
            language=fields["language"],
            keys=np.frombuffer(fields["keys"], dtype="<i8").astype(np.int64),
            counts=np.frombuffer(fields["counts"], dtype="<f4").astype(np.float32),
            rules=tuple(fields["rules"]),
            swedish_words=tuple(fields["swedish_words"]),
        )


ANALYSIS_VERSION = "2"


MIN_COMPOUND = 8


def analysis_version(title_weight: float, rules: Sequence[tuple[str, Sequence[str]]]) -> str:
    """What an analysis depends on, as a short hash: this code's version, the settings that
    shape it (title weight, rules) and the word lists it uses."""
    blob = repr(
        (
            ANALYSIS_VERSION,
            max(1, round(title_weight)),
            list(rules),
            sorted(STOP_WORDS["en"]),
            sorted(STOP_WORDS["sv"]),
            STEM_EXCEPTIONS,
            [(pattern.pattern, british) for pattern, british in _AMERICAN],
        )
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


class Analyser:
    """Analyses calls with the settings that shape analysis (title weight, rules)."""

    def __init__(self, title_weight: float, rules: Sequence[tuple[str, Sequence[str]]]) -> None:
        self.title_repeats = max(1, round(title_weight))
        self.rules = [
            (rule_id, [(required_text(p), re.compile(p, re.IGNORECASE)) for p in patterns])
            for rule_id, patterns in rules
        ]
        self.version = analysis_version(title_weight, rules)

    def analyse(
        self, language: str, title: str, context: str, summary: str, programme: str
    ) -> CallAnalysis:
        """Analyse one call's texts (context: call title, programme, divisions, action type)."""
        title_stems = stems(title, language)
        body_stems = stems(context, language) + stems(summary, language)
        weighted = Counter(_features(body_stems, language))
        for feature, count in Counter(_features(title_stems, language)).items():
            weighted[feature] += count * self.title_repeats
        counts = {feature_key(feature): float(count) for feature, count in weighted.items()}
        rule_text = f"{title}\n{summary}\n{programme}\n{context}"
        lowered = rule_text.lower()
        hits = tuple(
            rule_id
            for rule_id, patterns in self.rules
            if any(hint in lowered and pattern.search(rule_text) for hint, pattern in patterns)
        )
        long_words: tuple[str, ...] = ()
        if language == "sv":
            long_words = tuple(
                sorted({w for w in title_stems + body_stems if len(w) >= MIN_COMPOUND})
            )
        keys = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        order = np.argsort(keys)
        return CallAnalysis(language, keys[order], values[order], hits, long_words)
