"""Ranking quality metrics, checked against values worked out by hand in each test."""

from __future__ import annotations

import math

import pytest

from matcher.evaluation import (
    dcg,
    evaluate_department,
    mean,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    set_precision_recall,
)

# Hand-written labels: a is very relevant, c and f relevant, d judged not relevant.
GRADES = {"a": 2, "c": 1, "d": 0, "f": 1}
RANKING = ["a", "b", "c", "d", "e", "f"]


def test_dcg_by_hand():
    """DCG of gains [2, 0, 1] = (2^2-1)/log2(2) + 0/log2(3) + (2^1-1)/log2(4) = 3 + 0 + 0.5."""
    assert dcg([2, 0, 1]) == pytest.approx(3.5)


def test_dcg_of_nothing_is_zero():
    """An empty ranking gains nothing."""
    assert dcg([]) == 0


def test_ndcg_by_hand():
    """nDCG of ranking [a, b, c] with grades {a: 2, c: 1}."""
    # DCG  = (2^2-1)/log2(2) + 0/log2(3) + (2^1-1)/log2(4) = 3 + 0 + 0.5 = 3.5
    # IDCG = (2^2-1)/log2(2) + (2^1-1)/log2(3)             = 3 + 0.63093 = 3.63093
    # nDCG = 3.5 / 3.63093 = 0.96394
    assert ndcg_at_k(["a", "b", "c"], {"a": 2, "c": 1}) == pytest.approx(
        3.5 / (3 + 1 / math.log2(3))
    )
    assert ndcg_at_k(["a", "b", "c"], {"a": 2, "c": 1}) == pytest.approx(0.96394, abs=1e-5)


def test_ndcg_cuts_at_k():
    """Ranking [b, c, a], grades {a: 2, c: 1}, k = 2: a at rank 3 does not count."""
    # DCG@2  = 0/log2(2) + (2^1-1)/log2(3)       = 0.63093
    # IDCG@2 = (2^2-1)/log2(2) + (2^1-1)/log2(3) = 3.63093
    # nDCG@2 = 0.63093 / 3.63093 = 0.17377
    expected = (1 / math.log2(3)) / (3 + 1 / math.log2(3))
    assert ndcg_at_k(["b", "c", "a"], {"a": 2, "c": 1}, k=2) == pytest.approx(expected)
    assert expected == pytest.approx(0.17377, abs=1e-5)


def test_ndcg_ideal_counts_relevant_calls_missing_from_the_ranking():
    """Ranking [a], grades {a: 1, z: 1}: DCG = 1/log2(2) = 1; IDCG = 1 + 1/log2(3) = 1.63093."""
    assert ndcg_at_k(["a"], {"a": 1, "z": 1}) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_ndcg_of_the_ideal_ranking_is_one():
    """Relevant calls in grade order give nDCG 1."""
    assert ndcg_at_k(["a", "c", "f", "b"], GRADES) == pytest.approx(1.0)


def test_ndcg_with_three_grades():
    """nDCG of ranking [b, a] with grades {a: 3, b: 1}."""
    # DCG  = (2^1-1)/log2(2) + (2^3-1)/log2(3) = 1 + 7/1.58496 = 1 + 4.41651 = 5.41651
    # IDCG = (2^3-1)/log2(2) + (2^1-1)/log2(3) = 7 + 0.63093 = 7.63093
    # nDCG = 5.41651 / 7.63093 = 0.70981
    assert ndcg_at_k(["b", "a"], {"a": 3, "b": 1}) == pytest.approx(0.70981, abs=1e-5)


@pytest.mark.parametrize("grades", [{}, {"a": 0, "b": 0}], ids=["unlabelled", "none-relevant"])
def test_ndcg_is_zero_when_nothing_is_relevant(grades):
    """Without a relevant call there is nothing to find: nDCG is 0, not a division by zero."""
    assert ndcg_at_k(["a", "b"], grades) == 0.0


def test_precision_at_5_by_hand():
    """Top 5 of RANKING = a, b, c, d, e: relevant a and c (d has grade 0) -> 2/5 = 0.4."""
    assert precision_at_k(RANKING, GRADES, k=5) == pytest.approx(0.4)


def test_precision_at_k_divides_by_k_for_short_rankings():
    """Ranking [a] with k = 5: 1 relevant of 5 places -> 1/5 = 0.2."""
    assert precision_at_k(["a"], GRADES, k=5) == pytest.approx(0.2)


def test_recall_at_20_by_hand():
    """Relevant calls a, c, f (3); all in the top 20 -> 3/3 = 1."""
    assert recall_at_k(RANKING, GRADES, k=20) == pytest.approx(1.0)


def test_recall_at_k_cuts_at_k():
    """Top 3 = a, b, c: relevant a and c of 3 relevant -> 2/3."""
    assert recall_at_k(RANKING, GRADES, k=3) == pytest.approx(2 / 3)


def test_recall_is_zero_when_nothing_is_relevant():
    """No relevant call: recall is 0."""
    assert recall_at_k(RANKING, {"a": 0}, k=20) == 0.0


def test_set_precision_recall_by_hand():
    """Digest [a, b, d]: only a relevant -> precision 1/3; of relevant a, c, f -> recall 1/3."""
    precision, recall = set_precision_recall(["a", "b", "d"], GRADES)
    assert precision == pytest.approx(1 / 3)
    assert recall == pytest.approx(1 / 3)


def test_set_precision_undefined_for_an_empty_digest():
    """An empty digest has no precision; it found none of the relevant calls."""
    assert set_precision_recall([], GRADES) == (None, 0.0)


def test_set_recall_undefined_without_relevant_calls():
    """Without relevant calls recall is undefined; a digest of 2 has precision 0/2."""
    assert set_precision_recall(["a", "b"], {"a": 0}) == (0.0, None)
    assert set_precision_recall([], {}) == (None, None)


def test_evaluate_department_by_hand():
    """All metrics of ranking RANKING and digest [a, c] against GRADES."""
    # Relevant: a (rank 1, grade 2), c (rank 3, grade 1), f (rank 6, grade 1).
    # nDCG@10: DCG  = 3/log2(2) + 1/log2(4) + 1/log2(7) = 3 + 0.5 + 0.35621 = 3.85621
    #          IDCG = 3/log2(2) + 1/log2(3) + 1/log2(4) = 3 + 0.63093 + 0.5 = 4.13093
    #          nDCG = 3.85621 / 4.13093 = 0.93350
    # P@5 = 2/5 = 0.4; R@20 = 3/3 = 1; digest precision 2/2 = 1, recall 2/3.
    quality = evaluate_department("d1", RANKING, ["a", "c"], GRADES)
    assert quality.department_id == "d1"
    assert quality.relevant == 3
    assert quality.ndcg10 == pytest.approx(
        (3 + 0.5 + 1 / math.log2(7)) / (3 + 1 / math.log2(3) + 0.5)
    )
    assert quality.ndcg10 == pytest.approx(0.93350, abs=1e-5)
    assert quality.p5 == pytest.approx(0.4)
    assert quality.r20 == pytest.approx(1.0)
    assert quality.digest_size == 2
    assert quality.digest_precision == pytest.approx(1.0)
    assert quality.digest_recall == pytest.approx(2 / 3)


def test_mean_skips_undefined_values():
    """mean([0.5, None, 1.0]) = (0.5 + 1.0) / 2 = 0.75; nothing defined -> None."""
    assert mean([0.5, None, 1.0]) == pytest.approx(0.75)
    assert mean([None, None]) is None
    assert mean([]) is None
