"""Source health: how each source's recent crawls went, and which ones need a look.

A source is a problem when its last 3 crawls failed, when its last complete crawl found no
calls, or when it found fewer than half its usual number (the median of the runs before).
A replay that does not hold a source (skipped) and an unchanged feed (not modified) say
nothing about its health.
"""

from __future__ import annotations

import statistics

from db import CrawlRun, Source, Store
from db.records import RunStatus, SourceHealth

RECENT_RUNS = 10
FAILURES_FLAGGED = 3


def sources_health(store: Store, sources: tuple[Source, ...]) -> list[SourceHealth]:
    """The health of every enabled source, from its recent crawl runs."""
    return [
        _health(source, store.crawl_runs(source.id, RECENT_RUNS * 2))
        for source in sources
        if source.enabled
    ]


def _health(source: Source, newest_first: list[CrawlRun]) -> SourceHealth:
    runs = [
        run
        for run in newest_first
        if run.status not in (RunStatus.SKIPPED, RunStatus.RUNNING) and not run.not_modified
    ][:RECENT_RUNS]
    succeeded = [run for run in runs if run.status != RunStatus.FAILED]
    failures = next((n for n, run in enumerate(runs) if run.status != RunStatus.FAILED), len(runs))
    errors = [run.errors[0] for run in runs if run.errors]
    return SourceHealth(
        source_id=source.id,
        name=source.name,
        last_success=succeeded[0].finished if succeeded else None,
        recent_items=tuple(run.items_seen for run in runs),
        last_error=errors[0] if errors else "",
        failures_in_a_row=failures,
        problem=_problem(runs, failures),
    )


def _problem(runs: list[CrawlRun], failures: int) -> str:
    """What is wrong with a source, in Swedish; empty when nothing is."""
    if failures >= FAILURES_FLAGGED:
        return f"de senaste {failures} hämtningarna misslyckades"
    complete = [run for run in runs if run.status == RunStatus.OK]
    if not complete:
        return "ingen hämtning har lyckats" if runs else ""
    latest = complete[0]
    if latest.items_seen == 0:
        return "senaste hämtningen gav inga utlysningar"
    before = [run.items_seen for run in complete[1:]]
    usual = statistics.median(before) if before else 0
    if before and latest.items_seen < usual / 2:
        return f"senaste hämtningen gav {latest.items_seen} utlysningar, mot vanligen {usual:g}"
    return ""
