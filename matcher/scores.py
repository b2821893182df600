"""Scores of calls x departments, and the matches, reasons and explanations they make.

Pure: the arrays a fitted matcher computed, and the departments and focus areas behind
them, in; db record types (``Match``) out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy import sparse

from db.deadlines import next_deadline, still_open
from db.records import Call, Department, FocusArea, Match, MatchFlag, ScoreModel
from matcher.factors import Factors
from matcher.model import contributions, features

MAX_REASON_TERMS = 6


@dataclass(frozen=True)
class FittedProfiles:
    """What a fitted matcher knows of its departments and focus areas that matches report.

    ``keyword_labels[j]`` and ``keyword_matrices[j]`` belong to department j: one label and
    one matrix row per keyword, weighing each of its features (term weights of the fit), the
    single words of phrases apart in ``keyword_word_matrices[j]``.
    """

    departments: tuple[Department, ...]
    focus_areas: tuple[FocusArea, ...]
    versions: Mapping[str, str]
    keyword_labels: tuple[tuple[str, ...], ...]
    keyword_matrices: tuple[sparse.csr_matrix, ...]
    # The single words of phrase keywords, counted only where a call has all of them:
    # keyword_gates[j] maps the phrases (columns of a table's gates) to department j's keywords.
    keyword_word_matrices: tuple[sparse.csr_matrix, ...]
    keyword_gates: tuple[sparse.csr_matrix, ...]
    focus_threshold: float


@dataclass(frozen=True)
class LearntScores:
    """What a table's scores were before a learnt model turned them into probabilities: the
    configured scores (calls x departments), each call's programme code, and the model
    (None: the table's scores are the configured ones)."""

    base: np.ndarray
    codes: Sequence[str]
    model: ScoreModel | None = None


class ScoreTable:
    """Scores of calls x departments, and the matches (with reasons) they make.

    Rows are calls, columns departments: ``text`` is the text score, ``focus`` the best
    focus-area score of each call (``area_scores`` per area), ``final`` the score with the
    focus and all factors applied; ``matrix`` holds the calls' weighted feature rows.
    """

    def __init__(
        self,
        profiles: FittedProfiles,
        calls: Sequence[Call],
        matrix: sparse.csr_matrix,
        text: np.ndarray,
        area_scores: np.ndarray,
        focus: np.ndarray,
        final: np.ndarray,
        factors: Factors,
        gates: sparse.csr_matrix | None = None,
    ) -> None:
        self.profiles = profiles
        self.calls = list(calls)
        self.matrix = matrix
        self.text = text
        self.area_scores = area_scores
        self.focus = focus
        self.final = final
        self.factors = factors
        # Calls x phrase keywords: 1 where a call has every word of the phrase.
        self.gates = gates if gates is not None else sparse.csr_matrix((len(self.calls), 0))
        self.learnt = LearntScores(final, [""] * len(self.calls))
        self._rows = _positions(call.id for call in self.calls)
        self._columns = _positions(department.id for department in self.departments)
        # The focus areas named for each call row, found once for all its departments.
        self._areas_of: dict[int, tuple[str, ...]] = {}

    @property
    def departments(self) -> tuple[Department, ...]:
        """The departments scored, one per column."""
        return self.profiles.departments

    def ranking(self, department_id: str) -> list[str]:
        """Call ids for one department, best first."""
        j = self._column(department_id)
        order = np.argsort(-self.final[:, j], kind="stable")
        return [self.calls[i].id for i in order]

    def _row(self, call_id: str) -> int:
        """The row of a call; a KeyError naming it when it was not scored."""
        row = self._rows.get(call_id)
        if row is None:
            raise KeyError(f"no call {call_id!r} among the {len(self.calls)} calls scored")
        return row

    def _column(self, department_id: str) -> int:
        """The column of a department; a KeyError naming it and the known ones otherwise."""
        column = self._columns.get(department_id)
        if column is None:
            known = ", ".join(self._columns)
            raise KeyError(f"no department {department_id!r} (known: {known})")
        return column

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
        departments = self.departments
        floors = np.array([(min_scores or {}).get(d.id, d.min_score) for d in departments])
        selected = self.final >= floors
        if not ignore_deadlines:
            matchable = np.array([is_matchable(call, now) for call in self.calls], dtype=bool)
            selected &= matchable[:, None]
        results = []
        for j in range(len(departments)):
            rows = np.flatnonzero(selected[:, j])
            reasons = self._reason_terms(rows, j)
            results += [self._match_at(i, j, now, reasons[n]) for n, i in enumerate(rows)]
        return results

    def match(self, call_id: str, department_id: str, now: datetime | None = None) -> Match:
        """The match of one call for one department, with the terms and focus areas behind it.

        An id the table did not score is a KeyError that names it.
        """
        return self._match_at(self._row(call_id), self._column(department_id), now)

    def _match_at(
        self,
        i: int,
        j: int,
        now: datetime | None = None,
        terms: tuple[tuple[str, float], ...] | None = None,
    ) -> Match:
        """The match of call i for department j (terms found now unless given)."""
        call, department = self.calls[i], self.departments[j]
        flags = [flag for flag, _ in self.factors.details(i, j)]
        if now is not None and closing_soon(call, now, department.lead_time_days):
            flags.append(MatchFlag.CLOSING_SOON)
        return Match(
            call_id=call.id,
            department_id=department.id,
            score=round(float(self.final[i, j]), 4),
            text_score=round(float(self.text[i, j]), 4),
            focus_score=round(float(self.focus[i]), 4),
            terms=terms if terms is not None else self._reason_terms(np.array([i]), j)[0],
            focus_areas=self._reason_areas(i),
            flags=tuple(flags),
            profile_version=self.profiles.versions[department.id],
        )

    def explain(self, call_id: str, department_id: str, now: datetime | None = None) -> Explanation:
        """Everything behind the score of one call for one department.

        An id the table did not score is a KeyError that names it.
        """
        i, j = self._row(call_id), self._column(department_id)
        department = self.departments[j]
        areas = self.profiles.focus_areas
        by_area = [
            (areas[k].name, round(float(self.area_scores[i, k]), 4)) for k in range(len(areas))
        ]
        return Explanation(
            match=self._match_at(i, j, now),
            call=self.calls[i],
            department=department,
            factors=tuple(self.factors.details(i, j)),
            focus_by_area=tuple(sorted(by_area, key=lambda item: -item[1])),
            above_minimum=bool(self.final[i, j] >= department.min_score),
            matchable=is_matchable(self.calls[i], now),
            configured_score=round(float(self.learnt.base[i, j]), 4),
            learnt=self._learnt_terms(i, j),
        )

    def _learnt_terms(self, i: int, j: int) -> tuple[tuple[str, float], ...]:
        """What each feature of the learnt model adds to call i's log-odds for department j."""
        model = self.learnt.model
        if model is None:
            return ()
        base = self.learnt.base[i : i + 1, j : j + 1]
        row = features(base, [self.learnt.codes[i]], model.features)[0, 0]
        return (("intercept", model.intercept), *contributions(model, row))

    def keyword_hits(self, department_id: str) -> list[tuple[str, int]]:
        """Each keyword of a department's profile with how many of the scored calls hold it
        (a phrase: all its words), in the profile's order; 0 says no call has it."""
        j = self._column(department_id)
        found = (self.matrix @ self.profiles.keyword_matrices[j].T).tocsc()
        words = self.matrix @ self.profiles.keyword_word_matrices[j].T
        gated = sparse.csr_matrix(words).multiply(self.gates @ self.profiles.keyword_gates[j])
        held = ((found + sparse.csc_matrix(gated)) > 0).sum(axis=0).A1
        return [
            (label, int(n)) for label, n in zip(self.profiles.keyword_labels[j], held, strict=True)
        ]

    def _reason_terms(self, rows: np.ndarray, j: int) -> list[tuple[tuple[str, float], ...]]:
        """For each call row: the profile keywords it contains, by share of the text score."""
        if len(rows) == 0:
            return []
        labels = self.profiles.keyword_labels[j]
        found = self.matrix[rows]
        contributions = (found @ self.profiles.keyword_matrices[j].T).toarray()
        words = (found @ self.profiles.keyword_word_matrices[j].T).toarray()
        contributions += words * (self.gates[rows] @ self.profiles.keyword_gates[j]).toarray()
        totals = contributions.sum(axis=1, keepdims=True)
        best = np.argsort(-contributions, axis=1, kind="stable")[:, :MAX_REASON_TERMS]
        top = np.take_along_axis(contributions, best, axis=1)
        shares = np.round(top / np.where(totals > 0, totals, 1.0), 3).tolist()
        best_rows, top_rows = best.tolist(), top.tolist()
        return [
            tuple(
                (labels[k], share)
                for k, share, value in zip(columns, row_shares, row_top, strict=True)
                if value > 0
            )
            for columns, row_shares, row_top in zip(best_rows, shares, top_rows, strict=True)
        ]

    def _reason_areas(self, i: int) -> tuple[str, ...]:
        """Names of the focus areas call i reaches the threshold of, best first."""
        found = self._areas_of.get(i)
        if found is None:
            threshold = self.profiles.focus_threshold
            areas = self.profiles.focus_areas
            hits = [(self.area_scores[i, k], areas[k].name) for k in range(len(areas))]
            found = tuple(name for value, name in sorted(hits, reverse=True) if value >= threshold)
            self._areas_of[i] = found
        return found


def _positions(ids: Iterable[str]) -> dict[str, int]:
    """The position of each id; where one repeats, the first, as a scan would find it."""
    positions: dict[str, int] = {}
    for position, item_id in enumerate(ids):
        positions.setdefault(item_id, position)
    return positions


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
    # The score as configured, and (with a learnt model) what each of the model's features
    # adds to the log-odds of the probability that is the match's score.
    configured_score: float = 0.0
    learnt: tuple[tuple[str, float], ...] = ()


def is_matchable(call: Call, now: datetime | None) -> bool:
    """A call can be matched unless it is closed or every deadline has passed."""
    return still_open(call, now)


def closing_soon(call: Call, now: datetime, lead_time_days: int) -> bool:
    """The next deadline falls within the lead time."""
    upcoming = next_deadline(call.deadlines, now)
    return upcoming is not None and upcoming <= now + timedelta(days=lead_time_days)
