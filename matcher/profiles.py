"""Department and focus-area profiles prepared for scoring, and the versions that name them.

A keyword stands for its stems and, for a phrase, its word pairs; the term list adds its
equivalent in the other language. Swedish profile words make the lexicon that finds them
inside longer Swedish compounds ("klimatutmaningar" holds "klimat" and "utmaning").
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from db.records import Department, FocusArea, MatchingSettings
from matcher.analysis import SWEDISH_TAG, analysis_version, phrase_terms, terms

# Share of a phrase keyword's weight carried by its single words (the rest by its bigrams).
UNIGRAM_SHARE = 0.15
# Shortest profile word looked for inside a Swedish compound.
MIN_PART = 4


@dataclass(frozen=True)
class Keyword:
    """One weighted keyword of a profile, with the features it stands for and their shares.

    A phrase is mostly its bigrams: its single words alone say less ("school" is not
    "school exchanges"), so they share a smaller part of the keyword's weight.
    """

    label: str
    features: tuple[tuple[str, float], ...]
    weight: float
    language: str


@dataclass(frozen=True)
class PreparedProfile:
    """A department or focus area prepared for scoring."""

    id: str
    keywords: tuple[Keyword, ...]
    description: tuple[str, ...]
    negative: tuple[tuple[str, tuple[str, ...]], ...] = ()
    preferred: tuple[str, ...] = ()
    weight: float = 1.0


def profile_version(
    department: Department, settings: MatchingSettings, focus_areas: Sequence[FocusArea] = ()
) -> str:
    """A short hash of everything that shapes a department's matches."""
    return profile_versions([department], settings, focus_areas)[department.id]


def profile_versions(
    departments: Sequence[Department],
    settings: MatchingSettings,
    focus_areas: Sequence[FocusArea] = (),
) -> dict[str, str]:
    """The profile version of each department, by id."""
    shared = _shared_shaping(settings, focus_areas)
    return {department.id: _profile_version(department, shared) for department in departments}


def _shared_shaping(settings: MatchingSettings, focus_areas: Sequence[FocusArea]) -> str:
    """What shapes every department's matches alike: settings, focus areas and the version
    of the calls' analysis (a new analyser re-scores unchanged calls too), as JSON."""
    rules = [(rule.id, rule.patterns) for rule in settings.eligibility_rules]
    analysis = analysis_version(settings.title_weight, rules)
    shaping = [asdict(settings), [asdict(area) for area in focus_areas], analysis]
    return json.dumps(shaping, sort_keys=True, ensure_ascii=False)


# Department fields that do not change its matches (who gets the digest, and when).
_NOT_MATCHING = ("recipients", "digest_weekday", "send_empty_digest")


def _profile_version(department: Department, shared: str) -> str:
    """The hash of a department's matching fields and of what all departments share."""
    # The fields as they are (asdict's deep copy gives the same JSON: a Department holds no
    # records, only text, numbers, tuples and dicts of them), read without copying.
    fields = {
        field.name: getattr(department, field.name)
        for field in dataclasses.fields(department)
        if field.name not in _NOT_MATCHING
    }
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False) + shared
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def prepare_departments(
    departments: Sequence[Department], term_pairs: Sequence[tuple[str, str]]
) -> list[PreparedProfile]:
    """The departments prepared; a keyword many of them have is analysed once."""
    features: dict[tuple[str, str], tuple[tuple[str, float], ...]] = {}
    return [prepare_department(department, term_pairs, features) for department in departments]


def prepare_department(
    department: Department,
    term_pairs: Sequence[tuple[str, str]],
    features: dict[tuple[str, str], tuple[tuple[str, float], ...]] | None = None,
) -> PreparedProfile:
    """A department's keywords in both languages, its negative keywords and programmes
    (``features``: the features and shares of keywords prepared before, by label and
    language)."""
    keywords = _expand_keywords(
        {"sv": department.keywords_sv, "en": department.keywords_en}, term_pairs
    )
    # Only the last feature is kept: the word itself, or a phrase's last word pair.
    negative = [
        (word, tuple(terms(word, language)[-1:]))
        for word in department.negative_keywords
        for language in ("en", "sv")
    ]
    return PreparedProfile(
        id=department.id,
        keywords=_prepare_keywords(keywords, {} if features is None else features),
        description=tuple(
            terms(department.description_sv, "sv") + terms(department.description_en, "en")
        ),
        negative=tuple(dict.fromkeys(n for n in negative if n[1])),
        preferred=department.preferred_programmes,
    )


def prepare_focus_area(area: FocusArea, term_pairs: Sequence[tuple[str, str]]) -> PreparedProfile:
    """A strategy focus area's keywords in both languages, with its weight."""
    keywords = _expand_keywords({"sv": area.keywords_sv, "en": area.keywords_en}, term_pairs)
    return PreparedProfile(
        id=area.id,
        keywords=_prepare_keywords(keywords, {}),
        description=tuple(terms(area.description_sv, "sv") + terms(area.description_en, "en")),
        weight=area.weight,
    )


def _expand_keywords(
    keywords: dict[str, dict[str, float]], pairs: Sequence[tuple[str, str]]
) -> dict[str, dict[str, float]]:
    """Add the other language's equivalent of every keyword the term list knows."""
    expanded = {"sv": dict(keywords.get("sv", {})), "en": dict(keywords.get("en", {}))}
    for swedish, english in pairs:
        if swedish in expanded["sv"] and english not in expanded["en"]:
            expanded["en"][english] = expanded["sv"][swedish]
        if english in expanded["en"] and swedish not in expanded["sv"]:
            expanded["sv"][swedish] = expanded["en"][english]
    return expanded


def _prepare_keywords(
    keywords: dict[str, dict[str, float]],
    known: dict[tuple[str, str], tuple[tuple[str, float], ...]],
) -> tuple[Keyword, ...]:
    """Each keyword with its features and their shares of its weight (``known``: those of
    keywords prepared before, by label and language, added to)."""
    prepared = []
    for language in ("sv", "en"):
        for label, weight in keywords[language].items():
            shares = known.get((label, language))
            if shares is None:
                shares = known[label, language] = _shares(phrase_terms(label, language))
            if shares:
                prepared.append(Keyword(label, shares, weight, language))
    return tuple(prepared)


def _shares(features: Sequence[str]) -> tuple[tuple[str, float], ...]:
    """A keyword's features with their shares of its weight."""
    unigrams = [f for f in features if " " not in f]
    bigrams = [f for f in features if " " in f]
    if bigrams:
        return tuple(
            [(f, UNIGRAM_SHARE / len(unigrams)) for f in unigrams]
            + [(f, (1 - UNIGRAM_SHARE) / len(bigrams)) for f in bigrams]
        )
    return tuple((f, 1 / len(unigrams)) for f in unigrams)


def swedish_lexicon(profiles: Iterable[PreparedProfile]) -> frozenset[str]:
    """The Swedish single words of the profiles' keywords, long enough to find in compounds."""
    swedish_words = (
        feature.removeprefix(SWEDISH_TAG)
        for profile in profiles
        for keyword in profile.keywords
        if keyword.language == "sv"
        for feature, _ in keyword.features
        if " " not in feature
    )
    return frozenset(word for word in swedish_words if len(word) >= MIN_PART)


def compound_parts(words: Sequence[str], lexicon: frozenset[str]) -> list[str]:
    """Lexicon words that start or end a longer Swedish word ("klimatutmaning" -> "klimat")."""
    parts = []
    for long_word in words:
        if long_word in lexicon:
            continue
        ends = range(MIN_PART, len(long_word))
        parts += [long_word[:end] for end in ends if long_word[:end] in lexicon]
        parts += [
            long_word[-end:] for end in ends if end > MIN_PART and long_word[-end:] in lexicon
        ]
    return parts
