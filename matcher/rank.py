"""Rank calls for departments: TF-IDF cosine against bilingual profiles and focus areas.

Pure: calls, profiles and settings in (db record types), matches out. No SQL, no HTTP.

Each call is analysed once (``analyse_call``: hashed features and rule hits, independent of
the profiles and of the rest of the corpus), so a re-rank after a profile change, or over a
grown corpus, is sparse-matrix arithmetic on analyses that can be kept between runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize

from db.records import (
    Call,
    Department,
    FocusArea,
    Match,
    MatchingSettings,
    next_deadline,
    still_open,
)
from matcher.analysis import (
    HASH_SIZE,
    SWEDISH_TAG,
    Analyser,
    CallAnalysis,
    detect_language,
    feature_index,
)
from matcher.factors import Factors
from matcher.flags import FLAG_CLOSING_SOON, FLAG_PREFERRED
from matcher.profiles import (
    Profile,
    compound_parts,
    prepare_department,
    prepare_focus_area,
    profile_version,
    profile_versions,
    swedish_lexicon,
)

# What callers import from here, wherever it is defined.
__all__ = [
    "FLAG_CLOSING_SOON",
    "FLAG_PREFERRED",
    "Explanation",
    "Matcher",
    "ScoreTable",
    "analyse_call",
    "analyser_for",
    "call_language",
    "closing_soon",
    "compound_parts",
    "is_matchable",
    "profile_version",
]

MAX_REASON_TERMS = 6


def call_language(call: Call) -> str:
    """The call's language: as the source says when it is sv or en, else detected."""
    if call.language in ("sv", "en"):
        return call.language
    return detect_language(f"{call.title} {call.summary}")


def analyser_for(settings: MatchingSettings) -> Analyser:
    """The analyser the matching settings call for."""
    return Analyser(
        settings.title_weight,
        [(rule.id, rule.patterns) for rule in settings.eligibility_rules],
    )


def analyse_call(call: Call, analyser: Analyser) -> CallAnalysis:
    """Analyse a call: title (weighted up), call title, programme, divisions, action, summary."""
    context = " . ".join(
        [call.call_title, call.programme, " . ".join(call.programme_divisions), call.type_of_action]
    )
    return analyser.analyse(call_language(call), call.title, context, call.summary, call.programme)


def _unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    return normalize(matrix, norm="l2", axis=1, copy=False)


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
        self.analyser = analyser_for(settings)
        self.versions = profile_versions(self.departments, settings, self.focus_areas)
        self._profiles = [prepare_department(d, settings.terms) for d in self.departments]
        self._areas = [prepare_focus_area(a, settings.terms) for a in self.focus_areas]
        self._lexicon = swedish_lexicon([*self._profiles, *self._areas])
        self._analyses: dict[str, CallAnalysis] = {}
        self._last_counts: tuple[tuple[int, ...], sparse.csr_matrix] | None = None
        self._idf: np.ndarray | None = None

    # Analysis --------------------------------------------------------------------

    def analyses(
        self, calls: Sequence[Call], known: Mapping[str, CallAnalysis] | None = None
    ) -> list[CallAnalysis]:
        """The analysis of each call: given in ``known``, kept from earlier, or made now."""
        known = known or {}
        result = []
        for call in calls:
            key = f"{call.id}\x00{call.content_hash}"
            analysis = known.get(call.id) or self._analyses.get(key)
            if analysis is None:
                analysis = analyse_call(call, self.analyser)
            self._analyses[key] = analysis
            result.append(analysis)
        return result

    def _counts_matrix(self, analyses: Sequence[CallAnalysis]) -> sparse.csr_matrix:
        """Weighted feature counts, one row per call, Swedish compounds split.

        The last matrix is kept: fit() and score() over the same calls build it once.
        """
        key = tuple(map(id, analyses))
        if self._last_counts is not None and self._last_counts[0] == key:
            return self._last_counts[1].copy()
        rows = [self._with_compound_parts(a) for a in analyses]
        lengths = np.fromiter((len(columns) for columns, _ in rows), dtype=np.int64)
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        if rows:
            indices = np.concatenate([columns for columns, _ in rows])
            data = np.concatenate([values for _, values in rows])
        else:
            indices, data = np.zeros(0, np.int32), np.zeros(0, np.float32)
        counts = sparse.csr_matrix((data, indices, indptr), shape=(len(rows), HASH_SIZE))
        self._last_counts = (key, counts)
        return counts.copy()

    def _with_compound_parts(self, analysis: CallAnalysis) -> tuple[np.ndarray, np.ndarray]:
        if not analysis.swedish_words:
            return analysis.indices, analysis.counts
        parts = compound_parts(analysis.swedish_words, self._lexicon)
        if not parts:
            return analysis.indices, analysis.counts
        extra = np.array([feature_index(SWEDISH_TAG + part) for part in parts], dtype=np.int32)
        columns, inverse = np.unique(np.concatenate([analysis.indices, extra]), return_inverse=True)
        values = np.zeros(len(columns), dtype=np.float32)
        np.add.at(values, inverse, np.concatenate([analysis.counts, np.ones(len(extra))]))
        return columns, values

    # Fitting -------------------------------------------------------------------

    def fit(
        self, corpus: Sequence[Call], known: Mapping[str, CallAnalysis] | None = None
    ) -> Matcher:
        """Learn term weights (IDF) from a corpus of calls; profiles become vectors."""
        counts = self._counts_matrix(self.analyses(corpus, known))
        document_frequency = np.bincount(counts.indices, minlength=HASH_SIZE)
        idf = np.log((1 + len(corpus)) / (1 + document_frequency)) + 1
        # Profile words no call uses weigh nothing: they would only lengthen profile vectors.
        self._idf = np.where(document_frequency > 0, idf, 0).astype(np.float32)
        self._department_matrix = self._profile_matrix(self._profiles)
        self._area_matrix = self._profile_matrix(self._areas)
        self._keyword_matrices = [self._keyword_matrix(p) for p in self._profiles]
        return self

    def _profile_vector(self, profile: Profile) -> dict[int, float]:
        """Weighted keywords (each spread over its features) blended with the description."""
        keywords: dict[int, float] = {}
        for keyword in profile.keywords:
            for feature, share in keyword.features:
                column = feature_index(feature)
                keywords[column] = keywords.get(column, 0.0) + (
                    keyword.weight * share * float(self._idf[column])
                )
        description: dict[int, float] = {}
        for feature in profile.description:
            column = feature_index(feature)
            description[column] = description.get(column, 0.0) + float(self._idf[column])
        blend = self.settings.description_weight
        vector: dict[int, float] = {}
        for part, share in ((keywords, 1 - blend), (description, blend)):
            norm = _norm(part)
            for column, value in part.items():
                vector[column] = vector.get(column, 0.0) + (share * value / norm if norm else 0.0)
        norm = _norm(vector)
        return {column: value / norm for column, value in vector.items() if value} if norm else {}

    def _profile_matrix(self, profiles: Sequence[Profile]) -> sparse.csr_matrix:
        rows, columns, values = [], [], []
        for row, profile in enumerate(profiles):
            for column, value in self._profile_vector(profile).items():
                rows.append(row)
                columns.append(column)
                values.append(value)
        shape = (len(profiles), HASH_SIZE)
        return sparse.csr_matrix((values, (rows, columns)), shape=shape, dtype=np.float32)

    def _keyword_matrix(self, profile: Profile) -> sparse.csr_matrix:
        """One row per keyword: how much each feature of the keyword weighs (for reasons)."""
        rows, columns, values = [], [], []
        for row, keyword in enumerate(profile.keywords):
            for feature, share in keyword.features:
                column = feature_index(feature)
                rows.append(row)
                columns.append(column)
                values.append(keyword.weight * share * self._idf[column])
        shape = (len(profile.keywords), HASH_SIZE)
        return sparse.csr_matrix((values, (rows, columns)), shape=shape, dtype=np.float32)

    # Ranking -------------------------------------------------------------------

    def score(
        self, calls: Sequence[Call], known: Mapping[str, CallAnalysis] | None = None
    ) -> ScoreTable:
        """Score every call for every department (no deadline filtering)."""
        if self._idf is None:
            raise RuntimeError("Matcher.fit() must run before score()")
        analyses = self.analyses(calls, known)
        counts = self._counts_matrix(analyses)
        counts.data = (1 + np.log(counts.data)) * self._idf[counts.indices]
        matrix = _unit_rows(counts)
        text = (matrix @ self._department_matrix.T).toarray()
        if self._areas:
            area_scores = (matrix @ self._area_matrix.T).toarray()
            area_scores *= np.array([a.weight for a in self._areas])
            focus = area_scores.max(axis=1)
        else:
            area_scores = np.zeros((len(calls), 0))
            focus = np.zeros(len(calls))
        factors = Factors.compute(self._profiles, self.settings, calls, analyses, matrix)
        final = text * (1 + self.settings.focus_weight * focus[:, None]) * factors.product
        return ScoreTable(self, list(calls), matrix, text, area_scores, focus, final, factors)


def _norm(vector: dict[int, float]) -> float:
    return float(np.sqrt(sum(value * value for value in vector.values())))


class ScoreTable:
    """Scores of calls x departments, and the matches (with reasons) they make."""

    def __init__(self, matcher, calls, matrix, text, area_scores, focus, final, factors):
        self.matcher = matcher
        self.calls = calls
        self.matrix = matrix
        self.text = text
        self.area_scores = area_scores
        self.focus = focus
        self.final = final
        self.factors = factors

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
        departments = self.matcher.departments
        floors = np.array([(min_scores or {}).get(d.id, d.min_score) for d in departments])
        selected = self.final >= floors
        if not ignore_deadlines:
            matchable = np.array([is_matchable(call, now) for call in self.calls], dtype=bool)
            selected &= matchable[:, None]
        results = []
        for j in range(len(departments)):
            rows = np.flatnonzero(selected[:, j])
            reasons = self._reason_terms(rows, j)
            results += [self.match(i, j, now, reasons[n]) for n, i in enumerate(rows)]
        return results

    def match(
        self,
        i: int,
        j: int,
        now: datetime | None = None,
        terms: tuple[tuple[str, float], ...] | None = None,
    ) -> Match:
        """The match of call i for department j, with the terms and focus areas behind it."""
        call, department = self.calls[i], self.matcher.departments[j]
        flags = [flag for flag, _ in self.factors.details(i, j)]
        if now is not None and closing_soon(call, now, department.lead_time_days):
            flags.append(FLAG_CLOSING_SOON)
        return Match(
            call_id=call.id,
            department_id=department.id,
            score=round(float(self.final[i, j]), 4),
            text_score=round(float(self.text[i, j]), 4),
            focus_score=round(float(self.focus[i]), 4),
            terms=terms if terms is not None else self._reason_terms(np.array([i]), j)[0],
            focus_areas=self._reason_areas(i),
            flags=tuple(flags),
            profile_version=self.matcher.versions[department.id],
        )

    def explain(self, i: int, j: int, now: datetime | None = None) -> Explanation:
        """Everything behind the score of call i for department j."""
        department = self.matcher.departments[j]
        areas = self.matcher.focus_areas
        by_area = [
            (areas[k].name, round(float(self.area_scores[i, k]), 4)) for k in range(len(areas))
        ]
        return Explanation(
            match=self.match(i, j, now),
            call=self.calls[i],
            department=department,
            factors=tuple(self.factors.details(i, j)),
            focus_by_area=tuple(sorted(by_area, key=lambda item: -item[1])),
            above_minimum=bool(self.final[i, j] >= department.min_score),
            matchable=is_matchable(self.calls[i], now),
        )

    def _reason_terms(self, rows: np.ndarray, j: int) -> list[tuple[tuple[str, float], ...]]:
        """For each call row: the profile keywords it contains, by share of the text score."""
        if len(rows) == 0:
            return []
        keywords = self.matcher._profiles[j].keywords
        contributions = (self.matrix[rows] @ self.matcher._keyword_matrices[j].T).toarray()
        totals = contributions.sum(axis=1)
        reasons = []
        for row, total in zip(contributions, totals, strict=True):
            if total <= 0:
                reasons.append(())
                continue
            best = np.argsort(-row, kind="stable")[:MAX_REASON_TERMS]
            reasons.append(
                tuple(
                    (keywords[k].label, round(float(row[k] / total), 3)) for k in best if row[k] > 0
                )
            )
        return reasons

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
    return still_open(call, now)


def closing_soon(call: Call, now: datetime, lead_time_days: int) -> bool:
    """The next deadline falls within the lead time."""
    upcoming = next_deadline(call.deadlines, now)
    return upcoming is not None and upcoming <= now + timedelta(days=lead_time_days)
