"""The main job: crawl -> match -> digests, under one lock so runs never overlap."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from db import CrawlRun, Store
from eufunds.config import Config
from eufunds.crawling import CrawlOptions, crawl
from eufunds.digests import DigestOutcome, send_digests
from eufunds.joblock import PipelineLock
from eufunds.matching import MatchOutcome, run_match
from notifier.send import SmtpSettings


@dataclass
class RunSummary:
    """What one run of the main job did."""

    crawl_runs: list[CrawlRun] = field(default_factory=list)
    match: MatchOutcome | None = None
    digests: list[DigestOutcome] = field(default_factory=list)
    calls_stored: int = 0
    matches_per_department: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for the scheduler's log: sources crawled, matches stored."""
        stored = self.match.run.matches_stored if self.match else 0
        return f"{len(self.crawl_runs)} sources crawled, {stored} matches stored"


def describe_digests(outcomes: list[DigestOutcome]) -> str:
    """One line for the scheduler's log: each department's digest status."""
    return ", ".join(f"{o.department_id}: {o.status}" for o in outcomes) or "none due today"


def _crawl_then_match(
    config: Config, db_path: Path, now: datetime, replay: Path | None
) -> RunSummary:
    """Crawl every enabled source, then match what is new or changed (lock held by caller)."""
    summary = RunSummary()
    summary.crawl_runs = crawl(config, [], CrawlOptions(db_path, replay, now))
    with Store(db_path) as store:
        summary.match = run_match(store, config, now)
    return summary


def crawl_and_match(
    config: Config, db_path: Path, now: datetime, replay: Path | None = None
) -> RunSummary:
    """Crawl every enabled source, then match what is new or changed."""
    with PipelineLock(db_path):
        return _crawl_then_match(config, db_path, now, replay)


def digests_due(
    config: Config, db_path: Path, now: datetime, outbox: Path, smtp: SmtpSettings | None
) -> list[DigestOutcome]:
    """Send this week's digests to the departments whose digest weekday has come."""
    with PipelineLock(db_path), Store(db_path) as store:
        store.sync_config(config.sources, config.departments, config.focus_areas, now)
        return send_digests(store, config, now, outbox, smtp, due_by_weekday=True)


def run_once(
    config: Config,
    db_path: Path,
    now: datetime,
    outbox: Path,
    smtp: SmtpSettings | None,
    replay: Path | None = None,
    dry_run: bool = False,
    all_departments: bool = False,
) -> RunSummary:
    """Crawl -> match -> digests for every department whose digest weekday has come this
    week (or every one, with ``all_departments``) and that has not had this week's."""
    with PipelineLock(db_path):
        summary = _crawl_then_match(config, db_path, now, replay)
        with Store(db_path) as store:
            summary.digests = send_digests(
                store,
                config,
                now,
                outbox,
                smtp,
                dry_run=dry_run,
                due_by_weekday=not all_departments,
            )
            summary.calls_stored = store.count_calls()
            counts = Counter(m.department_id for m in store.matches())
            summary.matches_per_department = {d.id: counts[d.id] for d in config.departments}
        return summary
