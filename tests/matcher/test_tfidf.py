"""matcher.tfidf and matcher.stopwords against scikit-learn, whose arithmetic and words they
copy: the same weights to the last bit on the real snapshot, and the same scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

import matcher.rank
from db import Store
from eufunds.config import load_config
from matcher.rank import Matcher
from matcher.stopwords import ENGLISH_STOP_WORDS
from matcher.tfidf import TfidfTransformer
from tests.conftest import SNAPSHOT_NOW

sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")


@pytest.fixture(scope="module")
def snapshot_counts(crawled_snapshot: Path) -> sparse.csr_matrix:
    """Weighted feature counts of the real snapshot's open calls, one row per call."""
    config = load_config()
    with Store(crawled_snapshot) as store:
        calls = store.matchable_calls(SNAPSHOT_NOW)
    analyses = Matcher(config.departments, config.focus_areas, config.matching).analyses(calls)
    keys = np.concatenate([a.keys for a in analyses])
    vocabulary, columns = np.unique(keys, return_inverse=True)
    rows = np.repeat(np.arange(len(analyses)), [len(a.keys) for a in analyses])
    counts = np.concatenate([a.counts for a in analyses]).astype(np.float64)
    shape = (len(analyses), len(vocabulary))
    return sparse.csr_matrix((counts, (rows, columns)), shape=shape, dtype=np.float64)


def test_stop_words_are_scikit_learns():
    assert sklearn_text.ENGLISH_STOP_WORDS == ENGLISH_STOP_WORDS


def test_idf_is_scikit_learns_to_the_bit(snapshot_counts: sparse.csr_matrix):
    ours = TfidfTransformer(sublinear_tf=True).fit(snapshot_counts).idf_
    theirs = sklearn_text.TfidfTransformer(sublinear_tf=True).fit(snapshot_counts).idf_
    assert ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs)


def test_weights_are_scikit_learns_to_the_bit(snapshot_counts: sparse.csr_matrix):
    before = snapshot_counts.copy()
    ours = TfidfTransformer(sublinear_tf=True).fit(snapshot_counts).transform(snapshot_counts)
    reference = sklearn_text.TfidfTransformer(sublinear_tf=True).fit(snapshot_counts)
    theirs = reference.transform(snapshot_counts)
    assert type(ours) is type(theirs)
    assert np.array_equal(ours.indptr, theirs.indptr)
    assert np.array_equal(ours.indices, theirs.indices)
    assert np.array_equal(ours.data, theirs.data)
    assert (snapshot_counts != before).nnz == 0


def test_empty_rows_stay_empty():
    counts = sparse.csr_matrix(np.array([[0.0, 0.0], [2.0, 1.0], [0.0, 0.0]]))
    weights = TfidfTransformer(sublinear_tf=True).fit(counts).transform(counts)
    assert np.diff(weights.indptr).tolist() == [0, 2, 0]
    assert np.isclose(np.linalg.norm(weights.data), 1.0)


def test_scores_are_those_made_with_scikit_learn(crawled_snapshot: Path, monkeypatch):
    config = load_config()
    with Store(crawled_snapshot) as store:
        calls = store.matchable_calls(SNAPSHOT_NOW)

    def final_scores() -> np.ndarray:
        matcher_ = Matcher(config.departments, config.focus_areas, config.matching)
        return matcher_.fit(calls).score(calls).final

    ours = final_scores()
    monkeypatch.setattr(matcher.rank, "TfidfTransformer", sklearn_text.TfidfTransformer)
    assert np.array_equal(ours, final_scores())
