"""Spider for listing pages of calls, read with the CSS selectors of the source's options.

Options (config/sources.toml): ``item`` (each call on the listing, required), ``title``,
``link`` (its ``href``), ``deadline``, ``status``, ``summary`` (within an item), ``next_page``
(the link to the next listing page), and ``follow`` with ``[source.detail]`` to read each
call's page (see crawler/spiders/detail.py). Dates and statuses may be written in Swedish or
English ("13 augusti 2026", "Öppen"). A listing where the item selector finds nothing is an
error: the site's markup changed, and the calls stored before are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy import Selector
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.dates import formatted_date, written_status
from crawler.items import CallItem
from crawler.pipelines import crawl_now
from crawler.selectors import select
from crawler.spiders.configured import ConfiguredSpider
from crawler.spiders.detail import DetailPages, by_deadline
from db.records import Call, CallStatus, SourceKind

# Most listing pages read in one crawl: a next-page link that never ends is a broken site.
MAX_PAGES = 200


class HtmlListingSpider(DetailPages, ConfiguredSpider):
    """Reads the calls of a listing page (and the pages after it) with CSS selectors."""

    name = SourceKind.HTML_LISTING

    async def start(self):
        """Ask for the first listing page."""
        yield self._page(self.url, 1)

    def _page(self, url: str, number: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.on_error,
            meta={"replay_file": f"listing-page-{number}.html", "page": number},
            dont_filter=True,
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[CallItem | scrapy.Request]:
        """Read the calls of one listing page, then go on to the next page if there is one."""
        number = response.meta.get("page", 1)
        items = select(response, self.options["item"])
        self.report.pages += 1
        self.report.pages_expected = max(self.report.pages_expected, number)
        self.report.changed()
        if not items:
            self.report.error(
                f"listing page {number}: no calls at {self.options['item']!r} (the page's "
                "markup may have changed)"
            )
            return
        now = crawl_now(self.crawler)
        for position, item in enumerate(items, start=1):
            try:
                call_item = self._parse_item(item, response.url, now)
            except Exception as exc:  # noqa: BLE001 - one bad item costs only itself
                self.report.items_seen += 1
                self.report.invalid(f"listing page {number}, call {position}: unreadable ({exc})")
                continue
            yield self.followed(call_item)
        following = self._first(response, "next_page", "attr(href)")
        if following and number < MAX_PAGES:
            self.report.pages_expected = number + 1
            yield self._page(urljoin(response.url, following), number + 1)

    def on_error(self, failure: Failure) -> None:
        """Record a listing page that could not be downloaded."""
        number = failure.request.meta.get("page") if hasattr(failure, "request") else None
        response = getattr(failure.value, "response", None)
        reason = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()
        self.report.error(f"listing page {number}: {reason}")

    def _parse_item(self, item: Selector, base: str, now: datetime) -> CallItem:
        """One call of the listing; a deadline that is no date is left out (and counted)."""
        title = self._first(item, "title", "text") or " ".join(item.xpath("string()").get().split())
        link = (
            urljoin(base, self._first(item, "link", "attr(href)"))
            if self.options.get("link")
            else ""
        )
        deadline_text = self._first(item, "deadline", "text")
        date_format = self.options.get("date_format", "")
        deadline = formatted_date(deadline_text, date_format, now) if deadline_text else None
        status = written_status(self._first(item, "status", "text")) or CallStatus.OPEN
        call = Call(
            id="",
            source_id=self.source_id,
            identifier=link or title,
            title=title,
            url=link,
            programme=self.programme,
            kind="call-for-proposals",
            status=by_deadline(status, deadline, now),
            deadlines=[deadline] if deadline else [],
            language=self.language,
        )
        unreadable = ("deadlines",) if deadline_text and deadline is None else ()
        summary = self._first(item, "summary", "text")
        return CallItem(
            call, description_html=summary, raw={"html": item.get()}, unreadable=unreadable
        )

    def _first(self, where: Selector | Response, name: str, take: str) -> str:
        """The text (or attribute) the named selector finds first; empty when it finds none."""
        selector = self.options.get(name)
        if not selector:
            return ""
        found = select(where, selector)
        if take == "text":
            return " ".join((found.xpath("string()").get() or "").split())
        return (found.css(f"::{take}").get() or "").strip()
