"""`eufunds run-once` over a 20,000-call replay, first and second (unchanged) run, and the
database size per 1,000 calls.

Run: make bench   (or: EUFUNDS_SHARED=../shared .venv/bin/python benchmarks/recrawl.py)

The snapshot's 723 real calls repeated REPEAT times with distinct identifiers made at run time
(benchmarks/crawl_throughput.py) are replayed by the `eufunds` command as a user runs it
(whole process, crawl child, match, digests to a temporary outbox) into a fresh database:
once (everything new), then RUNS more times (nothing changed: the runs the scheduler makes
every day). Reported: the first run, the median of the unchanged ones and their ratio. Sizes:
the database file after `eufunds crawl` alone (the calls: what the issue measured), and after
the run-once runs (with the matcher's stored analyses and the matches), per 1,000 calls, with
the share of the largest parts (SQLite's dbstat).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import crawl_throughput
import harness

REPEAT = 28
RUNS = 3
TARGET_SECOND_RUN = 5.0
TARGET_MB_PER_1000 = 4.0
EUFUNDS = [str(Path(sys.executable).parent / "eufunds")]
AS_OF = ["--as-of", "2026-08-22"]


def run(arguments: list[str], db_path: Path, outbox: Path) -> float:
    """Seconds one `eufunds` process takes; it must succeed."""
    env = {
        **os.environ,
        "PYTHONPATH": str(harness.REPO),
        "EUFUNDS_DB": str(db_path),
        "EUFUNDS_OUTBOX": str(outbox),
    }
    started = time.perf_counter()
    subprocess.run([*EUFUNDS, *arguments], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def size_parts(db_path: Path) -> tuple[float, dict[str, float]]:
    """The file's size in MB, and the share of the largest parts of it."""
    with closing(sqlite3.connect(db_path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        raw = connection.execute("SELECT sum(length(raw)) FROM calls").fetchone()[0] or 0
    total = db_path.stat().st_size
    parts = {name: size / total for name, size in rows}
    shares = {
        "calls (raw answers)": raw / total,
        "calls (the rest)": parts.get("calls", 0) - raw / total,
        "full-text index": sum(v for k, v in parts.items() if k.startswith("calls_fts")),
        "stored analyses": parts.get("call_analyses", 0),
        "matches, scored calls": parts.get("matches", 0) + parts.get("scored_calls", 0),
    }
    return total / 1e6, shares


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        replay = folder / "replay"
        calls = crawl_throughput.build_replay(replay, REPEAT)
        print(f"replay: {calls:,} calls", flush=True)
        crawled = folder / "crawled.db"
        run(["crawl", "--replay", str(replay)], crawled, folder / "out")
        crawled_mb, crawled_parts = size_parts(crawled)
        db_path = folder / "run-once.db"
        first = run(["run-once", "--replay", str(replay), *AS_OF], db_path, folder / "out")
        print(f"first run: {first:.1f} s", flush=True)
        again = [
            run(["run-once", "--replay", str(replay), *AS_OF], db_path, folder / "out")
            for _ in range(RUNS)
        ]
        matched_mb, matched_parts = size_parts(db_path)
    second = statistics.median(again)
    per_1000 = 1000 / calls
    print(f"\n{os.cpu_count()} cores\n")
    print(
        harness.markdown_table(
            ["measure", "target", "measured"],
            [
                ["run-once, first run (all new)", "–", f"{first:.1f} s"],
                [
                    f"run-once, unchanged run (median of {RUNS})",
                    f"< {TARGET_SECOND_RUN:.0f} s",
                    f"{second:.1f} s ({' / '.join(f'{t:.1f}' for t in again)}; "
                    f"{second / first:.2f}x the first)",
                ],
                [
                    "database after the crawl, per 1,000 calls",
                    f"< {TARGET_MB_PER_1000:.0f} MB",
                    f"{crawled_mb * per_1000:.2f} MB ({crawled_mb:.0f} MB)",
                ],
                [
                    "database after run-once (analyses, matches), per 1,000 calls",
                    "–",
                    f"{matched_mb * per_1000:.2f} MB ({matched_mb:.0f} MB)",
                ],
            ],
        )
    )
    print()
    print(
        harness.markdown_table(
            ["part of the database", "after the crawl", "after run-once"],
            [
                [name, f"{crawled_parts[name]:.0%}", f"{matched_parts[name]:.0%}"]
                for name in crawled_parts
            ],
        )
    )


if __name__ == "__main__":
    main()
