"""Rank calls for departments: TF-IDF cosine against bilingual profiles and focus areas.

Pure: calls, profiles and settings in (db record types), matches out. No SQL, no HTTP.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from db.records import Call, Department, FocusArea, Match, MatchingSettings
from matcher.analysis import SWEDISH_TAG, detect_language, phrase_terms, stems, terms

MAX_REASON_TERMS = 6
FLAG_CLOSING_SOON = "closing-soon"
FLAG_PREFERRED = "preferred-programme"
# Share of a phrase keyword's weight carried by its single words (the rest by its bigrams).
UNIGRAM_SHARE = 0.15
# Swedish words at least this long are searched for profile words they are compounded of.
MIN_COMPOUND = 8
MIN_PART = 4


def _identity(features: list[str]) -> list[str]:
    return features


@dataclass(frozen=True)
class _Keyword:
    """One weighted keyword of a profile, with the features it stands for and their shares.

    A phrase is mostly its bigrams: its single words alone say less ("school" is not
    "school exchanges"), so they share a smaller part of the keyword's weight.
    """

    label: str
    features: tuple[tuple[str, float], ...]
    weight: float
    language: str


@dataclass(frozen=True)
class _Profile:
    """A department or focus area prepared for scoring."""

    id: str
    keywords: tuple[_Keyword, ...]
    description: tuple[str, ...]
    negative: tuple[tuple[str, tuple[str, ...]], ...] = ()
    preferred: tuple[str, ...] = ()
    weight: float = 1.0


def profile_version(
    department: Department, settings: MatchingSettings, focus_areas: Sequence[FocusArea] = ()
) -> str:
    """A short hash of everything that shapes a department's matches."""
    shaping = [asdict(department), asdict(settings), [asdict(area) for area in focus_areas]]
    blob = json.dumps(shaping, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def call_language(call: Call) -> str:
    """The call's language: as the source says when it is sv or en, else detected."""
    if call.language in ("sv", "en"):
        return call.language
    return detect_language(f"{call.title} {call.summary}")


def call_features(
    call: Call, settings: MatchingSettings, lexicon: frozenset[str] = frozenset()
) -> list[str]:
    """Features of a call: title terms weighted up, then programme, action type and text.

    Swedish compounds also yield the profile words they are built from
    ("klimatutmaningar" -> "klimat") when ``lexicon`` knows them.
    """
    language = call_language(call)
    title = terms(call.title, language)
    context = " . ".join(
        [call.call_title, call.programme, " . ".join(call.programme_divisions), call.type_of_action]
    )
    body = terms(context, language) + terms(call.summary, language)
    if language == "sv" and lexicon:
        title += compound_parts(title, lexicon)
        body += compound_parts(body, lexicon)
    return title * max(1, round(settings.title_weight)) + body


def compound_parts(features: list[str], lexicon: frozenset[str]) -> list[str]:
    """Lexicon stems that start or end a longer Swedish word among the (tagged) features."""
    parts = []
    for feature in features:
        word = feature.removeprefix(SWEDISH_TAG)
        if " " in word or len(word) < MIN_COMPOUND or word in lexicon:
            continue
        parts += [
            SWEDISH_TAG + stem
            for stem in lexicon
            if word.startswith(stem) or (word.endswith(stem) and len(stem) >= MIN_PART + 1)
        ]
    return parts


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


def _prepare_keywords(keywords: dict[str, dict[str, float]]) -> tuple[_Keyword, ...]:
    prepared = []
    for language in ("sv", "en"):
        for label, weight in keywords[language].items():
            features = phrase_terms(label, language)
            unigrams = [f for f in features if " " not in f]
            bigrams = [f for f in features if " " in f]
            if bigrams:
                shares = [(f, UNIGRAM_SHARE / len(unigrams)) for f in unigrams] + [
                    (f, (1 - UNIGRAM_SHARE) / len(bigrams)) for f in bigrams
                ]
            else:
                shares = [(f, 1 / len(unigrams)) for f in unigrams]
            if shares:
                prepared.append(_Keyword(label, tuple(shares), weight, language))
    return tuple(prepared)


class Matcher:
    """Scores calls against department profiles and the strategy's focus areas."""

    def __init__(
        self,
        departments: Sequence[Department],
        focus_areas: Sequence[FocusArea],
        settings: MatchingSettings,
    ):
        self.departments = tuple(departments)
        self.focus_areas = tuple(focus_areas)
        self.settings = settings
        self.versions = {
            d.id: profile_version(d, settings, self.focus_areas) for d in self.departments
        }
        self._profiles = [self._prepare_department(d) for d in self.departments]
        self._areas = [self._prepare_focus_area(a) for a in self.focus_areas]
        self._rules = [
            (rule, [re.compile(p, re.IGNORECASE) for p in rule.patterns])
            for rule in settings.eligibility_rules
        ]
        swedish_words = (
            feature.removeprefix(SWEDISH_TAG)
            for profile in (*self._profiles, *self._areas)
            for keyword in profile.keywords
            if keyword.language == "sv"
            for feature, _ in keyword.features
            if " " not in feature
        )
        self._lexicon = frozenset(word for word in swedish_words if len(word) >= MIN_PART)
        self.vectorizer: TfidfVectorizer | None = None

    def _prepare_department(self, department: Department) -> _Profile:
        keywords = _expand_keywords(
            {"sv": department.keywords_sv, "en": department.keywords_en}, self.settings.terms
        )
        negative = tuple(
            (word, tuple(stems(word, lang)))
            for word in department.negative_keywords
            for lang in ("en", "sv")
        )
        return _Profile(
            id=department.id,
            keywords=_prepare_keywords(keywords),
            description=tuple(
                terms(department.description_sv, "sv") + terms(department.description_en, "en")
            ),
            negative=tuple(dict.fromkeys(n for n in negative if n[1])),
            preferred=department.preferred_programmes,
        )

    def _prepare_focus_area(self, area: FocusArea) -> _Profile:
        keywords = _expand_keywords(
            {"sv": area.keywords_sv, "en": area.keywords_en}, self.settings.terms
        )
        return _Profile(
            id=area.id,
            keywords=_prepare_keywords(keywords),
            description=tuple(terms(area.description_sv, "sv") + terms(area.description_en, "en")),
            weight=area.weight,
        )

    # Fitting -------------------------------------------------------------------

    def fit(self, corpus: Sequence[Call]) -> Matcher:
        """Learn term weights (IDF) from a corpus of calls; profiles become vectors."""
        documents = [call_features(call, self.settings, self._lexicon) for call in corpus]
        self.vectorizer = TfidfVectorizer(
            analyzer=_identity, sublinear_tf=True, lowercase=False, dtype=np.float32
        )
        self.vectorizer.fit(documents)
        self._vocabulary = self.vectorizer.vocabulary_
        self._idf = self.vectorizer.idf_
        self._department_matrix = self._profile_matrix(self._profiles)
        self._area_matrix = self._profile_matrix(self._areas)
        return self

    def _profile_matrix(self, profiles: Sequence[_Profile]) -> sparse.csr_matrix:
        rows = [self._profile_vector(p) for p in profiles]
        if not rows:
            return sparse.csr_matrix((0, len(self._vocabulary)), dtype=np.float32)
        return sparse.vstack(rows).tocsr()

    def _profile_vector(self, profile: _Profile) -> sparse.csr_matrix:
        """Weighted keywords (each spread over its features) blended with the description."""
        size = len(self._vocabulary)
        keyword_part = np.zeros(size, dtype=np.float64)
        for keyword in profile.keywords:
            for feature, share in keyword.features:
                index = self._vocabulary.get(feature)
                if index is not None:
                    keyword_part[index] += keyword.weight * share * self._idf[index]
        description_part = np.zeros(size, dtype=np.float64)
        for feature in profile.description:
            index = self._vocabulary.get(feature)
            if index is not None:
                description_part[index] += self._idf[index]
        vector = _unit(keyword_part) * (1 - self.settings.description_weight)
        vector += _unit(description_part) * self.settings.description_weight
        return sparse.csr_matrix(_unit(vector).astype(np.float32))

    # Ranking -------------------------------------------------------------------

    def score(self, calls: Sequence[Call]) -> ScoreTable:
        """Score every call for every department (no deadline filtering)."""
        if self.vectorizer is None:
            raise RuntimeError("Matcher.fit() must run before score()")
        documents = [call_features(call, self.settings, self._lexicon) for call in calls]
        matrix = self.vectorizer.transform(documents)
        text = (matrix @ self._department_matrix.T).toarray()
        if self._areas:
            area_scores = (matrix @ self._area_matrix.T).toarray()
            area_scores *= np.array([a.weight for a in self._areas])
        else:
            area_scores = np.zeros((len(calls), 0))
        focus = area_scores.max(axis=1) if self._areas else np.zeros(len(calls))
        combined = text * (1 + self.settings.focus_weight * focus[:, None])
        modifiers, details = self._modifiers(calls)
        return ScoreTable(
            self, list(calls), matrix, text, area_scores, focus, combined * modifiers, details
        )

    def _modifiers(
        self, calls: Sequence[Call]
    ) -> tuple[np.ndarray, list[list[list[tuple[str, float]]]]]:
        """Factors per call and department (preferred programmes, negatives, who may apply),
        each with the flag that explains it."""
        factors = np.ones((len(calls), len(self._profiles)))
        details: list[list[list[tuple[str, float]]]] = []
        settings = self.settings
        for i, call in enumerate(calls):
            language = call_language(call)
            text = f"{call.title}\n{call.summary}"
            text_stems = stems(text, language)
            call_stems = set(text_stems)
            stem_text = f" {' '.join(text_stems)} "
            rule_text = f"{text}\n{call.programme}"
            rules = [
                (f"rule:{rule.id}", rule.factor)
                for rule, patterns in self._rules
                if any(p.search(rule_text) for p in patterns)
            ]
            row = []
            for j, profile in enumerate(self._profiles):
                pair: list[tuple[str, float]] = []
                if any(_programme_matches(call.programme, p) for p in profile.preferred):
                    pair.append((FLAG_PREFERRED, 1 + settings.preferred_programme_boost))
                negative = next(
                    (
                        word
                        for word, parts in profile.negative
                        if _contains(call_stems, stem_text, parts)
                    ),
                    None,
                )
                if negative:
                    pair.append((f"negative:{negative}", settings.negative_keyword_penalty))
                pair += rules
                for _, factor in pair:
                    factors[i, j] *= factor
                row.append(pair)
            details.append(row)
        return factors, details


def _contains(call_stems: set[str], stem_text: str, phrase: tuple[str, ...]) -> bool:
    if len(phrase) == 1:
        return phrase[0] in call_stems
    return f" {' '.join(phrase)} " in stem_text


def _programme_matches(programme: str, preferred: str) -> bool:
    """True when a programme name carries the preferred abbreviation, e.g. '(LIFE)'."""
    return re.search(rf"\b{re.escape(preferred)}\b", programme, re.IGNORECASE) is not None


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector


class ScoreTable:
    """Scores of calls x departments, and the matches (with reasons) they make."""

    def __init__(self, matcher, calls, matrix, text, area_scores, focus, final, details):
        self.matcher = matcher
        self.calls = calls
        self.matrix = normalize(matrix) if matrix.shape[0] else matrix
        self.text = text
        self.area_scores = area_scores
        self.focus = focus
        self.final = final
        self.details = details

    def ranking(self, department_id: str) -> list[str]:
        """Call ids for one department, best first."""
        j = self._column(department_id)
        order = np.argsort(-self.final[:, j], kind="stable")
        return [self.calls[i].id for i in order]

    def _column(self, department_id: str) -> int:
        for j, department in enumerate(self.matcher.departments):
            if department.id == department_id:
                return j
        raise KeyError(f"unknown department {department_id!r}")

    def matches(
        self,
        now: datetime | None = None,
        min_scores: dict[str, float] | None = None,
        ignore_deadlines: bool = False,
    ) -> list[Match]:
        """Matches at or above each department's minimum score, with reasons.

        Closed calls and calls whose every deadline has passed are never matched
        (unless ignore_deadlines); calls closing within the lead time are flagged.
        """
        results = []
        for i, call in enumerate(self.calls):
            if not ignore_deadlines and not is_matchable(call, now):
                continue
            for j, department in enumerate(self.matcher.departments):
                floor = (min_scores or {}).get(department.id, department.min_score)
                if self.final[i, j] < floor:
                    continue
                results.append(self.match(i, j, now))
        return results

    def match(self, i: int, j: int, now: datetime | None = None) -> Match:
        """The match of call i for department j, with the terms and focus areas behind it."""
        call, department = self.calls[i], self.matcher.departments[j]
        flags = [flag for flag, _ in self.details[i][j]]
        if now is not None and closing_soon(call, now, department.lead_time_days):
            flags.append(FLAG_CLOSING_SOON)
        return Match(
            call_id=call.id,
            department_id=department.id,
            score=round(float(self.final[i, j]), 4),
            text_score=round(float(self.text[i, j]), 4),
            focus_score=round(float(self.focus[i]), 4),
            terms=self._reason_terms(i, self.matcher._profiles[j]),
            focus_areas=self._reason_areas(i),
            flags=tuple(flags),
            profile_version=self.matcher.versions[department.id],
        )

    def explain(self, i: int, j: int, now: datetime | None = None) -> Explanation:
        """Everything behind the score of call i for department j."""
        department = self.matcher.departments[j]
        areas = self.matcher.focus_areas
        return Explanation(
            match=self.match(i, j, now),
            call=self.calls[i],
            department=department,
            factors=tuple(self.details[i][j]),
            focus_by_area=tuple(
                sorted(
                    (
                        (areas[k].name, round(float(self.area_scores[i, k]), 4))
                        for k in range(len(areas))
                    ),
                    key=lambda item: -item[1],
                )
            ),
            above_minimum=bool(self.final[i, j] >= department.min_score),
            matchable=is_matchable(self.calls[i], now),
        )

    def _reason_terms(self, i: int, profile: _Profile) -> tuple[tuple[str, float], ...]:
        """The profile keywords the call contains, by their share of the text score."""
        row = self.matrix.getrow(i)
        present = dict(zip(row.indices, row.data, strict=False))
        vocabulary = self.matcher._vocabulary
        idf = self.matcher._idf
        contributions: dict[str, float] = defaultdict(float)
        for keyword in profile.keywords:
            for feature, share in keyword.features:
                index = vocabulary.get(feature)
                if index in present:
                    contributions[keyword.label] += (
                        present[index] * keyword.weight * share * idf[index]
                    )
        total = sum(contributions.values())
        ranked = sorted(contributions.items(), key=lambda item: -item[1])[:MAX_REASON_TERMS]
        return tuple((label, round(float(value / total), 3)) for label, value in ranked if total)

    def _reason_areas(self, i: int) -> tuple[str, ...]:
        threshold = self.matcher.settings.focus_threshold
        areas = self.matcher.focus_areas
        hits = [(self.area_scores[i, k], areas[k].name) for k in range(len(areas))]
        return tuple(name for value, name in sorted(hits, reverse=True) if value >= threshold)


@dataclass(frozen=True)
class Explanation:
    """Why a call scored as it did for a department."""

    match: Match
    call: Call
    department: Department
    factors: tuple[tuple[str, float], ...]
    focus_by_area: tuple[tuple[str, float], ...]
    above_minimum: bool
    matchable: bool


def is_matchable(call: Call, now: datetime | None) -> bool:
    """A call can be matched unless it is closed or every deadline has passed."""
    if call.status == "closed":
        return False
    if now is None or not call.deadlines:
        return True
    return max(call.deadlines) >= now


def closing_soon(call: Call, now: datetime, lead_time_days: int) -> bool:
    """The next deadline falls within the lead time."""
    upcoming = [d for d in call.deadlines if d >= now]
    return bool(upcoming) and min(upcoming) <= now + timedelta(days=lead_time_days)
