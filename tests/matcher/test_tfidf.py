"""The matcher's TF-IDF arithmetic (matcher/rank.py, numpy) and its English stop words
(matcher/stopwords.py) against scikit-learn, whose words and arithmetic they copy: the same
stop words, and the same term weights on the real snapshot's calls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import matcher.rank as rank
from db import Store
from eufunds.config import load_config
from matcher.rank import Matcher
from matcher.stopwords import ENGLISH_STOP_WORDS
from tests.conftest import SNAPSHOT_NOW

sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")


def test_stop_words_are_scikit_learns():
    assert sklearn_text.ENGLISH_STOP_WORDS == ENGLISH_STOP_WORDS


def test_term_weights_are_scikit_learns(crawled_snapshot: Path):
    """Sublinear TF times smoothed IDF, rows of length 1: TfidfTransformer(sublinear_tf=True)
    over the same counts gives the same IDF and weights (to 1e-12)."""
    config = load_config()
    with Store(crawled_snapshot) as store:
        calls = store.matchable_calls(SNAPSHOT_NOW)
    matcher = Matcher(config.departments, config.focus_areas, config.matching)
    rows = matcher._rows(matcher.analyses(calls))
    vocabulary, columns = rank._vocabulary(rows)
    counts = rank._counts(rows, columns, len(vocabulary))
    theirs = sklearn_text.TfidfTransformer(sublinear_tf=True).fit(counts.copy())
    expected = theirs.transform(counts.copy())
    matcher.fit(calls)
    ours = matcher._last_matrix[1]
    np.testing.assert_allclose(matcher._idf, theirs.idf_, rtol=0, atol=1e-12)
    assert ours.shape == expected.shape
    assert abs(ours - expected).max() < 1e-12
