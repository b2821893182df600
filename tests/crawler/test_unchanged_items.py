"""A re-crawl that reads the same items again only records that it saw them (item hashes):
it stores exactly what reading every item in full stores, and cleans no description."""

from __future__ import annotations

import copy
import inspect
import json
import multiprocessing
import shutil
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from db import Store
from eufunds.config import load_config
from eufunds.crawling import CrawlOptions, crawl, user_agent
from tests.conftest import SNAPSHOT_CALLS, SNAPSHOT_NOW
from tests.support.databases import copy_database

# A second crawl a month and a half later: next deadlines move on, some statuses by dates too.
LATER = SNAPSHOT_NOW + timedelta(days=45)
# What differs between two crawl runs however they went: their ids and clocks.
RUN_CLOCKS = ("id", "started", "finished")


def table_rows(db_path: Path, table: str, leave_out: tuple[str, ...] = ()) -> list[tuple]:
    """Every row of a table (in rowid order), without the columns left out."""
    with closing(sqlite3.connect(db_path)) as connection:
        names = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
        kept = ", ".join(name for name in names if name not in leave_out)
        return connection.execute(f"SELECT {kept} FROM {table} ORDER BY rowid").fetchall()


def recrawl(db_path: Path, snapshot_dir: Path, now=LATER) -> None:
    """Crawl the snapshot again into this database, as `eufunds crawl` does."""
    runs = crawl(load_config(), ["ft_portal"], CrawlOptions(db_path, snapshot_dir, now))
    assert [run.status for run in runs] == ["ok"]


@pytest.fixture(scope="module")
def both_ways(crawled_snapshot: Path, snapshot_dir: Path, tmp_path_factory) -> tuple[Path, Path]:
    """The crawled snapshot crawled again later: with its item hashes (sightings), and with
    them forgotten (every item read in full, as before item hashes)."""
    folder = tmp_path_factory.mktemp("recrawl")
    sighted = copy_database(crawled_snapshot, folder / "sighted.db")
    read_in_full = copy_database(crawled_snapshot, folder / "full.db")
    with closing(sqlite3.connect(read_in_full)) as connection, connection:
        connection.execute("UPDATE calls SET item_hash = ''")
    for db_path in (sighted, read_in_full):
        recrawl(db_path, snapshot_dir)
    return sighted, read_in_full


def test_the_first_crawl_keeps_every_calls_item_hash(crawled_snapshot: Path):
    with Store(crawled_snapshot) as store:
        assert len(store.item_hashes("ft_portal")) == SNAPSHOT_CALLS


def test_a_sighting_stores_what_reading_in_full_stores(both_ways):
    sighted, read_in_full = both_ways
    calls = table_rows(sighted, "calls")
    assert len(calls) == SNAPSHOT_CALLS
    assert calls == table_rows(read_in_full, "calls")
    assert table_rows(sighted, "call_changes", ("id",)) == table_rows(
        read_in_full, "call_changes", ("id",)
    )
    assert table_rows(sighted, "crawl_runs", RUN_CLOCKS) == table_rows(
        read_in_full, "crawl_runs", RUN_CLOCKS
    )


def test_the_recrawl_saw_every_call_later(both_ways):
    sighted, _ = both_ways
    with Store(sighted) as store:
        assert {call.last_seen for call in store.list_calls()} == {LATER}
        assert store.get_call(store.call_ids()[0]).raw.startswith("{")


def test_the_full_text_index_still_finds_the_calls(both_ways):
    sighted, _ = both_ways
    with Store(sighted) as store:
        found, total = store.search_calls("climate adaptation")
    assert total > 0
    assert all("climat" in (c.title + c.summary).lower() for c in found)


def _count_cleaning(db_path: str, replay: str, now: str, results) -> None:
    """In a child: crawl with the cleaner counted; send back its calls and the report."""
    import crawler.pipelines
    from crawler.runner import run_crawl
    from crawler.settings import scrapy_settings
    from crawler.spiders import SPIDERS

    config = load_config()
    cleaned = []
    original = crawler.pipelines.html_to_text

    def counted(markup):
        cleaned.append(1)
        return original(markup)

    crawler.pipelines.html_to_text = counted
    # What goes through Scrapy's item handling: a call each, or a page's sightings as one.
    items = []
    process = crawler.pipelines.NormalisePipeline.process_item

    def counted_item(self, item):
        items.append(1)
        return process(self, item)

    crawler.pipelines.NormalisePipeline.process_item = counted_item
    source = config.source("ft_portal")
    settings = scrapy_settings(
        source_id=source.id,
        db_path=db_path,
        run_id=None,
        user_agent=user_agent(config),
        replay=replay,
        now=now,
    )
    arguments = SPIDERS[source.kind].arguments(source, config.crawl.page_size)
    report = run_crawl(source.kind, arguments, settings)
    results.put(
        (len(cleaned), report.items_seen, report.items_new, report.items_changed, len(items))
    )


def cleaning_count(db_path: Path, snapshot_dir: Path, now) -> tuple[int, int, int, int, int]:
    """Descriptions cleaned, items seen, new and changed by a crawl in a forked child, and
    the items that went through Scrapy's item handling."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    arguments = (str(db_path), str(snapshot_dir), now.isoformat(), results)
    child = context.Process(target=_count_cleaning, args=arguments)
    child.start()
    outcome = results.get(timeout=120)
    child.join()
    assert child.exitcode == 0
    return outcome


def test_an_unchanged_recrawl_cleans_nothing(both_ways, snapshot_dir: Path, tmp_path: Path):
    sighted, _ = both_ways
    db_path = copy_database(sighted, tmp_path / "again.db")
    before = table_rows(db_path, "calls", ("last_seen",))
    cleaned, seen, new, changed, items = cleaning_count(db_path, snapshot_dir, LATER)
    assert (cleaned, seen, new, changed) == (0, SNAPSHOT_CALLS, 0, 0)
    # The spider sends each search page's unchanged calls as one item, not one per call.
    pages = len(list((snapshot_dir / "ft_portal").glob("search-page-*.json")))
    assert items == pages < SNAPSHOT_CALLS
    assert table_rows(db_path, "calls", ("last_seen",)) == before


def test_the_counter_sees_cleaning(crawled_snapshot: Path, snapshot_dir: Path, tmp_path: Path):
    # A check that cannot fail is no check: with the item hashes forgotten, every item
    # with a description is cleaned again.
    db_path = copy_database(crawled_snapshot, tmp_path / "forgotten.db")
    with closing(sqlite3.connect(db_path)) as connection, connection:
        connection.execute("UPDATE calls SET item_hash = ''")
    cleaned, seen, new, changed, items = cleaning_count(db_path, snapshot_dir, SNAPSHOT_NOW)
    assert cleaned == SNAPSHOT_CALLS
    assert (seen, new, changed, items) == (SNAPSHOT_CALLS, 0, 0, SNAPSHOT_CALLS)


def _forget_item_hashes(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path)) as connection, connection:
        connection.execute("UPDATE calls SET item_hash = ''")


def test_a_call_closed_as_gone_opens_again_when_listed_unchanged(
    crawled_snapshot: Path, snapshot_dir: Path, tmp_path: Path
):
    """Closed because a complete listing lacked it, then listed again as it was: read in
    full (its item hash no longer stands for it), so it opens again, as a full read does."""
    with Store(crawled_snapshot) as store:
        calls = store.list_calls()
    # A call whose deadlines have all passed by LATER: a complete listing without it closes it.
    gone = next(
        c
        for c in calls
        if c.kind != "cascade"
        and c.status != "closed"
        and c.deadlines
        and all(d < LATER for d in c.deadlines)
    )
    statuses = []
    for name in ("sighted", "full"):
        db_path = copy_database(crawled_snapshot, tmp_path / f"{name}.db")
        with Store(db_path) as store:
            assert (
                store.mark_unseen_closed(
                    "ft_portal", {c.id for c in calls} - {gone.id}, LATER, None
                )
                == 1
            )
        if name == "full":
            _forget_item_hashes(db_path)
        recrawl(db_path, snapshot_dir, LATER)
        with Store(db_path) as store:
            statuses.append(store.get_call(gone.id).status)
    assert statuses[0] == statuses[1] != "closed"


def test_a_call_listed_twice_on_a_page_is_stored_from_its_first_row(
    crawled_snapshot: Path, snapshot_dir: Path, tmp_path: Path
):
    """The page lists a call unchanged, then again with another title (a hand-made copy of
    its first result): stored from the first row, as a full read stores it."""
    replay = tmp_path / "replay"
    shutil.copytree(snapshot_dir, replay)
    page = replay / "ft_portal" / "search-page-1.json"
    document = json.loads(page.read_text(encoding="utf-8"))
    repeated = copy.deepcopy(document["results"][0])
    repeated["metadata"]["title"] = ["CHANGED TITLE"]
    document["results"].append(repeated)
    page.write_text(json.dumps(document), encoding="utf-8")
    titles = []
    for name in ("sighted", "full"):
        db_path = copy_database(crawled_snapshot, tmp_path / f"{name}.db")
        if name == "full":
            _forget_item_hashes(db_path)
        recrawl(db_path, replay, SNAPSHOT_NOW + timedelta(days=1))
        titles.append(_titles(db_path))
    assert titles[0] == titles[1]
    assert not any("CHANGED TITLE" in title for title in titles[0])


def _titles(db_path: Path) -> list[str]:
    with closing(sqlite3.connect(db_path)) as connection:
        return [row[0] for row in connection.execute("SELECT title FROM calls ORDER BY id")]


def test_the_code_digest_is_the_loaded_codes(tmp_path: Path, monkeypatch):
    """The item hash names the code a crawl runs: a file changed on disk after the crawler
    was loaded (an upgrade beside a running fork server) does not change it."""
    import crawler.pipelines

    loaded = crawler.pipelines.normalising_code()
    real = inspect.getsource

    def changed_on_disk(module):
        return real(module) + "\n# changed on disk\n"

    monkeypatch.setattr(inspect, "getsource", changed_on_disk)
    assert crawler.pipelines.normalising_code() == loaded
    assert crawler.pipelines._code_digest() != loaded
