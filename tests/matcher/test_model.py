"""The learnt score model: features, cut-offs, reliability, and that profiles stay the lever.

Trained on the real labelled calls of ../shared/eval/dev.jsonl (read where they lie).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from eufunds.config_matching import model_document, parse_model
from eufunds.learning import LabelSource, read_labelled_calls, train, training_set
from matcher.model import (
    LOG_SCORE,
    MIN_LABELS,
    TrainingSet,
    cutoffs,
    features,
    fit_model,
    missing_labels,
    probabilities,
    reliability,
)
from matcher.rank import Matcher
from tests.conftest import SHARED

DEV = SHARED / "eval" / "dev.jsonl"


@pytest.fixture(scope="module")
def dev(config):
    """The dev set's calls and labels, and the model learnt from them."""
    calls, labels = read_labelled_calls(DEV)
    model = train(config, [LabelSource("labels", DEV.name, calls, labels)])
    return calls, labels, model


def test_features_are_the_log_score_and_the_programme():
    """One feature per programme code, set for the call's own programme only."""
    scores = np.array([[0.2, 0.0], [0.05, 0.1]])
    values = features(scores, ["LIFE", ""], (LOG_SCORE, "programme:LIFE", "programme:CERV"))
    assert values.shape == (2, 2, 3)
    assert values[0, 0, 0] == pytest.approx(np.log(0.201))
    assert values[0, 1, 0] == pytest.approx(np.log(0.001))
    assert values[0, :, 1].tolist() == [1.0, 1.0]
    assert values[1, :, 1:].sum() == 0.0


def test_a_higher_score_means_a_higher_probability(dev):
    """The score's coefficient is positive, so whatever lifts a configured score (a keyword
    a coordinator adds) lifts the probability."""
    _, _, model = dev
    weights = dict(zip(model.features, model.coefficients, strict=True))
    assert weights[LOG_SCORE] > 0
    low, high = probabilities(model, np.array([[0.05], [0.2]]), ["HORIZON", "HORIZON"])[:, 0]
    assert high > low


def test_adding_a_keyword_lifts_the_calls_that_contain_it(dev, config):
    """A department given a keyword from a call's title ranks that call higher than before,
    with the shipped model."""
    calls, _, model = dev
    settings = replace(config.matching, model=model)
    call = next(c for c in calls if "hydrogen" in c.title.lower())
    department = next(d for d in config.departments if d.id == "stadskontoret")
    richer = replace(department, keywords_en={**department.keywords_en, "hydrogen": 3.0})

    def probability(profile):
        table = Matcher([profile], [], settings).fit(calls).score(calls)
        return table.final[calls.index(call), 0], table.ranking(profile.id).index(call.id)

    (before, rank_before), (after, rank_after) = probability(department), probability(richer)
    assert after > before
    assert rank_after < rank_before


def test_cutoffs_keep_the_target_precision_and_shrink_to_the_shared_one():
    """The shared cut-off is the lowest score whose selection is precise enough; a
    department with enough relevant calls gets its own, drawn towards the shared one."""
    scores = np.array([[0.9, 0.8], [0.8, 0.7], [0.6, 0.6], [0.4, 0.5], [0.3, 0.2]] * 2)
    grades = np.array([[1, 1], [1, 0], [0, 1], [1, 1], [0, 0]] * 2)
    shared, own = cutoffs(scores, grades, 0.75, ("a", "b"))
    selected = scores.reshape(-1) >= shared
    assert (grades.reshape(-1)[selected] > 0).mean() >= 0.75
    assert own["a"] == pytest.approx((6 * 0.4 + 10 * shared) / 16)
    assert "b" in own and min(shared, 0.5) <= own["b"] <= max(shared, 0.8)


def test_reliability_bands_cover_every_pair():
    """Each pair falls in one band; predicted and observed are means over the band."""
    scores = np.array([[0.01, 0.6], [0.9, 0.12]])
    grades = np.array([[0, 1], [2, 0]])
    bands = reliability(scores, grades)
    assert sum(band.pairs for band in bands) == 4
    top = next(band for band in bands if band.low == 0.7)
    assert (top.pairs, top.predicted, top.observed) == (1, 0.9, 1.0)


def test_a_model_reads_back_as_it_was_written(dev, config, tmp_path):
    """model.json as `eufunds train` writes it loads into the same model."""
    _, _, model = dev
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model_document(model)), encoding="utf-8")
    assert parse_model(path, config.matching, config.departments) == model


def test_a_model_learns_on_the_calls_it_is_given(dev, config):
    """Trained on half of the calls, the model differs from the one trained on all: the
    cross-validation folds learn only from their own calls."""
    calls, labels, model = dev
    training, _ = training_set(config, calls, labels)
    half = len(calls) // 2
    part = replace(training, values=training.values[:half], grades=training.grades[:half])
    assert fit_model(part, 0.65).coefficients != model.coefficients


def test_pairs_without_a_label_teach_nothing(dev, config):
    """A pair graded NaN (feedback said nothing of it) is left out: the model learnt with
    some pairs unlabelled is the model learnt on the labelled pairs alone, whatever
    features the unlabelled ones have."""
    calls, labels, _ = dev
    training, _ = training_set(config, calls, labels)
    unknown = np.zeros(training.grades.shape, dtype=bool)
    unknown[::3, :] = True
    unknown[:, 1] = True
    grades = np.where(unknown, np.nan, training.grades)
    other = training.values.copy()
    other[unknown] = 7.0
    first = fit_model(replace(training, grades=grades), 0.65)
    second = fit_model(replace(training, values=other, grades=grades), 0.65)
    assert first.coefficients == second.coefficients
    assert first.thresholds == second.thresholds
    assert dict(first.trained_on)["pairs"] == str(int((~unknown).sum()))
    assert first.coefficients != fit_model(training, 0.65).coefficients


def test_cutoffs_and_reliability_skip_unlabelled_pairs():
    """The cut-offs and reliability bands are those of the labelled pairs."""
    scores = np.array([[0.9, 0.8], [0.8, 0.7], [0.6, 0.6], [0.4, 0.5], [0.3, 0.2]] * 2)
    grades = np.array([[1, 1], [1, 0], [0, 1], [1, 1], [0, 0]] * 2, dtype=float)
    with_unknown = np.vstack([grades, [[np.nan, np.nan]]])
    scores_more = np.vstack([scores, [[0.95, 0.95]]])
    assert cutoffs(scores_more, with_unknown, 0.75, ("a", "b")) == cutoffs(
        scores, grades, 0.75, ("a", "b")
    )
    assert sum(band.pairs for band in reliability(scores_more, with_unknown)) == grades.size


def test_missing_labels_names_what_is_lacking():
    """Learning needs relevant and not relevant labelled pairs on enough calls."""
    enough = np.full((MIN_LABELS * 2, 2), np.nan)
    enough[:MIN_LABELS, 0] = 1
    enough[MIN_LABELS:, 0] = 0
    assert missing_labels(enough) == ""
    few = enough.copy()
    few[0, 0] = np.nan
    assert missing_labels(few) == (
        f"{MIN_LABELS - 1} relevant and {MIN_LABELS} not relevant labelled pairs on "
        f"{MIN_LABELS * 2 - 1} calls; at least {MIN_LABELS} of each on 5 calls are needed"
    )
    assert missing_labels(np.zeros((0, 3))).startswith("0 relevant and 0 not relevant")


def test_an_inner_fold_of_one_kind_learns_its_share(config):
    """Labels of one kind only (an inner fold of little feedback) give a model that rates
    every pair at their share, rather than failing."""
    names = (LOG_SCORE,)
    values = np.linspace(-3, 0, 12).reshape(6, 2, 1)
    grades = np.zeros((6, 2))
    grades[:, 1] = np.nan
    model = fit_model(TrainingSet(values, grades, ("a", "b"), names), 0.65)
    assert model.coefficients == (0.0,)
    assert probabilities(model, np.array([[0.0], [1.0]]), ["", ""])[:, 0] == pytest.approx(
        [0.001, 0.001]
    )
