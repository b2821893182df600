"""Commands that read what is stored or configured: calls, crawl runs, the configuration."""

from __future__ import annotations

import csv
import difflib
import io
import json
from dataclasses import asdict
from pathlib import Path

import click

from db import Call
from db.records import STATUSES
from eufunds import views
from eufunds.config import Config
from eufunds.health import sources_health
from eufunds.options import (
    data_date_note,
    local_date,
    open_store,
    run_moment,
    with_config,
    with_db,
)
from eufunds.profiles import effective_config

# The most rows a listing shows (a larger limit would only overflow SQLite's integers).
MAX_LIMIT = 1_000_000


@click.group("calls")
def calls_group() -> None:
    """List and show stored calls.

    Example: eufunds calls list --status open --programme LIFE
    """


@calls_group.command("list")
@click.option(
    "--status",
    multiple=True,
    type=click.Choice([str(status) for status in STATUSES]),
    help="Only calls with this status (repeatable).",
)
@click.option("--programme", help="Only calls whose programme name contains this text.")
@click.option("--deadline-before", help="Next deadline before this date (YYYY-MM-DD).")
@click.option("--deadline-after", help="Next deadline on or after this date (YYYY-MM-DD).")
@click.option("--text", help="Only calls whose identifier, title or summary contain this text.")
@click.option(
    "--limit", type=click.IntRange(min=1, max=MAX_LIMIT), default=None, help="At most this many."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--separator",
    type=click.Choice([",", ";"]),
    default=",",
    show_default=True,
    help="CSV field separator (';' for Excel set to Swedish).",
)
@with_db
def calls_list(
    status,
    programme,
    deadline_before,
    deadline_after,
    text,
    limit,
    output_format,
    separator,
    db_path,
):
    """List stored calls, soonest deadline first.

    CSV is UTF-8 with a byte-order mark, times in Swedish time, and cells that a spreadsheet
    would run as formulas made text, so Excel opens it as it is.

    Example: eufunds calls list --status open --deadline-before 2026-10-01 --format csv
    --separator ";" > utlysningar.csv
    """
    with open_store(db_path, create=False) as store:
        calls = store.list_calls(
            status=status,
            programme=programme,
            deadline_before=local_date(deadline_before),
            deadline_after=local_date(deadline_after),
            text=text,
            limit=limit,
        )
        note = data_date_note(store.newest_sighting(), run_moment(None), None, judged=False)
    if note:
        click.echo(note, err=True)
    if output_format == "json":
        summaries = [views.call_summary(c) for c in calls]
        click.echo(json.dumps(summaries, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        fields = list(views.call_summary(Call("", "", "", "")))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields, delimiter=separator)
        writer.writeheader()
        for call in calls:
            summary = views.call_summary(call, for_json=False)
            writer.writerow({k: views.spreadsheet_cell(v) for k, v in summary.items()})
        click.echo("\ufeff" + buffer.getvalue(), nl=False)
    else:
        views.console().print(views.calls_table(calls))


@calls_group.command("show")
@click.argument("call_id")
@with_db
def calls_show(call_id: str, db_path: Path):
    """Show every field of one call, its deadlines and its change history.

    The source's prefix may be left out when only one call has that identifier
    (HORIZON-CL5-2027-07-D3-16).

    Example: eufunds calls show ft_portal/HORIZON-CL5-2027-07-D3-16
    """
    with open_store(db_path, create=False) as store:
        call = store.get_call(call_id)
        if call is None:
            call = store.get_call(resolve_call_id(call_id, store.call_ids()))
        changes = store.call_changes(call.id)
        listings = store.call_sources(call.id)
    out = views.console()
    out.print(views.call_details(call, listings))
    if changes:
        out.print(views.change_history(changes))
    else:
        out.print("No changes recorded since first seen.")


def resolve_call_id(given: str, known: list[str]) -> str:
    """The one stored id that is ``given`` with a source's prefix; else a ClickException
    naming the candidates, or the closest ids when none has it."""
    found = [call_id for call_id in known if call_id.split("/", 1)[-1] == given]
    if len(found) == 1:
        return found[0]
    if found:
        raise click.ClickException(
            f"{given!r} is the identifier of {len(found)} calls: {', '.join(found)}"
        )
    bare = {call_id.split("/", 1)[-1]: call_id for call_id in known}
    wanted = given.split("/", 1)[-1]
    close = [bare[c] for c in difflib.get_close_matches(wanted, list(bare), n=5, cutoff=0.75)]
    hint = f"; did you mean: {', '.join(close[:5])}" if close else " (try: eufunds calls list)"
    raise click.ClickException(f"no call with id {given!r}{hint}")


@click.command("runs")
@click.option("--source", help="Only runs of this source.")
@click.option("--limit", type=click.IntRange(min=1, max=MAX_LIMIT), default=10, show_default=True)
@with_db
def runs_command(source: str | None, limit: int, db_path: Path):
    """Show the newest crawl runs with their counts and errors.

    Example: eufunds runs --source ft_portal --limit 5
    """
    with open_store(db_path, create=False) as store:
        runs = store.crawl_runs(source, limit)
    views.console().print(views.runs_table("Crawl runs", runs, history=True))
    for run in runs:
        for message in run.errors[:3]:
            click.echo(f"run {run.id}: {message}")
        for message in run.notes[:3]:
            click.echo(f"run {run.id}: dropped: {message}")


@click.command("sources")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@with_db
@with_config
def sources_command(output_format: str, db_path: Path, config: Config):
    """Show each source's health: last success, calls per recent crawl, last error, problem.

    A source is flagged when its last 3 crawls failed, its last complete crawl found no
    calls, or fewer than half its usual number.

    Example: eufunds sources --format json
    """
    with open_store(db_path, create=False) as store:
        health = sources_health(store, config.sources)
    if output_format == "json":
        click.echo(
            json.dumps([views.health_summary(h) for h in health], ensure_ascii=False, indent=2)
        )
    else:
        views.console().print(views.health_table(health))


@click.group("config")
def config_group() -> None:
    """Check, show or export the configuration.

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
    document = asdict(config)
    document["directory"] = str(config.directory)
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@config_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_db
@with_config
def config_export(directory: Path, db_path: Path, config: Config):
    """Write the configuration with the profiles as stored now (the web app's saves) to a
    new folder, as TOML that `--config DIRECTORY` loads.

    Example: eufunds config export /tmp/eufunds-config
    """
    from eufunds.profiles import export_config

    with open_store(db_path) as store:
        current = effective_config(config, store, run_moment(None))
    try:
        written = export_config(current, directory)
    except (FileExistsError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(written)} files written to {directory}")
