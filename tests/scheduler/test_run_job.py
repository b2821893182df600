"""The scheduled jobs run their step as of now; a busy job lock skips a run instead of failing.

The busy cases are real: a run holds the pipeline lock in a real database, and the real
crawl-and-match and digest steps meet it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from db import Store
from eufunds.joblock import PipelineLock, this_process
from eufunds.pipeline import crawl_and_match, digests_due
from scheduler.jobs import CRAWL_JOB, DIGEST_JOB, SKIPPED, build_scheduler, run_job

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONDAY = datetime(2026, 8, 24, 7, tzinfo=STOCKHOLM)


def test_job_runs_its_step_as_of_the_clock():
    """The step gets the clock's moment and its line is the job's result."""
    seen = []

    def step(now: datetime) -> str:
        seen.append(now)
        return "3 sources crawled"

    assert run_job(CRAWL_JOB, step, clock=lambda: MONDAY) == "3 sources crawled"
    assert seen == [MONDAY]


def test_other_failures_reach_the_scheduler():
    """Anything but a busy lock is raised, so the scheduler logs the job as failed."""

    def step(now: datetime) -> str:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run_job(CRAWL_JOB, step, clock=lambda: MONDAY)


@pytest.fixture
def locked_db(db_path: Path):
    """A database whose pipeline lock another run holds while the test runs."""
    Store(db_path).close()
    with PipelineLock(db_path):
        yield db_path, this_process().describe()


def test_busy_crawl_is_skipped_and_crawls_nothing(locked_db, config, snapshot_dir, caplog):
    """The real crawl step meets the held lock: 'skipped', a warning naming the holder."""
    db_path, holder = locked_db

    def step(now: datetime) -> str:
        return crawl_and_match(config, db_path, now, snapshot_dir).describe()

    with caplog.at_level(logging.WARNING, logger="eufunds.scheduler"):
        assert run_job(CRAWL_JOB, step, clock=lambda: MONDAY) == SKIPPED
    assert [r.getMessage() for r in caplog.records] == [
        f"{CRAWL_JOB} skipped: another run is in progress ({holder})"
    ]
    with Store(db_path) as store:
        assert store.crawl_runs() == []
        assert store.count_calls() == 0


def test_busy_digest_job_as_scheduled_is_skipped(locked_db, config, tmp_path):
    """The digest job the scheduler holds, run while locked, skips and records no digest."""
    db_path, _ = locked_db

    def digest_step(now: datetime) -> str:
        return str(digests_due(config, db_path, now, tmp_path / "outbox", None))

    scheduler = build_scheduler(
        "30 5 * * *",
        "0 7 * * *",
        120,
        lambda now: "not run",
        digest_step,
        scheduler=BackgroundScheduler(timezone=STOCKHOLM),
        clock=lambda: MONDAY,
    )
    assert scheduler.get_job(DIGEST_JOB).func() == SKIPPED
    with Store(db_path) as store:
        assert store.conn.execute("SELECT count(*) FROM digests").fetchone()[0] == 0
    assert not (tmp_path / "outbox").exists()
