"""Ranking quality metrics on labelled calls: nDCG@k, P@k, R@k, digest precision and recall."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain with the (2^g - 1) / log2(rank + 1) form."""
    return sum((2**gain - 1) / math.log2(rank + 2) for rank, gain in enumerate(gains))


def ndcg_at_k(ranking: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k of a ranking against graded labels; 0 when nothing is relevant."""
    ideal = dcg(sorted(grades.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([grades.get(call_id, 0) for call_id in ranking[:k]]) / ideal


def precision_at_k(ranking: Sequence[str], grades: Mapping[str, int], k: int = 5) -> float:
    """Share of the top k that is relevant (grade >= 1)."""
    return sum(grades.get(call_id, 0) > 0 for call_id in ranking[:k]) / k


def recall_at_k(ranking: Sequence[str], grades: Mapping[str, int], k: int = 20) -> float:
    """Share of the relevant calls found in the top k; 0 when nothing is relevant."""
    relevant = sum(1 for grade in grades.values() if grade > 0)
    if not relevant:
        return 0.0
    return sum(grades.get(call_id, 0) > 0 for call_id in ranking[:k]) / relevant


def set_precision_recall(
    selected: Sequence[str], grades: Mapping[str, int]
) -> tuple[float | None, float | None]:
    """Precision and recall of a selected set (a digest); None where undefined."""
    relevant = {call_id for call_id, grade in grades.items() if grade > 0}
    hits = len(relevant.intersection(selected))
    precision = hits / len(selected) if selected else None
    recall = hits / len(relevant) if relevant else None
    return precision, recall


@dataclass(frozen=True)
class DepartmentQuality:
    """The metrics of one department."""

    department_id: str
    relevant: int
    ndcg10: float
    p5: float
    r20: float
    digest_size: int
    digest_precision: float | None
    digest_recall: float | None


def evaluate_department(
    department_id: str,
    ranking: Sequence[str],
    digest: Sequence[str],
    grades: Mapping[str, int],
) -> DepartmentQuality:
    """All metrics of one department's ranking and digest."""
    precision, recall = set_precision_recall(digest, grades)
    return DepartmentQuality(
        department_id=department_id,
        relevant=sum(1 for g in grades.values() if g > 0),
        ndcg10=ndcg_at_k(ranking, grades, 10),
        p5=precision_at_k(ranking, grades, 5),
        r20=recall_at_k(ranking, grades, 20),
        digest_size=len(digest),
        digest_precision=precision,
        digest_recall=recall,
    )


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the defined values; None when none is defined."""
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None
