"""`eufunds report`: management's statistics for a period, written as a file."""

from __future__ import annotations

from pathlib import Path

import click

from eufunds.config import Config
from eufunds.options import open_store, run_moment, with_as_of, with_config, with_db
from eufunds.periods import PeriodError, parse_period
from eufunds.profiles import effective_config
from eufunds.report import FORMATS, default_report_path, report_bytes
from eufunds.statistics import statistics


@click.command("report")
@click.option(
    "--period",
    required=True,
    help="A quarter (2026-Q3), a month (2026-08) or a year (2026).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="html",
    show_default=True,
    help="A self-contained HTML page with charts, or an Excel workbook (a sheet per table).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: rapport-<period>.<format> here).",
)
@with_as_of
@with_db
@with_config
def report_command(
    period: str,
    output_format: str,
    out: Path | None,
    as_of: str | None,
    db_path: Path,
    config: Config,
):
    """Write management's statistics for a period (calls, matches, digests, feedback,
    applications, amounts, focus areas, sources) as an HTML page or an Excel workbook, and
    print its headline figures. Open calls are counted as of today (or --as-of).

    Example: eufunds report --period 2026-Q3 --format xlsx --out rapport.xlsx
    """
    try:
        chosen = parse_period(period)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="'--period'") from None
    now = run_moment(as_of)
    with open_store(db_path, create=False) as store:
        current = effective_config(config, store, now, seed=False)
        stats = statistics(store, current, chosen, now)
    target = out or default_report_path(stats, output_format)
    content = report_bytes(stats, config.organisation.name, output_format)
    try:
        target.write_bytes(content)
    except OSError as exc:
        raise click.ClickException(f"cannot write {target}: {exc}") from None
    click.echo(f"Statistik för {stats.period.label} ({stats.period.span()}):")
    for line in stats.summary:
        click.echo(f"  {line}")
    click.echo(f"report written to {target}")


@click.command("release-report")
@click.argument("month")
@with_db
def release_report_command(month: str, db_path: Path):
    """Let the next run send a monthly report mail left stuck (a run stopped while sending
    it): first check in the mail server's log that it did not go out.

    Example: eufunds release-report 2026-09
    """
    with open_store(db_path, create=False) as store:
        if not store.release_stuck_report_mail(month, "sent again on request"):
            raise click.ClickException(f"no stuck report mail of {month}")
    click.echo(f"the report mail of {month} goes out with the next run")
