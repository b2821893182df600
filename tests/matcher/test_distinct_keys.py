"""The vocabulary's sort: the same as np.unique(keys, return_inverse=True), in every case."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.rank import distinct_keys


def _same_as_unique(keys: np.ndarray) -> None:
    vocabulary, inverse = distinct_keys(keys)
    expected_vocabulary, expected_inverse = np.unique(keys, return_inverse=True)
    assert vocabulary.dtype == np.int64
    assert np.array_equal(vocabulary, expected_vocabulary)
    assert np.array_equal(inverse, expected_inverse)
    assert np.array_equal(vocabulary[inverse], keys)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hashed_keys_with_repeats(seed: int) -> None:
    """Keys spread over all 64 bits, negative ones too, most of them repeated (as a corpus's
    features are), in rows that are each sorted."""
    generator = np.random.default_rng(seed)
    distinct = generator.integers(-(2**63), 2**63 - 1, size=5_000, dtype=np.int64)
    rows = [np.unique(generator.choice(distinct, size=60)) for _ in range(2_000)]
    _same_as_unique(np.concatenate(rows))


def test_keys_alike_in_their_high_bits() -> None:
    """Keys that differ only in their low bits (where the positions go) come out sorted."""
    generator = np.random.default_rng(4)
    keys = generator.integers(0, 1_000, size=100_000, dtype=np.int64)
    _same_as_unique(keys)
    _same_as_unique(keys - 500)


def test_extremes_and_small_inputs() -> None:
    extremes = np.array([2**63 - 1, -(2**63), 0, -1, 1, 2**63 - 1, -(2**63)], dtype=np.int64)
    _same_as_unique(extremes)
    _same_as_unique(np.array([7], dtype=np.int64))
    _same_as_unique(np.array([5, 5], dtype=np.int64))
    _same_as_unique(np.zeros(0, dtype=np.int64))


def test_keys_alike_in_high_bits_among_hashed_ones() -> None:
    """Millions of distinct keys at national scale make a few pairs alike in the high bits
    the sort keeps: those pairs (here made on purpose, in several places) are put in order."""
    generator = np.random.default_rng(6)
    hashed = generator.integers(-(2**63), 2**63 - 1, size=20_000, dtype=np.int64)
    neighbours = hashed[:50] + generator.integers(1, 1_000, size=50)
    keys = np.concatenate([hashed, neighbours, hashed[:50], neighbours[::-1], hashed[::7]])
    _same_as_unique(generator.permutation(keys))


def test_np_unique_is_left_to_inputs_the_sort_cannot_take(monkeypatch: pytest.MonkeyPatch):
    """Hashed keys and keys alike in their high bits are sorted here; np.unique is used only
    for keys that are not int64 (its result, as asked)."""
    generator = np.random.default_rng(5)
    hashed = generator.integers(-(2**63), 2**63 - 1, size=50_000, dtype=np.int64)
    alike = generator.integers(0, 1_000, size=50_000, dtype=np.int64)
    used: list[int] = []
    unique = np.unique

    def counted(*args, **kwargs):
        used.append(len(args[0]))
        return unique(*args, **kwargs)

    monkeypatch.setattr(np, "unique", counted)
    distinct_keys(hashed)
    distinct_keys(alike)
    assert used == []
    small = alike.astype(np.int32)
    vocabulary, inverse = distinct_keys(small)
    assert used == [50_000]
    assert np.array_equal(vocabulary[inverse], small)
