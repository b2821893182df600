"""Spider for RSS 2.0 and Atom feeds of calls, read through feedparser.

Options (config/sources.toml): ``include`` / ``exclude`` (words; for feeds that mix news and
calls, an item is kept when its title or text holds an included word and no excluded one),
``follow`` (read each item's page too) and ``[source.detail]`` (CSS selectors on that page
for deadline, audience, cofinancing, summary and status). The deadline is the one the text
states ("Sista ansökningsdag: 13 augusti 2026", "Deadline: 15 October 2026"). The feed is
asked for with the ETag and Last-Modified of its last complete answer: an unchanged feed
costs one 304.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import feedparser
import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.dates import deadline_in, deadline_unreadable
from crawler.fields import text
from crawler.items import CallItem
from crawler.pipelines import crawl_now
from crawler.spiders.configured import ConfiguredSpider
from crawler.spiders.detail import DetailPages, by_deadline
from crawler.text import html_to_text
from db import Store
from db.records import Call, CallStatus, SourceKind

FEED_FILE = "feed.xml"


class FeedSpider(DetailPages, ConfiguredSpider):
    """Reads a feed's items into calls, and each item's page when the options say so."""

    name = SourceKind.FEED

    async def start(self):
        """Ask for the feed, conditionally on its last complete answer."""
        with Store(self.settings.get("EUFUNDS_DB")) as store:
            etag, last_modified = store.source_validators(self.source_id)
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        yield scrapy.Request(
            self.url,
            headers=headers,
            callback=self.parse,
            errback=self.on_error,
            meta={"replay_file": FEED_FILE, "handle_httpstatus_list": [304]},
            dont_filter=True,
        )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[CallItem | scrapy.Request]:
        """Read the feed's items; a 304 means nothing changed since the last crawl."""
        self.report.pages += 1
        if response.status == 304:
            self.report.not_modified = True
            self.report.note("feed not modified since the last crawl")
            return
        feed = feedparser.parse(response.body)
        if not feed.entries and (feed.bozo or not feed.version):
            reason = getattr(feed, "bozo_exception", None) or "no feed items"
            self.report.error(f"feed: not an RSS or Atom feed ({reason})")
            return
        self.report.validators = (
            response.headers.get("ETag", b"").decode("latin-1"),
            response.headers.get("Last-Modified", b"").decode("latin-1"),
        )
        now = crawl_now(self.crawler)
        for number, entry in enumerate(feed.entries, start=1):
            try:
                item = self._parse_entry(entry, now)
            except Exception as exc:  # noqa: BLE001 - one bad item costs only itself
                self.report.items_seen += 1
                self.report.invalid(f"feed item {number}: unreadable ({exc})")
                continue
            if item is None:
                continue
            yield self.followed(item)

    def on_error(self, failure: Failure) -> None:
        """Record a feed that could not be downloaded."""
        response = getattr(failure.value, "response", None)
        reason = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()
        self.report.error(f"feed: {reason}")

    def _parse_entry(self, entry: Any, now: datetime) -> CallItem | None:
        """One feed item as a call, or None when the include/exclude words leave it out."""
        title = text(entry.get("title"))
        summary_html = text(entry.get("summary")) or text(
            (entry.get("content") or [{}])[0].get("value")
        )
        words = f"{title} {html_to_text(summary_html)}".lower()
        include = [w.lower() for w in self.options.get("include", [])]
        exclude = [w.lower() for w in self.options.get("exclude", [])]
        if (include and not any(w in words for w in include)) or any(w in words for w in exclude):
            self.report.items_skipped += 1
            self.report.note(f"skipped (not a call by its words): {title[:60]}")
            return None
        deadline = deadline_in(words, now)
        call = Call(
            id="",
            source_id=self.source_id,
            identifier=text(entry.get("id")) or text(entry.get("link")),
            title=title,
            url=text(entry.get("link")),
            programme=self.programme,
            kind="call-for-proposals",
            status=by_deadline(CallStatus.OPEN, deadline, now),
            deadlines=[deadline] if deadline else [],
            language=self.language,
        )
        raw = json.loads(json.dumps(entry, default=str))  # feedparser's dates as their text
        unreadable = ("deadlines",) if deadline_unreadable(words, now) else ()
        return CallItem(call, description_html=summary_html, raw=raw, unreadable=unreadable)
