"""Spider for JSON APIs, read through a field mapping in the source's configuration.

What is asked (GET, or POST with a body), where the records are in an answer, how pages go
on (by page number, offset or cursor) and which value of a record is which field of a call:
all of it comes from the source's options (see config/sources.toml), so a new API is a
configuration entry, not code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urljoin

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.answers import load_json
from crawler.fields import MAX_EUR, iso_date, text
from crawler.items import CallItem
from crawler.paths import lookup
from crawler.pipelines import crawl_now
from crawler.spiders.configured import ConfiguredSpider
from db.deadlines import status_by_dates
from db.records import LOCAL_TZ, SWEDISH_MONTHS, Call, CallStatus, SourceKind

# Most pages read in one crawl: an API that pages on past this is broken.
MAX_PAGES = 1_000


class JsonApiSpider(ConfiguredSpider):
    """Reads the records of a JSON API into calls, page by page as the options say."""

    name = SourceKind.JSON_API

    async def start(self):
        """Ask for the first page."""
        yield self._request(1, None)

    # Requests ------------------------------------------------------------------

    def _request(self, page: int, cursor: str | None) -> scrapy.Request:
        request = self.options.get("request", {})
        paging = self.options.get("paging", {})
        params = dict(request.get("params", {}))
        kind = paging.get("kind", "none")
        size = paging.get("size", 100)
        if kind == "page":
            params[paging.get("param", "page")] = paging.get("first", 1) + page - 1
        elif kind == "offset":
            params[paging.get("param", "offset")] = (page - 1) * size
        elif kind == "cursor" and cursor:
            params[paging.get("param", "cursor")] = cursor
        if kind in ("page", "offset") and paging.get("size_param"):
            params[paging["size_param"]] = size
        url = f"{self.url}?{urlencode(params)}" if params else self.url
        body = request.get("body")
        return scrapy.Request(
            url,
            method=request.get("method", "GET"),
            body=json.dumps(body) if body is not None else None,
            headers={"Accept": "application/json"}
            | ({"Content-Type": "application/json"} if body is not None else {}),
            callback=self.parse,
            errback=self.on_page_error,
            meta={"replay_file": f"page-{page}.json", "page": page},
            dont_filter=True,
        )

    # Callbacks -----------------------------------------------------------------

    def parse(self, response: Response, **kwargs: Any) -> Iterator[CallItem | scrapy.Request]:
        """Read one page of records into calls, and ask for the next page if there is one."""
        page = response.meta.get("page", 1)
        what = f"page {page}"
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        document = load_json(response.body, content_type, what, self.report, (dict, list))
        if document is None:
            return
        records = lookup(document, self.options.get("records", ""))
        if not isinstance(records, list):
            self.report.error(f"{what}: no list of records at {self.options.get('records')!r}")
            return
        self.report.pages += 1
        self.report.changed()
        yield from self._next_page(document, page, len(records))
        if not records and page == 1:
            self.report.error(f"{what}: no records")
        now = crawl_now(self.crawler)
        for number, record in enumerate(records, start=1):
            try:
                item = self._parse_record(record, now)
            except Exception as exc:  # noqa: BLE001 - one bad record costs only itself
                self.report.items_seen += 1
                self.report.invalid(f"{what}, record {number}: unreadable ({exc})")
                continue
            if item is not None:
                yield item

    def on_page_error(self, failure: Failure) -> None:
        """Record a page that could not be downloaded."""
        page = failure.request.meta.get("page") if hasattr(failure, "request") else None
        response = getattr(failure.value, "response", None)
        reason = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()
        self.report.error(f"page {page}: {reason}")

    # Paging --------------------------------------------------------------------

    def _next_page(self, document: Any, page: int, on_page: int) -> Iterator[scrapy.Request]:
        """The request of the next page, if the paging says there is one."""
        paging = self.options.get("paging", {})
        kind = paging.get("kind", "none")
        if kind == "cursor":
            cursor = text(lookup(document, paging.get("next", "")))
            if cursor and page < MAX_PAGES:
                self.report.pages_expected = page + 1
                yield self._request(page + 1, cursor)
            return
        if kind not in ("page", "offset") or page != 1:
            return
        total = lookup(document, paging.get("total", ""))
        size = paging.get("size", 100)
        if not isinstance(total, int) or isinstance(total, bool) or not 0 <= total <= MAX_EUR:
            self.report.error(f"page 1: no number of records at {paging.get('total')!r}")
            return
        pages = max(1, math.ceil(total / size))
        if pages > MAX_PAGES or total < on_page:
            self.report.error(f"page 1: {total} records cannot be the total of this answer")
            return
        self.report.pages_expected = pages
        for number in range(2, pages + 1):
            yield self._request(number, None)

    # Records -------------------------------------------------------------------

    def _parse_record(self, record: Any, now: datetime) -> CallItem | None:
        """One record as a call, or None when the options say to skip it."""
        if not isinstance(record, dict):
            raise ValueError("the record is not an object")
        for path, value in self.options.get("skip", {}).items():
            if lookup(record, path) == value:
                self.report.items_skipped += 1
                self.report.note(f"skipped: {path} is {value!r}")
                return None
        field = self._field
        zone = LOCAL_TZ if self.options.get("local_times", False) else UTC
        opens = iso_date(field(record, "opens"), zone)
        closes = iso_date(field(record, "closes"), zone)
        unreadable = [
            name
            for name, value, parsed in (
                ("opening_date", field(record, "opens"), opens),
                ("deadlines", field(record, "closes"), closes),
            )
            if value not in (None, "") and parsed is None
        ]
        announced = self._announced(record)
        call = Call(
            id="",
            source_id=self.source_id,
            identifier=text(field(record, "id")),
            title=text(field(record, "title")),
            url=self._url(text(field(record, "url"))),
            programme=text(field(record, "programme")) or self.programme,
            kind="call-for-proposals",
            # Announced, with no dates yet: forthcoming, whatever month it was announced for.
            status=CallStatus.FORTHCOMING
            if announced and not (opens or closes)
            else self._status(record, opens, closes, now),
            opening_date=opens or announced,
            deadlines=[closes] if closes else [],
            language=self.language,
            regions=self._texts(record, "regions"),
            audience=" ".join(self._texts(record, "audience")),
            cofinancing=" ".join(self._texts(record, "cofinancing")),
        )
        return CallItem(
            call,
            description_html="\n\n".join(self._texts(record, "summary")),
            raw=record,
            unreadable=tuple(unreadable),
        )

    def _field(self, record: dict, name: str) -> Any:
        """A record's value of a call field, by the first of its mapped paths that has one."""
        paths = self.options.get("fields", {}).get(name, [])
        for path in [paths] if isinstance(paths, str) else paths:
            value = lookup(record, path)
            if value not in (None, "", []):
                return value
        return None

    def _texts(self, record: dict, name: str) -> list[str]:
        """Every text value a field's paths give (lists flattened), in order, once each."""
        paths = self.options.get("fields", {}).get(name, [])
        found: list[str] = []
        for path in [paths] if isinstance(paths, str) else paths:
            value = lookup(record, path)
            found += [text(v) for v in (value if isinstance(value, list) else [value])]
        return list(dict.fromkeys(value.strip() for value in found if value and value.strip()))

    def _url(self, link: str) -> str:
        """A link made absolute against the configured base address."""
        base = self.options.get("base_url", "")
        return urljoin(base, link) if base and link else link

    def _status(
        self, record: dict, opens: datetime | None, closes: datetime | None, now: datetime
    ) -> str:
        """The source's own status through the status map; else judged by the dates."""
        given = text(self._field(record, "status"))
        statuses = self.options.get("statuses", {})
        if given:
            return statuses.get(given, given.lower())
        return status_by_dates(opens, [closes] if closes else [], now)

    def _announced(self, record: dict) -> datetime | None:
        """For a record with no dates yet: the first day of the month it is announced for
        (a year and a Swedish month, or a year alone)."""
        year = text(self._field(record, "announced_year"))
        if not year.isdigit():
            return None
        month_name = text(self._field(record, "announced_period")).strip().lower()
        month = SWEDISH_MONTHS.index(month_name) + 1 if month_name in SWEDISH_MONTHS else 1
        # A month, not a moment: the first day of it as a date (midnight UTC).
        return datetime(int(year), month, 1, tzinfo=UTC)
