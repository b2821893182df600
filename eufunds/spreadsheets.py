"""The statistics as files staff open in a spreadsheet: CSV (one table) and Excel (a sheet
per table), with Swedish column names.

CSV is written for Excel set to Swedish: UTF-8 with a byte-order mark, ';' between fields,
a decimal comma, and cells starting with =, +, - or @ made text as `eufunds calls list
--format csv` does. In the workbook every text cell is stored as text, never as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from db.records import LOCAL_TZ
from eufunds.statistics import Statistics, StatTable
from eufunds.views import spreadsheet_cell

# pandas and openpyxl are imported when a workbook is made, not with every command.
if TYPE_CHECKING:
    import pandas as pd

OVERVIEW_SHEET = "Översikt"
MAX_COLUMN_WIDTH = 60


def table_csv(table: StatTable) -> bytes:
    """One table as CSV for Excel in Swedish."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: object) -> object:
    """A value as a Swedish spreadsheet reads it: empty for nothing, a decimal comma."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return spreadsheet_cell(value)


def workbook(stats: Statistics, keys: Sequence[str] | None = None) -> bytes:
    """An Excel workbook: an overview sheet (period, headline figures, what each table
    counts), then one sheet per table (all, or those of ``keys``) named by its short name."""
    import pandas as pd

    tables = [t for t in stats.tables if keys is None or t.key in keys]
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        _frame(_overview(stats, tables)).to_excel(writer, sheet_name=OVERVIEW_SHEET, index=False)
        for table in tables:
            _frame(table).to_excel(writer, sheet_name=table.name[:31], index=False)
        for sheet in writer.sheets.values():
            _as_text_and_readable(sheet)
    return buffer.getvalue()


def _overview(stats: Statistics, tables: list[StatTable]) -> StatTable:
    """What the workbook holds, as a table of its own."""
    rows = [
        ("Period", f"{stats.period.label} ({stats.period.span()})"),
        ("Sammanställd", stats.made_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")),
        *(("Sammanfattning", line) for line in stats.summary),
        *((table.name, f"{table.title}. {table.note}".strip()) for table in tables),
    ]
    return StatTable(
        "oversikt", OVERVIEW_SHEET, OVERVIEW_SHEET, ("Avsnitt", "Innehåll"), tuple(rows)
    )


def _frame(table: StatTable) -> pd.DataFrame:
    """A table as a data frame, text cleaned of characters a workbook cannot hold."""
    import pandas as pd
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    rows = [
        [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]
        for row in table.rows
    ]
    return pd.DataFrame(rows, columns=list(table.columns))


def _as_text_and_readable(sheet) -> None:
    """Store text starting with '=' as text (openpyxl would write it as a formula), and
    make each column as wide as its content (up to a limit)."""
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
            width = len(str(cell.value)) if cell.value is not None else 0
            widths[cell.column] = max(widths.get(cell.column, 0), width)
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(MAX_COLUMN_WIDTH, width + 2)
