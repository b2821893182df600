"""Source health: which sources need a look, in `eufunds sources`, the coordinator's digest
and the exit code of `eufunds crawl`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from db import CrawlCounts, Store
from db.records import RunStatus
from eufunds.cli import main
from eufunds.digests import send_digests
from eufunds.health import sources_health
from notifier.send import read_outbox
from tests.conftest import SNAPSHOT_NOW
from tests.support.mail import text_and_html

START = datetime(2026, 8, 1, 5, 30, tzinfo=UTC)


def _runs(store: Store, source_id: str, results: list[tuple[RunStatus, int]]) -> None:
    """Record crawl runs of a source, oldest first: (status, calls seen)."""
    for day, (status, seen) in enumerate(results):
        moment = START + timedelta(days=day)
        run_id = store.start_crawl_run(source_id, moment)
        errors = ["page 1: HTTP 503"] if status == RunStatus.FAILED else []
        store.finish_crawl_run(
            run_id,
            status,
            CrawlCounts(pages=1, items_seen=seen, error_count=len(errors)),
            errors,
            [],
            moment,
        )


CASES = {
    "healthy": ([(RunStatus.OK, 100), (RunStatus.OK, 104), (RunStatus.OK, 98)], ""),
    "three failures": (
        [(RunStatus.OK, 100), *[(RunStatus.FAILED, 0)] * 3],
        "de senaste 3 hämtningarna misslyckades",
    ),
    "two failures": ([(RunStatus.OK, 100), *[(RunStatus.FAILED, 0)] * 2], ""),
    "no calls": (
        [(RunStatus.OK, 100), (RunStatus.OK, 0)],
        "senaste hämtningen gav inga utlysningar",
    ),
    "under half": (
        [(RunStatus.OK, 100), (RunStatus.OK, 96), (RunStatus.OK, 40)],
        "senaste hämtningen gav 40 utlysningar, mot vanligen 98",
    ),
    "skipped in replays": ([(RunStatus.OK, 100), (RunStatus.SKIPPED, 0)], ""),
}


@pytest.mark.parametrize("case", CASES.keys())
def test_a_source_is_flagged_for_what_its_runs_show(store, config, case):
    """Three failures in a row, no calls, or under half the median: flagged; else not."""
    runs, problem = CASES[case]
    _runs(store, "ft_portal", runs)
    [health] = [h for h in sources_health(store, config.sources) if h.source_id == "ft_portal"]
    assert health.problem == problem
    assert health.recent_items[0] == [seen for status, seen in runs if status != "skipped"][-1]


def test_sources_command_shows_health_as_json(db_path, config):
    """`eufunds sources --format json`: every enabled source with its health."""
    with Store(db_path) as store:
        _runs(store, "ft_portal", [(RunStatus.OK, 100), *[(RunStatus.FAILED, 0)] * 3])
    result = CliRunner().invoke(main, ["sources", "--format", "json", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    health = {h["source"]: h for h in json.loads(result.output)}
    assert set(health) == {s.id for s in config.sources if s.enabled}
    portal = health["ft_portal"]
    assert portal["problem"] == "de senaste 3 hämtningarna misslyckades"
    assert portal["last_error"] == "page 1: HTTP 503"
    assert portal["recent_items"] == [0, 0, 0, 100]


def test_coordinators_digest_lists_the_sources_with_problems(matched_store, config, tmp_path):
    """The department whose recipients include the EU coordinator gets "Källor med problem";
    the others do not."""
    _runs(matched_store, "vinnova", [*[(RunStatus.FAILED, 0)] * 3])
    outcomes = send_digests(matched_store, config, SNAPSHOT_NOW, tmp_path, None)
    by_department = {o.department_id: read_outbox(o.path) for o in outcomes if o.path}
    coordinator = config.organisation.coordinator_email
    [own] = [d.id for d in config.departments if coordinator in d.recipients]
    text, html = text_and_html(by_department.pop(own))
    assert "== Källor med problem (1) ==" in text
    assert "* Vinnova: de senaste 3 hämtningarna misslyckades" in text
    assert "Källor med problem (1)" in html
    assert all("Källor med problem" not in text_and_html(m)[0] for m in by_department.values())


def test_crawl_exits_1_only_when_every_source_failed(tmp_path, snapshot_dir):
    """One source failing among others: exit 0 with a warning; all failing: exit 1."""
    replay = tmp_path / "replay"
    (replay / "vinnova").mkdir(parents=True)
    # Hand-written: an answer that is not JSON, so the Vinnova crawl fails.
    (replay / "vinnova" / "page-1.json").write_text("<html>maintenance</html>")
    (replay / "ft_portal").symlink_to(snapshot_dir / "ft_portal")
    db = str(tmp_path / "x.db")
    both = CliRunner().invoke(
        main, ["crawl", "ft_portal", "vinnova", "--replay", str(replay), "--db", db]
    )
    assert both.exit_code == 0, both.output
    assert "warning: vinnova failed; the other sources were read" in both.output
    alone = CliRunner().invoke(main, ["crawl", "vinnova", "--replay", str(replay), "--db", db])
    assert alone.exit_code == 1


def test_sources_table_tells_a_source_never_crawled_from_a_healthy_one(db_path):
    """In the table, a source with crawls and no problem is 'ok'; one never crawled (only
    skipped by replays) says so instead."""
    with Store(db_path) as store:
        _runs(store, "ft_portal", [(RunStatus.OK, 100), (RunStatus.OK, 90)])
        _runs(store, "vinnova", [(RunStatus.SKIPPED, 0)])
    result = CliRunner().invoke(main, ["sources", "--db", str(db_path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert [cell.strip() for cell in rows["ft_portal"].split("│")[3:5]] == ["90 100", "ok"]
    assert rows["vinnova"].split("│")[4].strip() == "ännu inte hämtad"
