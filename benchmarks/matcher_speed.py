"""Matcher speed and memory on 20,000 calls x 50 profiles, with rank-bm25 on the same work.

Run: EUFUNDS_SHARED=../shared .venv/bin/python benchmarks/matcher_speed.py [--profile]

The work is built here at run time, nothing is saved:
- Calls: the snapshot's 723 real calls (shared/snapshot/ft_portal/search-page-*.json) are read
  with the real crawler code (FtPortalSpider.parse_facets and .parse on the saved answers, then
  the normalise, validate and dedupe pipelines) and repeated to CALLS calls, each copy with its
  own id (``<id>~R<copy>``) and its own content hash, as that many distinct calls would have.
  The incremental runs score NEW_CALLS real calls spread over the snapshot, a new batch with
  new ids (``<id>~N<batch>-<n>``) per run, so no run finds them analysed already.
- Profiles: the configured departments, plus synthetic ones up to PROFILES (see
  ``synthetic_departments``: each recombines two configured departments' keywords, rotated
  weights and descriptions; deterministic, distinct ids).
- One core: OMP/OPENBLAS/MKL thread counts are set to 1 before numpy is imported (and capped
  again with threadpoolctl), so every measure runs on one thread. Processes are not pinned to a
  CPU: on a shared machine a pinned process cannot move away from a busy neighbour.
- Every run is a child forked from this process after the work is loaded, so it starts with
  the caches a fresh ``eufunds match --full`` would have (whatever the matcher keeps) and one
  run's memory does not carry over to the next.

Measured, median of RUNS runs each (time.perf_counter; a measure whose runs have taken BUDGET
seconds stops after MIN_RUNS, so the script stays within minutes while the matcher is far from
its targets; the runs used are printed):
1. full re-rank: Matcher(...).fit(calls) + .score(calls) + .matches(now), with the split,
   analysing every call's text; and, when the matcher takes analyses made earlier
   (``fit(calls, known=...)``, as ``eufunds match`` passes those stored in the database), the
   same given the analyses (made untimed first, all such runs in one child);
2. incremental: a Matcher fitted on the corpus (untimed, once) scores NEW_CALLS new calls and
   builds their matches (.score(new).matches(now));
3. peak memory: tracemalloc peak of one full re-rank (its own allocations) in one more, untimed
   child; and ru_maxrss of this process with the work loaded and of the full re-rank children
   (work loaded + re-rank). Tracing makes a re-rank ~3.5x slower, so when the full re-rank
   takes over OVERLAP_ABOVE s the traced run goes beside the rank-bm25 runs on another CPU
   (they then run some 10-15% slower, said in the output), else before them;
4. rank-bm25: BM25Okapi over the same calls (tokens: matcher.analysis.stems of the same call
   text, in the call's language) and the same profiles as queries (stems of keywords and
   descriptions, each in its language): tokenise + build the index + get_scores per profile.
   Ratios: rank-bm25 in all / our full re-rank (both analyse the text), and rank-bm25's index +
   queries / our re-rank given stored analyses (neither analyses).
``--profile`` adds one cProfile'd full re-rank and prints the top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import hashlib
import inspect
import io
import json
import multiprocessing
import os
import pstats
import resource
import statistics
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rank_bm25 import BM25Okapi  # noqa: E402
from scrapy.exceptions import DropItem  # noqa: E402
from scrapy.http import Request, TextResponse  # noqa: E402
from scrapy.settings import Settings  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from crawler.items import CallItem  # noqa: E402
from crawler.pipelines import DedupePipeline, NormalisePipeline, ValidatePipeline  # noqa: E402
from crawler.spiders.ft_portal import FtPortalSpider  # noqa: E402
from db import content_hash  # noqa: E402
from db.records import Call, Department  # noqa: E402
from eufunds.config import Config, load_config  # noqa: E402
from matcher.analysis import stems  # noqa: E402
from matcher.rank import Matcher, call_language  # noqa: E402

SHARED = Path(os.environ.get("EUFUNDS_SHARED", REPO.parent / "shared"))
CALLS = 20_000
PROFILES = 50
NEW_CALLS = 100
RUNS = 5
MIN_RUNS = 3
BUDGET = 60.0
OVERLAP_ABOVE = 10.0
NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)  # the snapshot's crawl day: every call still open
TARGETS = {"full": 2.0, "incremental": 0.2, "memory_mb": 500.0}
PROFILE_TOP = 15
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# Work --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Work:
    """What every run works on: configuration, profiles, the corpus and the real calls."""

    config: Config
    departments: list[Department]
    corpus: list[Call]
    real: list[Call]

    def matcher(self) -> Matcher:
        return Matcher(self.departments, self.config.focus_areas, self.config.matching)


def snapshot_calls() -> list[Call]:
    """The snapshot's real calls, read with the crawler's spider and pipelines."""
    folder = SHARED / "snapshot" / "ft_portal"
    spider = FtPortalSpider(facet_url="https://replay/facet", search_url="https://replay/search")
    facet = folder / "facet.json"
    list(spider.parse_facets(_response("https://replay/facet", facet.read_bytes(), {})))
    items: list[CallItem] = []
    pages = sorted(folder.glob("search-page-*.json"), key=lambda p: int(p.stem.split("-")[-1]))
    for path in pages:
        page = int(path.stem.split("-")[-1])
        answer = _response(f"https://replay/search?page={page}", path.read_bytes(), {"page": page})
        items += [item for item in spider.parse(answer) if isinstance(item, CallItem)]
    crawler = _StubCrawler(spider, Settings({"EUFUNDS_NOW": NOW.isoformat()}))
    pipelines = [NormalisePipeline(crawler), ValidatePipeline(crawler), DedupePipeline(crawler)]
    for pipeline in pipelines:
        if hasattr(pipeline, "open_spider"):
            pipeline.open_spider()
    calls = []
    for item in items:
        try:
            value = item
            for pipeline in pipelines:
                value = pipeline.process_item(value)
        except DropItem:
            continue
        calls.append(value)
    if not calls:
        raise SystemExit(f"no calls read from {folder}")
    return calls


@dataclasses.dataclass
class _StubCrawler:
    """What the pipelines use of a Scrapy crawler: its spider (for the report) and settings."""

    spider: FtPortalSpider
    settings: Settings


def _response(url: str, body: bytes, meta: dict) -> TextResponse:
    headers = {"Content-Type": "application/json"}
    return TextResponse(url, body=body, headers=headers, request=Request(url, meta=meta))


def _copy(call: Call, suffix: str) -> Call:
    """A copy of a call with its own id, identifier and content hash."""
    digest = hashlib.sha256(f"{content_hash(call)}{suffix}".encode()).hexdigest()
    return dataclasses.replace(
        call, id=call.id + suffix, identifier=call.identifier + suffix, content_hash=digest
    )


def repeated(calls: Sequence[Call], count: int) -> list[Call]:
    """``count`` calls cycling through ``calls``, each copy a distinct call."""
    return [
        _copy(calls[number % len(calls)], f"~R{number // len(calls)}") for number in range(count)
    ]


def new_calls(calls: Sequence[Call], count: int, batch: int) -> list[Call]:
    """Batch ``batch`` of ``count`` real calls spread over the snapshot, as calls never seen."""
    picked = [calls[(n * len(calls) // count + batch) % len(calls)] for n in range(count)]
    return [_copy(call, f"~N{batch}-{n}") for n, call in enumerate(picked)]


def synthetic_departments(departments: Sequence[Department], count: int) -> list[Department]:
    """``count`` more profiles made by recombining the configured departments, deterministically.

    Synthetic profile k (0-based) starts from department a = k mod n and mixes in department
    b = (a + 1 + k // n) mod n (n configured departments, so b != a while count < n * (n - 1)):
    all of a's keywords with their weights rotated by k // n + 1 places (per language), plus
    every second keyword of b (starting at k mod 2) at b's weight; negative keywords of a;
    preferred programmes of a then b; descriptions of a then b; a's minimum score, lead time,
    recipients and weekday. Id: ``syn<k>-<a>-<b>``.
    """
    n = len(departments)
    result = []
    for k in range(count):
        a, b = departments[k % n], departments[(k % n + 1 + k // n) % n]
        shift = k // n + 1

        def mixed(own: dict[str, float], other: dict[str, float], shift=shift, k=k):
            labels, weights = list(own), list(own.values())
            if weights:
                weights = weights[shift % len(weights) :] + weights[: shift % len(weights)]
            keywords = dict(zip(labels, weights, strict=True))
            for label, weight in list(other.items())[k % 2 :: 2]:
                keywords.setdefault(label, weight)
            return keywords

        result.append(
            dataclasses.replace(
                a,
                id=f"syn{k}-{a.id}-{b.id}",
                name=f"{a.name} + {b.name} ({k})",
                description_sv=f"{a.description_sv} {b.description_sv}",
                description_en=f"{a.description_en} {b.description_en}",
                keywords_sv=mixed(a.keywords_sv, b.keywords_sv),
                keywords_en=mixed(a.keywords_en, b.keywords_en),
                preferred_programmes=tuple(
                    dict.fromkeys(a.preferred_programmes + b.preferred_programmes)
                ),
            )
        )
    return result


# Children ----------------------------------------------------------------------


def start_child(function: Callable[[], Any]) -> tuple[Any, Any]:
    """Run ``function`` in a child forked from this process; see ``child_result``."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def run() -> None:
        try:
            sender.send(("ok", function()))
        except BaseException:
            sender.send(("error", traceback.format_exc()))

    process = context.Process(target=run, daemon=True)
    process.start()
    sender.close()
    return process, receiver


def child_result(child: tuple[Any, Any]) -> Any:
    """What a child's function returned (its exception, if it raised one)."""
    process, receiver = child
    try:
        status, value = receiver.recv()
    except EOFError:
        process.join()
        raise RuntimeError(f"benchmark child died (exit code {process.exitcode})") from None
    process.join()
    if status != "ok":
        raise RuntimeError(f"benchmark child failed:\n{value}")
    return value


def in_child(function: Callable[[], Any]) -> Any:
    return child_result(start_child(function))


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Measures ----------------------------------------------------------------------


def full_rerank(work: Work, known: dict | None = None) -> dict[str, float]:
    """One full re-rank: seconds per step, the number of matches, the process's peak RSS.

    ``known``: the calls' analyses made earlier (as stored in the database), when given.
    """
    extra = {} if known is None else {"known": known}
    gc.collect()
    started = time.perf_counter()
    matcher = work.matcher().fit(work.corpus, **extra)
    fitted = time.perf_counter()
    table = matcher.score(work.corpus, **extra)
    scored = time.perf_counter()
    matches = table.matches(NOW)
    done = time.perf_counter()
    return {
        "fit": fitted - started,
        "score": scored - fitted,
        "matches": done - scored,
        "total": done - started,
        "count": len(matches),
        "rss": maxrss_mb(),
    }


def analyses_stored() -> bool:
    """Whether the matcher takes analyses made earlier (``fit(calls, known=...)``)."""
    parameters = inspect.signature(Matcher.fit).parameters
    return "known" in parameters and hasattr(Matcher, "analyses")


def stored_reranks(work: Work) -> list[dict[str, float]]:
    """Analyse the corpus once (untimed), then time full re-ranks that are given the analyses."""
    ids = [call.id for call in work.corpus]
    known = dict(zip(ids, work.matcher().analyses(work.corpus), strict=True))
    runs: list[dict[str, float]] = []
    while len(runs) < RUNS and (len(runs) < MIN_RUNS or sum(r["total"] for r in runs) < BUDGET):
        runs.append(full_rerank(work, known))
    return runs


def incremental(work: Work) -> list[dict[str, float]]:
    """Fit once on the corpus, then time RUNS batches of new calls: score + matches."""
    matcher = work.matcher().fit(work.corpus)
    runs = []
    for batch in range(RUNS):
        calls = new_calls(work.real, NEW_CALLS, batch)
        gc.collect()
        started = time.perf_counter()
        matches = matcher.score(calls).matches(NOW)
        runs.append({"total": time.perf_counter() - started, "count": len(matches)})
    return runs


def traced_rerank(work: Work) -> float:
    """The tracemalloc peak (MB) of one full re-rank."""
    gc.collect()
    tracemalloc.start()
    work.matcher().fit(work.corpus).score(work.corpus).matches(NOW)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def call_text(call: Call) -> str:
    """The call text the matcher reads: title, call title, programme, action type, summary."""
    parts = [call.title, call.call_title, call.programme, *call.programme_divisions]
    return " . ".join([*parts, call.type_of_action, call.summary])


def profile_tokens(department: Department) -> list[str]:
    """A profile as a BM25 query: stems of its keywords and descriptions, each in its language."""
    tokens = []
    for language, keywords, description in (
        ("sv", department.keywords_sv, department.description_sv),
        ("en", department.keywords_en, department.description_en),
    ):
        for label in keywords:
            tokens += stems(label, language)
        tokens += stems(description, language)
    return tokens


def bm25_run(work: Work) -> dict[str, float]:
    """rank-bm25 on the same work: tokenise, build the index, score every profile."""
    gc.collect()
    started = time.perf_counter()
    documents = [stems(call_text(call), call_language(call)) for call in work.corpus]
    queries = [profile_tokens(d) for d in work.departments]
    tokenised = time.perf_counter()
    index = BM25Okapi(documents)
    built = time.perf_counter()
    scores = [index.get_scores(query) for query in queries]
    done = time.perf_counter()
    assert len(scores) == len(queries) and len(scores[0]) == len(work.corpus)
    return {
        "tokenise": tokenised - started,
        "index": built - tokenised,
        "query": done - built,
        "total": done - started,
    }


def profile_rerank(work: Work) -> str:
    """One full re-rank under cProfile; the top functions by cumulative time."""
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    work.matcher().fit(work.corpus).score(work.corpus).matches(NOW)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(PROFILE_TOP)
    return out.getvalue()


def repeat(what: str, function: Callable[[], dict[str, float]]) -> list[dict[str, float]]:
    """RUNS runs of a measure, each in a fresh child, or MIN_RUNS when they took BUDGET s."""
    runs: list[dict[str, float]] = []
    while len(runs) < RUNS:
        if len(runs) >= MIN_RUNS and sum(run["total"] for run in runs) > BUDGET:
            break
        runs.append(in_child(function))
        print(f"  {what} run {len(runs)}: {runs[-1]['total']:.3f} s", flush=True)
    return runs


def medians(runs: list[dict[str, float]], keys: Sequence[str]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in keys}


# Main --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="cProfile one full re-rank too")
    options = parser.parse_args()
    rss_imports = maxrss_mb()
    threadpool_limits(1)
    threads = sorted({pool["num_threads"] for pool in threadpool_info()}) or [1]

    config = load_config()
    real = snapshot_calls()
    configured = list(config.departments)
    departments = configured + synthetic_departments(configured, PROFILES - len(configured))
    work = Work(config, departments, repeated(real, CALLS), real)
    new_ids = {c.id for batch in range(RUNS) for c in new_calls(real, NEW_CALLS, batch)}
    assert len({c.id for c in work.corpus} | new_ids) == CALLS + RUNS * NEW_CALLS
    assert len({d.id for d in departments}) == PROFILES
    gc.collect()
    rss_loaded = maxrss_mb()
    print(
        f"work: {len(real)} real calls -> {CALLS:,} calls; {NEW_CALLS} new calls per incremental "
        f"run; {PROFILES} profiles ({len(configured)} configured), {len(config.focus_areas)} "
        f"focus areas; {CPUS} CPUs, BLAS/OpenMP threads {threads}",
        flush=True,
    )

    full_runs = repeat("full re-rank", lambda: full_rerank(work))
    full = medians(full_runs, ("fit", "score", "matches", "total"))
    rss_rerank = max(run["rss"] for run in full_runs)
    stored_runs = in_child(lambda: stored_reranks(work)) if analyses_stored() else []
    for number, run in enumerate(stored_runs, start=1):
        print(f"  full re-rank, analyses stored, run {number}: {run['total']:.3f} s", flush=True)
    stored = medians(stored_runs, ("fit", "score", "matches", "total")) if stored_runs else {}
    increment_runs = in_child(lambda: incremental(work))
    for number, run in enumerate(increment_runs, start=1):
        print(f"  incremental run {number}: {run['total']:.3f} s", flush=True)
    increment = medians(increment_runs, ("total",))

    overlap = CPUS > 1 and full["total"] > OVERLAP_ABOVE
    traced = start_child(lambda: traced_rerank(work))
    if not overlap:
        peak = child_result(traced)
    bm25_runs = repeat("rank-bm25", lambda: bm25_run(work))
    bm25 = medians(bm25_runs, ("tokenise", "index", "query", "total"))
    if overlap:
        peak = child_result(traced)
    beside = ", beside the traced re-rank on another CPU" if overlap else ""
    profile = in_child(lambda: profile_rerank(work)) if options.profile else ""

    ratio_full = bm25["total"] / full["total"]
    bm25_untokenised = bm25["index"] + bm25["query"]
    ratio_stored = bm25_untokenised / stored["total"] if stored else None
    met = {
        "full": full["total"] < TARGETS["full"],
        "full_stored": bool(stored) and stored["total"] < TARGETS["full"],
        "incremental": increment["total"] < TARGETS["incremental"],
        "memory_traced": peak < TARGETS["memory_mb"],
        "memory_process": rss_rerank < TARGETS["memory_mb"],
    }

    def verdict(key: str) -> str:
        return "met" if met[key] else "NOT met"

    def runs_of(runs: list[dict[str, float]], digits: int = 2) -> str:
        return " / ".join(f"{run['total']:.{digits}f}" for run in runs)

    print()
    print(
        f"matches per full re-rank: {full_runs[0]['count']:,}; "
        f"per incremental batch: {', '.join(str(run['count']) for run in increment_runs)}"
    )
    print(f"{'measure (median of the runs)':<44}{'seconds':>9}  runs  target")
    rows = [
        ("full re-rank: fit + score + matches", full["total"], full_runs, "< 2 s  ", "full"),
        ("  fit", full["fit"], full_runs, "", ""),
        ("  score", full["score"], full_runs, "", ""),
        ("  matches", full["matches"], full_runs, "", ""),
        *(
            [
                (
                    "full re-rank, analyses stored",
                    stored["total"],
                    stored_runs,
                    "< 2 s  ",
                    "full_stored",
                ),
                ("  fit", stored["fit"], stored_runs, "", ""),
                ("  score", stored["score"], stored_runs, "", ""),
                ("  matches", stored["matches"], stored_runs, "", ""),
            ]
            if stored
            else []
        ),
        (
            f"incremental: score {NEW_CALLS} new + matches",
            increment["total"],
            increment_runs,
            "< 0.2 s  ",
            "incremental",
        ),
        (f"rank-bm25: tokenise + index + {PROFILES} queries", bm25["total"], bm25_runs, "", ""),
        ("  tokenise (stems) calls and queries", bm25["tokenise"], bm25_runs, "", ""),
        ("  BM25Okapi index", bm25["index"], bm25_runs, "", ""),
        (f"  get_scores x {PROFILES}", bm25["query"], bm25_runs, "", ""),
    ]
    for label, seconds, runs, target, key in rows:
        target += verdict(key) if key else ""
        print(f"{label:<44}{seconds:>9.3f}  {len(runs):>4}  {target}")
    if overlap:
        print(f"rank-bm25 runs ran{beside}: some 10-15% slower while it ran")
    print(f"ratio rank-bm25 / our full re-rank (both analysing the text): {ratio_full:.2f}x")
    if stored:
        print(
            "ratio rank-bm25 index + queries / our re-rank with analyses stored (neither "
            f"analysing): {ratio_stored:.2f}x"
        )
    print(
        f"memory: tracemalloc peak of one full re-rank {peak:,.0f} MB "
        f"(< 500 MB {verdict('memory_traced')})"
    )
    print(
        f"        ru_maxrss {rss_imports:,.0f} MB after the imports, {rss_loaded:,.0f} MB with "
        f"the work loaded, {rss_rerank:,.0f} MB in a full re-rank process "
        f"(< 500 MB {verdict('memory_process')})"
        + (
            f", {max(run['rss'] for run in stored_runs):,.0f} MB in the one holding the "
            "stored analyses"
            if stored_runs
            else ""
        )
    )
    split = f"fit {full['fit']:.2f} + score {full['score']:.2f} + matches {full['matches']:.2f}"
    print()
    print("README:")
    print(
        f"`benchmarks/matcher_speed.py`: the snapshot's {len(real)} real calls repeated with "
        f"distinct ids to {CALLS:,} calls, {PROFILES} profiles ({len(configured)} configured "
        f"departments + {PROFILES - len(configured)} recombined at run time), "
        f"{len(config.focus_areas)} focus areas, as of {NOW:%Y-%m-%d}; one thread "
        "(BLAS/OpenMP threads 1), each run in a fresh process; median of the runs shown. "
        f"A full re-rank makes {full_runs[0]['count']:,} matches."
    )
    print()
    print("| measure | target | measured (one thread, 2-core shared machine, median) |")
    print("|---|---|---|")
    print(
        f"| full re-rank, {CALLS:,} calls x {PROFILES} profiles | < 2 s | "
        f"{full['total']:.2f} s ({split}; runs {runs_of(full_runs)}) |"
    )
    if stored:
        print(
            f"| the same with the calls' analyses stored (as `eufunds match` loads them) | < 2 s "
            f"| {stored['total']:.2f} s (fit {stored['fit']:.2f} + score {stored['score']:.2f} + "
            f"matches {stored['matches']:.2f}; runs {runs_of(stored_runs)}) |"
        )
    print(
        f"| incremental match of {NEW_CALLS} new calls | < 0.2 s | {increment['total']:.3f} s "
        f"(runs {runs_of(increment_runs, 3)}) |"
    )
    print(
        f"| peak memory of a full re-rank | < 500 MB | {peak:,.0f} MB allocated (tracemalloc "
        f"peak); process {rss_rerank:,.0f} MB ru_maxrss, of which {rss_loaded:,.0f} MB imports "
        "and calls before the re-rank |"
    )
    print(
        f"| rank-bm25 (BM25Okapi) on the same work: tokenise + index + {PROFILES} queries | "
        f"for the ratio | {bm25['total']:.2f} s (runs {runs_of(bm25_runs)}{beside}) = "
        f"{ratio_full:.2f}x our full re-rank"
        + (
            f"; index + queries {bm25_untokenised:.2f} s = {ratio_stored:.1f}x ours with "
            "analyses stored |"
            if stored
            else " |"
        )
    )
    if profile:
        print()
        print(profile)
    summary = {"full": full, "stored": stored, "incremental": increment, "bm25": bm25, "met": met}
    summary["memory_mb"] = {"traced": peak, "rerank_process": rss_rerank, "loaded": rss_loaded}
    print("json:", json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
