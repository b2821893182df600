"""The first item pipelines on real parsed items: duplicates are stored once."""

from __future__ import annotations

import json

import pytest
import scrapy
from scrapy.exceptions import DropItem
from scrapy.http import TextResponse

from crawler.items import CallItem
from crawler.report import CrawlReport
from tests.support.offline_spider import (
    SEARCH_URL,
    answer,
    make_crawler,
    open_pipelines,
    run_pipelines,
)

# Duplicates ------------------------------------------------------------------------


def test_page_listed_twice_is_stored_once(snapshot_dir):
    """Page 1 fed twice stores 100 calls and drops the second copy of each."""
    crawler, spider = make_crawler()
    page = snapshot_dir / "ft_portal" / "search-page-1.json"
    pipelines = open_pipelines(crawler)
    stored, dropped = [], 0
    for _ in range(2):
        for output in spider.parse(answer(page, f"{SEARCH_URL}?pageNumber=1", 1)):
            if not isinstance(output, CallItem):
                continue
            try:
                stored.append(run_pipelines(pipelines, output).id)
            except DropItem:
                dropped += 1
    assert (len(stored), len(set(stored)), dropped) == (100, 100, 100)


def test_duplicate_row_in_one_page_dropped(snapshot_dir):
    """A row repeated within one page is dropped the second time."""
    crawler, spider = make_crawler()
    row = json.loads((snapshot_dir / "ft_portal" / "search-page-1.json").read_bytes())["results"][0]
    body = json.dumps({"totalResults": 2, "results": [row, row]}).encode()
    request = scrapy.Request(SEARCH_URL, meta={"page": 1})
    response = TextResponse(SEARCH_URL, body=body, encoding="utf-8", request=request)
    pipelines = open_pipelines(crawler)
    items = [o for o in spider.parse(response) if isinstance(o, CallItem)]
    run_pipelines(pipelines, items[0])
    with pytest.raises(DropItem, match="duplicate call ft_portal/HORIZON-CL5-2027-07-D3-16"):
        run_pipelines(pipelines, items[1])


def test_a_crawl_whose_every_item_is_invalid_failed():
    """Pages read but not one call usable is a failed crawl, not an ok one."""
    report = CrawlReport(pages_expected=1, pages=1, items_seen=5, items_invalid=5)
    assert report.status == "failed"
    report.items_seen = 6
    assert report.status == "ok"


def test_a_pages_sightings_drop_what_the_crawl_already_saw(snapshot_dir):
    """A page's unchanged calls travel as one Sightings item: the dedupe step keeps the ids
    seen for the first time in the crawl and counts the rest as skipped duplicates."""
    from crawler.pipelines import DedupePipeline, Sighting, Sightings

    crawler, spider = make_crawler()
    dedupe = DedupePipeline(crawler)
    dedupe.open_spider()
    first = Sightings((Sighting("ft_portal/A", "h1", None), Sighting("ft_portal/B", "h2", None)))
    assert dedupe.process_item(first) == first
    again = Sightings((Sighting("ft_portal/B", "h2", None), Sighting("ft_portal/C", "h3", None)))
    assert [s.id for s in dedupe.process_item(again).sightings] == ["ft_portal/C"]
    with pytest.raises(DropItem, match="every sighting a duplicate"):
        dedupe.process_item(Sightings((Sighting("ft_portal/A", "h1", None),)))
    assert spider.report.items_skipped == 2
