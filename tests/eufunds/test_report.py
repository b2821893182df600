"""`eufunds report` on a copy of week 34's real database with staff activity added: the
HTML file stands alone, the workbook reads back, a bad period is one clear error; and the
CSV and workbook writers on their own."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, datetime

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from db import Store
from eufunds.cli import main
from eufunds.periods import ALL_TIME
from eufunds.spreadsheets import table_csv, workbook
from eufunds.statistics import Statistics, StatTable
from tests.conftest import SNAPSHOT_NOW
from tests.support.databases import copy_database, upsert_one
from tests.support.staff_activity import add_activity

HOSTILE = '<script>alert("x")</script>=1+2'


@pytest.fixture
def report_db(written_week, tmp_path):
    """Week 34 with feedback, applications and a call whose programme holds markup."""
    db_path = copy_database(written_week.db_path, tmp_path / "report.db")
    with Store(db_path) as store:
        add_activity(store)
        call = store.get_call("ft_portal/HORIZON-CL5-2027-07-D3-16")
        upsert_one(
            store,
            replace(call, id="ft_portal/X-1", identifier="X-1", programme=HOSTILE),
            SNAPSHOT_NOW,
        )
        calls = store.count_calls()
    return db_path, calls


def _report(db_path, *options: str):
    return CliRunner().invoke(
        main, ["report", *options, "--db", str(db_path), "--as-of", "2026-08-22"]
    )


def test_html_report_stands_alone_with_its_charts(report_db, tmp_path):
    """The HTML file holds every table, its charts inline and its styles in a <style>
    block, loads nothing from elsewhere, and escapes scraped text; the command prints the
    headline figures."""
    db_path, calls = report_db
    target = tmp_path / "q3.html"
    result = _report(db_path, "--period", "2026-Q3", "--format", "html", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert f"Nya utlysningar: {calls} i " in result.output
    assert "Återkoppling: 7 omdömen, 57,1 % relevanta" in result.output
    assert result.output.strip().endswith(f"report written to {target}")
    html = target.read_text(encoding="utf-8")
    assert "<title>Statistik kvartal 3 2026 – Jönköpings kommun</title>" in html
    assert "<style>" in html and "table.list" in html
    assert not re.search(r"<link|<script|src=\"|href=\"http", html)
    assert len(re.findall(r"<svg ", html)) == 4
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;=1+2" in html
    for title in ("Nya utlysningar per program och månad", "Källornas täckning"):
        assert title in html


def test_xlsx_report_reads_back(report_db, tmp_path, monkeypatch):
    """The workbook of a year, written beside the command by default, has a sheet per table
    with the database's figures."""
    db_path, calls = report_db
    monkeypatch.chdir(tmp_path)
    result = _report(db_path, "--period", "2026", "--format", "xlsx")
    assert result.exit_code == 0, result.output
    sheets = pd.read_excel(tmp_path / "rapport-2026.xlsx", sheet_name=None)
    assert list(sheets)[0] == "Översikt" and len(sheets) == 8
    assert sheets["Utlysningar"]["Nya utlysningar"].sum() == calls
    assert sheets["Belopp"]["Beviljat (SEK)"].sum() == 800_000
    assert HOSTILE in sheets["Utlysningar"]["Program"].tolist()


def test_a_bad_period_is_one_clear_error(report_db, tmp_path):
    """A period that is none, a month 13 or a year out of range: exit 2 naming the forms a
    period takes, no traceback and no file."""
    db_path, _ = report_db
    for bad in ("2026-Q5", "2026-13", "3026", "förra månaden"):
        result = _report(db_path, "--period", bad, "--out", str(tmp_path / "x.html"))
        assert result.exit_code == 2
        assert "Invalid value for '--period'" in result.output and "2026-Q3" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "x.html").exists()
    missing = _report(tmp_path / "none.db", "--period", "2026-Q3")
    assert missing.exit_code == 1 and "no database" in missing.output


def _table(rows) -> StatTable:
    return StatTable("t", "Tabell", "Tabell med allt", ("Text", "Tal", "Andel"), tuple(rows))


def test_csv_for_swedish_excel():
    """A byte-order mark, ';' between fields, a decimal comma, nothing shown as '–' left
    empty, and cells that a spreadsheet would run as formulas made text."""
    rows = [
        ("=SUM(A1)", 1, 57.1),
        ("+46 36", 2, None),
        ("-1", 3, 0.5),
        ("@x", 4, 100.0),
        ('a;b "c"', 5, 1.0),
    ]
    content = table_csv(_table(rows))
    assert content.startswith("\ufeff".encode())
    read = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert read == [
        ["Text", "Tal", "Andel"],
        ["'=SUM(A1)", "1", "57,1"],
        ["'+46 36", "2", ""],
        ["'-1", "3", "0,5"],
        ["'@x", "4", "100"],
        ['a;b "c"', "5", "1"],
    ]


def test_workbook_keeps_formulas_as_text_and_drops_what_excel_cannot_hold():
    """Text starting with '=' is stored as text; control characters are dropped."""
    stats = Statistics(
        ALL_TIME,
        datetime(2026, 8, 22, tzinfo=UTC),
        (_table([('=HYPERLINK("http://x")', 1, 2.5), ("bell\x07here", 2, None)]),),
        ("Sammanfattning",),
    )
    book = openpyxl.load_workbook(io.BytesIO(workbook(stats)))
    assert book.sheetnames == ["Översikt", "Tabell"]
    cells = [[cell for cell in row] for row in book["Tabell"].iter_rows(min_row=2)]
    assert cells[0][0].value == '=HYPERLINK("http://x")' and cells[0][0].data_type == "s"
    assert cells[1][0].value == "bellhere" and cells[0][2].value == 2.5
    assert [c.value for c in book["Översikt"]["A"]][:4] == [
        "Avsnitt",
        "Period",
        "Sammanställd",
        "Sammanfattning",
    ]
