"""Offline runs of the portal spider and the first pipelines on saved real answers.

No network and no reactor: saved answers become Scrapy responses handed to the spider's
callbacks, and its items go through the normalise, validate and dedupe pipelines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import scrapy
from scrapy.exceptions import DropItem
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from crawler.items import CallItem
from crawler.pipelines import DedupePipeline, NormalisePipeline, ValidatePipeline
from crawler.report import CrawlReport
from crawler.spiders.ft_portal import FtPortalSpider
from db import Call

SEARCH_URL = "https://api.example.invalid/search"
FACET_URL = "https://api.example.invalid/facet"
NOW = "2026-08-22T06:00:00+00:00"


def utc(*parts: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*parts, tzinfo=UTC)


@dataclass
class Crawl:
    """What one offline parse produced: spider, scheduled requests, items and stored calls."""

    spider: FtPortalSpider
    facet_requests: list[scrapy.Request] = field(default_factory=list)
    page_requests: dict[int, list[scrapy.Request]] = field(default_factory=dict)
    items: list[CallItem] = field(default_factory=list)
    calls: dict[str, Call] = field(default_factory=dict)

    @property
    def report(self) -> CrawlReport:
        """The spider's crawl report."""
        return self.spider.report


def make_crawler(now: str = NOW):
    """A test crawler with a spider pointing at unreachable addresses."""
    crawler = get_crawler(FtPortalSpider, settings_dict={"EUFUNDS_NOW": now})
    spider = FtPortalSpider.from_crawler(
        crawler, source_id="ft_portal", search_url=SEARCH_URL, facet_url=FACET_URL
    )
    crawler.spider = spider
    return crawler, spider


def answer(path: Path, url: str, page: int | None = None) -> TextResponse:
    """A saved answer as the response to a request for `url` (search page `page`)."""
    meta = {"page": page} if page is not None else {}
    return TextResponse(
        url=url,
        body=path.read_bytes(),
        encoding="utf-8",
        request=scrapy.Request(url, meta=meta),
    )


def open_pipelines(crawler) -> list:
    """Normalise, validate and dedupe pipelines, opened as Scrapy would."""
    pipelines = [
        cls.from_crawler(crawler) for cls in (NormalisePipeline, ValidatePipeline, DedupePipeline)
    ]
    for pipeline in pipelines:
        if hasattr(pipeline, "open_spider"):
            pipeline.open_spider()
    return pipelines


def run_pipelines(pipelines: list, item: CallItem):
    """Pass one item through the pipelines; DropItem propagates."""
    result = item
    for pipeline in pipelines:
        result = pipeline.process_item(result)
    return result


def crawl(pages: list[tuple[int, Path]], facet_file: Path | None) -> Crawl:
    """Parse the facet answer (when given) and the search pages, then store every item."""
    crawler, spider = make_crawler()
    result = Crawl(spider=spider)
    if facet_file is not None:
        result.facet_requests = list(spider.parse_facets(answer(facet_file, FACET_URL)))
    for page, path in pages:
        outputs = list(spider.parse(answer(path, f"{SEARCH_URL}?pageNumber={page}", page)))
        result.page_requests[page] = [o for o in outputs if isinstance(o, scrapy.Request)]
        result.items += [o for o in outputs if isinstance(o, CallItem)]
    pipelines = open_pipelines(crawler)
    for item in result.items:
        try:
            call = run_pipelines(pipelines, item)
        except DropItem:
            continue
        result.calls[call.id] = call
    return result


def search_pages(snapshot_dir: Path) -> list[tuple[int, Path]]:
    """The eight saved search pages of the snapshot."""
    return [(n, snapshot_dir / "ft_portal" / f"search-page-{n}.json") for n in range(1, 9)]


def query_params(request: scrapy.Request) -> dict[str, str]:
    """The query string of a request as a flat dict."""
    return {key: values[0] for key, values in parse_qs(urlsplit(request.url).query).items()}


def multipart_parts(request: scrapy.Request) -> dict[str, object]:
    """Decode the multipart/form-data body of a request into its JSON parts, by name."""
    content_type = request.headers[b"Content-Type"]
    message = message_from_bytes(
        b"Content-Type: " + content_type + b"\r\n\r\n" + request.body, policy=email_policy
    )
    return {
        part.get_param("name", header="content-disposition"): json.loads(part.get_content())
        for part in message.iter_parts()
    }
