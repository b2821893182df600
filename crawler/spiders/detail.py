"""Reading an item's own page: the part feed and listing spiders share.

With ``follow`` in a source's options, each item's page is asked for and the CSS selectors
of ``[source.detail]`` (deadline, audience, cofinancing, summary, status) complete the call.
A page that cannot be read leaves the item as the list gave it, with a note.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.dates import formatted_date, written_status
from crawler.items import CallItem
from crawler.pipelines import crawl_now
from crawler.report import CrawlReport
from crawler.selectors import select
from db.deadlines import deadline_end
from db.records import CallStatus


def detail_file(url: str) -> str:
    """The replay file of an item's page."""
    return f"detail-{hashlib.sha1(url.encode()).hexdigest()[:12]}.html"


def by_deadline(status: str, deadline: datetime | None, now: datetime) -> str:
    """Closed once its deadline has passed; else as given."""
    return CallStatus.CLOSED if deadline and deadline_end(deadline) < now else status


class DetailPages:
    """Follows items to their pages (mixed into a spider with ``options`` and ``report``)."""

    options: dict[str, Any]
    report: CrawlReport
    crawler: Any

    def followed(self, item: CallItem) -> CallItem | scrapy.Request:
        """The item, or the request of its page when the options say to read it."""
        if not (self.options.get("follow") and item.call.url):
            return item
        return scrapy.Request(
            item.call.url,
            callback=self.parse_detail,
            errback=self.on_detail_error,
            cb_kwargs={"item": item},
            meta={"replay_file": detail_file(item.call.url)},
        )

    def parse_detail(self, response: Response, item: CallItem) -> Iterator[CallItem]:
        """Complete an item from its page with the configured selectors."""
        detail = self.options.get("detail", {})
        now = crawl_now(self.crawler)

        def found(name: str) -> str:
            selector = detail.get(name)
            texts = select(response, selector).xpath("string()").getall() if selector else []
            return " ".join(" ".join(t.split()) for t in texts).strip()

        call = item.call
        deadline_text = found("deadline")
        date_format = self.options.get("date_format", "")
        deadline = formatted_date(deadline_text, date_format, now) if deadline_text else None
        if deadline_text and deadline is None:
            item.unreadable += ("deadlines",)
        if deadline is not None:  # the page's deadline replaces one the list could not read
            call.deadlines = [deadline]
            item.unreadable = tuple(name for name in item.unreadable if name != "deadlines")
            call.status = by_deadline(call.status, deadline, now)
        call.audience = found("audience") or call.audience
        call.cofinancing = found("cofinancing") or call.cofinancing
        call.status = written_status(found("status")) or call.status
        summary = found("summary")
        if summary:
            item.description_html = summary
        yield item

    def on_detail_error(self, failure: Failure) -> Iterator[CallItem]:
        """An item whose page cannot be read is kept as its list gave it (noted)."""
        item = failure.request.cb_kwargs["item"]
        self.report.note(f"{item.call.url}: page not read ({failure.getErrorMessage()})")
        yield item
