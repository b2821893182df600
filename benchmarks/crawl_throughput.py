"""Replayed crawl throughput and peak memory on the real snapshot repeated to ~7,000 calls.

Run: make bench   (or: EUFUNDS_SHARED=../shared .venv/bin/python benchmarks/crawl_throughput.py)

The snapshot's 723 real calls are repeated REPEAT times with distinct identifiers made here
at run time, written as search pages of 100 into a temporary replay folder, and crawled with
the real Scrapy code (child process, middlewares, spider, pipelines, SQLite) into a fresh
database. Reports the median of RUNS runs: calls parsed and stored per second (wall clock,
child process start included) and the crawl child's peak resident memory (its VmHWM, read
from /proc while it reports progress: the app forks crawl children from a fork server, so
they are not this process's own children and ru_maxrss does not see them). The runs go one
after another in this process. A run that does not end "ok" or stores fewer calls than the
replay holds fails the benchmark.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import harness

from db import CrawlCounts, Store
from eufunds.config import Config, load_config
from eufunds.crawling import CrawlOptions, crawl

REPEAT = 10
RUNS = 3
PAGE_SIZE = 100


def build_replay(folder: Path, repeat: int = REPEAT) -> int:
    """Write the snapshot repeated ``repeat`` times as a replay folder; return the number of
    calls."""
    pages = harness.snapshot_pages()
    rows = []
    for page in pages:
        rows += json.loads(page.read_text(encoding="utf-8"))["results"]
    template = json.loads(pages[0].read_text(encoding="utf-8"))
    repeated = []
    for copy_number in range(repeat):
        for row in rows:
            clone = copy.deepcopy(row)
            clone["reference"] = f"{row['reference']}-R{copy_number}"
            metadata = clone["metadata"]
            metadata["identifier"] = [f"{metadata['identifier'][0]}-R{copy_number}"]
            repeated.append(clone)
    target = folder / "ft_portal"
    target.mkdir(parents=True)
    (target / "facet.json").write_bytes((harness.SNAPSHOT / "facet.json").read_bytes())
    for start in range(0, len(repeated), PAGE_SIZE):
        page = dict(template, totalResults=len(repeated), pageNumber=start // PAGE_SIZE + 1)
        page["results"] = repeated[start : start + PAGE_SIZE]
        (target / f"search-page-{start // PAGE_SIZE + 1}.json").write_text(json.dumps(page))
    return len(repeated)


def child_peak_mb() -> float:
    """The largest peak resident memory (VmHWM, MB) among this process's running children."""
    peaks = [0.0]
    for child in multiprocessing.active_children():
        try:
            status = Path(f"/proc/{child.pid}/status").read_text()
        except OSError:
            continue
        peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if "VmHWM" in line]
    return max(peaks)


def crawl_run(config: Config, folder: Path, total: int, run: int) -> harness.Run:
    """Crawl the replay into a fresh database: seconds (child start included), calls/s, and
    the crawl child's peak memory as it last reported progress (after its last page)."""
    db_path = folder / f"bench-{run}.db"
    options = CrawlOptions(db_path, folder / "replay", harness.SNAPSHOT_DAY)
    peak = [0.0]

    def watch(source_id: str, counts: CrawlCounts) -> None:
        peak[0] = max(peak[0], child_peak_mb())

    started = time.perf_counter()
    crawl_runs = crawl(config, ["ft_portal"], options, watch)
    elapsed = time.perf_counter() - started
    if crawl_runs[0].status != "ok":
        raise SystemExit(
            f"crawl run {run + 1} ended {crawl_runs[0].status}: {crawl_runs[0].errors}"
        )
    with Store(db_path) as store:
        stored = store.count_calls()
    if stored != total:
        raise SystemExit(f"crawl run {run + 1} stored {stored} of the {total} calls replayed")
    return {"total": elapsed, "rate": total / elapsed, "stored": stored, "peak_mb": peak[0]}


def main() -> None:
    config = load_config()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        total = build_replay(folder / "replay")
        print(f"replay: {total:,} calls in {-(-total // PAGE_SIZE)} pages", flush=True)
        runs = harness.repeat(
            "crawl",
            lambda run: crawl_run(config, folder, total, run),
            runs=RUNS,
            fresh_child=False,
        )
    rate = harness.medians(runs, ["rate"])["rate"]
    peak_mb = max(run["peak_mb"] for run in runs)
    print()
    print(
        harness.markdown_table(
            ["measure", "target", f"measured (median of {len(runs)} runs)"],
            [
                [
                    "calls parsed and stored per second",
                    "≥ 1,000",
                    f"{rate:,.0f} (runs {harness.runs_text(runs, 'rate', ',.0f')})",
                ],
                ["peak memory of the crawl process", "< 300 MB", f"{peak_mb:,.0f} MB"],
            ],
        )
    )


if __name__ == "__main__":
    main()
