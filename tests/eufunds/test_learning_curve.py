"""The learning curve of simulated feedback, on a small real slice of ../shared/eval/dev.jsonl
(its first calls, read at test time), in 2 folds."""

from __future__ import annotations

import numpy as np
import pytest

from eufunds.config import Config
from eufunds.learning import fold_splits, measure, model_floors, read_labelled_calls, subset
from eufunds.learning_curve import feedback_curve, fold_outcome, fold_quality, simulation
from matcher.evaluation import mean
from matcher.model import MIN_LABELS, fit_model, probabilities
from tests.conftest import SHARED

SLICE = 120
FOLDS = 2
SIZES = (0, 20, None)


@pytest.fixture(scope="module")
def sim(tmp_path_factory, config: Config):
    """The first SLICE calls of the dev set, prepared for the curve."""
    lines = (SHARED / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()[:SLICE]
    path = tmp_path_factory.mktemp("curve") / "slice.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    calls, labels = read_labelled_calls(path)
    return simulation(config, calls, labels)


@pytest.fixture(scope="module")
def curves(sim):
    """The curve of both coverages over two seeds."""
    return {
        coverage: feedback_curve(sim, FOLDS, (1, 2), SIZES, coverage)
        for coverage in ("all", "digest")
    }


def test_the_curve_has_a_point_per_size(curves):
    """One point per number of feedback calls, in order, each with its measures; more
    feedback calls never mean fewer labelled pairs."""
    for coverage, points in curves.items():
        assert [(p.size, p.coverage) for p in points] == [(s, coverage) for s in SIZES]
        assert [p.pairs for p in points] == sorted(p.pairs for p in points)
        for point in points:
            assert 0 <= point.ndcg10 <= 1
            assert 0 <= point.recall <= 1
    every = curves["all"]
    assert (every[0].calls, every[0].pairs, every[0].learnt) == (0, 0, 0)
    assert every[1].calls == 20
    assert every[1].pairs == 20 * 13
    assert every[2].calls == SLICE / FOLDS
    assert every[2].learnt == 1


def test_digest_feedback_covers_only_what_digests_show(sim, curves):
    """With digest coverage the labelled pairs are those the untrained digests show among
    the chosen calls: fewer than every pair of them."""
    assert curves["digest"][2].pairs < curves["all"][2].pairs
    for train, test in fold_splits(SLICE, FOLDS, 1):
        outcome = fold_outcome(sim, train, test, None, "digest", 1)
        assert outcome.pairs == int(sim.shown[train].sum())
        assert outcome.relevant == int((sim.shown[train] & (sim.training.grades[train] > 0)).sum())


def test_no_feedback_is_the_configured_score(sim, curves):
    """N = 0 ranks the held-out calls by the configured score, digests cut at min_score."""
    qualities = []
    for seed in (1, 2):
        for train, test in fold_splits(SLICE, FOLDS, seed):
            outcome = fold_outcome(sim, train, test, 0, "all", seed)
            assert not outcome.learnt
            assert np.array_equal(outcome.scores, sim.base[test])
            assert np.array_equal(outcome.selected, sim.base[test] >= sim.floors)
            qualities.append(fold_quality(sim, outcome))
    assert curves["all"][0].ndcg10 == pytest.approx(mean([q[0] for q in qualities]))


def test_all_feedback_is_training_on_the_whole_fold(sim, curves):
    """N = all with every pair learns what `evaluate --cv` learns in that fold: the model of
    all the fold's training calls, judged on its held-out calls."""
    qualities = []
    for seed in (1, 2):
        for train, test in fold_splits(SLICE, FOLDS, seed):
            outcome = fold_outcome(sim, train, test, None, "all", seed)
            model = fit_model(subset(sim.training, train), 0.65)
            expected = probabilities(model, sim.base[test], [sim.codes[i] for i in test])
            assert outcome.learnt
            assert np.array_equal(outcome.scores, expected)
            floors = model_floors(model, sim.training.departments)
            assert np.array_equal(outcome.selected, expected >= floors)
            ids = [sim.ids[i] for i in test]
            held_out = {call_id: sim.labels[call_id] for call_id in ids}
            departments = list(sim.training.departments)
            evaluation = measure(ids, departments, expected, expected >= floors, held_out)
            qualities.append(evaluation.micro)
    point = curves["all"][2]
    assert point.precision == pytest.approx(mean([q[0] for q in qualities]))
    assert point.recall == pytest.approx(mean([q[1] for q in qualities]))


def test_an_unknown_coverage_is_refused(sim):
    """Only the documented coverages are simulated."""
    train, test = fold_splits(SLICE, FOLDS, 1)[0]
    with pytest.raises(ValueError, match="unknown coverage 'some'"):
        fold_outcome(sim, train, test, 10, "some", 1)


def test_too_little_feedback_learns_nothing(sim):
    """A fold whose feedback lacks the labels to learn from ranks as configured."""
    train, test = fold_splits(SLICE, FOLDS, 1)[0]
    outcome = fold_outcome(sim, train, test, MIN_LABELS - 1, "digest", 1)
    assert outcome.calls < MIN_LABELS
    assert not outcome.learnt
    assert np.array_equal(outcome.scores, sim.base[test])
