"""The `eufunds` command: a thin layer over the library, one clear line per expected error."""

from __future__ import annotations

import csv
import functools
import json
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from db import Call, CrawlRun, Store, StoreError
from eufunds.config import Config, ConfigError, load_config
from eufunds.crawling import CrawlOptions, crawl
from eufunds.digests import DigestOutcome, send_digests
from eufunds.matching import evaluate, explain, read_labelled_calls, run_match
from eufunds.pipeline import Busy, PipelineLock, crawl_and_match, digests_due, run_once
from matcher.evaluation import mean
from notifier.render import LOCAL_TZ
from notifier.send import SendError, smtp_settings_from_env

DEFAULT_DB = Path("var/eufunds.db")


class ConfigProblem(click.ClickException):
    """A configuration error: one line, exit code 2."""

    exit_code = 2


def with_db(command):
    """Add --db (envvar EUFUNDS_DB) to a command."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="EUFUNDS_DB",
        default=DEFAULT_DB,
        show_default=True,
        help="SQLite database file (created and migrated on first use).",
    )(command)


def with_replay(command):
    """Add --replay (envvar EUFUNDS_REPLAY) to a command."""
    return click.option(
        "--replay",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        envvar="EUFUNDS_REPLAY",
        default=None,
        help="Answer the crawler's requests from saved files in DIR/<source id>/ "
        "instead of the network.",
    )(command)


def with_as_of(command):
    """Add --as-of DATE to a command: deadlines, weeks and 'closing soon' are judged then."""
    return click.option(
        "--as-of",
        "as_of",
        help="Run as of this date (YYYY-MM-DD): deadlines, ISO weeks and 'closing soon' are "
        "judged against it.",
    )(command)


def with_config(command):
    """Add --config (envvar EUFUNDS_CONFIG) to a command and load it as `config`."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="EUFUNDS_CONFIG",
        default=None,
        help="Configuration folder (default: the embedded config/ for Jönköping).",
    )
    @functools.wraps(command)
    def wrapper(*args, config_path: Path | None, **kwargs):
        return command(*args, config=_load(config_path), **kwargs)

    return wrapper


def _load(config_path: Path | None) -> Config:
    try:
        return load_config(config_path)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from None


def _open_store(db_path: Path) -> Store:
    try:
        return Store(db_path)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def _job_lock(db_path: Path):
    """Hold the job lock, so a manual command never overlaps a scheduled run."""
    _open_store(db_path).close()
    try:
        with PipelineLock(db_path):
            yield
    except Busy as exc:
        raise click.ClickException(str(exc)) from None


def _local_date(text: str | None) -> datetime | None:
    """Parse YYYY-MM-DD as midnight in Europe/Stockholm."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        raise click.BadParameter(f"expected a date like 2026-09-30, got {text!r}") from None


def _console(stderr: bool = False) -> Console:
    """A console; when output goes to a file or pipe, wide enough that no value is cut."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 160)


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


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
    console = _console(stderr=True)
    try:
        _open_store(db_path).close()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[items]} calls, {task.fields[errors]} errors"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            tasks: dict[str, int] = {}

            def show(source_id: str, counts: dict) -> None:
                if source_id not in tasks:
                    tasks[source_id] = progress.add_task(source_id, total=None, items=0, errors=0)
                progress.update(
                    tasks[source_id],
                    completed=counts["pages"],
                    total=counts["pages_expected"],
                    items=counts["items_seen"],
                    errors=counts["error_count"],
                )

            with _job_lock(db_path):
                runs = crawl(config, list(sources), CrawlOptions(db_path, replay), show)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from None
    table = _runs_table("Crawl", runs, history=False)
    _console().print(table)
    with _open_store(db_path) as store:
        click.echo(f"{store.count_calls()} calls stored in {db_path}")
    failed = [run for run in runs if run.status != "ok"]
    for run in failed:
        for message in run.errors[: min(run.error_count, 5)]:
            click.echo(f"{run.source_id}: {message}", err=True)
    if any(run.status == "failed" for run in runs):
        sys.exit(1)


def _runs_table(title: str, runs: list[CrawlRun], history: bool) -> Table:
    """A table of crawl runs; with history, each run's id and start time too."""
    table = Table(title=title)
    labels = ("id", "started") if history else ()
    for column in (*labels, "source", "status"):
        table.add_column(column, no_wrap=True)
    for column in ("pages", "items", "new", "changed", "invalid", "errors", "seconds"):
        table.add_column(column, justify="right")
    for run in runs:
        seconds = (run.finished - run.started).total_seconds() if run.finished else 0
        first = (str(run.id), _local(run.started)) if history else ()
        table.add_row(
            *first,
            run.source_id,
            run.status,
            str(run.pages),
            str(run.items_seen),
            str(run.items_new),
            str(run.items_changed),
            str(run.items_invalid),
            str(run.error_count),
            f"{seconds:.1f}",
        )
    return table


def _as_of(text: str | None) -> datetime:
    """The moment a command runs as of: noon in Stockholm on DATE, or now."""
    if not text:
        return datetime.now(LOCAL_TZ)
    return _local_date(text).replace(hour=12)


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
    now = _as_of(as_of)
    with _job_lock(db_path), _open_store(db_path) as store:
        outcome = run_match(store, config, now, full=full)
        stored = store.matches()
        titles = {c.id: c.title for c in store.list_calls()}
    run = outcome.run
    click.echo(
        f"{run.mode} match as of {now:%Y-%m-%d}: {outcome.calls_considered} open calls, "
        f"{run.calls_scored} new or changed scored, "
        f"{len(run.departments_rescored)} profiles re-scored, {run.matches_stored} matches stored"
    )
    console = _console()
    for department in config.departments:
        mine = [m for m in stored if m.department_id == department.id]
        table = Table(title=f"{department.name}: {len(mine)} matches", title_justify="left")
        for column in ("score", "call", "matched on"):
            table.add_column(column, overflow="fold")
        for m in mine[:top]:
            reasons = ", ".join(term for term, _ in m.terms[:4])
            if m.focus_areas:
                reasons += f"; fokusområde: {m.focus_areas[0]}"
            table.add_row(f"{m.score:.3f}", titles.get(m.call_id, m.call_id), reasons)
        if top:
            console.print(table)


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
    """
    now = _as_of(as_of)
    with _open_store(db_path) as store:
        try:
            details, rank, total = explain(store, config, call_id, department_id, now)
        except LookupError as exc:
            raise click.ClickException(str(exc.args[0])) from None
    m = details.match
    console = _console()
    console.print(
        f"[bold]{details.call.title}[/bold] ({details.call.id})", markup=True, highlight=False
    )
    console.print(f"for {details.department.name} ({details.department.id})", highlight=False)
    verdict = "above" if details.above_minimum else "below"
    lines = [
        f"score {m.score:.4f} ({verdict} the department's minimum {details.department.min_score}),"
        f" rank {rank} of {total} calls",
        f"text score {m.text_score:.4f} x (1 + focus weight {config.matching.focus_weight}"
        f" x focus score {m.focus_score:.4f})",
    ]
    for flag, factor in details.factors:
        lines.append(f"factor {factor:g}: {flag}")
    if not details.matchable:
        lines.append("not matched: the call is closed or every deadline has passed")
    if "closing-soon" in m.flags:
        lines.append(f"closing soon: next deadline within {details.department.lead_time_days} days")
    for line in lines:
        click.echo(line)
    table = Table(title="Profile keywords found in the call")
    table.add_column("keyword")
    table.add_column("share of text score", justify="right")
    for term, share in m.terms:
        table.add_row(term, f"{share:.0%}")
    console.print(table)
    focus = Table(title="Strategy focus areas")
    focus.add_column("focus area")
    focus.add_column("score", justify="right")
    for name, value in details.focus_by_area:
        focus.add_row(name, f"{value:.4f}")
    console.print(focus)


@main.command("evaluate")
@click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Labelled calls, JSONL in the format of shared/eval/dev.jsonl.",
)
@click.option(
    "--rankings-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write {rankings, digest} per department as JSON here.",
)
@with_config
def evaluate_command(labels_path: Path, rankings_out: Path | None, config: Config):
    """Measure matching quality on labelled calls: nDCG@10, P@5, R@20, digest precision/recall.

    Example: eufunds evaluate --labels ../shared/eval/dev.jsonl --rankings-out rankings.json
    """
    try:
        calls, labels = read_labelled_calls(labels_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    result = evaluate(config, calls, labels)
    table = Table(title=f"Matching quality on {labels_path.name} ({len(calls)} calls)")
    for column in (
        "department",
        "relevant",
        "nDCG@10",
        "P@5",
        "R@20",
        "digest",
        "digest P",
        "digest R",
    ):
        table.add_column(column, justify="left" if column == "department" else "right")

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    for q in result.departments:
        table.add_row(
            q.department_id,
            str(q.relevant),
            cell(q.ndcg10),
            cell(q.p5),
            cell(q.r20),
            str(q.digest_size),
            cell(q.digest_precision),
            cell(q.digest_recall),
        )
    rows = result.departments
    table.add_row(
        "mean",
        "",
        cell(mean([q.ndcg10 for q in rows])),
        cell(mean([q.p5 for q in rows])),
        cell(mean([q.r20 for q in rows])),
        "",
        cell(mean([q.digest_precision for q in rows])),
        cell(mean([q.digest_recall for q in rows])),
        style="bold",
    )
    _console().print(table)
    if rankings_out:
        document = {"rankings": result.rankings, "digest": result.digests}
        rankings_out.write_text(
            json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        click.echo(f"rankings written to {rankings_out}")


DEFAULT_OUTBOX = Path("var/outbox")
# Digest outcomes the coordinator must see: not delivered, or delivered but not recorded.
PROBLEMS = ("failed", "unrecorded")


def with_outbox(command):
    """Add --outbox (envvar EUFUNDS_OUTBOX) to a command."""
    return click.option(
        "--outbox",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="EUFUNDS_OUTBOX",
        default=DEFAULT_OUTBOX,
        show_default=True,
        help="Folder for .eml files when there is no SMTP server, or with --dry-run.",
    )(command)


def _smtp(dry_run: bool):
    """SMTP settings from the environment (none for a dry run)."""
    if dry_run:
        return None
    try:
        return smtp_settings_from_env()
    except SendError as exc:
        raise click.ClickException(str(exc)) from None


def _print_digests(outcomes: list[DigestOutcome]) -> None:
    table = Table(title="Digests")
    for column in ("department", "week", "status", "calls", "file or error"):
        table.add_column(column, overflow="fold")
    for o in outcomes:
        table.add_row(
            o.department_id, o.iso_week, o.status, str(o.items), str(o.path or o.error or "")
        )
    _console().print(table)


@main.command("digest")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write the digests to the outbox and record nothing; never send.",
)
@with_as_of
@click.option("--department", "department_ids", multiple=True, help="Only these departments.")
@with_outbox
@with_db
@with_config
def digest_command(
    dry_run: bool,
    as_of: str | None,
    department_ids: tuple[str, ...],
    outbox: Path,
    db_path: Path,
    config: Config,
):
    """Send this week's digest to every department that has not had it (once per ISO week).

    Without EUFUNDS_SMTP_HOST the digests are written as .eml files to the outbox.

    Example: eufunds digest --dry-run --outbox /tmp/preview
    """
    known = {d.id for d in config.departments}
    unknown = sorted(set(department_ids) - known)
    if unknown:
        raise click.ClickException(f"unknown department: {', '.join(unknown)}")
    now = _as_of(as_of)
    smtp = _smtp(dry_run)
    with _job_lock(db_path), _open_store(db_path) as store:
        store.sync_config(config.sources, config.departments, config.focus_areas, now)
        outcomes = send_digests(
            store,
            config,
            now,
            outbox,
            smtp,
            dry_run=dry_run,
            department_ids=list(department_ids) or None,
        )
    _print_digests(outcomes)
    failed = [o for o in outcomes if o.status in PROBLEMS]
    for o in failed:
        click.echo(f"{o.department_id}: {o.error}", err=True)
    if failed:
        sys.exit(1)


@main.command("run-once")
@with_as_of
@with_replay
@click.option("--dry-run", is_flag=True, help="Digests to the outbox only, recorded nowhere.")
@with_outbox
@with_db
@with_config
def run_once_command(
    as_of: str | None,
    replay: Path | None,
    dry_run: bool,
    outbox: Path,
    db_path: Path,
    config: Config,
):
    """Run the main job now: crawl -> match -> digests.

    Example: eufunds run-once --replay ../shared/snapshot --as-of 2026-08-22
    """
    now = _as_of(as_of)
    smtp = _smtp(dry_run)
    _open_store(db_path).close()
    try:
        summary = run_once(config, db_path, now, outbox, smtp, replay=replay, dry_run=dry_run)
    except Busy as exc:
        raise click.ClickException(str(exc)) from None
    console = _console()
    console.print(_runs_table("Crawl", summary.crawl_runs, history=False))
    click.echo(f"calls stored: {summary.calls_stored}")
    matches = Table(title=f"Matches as of {now:%Y-%m-%d}")
    matches.add_column("department")
    matches.add_column("matches", justify="right")
    for department in config.departments:
        matches.add_row(department.name, str(summary.matches_per_department[department.id]))
    console.print(matches)
    _print_digests(summary.digests)
    written = [o for o in summary.digests if o.path]
    delivered = [o for o in summary.digests if o.status in ("sent", "written", "dry-run")]
    click.echo(f"digests delivered: {len(delivered)} of {len(summary.digests)}")
    if written:
        click.echo(f"open one: {written[0].path}")
    for o in summary.digests:
        if o.status in PROBLEMS:
            click.echo(f"{o.department_id}: {o.error}", err=True)
    if any(o.status in PROBLEMS for o in summary.digests):
        sys.exit(1)


@main.command("schedule")
@with_replay
@with_outbox
@with_db
@with_config
def schedule_command(replay: Path | None, outbox: Path, db_path: Path, config: Config):
    """Run the jobs on their cron times in the foreground (crawl + match daily, digests weekly).

    Example: eufunds schedule --db /srv/eufunds/eufunds.db
    """
    import logging

    from scheduler.jobs import build_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    log = logging.getLogger("eufunds.scheduler")
    smtp = _smtp(False)
    _open_store(db_path).close()

    def crawl_job():
        try:
            summary = crawl_and_match(config, db_path, datetime.now(LOCAL_TZ), replay)
        except Busy as exc:
            log.warning("crawl skipped: %s", exc)
            return "skipped"
        stored = summary.match.run.matches_stored
        return f"{len(summary.crawl_runs)} sources crawled, {stored} matches stored"

    def digest_job():
        try:
            outcomes = digests_due(config, db_path, datetime.now(LOCAL_TZ), outbox, smtp)
        except Busy as exc:
            log.warning("digests skipped: %s", exc)
            return "skipped"
        return ", ".join(f"{o.department_id}: {o.status}" for o in outcomes) or "none due today"

    schedule = config.schedule
    scheduler = build_scheduler(
        schedule.timezone,
        schedule.crawl,
        schedule.digest,
        schedule.misfire_grace_minutes,
        crawl_job,
        digest_job,
    )
    for job in scheduler.get_jobs():
        click.echo(f"{job.id}: {job.trigger}")
    click.echo("running; stop with Ctrl+C")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("stopped")


@main.group("calls")
def calls_group() -> None:
    """List and show stored calls.

    Example: eufunds calls list --status open --programme LIFE
    """


@calls_group.command("list")
@click.option(
    "--status",
    multiple=True,
    type=click.Choice(["forthcoming", "open", "closed"]),
    help="Only calls with this status (repeatable).",
)
@click.option("--programme", help="Only calls whose programme name contains this text.")
@click.option("--deadline-before", help="Next deadline before this date (YYYY-MM-DD).")
@click.option("--deadline-after", help="Next deadline on or after this date (YYYY-MM-DD).")
@click.option("--text", help="Only calls whose identifier, title or summary contain this text.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@with_db
def calls_list(
    status, programme, deadline_before, deadline_after, text, limit, output_format, db_path
):
    """List stored calls, soonest deadline first.

    Example: eufunds calls list --status open --deadline-before 2026-10-01 --format csv
    """
    with _open_store(db_path) as store:
        calls = store.list_calls(
            status=status,
            programme=programme,
            deadline_before=_local_date(deadline_before),
            deadline_after=_local_date(deadline_after),
            text=text,
            limit=limit,
        )
    if output_format == "json":
        click.echo(json.dumps([_call_summary(c) for c in calls], ensure_ascii=False, indent=2))
    elif output_format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(_call_summary(Call("", "", "", ""))))
        writer.writeheader()
        for call in calls:
            writer.writerow(_call_summary(call))
    else:
        table = Table(title=f"{len(calls)} calls")
        for column in ("id", "status", "next deadline", "programme", "title"):
            table.add_column(column, overflow="fold")
        for call in calls:
            table.add_row(
                call.id, call.status, _local(call.next_deadline), call.programme, call.title
            )
        _console().print(table)


def _call_summary(call: Call) -> dict:
    return {
        "id": call.id,
        "identifier": call.identifier,
        "title": call.title,
        "status": call.status,
        "programme": call.programme,
        "next_deadline": call.next_deadline.isoformat() if call.next_deadline else "",
        "deadlines": ";".join(d.isoformat() for d in call.deadlines),
        "budget_eur": call.budget_eur if call.budget_eur is not None else "",
        "url": call.url,
    }


@calls_group.command("show")
@click.argument("call_id")
@with_db
def calls_show(call_id: str, db_path: Path):
    """Show every field of one call, its deadlines and its change history.

    Example: eufunds calls show ft_portal/HORIZON-CL5-2027-07-D3-16
    """
    with _open_store(db_path) as store:
        call = store.get_call(call_id)
        if call is None:
            raise click.ClickException(f"no call with id {call_id!r} (try: eufunds calls list)")
        changes = store.call_changes(call_id)
    console = _console()
    table = Table(show_header=False, title=call.id)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    budget = f"{call.budget_eur:,} EUR".replace(",", " ") if call.budget_eur else "unknown"
    rows = [
        ("title", call.title),
        ("identifier", call.identifier),
        ("call", f"{call.call_identifier} {call.call_title}".strip()),
        ("programme", call.programme),
        ("divisions", "; ".join(call.programme_divisions)),
        ("type of action", call.type_of_action),
        ("kind", call.kind),
        ("status", call.status),
        ("opens", _local(call.opening_date)),
        ("deadlines", "\n".join(f"{_local(d)} (Europe/Stockholm)" for d in call.deadlines)),
        ("next deadline", _local(call.next_deadline)),
        ("budget", budget),
        ("expected grants", str(call.expected_grants or "unknown")),
        ("language", call.language),
        ("url", call.url),
        ("first seen", _local(call.first_seen)),
        ("last seen", _local(call.last_seen)),
        ("last changed", _local(call.last_changed)),
        ("summary", call.summary),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    history = Table(title="Change history")
    for column in ("when", "field", "old", "new"):
        history.add_column(column, overflow="fold")
    for change in changes:
        history.add_row(_local(change.changed_at), change.field, change.old[:200], change.new[:200])
    if changes:
        console.print(history)
    else:
        console.print("No changes recorded since first seen.")


@main.command("runs")
@click.option("--source", help="Only runs of this source.")
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@with_db
def runs_command(source: str | None, limit: int, db_path: Path):
    """Show the newest crawl runs with their counts and errors.

    Example: eufunds runs --source ft_portal --limit 5
    """
    with _open_store(db_path) as store:
        runs = store.crawl_runs(source, limit)
    table = _runs_table("Crawl runs", runs, history=True)
    _console().print(table)
    for run in runs:
        for message in run.errors[:3]:
            click.echo(f"run {run.id}: {message}")


@main.group("config")
def config_group() -> None:
    """Check or show the configuration.

    Example: eufunds config check --config config/
    """


@config_group.command("check")
@with_config
def config_check(config: Config):
    """Validate every configuration file; exit 2 with one line naming the problem.

    Example: eufunds config check --config /etc/eufunds
    """
    click.echo(
        f"{config.directory}: ok ({len(config.sources)} sources, {len(config.departments)} "
        f"departments, {len(config.focus_areas)} focus areas)"
    )


@config_group.command("show")
@with_config
def config_show(config: Config):
    """Print the effective configuration as JSON.

    Example: eufunds config show | less
    """
    from dataclasses import asdict

    document = asdict(config)
    document["directory"] = str(config.directory)
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
