"""The `eufunds` command: a thin layer over the library, one clear line per expected error.

Start-up stays light: what a command does (Scrapy, the matcher with numpy and scipy, the
digest templates, the scheduler, pandas) is imported inside the command, so `--help` and
`config check` load none of it (tests/eufunds/test_startup.py).
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path

import click

from db.records import DIGEST_PROBLEMS, LOCAL_TZ, RunStatus
from eufunds import views
from eufunds.browse import calls_group, config_group, runs_command, sources_command
from eufunds.config import Config
from eufunds.crawling import CrawlOptions, crawl, start_crawl_server
from eufunds.joblock import clear_lock, lock_state
from eufunds.joblock import describe as describe_holder
from eufunds.learncli import evaluate_command, train_command
from eufunds.matching import explain, run_match
from eufunds.options import (
    clear_errors,
    data_date_note,
    job_lock,
    open_store,
    prepare_store,
    profiled,
    run_moment,
    smtp_settings,
    with_as_of,
    with_config,
    with_db,
    with_outbox,
    with_replay,
)
from eufunds.profiles import effective_config
from eufunds.reportcli import release_report_command, report_command
from eufunds.webcli import serve_command, users_group


@click.group()
@click.version_option(package_name="eufunds")
def main() -> None:
    """Track EU and national funding calls and match them to departments.

    Example: eufunds crawl --replay ../shared/snapshot
    """


@main.command("crawl")
@click.argument("sources", nargs=-1)
@with_replay
@with_db
@with_config
def crawl_command(sources: tuple[str, ...], replay: Path | None, db_path: Path, config: Config):
    """Crawl SOURCES (default: every enabled source) into the database.

    Example: eufunds crawl ft_portal --replay ../shared/snapshot
    """
    with job_lock(db_path), views.CrawlProgress() as progress:
        runs = crawl(config, list(sources), CrawlOptions(db_path, replay), progress.show)
    views.console().print(views.runs_table("Crawl", runs, history=False))
    with open_store(db_path) as store:
        click.echo(f"{store.count_calls()} calls stored in {db_path}")
    for run in runs:
        if run.status != RunStatus.OK:
            for message in run.errors[:5]:
                click.echo(f"{run.source_id}: {message}", err=True)
    crawled = [run for run in runs if run.status != RunStatus.SKIPPED]
    failed = [run.source_id for run in crawled if run.status == RunStatus.FAILED]
    if crawled and len(failed) == len(crawled):
        sys.exit(1)
    if failed:
        click.echo(f"warning: {', '.join(failed)} failed; the other sources were read", err=True)


@main.command("match")
@click.option("--full", is_flag=True, help="Re-score every call, not only new and changed ones.")
@with_as_of
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Matches shown per department.",
)
@with_db
@with_config
def match_command(full: bool, as_of: str | None, top: int, db_path: Path, config: Config):
    """Match new and changed calls to every department and store the matches with reasons.

    Example: eufunds match --as-of 2026-08-22
    """
    now = run_moment(as_of)
    with job_lock(db_path), open_store(db_path) as store:
        config = effective_config(config, store, now)
        outcome = run_match(store, config, now, full=full)
        stored = store.matches()
        calls = store.calls_by_id(sorted({m.call_id for m in stored}))
    run = outcome.run
    click.echo(
        f"{run.mode} match as of {now:%Y-%m-%d}: {outcome.calls_considered} open calls, "
        f"{run.calls_scored} new or changed scored, "
        f"{len(run.departments_rescored)} profiles re-scored, {run.matches_stored} matches stored"
    )
    if not top:
        return
    titles = {call_id: call.title for call_id, call in calls.items()}
    out = views.console()
    for department in config.departments:
        mine = [m for m in stored if m.department_id == department.id]
        out.print(views.department_matches(department, mine, titles, top))


@main.command("explain")
@click.argument("call_id")
@click.option("--department", "department_id", required=True, help="Department id.")
@with_as_of
@with_db
@with_config
def explain_command(
    call_id: str, department_id: str, as_of: str | None, db_path: Path, config: Config
):
    """Show why a call scored as it did for a department.

    Example: eufunds explain ft_portal/LIFE-2026-SAP-CLIMA-CCA --department miljo-och-halsa
    --as-of 2026-08-22
    """
    now = run_moment(as_of)
    with open_store(db_path, create=False) as store:
        config = effective_config(config, store, now, seed=False)
        note = data_date_note(store.newest_sighting(), now, as_of)
        try:
            details, rank, total = explain(store, config, call_id, department_id, now)
        except LookupError as exc:
            raise click.ClickException(str(exc.args[0])) from None
    if note:
        click.echo(note, err=True)
    out = views.console()
    out.print(f"[bold]{details.call.title}[/bold] ({details.call.id})", highlight=False)
    out.print(f"for {details.department.name} ({details.department.id})", highlight=False)
    for line in views.explanation_lines(details, rank, total, config.matching.focus_weight):
        click.echo(line)
    for table in views.explanation_tables(details):
        out.print(table)


def _report_problems(outcomes: list) -> None:
    """Name every digest that was not delivered (or not recorded) on stderr; exit 1 if any."""
    problems = [o for o in outcomes if o.status in DIGEST_PROBLEMS]
    for o in problems:
        click.echo(f"{o.department_id}: {o.error}", err=True)
    if problems:
        sys.exit(1)


@main.command("digest")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write the digests to the outbox and record nothing; never send.",
)
@click.option(
    "--preview",
    is_flag=True,
    help="Write this week's digest as it is or would be, even where it was sent already "
    "(a dry run: nothing sent or recorded).",
)
@with_as_of
@click.option("--department", "department_ids", multiple=True, help="Only these departments.")
@click.option(
    "--retry",
    "retry_ids",
    multiple=True,
    metavar="DEPARTMENT",
    help="Send again this department's digest of the week that a stopped run left stuck "
    "(check the mail server's log first: it may have gone out).",
)
@with_outbox
@with_db
@with_config
def digest_command(
    dry_run: bool,
    preview: bool,
    as_of: str | None,
    department_ids: tuple[str, ...],
    retry_ids: tuple[str, ...],
    outbox: Path,
    db_path: Path,
    config: Config,
):
    """Send this week's digest to every department that has not had it (once per ISO week).

    Without EUFUNDS_SMTP_HOST the digests are written as .eml files to the outbox. Dry runs
    and previews write preview-<week>-<department>.eml there.

    Example: eufunds digest --preview --department social --as-of 2026-08-22
    """
    from eufunds.digests import send_digests
    from notifier.render import iso_week

    if (dry_run or preview) and retry_ids:
        raise click.UsageError("--retry sends a digest again; it cannot be part of a dry run")
    known = [d.id for d in config.departments]
    unknown = sorted(set(department_ids + retry_ids) - set(known))
    if unknown:
        raise click.ClickException(
            f"unknown department: {', '.join(unknown)} (known: {', '.join(known)})"
        )
    now = run_moment(as_of)
    smtp = smtp_settings(dry_run)
    with job_lock(db_path), open_store(db_path) as store:
        config = effective_config(config, store, now)
        store.sync_config(config.sources, config.departments, config.focus_areas, now)
        week = iso_week(now)
        for department_id in retry_ids:
            reason = "sent again on request (eufunds digest --retry)"
            if not store.release_stuck_digest(department_id, week, reason):
                raise click.ClickException(f"no stuck digest of {department_id} in {week}")
        outcomes = send_digests(
            store,
            config,
            now,
            outbox,
            smtp,
            dry_run=dry_run,
            department_ids=list(department_ids) or None,
            preview=preview,
        )
    views.console().print(views.digests_table(outcomes))
    _report_problems(outcomes)


@main.command("run-once")
@with_as_of
@with_replay
@click.option("--dry-run", is_flag=True, help="Digests to the outbox only, recorded nowhere.")
@click.option(
    "--all-departments",
    is_flag=True,
    help="Digests for every department, not only those whose digest weekday has come.",
)
@with_outbox
@with_db
@with_config
def run_once_command(
    as_of: str | None,
    replay: Path | None,
    dry_run: bool,
    all_departments: bool,
    outbox: Path,
    db_path: Path,
    config: Config,
):
    """Run the main job now: crawl -> match -> digests (for the departments whose digest
    weekday has come this week, as the scheduler does, unless --all-departments).

    Example: eufunds run-once --replay ../shared/snapshot --as-of 2026-08-22
    """
    from eufunds.pipeline import run_once

    start_crawl_server()
    now = run_moment(as_of)
    smtp = smtp_settings(dry_run)
    config = profiled(config, db_path, now)
    with clear_errors():
        summary = run_once(
            config,
            db_path,
            now,
            outbox,
            smtp,
            replay=replay,
            dry_run=dry_run,
            all_departments=all_departments,
        )
    out = views.console()
    out.print(views.runs_table("Crawl", summary.crawl_runs, history=False))
    click.echo(f"calls stored: {summary.calls_stored}")
    counts = summary.matches_per_department
    out.print(views.match_counts(f"Matches as of {now:%Y-%m-%d}", config.departments, counts))
    out.print(views.digests_table(summary.digests))
    written = [o for o in summary.digests if o.path]
    click.echo(views.delivery_line(summary.digests, len(config.departments)))
    if written:
        click.echo(f"open one: {written[0].path}")
    _report_problems(summary.digests)


@main.command("schedule")
@with_replay
@with_outbox
@with_db
@with_config
def schedule_command(replay: Path | None, outbox: Path, db_path: Path, config: Config):
    """Run the jobs on their cron times in the foreground (crawl + match daily, digests weekly,
    management's monthly report when [management] names recipients).

    Example: eufunds schedule --db /srv/eufunds/eufunds.db
    """
    from eufunds.monthly_report import send_monthly_report
    from eufunds.pipeline import crawl_and_match, describe_digests, digests_due
    from scheduler.jobs import build_scheduler, next_runs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    smtp = smtp_settings(False)
    prepare_store(db_path)

    # Each run reads the profiles as they are then (the web app may have saved new ones).
    def crawl_step(now: datetime) -> str:
        return crawl_and_match(profiled(config, db_path, now), db_path, now, replay).describe()

    def digest_step(now: datetime) -> str:
        current = profiled(config, db_path, now)
        return describe_digests(digests_due(current, db_path, now, outbox, smtp))

    def report_step(now: datetime) -> str:
        current = profiled(config, db_path, now)
        with open_store(db_path) as store:
            return send_monthly_report(store, current, now, outbox, smtp).describe()

    schedule = config.schedule
    report = (schedule.report, report_step) if config.management.recipients else None
    scheduler = build_scheduler(
        schedule.crawl,
        schedule.digest,
        schedule.misfire_grace_minutes,
        crawl_step,
        digest_step,
        report=report,
    )
    for job_id, name, upcoming in next_runs(scheduler, datetime.now(LOCAL_TZ)):
        when = f"{views.local(upcoming)} (Europe/Stockholm)" if upcoming else "never"
        click.echo(f"{job_id} ({name}): next run {when}")
    click.echo("running; stop with Ctrl+C")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("stopped")


@main.command("lock")
@click.option("--clear", is_flag=True, help="Remove the lock if its holder is gone.")
@click.option(
    "--force", is_flag=True, help="With --clear: remove it even if its holder may still run."
)
@with_db
def lock_command(clear: bool, force: bool, db_path: Path):
    """Show who holds the job lock, and clear a lock whose holder is gone.

    A lock left by a process that died is taken over by the next run anyway; --force is for
    a holder on another host that is known to be gone.

    Example: eufunds lock --clear
    """
    with clear_errors():
        held, gone = lock_state(db_path)
    if held is None:
        click.echo("the job lock is free")
        return
    state = "is gone" if gone else "may still be running (here or on another host)"
    click.echo(
        f"held by {describe_holder(held)} since {views.local(held.acquired_at)} "
        f"(expires {views.local(held.expires_at)}); the holder {state}"
    )
    if not clear:
        return
    if not (gone or force):
        raise click.ClickException(
            "not cleared: the holder may still be running; stop it, or use --clear --force"
        )
    with clear_errors():
        cleared = clear_lock(db_path, held)
    if not cleared:
        raise click.ClickException("not cleared: the lock changed hands meanwhile")
    click.echo("lock cleared")


main.add_command(calls_group)
main.add_command(evaluate_command)
main.add_command(train_command)
main.add_command(serve_command)
main.add_command(users_group)
main.add_command(sources_command)
main.add_command(runs_command)
main.add_command(config_group)
main.add_command(report_command)
main.add_command(release_report_command)
