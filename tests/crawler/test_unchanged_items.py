"""A re-crawl that reads the same items again only records that it saw them (item hashes):
it stores exactly what reading every item in full stores, and cleans no description."""

from __future__ import annotations

import multiprocessing
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
