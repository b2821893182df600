"""The main job: the lock that keeps runs from overlapping, and `eufunds run-once` end to end."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from db import Store
from eufunds.cli import main
from eufunds.config import load_config
from eufunds.joblock import LOCK, LOCK_TTL
from tests.support.digest_runs import (
    DEPARTMENTS,
    WEEK,
)


def run_once(replay: Path, outbox: Path, db_path: Path) -> Result:
    """`eufunds run-once --replay ... --as-of 2026-08-22` to an outbox, no SMTP server."""
    arguments = ["--replay", str(replay), "--as-of", "2026-08-22", "--outbox", str(outbox)]
    return CliRunner().invoke(
        main,
        ["run-once", *arguments, "--db", str(db_path)],
        env={"EUFUNDS_SMTP_HOST": "", "EUFUNDS_CONFIG": None},
    )


def test_run_once_while_locked_is_one_clear_line(db_path, snapshot_dir, tmp_path):
    """`eufunds run-once` while another run holds the lock exits 1 with one line, no crawl."""
    with Store(db_path) as store:
        assert store.acquire_lock(LOCK, "other-host:4242", datetime.now(UTC), LOCK_TTL)
    result = run_once(snapshot_dir, tmp_path / "outbox", db_path)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: another run is in progress (other-host:4242)"
    ]
    with Store(db_path) as store:
        assert store.count_calls() == 0
        assert store.lock_holder(LOCK) == "other-host:4242"


# eufunds run-once -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_twice(tmp_path_factory, snapshot_dir):
    """`eufunds run-once --replay --as-of 2026-08-22` twice on a fresh database, to an outbox."""
    folder = tmp_path_factory.mktemp("run-once")
    first = run_once(snapshot_dir, folder / "outbox", folder / "run.db")
    second = run_once(snapshot_dir, folder / "outbox", folder / "run.db")
    return first, second, folder


def test_run_once_crawls_the_snapshot(run_twice):
    """The first run crawls every call of the snapshot."""
    first, _, _ = run_twice
    assert first.exit_code == 0, first.output
    assert "calls stored: 723" in first.output


def test_run_once_prints_matches_per_department(run_twice, config):
    """A table of matches as of the date, one row per department with its count."""
    first, _, folder = run_twice
    assert "Matches as of 2026-08-22" in first.output
    with Store(folder / "run.db") as store:
        for department in config.departments:
            count = len(store.matches(department.id))
            assert count > 0
            assert re.search(rf"{re.escape(department.name)}\s*│\s*{count}\s*│", first.output)


def test_run_once_delivers_and_shows_a_file(run_twice, config):
    """The digests table, every department delivered, and the path of one file to open."""
    first, _, folder = run_twice
    assert "Digests" in first.output
    assert f"digests delivered: {DEPARTMENTS} of {DEPARTMENTS}" in first.output
    for department in config.departments:
        assert re.search(rf"{re.escape(department.id)}\s*│\s*{WEEK}\s*│\s*written", first.output)
    [opened] = re.findall(r"^open one: (.+)$", first.output, re.MULTILINE)
    assert Path(opened).is_file()
    assert Path(opened).parent == folder / "outbox"


def test_run_once_again_delivers_nothing(run_twice, config):
    """Run again the same day: every digest is already done, nothing delivered, no file."""
    _, second, folder = run_twice
    assert second.exit_code == 0, second.output
    assert (
        f"digests delivered: 0 of {DEPARTMENTS} ({DEPARTMENTS} already had this week's digest)"
        in second.output
    )
    assert "open one:" not in second.output
    assert second.output.count("already-done") == DEPARTMENTS
    assert len(list((folder / "outbox").iterdir())) == DEPARTMENTS


def test_run_once_waits_for_each_departments_weekday(snapshot_dir, tmp_path):
    """On a Monday, run-once sends only the Monday departments' digests, as the scheduler
    would, and says the Tuesday ones are not due; --all-departments sends them too."""
    config = load_config()
    monday = [d.id for d in config.departments if d.digest_weekday == "monday"]
    assert 0 < len(monday) < DEPARTMENTS
    common = [
        "--replay",
        str(snapshot_dir),
        "--as-of",
        "2026-08-24",
        "--db",
        str(tmp_path / "r.db"),
    ]
    first = CliRunner().invoke(main, ["run-once", *common, "--outbox", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    waiting = DEPARTMENTS - len(monday)
    assert (
        f"digests delivered: {len(monday)} of {DEPARTMENTS} ({waiting} not due until their "
        "digest weekday" in first.output
    )
    assert sorted(p.stem.split("-", 2)[2] for p in (tmp_path / "a").iterdir()) == sorted(monday)
    every = CliRunner().invoke(
        main, ["run-once", *common, "--outbox", str(tmp_path / "b"), "--all-departments"]
    )
    assert every.exit_code == 0, every.output
    assert len(list((tmp_path / "b").iterdir())) == waiting
