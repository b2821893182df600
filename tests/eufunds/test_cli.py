"""The command line: documented commands, filters and clear errors, on a real replayed crawl."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from db import Call, CrawlCounts, Store
from db.records import RunStatus
from eufunds.cli import main
from eufunds.joblock import LOCK
from eufunds.options import data_date_note
from eufunds.views import spreadsheet_cell
from tests.conftest import REPO, SNAPSHOT_NOW
from tests.support.databases import upsert_one


def _commands(group: click.Group, prefix: str = "eufunds") -> list[str]:
    names = []
    for name, command in group.commands.items():
        full = f"{prefix} {name}"
        if isinstance(command, click.Group):
            names += _commands(command, full)
        else:
            names.append(full)
    return names


def test_every_command_is_in_the_readme():
    """Docs cannot drift: each command appears in README.md."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [name for name in _commands(main) if name not in readme]
    assert missing == []


@pytest.mark.parametrize("command", _commands(main))
def test_every_command_has_an_example(command):
    """Each command's --help shows an example."""
    result = CliRunner().invoke(main, [*command.split()[1:], "--help"])
    assert result.exit_code == 0
    assert "Example: eufunds" in result.output


@pytest.fixture(scope="module")
def crawled_db(crawled_snapshot) -> Path:
    """The session's replayed crawl of the real snapshot (the commands here only read it)."""
    return crawled_snapshot


def _json_list(db_path: Path, *options: str) -> list[dict]:
    result = CliRunner().invoke(
        main, ["calls", "list", "--format", "json", "--db", str(db_path), *options]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _snapshot_rows(snapshot_dir: Path) -> list[dict]:
    rows = []
    for page in sorted((snapshot_dir / "ft_portal").glob("search-page-*.json")):
        rows += json.loads(page.read_text(encoding="utf-8"))["results"]
    return rows


def _forthcoming(metadata: dict) -> bool:
    """Forthcoming at the snapshot's crawl: as listed, but cascade calls by their opening."""
    if metadata["type"] == ["8"]:
        return metadata["startDate"][0][:10] > SNAPSHOT_NOW.date().isoformat()
    return metadata["status"] == ["31094501"]


def test_crawl_command_prints_its_table(snapshot_dir, tmp_path):
    """`eufunds crawl --replay` stores every call and prints the run and the total."""
    db_path = tmp_path / "cli.db"
    result = CliRunner().invoke(
        main, ["crawl", "--replay", str(snapshot_dir), "--db", str(db_path)]
    )
    assert result.exit_code == 0, result.output
    assert "723 calls stored" in result.output
    [row] = [line for line in result.output.splitlines() if "ft_portal" in line]
    assert [cell.strip() for cell in row.split("│")[1:5]] == ["ft_portal", "ok", "8", "723"]
    assert len(_json_list(db_path)) == 723
    # The snapshot holds the portal only: every other enabled source is named as skipped.
    [caption] = [line.strip() for line in result.output.splitlines() if "skipped (" in line]
    assert caption == (
        "skipped (not in replay): vinnova, interreg, tillvaxtverket, interreg_bsr, cinea, eic"
    )


def test_filter_by_status(crawled_db, snapshot_dir):
    """--status forthcoming lists exactly the snapshot's forthcoming calls."""
    expected = sum(_forthcoming(row["metadata"]) for row in _snapshot_rows(snapshot_dir))
    listed = _json_list(crawled_db, "--status", "forthcoming")
    assert len(listed) == expected
    assert {c["status"] for c in listed} == {"forthcoming"}


def test_filter_by_programme(crawled_db):
    """--programme matches the resolved programme name."""
    listed = _json_list(crawled_db, "--programme", "LIFE")
    assert listed
    assert all("(LIFE)" in c["programme"] for c in listed)


def test_filter_by_deadline_window(crawled_db):
    """--deadline-after/--deadline-before keep next deadlines inside the window."""
    listed = _json_list(
        crawled_db, "--deadline-after", "2026-09-01", "--deadline-before", "2026-10-01"
    )
    assert listed
    assert all("2026-09-01" <= c["next_deadline"][:10] < "2026-10-01" for c in listed)


def test_filter_by_text(crawled_db):
    """--text searches identifier, title and summary."""
    listed = _json_list(crawled_db, "--text", "HORIZON-CL5-2027-07-D3-16")
    assert [c["id"] for c in listed] == ["ft_portal/HORIZON-CL5-2027-07-D3-16"]


def test_csv_output(crawled_db):
    """--format csv writes a header and one row per call."""
    result = CliRunner().invoke(
        main, ["calls", "list", "--format", "csv", "--status", "open", "--db", str(crawled_db)]
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert len(rows) == len(_json_list(crawled_db, "--status", "open"))
    assert {"id", "title", "next_deadline", "budget_eur"} <= set(rows[0])


def test_show_call(crawled_db):
    """`calls show` prints the fields, deadlines in Swedish time, and the change history."""
    result = CliRunner().invoke(
        main, ["calls", "show", "ft_portal/HORIZON-CL5-2027-07-D3-16", "--db", str(crawled_db)]
    )
    assert result.exit_code == 0, result.output
    assert "Horizon Europe (HORIZON)" in result.output
    assert "2027-12-01 (a date)" in result.output and "01:00" not in result.output
    assert "28 500 000 EUR" in result.output
    assert "No changes recorded" in result.output


def test_show_unknown_call_is_one_clear_line(crawled_db):
    """An unknown id exits 1 with one line, no traceback."""
    result = CliRunner().invoke(main, ["calls", "show", "ft_portal/NOPE", "--db", str(crawled_db)])
    assert result.exit_code == 1
    assert (
        result.output.strip() == "Error: no call with id 'ft_portal/NOPE' (try: eufunds calls list)"
    )


def test_show_call_without_its_source_prefix(crawled_db):
    """An identifier one call has is enough; a near miss suggests the closest ids."""
    shown = CliRunner().invoke(
        main, ["calls", "show", "HORIZON-CL5-2027-07-D3-16", "--db", str(crawled_db)]
    )
    assert shown.exit_code == 0, shown.output
    assert "ft_portal/HORIZON-CL5-2027-07-D3-16" in shown.output
    typo = CliRunner().invoke(
        main, ["calls", "show", "HORIZON-CL5-2027-07-D3-61", "--db", str(crawled_db)]
    )
    assert typo.exit_code == 1
    assert typo.output.startswith(
        "Error: no call with id 'HORIZON-CL5-2027-07-D3-61'; did you mean:"
    )
    assert "ft_portal/HORIZON-CL5-2027-07-D3-16" in typo.output


def test_runs_lists_the_crawl(crawled_db):
    """`eufunds runs` shows the recorded crawl."""
    result = CliRunner().invoke(main, ["runs", "--db", str(crawled_db)])
    assert result.exit_code == 0
    assert "ft_portal" in result.output and "723" in result.output


def test_unknown_source_is_a_config_error(tmp_path):
    """Crawling a source that is not configured exits 2 naming it."""
    result = CliRunner().invoke(main, ["crawl", "nowhere", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    assert "unknown source 'nowhere'" in result.output


def test_bad_date_is_rejected(crawled_db):
    """A malformed date names the expected format."""
    result = CliRunner().invoke(
        main, ["calls", "list", "--deadline-before", "30/9", "--db", str(crawled_db)]
    )
    assert result.exit_code == 2
    assert "expected a date like 2026-09-30" in result.output


@pytest.mark.parametrize("command", [["crawl"], ["match"], ["digest", "--dry-run"], ["run-once"]])
def test_commands_refuse_to_overlap_a_running_job(tmp_path, command):
    """While another run holds the job lock, each job command exits 1 with one clear line."""
    db_path = tmp_path / "locked.db"
    with Store(db_path) as store:
        assert store.acquire_lock(LOCK, "scheduler:4242", datetime.now(UTC), timedelta(hours=1))
    result = CliRunner().invoke(main, [*command, "--db", str(db_path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: another run is in progress (scheduler:4242)"
    )


def test_runs_show_dropped_items_apart_from_errors(db_path):
    """`eufunds runs` names a run's errors, and the input it dropped as 'dropped:'."""
    with Store(db_path) as store:
        run_id = store.start_crawl_run("ft_portal", datetime.now(UTC))
        counts = CrawlCounts(pages_expected=8, pages=7, items_seen=700, error_count=1)
        store.finish_crawl_run(
            run_id,
            RunStatus.PARTIAL,
            counts,
            ["search page 8: HTTP 500"],
            ["invalid item (no identifier): Call"],
            datetime.now(UTC),
        )
    result = CliRunner().invoke(main, ["runs", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert f"run {run_id}: search page 8: HTTP 500" in result.output
    assert f"run {run_id}: dropped: invalid item (no identifier): Call" in result.output


def test_unreadable_stored_value_is_one_clear_line(db_path):
    """A stored value the command cannot read exits 1 with one line, no traceback."""
    with Store(db_path) as store:
        run_id = store.start_crawl_run("ft_portal", datetime.now(UTC))
        with store.conn:
            store.conn.execute(
                "UPDATE crawl_runs SET status = 'interrupted' WHERE id = ?", [run_id]
            )
    result = CliRunner().invoke(main, ["runs", "--db", str(db_path)])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: cannot read CrawlRun.status from 'interrupted'")


def test_csv_and_json_carry_no_bidirectional_controls(db_path):
    """A call whose title holds a right-to-left override is listed without it."""
    with Store(db_path) as store:
        # Hand-written: stored as an earlier version (that kept bidi controls) would have.
        call = Call(
            "ft_portal/BIDI-1", "ft_portal", "BIDI-1", "Grants \u202efor towns", status="open"
        )
        upsert_one(store, call, datetime.now(UTC))
    for output_format in ("csv", "json"):
        result = CliRunner().invoke(
            main, ["calls", "list", "--format", output_format, "--db", str(db_path)]
        )
        assert result.exit_code == 0, result.output
        assert "Grants for towns" in result.output
        assert "\u202e" not in result.output


def test_csv_suits_swedish_excel(crawled_db):
    """--format csv --separator ';': UTF-8 with a byte-order mark, ';' between fields,
    deadlines as dates or in Swedish time, no cell a spreadsheet would run as a formula."""
    result = CliRunner().invoke(
        main,
        ["calls", "list", "--format", "csv", "--separator", ";", "--db", str(crawled_db)],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("\ufeffid;identifier;title;")
    rows = list(csv.DictReader(io.StringIO(result.stdout[1:]), delimiter=";"))
    assert len(rows) == len(_json_list(crawled_db))
    deadlines = [row["next_deadline"] for row in rows if row["next_deadline"]]
    assert deadlines and all(re.fullmatch(r"\d{4}-\d\d-\d\d( \d\d:\d\d)?", d) for d in deadlines)
    assert any(" " in d for d in deadlines) and any(" " not in d for d in deadlines)
    cells = [value for row in rows for value in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


def test_spreadsheet_cells_that_look_like_formulas_become_text():
    """Hand-written hostile cells: each gets a leading apostrophe; ordinary ones stay."""
    hostile = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx"]
    assert [spreadsheet_cell(v) for v in hostile] == ["'" + v for v in hostile]
    assert spreadsheet_cell("Horizon Europe") == "Horizon Europe"
    assert spreadsheet_cell(2_500_000) == 2_500_000


def test_listing_after_a_replay_says_the_calls_are_old(crawled_db):
    """The snapshot was crawled as of 2026-08-22: listing it today says so, on stderr."""
    result = CliRunner().invoke(main, ["calls", "list", "--limit", "1", "--db", str(crawled_db)])
    assert "note: the calls were last crawled on 2026-08-22" in result.stderr
    assert "as stored then" in result.stderr and "--as-of" not in result.stderr


def test_data_date_notes():
    """Old data judged today, or an --as-of before the newest crawl, gets a note; an --as-of
    on the crawl's day none."""
    seen = datetime(2026, 8, 22, 10, tzinfo=UTC)
    today = datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert "pass --as-of 2026-08-22" in data_date_note(seen, today, None)
    assert "as stored then" in data_date_note(seen, today, None, judged=False)
    assert data_date_note(seen, datetime(2026, 8, 22, 12, tzinfo=UTC), "2026-08-22") == ""
    early = data_date_note(seen, datetime(2026, 8, 1, 12, tzinfo=UTC), "2026-08-01")
    assert early.startswith("note: --as-of 2026-08-01 is before the newest crawl (2026-08-22)")
    assert data_date_note(None, today, None) == ""
