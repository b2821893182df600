"""Rank calls for departments: TF-IDF cosine against bilingual profiles and focus areas.

Pure: calls, profiles and settings in (db record types), matches out. No SQL, no HTTP.
The matcher here analyses calls, learns term weights and scores; profiles, score factors
and the score table (matches, reasons, explanations) have modules of their own beside it.

Each call is analysed once (``analyse_call``: hashed features and rule hits, independent of
the profiles and of the rest of the corpus), so a re-rank after a profile change, or over a
grown corpus, is sparse-matrix arithmetic on analyses that can be kept between runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse

from db.records import Call, Department, FocusArea, MatchingSettings, ScoreModel
from matcher.analysis import (
    SWEDISH_TAG,
    Analyser,
    CallAnalysis,
    detect_language,
    feature_key,
)
from matcher.batch_analysis import analyse_many
from matcher.factors import Factors
from matcher.model import probabilities, programme_codes
from matcher.profiles import (
    compound_parts,
    prepare_departments,
    prepare_focus_area,
    profile_version,
    profile_versions,
    swedish_lexicon,
)
from matcher.scores import (
    Explanation,
    FittedProfiles,
    LearntScores,
    ScoreTable,
    closing_soon,
    is_matchable,
)
from matcher.vectors import ProfileVectors

# What callers import from here, wherever it is defined.
__all__ = [
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
    """Analyse a call: title (weighted up), call title, programme, action, summary.

    Programme divisions are left out: they name parts of a programme ("Neighbourhood East",
    a region of the world), not what a call is about.
    """
    return analyser.analyse(*_texts(call))


def analyse_calls(
    calls: Sequence[Call], analyser: Analyser, processes: int | None = None
) -> list[CallAnalysis]:
    """Analyse many calls at once: the analyses ``analyse_call`` makes, in less time
    (``processes``: see ``batch_analysis.analyse_many``)."""
    return analyse_many(analyser, [_texts(call) for call in calls], processes)


def _texts(call: Call) -> tuple[str, str, str, str, str]:
    """The texts a call is analysed by: language, title, context, summary, programme."""
    context = " . ".join([call.call_title, call.programme, call.type_of_action])
    return call_language(call), call.title, context, call.summary, call.programme


class Matcher:
    """Scores calls against department profiles and the strategy's focus areas."""

    def __init__(
        self,
        departments: Sequence[Department],
        focus_areas: Sequence[FocusArea],
        settings: MatchingSettings,
    ) -> None:
        self.departments = tuple(departments)
        self.focus_areas = tuple(focus_areas)
        self.settings = settings
        self.analyser = analyser_for(settings)
        self.versions = profile_versions(self.departments, settings, self.focus_areas)
        self._profiles = prepare_departments(self.departments, settings.terms)
        self._areas = [prepare_focus_area(a, settings.terms) for a in self.focus_areas]
        self._lexicon = swedish_lexicon([*self._profiles, *self._areas])
        self._analyses: dict[str, CallAnalysis] = {}
        self._last_rows: tuple[tuple[int, ...], list[tuple[np.ndarray, np.ndarray]]] | None = None
        # The keys of the fitted corpus, sorted: key vocabulary[c] has column c.
        self._vocabulary = np.zeros(0, dtype=np.int64)
        # The term weights (smoothed inverse document frequencies) of the fit; None: not fitted.
        self._idf: np.ndarray | None = None
        # Columns of features looked up since the last fit (profiles share many features).
        self._columns: dict[str, int] = {}
        # The term-weight matrix of the last rows built (fit() and score() over the same calls).
        self._last_matrix: tuple[object, sparse.csr_matrix] | None = None

    # Analysis --------------------------------------------------------------------

    def analyses(
        self, calls: Sequence[Call], known: Mapping[str, CallAnalysis] | None = None
    ) -> list[CallAnalysis]:
        """The analysis of each call: given in ``known``, kept from earlier, or made now."""
        known = known or {}
        keys = [f"{call.id}\x00{call.content_hash}" for call in calls]
        result = [
            known.get(call.id) or self._analyses.get(key)
            for call, key in zip(calls, keys, strict=True)
        ]
        missing = [number for number, analysis in enumerate(result) if analysis is None]
        made = analyse_calls([calls[number] for number in missing], self.analyser)
        for number, analysis in zip(missing, made, strict=True):
            result[number] = analysis
        self._analyses.update(zip(keys, result, strict=True))
        return result

    def _rows(self, analyses: Sequence[CallAnalysis]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each call's feature keys and weighted counts, Swedish compounds split.

        The last rows are kept: fit() and score() over the same calls build them once.
        """
        key = tuple(map(id, analyses))
        if self._last_rows is not None and self._last_rows[0] == key:
            return self._last_rows[1]
        rows = [self._with_compound_parts(a) for a in analyses]
        self._last_rows = (key, rows)
        return rows

    def column(self, feature: str) -> int:
        """The column of a feature in the fitted vocabulary; -1 when no fitted call has it."""
        found = self._columns.get(feature)
        if found is None:
            found = self._columns[feature] = self._column_of_key(feature_key(feature))
        return found

    def _column_of_key(self, key: int) -> int:
        position = int(np.searchsorted(self._vocabulary, key))
        found = position < len(self._vocabulary) and self._vocabulary[position] == key
        return position if found else -1

    def _matrix(self, rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> sparse.csr_matrix:
        """The rows' term weights, one row per call, one column per key of the vocabulary
        (keys the fitted corpus does not have are left out: they have no term weight).

        The matrix of the last rows is kept while the fit stays: fit() and score() over the
        same calls build it once."""
        if self._last_matrix is not None and self._last_matrix[0] is rows:
            return self._last_matrix[1]
        lengths = np.fromiter((len(keys) for keys, _ in rows), dtype=np.int64, count=len(rows))
        if rows:
            keys = np.concatenate([keys for keys, _ in rows])
            data = np.concatenate([values for _, values in rows]).astype(np.float64)
        else:
            keys, data = np.zeros(0, np.int64), np.zeros(0, np.float64)
        columns = np.searchsorted(self._vocabulary, keys)
        known = columns < len(self._vocabulary)
        known[known] = self._vocabulary[columns[known]] == keys[known]
        row_of = np.repeat(np.arange(len(rows)), lengths)
        shape = (len(rows), len(self._vocabulary))
        counts = sparse.csr_matrix(
            (data[known], (row_of[known], columns[known])), shape=shape, dtype=np.float64
        )
        matrix = self._weighted(counts)
        self._last_matrix = (rows, matrix)
        return matrix

    def _with_compound_parts(self, analysis: CallAnalysis) -> tuple[np.ndarray, np.ndarray]:
        """A call's keys and counts, with the profile words found inside its compounds."""
        if not analysis.swedish_words:
            return analysis.keys, analysis.counts
        parts = compound_parts(analysis.swedish_words, self._lexicon)
        if not parts:
            return analysis.keys, analysis.counts
        extra = np.array([feature_key(SWEDISH_TAG + part) for part in parts], dtype=np.int64)
        keys, inverse = np.unique(np.concatenate([analysis.keys, extra]), return_inverse=True)
        values = np.zeros(len(keys), dtype=np.float32)
        np.add.at(values, inverse, np.concatenate([analysis.counts, np.ones(len(extra))]))
        return keys, values

    # Fitting -------------------------------------------------------------------

    def fit(
        self, corpus: Sequence[Call], known: Mapping[str, CallAnalysis] | None = None
    ) -> Matcher:
        """Learn term weights (IDF) from a corpus of calls; profiles become vectors."""
        rows = self._rows(self.analyses(corpus, known))
        self._vocabulary, columns = _vocabulary(rows)
        self._columns = {}
        counts = _counts(rows, columns, len(self._vocabulary))
        # Smoothed inverse document frequency (as scikit-learn's TfidfTransformer has it).
        # Profile words no call uses have no column: they would only lengthen the vectors.
        frequency = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
        self._idf = np.log((len(rows) + 1) / (frequency + 1)) + 1.0
        self._last_matrix = (rows, self._weighted(counts))
        self._build_profile_vectors()
        return self

    def with_profiles(self, departments: Sequence[Department]) -> Matcher:
        """A matcher for other department profiles over the corpus this one was fitted on:
        its analyses, vocabulary and term weights are shared, only the profiles are built
        (a preview of an edited profile needs no new fit). Calls' compounds are split for the
        Swedish words of all profiles, as a matcher of every department does; where the new
        profiles bring more such words, the calls' rows are made again with them."""
        if self._idf is None:
            raise RuntimeError("Matcher.fit() must run before with_profiles()")
        other = Matcher(departments, self.focus_areas, self.settings)
        other._analyses = self._analyses
        other._vocabulary, other._idf = self._vocabulary, self._idf
        if other._lexicon <= self._lexicon:
            other._last_rows, other._last_matrix = self._last_rows, self._last_matrix
        other._lexicon = self._lexicon | other._lexicon
        other._build_profile_vectors()
        return other

    def _build_profile_vectors(self) -> None:
        """The profiles and focus areas as vectors over the fitted vocabulary."""
        blend = self.settings.description_weight
        self._department_vectors = ProfileVectors.build(
            self._profiles, self.column, self._idf, blend
        )
        self._area_vectors = ProfileVectors.build(self._areas, self.column, self._idf, blend)
        self._fitted = FittedProfiles(
            departments=self.departments,
            focus_areas=self.focus_areas,
            versions=self.versions,
            terms=self._department_vectors.terms,
            focus_threshold=self.settings.focus_threshold,
        )

    def _weighted(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """Calls' rows of term weights made from their counts (in place): sublinear term
        frequency times the fit's inverse document frequency, each row of length 1 (so that
        a call row times a unit profile vector is a cosine)."""
        matrix = counts
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
        matrix.data *= self._idf[matrix.indices]
        per_row = np.diff(matrix.indptr)
        rows = np.repeat(np.arange(matrix.shape[0]), per_row)
        lengths = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0]))
        matrix.data /= np.repeat(np.where(lengths > 0, lengths, 1.0), per_row)
        return matrix

    # Ranking -------------------------------------------------------------------

    def score(
        self, calls: Sequence[Call], known: Mapping[str, CallAnalysis] | None = None
    ) -> ScoreTable:
        """Score every call for every department (no deadline filtering)."""
        if self._idf is None:
            raise RuntimeError("Matcher.fit() must run before score()")
        analyses = self.analyses(calls, known)
        matrix = self._matrix(self._rows(analyses))
        rows = self._department_vectors.restrict(matrix)
        gates = self._department_vectors.gates(rows)
        text = self._department_vectors.scores(rows, gates)
        if self._areas:
            area_rows = self._area_vectors.restrict(matrix)
            area_gates = self._area_vectors.gates(area_rows)
            area_scores = self._area_vectors.scores(area_rows, area_gates)
            area_scores *= np.array([a.weight for a in self._areas])
            focus = area_scores.max(axis=1)
        else:
            area_scores = np.zeros((len(calls), 0))
            focus = np.zeros(len(calls))
        factors = Factors.compute(
            self._profiles, self.settings, calls, analyses, matrix, self.column
        )
        focus_factor = 1 + self.settings.focus_weight * focus
        final = factors.apply(text * focus_factor[:, None])
        model = self.settings.model
        codes = programme_codes(calls, self.settings.programmes)
        if model is not None:
            _to_probabilities(model, final, codes)
        table = ScoreTable(
            self._fitted, calls, rows, text, area_scores, focus, final, factors, gates
        )
        table.learnt = LearntScores(codes, model, focus_factor)
        return table


def _vocabulary(rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct keys of the rows, and the column of each key of the rows, in order
    (one sort gives both)."""
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return distinct_keys(np.concatenate([keys for keys, _ in rows]))


def distinct_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` for int64 keys (the same values; the inverse
    in 32 bits while it fits), in a third of its time.

    np.unique finds the inverse with an argsort, several times slower than a sort of plain
    numbers. Here each key's position rides in its low bits: the keys (as unsigned numbers
    in the same order) have their low bits replaced by their positions and are sorted plainly.
    Keys whose kept high bits are the same then come in the order of their positions, not of
    their values. The keys are hashes, so few are alike that way (at national scale, with
    millions of distinct keys, a few pairs are): those runs alone are sorted again.
    """
    count = len(keys)
    bits = max(1, (count - 1).bit_length())
    if count < 2 or bits > 40 or keys.dtype != np.int64:
        return np.unique(keys, return_inverse=True)
    sign, low = np.uint64(1 << 63), np.uint64((1 << bits) - 1)
    packed = keys.view(np.uint64) ^ sign  # signed order as unsigned numbers
    packed &= ~low
    packed |= np.arange(count, dtype=np.uint64)
    packed.sort()
    packed &= low
    order = packed.view(np.int64)
    ordered = keys[order]
    unsorted = np.flatnonzero(ordered[1:] < ordered[:-1])
    if len(unsorted):
        # Keys alike in their high bits are together, in runs; sorted by value, those runs
        # take the same places, each its own.
        high = (ordered.view(np.uint64) ^ sign) >> np.uint64(bits)
        alike = np.flatnonzero(np.isin(high, high[unsorted]))
        again = np.lexsort((order[alike], ordered[alike]))
        order[alike] = order[alike][again]
        ordered[alike] = ordered[alike][again]
    first = np.empty(count, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    # Columns as sparse matrices keep them: 32 bits while they fit.
    index_type = np.int32 if count < 2**31 else np.int64
    column = np.cumsum(first, dtype=index_type)
    column -= 1
    inverse = np.empty(count, dtype=index_type)
    inverse[order] = column
    return ordered[first], inverse


def _counts(
    rows: Sequence[tuple[np.ndarray, np.ndarray]], columns: np.ndarray, width: int
) -> sparse.csr_matrix:
    """Rows x vocabulary: the rows' weighted counts at their keys' ``columns``."""
    lengths = np.fromiter((len(keys) for keys, _ in rows), dtype=np.int64, count=len(rows))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    values = [counts for _, counts in rows]
    data = np.concatenate(values).astype(np.float64) if values else np.zeros(0)
    matrix = sparse.csr_matrix((data, columns, indptr), shape=(len(rows), width))
    # As a matrix built from (row, column) pairs would be: columns sorted, repeats summed.
    matrix.sum_duplicates()
    return matrix


# Rows of scores turned into probabilities at a time: the model's temporaries stay this size.
PROBABILITY_ROWS = 4096


def _to_probabilities(model: ScoreModel, scores: np.ndarray, codes: Sequence[str]) -> None:
    """Replace configured scores by the model's probabilities, a block of rows at a time."""
    for start in range(0, len(scores), PROBABILITY_ROWS):
        block = slice(start, start + PROBABILITY_ROWS)
        scores[block] = probabilities(model, scores[block], codes[block])
