"""Management's statistics: the page with its tables and charts, and every table as CSV or
Excel (management and the coordinator both read them). ``?period=2026-Q3`` (or 2026-08,
2026) limits them to a period; without it they cover all the time."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for

from db.records import ROLES
from eufunds.charts import charts_of
from eufunds.periods import ALL_TIME, Period, PeriodError, parse_period
from eufunds.spreadsheets import table_csv, workbook
from eufunds.statistics import Statistics, statistics
from eufunds.statistics_amounts import cell_text
from web.app import current_config, now, store
from web.auth import require

statistics_pages = Blueprint("statistics", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@statistics_pages.app_template_filter("cell")
def cell_filter(value: object) -> str:
    """A statistics cell: numbers the Swedish way, a dash for nothing."""
    return cell_text(value)


@statistics_pages.route("/statistik")
@require(*ROLES)
def page():
    """Every table of the statistics, with its chart and its downloads."""
    stats = _statistics()
    period = {"period": stats.period.key} if stats.period.key else {}
    links = {
        table.key: {
            "csv": url_for("statistics.table_download", key=table.key, kind="csv", **period),
            "xlsx": url_for("statistics.table_download", key=table.key, kind="xlsx", **period),
        }
        for table in stats.tables
    }
    return render_template(
        "statistics.html",
        stats=stats,
        charts=charts_of(stats.tables),
        links=links,
        workbook=url_for("statistics.workbook_download", **period),
    )


@statistics_pages.route("/statistik/<key>.<any(csv, xlsx):kind>")
@require(*ROLES)
def table_download(key: str, kind: str):
    """One table as CSV (for Excel in Swedish) or as an Excel workbook."""
    stats = _statistics()
    table = stats.table(key)
    if table is None:
        abort(404, description="Tabellen finns inte.")
    if kind == "csv":
        return _download(table_csv(table), "text/csv; charset=utf-8", key, stats.period, "csv")
    return _download(workbook(stats, [key]), XLSX, key, stats.period, "xlsx")


@statistics_pages.route("/statistik.xlsx")
@require(*ROLES)
def workbook_download():
    """Every table in one Excel workbook, a sheet each, after an overview sheet."""
    stats = _statistics()
    return _download(workbook(stats), XLSX, "statistik", stats.period, "xlsx")


def _statistics() -> Statistics:
    """The statistics for the period asked for (a 400 for one that is no period)."""
    return statistics(store(), current_config(), _period(), now())


def _period() -> Period:
    text = request.args.get("period", "").strip()
    if not text:
        return ALL_TIME
    try:
        return parse_period(text)
    except PeriodError:
        abort(
            400,
            description="Ogiltig period: skriv ett kvartal (2026-Q3), en månad (2026-08) "
            "eller ett år (2026).",
        )


def _download(content: bytes, mimetype: str, name: str, period: Period, suffix: str) -> Response:
    """A file to save, named after what it holds and its period."""
    filename = f"{name}-{period.key or 'hela-tiden'}.{suffix}"
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
