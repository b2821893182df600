"""Dates and versions: a year typo is no date, a newer database is refused, an unwritable
one and two first runs at once each end in one clear line."""

from __future__ import annotations

import multiprocessing
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from db import Store, StoreError
from db.schema import MIGRATION_NAMES
from eufunds.cli import main
from tests.support.databases import copy_database


@pytest.mark.parametrize("as_of", ["0026-08-22", "9999-12-31", "1999-12-31"])
def test_implausible_as_of_date_is_refused_before_anything_is_written(db_path, as_of):
    """A year typo stops the command (exit 2, one line naming the range); no database."""
    result = CliRunner().invoke(
        main, ["digest", "--dry-run", "--as-of", as_of, "--db", str(db_path)]
    )
    assert result.exit_code == 2
    assert f"expected a date from 2000 to 2099 (like 2026-09-30), got {as_of!r}" in result.output
    assert not db_path.exists()


def test_database_of_a_newer_version_is_refused(db_path):
    """A database that applied a migration this version does not know is not opened (it
    would be written in a schema this version does not understand)."""
    Store(db_path).close()
    with Store(db_path) as store, store.conn:
        store.conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('eufunds', 'm099_from_the_future', '2027-01-01')"
        )
    with pytest.raises(StoreError, match="m099_from_the_future") as refused:
        Store(db_path)
    assert f"this version knows up to {MIGRATION_NAMES[-1]}" in str(refused.value)
    result = CliRunner().invoke(main, ["runs", "--db", str(db_path)])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"Error: database {db_path} was written by a newer version of eufunds")


def test_unwritable_database_is_one_line(crawled_snapshot, tmp_path):
    """A database file that cannot be written (immutable) stops a job with one line."""
    db_path = copy_database(crawled_snapshot, tmp_path / "locked-down.db")
    if subprocess.run(["chattr", "+i", str(db_path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i (an immutable file) is not possible here")
    try:
        result = CliRunner().invoke(main, ["match", "--as-of", "2026-08-22", "--db", str(db_path)])
    finally:
        subprocess.run(["chattr", "-i", str(db_path)], check=True)
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: database ")
    assert "attempt to write a readonly database" in line


def _open(path: str, start: multiprocessing.synchronize.Barrier, results) -> None:
    """Open (and so create and migrate) the database the moment every opener is ready."""
    start.wait()
    try:
        Store(path).close()
        results.put("ok")
    except StoreError as exc:
        results.put(str(exc))


def test_first_opens_at_the_same_moment_all_succeed(db_path: Path):
    """Four processes creating the same new database at once all get it migrated."""
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(4), context.Queue()
    openers = [context.Process(target=_open, args=(str(db_path), start, results)) for _ in range(4)]
    for opener in openers:
        opener.start()
    for opener in openers:
        opener.join(30)
    assert sorted(results.get(timeout=5) for _ in openers) == ["ok"] * 4
    with Store(db_path) as store:
        names = [row[0] for row in store.conn.execute("SELECT name FROM _sqlite_migrations")]
    assert names == MIGRATION_NAMES


def test_two_first_runs_at_once_meet_the_job_lock(tmp_path, snapshot_dir):
    """Two runs on a new database started together: one runs, the other is told another run
    is in progress (never that the database is locked)."""
    db_path = tmp_path / "fresh.db"
    command = [
        str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "eufunds"),
        "crawl",
        "--replay",
        str(snapshot_dir),
        "--db",
        str(db_path),
    ]
    runs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = sorted((run.wait(60), run.stderr.read()) for run in runs)
    assert "locked" not in " ".join(error for _, error in outcomes)
    assert outcomes[0][0] == 0
    assert outcomes[1][0] == 0 or "another run is in progress" in outcomes[1][1]


def test_empty_as_of_is_refused(db_path):
    """--as-of "" is no date: refused, not taken as today."""
    result = CliRunner().invoke(main, ["match", "--as-of", "", "--db", str(db_path)])
    assert result.exit_code == 2
    assert "expected a date like 2026-09-30, got ''" in result.output


def test_reading_commands_never_create_a_database(tmp_path):
    """Listing, showing or explaining on a path with no database says so; nothing is made."""
    db_path = tmp_path / "nowhere" / "eufunds.db"
    for command in (["calls", "list"], ["runs"], ["lock"], ["calls", "show", "x"]):
        result = CliRunner().invoke(main, [*command, "--db", str(db_path)])
        assert result.exit_code == 1, command
        assert (
            result.output.strip()
            == f"Error: no database at {db_path} (eufunds crawl or run-once makes one)"
        )
    assert not (tmp_path / "nowhere").exists()


def test_absurd_limit_is_refused(db_path):
    """A --limit larger than SQLite counts is refused with the allowed range."""
    result = CliRunner().invoke(main, ["calls", "list", "--limit", "9" * 30, "--db", str(db_path)])
    assert result.exit_code == 2
    assert "is not in the range 1<=x<=1000000" in result.output
