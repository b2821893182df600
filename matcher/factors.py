"""Score factors beyond the text: preferred programmes, negative keywords, who-may-apply rules,
and calls for other regions than ours or for our own.

Each factor multiplies a call's score for a department, and each one found is named in the
match's flags and in its explanation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from db.programmes import plain_programme, programme_is
from db.records import (
    Call,
    MatchFlag,
    MatchingSettings,
    is_out_of_area,
    is_own_area,
    negative_flag,
    rule_flag,
)
from matcher.analysis import CallAnalysis
from matcher.profiles import PreparedProfile


@dataclass(frozen=True)
class Factors:
    """Preferred programmes, negative keywords and who-may-apply rules, as score factors.

    ``preferred`` and ``negative`` have one row per call and one column per profile; the
    factors of the call alone (rules, area) are multiplied into ``call_factor``. No calls x
    profiles array of factors is kept: ``apply`` multiplies them into the scores in place.
    """

    preferred: np.ndarray
    negative: np.ndarray
    call_factor: np.ndarray
    # Calls x distinct negative words (1: the call has it), and per profile its negative
    # words with their column in negative_hits (-1: no call has the word).
    negative_hits: sparse.csr_matrix
    negative_by_profile: dict[int, list[tuple[int, str]]]
    rules: list[tuple[str, ...]]
    out_of_area: np.ndarray
    own_area: np.ndarray
    preferred_factor: float
    negative_factor: float
    out_of_area_factor: float
    own_area_factor: float
    rule_factors: Mapping[str, float]

    @classmethod
    def compute(
        cls,
        profiles: Sequence[PreparedProfile],
        settings: MatchingSettings,
        calls: Sequence[Call],
        analyses: Sequence[CallAnalysis],
        matrix: sparse.csr_matrix,
        column: Callable[[str], int],
    ) -> Factors:
        """The factors of every call (rows of ``matrix``, in order) for every profile;
        ``column`` gives a feature's column in ``matrix`` (-1 when no call has it)."""
        # A negative keyword is found when the call has its last feature: the word itself,
        # or for a phrase its last word pair.
        negative_words = [
            (j, word, column(features[-1]))
            for j, profile in enumerate(profiles)
            for word, features in profile.negative
        ]
        # Each distinct negative word's column is looked at once (profiles share many), and
        # a call x profile incidence says which profiles' words it has.
        distinct = sorted({c for _, _, c in negative_words if c >= 0})
        slot = {c: n for n, c in enumerate(distinct)}
        present = sparse.csr_matrix(matrix[:, distinct] > 0, dtype=np.float64)
        entries = [(slot[c], j) for j, _, c in negative_words if c >= 0]
        incidence = sparse.csr_matrix(
            (np.ones(len(entries)), ([a for a, _ in entries], [b for _, b in entries])),
            shape=(len(distinct), len(profiles)),
        )
        found = (present @ incidence).tocoo()
        negative = np.zeros((len(calls), len(profiles)), dtype=bool)
        negative[found.row, found.col] = True
        rule_factors = {rule.id: rule.factor for rule in settings.eligibility_rules}
        # Calls share a few sets of rule hits and of regions: each is judged once.
        factor_of = {rules: _product(rule_factors, rules) for rules in {a.rules for a in analyses}}
        rule_factor = np.array([factor_of[a.rules] for a in analyses], dtype=np.float64)
        home = settings.home_region
        regions = [tuple(call.regions) for call in calls]
        area_of = {r: (is_out_of_area(r, home), is_own_area(r, home)) for r in set(regions)}
        elsewhere = np.array([area_of[r][0] for r in regions], dtype=bool)
        own = np.array([area_of[r][1] for r in regions], dtype=bool)
        area_factor = np.where(elsewhere, settings.out_of_area_factor, 1.0) * np.where(
            own, settings.own_area_factor, 1.0
        )
        return cls(
            preferred=_preferred_programmes(profiles, settings, calls),
            negative=negative,
            call_factor=rule_factor * area_factor,
            negative_hits=present.tocsr(),
            negative_by_profile=_group_negatives(
                negative_words, [slot.get(c, -1) for _, _, c in negative_words]
            ),
            rules=[a.rules for a in analyses],
            out_of_area=elsewhere,
            own_area=own,
            preferred_factor=1 + settings.preferred_programme_boost,
            negative_factor=settings.negative_keyword_penalty,
            out_of_area_factor=settings.out_of_area_factor,
            own_area_factor=settings.own_area_factor,
            rule_factors=rule_factors,
        )

    def apply(self, scores: np.ndarray) -> np.ndarray:
        """Multiply the factors into scores (calls x profiles) in place; the scores."""
        np.multiply(scores, self.preferred_factor, out=scores, where=self.preferred)
        np.multiply(scores, self.negative_factor, out=scores, where=self.negative)
        scores *= self.call_factor[:, None]
        return scores

    def apply_one(self, score: float, row: int, column: int) -> float:
        """``apply`` for one call and profile (the same operations, so the same result)."""
        value = np.float64(score)
        if self.preferred[row, column]:
            value *= self.preferred_factor
        if self.negative[row, column]:
            value *= self.negative_factor
        return float(value * self.call_factor[row])

    def call_flags(self, row: int) -> tuple[str, ...]:
        """The flags of the factors of the call in ``row`` alone (rules, then area)."""
        found = [rule_flag(rule) for rule in self.rules[row]]
        if self.out_of_area[row]:
            found.append(MatchFlag.OUT_OF_AREA)
        if self.own_area[row]:
            found.append(MatchFlag.OWN_AREA)
        return tuple(found)

    def negative_word(self, row: int, column: int) -> str | None:
        """The first of a profile's negative words the call in ``row`` has (None: none)."""
        hits = self.negative_hits
        present = set(hits.indices[hits.indptr[row] : hits.indptr[row + 1]].tolist())
        return next(
            (word for k, word in self.negative_by_profile.get(column, ()) if k in present),
            None,
        )

    def details(self, row: int, column: int) -> list[tuple[str, float]]:
        """The factors of the call in ``row`` for the profile in ``column``, each with its flag."""
        found: list[tuple[str, float]] = []
        if self.preferred[row, column]:
            found.append((MatchFlag.PREFERRED_PROGRAMME, self.preferred_factor))
        hit = self.negative_word(row, column)
        if hit:
            found.append((negative_flag(hit), self.negative_factor))
        found += [(rule_flag(rule), self.rule_factors[rule]) for rule in self.rules[row]]
        if self.out_of_area[row]:
            found.append((MatchFlag.OUT_OF_AREA, self.out_of_area_factor))
        if self.own_area[row]:
            found.append((MatchFlag.OWN_AREA, self.own_area_factor))
        return found


def _preferred_programmes(
    profiles: Sequence[PreparedProfile], settings: MatchingSettings, calls: Sequence[Call]
) -> np.ndarray:
    """Whether each call's programme is one each profile prefers (calls x profiles)."""
    names = dict(settings.programmes)
    programmes: dict[str, int] = {}
    of_call = np.array([programmes.setdefault(c.programme, len(programmes)) for c in calls])
    # Each programme is compared once with each code some profile prefers, not per profile.
    codes = sorted({code for profile in profiles for code in profile.preferred})
    is_code = np.zeros((len(programmes), len(codes)), dtype=bool)
    for name, row in programmes.items():
        programme = plain_programme(name)
        is_code[row] = [programme_is(programme, names.get(code, ())) for code in codes]
    position = {code: k for k, code in enumerate(codes)}
    prefers = np.zeros((len(codes), len(profiles)), dtype=bool)
    for j, profile in enumerate(profiles):
        prefers[[position[code] for code in profile.preferred], j] = True
    by_programme = (is_code.astype(np.int64) @ prefers.astype(np.int64)) > 0
    return by_programme[of_call] if len(calls) else np.zeros((0, len(profiles)), dtype=bool)


def _product(factors: Mapping[str, float], names: Sequence[str]) -> float:
    """The product of the named factors (a name without a factor counts as 1)."""
    result = 1.0
    for name in names:
        result *= factors.get(name, 1.0)
    return result


def _group_negatives(
    negative_words: Sequence[tuple[int, str, int]], slots: Sequence[int]
) -> dict[int, list[tuple[int, str]]]:
    """Negative words and their columns in the hits (``slots``, -1: none), by profile."""
    grouped: dict[int, list[tuple[int, str]]] = {}
    for (j, word, _), k in zip(negative_words, slots, strict=True):
        grouped.setdefault(j, []).append((k, word))
    return grouped
