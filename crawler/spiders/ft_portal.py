"""Spider for the EU Funding & Tenders Portal search API (open and forthcoming grants)."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.items import CallItem
from crawler.report import CrawlReport
from db.records import Call, CallStatus, SourceKind

STATUS_CODES = {
    "31094501": CallStatus.FORTHCOMING,
    "31094502": CallStatus.OPEN,
    "31094503": CallStatus.CLOSED,
}
KINDS = {"1": "topic", "2": "call-for-proposals", "8": "cascade"}
STALE_DATASOURCE = "SEDIA_PRD_CENTRICITY"

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
        self.report = CrawlReport()

    async def start(self):
        """Resolve programme names first, then walk the search pages."""
        yield self._facet_request()

    # Requests ------------------------------------------------------------------

    def _facet_request(self) -> scrapy.Request:
        return _api_request(
            self.facet_url,
            {},
            {"query": FACET_QUERY, "languages": ["en"]},
            callback=self.parse_facets,
            errback=self.on_facet_error,
            meta={"replay_file": "facet.json"},
        )

    def _search_request(self, page: int) -> scrapy.Request:
        return _api_request(
            self.search_url,
            {"pageSize": self.page_size, "pageNumber": page},
            {"query": SEARCH_QUERY, "languages": ["en"], "sort": SORT},
            callback=self.parse,
            errback=self.on_page_error,
            meta={"replay_file": f"search-page-{page}.json", "page": page},
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
        for facet in document.get("facets") or []:
            names = {
                value.get("rawValue"): unquote(value.get("value") or "")
                for value in facet.get("values") or []
            }
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
        self._record_error(f"facet list: {_describe(failure)}")
        yield from ()

    def parse(self, response: Response, **kwargs: Any) -> Iterator[CallItem | scrapy.Request]:
        """Parse one search page into calls; the first page also schedules the rest."""
        page = response.meta.get("page", 1)
        document = self._load_json(response, f"search page {page}")
        if document is None:
            return
        results = document.get("results")
        if not isinstance(results, list):
            self._record_error(f"search page {page}: no 'results' list in the answer")
            return
        self.report.pages += 1
        self.report.changed()
        if page == 1:
            yield from self._follow_pages(document)
        if not results:
            self._record_error(f"search page {page}: empty results page")
        for number, row in enumerate(results, start=1):
            try:
                item = self._parse_row(row)
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                # One bad result costs only itself, never the rest of its page.
                self.report.items_seen += 1
                self.report.invalid(f"search page {page}, result {number}: unreadable ({exc})")
                continue
            if item is not None:
                yield item

    def on_page_error(self, failure: Failure) -> None:
        """Record a search page that could not be downloaded."""
        page = failure.request.meta.get("page") if hasattr(failure, "request") else None
        self._record_error(f"search page {page}: {_describe(failure)}")

    # Parsing helpers -----------------------------------------------------------

    def _follow_pages(self, document: dict) -> Iterator[scrapy.Request]:
        """Schedule pages 2..N from the first page's totalResults."""
        total = document.get("totalResults") or 0
        self.report.pages_expected = max(1, math.ceil(int(total) / self.page_size))
        for page in range(2, self.report.pages_expected + 1):
            yield self._search_request(page)

    def _parse_row(self, row: dict) -> CallItem | None:
        """Turn one search result into a CallItem, or skip it as stale or foreign-language.

        A field that cannot be read (a deadline that is no date) is left out and named in
        the item, so that the store keeps what it had for that field.
        """
        if not isinstance(row, dict) or not isinstance(row.get("metadata") or {}, dict):
            raise ValueError("the result or its metadata is not an object")
        metadata = row.get("metadata") or {}
        if STALE_DATASOURCE in _values(metadata, "DATASOURCE"):
            self._skip("stale index copy")
            return None
        language = _first(metadata, "language") or row.get("language") or "en"
        if language != "en":
            self._skip(f"language {language}")
            return None
        kind = KINDS.get(_first(metadata, "type"), _first(metadata, "type"))
        identifier = _first(metadata, "identifier")
        budget, grants = self._parse_budget(metadata, identifier)
        title, call_title = self._parse_titles(row, metadata, kind)
        deadlines = self._parse_deadlines(metadata)
        opening = parse_portal_date(_first(metadata, "startDate"))
        unreadable = [name for name, value in (("deadlines", deadlines),) if value is None]
        if _first(metadata, "startDate") and opening is None:
            unreadable.append("opening_date")
        call = Call(
            id="",
            source_id=self.source_id,
            identifier=identifier,
            kind=kind,
            title=title,
            url=row.get("url") or _first(metadata, "url"),
            call_identifier=_first(metadata, "callIdentifier"),
            call_title=call_title,
            programme=self._parse_programme(metadata),
            programme_divisions=self._parse_divisions(metadata),
            type_of_action="; ".join(map(str, _values(metadata, "typesOfAction"))),
            status=self._parse_status(metadata),
            opening_date=opening,
            deadlines=deadlines if deadlines is not None else [],
            budget_eur=budget,
            expected_grants=grants,
            language=language,
        )
        return CallItem(
            call,
            reference=row.get("reference") or "",
            description_html=_first(metadata, "descriptionByte"),
            raw=row,
            unreadable=tuple(unreadable),
        )

    def _parse_titles(self, row: dict, metadata: dict, kind: str) -> tuple[str, str]:
        """Parse the call's own title and the title of the call (or topic) it belongs to.

        A cascade-funding row carries its parent topic's title in ``title`` and its own
        name in ``callTitle``; staff need the cascade call's own name.
        """
        topic_title = _first(metadata, "title") or row.get("summary") or ""
        call_title = _first(metadata, "callTitle")
        if kind == "cascade" and (call_title or row.get("summary")):
            return call_title or row.get("summary"), topic_title
        return topic_title, call_title

    def _parse_status(self, metadata: dict) -> str:
        """Parse the status code into forthcoming, open or closed."""
        code = _first(metadata, "status")
        return STATUS_CODES.get(code, code)

    def _parse_deadlines(self, metadata: dict) -> list[datetime] | None:
        """Parse all deadlines as aware UTC datetimes, earliest first; None when any of them
        is no date (then none is taken: a partial list would misstate the next deadline)."""
        values = _values(metadata, "deadlineDate")
        parsed = [parse_portal_date(text) if isinstance(text, str) else None for text in values]
        if None in parsed:
            return None
        return sorted(set(parsed))

    def _parse_programme(self, metadata: dict) -> str:
        """Parse the framework programme id into its name (the id when unknown)."""
        code = _first(metadata, "frameworkProgramme")
        return self.programmes.get(code, code)

    def _parse_divisions(self, metadata: dict) -> list[str]:
        """Parse programme-division ids into names, without the programme itself."""
        programme = _first(metadata, "frameworkProgramme")
        codes = [str(c) for c in _values(metadata, "programmeDivision") if c != programme]
        return list(dict.fromkeys(self.divisions.get(c, c) for c in codes))

    def _parse_budget(self, metadata: dict, identifier: str) -> tuple[int | None, int | None]:
        """Parse this topic's budget in EUR and expected grants from budgetOverview."""
        text = _first(metadata, "budgetOverview")
        if not text or not identifier:
            return None, None
        try:
            overview = json.loads(text)
            actions = [
                action
                for group in (overview.get("budgetTopicActionMap") or {}).values()
                for action in group
                if str(action.get("action", "")).split(" - ")[0].strip() == identifier
            ]
            if not actions:
                return None, None
            budget = sum(
                round(float(amount))
                for action in actions
                for amount in (action.get("budgetYearMap") or {}).values()
            )
            grants = [a["expectedGrants"] for a in actions if a.get("expectedGrants") is not None]
            return budget or None, (sum(int(g) for g in grants) if grants else None)
        except (ValueError, TypeError, AttributeError, KeyError):
            self.report.note(f"{identifier}: budget overview unreadable")
            return None, None

    def _load_json(self, response: Response, what: str) -> dict | None:
        """Decode a JSON answer, recording a clear error when it is not JSON."""
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        try:
            document = json.loads(response.body)
        except ValueError as exc:
            start = response.body[:60].decode("utf-8", "replace").strip()
            kind = "HTML" if start.lower().startswith(("<!doctype html", "<html")) else "no JSON"
            self._record_error(
                f"{what}: expected JSON, got {kind} ({content_type or 'no content type'}, "
                f"{len(response.body)} bytes: {exc}; starts {start[:40]!r})"
            )
            return None
        if not isinstance(document, dict):
            self._record_error(f"{what}: expected a JSON object, got {type(document).__name__}")
            return None
        return document

    def _record_error(self, message: str) -> None:
        self.report.error(message)
        self.logger.error(message)

    def _skip(self, reason: str) -> None:
        self.report.items_skipped += 1
        self.report.note(f"skipped: {reason}")


def parse_portal_date(text: str | None) -> datetime | None:
    """Parse a portal date ('2027-08-04T00:00:00.000+0000') as an aware UTC datetime."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("+0000", "+00:00").replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _api_request(
    url: str, params: dict[str, Any], parts: dict[str, Any], **request: Any
) -> scrapy.Request:
    """A POST to the portal's API: the public API key, JSON parts as multipart/form-data."""
    body, content_type = multipart(parts)
    query = urlencode({"apiKey": "SEDIA", "text": "***", **params})
    return scrapy.Request(
        f"{url}?{query}",
        method="POST",
        body=body,
        headers={"Content-Type": content_type, "Accept": "application/json"},
        dont_filter=True,
        **request,
    )


def multipart(parts: dict[str, Any]) -> tuple[bytes, str]:
    """Encode JSON parts as multipart/form-data, as the portal's search API expects."""
    boundary = f"eufunds{uuid.uuid4().hex}"
    chunks = []
    for name, value in parts.items():
        chunks.append(
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{name}"; filename="blob"\r\n'
            "Content-Type: application/json\r\n\r\n"
            f"{json.dumps(value)}\r\n"
        )
    chunks.append(f"--{boundary}--\r\n")
    return "".join(chunks).encode(), f"multipart/form-data; boundary={boundary}"


def _values(metadata: dict, key: str) -> list:
    """The values of a metadata key: a list as the portal gives them, or one value as a list."""
    values = metadata.get(key)
    if values is None or values == "":
        return []
    return values if isinstance(values, list) else [values]


def _first(metadata: dict, key: str) -> str:
    values = _values(metadata, key)
    return str(values[0]) if values else ""


def _describe(failure: Failure) -> str:
    """Describe a failed request in one line, with the HTTP status when there was one."""
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status} from {response.url}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"
