"""What the benchmarks share: set-up, fresh child processes, repeated runs, medians, memory.

Importing this module puts the repository on ``sys.path`` (the benchmarks run as scripts, from
any folder), so import it before the project's packages. SHARED is the shared data folder:
EUFUNDS_SHARED, else ``shared`` beside the repository.

- A measure can run in a child forked from the benchmark (``in_child``), so it starts with what
  the parent has loaded and leaves nothing behind for the next run; a child that raises gives
  its traceback, one that dies its exit code, and either makes the benchmark fail.
- ``repeat`` runs a measure up to ``runs`` times and stops early, after ``min_runs``, once the
  runs have taken ``budget`` seconds; ``medians`` reduces the runs per key.
- ``peak_rss_mb``: ru_maxrss of this process (in a measure's child: of that child);
  ``current_rss_mb`` its VmRSS now.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import os
import resource
import statistics
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SHARED = Path(os.environ.get("EUFUNDS_SHARED", REPO.parent / "shared"))
SNAPSHOT = SHARED / "snapshot" / "ft_portal"
SNAPSHOT_DAY = datetime(2026, 8, 22, 12, tzinfo=UTC)  # the snapshot's crawl day: all calls open

Run = dict[str, float]


def page_number(path: Path) -> int:
    """The number in a saved search page's name (``search-page-<n>.json``)."""
    return int(path.stem.split("-")[-1])


def snapshot_pages() -> list[Path]:
    """The snapshot's saved search pages, in page order."""
    pages = sorted(SNAPSHOT.glob("search-page-*.json"), key=page_number)
    if not pages:
        raise SystemExit(f"no search pages in {SNAPSHOT} (set EUFUNDS_SHARED)")
    return pages


# Children ----------------------------------------------------------------------


class Child(NamedTuple):
    """A forked child running a function, and the pipe its result comes back on."""

    process: BaseProcess
    receiver: Connection


def start_child(function: Callable[[], Any]) -> Child:
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
    return Child(process, receiver)


def child_result(child: Child) -> Any:
    """What a child's function returned; RuntimeError with its traceback if it raised."""
    try:
        status, value = child.receiver.recv()
    except EOFError:
        child.process.join()
        raise RuntimeError(f"benchmark child died (exit code {child.process.exitcode})") from None
    child.process.join()
    if status != "ok":
        raise RuntimeError(f"benchmark child failed:\n{value}")
    return value


def in_child(function: Callable[[], Any]) -> Any:
    """Run ``function`` in a fresh forked child and return what it returned."""
    return child_result(start_child(function))


# Runs --------------------------------------------------------------------------


def repeat(
    what: str,
    measure: Callable[[int], Run],
    *,
    runs: int,
    min_runs: int | None = None,
    budget: float = math.inf,
    fresh_child: bool = True,
) -> list[Run]:
    """Up to ``runs`` runs of ``measure(run_number)``; after ``min_runs``, only within ``budget`` s.

    Each run goes in a fresh forked child unless ``fresh_child`` is false; ``measure`` returns
    its seconds as ``total``, which is printed as each run ends and counts against the budget.
    """
    results: list[Run] = []
    while len(results) < runs:
        enough = len(results) >= (runs if min_runs is None else min_runs)
        if enough and sum(result["total"] for result in results) > budget:
            break
        run = functools.partial(measure, len(results))
        results.append(in_child(run) if fresh_child else run())
        print(f"  {what} run {len(results)}: {results[-1]['total']:.3f} s", flush=True)
    return results


def medians(runs: Sequence[Run], keys: Iterable[str]) -> Run:
    """The median over the runs of each key."""
    return {key: statistics.median(run[key] for run in runs) for key in keys}


def peak_rss_mb() -> float:
    """Peak resident memory (ru_maxrss, MB) of this process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux counts it in KiB


def current_rss_mb() -> float:
    """Resident memory (VmRSS, MB) of this process now."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mb()


# Printing ----------------------------------------------------------------------


def runs_text(runs: Sequence[Run], key: str = "total", spec: str = ".2f") -> str:
    """Each run's ``key`` formatted with ``spec``, as ``a / b / c``."""
    return " / ".join(format(run[key], spec) for run in runs)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table, its columns padded so that it reads as well in a terminal."""
    widths = [
        max(3, *(len(row[column]) for row in (header, *rows))) for column in range(len(header))
    ]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(map(str.ljust, cells, widths)) + " |"

    return "\n".join(line(cells) for cells in (header, ["-" * width for width in widths], *rows))
