"""Sublinear TF-IDF with unit rows: the part of scikit-learn's TfidfTransformer the matcher uses.

scikit-learn takes most of a second to import, and matching used it only for this. The
arithmetic is scikit-learn's (1.9), step for step and in the same order, so the weights are
the same to the last bit (tests/matcher/test_tfidf.py compares them): smoothed inverse
document frequency ``ln((1 + n) / (1 + df)) + 1``; term frequency ``1 + ln(tf)``; each row
divided by its Euclidean length, summed in order in double precision as scikit-learn's
``inplace_csr_row_normalize_l2`` does (numpy's sums are pairwise, which can differ in the
last bit).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


class TfidfTransformer:
    """Fit inverse document frequencies on a count matrix; weigh count matrices with them."""

    def __init__(self, sublinear_tf: bool = False) -> None:
        self.sublinear_tf = sublinear_tf
        self.idf_: np.ndarray | None = None

    def fit(self, counts: sparse.csr_matrix) -> TfidfTransformer:
        """Learn the smoothed inverse document frequency of every column."""
        counts = sparse.csr_matrix(counts)
        dtype = counts.dtype if counts.dtype in (np.float64, np.float32) else np.float64
        documents = np.bincount(counts.indices, minlength=counts.shape[1]).astype(dtype)
        documents += 1.0
        idf = np.full_like(documents, fill_value=counts.shape[0] + 1, dtype=dtype)
        idf /= documents
        np.log(idf, out=idf)
        idf += 1.0
        self.idf_ = idf
        return self

    def transform(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """Weighted rows of unit length (a copy: the counts stay as they were)."""
        if self.idf_ is None:
            raise RuntimeError("TfidfTransformer.fit() must run before transform()")
        weights = sparse.csr_matrix(counts, copy=True)
        if weights.dtype not in (np.float64, np.float32):
            weights = weights.astype(np.float64)
        if not np.isfinite(weights.data).all():
            raise ValueError("counts hold NaN or infinity")
        if self.sublinear_tf:
            np.log(weights.data, weights.data)
            weights.data += 1.0
        weights.data *= self.idf_[weights.indices]
        _normalise_rows(weights)
        return weights


def _normalise_rows(matrix: sparse.csr_matrix) -> None:
    """Divide each non-empty row by its Euclidean length, in place.

    The squares of a row are added one after another in double precision, position by
    position across all rows at once (rows sorted longest first, so the rows that still have
    a value at a position are a prefix)."""
    lengths = np.diff(matrix.indptr)
    if not len(lengths) or not lengths.max():
        return
    squares = (matrix.data * matrix.data).astype(np.float64)
    longest_first = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[longest_first]
    starts = matrix.indptr[:-1][longest_first]
    sums = np.zeros(len(lengths), dtype=np.float64)
    for position in range(int(sorted_lengths[0])):
        # Rows longer than this position: the first ones of the longest-first order.
        active = int(np.searchsorted(-sorted_lengths, -position, side="left"))
        sums[:active] += squares[starts[:active] + position]
    norms = np.sqrt(sums)
    norms[sums == 0.0] = 1.0
    by_row = np.empty(len(lengths), dtype=np.float64)
    by_row[longest_first] = norms
    matrix.data /= np.repeat(by_row, lengths)
