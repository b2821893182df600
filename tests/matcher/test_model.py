"""The learnt score model: features, cut-offs, reliability, and that profiles stay the lever.

Trained on the real labelled calls of ../shared/eval/dev.jsonl (read where they lie).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from eufunds.config_matching import model_document, parse_model
from eufunds.learning import read_labelled_calls, train, training_set
from matcher.model import (
    LOG_SCORE,
    cutoffs,
    features,
    fit_model,
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
    model = train(config, calls, labels, DEV)
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
