"""Scores of calls x departments, and the matches, reasons and explanations they make.

Pure: the arrays a fitted matcher computed, and the departments and focus areas behind
them, in; db record types (``Match``) out.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy import sparse

from db.deadlines import next_deadline, still_open
from db.records import Call, Department, FocusArea, Match, MatchFlag, ScoreModel, negative_flag
from matcher.collector import collector_paused
from matcher.factors import Factors
from matcher.model import contributions, features
from matcher.reasons import MAX_REASON_TERMS, KeywordSlots, Reasons
from matcher.rounding import rounded
from matcher.vectors import Terms

# Matches whose reasons are found at a time (their temporary arrays stay small).
REASONS_AT_ONCE = 65_536

# Matches are made from columns of their fields, in this order (a test checks it is Match's).
MATCH_FIELDS = (
    "call_id",
    "department_id",
    "score",
    "text_score",
    "focus_score",
    "terms",
    "focus_areas",
    "flags",
    "profile_version",
)

# What callers import from here, wherever it is defined.
__all__ = ["MAX_REASON_TERMS", "Explanation", "FittedProfiles", "LearntScores", "ScoreTable"]


@dataclass(frozen=True)
class FittedProfiles:
    """What a fitted matcher knows of its departments and focus areas that matches report:
    the departments' keywords as ``terms`` (weighed with the term weights of the fit; the
    columns of a table's gates are their phrases) and where each department's keywords are
    among them (``slots``)."""

    departments: tuple[Department, ...]
    focus_areas: tuple[FocusArea, ...]
    versions: Mapping[str, str]
    terms: Terms
    focus_threshold: float

    @functools.cached_property
    def slots(self) -> KeywordSlots:
        """Each department's keywords among the terms (made when reasons are first asked)."""
        return KeywordSlots(self.terms)


@dataclass(frozen=True)
class LearntScores:
    """What a learnt model turned a table's configured scores into probabilities with: each
    call's programme code and the model (None: the table's scores are the configured ones),
    and each call's focus factor (1 + focus weight x focus score), from which the configured
    score of a pair is made again when asked (no second calls x departments array is kept)."""

    codes: Sequence[str]
    model: ScoreModel | None = None
    focus_factor: np.ndarray | None = None


class ScoreTable:
    """Scores of calls x departments, and the matches (with reasons) they make.

    Rows are calls, columns departments: ``text`` is the text score, ``focus`` the best
    focus-area score of each call (``area_scores`` per area), ``final`` the score with the
    focus and all factors applied; ``matrix`` holds the calls' weighted feature rows over the
    columns the departments' terms use (``ProfileVectors.restrict``).
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
        self.learnt = LearntScores([""] * len(self.calls))
        self._rows = _positions(call.id for call in self.calls)
        self._columns = _positions(department.id for department in self.departments)
        # The focus areas named for each call row, found once for all its departments.
        self._areas_of: dict[int, tuple[str, ...]] = {}
        self._hits: sparse.csr_matrix | None = None

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
        release: bool = False,
    ) -> list[Match]:
        """Matches at or above each department's minimum score, with reasons, department by
        department (calls in the table's order).

        Closed calls and calls whose every deadline has passed are never matched
        (unless ignore_deadlines); calls closing within the lead time are flagged. With
        ``release`` the table lets go of its calls x profiles score arrays once the matches'
        scores are taken from them, before their records are made (at national scale those
        arrays and the records would otherwise be held at once): the table then serves no
        more rankings, explanations or matches.

        Python's cycle collector is paused while the records are made: they hold no cycles,
        and at national scale its passes over every object alive cost a third of the time.
        """
        with collector_paused():
            return self._matches(now, min_scores, ignore_deadlines, release)

    def _matches(
        self,
        now: datetime | None,
        min_scores: dict[str, float] | None,
        ignore_deadlines: bool,
        release: bool,
    ) -> list[Match]:
        departments = self.departments
        floors = np.array([(min_scores or {}).get(d.id, d.min_score) for d in departments])
        selected = self.final >= floors
        if not ignore_deadlines:
            # Only calls that reach some floor are asked whether they can still be applied for.
            candidates = np.flatnonzero(selected.any(axis=1)).tolist()
            selected[[i for i in candidates if not is_matchable(self.calls[i], now)]] = False
        columns, rows = np.nonzero(selected.T)
        del selected
        final_scores, text_scores = self.final[rows, columns], self.text[rows, columns]
        if release:
            self.final = self.text = None  # type: ignore[assignment]
        called = np.unique(rows)
        position = np.searchsorted(called, rows)
        hits = self.hits(called)
        reasons: list[Reasons] = []
        for start in range(0, len(rows), REASONS_AT_ONCE):
            part = slice(start, start + REASONS_AT_ONCE)
            reasons += self.profiles.slots.reasons(hits, position[part], columns[part])
        # The matches' fields a column at a time; flags are the call's own but where the
        # pair has a preferred programme or a negative keyword, or the call closes soon.
        factors = self.factors
        preferred = factors.preferred[rows, columns]
        negative = factors.negative[rows, columns]
        lead_times, lead_of = np.unique(
            [d.lead_time_days for d in departments], return_inverse=True
        )
        closing = _closing_soon(self.calls, now, lead_times, called)[position, lead_of[columns]]
        # Per call: its rounded focus score, focus areas, and its flags in the four ways a
        # match can add to them (a preferred programme before, closing soon after).
        focus, areas, flags = _objects(len(self.calls)), _objects(len(self.calls)), {}
        for i in called.tolist():
            focus[i] = round(float(self.focus[i]), 4)
            areas[i] = self._reason_areas(i)
            own = factors.call_flags(i)
            flags[i] = (
                own,
                (MatchFlag.PREFERRED_PROGRAMME, *own),
                (*own, MatchFlag.CLOSING_SOON),
                (MatchFlag.PREFERRED_PROGRAMME, *own, MatchFlag.CLOSING_SOON),
            )
        row_list = rows.tolist()
        kinds = (preferred + 2 * closing).tolist()
        match_flags = [flags[i][kind] for i, kind in zip(row_list, kinds, strict=True)]
        for m in np.flatnonzero(negative).tolist():
            i, j = row_list[m], int(columns[m])
            word = negative_flag(factors.negative_word(i, j))
            pref = match_flags[m][:1] if preferred[m] else ()
            match_flags[m] = (*pref, word, *match_flags[m][len(pref) :])
        ids = np.array([call.id for call in self.calls], dtype=object)
        department_ids = np.array([d.id for d in departments], dtype=object)
        versions = np.array([self.profiles.versions[d.id] for d in departments], dtype=object)
        return list(
            map(
                Match,
                ids[rows].tolist(),
                department_ids[columns].tolist(),
                rounded(final_scores, 4),
                rounded(text_scores, 4),
                focus[rows].tolist(),
                reasons,
                areas[rows].tolist(),
                match_flags,
                versions[columns].tolist(),
            )
        )

    def hits(self, rows: np.ndarray) -> sparse.csr_matrix:
        """What each department keyword's term finds in the calls of ``rows`` (rows x terms)."""
        if self._hits is None and len(rows) * 4 >= len(self.calls):
            self._hits = self.profiles.terms.hits(self.matrix, self.gates)
        if self._hits is not None:
            return self._hits[rows]
        return self.profiles.terms.hits(self.matrix[rows], self.gates[rows])

    def match(self, call_id: str, department_id: str, now: datetime | None = None) -> Match:
        """The match of one call for one department, with the terms and focus areas behind it.

        An id the table did not score is a KeyError that names it.
        """
        return self._match_at(self._row(call_id), self._column(department_id), now)

    def _match_at(self, i: int, j: int, now: datetime | None = None) -> Match:
        """The match of call i for department j."""
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
            terms=self._reason_terms(i, j),
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
            configured_score=round(self._configured(i, j), 4),
            learnt=self._learnt_terms(i, j),
        )

    def _configured(self, i: int, j: int) -> float:
        """The configured score of call i for department j (what a learnt model turned into
        the table's probability; the table's score where there is no model)."""
        if self.learnt.model is None or self.learnt.focus_factor is None:
            return float(self.final[i, j])
        return self.factors.apply_one(self.text[i, j] * self.learnt.focus_factor[i], i, j)

    def _learnt_terms(self, i: int, j: int) -> tuple[tuple[str, float], ...]:
        """What each feature of the learnt model adds to call i's log-odds for department j."""
        model = self.learnt.model
        if model is None:
            return ()
        base = np.array([[self._configured(i, j)]])
        row = features(base, [self.learnt.codes[i]], model.features)[0, 0]
        return (("intercept", model.intercept), *contributions(model, row))

    def keyword_hits(self, department_id: str) -> list[tuple[str, int]]:
        """Each keyword of a department's profile with how many of the scored calls hold it
        (a phrase: all its words), in the profile's order; 0 says no call has it."""
        j = self._column(department_id)
        terms = self.profiles.terms
        slots = slice(terms.offsets[j], terms.offsets[j + 1])
        found = self.hits(np.arange(len(self.calls))).tocsc()[:, terms.slot_term[slots]]
        held = (found.multiply(terms.slot_weight[slots][None, :]) > 0).sum(axis=0).A1
        return [(label, int(n)) for label, n in zip(terms.labels[slots], held, strict=True)]

    def _reason_terms(self, i: int, j: int) -> Reasons:
        """The profile keywords call i holds for department j, by share of the text score."""
        only = np.array([i])
        return self.profiles.slots.reasons(self.hits(only), np.zeros(1, int), np.array([j]))[0]

    def _reason_areas(self, i: int) -> tuple[str, ...]:
        """Names of the focus areas call i reaches the threshold of, best first."""
        found = self._areas_of.get(i)
        if found is None:
            threshold = self.profiles.focus_threshold
            areas = self.profiles.focus_areas
            names = [area.name for area in areas]
            hits = sorted(zip(self.area_scores[i].tolist(), names, strict=True), reverse=True)
            found = tuple(name for value, name in hits if value >= threshold)
            self._areas_of[i] = found
        return found


def _objects(size: int) -> np.ndarray:
    """An array of ``size`` Python objects (None until set), to pick many from at once."""
    return np.full(size, None, dtype=object)


def _closing_soon(
    calls: Sequence[Call], now: datetime | None, lead_times: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Rows x lead times: whether the call of each row closes within each lead time."""
    closing = np.zeros((len(rows), len(lead_times)), dtype=bool)
    if now is None:
        return closing
    for n, i in enumerate(rows.tolist()):
        upcoming = next_deadline(calls[i].deadlines, now)
        if upcoming is not None:
            closing[n] = [upcoming <= now + timedelta(days=t) for t in lead_times.tolist()]
    return closing


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
