"""Profiles as vectors over the fitted vocabulary, with the words of phrases gated; built for
all profiles at once.

A keyword stands for its features: a single word for itself, a phrase mostly for its word
pairs and a little for its single words. Those single words count for a call only when the
call has every word of the phrase ("fire prevention" lends nothing to a call about the
prevention of diseases): they are kept apart from the rest of the vector ("gated"), and a
call's gate for a phrase opens when all of its words are there.

Profiles share most of their keywords (hundreds of profiles draw on the same few thousand),
so each distinct keyword (its features and their shares) is weighed once, as a *term*, and
each distinct phrase has one gate: a profile is its keywords' weights over the terms
(``Terms``), and what grows with the number of profiles is sparse-matrix arithmetic, not a
loop over profiles in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from matcher.profiles import Keyword, PreparedProfile

# Calls scored at a time.
BLOCK_ROWS = 4096


def is_phrase(keyword: Keyword) -> bool:
    """A keyword of several content words (it has word pairs)."""
    return any(" " in feature for feature, _ in keyword.features)


@dataclass(frozen=True)
class Terms:
    """The distinct keywords of some profiles, and where each profile's keywords are.

    Terms x vocabulary: ``plain`` weighs the features always counted (share x term weight),
    ``words`` the single words of a phrase, counted where the call has them all. Phrases
    (distinct sets of single words) x vocabulary: ``required`` columns, ``needed`` of them
    (one more than there are columns when a word is in no fitted call); ``phrase_of`` maps
    phrases to their terms. Slots are the profiles' keywords in order: profile j's are
    ``offsets[j]:offsets[j + 1]``, each with its term, weight and label.
    """

    plain: sparse.csr_matrix
    words: sparse.csr_matrix
    required: sparse.csr_matrix
    needed: np.ndarray
    phrase_of: sparse.csr_matrix
    offsets: np.ndarray
    slot_term: np.ndarray
    slot_weight: np.ndarray
    labels: np.ndarray

    @classmethod
    def build(
        cls,
        profiles: Sequence[PreparedProfile],
        column: Callable[[str], int],
        idf: np.ndarray,
    ) -> Terms:
        """The terms of the profiles; ``column`` gives a feature's column (-1: none)."""
        index: dict[tuple[tuple[str, float], ...], int] = {}
        slot_term: list[int] = []
        offsets = [0]
        for profile in profiles:
            for keyword in profile.keywords:
                slot_term.append(index.setdefault(keyword.features, len(index)))
            offsets.append(len(slot_term))
        keywords = [k for profile in profiles for k in profile.keywords]
        width = len(idf)
        plain, words, required = _Rows(width), _Rows(width), _Rows(width)
        phrases: dict[frozenset[str], int] = {}
        needed: list[int] = []
        term_phrase: list[tuple[int, int]] = []
        for term, features in enumerate(index):
            phrase = any(" " in feature for feature, _ in features)
            for feature, share in features:
                c = column(feature)
                if c >= 0:
                    part = words if phrase and " " not in feature else plain
                    part.add(term, {c: share * float(idf[c])})
            if phrase:
                single = frozenset(f for f, _ in features if " " not in f)
                if single not in phrases:
                    phrases[single] = len(phrases)
                    wanted = [column(f) for f in single]
                    required.add(phrases[single], {c: 1.0 for c in wanted if c >= 0})
                    needed.append(len(set(wanted)))
                term_phrase.append((phrases[single], term))
        return cls(
            plain=plain.matrix(len(index)),
            words=words.matrix(len(index)),
            required=required.matrix(len(phrases)),
            needed=np.array(needed, dtype=np.int64),
            phrase_of=_ones(term_phrase, (len(phrases), len(index))),
            offsets=np.array(offsets, dtype=np.int64),
            slot_term=np.array(slot_term, dtype=np.int64),
            slot_weight=np.array([k.weight for k in keywords], dtype=np.float64),
            labels=np.array([k.label for k in keywords], dtype=object),
        )

    @property
    def slot_profile(self) -> np.ndarray:
        """The profile of each slot."""
        return np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))

    def over(self, columns: np.ndarray) -> Terms:
        """The same terms over only the vocabulary ``columns`` (sorted; every column a term
        uses among them): a call's row restricted to those columns finds the same."""
        return replace(
            self,
            plain=self.plain[:, columns],
            words=self.words[:, columns],
            required=self.required[:, columns],
        )

    def weights(self) -> sparse.csr_matrix:
        """Profiles x terms: the weight of each term in each profile (summed where two of a
        profile's keywords are the same term)."""
        shape = (len(self.offsets) - 1, self.plain.shape[0])
        return sparse.csr_matrix(
            (self.slot_weight, (self.slot_profile, self.slot_term)), shape=shape
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

    def gated_words(self, matrix: sparse.csr_matrix, gates: sparse.csr_matrix):
        """Calls x terms: the single words of each phrase term in each call, where gated in."""
        return sparse.csr_matrix((matrix @ self.words.T).multiply(gates @ self.phrase_of))

    def hits(self, matrix: sparse.csr_matrix, gates: sparse.csr_matrix) -> sparse.csr_matrix:
        """Calls x terms: what each term finds in each call (before a profile's weight)."""
        found = (matrix @ self.plain.T).tocsr() + self.gated_words(matrix, gates)
        found = found.tocsr()
        found.sort_indices()
        return found


@dataclass(frozen=True)
class ProfileVectors:
    """Unit-length profile vectors: ``direct`` (columns x profiles) holds what always
    counts, ``phrase_weights`` (terms x profiles) how much each phrase term's gated single
    words weigh in each profile.

    Profiles use a few hundred to a few thousand of the tens of thousands of columns of the
    vocabulary: ``columns`` are those (sorted), and the terms and ``direct`` are over them
    alone. Calls' rows are restricted to them once (``restrict``) before the products, which
    then skip every feature no profile has; ``direct`` is dense, its products with the
    restricted rows sum the same terms in the same order (the same doubles).
    """

    terms: Terms
    direct: np.ndarray
    phrase_weights: np.ndarray
    columns: np.ndarray

    @classmethod
    def build(
        cls,
        profiles: Sequence[PreparedProfile],
        column: Callable[[str], int],
        idf: np.ndarray,
        description_weight: float,
    ) -> ProfileVectors:
        """The vectors of the profiles; ``column`` gives a feature's column (-1: none)."""
        terms = Terms.build(profiles, column, idf)
        weights = terms.weights()
        plain = (weights @ terms.plain).tocsr()
        keywords = (plain + weights @ terms.words).tocsr()
        description = _descriptions(profiles, column, idf)
        keyword_norm, description_norm = _norms(keywords), _norms(description)
        keyword_share = _share(1 - description_weight, keyword_norm)
        description_share = _share(description_weight, description_norm)
        total = _norms(_scaled(keywords, keyword_share) + _scaled(description, description_share))
        keyword_scale = _share(keyword_share, total)
        description_scale = _share(description_share, total)
        direct = (_scaled(plain, keyword_scale) + _scaled(description, description_scale)).tocsr()
        direct.eliminate_zeros()
        phrase_weights = _scaled(weights, keyword_scale).T.toarray()
        columns = np.unique(
            np.concatenate(
                [direct.indices, terms.plain.indices, terms.words.indices, terms.required.indices]
            )
        )
        return cls(
            terms=terms.over(columns),
            direct=np.ascontiguousarray(direct[:, columns].T.toarray()),
            phrase_weights=phrase_weights,
            columns=columns,
        )

    def restrict(self, matrix: sparse.csr_matrix) -> sparse.csr_matrix:
        """Calls' rows over the vocabulary restricted to the profiles' ``columns``: what
        ``gates``, ``scores`` and the terms' ``hits`` take."""
        return matrix[:, self.columns]

    def gates(self, rows: sparse.csr_matrix) -> sparse.csr_matrix:
        """Calls x phrases: 1 where a call has every word of a phrase (``rows`` restricted)."""
        return self.terms.gates(rows)

    def scores(self, matrix: sparse.csr_matrix, gates: sparse.csr_matrix) -> np.ndarray:
        """Cosine of every call row (restricted) with every profile, phrase words counted
        where gated in (a block of rows at a time, so the products in between stay small)."""
        scores = np.empty((matrix.shape[0], self.direct.shape[1]))
        for start in range(0, matrix.shape[0], BLOCK_ROWS):
            block = slice(start, start + BLOCK_ROWS)
            rows = matrix[block]
            scores[block] = rows @ self.direct
            if self.terms.phrase_of.shape[0]:
                scores[block] += self.terms.gated_words(rows, gates[block]) @ self.phrase_weights
        return scores


def _descriptions(
    profiles: Sequence[PreparedProfile], column: Callable[[str], int], idf: np.ndarray
) -> sparse.csr_matrix:
    """Profiles x vocabulary: each description feature's term weight, times its count."""
    rows, columns = [], []
    for row, profile in enumerate(profiles):
        found = [c for c in map(column, profile.description) if c >= 0]
        rows += [row] * len(found)
        columns += found
    columns_array = np.array(columns, dtype=np.int64)
    return sparse.csr_matrix(
        (idf[columns_array], (np.array(rows, dtype=np.int64), columns_array)),
        shape=(len(profiles), len(idf)),
    )


def _norms(matrix: sparse.csr_matrix) -> np.ndarray:
    """The Euclidean length of each row."""
    return np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())


def _share(part: float | np.ndarray, norms: np.ndarray) -> np.ndarray:
    """``part / norms`` where a norm is not 0, else 0."""
    return np.divide(part, norms, out=np.zeros(len(norms)), where=norms != 0)


def _scaled(matrix: sparse.csr_matrix, factors: np.ndarray) -> sparse.csr_matrix:
    """Each row times its factor."""
    return sparse.csr_matrix(sparse.diags(factors) @ matrix)


def _ones(pairs: Sequence[tuple[int, int]], shape: tuple[int, int]) -> sparse.csr_matrix:
    """A matrix with 1 at each (row, column) pair."""
    rows = np.array([a for a, _ in pairs], dtype=np.int64)
    columns = np.array([b for _, b in pairs], dtype=np.int64)
    return sparse.csr_matrix((np.ones(len(pairs)), (rows, columns)), shape=shape)


class _Rows:
    """Rows of a sparse matrix, collected as column -> value dicts (values of a column that
    comes twice in a row are summed)."""

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
