"""The statistics page and its downloads, on week 34's real database with staff feedback and
applications added: roles, figures against the database, CSV and Excel read back, periods,
and hostile text that stays text in the tables, the charts and the files."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest

from db import Store
from eufunds.config import Config
from tests.conftest import SNAPSHOT_NOW
from tests.support.databases import upsert_one
from tests.support.staff_activity import add_activity

KEYS = (
    "utlysningar",
    "matchningar",
    "aterkoppling",
    "ansokningar",
    "belopp",
    "fokusomraden",
    "kallor",
)
SHEETS = [
    "Översikt",
    "Utlysningar",
    "Matchningar",
    "Återkoppling",
    "Ansökningar",
    "Belopp",
    "Fokusområden",
    "Källor",
]
HOSTILE_PROGRAMME = '=HYPERLINK("http://evil.example";"klicka")<script>alert(1)</script>'
HOSTILE_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)> & Social'
CL5 = "ft_portal/HORIZON-CL5-2027-07-D3-16"


@pytest.fixture
def active_site(site):
    """The site with feedback and applications (one granted) in its database."""
    with Store(site.db_path) as store:
        add_activity(store)
    return site


@pytest.fixture
def hostile_site(active_site, config: Config):
    """A call of a programme named with markup and a formula, and Socialförvaltningen
    renamed with markup (its profile saved as the coordinator would)."""
    with Store(active_site.db_path) as store:
        call = store.get_call(CL5)
        hostile = replace(
            call, id="ft_portal/HOSTILE-1", identifier="HOSTILE-1", programme=HOSTILE_PROGRAMME
        )
        upsert_one(store, hostile, SNAPSHOT_NOW)
        social = next(d for d in config.written_departments if d.id == "social")
        store.save_profile(replace(social, name=HOSTILE_NAME), "anna", SNAPSHOT_NOW, "test")
    return active_site


def _count(site, sql: str, params=()) -> int:
    with Store(site.db_path) as store:
        return store.conn.execute(sql, params).fetchone()[0]


def test_statistics_need_a_login(site):
    """A visitor who is not logged in is sent to log in, for the page and every file."""
    client = site.app.test_client()
    for path in (
        "/statistik",
        "/statistik/matchningar.csv",
        "/statistik/belopp.xlsx",
        "/statistik.xlsx",
    ):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/logga-in?next=")


@pytest.mark.parametrize("role", ["management", "coordinator"])
def test_both_roles_see_every_table_with_charts(role, request, active_site):
    """Management and the coordinator both read the page: every table with its title and
    downloads, and a chart for calls per month, matches, feedback precision, granted
    amounts and focus areas; the menu links to it."""
    client = request.getfixturevalue(role)
    response = client.get("/statistik")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<a href="/statistik">Statistik</a>' in html
    for key in KEYS:
        assert f'<section class="stat" id="{key}">' in html
        assert f'href="/statistik/{key}.csv"' in html and f'href="/statistik/{key}.xlsx"' in html
    charts = re.findall(r'<svg [^>]*aria-labelledby="chart-([a-z]+)-title', html)
    assert charts == ["utlysningar", "matchningar", "aterkoppling", "belopp", "fokusomraden"]
    calls = _count(active_site, "SELECT count(*) FROM calls")
    assert f"Nya utlysningar: {calls} i " in html
    assert "80,0 % (4 av 5)" in html and "800\u00a0000 kr" in html
    assert " style=" not in html and "<script" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def _csv(client, path: str) -> list[list[str]]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_csv_tables_read_back_with_the_databases_counts(management, active_site, config):
    """Each table downloads as CSV for Swedish Excel; the matches table's figures are the
    database's, the share relevant has a decimal comma."""
    for key in KEYS:
        header, *_ = _csv(management, f"/statistik/{key}.csv")
        assert header[0] in ("Program", "Förvaltning", "Fokusområde", "Källa")
    header, *rows = _csv(management, "/statistik/matchningar.csv")
    assert header == [
        "Förvaltning",
        "Matchningar",
        "Varav aktuella",
        "Utskick",
        "Utlysningar i utskick",
    ]
    names = {d.name: d.id for d in config.departments}
    assert len(rows) == len(names)
    for name, matches, _, _, items in rows:
        department_id = names[name]
        assert int(matches) == _count(
            active_site, "SELECT count(*) FROM matches WHERE department_id = ?", [department_id]
        )
        assert int(items) == _count(
            active_site,
            "SELECT count(*) FROM digest_items i JOIN digests d ON d.id = i.digest_id "
            "WHERE d.department_id = ?",
            [department_id],
        )
    feedback = {row[0]: row for row in _csv(management, "/statistik/aterkoppling.csv")}
    assert feedback["Socialförvaltningen"][4:] == ["5", "80"]
    assert feedback["Kommunalt energibolag"][4:] == ["2", "0"]
    assert feedback["Stadskontoret"][4:] == ["0", ""]


def test_excel_workbook_reads_back_with_pandas(coordinator, active_site):
    """The workbook: an overview sheet, then a sheet per table with Swedish column names and
    the figures of the page; one table alone is a workbook of its own."""
    response = coordinator.get("/statistik.xlsx?period=2026-Q3")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="statistik-2026-Q3.xlsx"' in response.headers["Content-Disposition"]
    sheets = pd.read_excel(io.BytesIO(response.get_data()), sheet_name=None)
    assert list(sheets) == SHEETS
    overview = sheets["Översikt"]
    assert list(overview.columns) == ["Avsnitt", "Innehåll"]
    assert overview.iloc[0].tolist() == ["Period", "kvartal 3 2026 (2026-07-01 – 2026-09-30)"]
    calls = sheets["Utlysningar"]
    assert list(calls.columns) == ["Program", "Månad", "Nya utlysningar"]
    assert calls["Nya utlysningar"].sum() == _count(active_site, "SELECT count(*) FROM calls")
    states = sheets["Ansökningar"].set_index("Förvaltning")
    assert states.loc["Socialförvaltningen", "Inlämnad"] == 1
    assert states.loc["Socialförvaltningen", "Avstått"] == 1
    assert states["Beviljad"].sum() == 0
    amounts = sheets["Belopp"]
    assert amounts["Sökt (SEK)"].sum() == 3_300_000 and amounts["Belopp utan kurs"].sum() == 1
    single = coordinator.get("/statistik/belopp.xlsx")
    assert list(pd.read_excel(io.BytesIO(single.get_data()), sheet_name=None)) == [
        "Översikt",
        "Belopp",
    ]


def test_periods_limit_the_tables_and_a_bad_one_is_refused(management):
    """A month without activity shows empty tables; a period that is none is a Swedish 400;
    an unknown table is a 404."""
    july = management.get("/statistik?period=2026-07").get_data(as_text=True)
    assert "Statistik: juli 2026" in july and "Inget att visa för perioden." in july
    assert 'href="/statistik/utlysningar.csv?period=2026-07"' in july
    refused = management.get("/statistik?period=2026-Q7")
    assert refused.status_code == 400
    assert "Ogiltig period" in refused.get_data(as_text=True)
    assert management.get("/statistik/matchningar.csv?period=juli").status_code == 400
    assert management.get("/statistik/hemligt.csv").status_code == 404
    response = management.get("/statistik/utlysningar.csv?period=2026-08")
    assert 'filename="utlysningar-2026-08.csv"' in response.headers["Content-Disposition"]


def test_hostile_names_stay_text_in_tables_charts_and_files(management, hostile_site):
    """A programme name with markup and a formula, and a department name with markup, are
    escaped in the tables and in the charts' SVG, made text in the CSV, and stored as text
    (never a formula) in the workbook."""
    html = management.get("/statistik").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    svg = html.split('aria-labelledby="chart-matchningar-title')[1].split("</svg>")[0]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x" in svg
    rows = _csv(management, "/statistik/utlysningar.csv")
    assert ["'" + HOSTILE_PROGRAMME, "2026-08", "1"] in rows
    departments = [row[0] for row in _csv(management, "/statistik/matchningar.csv")]
    assert HOSTILE_NAME in departments
    content = management.get("/statistik.xlsx").get_data()
    calls = pd.read_excel(io.BytesIO(content), sheet_name="Utlysningar")
    assert HOSTILE_PROGRAMME in calls["Program"].tolist()
    sheet = openpyxl.load_workbook(io.BytesIO(content))["Utlysningar"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    hostile = next(cell for cell in cells if cell.value == HOSTILE_PROGRAMME)
    assert hostile.data_type == "s"
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)
