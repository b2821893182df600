"""Spider for the EU Funding & Tenders Portal search API (open and forthcoming grants)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import portal_fields
from crawler.answers import load_json
from crawler.fields import count, first, portal_date, text, values
from crawler.items import CallItem
from crawler.pipelines import Sightings, crawl_now, known_items, sighting_of
from crawler.portal_api import api_request, describe, objects, result_key
from crawler.report import CrawlReport
from db.deadlines import status_by_dates
from db.records import Call, CallStatus, SourceKind

STATUS_CODES = {
    "31094501": CallStatus.FORTHCOMING,
    "31094502": CallStatus.OPEN,
    "31094503": CallStatus.CLOSED,
}
KINDS = {"1": "topic", "2": "call-for-proposals", "8": "cascade"}
STALE_DATASOURCE = "SEDIA_PRD_CENTRICITY"
# Most search pages read in one crawl (100 calls each): a larger total is a broken answer.
MAX_PAGES = 1_000
# Most walks over the search pages: the API re-runs its query per page and its replicas may
# disagree on order, so one walk can serve a result twice and miss another; the pages are
# walked again while results are missing and the last walk still found new ones.
MAX_WALKS = 3

SEARCH_QUERY = {
    "bool": {
        "must": [
            {"terms": {"type": sorted(KINDS)}},
            {"terms": {"status": ["31094501", "31094502"]}},
        ]
    }
}
FACET_QUERY = {"bool": {"must": [{"terms": {"type": sorted(KINDS)}}]}}
SORT = {"field": "sortStatus", "order": "ASC"}


class FtPortalSpider(scrapy.Spider):
    """Lists open and forthcoming topics, calls for proposals and cascade-funding calls."""

    name = SourceKind.FT_PORTAL

    def __init__(
        self,
        source_id: str = "ft_portal",
        search_url: str = "",
        facet_url: str = "",
        page_size: int = 100,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.source_id = source_id
        self.search_url = search_url
        self.facet_url = facet_url
        self.page_size = int(page_size)
        self.programmes: dict[str, str] = {}
        self.divisions: dict[str, str] = {}
        # Programme or division codes the facet list gives no readable name for.
        self.unnamed: set[str] = set()
        self.report = CrawlReport()
        # Completeness: the count the search gives, the different results seen (reference,
        # else identifier), the walk over the pages under way and its pages not yet answered.
        self.total: int | None = None
        self.seen_results: set[str] = set()
        self.walk = 1
        self.new_in_walk = 0
        self.outstanding: set[int] = set()

    @classmethod
    def arguments(cls, source: Any, page_size: int) -> dict[str, Any]:
        """The spider's arguments for a configured source."""
        return {
            "source_id": source.id,
            "search_url": source.url,
            "facet_url": source.facet_url,
            "page_size": page_size,
        }

    async def start(self):
        """Resolve programme names first, then walk the search pages."""
        yield self._facet_request()

    # Requests ------------------------------------------------------------------

    def _facet_request(self) -> scrapy.Request:
        return api_request(
            self.facet_url,
            {},
            {"query": FACET_QUERY, "languages": ["en"]},
            callback=self.parse_facets,
            errback=self.on_facet_error,
            meta={"replay_file": "facet.json"},
        )

    def _search_request(self, page: int) -> scrapy.Request:
        self.outstanding.add(page)
        return api_request(
            self.search_url,
            {"pageSize": self.page_size, "pageNumber": page},
            {"query": SEARCH_QUERY, "languages": ["en"], "sort": SORT},
            callback=self.parse,
            errback=self.on_page_error,
            meta={"replay_file": f"search-page-{page}.json", "page": page, "walk": self.walk},
        )

    # Callbacks -----------------------------------------------------------------

    def parse_facets(self, response: Response) -> Iterator[scrapy.Request]:
        """Map programme and division ids to names, then ask for the first search page.

        Without programme names the crawl stops: storing ids where names were would turn
        every call into a changed one and lose the programme preferences.
        """
        document = self._load_json(response, "facet list")
        if document is None:
            return
        for facet in objects(document.get("facets")):
            names = {}
            for value in objects(facet.get("values")):
                code, name = text(value.get("rawValue")), value.get("value")
                if isinstance(name, str) and name:
                    names[code] = unquote(name)
                else:  # a name that is no text: calls of it keep the name they have
                    self.unnamed.add(code)
            if facet.get("name") == "frameworkProgramme":
                self.programmes = names
            elif facet.get("name") == "programmeDivision":
                self.divisions = names
        if not self.programmes:
            self._record_error("facet list: no programme names (frameworkProgramme) in the answer")
            return
        yield self._search_request(1)

    def on_facet_error(self, failure: Failure) -> Iterator[scrapy.Request]:
        """Record the failed facet request; the crawl stops without programme names."""
        self._record_error(f"facet list: {describe(failure)}")
        yield from ()

    def parse(
        self, response: Response, **kwargs: Any
    ) -> Iterator[CallItem | Sightings | scrapy.Request]:
        """Parse one search page into calls; the first page also schedules the rest, and the
        last page of a walk checks that every result was seen."""
        page = response.meta.get("page", 1)
        yield from self._read_page(response, page, response.meta.get("walk", 1))
        yield from self._page_done(page)

    def on_page_error(self, failure: Failure) -> Iterator[scrapy.Request]:
        """Record a search page that could not be downloaded."""
        page = failure.request.meta.get("page") if hasattr(failure, "request") else None
        self._record_error(f"search page {page}: {describe(failure)}")
        yield from self._page_done(page)

    def _read_page(
        self, response: Response, page: int, walk: int
    ) -> Iterator[CallItem | Sightings | scrapy.Request]:
        """The calls of one search page (on a later walk only results not seen before)."""
        document = self._load_json(response, f"search page {page}")
        if document is None:
            return
        results = document.get("results")
        if not isinstance(results, list):
            self._record_error(f"search page {page}: no 'results' list in the answer")
            return
        self.report.pages += 1
        self.report.changed()
        if page == 1 and walk == 1:
            yield from self._follow_pages(document, len(results))
        if not results:
            self._record_error(f"search page {page}: empty results page")
        # Calls read exactly as stored go on as one item per page (Sightings), not one each.
        # (A spider read without a crawl, as the benchmarks read the snapshot, knows none.)
        crawler = getattr(self, "crawler", None)
        known = known_items(crawler) if crawler is not None else {}
        now = crawl_now(crawler) if known else None
        sightings = []
        for number, row in enumerate(results, start=1):
            key = result_key(row)
            if key in self.seen_results and walk > 1:
                continue
            if key not in self.seen_results:
                self.seen_results.add(key)
                self.new_in_walk += 1
            try:
                item = self._parse_row(row)
            except Exception as exc:  # noqa: BLE001 - one bad result costs only itself
                # Never the rest of its page: the result is counted invalid, with why.
                self.report.items_seen += 1
                self.report.invalid(f"search page {page}, result {number}: unreadable ({exc})")
                continue
            if item is None:
                continue
            seen = sighting_of(item, known, now) if now is not None else None
            if seen is not None:
                sightings.append(seen)
                continue
            # The page's order kept: a call listed twice is stored from its first row.
            if sightings:
                yield Sightings(tuple(sightings))
                sightings = []
            yield item
        if sightings:
            yield Sightings(tuple(sightings))

    def _page_done(self, page: int | None) -> Iterator[scrapy.Request]:
        """Once every page of a walk has answered, compare the different results seen with
        the count the search gave: walk the pages again while some are missing and the
        last walk found new ones (at most MAX_WALKS walks), else record the shortfall.

        A walk that lost a page already failed the listing (its error says why); walking
        again would not make the run complete.
        """
        self.outstanding.discard(page)
        if self.outstanding or self.total is None or self.report.error_count:
            return
        seen = len(self.seen_results)
        if seen >= self.total:
            return
        if self.walk < MAX_WALKS and self.new_in_walk:
            self.report.note(
                f"listing: {seen} different results of the {self.total} the search counted "
                f"after walk {self.walk}; the pages are walked again"
            )
            self.walk, self.new_in_walk = self.walk + 1, 0
            pages = self._page_count(self.total)
            self.report.pages_expected += pages
            for number in range(1, pages + 1):
                yield self._search_request(number)
            return
        self._record_error(
            f"listing shortfall: {seen} different results of the {self.total} the search "
            f"counted, after {self.walk} walks over its pages; calls not seen keep what was "
            "stored"
        )

    # Parsing helpers -----------------------------------------------------------

    def _follow_pages(self, document: dict, on_first_page: int) -> Iterator[scrapy.Request]:
        """Schedule pages 2..N from the first page's totalResults.

        A total that is no count, fewer than page 1 holds, or more than MAX_PAGES pages is
        a broken answer: page 1 is kept, the listing counts as incomplete (an error, so
        nothing is closed after it), and no further page is asked for.
        """
        given = document.get("totalResults")
        total = count(given)
        pages = self._page_count(total) if total is not None else 0
        if total is None or total < on_first_page or pages > MAX_PAGES:
            self._record_error(
                f"search page 1: totalResults {str(given)[:40]!r} cannot be the number of "
                f"results (page 1 holds {on_first_page}; at most {MAX_PAGES} pages are read)"
            )
            return
        self.total, self.report.pages_expected = total, pages
        for page in range(2, pages + 1):
            yield self._search_request(page)

    def _page_count(self, total: int) -> int:
        """The number of search pages that hold `total` results."""
        return max(1, math.ceil(total / self.page_size))

    def _parse_row(self, row: dict) -> CallItem | None:
        """Turn one search result into a CallItem, or skip it as stale or foreign-language.

        A field that cannot be read (a deadline that is no date) is left out and named in
        the item, so that the store keeps what it had for that field.
        """
        if not isinstance(row, dict) or not isinstance(row.get("metadata") or {}, dict):
            raise ValueError("the result or its metadata is not an object")
        metadata = row.get("metadata") or {}
        if STALE_DATASOURCE in values(metadata, "DATASOURCE"):
            self._skip("stale index copy")
            return None
        language = first(metadata, "language") or text(row.get("language")) or "en"
        if language != "en":
            self._skip(f"language {language}")
            return None
        kind = KINDS.get(first(metadata, "type"), first(metadata, "type"))
        identifier = first(metadata, "identifier")
        budget, grants, budget_read, (grant_min, grant_max), problem = portal_fields.budget(
            metadata, identifier
        )
        if problem:
            self.report.note(problem)
        title, call_title = portal_fields.titles(row, metadata, kind)
        deadlines = portal_fields.deadlines(metadata)
        starts = values(metadata, "startDate")
        opening = portal_date(starts[0]) if starts else None
        unreadable = ["deadlines"] if deadlines is None else []
        unreadable += ["opening_date"] if starts and opening is None else []
        unreadable += (
            []
            if budget_read
            else ["budget_eur", "expected_grants", "grant_min_eur", "grant_max_eur"]
        )
        codes = {first(metadata, "frameworkProgramme")}
        codes.update(map(text, values(metadata, "programmeDivision")))
        unreadable += ["programme", "programme_divisions"] if self.unnamed & codes else []
        call = Call(
            id="",
            source_id=self.source_id,
            identifier=identifier,
            kind=kind,
            title=title,
            url=text(row.get("url")) or first(metadata, "url"),
            call_identifier=first(metadata, "callIdentifier"),
            call_title=call_title,
            programme=self._parse_programme(metadata),
            programme_divisions=self._parse_divisions(metadata),
            type_of_action="; ".join(map(text, values(metadata, "typesOfAction"))),
            status=self._parse_status(metadata, kind, opening, deadlines),
            opening_date=opening,
            deadlines=deadlines if deadlines is not None else [],
            budget_eur=budget,
            expected_grants=grants,
            grant_min_eur=grant_min,
            grant_max_eur=grant_max,
            language=language,
        )
        return CallItem(
            call,
            reference=text(row.get("reference")),
            description_html=first(metadata, "descriptionByte"),
            raw=row,
            unreadable=tuple(unreadable),
        )

    def _parse_status(
        self,
        metadata: dict,
        kind: str,
        opening: datetime | None,
        deadlines: list[datetime] | None,
    ) -> str:
        """Parse the status code into forthcoming, open or closed.

        Cascade-funding rows keep the status they were indexed with long after it changed
        (open after their last deadline): they are judged by their dates when those could be
        read.
        """
        if kind == "cascade" and deadlines is not None:
            return status_by_dates(opening, deadlines, crawl_now(self.crawler))
        code = first(metadata, "status")
        return STATUS_CODES.get(code, code)

    def _parse_programme(self, metadata: dict) -> str:
        """Parse the framework programme id into its name (the id when unknown)."""
        code = first(metadata, "frameworkProgramme")
        return self.programmes.get(code, code)

    def _parse_divisions(self, metadata: dict) -> list[str]:
        """Parse programme-division ids into names, without the programme itself."""
        programme = first(metadata, "frameworkProgramme")
        codes = [text(c) for c in values(metadata, "programmeDivision") if text(c) != programme]
        return list(dict.fromkeys(self.divisions.get(c, c) for c in codes))

    def _load_json(self, response: Response, what: str) -> dict | None:
        """Decode a JSON answer, recording a clear error when it is not JSON."""
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        return load_json(response.body, content_type, what, self.report)

    def _record_error(self, message: str) -> None:
        self.report.error(message)
        self.logger.error(message)

    def _skip(self, reason: str) -> None:
        self.report.items_skipped += 1
        self.report.note(f"skipped: {reason}")


# The portal's dates, read as every other source value is (crawler/fields.py).
parse_portal_date = portal_date
