"""Item pipelines: normalise, validate, drop duplicates, store with change tracking."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import lxml
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.items import CallItem
from crawler.regions import regions_named
from crawler.report import CrawlReport
from crawler.text import clean_inline, html_to_text
from db import Call, Store, StoreError, UpsertOutcome
from db.deadlines import listed_next_deadline
from db.records import STATUSES
from db.text import without_bidi_controls

# Longest text kept: one-line fields (a title), a link, a summary, and description markup read.
MAX_LINE = 500
MAX_URL = 2_000
MAX_SUMMARY = 20_000
MAX_HTML = 1_000_000
# The modules whose code turns an item into the stored call: when any of them changes, every
# item is read again once (its item hash changes with them).
NORMALISING_MODULES = (
    "crawler.pipelines",
    "crawler.text",
    "crawler.regions",
    "db.calls",
    "db.records",
    "db.rows",
    "db.text",
)


@dataclass(frozen=True)
class Sighting:
    """A call listed again exactly as it was read before (the same item hash): the store
    only records that it was seen, and its next deadline as of now."""

    id: str
    item_hash: str
    next_deadline: datetime | None


@dataclass(frozen=True)
class Sightings:
    """The sightings of one listing page, passed through the pipelines as one item: a spider
    that knows the stored item hashes sends unchanged calls so, not one by one (at 20,000
    calls Scrapy's per-item handling costs seconds)."""

    sightings: tuple[Sighting, ...]


def call_id_of(item: CallItem) -> str:
    """The stored id of the call an item is: source and identifier (and, for a cascade
    call's topic, its reference)."""
    call = item.call
    call_id = f"{call.source_id}/{clean_inline(call.identifier)}"
    reference = clean_inline(item.reference)
    if call.kind == "cascade" and reference:
        call_id += f"#{reference}"
    return call_id


def known_items(crawler: Crawler) -> dict[str, str]:
    """The item hash each stored call of the crawl's source was read from (read once per
    crawl, shared by the spider and the pipelines)."""
    known = getattr(crawler, "_eufunds_known_items", None)
    if known is None:
        settings = crawler.settings
        known = {}
        if settings.get("EUFUNDS_DB"):
            with Store(settings.get("EUFUNDS_DB")) as store:
                known = store.item_hashes(settings.get("EUFUNDS_SOURCE_ID"))
        crawler._eufunds_known_items = known
    return known


def sighting_of(item: CallItem, known: dict[str, str], now: datetime) -> Sighting | None:
    """The item as a sighting when it is the one its stored call was read from (same hash,
    every field readable, nothing to cut); None when it must be read."""
    if item.unreadable or not known:
        return None
    call_id = call_id_of(item)
    stored = known.get(call_id)
    if stored is None:
        return None
    hashed = item_hash(item)
    if stored != hashed or not _nothing_to_cut(item):
        return None
    return Sighting(call_id, hashed, listed_next_deadline(item.call.deadlines, now))


def _code_digest() -> bytes:
    """A digest of the code that normalises and stores items (NORMALISING_MODULES, and the
    lxml that cleans descriptions), read when this module is imported: the code a crawl
    runs, also in a fork server that outlives an upgrade on disk."""
    digest = hashlib.sha256(f"lxml {lxml.__version__}".encode())
    for name in NORMALISING_MODULES:
        digest.update(inspect.getsource(importlib.import_module(name)).encode())
    return digest.digest()


def normalising_code() -> bytes:
    """The digest of the normalising code as it was loaded (see _code_digest)."""
    return _NORMALISING_CODE


def item_hash(item: CallItem) -> str:
    """The hash of an item as the spider read it (and of the code that normalises it).

    The raw answer enters as its repr, which keeps the order of the source's keys: cheaper
    than its JSON, and an answer whose keys come in another order is only read again."""
    digest = hashlib.sha256(normalising_code())
    for part in (repr(item.call), item.reference, item.description_html, repr(item.raw)):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    digest.update(repr(item.unreadable).encode())
    return digest.hexdigest()


def _nothing_to_cut(item: CallItem) -> bool:
    """No text of the item is long enough to be cut (which the crawl would note): cleaning
    never lengthens a line, and a description's text is far shorter than twice its markup."""
    call = item.call
    lines = [call.title, call.call_identifier, call.call_title, call.programme]
    lines += [call.type_of_action, *call.programme_divisions, *call.regions]
    return (
        all(len(text or "") <= MAX_LINE for text in lines)
        and len(call.url or "") <= MAX_URL
        and len(item.description_html or "") <= MAX_SUMMARY // 2
        and len(call.audience or "") <= MAX_SUMMARY
        and len(call.cofinancing or "") <= MAX_SUMMARY
    )


def crawl_now(crawler: Crawler) -> datetime:
    """The crawl's 'now': EUFUNDS_NOW (ISO) when set, else the clock when first asked; one
    moment for the whole crawl (the spider's sightings and the pipelines' calls alike)."""
    now = getattr(crawler, "_eufunds_now", None)
    if now is None:
        text = crawler.settings.get("EUFUNDS_NOW")
        now = datetime.fromisoformat(text).astimezone(UTC) if text else datetime.now(UTC)
        crawler._eufunds_now = now
    return now


class _ReportingPipeline:
    """A pipeline that counts into the running spider's CrawlReport."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        return cls(crawler)

    @property
    def report(self) -> CrawlReport:
        return self.crawler.spider.report


class NormalisePipeline(_ReportingPipeline):
    """Turn a source's CallItem into a clean Call with its stable id, or into a Sighting
    when the item is the one the stored call was read from."""

    def open_spider(self) -> None:
        self.now = crawl_now(self.crawler)
        self.stored_items = known_items(self.crawler)
        self.cleaned = 0

    def process_item(self, item: CallItem | Sightings) -> Call | Sighting | Sightings:
        """Clean text fields, convert HTML to text, derive the id and next deadline.

        Text longer than anyone reads is cut (with a note); fields the source gave in a form
        that could not be read are noted, so that the store keeps their stored values. An
        item identical to the one the stored call was read from is not read again.
        """
        if isinstance(item, Sightings):
            self.report.items_seen += len(item.sightings)
            return item
        self.report.items_seen += 1
        try:
            return self._normalise(item)
        except (TypeError, ValueError, AttributeError) as exc:
            self.report.invalid(f"invalid item (unreadable: {exc}): {str(item.call.title)[:60]}")
            raise DropItem(f"unreadable call: {exc}") from exc

    def _normalise(self, item: CallItem) -> Call | Sighting:
        call = item.call
        identifier = clean_inline(call.identifier)
        call_id = call_id_of(item)
        if item.unreadable:
            self.report.unreadable_fields(call_id, item.unreadable)
        seen = sighting_of(item, self.stored_items, self.now)
        if seen is not None:
            return seen
        hashed = item_hash(item)
        self.cleaned += 1

        def line(name: str, text: str) -> str:
            return self._fit(call_id, name, clean_inline(text), MAX_LINE)

        summary = self._fit(call_id, "summary", self._summary(call_id, item), MAX_SUMMARY)
        title = line("title", call.title)
        regions = [line("regions", region) for region in call.regions]
        if not regions and call.language == "sv":
            regions = regions_named(f"{title}\n{summary}")
        return replace(
            call,
            id=call_id,
            identifier=identifier,
            title=title,
            url=self._fit(call_id, "url", without_bidi_controls(call.url.strip()), MAX_URL),
            call_identifier=line("call_identifier", call.call_identifier),
            call_title=line("call_title", call.call_title),
            summary=summary,
            programme=line("programme", call.programme),
            programme_divisions=[line("programme_divisions", d) for d in call.programme_divisions],
            type_of_action=line("type_of_action", call.type_of_action),
            deadlines=sorted(call.deadlines),
            next_deadline=listed_next_deadline(call.deadlines, self.now),
            regions=regions,
            audience=self._fit(call_id, "audience", clean_inline(call.audience), MAX_SUMMARY),
            cofinancing=self._fit(
                call_id, "cofinancing", clean_inline(call.cofinancing), MAX_SUMMARY
            ),
            raw=json.dumps(item.raw, ensure_ascii=False, sort_keys=True),
            item_hash=hashed,
        )

    def _summary(self, call_id: str, item: CallItem) -> str:
        """The description as clean text; markup past MAX_HTML is not read (with a note)."""
        markup = item.description_html
        if len(markup) > MAX_HTML:
            self.report.note(f"{call_id}: description of {len(markup):,} characters, read in part")
            markup = markup[:MAX_HTML]
        return html_to_text(markup)

    def _fit(self, call_id: str, name: str, text: str, limit: int) -> str:
        """The text, cut to ``limit`` characters (with a note) when longer."""
        if len(text) <= limit:
            return text
        self.report.note(f"{call_id}: {name} of {len(text):,} characters cut to {limit:,}")
        return text[:limit].rstrip() + "…"


class ValidatePipeline(_ReportingPipeline):
    """Drop calls that cannot be stored, counting each as invalid with its reason."""

    def process_item(self, call: Call | Sighting | Sightings) -> Call | Sighting | Sightings:
        """Require an identifier, a title and a known status (a sighting's call had them)."""
        if isinstance(call, Sighting | Sightings):
            return call
        problem = None
        if not call.identifier:
            problem = "no identifier"
        elif len(call.identifier) > MAX_LINE:
            problem = f"identifier of {len(call.identifier):,} characters"
        elif not call.title:
            problem = "no title"
        elif call.status not in STATUSES:
            problem = f"unknown status {call.status!r}"
        if problem:
            label = call.title[:60] or call.url or "untitled result"
            self.report.invalid(f"invalid item ({problem}): {label}")
            raise DropItem(f"invalid call: {problem}: {label}")
        return call


class DedupePipeline(_ReportingPipeline):
    """Store each call once per crawl, however often the listing repeats it."""

    def open_spider(self) -> None:
        self.seen: set[str] = set()

    def process_item(self, call: Call | Sighting | Sightings) -> Call | Sighting | Sightings:
        """Drop a call whose id was already seen in this crawl."""
        if isinstance(call, Sightings):
            kept = tuple(seen for seen in call.sightings if self._first(seen.id))
            if not kept:
                raise DropItem("every sighting a duplicate")
            return Sightings(kept)
        if not self._first(call.id):
            raise DropItem(f"duplicate call {call.id}")
        return call

    def _first(self, call_id: str) -> bool:
        """Whether this crawl sees the call for the first time (a repeat is counted)."""
        if call_id in self.seen:
            self.report.items_skipped += 1
            self.report.note(f"skipped: duplicate row {call_id}")
            return False
        self.seen.add(call_id)
        return True


class StorePipeline(_ReportingPipeline):
    """Upsert calls into SQLite with change tracking; close calls gone from a full listing.

    Calls are written in batches, one transaction each: a crawl stopped mid-batch loses
    only that batch, which the next crawl stores.
    """

    BATCH = 200

    def open_spider(self) -> None:
        settings = self.crawler.settings
        self.store = Store(settings.get("EUFUNDS_DB"))
        self.run_id = settings.getint("EUFUNDS_CRAWL_RUN_ID") or None
        self.now = crawl_now(self.crawler)
        self.pending: list[Call | Sighting] = []

    def process_item(self, call: Call | Sighting | Sightings) -> Call | Sighting | Sightings:
        """Queue one call (or a page's sightings) for storing; store the queue when full."""
        if isinstance(call, Sightings):
            self.pending.extend(call.sightings)
        else:
            self.pending.append(call)
        if len(self.pending) >= self.BATCH:
            self._flush()
        return call

    def _flush(self) -> None:
        """Store the queued calls and count whether each was new, changed or unchanged.

        If the batch cannot be stored, each call is stored on its own, so that a call the
        database refuses costs only itself (counted invalid, with why).
        """
        keep = self.report.kept_fields
        calls = [call for call in self.pending if isinstance(call, Call)]
        sightings = [
            (seen.id, seen.item_hash, seen.next_deadline)
            for seen in self.pending
            if isinstance(seen, Sighting)
        ]
        if sightings:
            try:
                self.store.see_calls(sightings, self.now)
            except StoreError as exc:
                # Not recorded as seen: an error, so the listing counts as incomplete and no
                # call is closed as gone after it.
                self.report.error(f"{len(sightings)} sightings not stored: {exc}")
        try:
            outcomes = self.store.upsert_calls(calls, self.now, self.run_id, keep=keep)
        except StoreError:
            outcomes = []
            for call in calls:
                try:
                    outcomes += self.store.upsert_calls([call], self.now, self.run_id, keep=keep)
                except StoreError as exc:
                    self.report.invalid(f"invalid item (not stored: {exc}): {call.id}")
        # Listed by the source, stored or not: never closed as gone.
        self.report.seen_ids.update(call.id for call in self.pending)
        elsewhere = outcomes.count(UpsertOutcome.LISTED_ELSEWHERE)
        if elsewhere:
            self.report.items_skipped += elsewhere
            self.report.note(f"{elsewhere} calls already stored from another source (noted there)")
        self.report.items_new += outcomes.count(UpsertOutcome.NEW)
        self.report.items_changed += outcomes.count(UpsertOutcome.CHANGED)
        self.pending = []
        self.report.changed()

    def close_spider(self) -> None:
        """Store what is queued, then close calls missing from a complete listing."""
        if self.pending:
            self._flush()
        report = self.report
        source_id = self.crawler.spider.source_id
        if report.listing_complete:
            report.closed_marked = self.store.mark_unseen_closed(
                source_id, report.seen_ids, self.now, self.run_id
            )
            if report.validators is not None:
                self.store.save_source_validators(source_id, *report.validators)
        self.store.close()


# Read at import, once every normalising module is loaded (they are all imported above).
_NORMALISING_CODE = _code_digest()
