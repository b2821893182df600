"""Replayed crawl throughput and peak memory on the real snapshot repeated to ~7,000 calls.

Run: make bench   (or: EUFUNDS_SHARED=../shared .venv/bin/python benchmarks/crawl_throughput.py)

The snapshot's 723 real calls are repeated REPEAT times with distinct identifiers made here
at run time, written as search pages of 100 into a temporary replay folder, and crawled with
the real Scrapy code (child process, middlewares, spider, pipelines, SQLite) into a fresh
database. Reports the median of RUNS runs: calls parsed and stored per second (wall clock,
child process start included) and the crawl child's peak resident memory.
"""

from __future__ import annotations

import copy
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from db import Store  # noqa: E402
from eufunds.config import load_config  # noqa: E402
from eufunds.crawling import CrawlOptions, crawl  # noqa: E402

SHARED = Path(os.environ.get("EUFUNDS_SHARED", REPO.parent / "shared"))
REPEAT = 10
RUNS = 3
PAGE_SIZE = 100


def build_replay(folder: Path) -> int:
    """Write the repeated snapshot as a replay folder; return the number of calls."""
    source = SHARED / "snapshot" / "ft_portal"
    rows = []
    for page in sorted(source.glob("search-page-*.json"), key=lambda p: int(p.stem.split("-")[-1])):
        rows += json.loads(page.read_text(encoding="utf-8"))["results"]
    template = json.loads((source / "search-page-1.json").read_text(encoding="utf-8"))
    repeated = []
    for copy_number in range(REPEAT):
        for row in rows:
            clone = copy.deepcopy(row)
            clone["reference"] = f"{row['reference']}-R{copy_number}"
            metadata = clone["metadata"]
            metadata["identifier"] = [f"{metadata['identifier'][0]}-R{copy_number}"]
            repeated.append(clone)
    target = folder / "ft_portal"
    target.mkdir(parents=True)
    (target / "facet.json").write_bytes((source / "facet.json").read_bytes())
    for start in range(0, len(repeated), PAGE_SIZE):
        page = dict(template, totalResults=len(repeated), pageNumber=start // PAGE_SIZE + 1)
        page["results"] = repeated[start : start + PAGE_SIZE]
        (target / f"search-page-{start // PAGE_SIZE + 1}.json").write_text(json.dumps(page))
    return len(repeated)


def main() -> None:
    config = load_config()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        total = build_replay(folder / "replay")
        rates, stored = [], []
        for run in range(RUNS):
            db_path = folder / f"bench-{run}.db"
            started = time.perf_counter()
            runs = crawl(
                config,
                ["ft_portal"],
                CrawlOptions(db_path, folder / "replay", datetime(2026, 8, 22, 12, tzinfo=UTC)),
            )
            elapsed = time.perf_counter() - started
            assert runs[0].status == "ok", runs[0].errors
            with Store(db_path) as store:
                stored.append(store.count_calls())
            rates.append(total / elapsed)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"calls in replay:        {total}")
    print(f"calls stored per run:   {stored}")
    print(
        f"throughput (median):    {statistics.median(rates):,.0f} calls/s "
        f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})"
    )
    print(f"peak memory (child):    {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
