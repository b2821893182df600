"""The scheduler: two cron jobs in Swedish time that never overlap or pile up.

Schedulers are built and never started; fire times are computed from the triggers with a
frozen `now`, so nothing waits in real time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from eufunds.config import load_config
from scheduler.jobs import CRAWL_JOB, DIGEST_JOB, _log_event, build_scheduler, next_runs

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def crawl_step(now: datetime) -> str:
    """Stands in for the crawl step: says when it ran."""
    return f"crawled as of {now:%Y-%m-%d %H:%M}"


def digest_step(now: datetime) -> str:
    """Stands in for the digest step: says when it ran."""
    return f"digests as of {now:%Y-%m-%d %H:%M}"


def frozen_clock() -> datetime:
    """A Monday morning in Stockholm."""
    return datetime(2026, 8, 24, 7, tzinfo=STOCKHOLM)


@pytest.fixture(scope="module")
def schedule():
    """The schedule settings of the configuration in config/."""
    return load_config().schedule


@pytest.fixture
def scheduler(schedule):
    """The configured scheduler on a BackgroundScheduler that is never started."""
    built = build_scheduler(
        schedule.crawl,
        schedule.digest,
        schedule.misfire_grace_minutes,
        crawl_step,
        digest_step,
        scheduler=BackgroundScheduler(timezone=STOCKHOLM),
        clock=frozen_clock,
    )
    yield built
    assert built.state == STATE_STOPPED


def _fire_times(trigger: CronTrigger, start: datetime, count: int) -> list[datetime]:
    """The next `count` fire times from a frozen start, as APScheduler computes them."""
    times = []
    previous, now = None, start
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, now)
        times.append(previous)
        now = previous + timedelta(seconds=1)
    return times


def test_two_jobs_with_ids(scheduler):
    """Crawl-and-match and digests, under their fixed ids, each running its step as of now."""
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {CRAWL_JOB, DIGEST_JOB}
    assert jobs[CRAWL_JOB].func() == "crawled as of 2026-08-24 07:00"
    assert jobs[DIGEST_JOB].func() == "digests as of 2026-08-24 07:00"


def test_scheduler_is_not_started(scheduler):
    """Building the scheduler starts nothing: the jobs are pending, with no run time yet."""
    assert not scheduler.running
    assert all(job.pending for job in scheduler.get_jobs())


@pytest.mark.parametrize(
    ("job_id", "hour", "minute"), [(CRAWL_JOB, "5", "30"), (DIGEST_JOB, "7", "0")]
)
def test_cron_fields_in_stockholm(scheduler, job_id, hour, minute):
    """Crawl daily at 05.30, digests daily at 07.00, both in Europe/Stockholm."""
    trigger = scheduler.get_job(job_id).trigger
    assert isinstance(trigger, CronTrigger)
    assert trigger.timezone == STOCKHOLM
    fields = {field.name: str(field) for field in trigger.fields}
    assert fields["hour"] == hour
    assert fields["minute"] == minute
    assert fields["second"] == "0"
    assert {fields[name] for name in ("day", "month", "day_of_week")} == {"*"}


@pytest.mark.parametrize("job_id", [CRAWL_JOB, DIGEST_JOB])
def test_jobs_coalesce_and_never_overlap(scheduler, schedule, job_id):
    """Missed runs coalesce into one, one instance at a time, grace time from the config."""
    job = scheduler.get_job(job_id)
    assert job.coalesce is True
    assert job.max_instances == 1
    assert job.misfire_grace_time == schedule.misfire_grace_minutes * 60


def test_grace_time_follows_the_argument():
    """misfire_grace_minutes becomes the jobs' misfire_grace_time in seconds."""
    built = build_scheduler(
        "30 5 * * *",
        "0 7 * * mon",
        17,
        crawl_step,
        digest_step,
        scheduler=BackgroundScheduler(timezone=STOCKHOLM),
    )
    assert {job.misfire_grace_time for job in built.get_jobs()} == {17 * 60}


def test_default_scheduler_is_blocking_in_the_zone():
    """Without a scheduler given, a BlockingScheduler in Swedish time (not started)."""
    built = build_scheduler("30 5 * * *", "0 7 * * *", 120, crawl_step, digest_step)
    assert isinstance(built, BlockingScheduler)
    assert built.timezone == STOCKHOLM
    assert not built.running


def test_crawl_stays_at_0530_when_clocks_go_back(scheduler):
    """Across 25 October 2026 the crawl runs at 05.30 local each day; that day has 25 hours."""
    trigger = scheduler.get_job(CRAWL_JOB).trigger
    start = datetime(2026, 10, 23, 12, tzinfo=STOCKHOLM)
    times = _fire_times(trigger, start, 4)
    local = [t.astimezone(STOCKHOLM) for t in times]
    assert [(t.day, t.hour, t.minute) for t in local] == [
        (24, 5, 30),
        (25, 5, 30),
        (26, 5, 30),
        (27, 5, 30),
    ]
    assert [t.utcoffset() for t in local] == [timedelta(hours=h) for h in (2, 1, 1, 1)]
    utc = [t.astimezone(UTC) for t in times]
    assert [b - a for a, b in zip(utc, utc[1:], strict=False)] == [
        timedelta(hours=h) for h in (25, 24, 24)
    ]


def test_crawl_stays_at_0530_when_clocks_go_forward(scheduler):
    """Across 29 March 2026 the crawl runs at 05.30 local each day; that day has 23 hours."""
    trigger = scheduler.get_job(CRAWL_JOB).trigger
    start = datetime(2026, 3, 27, 12, tzinfo=STOCKHOLM)
    times = _fire_times(trigger, start, 3)
    local = [t.astimezone(STOCKHOLM) for t in times]
    assert [(t.day, t.hour, t.minute) for t in local] == [(28, 5, 30), (29, 5, 30), (30, 5, 30)]
    assert [t.astimezone(UTC).hour for t in times] == [4, 3, 3]
    utc = [t.astimezone(UTC) for t in times]
    assert [b - a for a, b in zip(utc, utc[1:], strict=False)] == [
        timedelta(hours=23),
        timedelta(hours=24),
    ]


def test_night_of_the_change_fires_once(scheduler):
    """Asked in the repeated hour of 25 October, the next crawl is 05.30 the same morning."""
    trigger = scheduler.get_job(CRAWL_JOB).trigger
    repeated = datetime(2026, 10, 25, 2, 30, tzinfo=STOCKHOLM, fold=1)
    assert trigger.get_next_fire_time(None, repeated) == datetime(2026, 10, 25, 4, 30, tzinfo=UTC)


def test_monday_digest_after_the_change_is_in_the_new_week(scheduler):
    """The digest job on Monday 26 October fires at 07.00 CET, which is 06.00 UTC."""
    trigger = scheduler.get_job(DIGEST_JOB).trigger
    sunday_night = datetime(2026, 10, 25, 23, 30, tzinfo=STOCKHOLM)
    fire = trigger.get_next_fire_time(None, sunday_night)
    assert fire == datetime(2026, 10, 26, 6, tzinfo=UTC)
    assert fire.astimezone(STOCKHOLM).isocalendar()[:2] == (2026, 44)


def test_listener_logs_each_outcome(caplog):
    """A finished job logs its result; a failed one logs its error."""
    when = datetime(2026, 8, 24, 7, tzinfo=STOCKHOLM)
    done = JobExecutionEvent(EVENT_JOB_EXECUTED, DIGEST_JOB, "default", when, retval="social: sent")
    failed = JobExecutionEvent(
        EVENT_JOB_ERROR, CRAWL_JOB, "default", when, exception=RuntimeError("disk full")
    )
    with caplog.at_level(logging.INFO, logger="eufunds.scheduler"):
        _log_event(done)
        _log_event(failed)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", f"job {DIGEST_JOB} done: social: sent"),
        ("ERROR", f"job {CRAWL_JOB} failed: disk full"),
    ]


def test_next_runs_in_swedish_time(scheduler):
    """Before it starts, each job's next run is known, in Swedish time: on a Saturday noon in
    winter, the crawl runs next at 05.30 on Sunday and the digests at 07.00."""
    now = datetime(2026, 11, 28, 12, tzinfo=STOCKHOLM)
    runs = {job_id: upcoming for job_id, _, upcoming in next_runs(scheduler, now)}
    assert runs == {
        CRAWL_JOB: datetime(2026, 11, 29, 5, 30, tzinfo=STOCKHOLM),
        DIGEST_JOB: datetime(2026, 11, 29, 7, 0, tzinfo=STOCKHOLM),
    }
    assert all(upcoming.utcoffset() == timedelta(hours=1) for upcoming in runs.values())
