"""APScheduler 3 jobs: crawl (then match) daily, digests on their weekday, in Swedish time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger("eufunds.scheduler")

CRAWL_JOB = "crawl-and-match"
DIGEST_JOB = "digests"


def build_scheduler(
    timezone: str,
    crawl_cron: str,
    digest_cron: str,
    misfire_grace_minutes: int,
    crawl_and_match: Callable[[], object],
    send_digests: Callable[[], object],
    scheduler: BaseScheduler | None = None,
) -> BaseScheduler:
    """A scheduler with the two jobs on cron triggers in ``timezone``.

    coalesce: a machine that was off runs a missed job once, not once per missed time;
    misfire_grace_time: how late it may still run; max_instances=1: a job never overlaps
    itself (the jobs also take a lock in the database, so two schedulers or a manual run
    never overlap either).
    """
    zone = ZoneInfo(timezone)
    scheduler = scheduler or BlockingScheduler(timezone=zone)
    defaults = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": misfire_grace_minutes * 60,
        "replace_existing": True,
    }
    scheduler.add_job(
        crawl_and_match,
        CronTrigger.from_crontab(crawl_cron, timezone=zone),
        id=CRAWL_JOB,
        name="crawl all sources, then match",
        **defaults,
    )
    scheduler.add_job(
        send_digests,
        CronTrigger.from_crontab(digest_cron, timezone=zone),
        id=DIGEST_JOB,
        name="send the digests due today",
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
