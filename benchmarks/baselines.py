"""Baselines the matcher benchmarks measure in the same run, on the same calls and profiles.

- scikit-learn: TfidfVectorizer (sublinear tf, English stop words, 1-2-grams) over the calls'
  text and the profiles' text (keywords and descriptions), then linear_kernel, the cosine of
  every call with every profile: plain TF-IDF ranking, vectorised, with no stems, phrase
  gates, factors, model or reasons; the practical floor of what a TF-IDF ranking over these
  calls and profiles costs. Timed in two parts: vectorising the text (tokenising and
  counting), and the rest from the counts (term weights and cosines), which is the part to
  compare with a re-rank that is given the calls' analyses.
"""

from __future__ import annotations

import time

from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.metrics.pairwise import linear_kernel

from db.records import Call, Department

SKLEARN_STEPS = {"vectorise": "tokenise and count", "weigh": "tf-idf + linear_kernel"}


def call_text(call: Call) -> str:
    """The call text the matcher reads: title, call title, programme, action type, summary."""
    parts = [call.title, call.call_title, call.programme, *call.programme_divisions]
    return " . ".join([*parts, call.type_of_action, call.summary])


def profile_text(department: Department) -> str:
    """A profile as text: its keywords and descriptions in both languages."""
    keywords = [*department.keywords_sv, *department.keywords_en]
    return " . ".join([*keywords, department.description_sv, department.description_en])


def sklearn_run(calls: list[Call], departments: list[Department]) -> dict[str, float]:
    """TfidfVectorizer's steps + linear_kernel over the calls and profiles, timed."""
    started = time.perf_counter()
    counter = CountVectorizer(stop_words="english", ngram_range=(1, 2))
    counts = counter.fit_transform([call_text(call) for call in calls])
    queries = counter.transform([profile_text(d) for d in departments])
    counted = time.perf_counter()
    weigher = TfidfTransformer(sublinear_tf=True).fit(counts)
    scores = linear_kernel(weigher.transform(counts), weigher.transform(queries))
    done = time.perf_counter()
    assert scores.shape == (len(calls), len(departments))
    return {"vectorise": counted - started, "weigh": done - counted, "total": done - started}
