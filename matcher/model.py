"""The model learnt from labels: features of a call for a department, training, the cut-offs.

One small logistic regression is shared by all departments. Its features are general: the
log of the configured score (text and focus areas times the factors, so a coordinator's
profile stays the lever: a keyword that lifts a call's score lifts its probability) and the
programme the call is of (calls of some programmes are seldom for a municipality). It turns
scores into probabilities that mean the same for every department, and the digest cut-offs
are chosen on them from labels: one for all, and one per department where its labels are
enough, drawn towards the shared one (shrinkage).

Pure: arrays and records in, arrays and records out. scikit-learn is imported where a model
is trained, not where one is used.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from db.programmes import programme_code
from db.records import Call, ScoreModel

LOG_SCORE = "log-score"
PROGRAMME = "programme:"
# Scores are logged with this floor, so that a score of 0 is a finite feature.
SCORE_FLOOR = 1e-3
# Inverse regularisation strength of the regression (chosen by 5-fold cross-validation on
# the dev set among 0.05, 0.5, 2; the others lose less than 0.01 nDCG@10).
REGULARISATION = 0.5
# A department's own cut-off counts as this many labelled relevant calls of evidence against
# the shared one.
SHRINKAGE = 10
# Fewest relevant labelled calls a department needs for a cut-off of its own.
MIN_OWN = 5
# Fewest relevant and fewest not relevant labelled pairs a model is learnt from (on at least
# as many calls as the inner cross-validation has folds).
MIN_LABELS = 5
# Bands of probability the reliability table reports.
BANDS = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0)


def programme_codes(calls: Sequence[Call], programmes: Sequence[tuple[str, Sequence[str]]]):
    """The code of each call's programme in [programmes] ("" when it is none of them)."""
    found: dict[str, str] = {}
    for call in calls:
        if call.programme not in found:
            found[call.programme] = programme_code(call.programme, programmes)
    return [found[call.programme] for call in calls]


def feature_names(programmes: Sequence[tuple[str, Sequence[str]]]) -> tuple[str, ...]:
    """The features of a model over these programmes."""
    return (LOG_SCORE, *(f"{PROGRAMME}{code}" for code, _ in programmes))


def features(scores: np.ndarray, codes: Sequence[str], names: Sequence[str]) -> np.ndarray:
    """Calls x departments x features: the named features of every call for every department."""
    calls, departments = scores.shape
    values = np.zeros((calls, departments, len(names)))
    position = {name: k for k, name in enumerate(names)}
    values[:, :, position[LOG_SCORE]] = np.log(np.maximum(scores, 0) + SCORE_FLOOR)
    for i, code in enumerate(codes):
        k = position.get(f"{PROGRAMME}{code}")
        if k is not None:
            values[i, :, k] = 1.0
    return values


def probabilities(model: ScoreModel, scores: np.ndarray, codes: Sequence[str]) -> np.ndarray:
    """The model's probability for every call (rows of ``scores``, of programmes ``codes``)
    and department, computed without building the features of every pair."""
    weights = dict(zip(model.features, model.coefficients, strict=True))
    offsets = np.array([weights.get(f"{PROGRAMME}{code}", 0.0) for code in codes])
    # 1 / (1 + exp(-clip(w log(max(score, 0) + floor) + offset + intercept))), each step in
    # place: one array of the scores' size, not one per step.
    values = np.maximum(scores, 0)
    values += SCORE_FLOOR
    np.log(values, out=values)
    values *= weights.get(LOG_SCORE, 0.0)
    values += offsets[:, None]
    values += model.intercept
    np.clip(values, -50, 50, out=values)
    np.negative(values, out=values)
    np.exp(values, out=values)
    values += 1.0
    return np.divide(1.0, values, out=values)


def contributions(model: ScoreModel, row: np.ndarray) -> list[tuple[str, float]]:
    """What each feature adds to the log-odds of one call for one department (the non-zero
    ones, largest first)."""
    found = [
        (name, float(coefficient * value))
        for name, coefficient, value in zip(model.features, model.coefficients, row, strict=True)
        if value
    ]
    return sorted(found, key=lambda item: -abs(item[1]))


@dataclass(frozen=True)
class TrainingSet:
    """Labelled pairs: features (calls x departments x features), grades (calls x departments;
    NaN where a pair has no label, as for staff feedback, which covers only the pairs someone
    judged) and the department ids."""

    values: np.ndarray
    grades: np.ndarray
    departments: tuple[str, ...]
    names: tuple[str, ...]


def missing_labels(grades: np.ndarray, folds: int = 5) -> str:
    """What the labels lack for learning a model ("" when nothing): both relevant and not
    relevant pairs, on enough calls for the inner cross-validation."""
    relevant = int((grades > 0).sum())
    negative = int((grades == 0).sum())
    calls = int(labelled(grades).any(axis=1).sum())
    if relevant < MIN_LABELS or negative < MIN_LABELS or calls < folds:
        return (
            f"{relevant} relevant and {negative} not relevant labelled pairs on {calls} calls; "
            f"at least {MIN_LABELS} of each on {folds} calls are needed"
        )
    return ""


def fit_model(
    training: TrainingSet,
    target_precision: float,
    trained_on: Mapping[str, str] | None = None,
    folds: int = 5,
) -> ScoreModel:
    """Learn the regression on every labelled pair, and the cut-offs on probabilities it
    gave calls it was not trained on (inner cross-validation by call)."""
    coefficients, intercept = _regression(training.values, training.grades)
    held_out = _held_out_probabilities(training, folds)
    shared, own = cutoffs(held_out, training.grades, target_precision, training.departments)
    summary = dict(trained_on or {}) | {
        "pairs": str(int(labelled(training.grades).sum())),
        "relevant pairs": str(int((training.grades > 0).sum())),
        "target precision": f"{target_precision:g}",
    }
    body = {
        "features": list(training.names),
        "coefficients": [round(c, 6) for c in coefficients],
        "intercept": round(intercept, 6),
        "threshold": round(shared, 6),
        "thresholds": {d: round(t, 6) for d, t in own.items()},
    }
    version = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    return ScoreModel(
        version=version,
        features=training.names,
        coefficients=tuple(body["coefficients"]),
        intercept=body["intercept"],
        threshold=body["threshold"],
        thresholds=tuple(sorted(body["thresholds"].items())),
        trained_on=tuple(sorted(summary.items())),
    )


def labelled(grades: np.ndarray) -> np.ndarray:
    """Which pairs carry a label (a grade, 0 included, rather than NaN)."""
    return ~np.isnan(grades)


def _regression(values: np.ndarray, grades: np.ndarray) -> tuple[list[float], float]:
    """Logistic regression of relevant (grade >= 1) on the features of the labelled pairs,
    scaled while learning and given back on the features as they are. Pairs of one kind
    only (an inner fold of a little feedback) teach nothing but their share."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    known = labelled(grades.reshape(-1))
    x = values.reshape(-1, values.shape[-1])[known]
    y = (grades.reshape(-1)[known] > 0).astype(int)
    if len(np.unique(y)) < 2:
        share = min(max(float(y.mean()) if len(y) else 0.0, SCORE_FLOOR), 1 - SCORE_FLOOR)
        return [0.0] * values.shape[-1], math.log(share / (1 - share))
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    regression = LogisticRegression(C=REGULARISATION, max_iter=5000)
    regression.fit((x - scaler.mean_) / scale, y)
    coefficients = regression.coef_[0] / scale
    intercept = float(regression.intercept_[0] - (coefficients * scaler.mean_).sum())
    return [float(c) for c in coefficients], intercept


def _held_out_probabilities(training: TrainingSet, folds: int) -> np.ndarray:
    """Each call's probabilities from a regression trained without it."""
    from sklearn.model_selection import KFold

    calls = training.grades.shape[0]
    result = np.zeros(training.grades.shape)
    for train, test in KFold(folds, shuffle=True, random_state=0).split(np.arange(calls)):
        coefficients, intercept = _regression(training.values[train], training.grades[train])
        logits = training.values[test] @ np.array(coefficients) + intercept
        result[test] = 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))
    return result


def cutoffs(
    scores: np.ndarray,
    grades: np.ndarray,
    target_precision: float,
    departments: Sequence[str],
) -> tuple[float, dict[str, float]]:
    """The shared cut-off (the lowest that keeps precision at the target over all pairs) and
    each department's own where it has enough relevant calls, drawn towards the shared one.
    Only labelled pairs count."""
    known = labelled(grades)
    shared = _cutoff(scores[known], grades[known] > 0, target_precision)
    own = {}
    for j, department in enumerate(departments):
        relevant = int((grades[:, j] > 0).sum())
        if relevant < MIN_OWN:
            continue
        mine = known[:, j]
        alone = _cutoff(scores[mine, j], grades[mine, j] > 0, target_precision)
        own[department] = (relevant * alone + SHRINKAGE * shared) / (relevant + SHRINKAGE)
    return shared, own


def _cutoff(scores: np.ndarray, relevant: np.ndarray, target_precision: float) -> float:
    """The lowest score whose selection (all scores at or above it) is at least
    ``target_precision`` precise; where none is, the one with the best F1."""
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(relevant[order])
    taken = np.arange(1, len(scores) + 1)
    precision = hits / taken
    meets = np.flatnonzero(precision >= target_precision)
    if len(meets):
        return float(scores[order][meets[-1]])
    f1 = 2 * hits / (taken + max(int(relevant.sum()), 1))
    return float(scores[order][int(np.argmax(f1))])


@dataclass(frozen=True)
class Band:
    """One band of predicted probability: how many pairs, their mean prediction, and the
    share of them that is relevant."""

    low: float
    high: float
    pairs: int
    predicted: float
    observed: float


def reliability(scores: np.ndarray, grades: np.ndarray) -> list[Band]:
    """Predicted against observed precision, per band of probability (labelled pairs)."""
    known = labelled(grades)
    flat, relevant = scores[known], grades[known] > 0
    bands = []
    for low, high in zip(BANDS, BANDS[1:], strict=False):
        inside = (flat >= low) & ((flat < high) if high < 1 else (flat <= high))
        count = int(inside.sum())
        bands.append(
            Band(
                low=low,
                high=high,
                pairs=count,
                predicted=float(flat[inside].mean()) if count else math.nan,
                observed=float(relevant[inside].mean()) if count else math.nan,
            )
        )
    return bands
