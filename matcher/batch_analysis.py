"""Analysis of many calls at once, with the result ``Analyser.analyse`` gives each call.

``Analyser.analyse`` reads one call at a time: a regular-expression pass per text, a cache
look-up per word and a hash look-up per feature. Here a batch of calls is read in one pass
(``vocabulary.chunks`` of all its texts), each distinct chunk and word is looked up once, and
words become numbers: a word id per word, a term id (a tagged stem) per kept word. The
1–2-grams are pairs of adjacent term ids, each distinct pair is hashed once, and the weighted
counts of every call are summed at once in a sparse matrix; the rules' pre-checks are tested
on words too (``batch_rules``). The analyses are the same, byte for byte, as the per-call
path's (tests compare them on the real calls); the per-call path stays the reference.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from scipy import sparse

from matcher.analysis import Analyser, CallAnalysis
from matcher.batch_processes import default_processes, in_processes
from matcher.batch_rules import BatchRules
from matcher.rule_hints import CASE_TWINS
from matcher.vocabulary import MARK, Vocabulary, chunks, encoded

# A call's texts as ``Analyser.analyse`` takes them: language, title, context, summary,
# programme.
CallTexts = tuple[str, str, str, str, str]
# Title, context, summary, programme: the texts read of each call. The first three are the
# call's features; the programme is read for the rules' pre-checks only.
TEXTS_PER_CALL = 4
FEATURE_TEXTS = 3

# What lower-casing leaves of CASE_TWINS ("İ" becomes "i" and a combining dot): a text
# without them had none of the twins before it was lower-cased.
_LOWER_TWINS = {encoded(char) for twin in CASE_TWINS for char in twin.lower() if not char.isascii()}

# Calls read at a time: arrays of a few thousand calls stay in the processor's caches and keep
# a batch's memory small, and slices are what processes share out.
SLICE = 2_500

_vocabulary = Vocabulary(_LOWER_TWINS)
# Batches may come from several threads (the web app): one reads or grows the vocabulary at
# a time.
_lock = threading.Lock()


def forget_vocabulary() -> None:
    """Start again from an empty vocabulary, as a new process does."""
    global _vocabulary
    with _lock:
        _vocabulary = Vocabulary(_LOWER_TWINS)


def analyse_many(
    analyser: Analyser, calls: Sequence[CallTexts], processes: int | None = None
) -> list[CallAnalysis]:
    """Analyse many calls at once; the same analyses ``analyser.analyse`` gives each call.

    A large batch is shared out over ``processes`` (by default up to one per CPU, see
    ``batch_processes``); each call's analysis is the same in any process and any batch.
    """
    rules = BatchRules(analyser)
    slices = [calls[start : start + SLICE] for start in range(0, len(calls), SLICE)]

    def analyse(part: Sequence[Sequence[CallTexts]]) -> list[_Analysed]:
        return [_analyse_slice(analyser.title_repeats, rules, calls) for calls in part]

    if processes is None:
        processes = default_processes(len(calls))
    analysed = in_processes(analyse, slices, processes, _Analysed.analyses)
    return [analysis for part in analysed for analysis in part]


@dataclass
class _Analysed:
    """The analyses of a slice of calls, packed in a few arrays (to send between processes).

    Call n's keys and counts are ``keys[bounds[n] : bounds[n + 1]]`` and the same of counts.
    """

    languages: list[str]
    keys: np.ndarray
    counts: np.ndarray
    bounds: list[int]
    hits: list[tuple[str, ...]]
    long_words: dict[int, tuple[str, ...]]

    def analyses(self) -> list[CallAnalysis]:
        """The calls' analyses."""
        keys, counts, bounds, long_words = self.keys, self.counts, self.bounds, self.long_words
        return [
            CallAnalysis(
                language,
                keys[bounds[number] : bounds[number + 1]],
                counts[bounds[number] : bounds[number + 1]],
                hits,
                long_words.get(number, ()),
            )
            for number, (language, hits) in enumerate(zip(self.languages, self.hits, strict=True))
        ]


def _analyse_slice(title_repeats: int, rules: BatchRules, calls: Sequence[CallTexts]) -> _Analysed:
    """Analyse a slice of calls."""
    global _vocabulary
    texts = [call[1:] for call in calls]
    lowered = [
        (title.lower(), context.lower(), summary.lower(), programme.lower())
        for _, title, context, summary, programme in calls
    ]
    languages = [call[0] for call in calls]
    with _lock:
        if _vocabulary.is_large():
            _vocabulary = Vocabulary(_LOWER_TWINS)
        words = _Words.read(lowered, _vocabulary)
        present = rules.present(words.ids, words.calls, len(calls), _vocabulary)
        terms = words.terms(languages, _vocabulary)
        keys, counts, bounds = _counts(terms, title_repeats, len(calls), _vocabulary)
        long_words = _long_words(terms, _vocabulary)
    hits = rules.hits(texts, lowered, present, words.case_twins)
    return _Analysed(languages, keys, counts, bounds, hits, long_words)


class _Words:
    """The words of a batch in order: their id, call, and which text of the call they are in;
    and whether a text of the batch may hold CASE_TWINS."""

    def __init__(
        self, ids: np.ndarray, calls: np.ndarray, texts: np.ndarray, case_twins: bool
    ) -> None:
        self.ids, self.calls, self.texts, self.case_twins = ids, calls, texts, case_twins

    @classmethod
    def read(cls, lowered: Sequence[tuple[str, ...]], vocabulary: Vocabulary) -> _Words:
        """Read the calls' lower-cased texts in one pass."""
        text = encoded(f" {MARK} ".join(chain.from_iterable(lowered)))
        found = chunks(text)
        ids, twins = vocabulary.word_id_array(found)
        marks = ids == vocabulary.word_ids[MARK]
        # The number of marks before a word is the number of its text in the batch.
        text_numbers = np.cumsum(marks)[~marks]
        calls, texts = np.divmod(text_numbers, TEXTS_PER_CALL)
        return cls(ids[~marks], calls, texts, twins)

    def terms(self, languages: list[str], vocabulary: Vocabulary) -> _Terms:
        """The kept words of the calls' features, as terms in their call's language."""
        features = self.texts < FEATURE_TEXTS
        ids, calls, texts = self.ids[features], self.calls[features], self.texts[features]
        terms = np.empty(len(ids), np.int64)
        if len(set(languages)) == 1:
            terms[:] = vocabulary.term_array(ids, languages[0])
        else:
            call_languages = np.array(languages, dtype=object)
            for language in sorted(set(languages)):
                in_language = (call_languages == language)[calls]
                terms[in_language] = vocabulary.term_array(ids[in_language], language)
        kept = terms >= 0
        return _Terms(terms[kept], calls[kept], texts[kept])


class _Terms:
    """The terms of a batch in order: their id, call, and which text of the call they are in."""

    def __init__(self, ids: np.ndarray, calls: np.ndarray, texts: np.ndarray) -> None:
        self.ids, self.calls, self.texts = ids, calls, texts


def _counts(
    terms: _Terms, title_repeats: int, call_count: int, vocabulary: Vocabulary
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The calls' feature keys (sorted) and weighted counts, one call after the other, and
    where each call's begin: its stems, and the pairs of adjacent stems within its title and
    within its context and summary together."""
    ids, calls = terms.ids, terms.calls
    weights = np.where(terms.texts == 0, title_repeats, 1)
    # The title is one run of words; context and summary are another.
    runs = 2 * calls + (terms.texts > 0)
    adjacent = np.flatnonzero(runs[1:] == runs[:-1])
    pairs, pair_of = np.unique((ids[adjacent] << 32) | ids[adjacent + 1], return_inverse=True)
    pair_keys = vocabulary.pair_key_array(pairs)
    used = np.flatnonzero(np.bincount(ids, minlength=len(vocabulary.term_stems)))
    # A column per feature of the batch, in the order of their keys (distinct features have
    # distinct keys, see analysis.feature_key).
    feature_keys = np.concatenate([vocabulary.term_keys[used], pair_keys])
    order = np.argsort(feature_keys)
    column_keys = feature_keys[order]
    columns = np.empty(len(order), np.int64)
    columns[order] = np.arange(len(order))
    term_columns = np.zeros(len(vocabulary.term_stems), np.int64)
    term_columns[used] = columns[: len(used)]
    pair_columns = columns[len(used) :]
    matrix = sparse.csr_matrix(
        (
            np.concatenate([weights, weights[adjacent + 1]]),
            (
                np.concatenate([calls, calls[adjacent + 1]]),
                np.concatenate([term_columns[ids], pair_columns[pair_of]]),
            ),
        ),
        shape=(call_count, len(column_keys)),
        dtype=np.int64,
    )
    matrix.sum_duplicates()
    return column_keys[matrix.indices], matrix.data.astype(np.float32), matrix.indptr.tolist()


def _long_words(terms: _Terms, vocabulary: Vocabulary) -> dict[int, tuple[str, ...]]:
    """Per Swedish call (by number): its distinct stems long enough to hold compounds."""
    long = vocabulary.term_compounds[terms.ids]
    if not long.any():
        return {}
    ids, calls = terms.ids[long], terms.calls[long]
    numbers, starts = np.unique(calls, return_index=True)
    stems = vocabulary.term_stems
    return {
        number: tuple(sorted({stems[term] for term in call_terms.tolist()}))
        for number, call_terms in zip(numbers.tolist(), np.split(ids, starts[1:]), strict=True)
    }
