"""Management's report for a period as a file: a self-contained HTML page (the statistics
page's tables, its SVG charts inline, the app's stylesheet in a <style> block) or an Excel
workbook. The monthly report mail sends the same."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from db.records import LOCAL_TZ
from eufunds.charts import charts_of
from eufunds.spreadsheets import workbook
from eufunds.statistics import Statistics
from eufunds.statistics_amounts import cell_text

WEB = Path(__file__).resolve().parent.parent / "web"
FORMATS = ("html", "xlsx")


def _environment() -> Environment:
    """Jinja with the web app's templates, escaping everything (titles come from sources)."""
    environment = Environment(
        loader=FileSystemLoader(WEB / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    environment.filters["cell"] = cell_text
    return environment


def report_html(stats: Statistics, organisation: str) -> str:
    """The report as one HTML file that needs nothing else to show."""
    css = (WEB / "static" / "app.css").read_text(encoding="utf-8")
    return (
        _environment()
        .get_template("report.html")
        .render(
            stats=stats,
            charts=charts_of(stats.tables),
            links=None,
            organisation=organisation,
            made=stats.made_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
            # The app's own stylesheet, not text from outside: kept as it is.
            css=Markup(css.replace("</", "<\\/")),
        )
    )


def report_bytes(stats: Statistics, organisation: str, output_format: str) -> bytes:
    """The report in a format of FORMATS."""
    if output_format == "xlsx":
        return workbook(stats)
    if output_format == "html":
        return report_html(stats, organisation).encode("utf-8")
    raise ValueError(f"unknown report format {output_format!r} (known: {', '.join(FORMATS)})")


def default_report_path(stats: Statistics, output_format: str) -> Path:
    """Where a report goes unless told: rapport-<period>.<format> here."""
    return Path(f"rapport-{stats.period.key or 'hela-tiden'}.{output_format}")
