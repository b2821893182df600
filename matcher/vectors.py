"""Profiles as vectors over the fitted vocabulary, with the words of phrases gated.

A keyword stands for its features: a single word for itself, a phrase mostly for its word
pairs and a little for its single words. Those single words count for a call only when the
call has every word of the phrase ("fire prevention" lends nothing to a call about the
prevention of diseases): they are kept apart from the rest of the vector ("gated"), and a
call's gate for a phrase opens when all of its words are there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from matcher.profiles import Keyword, PreparedProfile


def is_phrase(keyword: Keyword) -> bool:
    """A keyword of several content words (it has word pairs)."""
    return any(" " in feature for feature, _ in keyword.features)


@dataclass(frozen=True)
class ProfileVectors:
    """Unit-length profile vectors: ``direct`` (profiles x vocabulary) and, one row per phrase
    keyword, its single words (``gated``), the columns that must all be present (``required``,
    ``needed`` of them) and the profile it belongs to (``owner``, phrases x profiles)."""

    direct: sparse.csr_matrix
    gated: sparse.csr_matrix
    required: sparse.csr_matrix
    needed: np.ndarray
    owner: sparse.csr_matrix
    # For each phrase row: the profile row and the keyword it is the single words of.
    phrase_keywords: tuple[tuple[int, Keyword], ...] = ()

    @classmethod
    def build(
        cls,
        profiles: Sequence[PreparedProfile],
        column: Callable[[str], int],
        idf: np.ndarray,
        description_weight: float,
    ) -> ProfileVectors:
        """The vectors of the profiles; ``column`` gives a feature's column (-1: none)."""
        size = len(idf)
        direct, gated, required = _Rows(size), _Rows(size), _Rows(size)
        owners: list[int] = []
        needed: list[int] = []
        phrase_keywords: list[tuple[int, Keyword]] = []
        for row, profile in enumerate(profiles):
            plain, phrases, description = _parts(profile, column, idf)
            keywords = _summed(plain, phrases)
            keyword_norm, description_norm = _norm(keywords), _norm(description)
            keyword_share = (1 - description_weight) / keyword_norm if keyword_norm else 0.0
            description_share = description_weight / description_norm if description_norm else 0.0
            mixed = {c: v * keyword_share for c, v in keywords.items()}
            for c, v in description.items():
                mixed[c] = mixed.get(c, 0.0) + v * description_share
            total = _norm(mixed)
            if not total:
                continue
            vector = {c: v * keyword_share / total for c, v in plain.items()}
            for c, v in description.items():
                vector[c] = vector.get(c, 0.0) + v * description_share / total
            direct.add(row, vector)
            for keyword, words in phrases.items():
                gated.add(len(owners), {c: v * keyword_share / total for c, v in words.items()})
                wanted = [column(f) for f, _ in keyword.features if " " not in f]
                required.add(len(owners), {c: 1.0 for c in wanted if c >= 0})
                needed.append(len(set(wanted)))
                owners.append(row)
                phrase_keywords.append((row, keyword))
        owner = sparse.csr_matrix(
            (np.ones(len(owners)), (np.arange(len(owners)), owners)),
            shape=(len(owners), len(profiles)),
        )
        return cls(
            direct=direct.matrix(len(profiles)),
            gated=gated.matrix(len(owners)),
            required=required.matrix(len(owners)),
            needed=np.array(needed, dtype=np.int64),
            owner=owner,
            phrase_keywords=tuple(phrase_keywords),
        )

    def gates(self, matrix: sparse.csr_matrix) -> sparse.csr_matrix:
        """Calls x phrases: 1 where a call has every word of a phrase."""
        # The calls' features as ones, sharing the matrix's index arrays (no copy of them).
        present = sparse.csr_matrix(
            (np.ones(len(matrix.data)), matrix.indices, matrix.indptr), shape=matrix.shape
        )
        hits = (present @ self.required.T).tocsr()
        hits.data = (hits.data >= self.needed[hits.indices]).astype(np.float64)
        hits.eliminate_zeros()
        return hits

    def scores(self, matrix: sparse.csr_matrix, gates: sparse.csr_matrix) -> np.ndarray:
        """Cosine of every call row with every profile, phrase words counted where gated in."""
        scores = (matrix @ self.direct.T).toarray()
        if self.gated.shape[0]:
            words = (matrix @ self.gated.T).multiply(gates)
            scores += (sparse.csr_matrix(words) @ self.owner).toarray()
        return scores


class _Rows:
    """Rows of a sparse matrix, collected as column -> value dicts."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.rows: list[int] = []
        self.columns: list[int] = []
        self.values: list[float] = []

    def add(self, row: int, values: dict[int, float]) -> None:
        for column, value in values.items():
            if value:
                self.rows.append(row)
                self.columns.append(column)
                self.values.append(value)

    def matrix(self, height: int) -> sparse.csr_matrix:
        return sparse.csr_matrix(
            (self.values, (self.rows, self.columns)), shape=(height, self.width), dtype=np.float64
        )


def _parts(
    profile: PreparedProfile, column: Callable[[str], int], idf: np.ndarray
) -> tuple[dict[int, float], dict[Keyword, dict[int, float]], dict[int, float]]:
    """A profile's weighted features: those always counted, the single words of each phrase,
    and its description."""
    plain: dict[int, float] = {}
    phrases: dict[Keyword, dict[int, float]] = {}
    for keyword in profile.keywords:
        phrase = is_phrase(keyword)
        for feature, share in keyword.features:
            c = column(feature)
            if c < 0:
                continue
            part = phrases.setdefault(keyword, {}) if phrase and " " not in feature else plain
            part[c] = part.get(c, 0.0) + keyword.weight * share * float(idf[c])
    description: dict[int, float] = {}
    for feature in profile.description:
        c = column(feature)
        if c >= 0:
            description[c] = description.get(c, 0.0) + float(idf[c])
    return plain, phrases, description


def _summed(plain: dict[int, float], phrases: dict[Keyword, dict[int, float]]) -> dict[int, float]:
    """All keyword features together, as the profile's length counts them."""
    total = dict(plain)
    for words in phrases.values():
        for c, v in words.items():
            total[c] = total.get(c, 0.0) + v
    return total


def _norm(vector: dict[int, float]) -> float:
    """The Euclidean length of a sparse vector."""
    return float(np.sqrt(sum(value * value for value in vector.values())))
