"""The matcher's arithmetic written the straightforward way, as the reference its fast paths
must agree with (not a test module; see test_same_matches.py).

Every step is done one call, one profile or one keyword at a time over dense arrays, with
none of the fast path's sharing (no shared phrase gates or keyword hits across profiles, no
incidence matrices, no caches): term weights from counted document frequencies, each
profile's vector built from its keywords and description, each phrase's gate by checking its
words in the call, each factor per call and profile, each match's reasons from its profile's
keywords, the learnt model's probabilities. Only what is outside the fast paths is reused:
the analyses of the calls, the preparation of profiles (their features) and the model's
constants.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np

from db.deadlines import still_open
from db.programmes import plain_programme, programme_is
from db.records import (
    Call,
    Department,
    FocusArea,
    Match,
    MatchFlag,
    MatchingSettings,
    ScoreModel,
    is_out_of_area,
    is_own_area,
    negative_flag,
    rule_flag,
)
from matcher.analysis import SWEDISH_TAG, CallAnalysis, feature_key
from matcher.model import LOG_SCORE, PROGRAMME, SCORE_FLOOR, programme_codes
from matcher.profiles import (
    Keyword,
    PreparedProfile,
    compound_parts,
    prepare_department,
    prepare_focus_area,
    swedish_lexicon,
)
from matcher.rank import analyser_for
from matcher.scores import MAX_REASON_TERMS, closing_soon


@dataclass
class Reference:
    """Scores of calls x departments as the reference computes them, and its matches."""

    text: np.ndarray
    final: np.ndarray
    area_scores: np.ndarray
    # The matches at each ``now`` asked for, and each profile's keyword hits (by position).
    matches: dict[datetime | None, list[Match]]
    keyword_hits: Callable[[int], list[tuple[str, int]]]
    # The flags of the factors of every call (row) for every profile (column).
    flags: dict[tuple[int, int], list[str]]


class _Corpus:
    """The calls' tf-idf rows over the columns profiles use, dense, and which features each
    call has."""

    def __init__(self, analyses: Sequence[CallAnalysis], lexicon: frozenset[str]) -> None:
        self.counts: list[dict[int, float]] = []
        for analysis in analyses:
            counts = {int(k): float(v) for k, v in zip(analysis.keys, analysis.counts, strict=True)}
            for part in compound_parts(analysis.swedish_words, lexicon):
                key = feature_key(SWEDISH_TAG + part)
                counts[key] = float(np.float32(counts.get(key, 0.0)) + np.float32(1.0))
            self.counts.append(counts)
        frequency: dict[int, int] = {}
        for counts in self.counts:
            for key in counts:
                frequency[key] = frequency.get(key, 0) + 1
        n = len(self.counts)
        # Smoothed inverse document frequency, as scikit-learn's TfidfTransformer has it.
        self.idf = {key: np.log((1 + n) / (1 + df)) + 1.0 for key, df in frequency.items()}
        self.norms = [
            np.sqrt(sum(((1 + np.log(v)) * self.idf[k]) ** 2 for k, v in counts.items()))
            for counts in self.counts
        ]
        self.columns: dict[int, int] = {}
        self.dense = np.zeros((n, 0))
        self.present = np.zeros((n, 0), dtype=bool)

    def use(self, features: Sequence[str]) -> None:
        """Give these features a dense column each (those some call has)."""
        for feature in features:
            key = feature_key(feature)
            if key in self.idf and key not in self.columns:
                self.columns[key] = len(self.columns)
        self.dense = np.zeros((len(self.counts), len(self.columns)))
        self.present = np.zeros(self.dense.shape, dtype=bool)
        for i, counts in enumerate(self.counts):
            for key, value in counts.items():
                column = self.columns.get(key)
                if column is not None:
                    self.present[i, column] = True
                    self.dense[i, column] = (1 + np.log(value)) * self.idf[key] / self.norms[i]

    def column(self, feature: str) -> int:
        return self.columns.get(feature_key(feature), -1)

    def weight(self, feature: str) -> float:
        return self.idf[feature_key(feature)]

    def has_all(self, features: Sequence[str]) -> np.ndarray:
        """Per call: whether it has every one of the features."""
        columns = [self.column(f) for f in features]
        if min(columns, default=0) < 0:
            return np.zeros(len(self.counts), dtype=bool)
        return self.present[:, columns].all(axis=1)


class _Keyword:
    """A keyword's weighted features over the dense columns: those always counted, and the
    single words of a phrase, counted where a call has all of them (its gate)."""

    def __init__(self, keyword: Keyword, corpus: _Corpus) -> None:
        self.label = keyword.label
        phrase = any(" " in feature for feature, _ in keyword.features)
        width = len(corpus.columns)
        self.plain, self.words = np.zeros(width), np.zeros(width)
        for feature, share in keyword.features:
            c = corpus.column(feature)
            if c >= 0:
                part = self.words if phrase and " " not in feature else self.plain
                part[c] += keyword.weight * share * corpus.weight(feature)
        self.gate = corpus.has_all([f for f, _ in keyword.features if " " not in f])
        self.phrase = phrase and self.words.any()

    def values(self, corpus: _Corpus, gated_in: bool = True) -> np.ndarray:
        """What the keyword adds to each call's score before the profile's normalisation."""
        values = _dot(corpus.dense, self.plain)
        if self.phrase and gated_in:
            values += np.where(self.gate, _dot(corpus.dense, self.words), 0.0)
        return values


class _Vector:
    """One profile's vector (unit length): its plain part, and each phrase's single words."""

    def __init__(self, profile: PreparedProfile, corpus: _Corpus, blend: float) -> None:
        self.keywords = [_Keyword(k, corpus) for k in profile.keywords]
        plain = sum((k.plain for k in self.keywords), np.zeros(len(corpus.columns)))
        phrases = [k for k in self.keywords if k.phrase]
        description = np.zeros(len(corpus.columns))
        for feature in profile.description:
            c = corpus.column(feature)
            if c >= 0:
                description[c] += corpus.weight(feature)
        keywords = plain + sum((k.words for k in phrases), np.zeros(len(corpus.columns)))
        keyword_norm, description_norm = np.linalg.norm(keywords), np.linalg.norm(description)
        keyword_share = (1 - blend) / keyword_norm if keyword_norm else 0.0
        description_share = blend / description_norm if description_norm else 0.0
        total = np.linalg.norm(keywords * keyword_share + description * description_share)
        self.empty = not total
        self.direct = np.zeros(len(corpus.columns))
        self.phrases: list[tuple[np.ndarray, np.ndarray]] = []
        if total:
            self.direct = (plain * keyword_share + description * description_share) / total
            self.phrases = [(k.words * keyword_share / total, k.gate) for k in phrases]

    def scores(self, corpus: _Corpus) -> np.ndarray:
        """Its cosine with every call, each phrase's words counted where the call has all."""
        values = _dot(corpus.dense, self.direct)
        for words, gate in self.phrases:
            values += np.where(gate, _dot(corpus.dense, words), 0.0)
        return values


def _dot(rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Each row times the vector (over the vector's non-zero columns only, for speed)."""
    columns = np.flatnonzero(vector)
    return rows[:, columns] @ vector[columns]


def reference(
    departments: Sequence[Department],
    focus_areas: Sequence[FocusArea],
    settings: MatchingSettings,
    calls: Sequence[Call],
    analyses: Sequence[CallAnalysis],
    nows: Sequence[datetime | None],
) -> Reference:
    """Scores, keyword hits, and the matches at each of ``nows``, the straightforward way."""
    profiles = [prepare_department(d, settings.terms) for d in departments]
    areas = [prepare_focus_area(a, settings.terms) for a in focus_areas]
    corpus = _Corpus(analyses, swedish_lexicon([*profiles, *areas]))
    used = [
        feature
        for profile in [*profiles, *areas]
        for feature in [
            *(f for k in profile.keywords for f, _ in k.features),
            *profile.description,
            *(f for _, features in profile.negative for f in features),
        ]
    ]
    corpus.use(used)
    blend = settings.description_weight
    vectors = [_Vector(p, corpus, blend) for p in profiles]
    n = len(calls)
    text = np.array([v.scores(corpus) for v in vectors]).T.reshape(n, len(profiles))
    area_scores = np.array(
        [_Vector(a, corpus, blend).scores(corpus) * a.weight for a in areas]
    ).T.reshape(n, len(areas))
    focus = area_scores.max(axis=1) if areas else np.zeros(n)
    product, flags = _factors(profiles, settings, calls, analyses, corpus)
    final = text * (1 + settings.focus_weight * focus[:, None]) * product
    if settings.model is not None:
        final = _probabilities(settings.model, final, programme_codes(calls, settings.programmes))
    versions = _versions(departments, settings, focus_areas)
    matches = {}
    for now in nows:
        found = []
        for j, department in enumerate(departments):
            contributions = None
            for i, call in enumerate(calls):
                if final[i, j] < department.min_score or not still_open(call, now):
                    continue
                if contributions is None:
                    gated_in = not vectors[j].empty
                    keywords = vectors[j].keywords
                    contributions = np.array([k.values(corpus, gated_in) for k in keywords])
                named = list(flags[i, j])
                if now is not None and closing_soon(call, now, department.lead_time_days):
                    named.append(MatchFlag.CLOSING_SOON)
                found.append(
                    Match(
                        call_id=call.id,
                        department_id=department.id,
                        score=round(float(final[i, j]), 4),
                        text_score=round(float(text[i, j]), 4),
                        focus_score=round(float(focus[i]), 4),
                        terms=_terms(vectors[j].keywords, contributions[:, i]),
                        focus_areas=_areas(area_scores[i], focus_areas, settings.focus_threshold),
                        flags=tuple(named),
                        profile_version=versions[department.id],
                    )
                )
        matches[now] = found

    def keyword_hits(j: int) -> list[tuple[str, int]]:
        return [(k.label, int((k.values(corpus) > 0).sum())) for k in vectors[j].keywords]

    return Reference(text, final, area_scores, matches, keyword_hits, flags)


def _factors(
    profiles: Sequence[PreparedProfile],
    settings: MatchingSettings,
    calls: Sequence[Call],
    analyses: Sequence[CallAnalysis],
    corpus: _Corpus,
) -> tuple[np.ndarray, dict[tuple[int, int], list[str]]]:
    """Every call's factor for every profile, and the flags that name them."""
    names = dict(settings.programmes)
    rule_factors = {rule.id: rule.factor for rule in settings.eligibility_rules}
    home = settings.home_region
    product = np.ones((len(calls), len(profiles)))
    flags: dict[tuple[int, int], list[str]] = {}
    preferred: dict[tuple[str, int], bool] = {}
    for i, (call, analysis) in enumerate(zip(calls, analyses, strict=True)):
        programme = plain_programme(call.programme)
        for j, profile in enumerate(profiles):
            found: list[str] = []
            factor = 1.0
            if (programme, j) not in preferred:
                preferred[programme, j] = any(
                    programme_is(programme, names.get(code, ())) for code in profile.preferred
                )
            if preferred[programme, j]:
                factor *= 1 + settings.preferred_programme_boost
                found.append(MatchFlag.PREFERRED_PROGRAMME)
            # A negative keyword is found where the call has its last feature.
            hit = next(
                (
                    word
                    for word, features in profile.negative
                    if feature_key(features[-1]) in corpus.counts[i]
                ),
                None,
            )
            if hit:
                factor *= settings.negative_keyword_penalty
                found.append(negative_flag(hit))
            for rule in analysis.rules:
                factor *= rule_factors.get(rule, 1.0)
                found.append(rule_flag(rule))
            if is_out_of_area(call.regions, home):
                factor *= settings.out_of_area_factor
                found.append(MatchFlag.OUT_OF_AREA)
            if is_own_area(call.regions, home):
                factor *= settings.own_area_factor
                found.append(MatchFlag.OWN_AREA)
            product[i, j] = factor
            flags[i, j] = found
    return product, flags


def _terms(keywords: Sequence[_Keyword], values: np.ndarray) -> tuple[tuple[str, float], ...]:
    """The keywords a call holds, largest share of their sum first."""
    total = values.sum()
    order = np.argsort(-values, kind="stable")[:MAX_REASON_TERMS]
    shares = np.round(values[order] / (total if total > 0 else 1.0), 3)
    return tuple(
        (keywords[k].label, float(share))
        for k, share in zip(order, shares, strict=True)
        if values[k] > 0
    )


def _probabilities(model: ScoreModel, scores: np.ndarray, codes: Sequence[str]) -> np.ndarray:
    """The learnt model's probability of every pair: the logistic of its log-odds."""
    weights = dict(zip(model.features, model.coefficients, strict=True))
    offsets = np.array([weights.get(f"{PROGRAMME}{code}", 0.0) for code in codes])
    logits = (
        weights.get(LOG_SCORE, 0.0) * np.log(np.maximum(scores, 0) + SCORE_FLOOR)
        + offsets[:, None]
        + model.intercept
    )
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))


def _versions(
    departments: Sequence[Department], settings: MatchingSettings, areas: Sequence[FocusArea]
) -> dict[str, str]:
    """Each department's profile version: the hash of its matching fields, of the settings,
    of the focus areas and of the version of the analysis the calls had."""
    analysis = analyser_for(settings).version
    shared = json.dumps(
        [asdict(settings), [asdict(area) for area in areas], analysis],
        sort_keys=True,
        ensure_ascii=False,
    )
    not_matching = ("recipients", "digest_weekday", "send_empty_digest")
    versions = {}
    for department in departments:
        fields = {k: v for k, v in asdict(department).items() if k not in not_matching}
        blob = json.dumps(fields, sort_keys=True, ensure_ascii=False) + shared
        versions[department.id] = hashlib.sha256(blob.encode()).hexdigest()[:12]
    return versions


def _areas(scores: np.ndarray, areas: Sequence[FocusArea], threshold: float) -> tuple[str, ...]:
    """Names of the focus areas reached, best first."""
    hits = sorted(((scores[k], a.name) for k, a in enumerate(areas)), reverse=True)
    return tuple(name for value, name in hits if value >= threshold)
