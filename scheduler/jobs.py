"""APScheduler 3 jobs: crawl (then match) daily, digests on their weekday, in Swedish time.

The jobs are plain functions of a step (what to do as of a moment, returning one line for
the log); the composition root (eufunds) wires the steps, so this package needs no more
than the database's lock error.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from db import Busy
from db.records import LOCAL_TZ

log = logging.getLogger("eufunds.scheduler")

CRAWL_JOB = "crawl-and-match"
DIGEST_JOB = "digests"
REPORT_JOB = "monthly-report"
SKIPPED = "skipped"
Step = Callable[[datetime], str]


def local_now() -> datetime:
    """Now, in Swedish time."""
    return datetime.now(LOCAL_TZ)


def run_job(job_id: str, step: Step, clock: Callable[[], datetime] = local_now) -> str:
    """Run one job's step as of now; 'skipped' (logged) when another run holds the job lock.

    A busy lock is expected (a manual run, or a long crawl still going): the job waits for
    its next time instead of failing.
    """
    try:
        return step(clock())
    except Busy as exc:
        log.warning("%s skipped: %s", job_id, exc)
        return SKIPPED


def build_scheduler(
    crawl_cron: str,
    digest_cron: str,
    misfire_grace_minutes: int,
    crawl_step: Step,
    digest_step: Step,
    scheduler: BaseScheduler | None = None,
    clock: Callable[[], datetime] = local_now,
    report: tuple[str, Step] | None = None,
) -> BaseScheduler:
    """A scheduler with the two jobs on cron triggers in Swedish time, and management's
    monthly report job when ``report`` gives its cron and step (the step decides whether
    the report is due).

    coalesce: a machine that was off runs a missed job once, not once per missed time;
    misfire_grace_time: how late it may still run; max_instances=1: a job never overlaps
    itself (the steps also take a lock in the database, so two schedulers or a manual run
    never overlap either).
    """
    scheduler = scheduler or BlockingScheduler(timezone=LOCAL_TZ)
    defaults = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": misfire_grace_minutes * 60,
        "replace_existing": True,
    }
    scheduler.add_job(
        functools.partial(run_job, CRAWL_JOB, crawl_step, clock),
        CronTrigger.from_crontab(crawl_cron, timezone=LOCAL_TZ),
        id=CRAWL_JOB,
        name="crawl all sources, then match",
        **defaults,
    )
    scheduler.add_job(
        functools.partial(run_job, DIGEST_JOB, digest_step, clock),
        CronTrigger.from_crontab(digest_cron, timezone=LOCAL_TZ),
        id=DIGEST_JOB,
        name="send the digests due today",
        **defaults,
    )
    if report is not None:
        report_cron, report_step = report
        scheduler.add_job(
            functools.partial(run_job, REPORT_JOB, report_step, clock),
            CronTrigger.from_crontab(report_cron, timezone=LOCAL_TZ),
            id=REPORT_JOB,
            name="send management's monthly report when it is due",
            **defaults,
        )
    scheduler.add_listener(_log_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def _log_event(event) -> None:
    """One log line per job run, failure or miss."""
    if getattr(event, "exception", None):
        log.error("job %s failed: %s", event.job_id, event.exception)
    elif event.code == EVENT_JOB_MISSED:
        log.warning("job %s missed its time %s", event.job_id, event.scheduled_run_time)
    else:
        log.info("job %s done: %s", event.job_id, getattr(event, "retval", ""))


def next_runs(scheduler: BaseScheduler, now: datetime) -> list[tuple[str, str, datetime | None]]:
    """Each job's id, name and next run after ``now`` in Swedish time (None: never again),
    as its trigger computes it, whether or not the scheduler has started."""
    runs = []
    for job in scheduler.get_jobs():
        upcoming = job.trigger.get_next_fire_time(None, now)
        runs.append((job.id, job.name, upcoming.astimezone(LOCAL_TZ) if upcoming else None))
    return runs
