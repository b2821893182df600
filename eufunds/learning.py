"""Labelled calls: read them, measure matching on them (also cross-validated), and learn the
score model from them, and from staff feedback made labels (`eufunds evaluate`, `eufunds
train`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from crawler.regions import regions_named
from db import Call
from db.records import ScoreModel
from eufunds.config import Config
from eufunds.config_matching import TARGET_PRECISION
from matcher.analysis import detect_language
from matcher.evaluation import DepartmentQuality, evaluate_department, set_precision_recall
from matcher.model import (
    Band,
    TrainingSet,
    feature_names,
    features,
    fit_model,
    labelled,
    missing_labels,
    probabilities,
    reliability,
)
from matcher.rank import Matcher


@dataclass(frozen=True)
class Evaluation:
    """Quality of the active configuration on a labelled set: per department, micro-averaged
    over every department-call pair (digest precision and recall), and, cross-validated,
    predicted against observed precision per band of probability."""

    departments: list[DepartmentQuality]
    rankings: dict[str, list[str]]
    digests: dict[str, list[str]]
    micro: tuple[float | None, float | None] = (None, None)
    bands: tuple[Band, ...] = ()


def read_labelled_calls(path: Path) -> tuple[list[Call], dict[str, dict[str, int]]]:
    """Read a labelled JSONL (one call per line: id, title, programme, description, labels)."""
    calls, labels = [], {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                title, summary = row["title"], row.get("description") or ""
                call = Call(
                    id=row["id"],
                    source_id="labelled",
                    identifier=row["id"],
                    title=title,
                    summary=summary,
                    programme=row.get("programme") or "",
                    url=row.get("url") or "",
                    language="",
                    regions=_regions(title, summary),
                )
                grades = {str(k): int(v) for k, v in (row.get("labels") or {}).items()}
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"{path}:{number}: not a labelled call ({exc})") from None
            calls.append(call)
            labels[call.id] = grades
    if not calls:
        raise ValueError(f"{path}: no labelled calls")
    return calls, labels


def _regions(title: str, summary: str) -> list[str]:
    """The regions a labelled call states it is for, read as the crawl reads a Swedish
    source's calls (the labelled set gives no regions of its own)."""
    text = f"{title}\n{summary}"
    return regions_named(text) if detect_language(text) == "sv" else []


def evaluate(config: Config, calls: list[Call], labels: dict[str, dict[str, int]]) -> Evaluation:
    """Rank the labelled calls for every department with the configuration as it is (and
    the model it ships, learnt elsewhere), and measure. Nothing is learnt from ``labels``."""
    matcher = Matcher(config.departments, config.focus_areas, config.matching).fit(calls)
    table = matcher.score(calls)
    ids = [call.id for call in calls]
    departments = [d.id for d in config.departments]
    floors = np.array([d.min_score for d in config.departments])
    return measure(ids, departments, table.final, table.final >= floors, labels)


def cross_validate(
    config: Config,
    calls: list[Call],
    labels: dict[str, dict[str, int]],
    folds: int,
    target_precision: float = TARGET_PRECISION,
    seed: int = 1,
) -> Evaluation:
    """K-fold cross-validated quality (folds by call): the model and its cut-offs are learnt
    on the other folds' labels and judged on calls they never saw. ``seed`` shuffles the
    calls into folds."""
    base, codes = configured_scores(config, calls)
    training = labelled_set(config, calls, labels, base, codes)
    scores = np.zeros(training.grades.shape)
    selected = np.zeros(training.grades.shape, dtype=bool)
    for train, test in fold_splits(len(calls), folds, seed):
        model = fit_model(subset(training, train), target_precision)
        scores[test] = probabilities(model, base[test], [codes[i] for i in test])
        selected[test] = scores[test] >= model_floors(model, training.departments)
    ids = [call.id for call in calls]
    evaluation = measure(ids, list(training.departments), scores, selected, labels)
    return replace(evaluation, bands=tuple(reliability(scores, training.grades)))


def fold_splits(calls: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (training, test) call indices of each fold, calls shuffled into folds by ``seed``."""
    from sklearn.model_selection import KFold

    return list(KFold(folds, shuffle=True, random_state=seed).split(np.arange(calls)))


def subset(training: TrainingSet, rows: np.ndarray) -> TrainingSet:
    """The training set of some of its calls."""
    return replace(training, values=training.values[rows], grades=training.grades[rows])


def model_floors(model: ScoreModel, departments: Sequence[str]) -> np.ndarray:
    """The model's digest cut-off of each department."""
    return np.array([model.threshold_for(d) for d in departments])


@dataclass(frozen=True)
class LabelSource:
    """Labelled calls from one place: a labelled file (``complete``: a department a call's
    labels do not list is graded 0) or staff feedback (only the pairs listed are labelled).
    Term weights are learnt from ``corpus`` (default: the calls themselves)."""

    kind: str
    name: str
    calls: list[Call]
    labels: dict[str, dict[str, int]]
    complete: bool = True
    corpus: list[Call] | None = None


class TooFewLabels(ValueError):
    """The labels given are too few to learn a model from."""


def train(
    config: Config, sources: Sequence[LabelSource], target_precision: float = TARGET_PRECISION
) -> ScoreModel:
    """Learn the score model and its cut-offs from every labelled call of every source."""
    parts, trained_on = [], {}
    for source in sources:
        if not source.calls:
            trained_on[f"{source.kind} pairs"] = "0"
            continue
        training, digest = training_set(
            config, source.calls, source.labels, source.complete, source.corpus
        )
        parts.append(training)
        trained_on |= {source.kind: source.name, f"{source.kind} sha256": digest}
        if not source.complete:
            trained_on[f"{source.kind} pairs"] = str(int(labelled(training.grades).sum()))
    if not parts:
        raise TooFewLabels("cannot learn the model: no labelled pairs")
    training = joined(parts)
    problem = missing_labels(training.grades)
    if problem:
        raise TooFewLabels(f"cannot learn the model: {problem}")
    trained_on["calls"] = str(training.grades.shape[0])
    return fit_model(training, target_precision, trained_on)


def joined(parts: Sequence[TrainingSet]) -> TrainingSet:
    """One training set of the calls of several (over the same departments and features)."""
    first = parts[0]
    return replace(
        first,
        values=np.concatenate([part.values for part in parts]),
        grades=np.concatenate([part.grades for part in parts]),
    )


def training_set(
    config: Config,
    calls: list[Call],
    labels: dict[str, dict[str, int]],
    complete: bool = True,
    corpus: list[Call] | None = None,
) -> tuple[TrainingSet, str]:
    """The features of every labelled call for every department (scores as configured, no
    model, term weights learnt from ``corpus``), their grades, and a digest of the labels
    they come from. ``complete``: a department a call's labels leave out is graded 0, else
    that pair has no label (NaN)."""
    base, codes = configured_scores(config, calls, corpus)
    payload = json.dumps({call.id: labels[call.id] for call in calls}, sort_keys=True)
    digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return labelled_set(config, calls, labels, base, codes, complete), digest


def labelled_set(
    config: Config,
    calls: list[Call],
    labels: dict[str, dict[str, int]],
    base: np.ndarray,
    codes: list[str],
    complete: bool = True,
) -> TrainingSet:
    """The training set of calls whose configured scores are ``base``."""
    departments = tuple(d.id for d in config.departments)
    unlisted = 0.0 if complete else np.nan
    grades = np.array(
        [[labels[call.id].get(d, unlisted) for d in departments] for call in calls],
        dtype=float,
    ).reshape(len(calls), len(departments))
    names = feature_names(config.matching.programmes)
    return TrainingSet(features(base, codes, names), grades, departments, names)


def configured_scores(
    config: Config, calls: list[Call], corpus: list[Call] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Every call's score for every department as configured (without a model; term weights
    learnt from ``corpus`` and the calls), and each call's programme code."""
    settings = replace(config.matching, model=None)
    fitted_on = calls
    if corpus is not None:
        ids = {call.id for call in corpus}
        fitted_on = [*corpus, *(call for call in calls if call.id not in ids)]
    matcher = Matcher(config.departments, config.focus_areas, settings).fit(fitted_on)
    table = matcher.score(calls)
    return table.final, list(table.learnt.codes)


def measure(
    ids: list[str],
    departments: list[str],
    scores: np.ndarray,
    selected: np.ndarray,
    labels: dict[str, dict[str, int]],
) -> Evaluation:
    """Rankings, digests and their metrics per department, and the micro-averaged digest."""
    results, rankings, digests = [], {}, {}
    for j, department in enumerate(departments):
        order = np.argsort(-scores[:, j], kind="stable")
        rankings[department] = [ids[i] for i in order]
        chosen = [i for i in order if selected[i, j]]
        digests[department] = [ids[i] for i in chosen]
        grades = {
            call_id: grade[department] for call_id, grade in labels.items() if department in grade
        }
        results.append(
            evaluate_department(department, rankings[department], digests[department], grades)
        )
    pairs = [(f"{d}\x00{c}") for d in departments for c in digests[d]]
    relevant = {
        f"{d}\x00{call_id}": grade
        for call_id, grade_of in labels.items()
        for d, grade in grade_of.items()
        if d in departments
    }
    return Evaluation(results, rankings, digests, micro=set_precision_recall(pairs, relevant))
