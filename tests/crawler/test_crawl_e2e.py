"""Replayed crawls of the saved Funding & Tenders Portal answers into a real temporary database."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.spiders.ft_portal import parse_portal_date
from db import CrawlRun, Store, from_text
from eufunds.config import Config
from eufunds.crawling import CrawlOptions, crawl
from tests.conftest import SNAPSHOT_CALLS, SNAPSHOT_NOW
from tests.support.databases import copy_database, stored_state

SOURCE_ID = "ft_portal"
PAGES = range(1, 9)
TOTAL_CALLS = SNAPSHOT_CALLS
# After every deadline in the snapshot (the latest is 2028-04-30): a listing wrongly taken as
# complete at this moment would close every call it missed.
FAR_FUTURE = datetime(2030, 1, 1, tzinfo=UTC)
PORTAL_DATE = "%Y-%m-%dT%H:%M:%S.000+0000"


def call_id(row: dict) -> str:
    """The stable id of a search result: source, identifier and, for cascade calls, reference."""
    metadata = row["metadata"]
    stable_id = f"{SOURCE_ID}/{metadata['identifier'][0]}"
    if metadata["type"][0] == "8":
        stable_id += f"#{row['reference']}"
    return stable_id


def read_page(replay: Path, page: int) -> dict:
    """One saved search page of a replay folder."""
    return json.loads((replay / SOURCE_ID / f"search-page-{page}.json").read_text("utf-8"))


def write_page(replay: Path, page: int, document: dict) -> None:
    """Replace one saved search page of a (copied) replay folder."""
    path = replay / SOURCE_ID / f"search-page-{page}.json"
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")


def deadlines(row: dict) -> list[datetime]:
    """The deadlines of a search result as aware datetimes."""
    return sorted(parse_portal_date(text) for text in row["metadata"].get("deadlineDate") or [])


def ids_with_changes(store: Store) -> list[str]:
    """Ids of the stored calls that have any row in call_changes."""
    return [call.id for call in store.list_calls() if store.call_changes(call.id)]


def crawl_portal(config: Config, db_path: Path, replay: Path, now: datetime) -> CrawlRun:
    """Crawl the portal source once from a replay folder and return its recorded run."""
    [run] = crawl(config, [SOURCE_ID], CrawlOptions(db_path=db_path, replay=replay, now=now))
    return run


@pytest.fixture(scope="module")
def config(config: Config) -> Config:
    """The embedded configuration with fast retries, so a lost page costs well under a second."""
    fast = dataclasses.replace(config.crawl, retry_times=2, retry_backoff_seconds=0.1)
    return dataclasses.replace(config, crawl=fast)


@pytest.fixture(scope="module")
def snapshot_rows(snapshot_dir: Path) -> dict[int, list[dict]]:
    """The saved search results, by page."""
    return {page: read_page(snapshot_dir, page)["results"] for page in PAGES}


@pytest.fixture
def crawled_db(crawled_snapshot: Path, db_path: Path) -> Path:
    """This test's own copy of the database after one clean crawl."""
    return copy_database(crawled_snapshot, db_path)


@pytest.fixture
def replay_copy(tmp_path: Path, snapshot_dir: Path) -> Path:
    """A writable copy of the saved answers under tmp_path, for tests that alter them."""
    folder = tmp_path / "replay"
    shutil.copytree(snapshot_dir / SOURCE_ID, folder / SOURCE_ID, copy_function=shutil.copyfile)
    (folder / SOURCE_ID).chmod(0o755)  # copytree also copies the shared folder's read-only mode
    return folder


def test_replayed_crawl_stores_every_call(crawled_snapshot, snapshot_rows):
    """A replayed crawl of the snapshot (the session's) stores all 723 calls, one ok run."""
    with Store(crawled_snapshot) as store:
        [run] = store.crawl_runs()

    assert (run.status, run.pages, run.items_seen) == ("ok", 8, TOTAL_CALLS)
    assert (run.items_new, run.items_changed, run.items_invalid) == (TOTAL_CALLS, 0, 0)
    assert (run.error_count, run.errors, run.closed_marked) == (0, [], 0)
    expected_ids = {call_id(row) for rows in snapshot_rows.values() for row in rows}
    with Store(crawled_snapshot) as store:
        assert store.count_calls(SOURCE_ID) == TOTAL_CALLS
        assert {call.id for call in store.list_calls()} == expected_ids
        call = store.get_call("ft_portal/HORIZON-CL5-2027-07-D3-16")
    assert call.deadlines == [datetime(2027, 12, 1, tzinfo=UTC)]
    assert call.status == "forthcoming"
    assert call.programme == "Horizon Europe (HORIZON)"
    assert call.first_seen == call.last_seen == SNAPSHOT_NOW


def test_second_crawl_changes_nothing(config, snapshot_dir, crawled_db):
    """Crawling the same answers again stores no new, changed or closed calls."""
    with Store(crawled_db) as store:
        before = stored_state(store)

    run = crawl_portal(config, crawled_db, snapshot_dir, SNAPSHOT_NOW)

    assert (run.status, run.items_seen, run.items_new, run.items_changed) == (
        "ok",
        TOTAL_CALLS,
        0,
        0,
    )
    assert run.closed_marked == 0
    with Store(crawled_db) as store:
        assert store.count_calls(SOURCE_ID) == TOTAL_CALLS
        assert stored_state(store) == before
        assert ids_with_changes(store) == []
        assert len(store.crawl_runs(SOURCE_ID)) == 2


def test_changed_deadline_is_recorded(config, crawled_db, replay_copy):
    """A deadline moved in the source is stored and recorded in call_changes, old and new."""
    page = read_page(replay_copy, 3)
    row = next(
        r for r in page["results"] if r["metadata"]["type"] == ["1"] and len(deadlines(r)) == 1
    )
    [old_deadline] = deadlines(row)
    new_deadline = old_deadline + timedelta(days=14)
    row["metadata"]["deadlineDate"] = [new_deadline.strftime(PORTAL_DATE)]
    write_page(replay_copy, 3, page)
    changed_id = call_id(row)
    with Store(crawled_db) as store:
        before = stored_state(store)

    run = crawl_portal(config, crawled_db, replay_copy, SNAPSHOT_NOW)

    assert (run.status, run.items_new, run.items_changed) == ("ok", 0, 1)
    with Store(crawled_db) as store:
        changes = store.call_changes(changed_id)
        assert [change.field for change in changes] == ["deadlines"]
        assert [from_text(text) for text in json.loads(changes[0].old)] == [old_deadline]
        assert [from_text(text) for text in json.loads(changes[0].new)] == [new_deadline]
        assert changes[0].changed_at == SNAPSHOT_NOW
        assert store.get_call(changed_id).deadlines == [new_deadline]
        assert ids_with_changes(store) == [changed_id]
        after = stored_state(store)
    assert after.pop(changed_id) != before.pop(changed_id)
    assert after == before


def test_call_gone_after_its_deadline_is_closed(config, crawled_db, replay_copy, snapshot_rows):
    """A call missing from a complete listing is closed, not deleted, once its deadline passed."""
    dated = [(deadlines(row), page, row) for page, rows in snapshot_rows.items() for row in rows]
    due_deadlines, due_page, due_row = min(
        (entry for entry in dated if entry[0]), key=lambda entry: entry[0]
    )
    now = max(due_deadlines) + timedelta(days=1)
    ahead_page, ahead_row = next(
        (page, row)
        for row_deadlines, page, row in dated
        if row["metadata"]["status"] == ["31094502"] and row_deadlines and row_deadlines[0] > now
    )
    due_id, ahead_id = call_id(due_row), call_id(ahead_row)
    for page in {due_page, ahead_page}:
        document = read_page(replay_copy, page)
        document["results"] = [
            row for row in document["results"] if call_id(row) not in (due_id, ahead_id)
        ]
        write_page(replay_copy, page, document)
    # The search counts two results fewer, so the listing is complete without them.
    first_page = read_page(replay_copy, 1)
    write_page(replay_copy, 1, first_page | {"totalResults": first_page["totalResults"] - 2})
    with Store(crawled_db) as store:
        due_before = store.get_call(due_id)

    run = crawl_portal(config, crawled_db, replay_copy, now)

    assert (run.status, run.items_seen, run.closed_marked) == ("ok", TOTAL_CALLS - 2, 1)
    with Store(crawled_db) as store:
        assert store.count_calls(SOURCE_ID) == TOTAL_CALLS
        closed = store.get_call(due_id)
        assert closed.status == "closed"
        assert (closed.title, closed.deadlines) == (due_before.title, due_before.deadlines)
        assert [(c.field, c.old, c.new) for c in store.call_changes(due_id)] == [
            ("status", due_before.status, "closed")
        ]
        assert store.get_call(ahead_id).status == "open"
        assert store.call_changes(ahead_id) == []
        assert [call.id for call in store.list_calls(status=["closed"])] == [due_id]


def test_missing_page_closes_nothing(config, crawled_db, replay_copy, snapshot_rows):
    """A page lost from the listing makes the run partial, names the page and closes no call."""
    (replay_copy / SOURCE_ID / "search-page-5.json").unlink()
    page_five_ids = {call_id(row) for row in snapshot_rows[5]}

    run = crawl_portal(config, crawled_db, replay_copy, FAR_FUTURE)

    assert (run.status, run.pages, run.closed_marked) == ("partial", 7, 0)
    assert run.items_seen == TOTAL_CALLS - len(page_five_ids)
    assert run.error_count == 1
    assert "search page 5" in run.errors[0]
    with Store(crawled_db) as store:
        calls = store.list_calls()
    assert len(calls) == TOTAL_CALLS
    # Only cascade-funding calls this crawl read are closed, by their own passed deadlines.
    closed = {call.id for call in calls if call.status == "closed"}
    assert closed.isdisjoint(page_five_ids)
    assert {call.kind for call in calls if call.id in closed} <= {"cascade"}
    # This crawl stored the other pages' calls (seen now) and left page 5's as they were.
    assert {call.id for call in calls if call.last_seen == SNAPSHOT_NOW} == page_five_ids
    assert {call.last_seen for call in calls if call.id not in page_five_ids} == {FAR_FUTURE}


def test_missing_facet_list_fails_and_changes_nothing(config, crawled_db, replay_copy):
    """Without the facet answer the crawl stops: failed, the cause named, no call touched."""
    (replay_copy / SOURCE_ID / "facet.json").unlink()
    with Store(crawled_db) as store:
        before = stored_state(store)

    run = crawl_portal(config, crawled_db, replay_copy, FAR_FUTURE)

    assert (run.status, run.pages, run.items_seen, run.closed_marked) == ("failed", 0, 0, 0)
    assert run.errors[0].startswith("facet list: ")
    with Store(crawled_db) as store:
        assert stored_state(store) == before
        assert ids_with_changes(store) == []
