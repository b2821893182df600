"""The learning curve: how matching improves as staff feedback accumulates, simulated on a
labelled set (benchmarks/feedback_curve.py prints it).

Cross-validated by call: in each fold the test calls are held out; the fold's training calls
are shuffled (by the seed) and the first N of them are the calls staff gave feedback on. The
model is learnt from their feedback alone and judged on the held-out calls. Feedback covers:

- ``all``: every department's grade of those N calls (as if every department judged every
  call it got: the most feedback N calls can give);
- ``digest``: only the pairs the matcher before any learning puts in a digest (configured
  score at or above the department's min_score), each with its grade: staff judge what they
  are shown, so calls a department never sees teach nothing.

N = 0 is the matcher before any learning: the configured score without a model, digests cut
at each department's min_score (not the shipped model, which was learnt on every labelled
call, the held-out ones too). So is a fold whose feedback is too little to learn from
(``missing_labels``); the curve says how many folds learnt. The chosen calls keep their order
in the labelled set, so N = all (every training call) with ``all`` coverage learns exactly
the model `eufunds evaluate --cv` learns in that fold.

Each fold is measured on its own held-out calls: nDCG@10 averaged over the departments with
a relevant call among them, digest precision and recall over all their department-call
pairs; the curve gives the mean over folds and seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from db import Call
from eufunds.config import Config
from eufunds.learning import (
    TARGET_PRECISION,
    configured_scores,
    fold_splits,
    labelled_set,
    measure,
    model_floors,
)
from matcher.evaluation import mean
from matcher.model import TrainingSet, fit_model, labelled, missing_labels, probabilities

# Feedback calls per fold along the curve (None: every training call of the fold).
SIZES = (0, 25, 50, 100, 200, None)
COVERAGES = ("all", "digest")


@dataclass(frozen=True)
class Simulation:
    """A labelled set prepared once: its calls' configured scores and programme codes, every
    pair's grade and features, and which pairs a digest shows before any learning."""

    ids: list[str]
    labels: dict[str, dict[str, int]]
    base: np.ndarray
    codes: list[str]
    training: TrainingSet
    floors: np.ndarray

    @property
    def shown(self) -> np.ndarray:
        """The pairs in a digest before any learning (calls x departments)."""
        return self.base >= self.floors


@dataclass(frozen=True)
class FoldOutcome:
    """One fold with N feedback calls: the held-out calls' scores and digests, and what was
    learnt from."""

    test: np.ndarray
    scores: np.ndarray
    selected: np.ndarray
    learnt: bool
    calls: int
    pairs: int
    relevant: int


@dataclass(frozen=True)
class CurvePoint:
    """The mean over folds and seeds of N feedback calls per fold (``size`` None: all)."""

    size: int | None
    coverage: str
    calls: float
    pairs: float
    relevant: float
    learnt: float
    ndcg10: float | None
    precision: float | None
    recall: float | None


def simulation(config: Config, calls: list[Call], labels: dict[str, dict[str, int]]) -> Simulation:
    """Prepare a labelled set (term weights learnt from all its calls, as in
    `evaluate --cv`) for the curve."""
    base, codes = configured_scores(config, calls)
    training = labelled_set(config, calls, labels, base, codes)
    untrained = {d.id: d.min_score for d in config.written_departments or config.departments}
    floors = np.array([untrained[d] for d in training.departments])
    return Simulation([c.id for c in calls], labels, base, codes, training, floors)


def fold_outcome(
    sim: Simulation,
    train: np.ndarray,
    test: np.ndarray,
    size: int | None,
    coverage: str,
    seed: int,
    target_precision: float = TARGET_PRECISION,
) -> FoldOutcome:
    """Learn from the feedback on the first ``size`` shuffled training calls, and score the
    held-out calls (as configured when there is too little to learn from)."""
    order = np.random.default_rng(seed).permutation(train)
    chosen = np.sort(order if size is None else order[:size])
    grades = sim.training.grades[chosen].copy()
    if coverage == "digest":
        grades[~sim.shown[chosen]] = np.nan
    elif coverage != "all":
        raise ValueError(f"unknown coverage {coverage!r} (known: {', '.join(COVERAGES)})")
    judged = labelled(grades).any(axis=1)
    part = TrainingSet(
        sim.training.values[chosen][judged],
        grades[judged],
        sim.training.departments,
        sim.training.names,
    )
    counts = (int(judged.sum()), int(labelled(part.grades).sum()), int((part.grades > 0).sum()))
    if not len(chosen) or missing_labels(part.grades):
        scores = sim.base[test]
        return FoldOutcome(test, scores, scores >= sim.floors, False, *counts)
    model = fit_model(part, target_precision)
    scores = probabilities(model, sim.base[test], [sim.codes[i] for i in test])
    selected = scores >= model_floors(model, sim.training.departments)
    return FoldOutcome(test, scores, selected, True, *counts)


def fold_quality(sim: Simulation, outcome: FoldOutcome) -> tuple[float | None, ...]:
    """nDCG@10 (mean over departments with a relevant held-out call), digest precision and
    recall over the held-out calls."""
    ids = [sim.ids[i] for i in outcome.test]
    evaluation = measure(
        ids,
        list(sim.training.departments),
        outcome.scores,
        outcome.selected,
        {call_id: sim.labels[call_id] for call_id in ids},
    )
    ndcg = mean([q.ndcg10 if q.relevant else None for q in evaluation.departments])
    return (ndcg, *evaluation.micro)


def feedback_curve(
    sim: Simulation,
    folds: int = 5,
    seeds: Sequence[int] = (1, 2, 3),
    sizes: Sequence[int | None] = SIZES,
    coverage: str = "all",
    target_precision: float = TARGET_PRECISION,
) -> list[CurvePoint]:
    """The curve: one point per number of feedback calls, the mean over folds and seeds."""
    runs: dict[int | None, list[tuple[FoldOutcome, tuple[float | None, ...]]]] = {}
    for seed in seeds:
        for train, test in fold_splits(len(sim.ids), folds, seed):
            for size in sizes:
                outcome = fold_outcome(sim, train, test, size, coverage, seed, target_precision)
                runs.setdefault(size, []).append((outcome, fold_quality(sim, outcome)))
    points = []
    for size in sizes:
        outcomes = [outcome for outcome, _ in runs[size]]
        qualities = [quality for _, quality in runs[size]]
        points.append(
            CurvePoint(
                size=size,
                coverage=coverage,
                calls=float(np.mean([o.calls for o in outcomes])),
                pairs=float(np.mean([o.pairs for o in outcomes])),
                relevant=float(np.mean([o.relevant for o in outcomes])),
                learnt=float(np.mean([o.learnt for o in outcomes])),
                ndcg10=mean([q[0] for q in qualities]),
                precision=mean([q[1] for q in qualities]),
                recall=mean([q[2] for q in qualities]),
            )
        )
    return points
