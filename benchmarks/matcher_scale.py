"""Matcher at national scale: 500 profiles over 20,000 and 100,000 calls, analyses stored,
with scikit-learn's TF-IDF + linear_kernel on the same work as the practical floor.

Run: make bench   (or: EUFUNDS_SHARED=../shared .venv/bin/python benchmarks/matcher_scale.py
     [--scale 20000x500])

The work is built at run time, nothing is saved:
- Calls: the snapshot's real calls read with the real crawler code (``matcher_work``),
  repeated to the scale's number of calls with distinct ids. Their analyses are "stored":
  the real calls are analysed once, untimed, and each copy gets its own analysis read back
  from the fields the database keeps (``CallAnalysis.to_fields`` / ``from_fields``), as
  ``eufunds match`` loads them. (Copies share their text strings, so the work loaded is
  smaller than that many distinct calls would be; it is reported apart.)
- Profiles: the 13 configured departments + synthetic ones up to the scale's number
  (``synthetic_profiles.synthetic_departments``: recombined from the configured ones,
  deterministic, distinct — tests/matcher/test_synthetic_profiles.py).
- One thread (BLAS/OpenMP threads 1). Each scale runs in a process of its own (a fresh
  interpreter), which loads its work, then forks a fresh child per run (``harness``), so no
  run inherits another's memory and one scale's work is not in the other's memory.

Measured, median of the runs (RUNS, or MIN_RUNS once they have taken BUDGET s):
1. full re-rank: Matcher(...).fit(calls, known) + .score(calls, known) + .matches(now), wall
   clock (time.perf_counter), with each step; the process's peak RSS (ru_maxrss, work
   loaded + re-rank) and the RSS of the work loaded before it;
2. scikit-learn (``baselines.sklearn_run``): tokenise and count (CountVectorizer), then
   term weights + cosines (TfidfTransformer + linear_kernel; the two are TfidfVectorizer);
   ratio: our re-rank / the weights + cosines part (neither tokenises).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# BLAS and OpenMP read their thread counts when numpy is first imported, by the imports below.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import harness  # noqa: E402
from baselines import SKLEARN_STEPS, sklearn_run  # noqa: E402
from matcher_work import repeated, snapshot_calls  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from benchmarks.synthetic_profiles import synthetic_departments  # noqa: E402
from eufunds.config import load_config  # noqa: E402
from matcher.analysis import CallAnalysis  # noqa: E402
from matcher.rank import Matcher  # noqa: E402

SCALES = ((20_000, 500), (100_000, 500))
# Seconds and MB (peak RSS of the process: work loaded + re-rank), as issue 14 asks.
TARGETS = {(20_000, 500): (3.0, 600.0), (100_000, 500): (15.0, 2000.0)}
RUNS = 5
MIN_RUNS = 3
BUDGET = 60.0
NOW = harness.SNAPSHOT_DAY
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
STEPS = ("fit", "score", "matches")


def scale_work(calls: int, profiles: int):
    """Configuration, profiles, calls and their stored analyses for one scale."""
    config = load_config()
    real = snapshot_calls()
    configured = list(config.departments)
    departments = configured + synthetic_departments(configured, profiles - len(configured))
    corpus = repeated(real, calls)
    matcher = Matcher(departments, config.focus_areas, config.matching)
    fields = [analysis.to_fields() for analysis in matcher.analyses(real)]
    # ``repeated`` cycles through the real calls: copy n is of real call n mod len(real).
    known = {
        call.id: CallAnalysis.from_fields(fields[n % len(real)]) for n, call in enumerate(corpus)
    }
    return config, departments, corpus, known


def rerank(config, departments, corpus, known) -> harness.Run:
    """One full re-rank given the stored analyses: seconds per step, matches, peak RSS."""
    gc.collect()
    started = time.perf_counter()
    matcher = Matcher(departments, config.focus_areas, config.matching).fit(corpus, known)
    fitted = time.perf_counter()
    table = matcher.score(corpus, known)
    scored = time.perf_counter()
    matches = table.matches(NOW, release=True)
    done = time.perf_counter()
    return {
        "fit": fitted - started,
        "score": scored - fitted,
        "matches": done - scored,
        "total": done - started,
        "count": len(matches),
        "rss": harness.peak_rss_mb(),
    }


def measure(calls: int, profiles: int) -> dict:
    """Every measure of one scale, in this process and children forked from it."""
    threadpool_limits(1)
    config, departments, corpus, known = scale_work(calls, profiles)
    gc.collect()
    loaded = harness.current_rss_mb()
    what = f"{calls:,} x {profiles}"
    print(f"scale {what}: work loaded, RSS {loaded:,.0f} MB", flush=True)
    rule = {"runs": RUNS, "min_runs": MIN_RUNS, "budget": BUDGET}
    ours = harness.repeat(
        f"re-rank {what}", lambda _run: rerank(config, departments, corpus, known), **rule
    )
    sklearn = harness.repeat(
        f"scikit-learn {what}", lambda _run: sklearn_run(corpus, departments), **rule
    )
    return {"ours": ours, "sklearn": sklearn, "loaded": loaded}


def run_scale(calls: int, profiles: int) -> dict:
    """One scale measured in a fresh interpreter (this script with --scale), its result."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        command = [sys.executable, __file__, "--scale", f"{calls}x{profiles}", "--out", str(out)]
        subprocess.run(command, check=True)
        return json.loads(out.read_text())


def report(results: dict[tuple[int, int], dict]) -> None:
    """The table of each scale's measures, the README's rows, and JSON."""
    header = ["measure (median)", "target", "measured (one thread, 2-core shared machine)"]
    rows, summary = [], {}
    for (calls, profiles), result in results.items():
        ours = harness.medians(result["ours"], ["total", *STEPS])
        sklearn = harness.medians(result["sklearn"], ["total", *SKLEARN_STEPS])
        peak = max(run["rss"] for run in result["ours"])
        seconds, megabytes = TARGETS.get((calls, profiles), (float("inf"), float("inf")))
        met = ours["total"] < seconds and peak < megabytes
        split = " + ".join(f"{step} {ours[step]:.2f}" for step in STEPS)
        rows.append(
            [
                f"full re-rank, {calls:,} calls x {profiles} profiles, analyses stored",
                f"< {seconds:g} s, < {megabytes:,.0f} MB",
                f"{'' if met else '**'}{ours['total']:.2f} s, {peak:,.0f} MB"
                f"{'' if met else ', not met**'} ({split}; runs "
                f"{harness.runs_text(result['ours'])}; {result['ours'][0]['count']:,} matches; "
                f"peak RSS, of which {result['loaded']:,.0f} MB the work loaded)",
            ]
        )
        ratio = ours["total"] / sklearn["weigh"]
        rows.append(
            [
                f"scikit-learn on the same {calls:,} x {profiles}: TfidfVectorizer + linear_kernel",
                "the floor",
                f"{sklearn['total']:.2f} s, of which tf-idf + linear_kernel "
                f"{sklearn['weigh']:.2f} s (tokenising {sklearn['vectorise']:.2f} s): our "
                f"re-rank is {ratio:.1f}x its tf-idf + linear_kernel",
            ]
        )
        summary[f"{calls}x{profiles}"] = {"ours": ours, "sklearn": sklearn, "peak_mb": peak}
    print(f"\n{CPUS} CPUs; README rows:")
    print(harness.markdown_table(header, rows))
    print("json:", json.dumps(summary, sort_keys=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", help="one scale, CALLSxPROFILES (default: all)")
    parser.add_argument("--out", help="where --scale writes its result (JSON)")
    options = parser.parse_args()
    if options.scale and options.out:
        calls, profiles = (int(part) for part in options.scale.split("x"))
        Path(options.out).write_text(json.dumps(measure(calls, profiles)))
        return
    scales = SCALES
    if options.scale:
        scales = (tuple(int(part) for part in options.scale.split("x")),)
    report({scale: run_scale(*scale) for scale in scales})


if __name__ == "__main__":
    main()
