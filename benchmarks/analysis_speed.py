"""Analysis speed: 20,000 calls analysed from scratch, against scikit-learn's TfidfVectorizer.

Run: make bench   (or: EUFUNDS_SHARED=../shared .venv/bin/python benchmarks/analysis_speed.py)

The work is the matcher benchmark's corpus (``matcher_work``): the snapshot's real calls read
with the real crawler code and repeated to CALLS calls, each copy a distinct call with its own
id and content hash (its texts are those of the real call it copies, so a corpus of 20,000
calls never seen has more distinct words than this one). The analyser is the embedded
configuration's (title weight, who-may-apply rules). One thread per process (BLAS/OpenMP 1).

Measured in ROUNDS rounds of one run of each measure in turn (paired runs: a busy spell of the
shared machine slows a round's runs alike), each run in a fresh child forked from this process
once the corpus is loaded (so it starts with no word, stem or key looked up, as a fresh
``eufunds match --full`` does; nothing here analyses before forking); time.perf_counter,
medians of the runs, and ratios as medians of each round's ratio:
1. batch analysis: ``matcher.rank.analyse_calls`` of all the calls (what ``Matcher.analyses``
   does with calls it has no analysis for), shared out over processes as by default
   (``batch_processes.default_processes``: one per CPU, at most 2, while the machine has a CPU
   to spare; each run's count is printed); and the same in one process, and in two whatever
   the load;
2. per-call analysis: ``analyse_call`` of each call, the reference path (and the whole path
   before batch analysis); its child then checks, untimed, that the batch analyses are the same
   as these, byte for byte (``CallAnalysis.to_fields``);
3. scikit-learn: ``TfidfVectorizer(ngram_range=(1, 2)).fit_transform`` of the same calls'
   title, context and summary (lower-casing, its own tokenising, 1-2-grams, counts, IDF
   weights): the practical floor for a pure-library analysis, not the same work (no stems,
   stop words, hashed keys or rules), measured in the same run for the ratio.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import harness  # noqa: E402
from matcher_work import CALLS, repeated, snapshot_calls  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402

from db.records import Call  # noqa: E402
from eufunds.config import load_config  # noqa: E402
from matcher.batch_processes import default_processes  # noqa: E402
from matcher.rank import analyse_call, analyse_calls, analyser_for  # noqa: E402

ROUNDS = 5
TARGET = 2.0
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def batch_run(corpus: list[Call], processes: int | None) -> harness.Run:
    """Analyse every call in one batch, over ``processes`` (None: as many as it takes)."""
    analyser = analyser_for(load_config().matching)
    gc.collect()
    used = default_processes(len(corpus)) if processes is None else processes
    started = time.perf_counter()
    analyses = analyse_calls(corpus, analyser, processes)
    total = time.perf_counter() - started
    return {
        "total": total,
        "count": len(analyses),
        "rss": harness.peak_rss_mb(),
        "processes": used,
    }


def per_call_run(corpus: list[Call]) -> harness.Run:
    """Analyse every call alone; then check, untimed, that the batch analyses are the same."""
    analyser = analyser_for(load_config().matching)
    gc.collect()
    started = time.perf_counter()
    analyses = [analyse_call(call, analyser) for call in corpus]
    total = time.perf_counter() - started
    batch = analyse_calls(corpus, analyser)
    same = all(a.to_fields() == b.to_fields() for a, b in zip(analyses, batch, strict=True))
    return {"total": total, "count": len(analyses), "identical": float(same)}


def call_text(call: Call) -> str:
    """The texts the analysis reads of a call: title, context and summary."""
    context = " . ".join([call.call_title, call.programme, call.type_of_action])
    return f"{call.title}\n{context}\n{call.summary}"


def sklearn_run(texts: list[str]) -> harness.Run:
    """TfidfVectorizer(ngram_range=(1, 2)).fit_transform of the texts."""
    gc.collect()
    started = time.perf_counter()
    matrix = TfidfVectorizer(ngram_range=(1, 2)).fit_transform(texts)
    total = time.perf_counter() - started
    return {"total": total, "count": matrix.shape[0], "columns": matrix.shape[1]}


def main() -> None:
    """Load the corpus, run the measures, print the results table and the README row."""
    corpus = repeated(snapshot_calls(), CALLS)
    texts = [call_text(call) for call in corpus]
    words = sum(len(text) for text in texts)
    print(
        f"analysis benchmark: {len(corpus):,} calls ({words / 1e6:.1f} M characters of title, "
        f"context and summary); {CPUS} CPUs, load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    measures = {
        "batch": ("batch analysis (default processes)", lambda: batch_run(corpus, None)),
        "batch_one": ("batch analysis (1 process)", lambda: batch_run(corpus, 1)),
        "batch_two": ("batch analysis (2 processes)", lambda: batch_run(corpus, 2)),
        "per_call": ("per-call analysis", lambda: per_call_run(corpus)),
        "sklearn": ("TfidfVectorizer", lambda: sklearn_run(texts)),
    }
    runs: dict[str, list[harness.Run]] = {key: [] for key in measures}
    # Rounds of one run of each measure: a busy spell of the shared machine slows them alike.
    for round_number in range(ROUNDS):
        for key, (label, measure) in measures.items():
            runs[key].append(harness.in_child(measure))
            print(f"  round {round_number + 1}: {label} {runs[key][-1]['total']:.3f} s", flush=True)
    report(runs)


def report(runs: dict[str, list[harness.Run]]) -> None:
    """Print the results table, the ratios, the README row and a JSON line."""
    median = {key: harness.medians(value, ["total"])["total"] for key, value in runs.items()}
    identical = all(run["identical"] == 1.0 for run in runs["per_call"])
    met = median["batch"] < TARGET
    versus_sklearn = _paired_ratio(runs["batch"], runs["sklearn"])
    one_versus_sklearn = _paired_ratio(runs["batch_one"], runs["sklearn"])
    speedup = _paired_ratio(runs["per_call"], runs["batch"])
    one_speedup = _paired_ratio(runs["per_call"], runs["batch_one"])
    used = "/".join(str(run["processes"]) for run in runs["batch"])
    labels = {
        "batch": f"batch analysis of {CALLS:,} calls (the default: {used} processes)",
        "batch_one": "the same in 1 process",
        "batch_two": "the same in 2 processes, whatever the load",
        "per_call": "per-call analysis (the reference, 1 process)",
        "sklearn": "scikit-learn TfidfVectorizer(ngram_range=(1, 2)).fit_transform",
    }
    rows = [
        [
            label,
            f"{median[key]:.2f}",
            harness.runs_text(runs[key]),
            f"< {TARGET:.0f} s {'met' if met else 'NOT met'}" if key == "batch" else "",
        ]
        for key, label in labels.items()
    ]
    print(harness.markdown_table(["measure (median)", "seconds", "runs", "target"], rows))
    print(
        f"batch / TfidfVectorizer: {versus_sklearn:.2f}x its time ({one_versus_sklearn:.2f}x in "
        f"1 process); per-call / batch: {speedup:.1f}x ({one_speedup:.1f}x in 1 process) "
        "(medians of each round's ratio); batch analyses "
        f"identical to the per-call ones: {identical}; peak RSS of a batch child "
        f"{max(run['rss'] for run in runs['batch']):,.0f} MB (the loaded corpus included)"
    )
    print(
        "\nREADME row:\n"
        f"| analysing {CALLS:,} calls from scratch ({CPUS} CPUs; {used} processes) | < 2 s "
        f"| {median['batch']:.2f} s{'' if met else ', not met'} (runs "
        f"{harness.runs_text(runs['batch'])}) = {versus_sklearn:.2f}x the time of "
        f"TfidfVectorizer(ngram_range=(1, 2)).fit_transform on the same texts "
        f"({median['sklearn']:.2f} s); 1 process {median['batch_one']:.2f} s "
        f"({one_versus_sklearn:.2f}x), 2 processes {median['batch_two']:.2f} s (runs "
        f"{harness.runs_text(runs['batch_two'])}); per call, as before, "
        f"{median['per_call']:.2f} s |"
    )
    summary = {"median": median, "identical": identical, "met": met}
    summary["versus_sklearn"] = versus_sklearn
    print("json:", json.dumps(summary, sort_keys=True))
    if not identical:
        raise SystemExit("batch analyses differ from the per-call ones")


def _paired_ratio(runs: list[harness.Run], baselines: list[harness.Run]) -> float:
    """The median over the rounds of a run's time over its round's baseline run's."""
    return statistics.median(
        run["total"] / baseline["total"] for run, baseline in zip(runs, baselines, strict=True)
    )


if __name__ == "__main__":
    main()
