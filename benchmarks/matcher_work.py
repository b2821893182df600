"""The matcher benchmark's work, built at run time from the snapshot and the configuration.

- Calls: the snapshot's real calls read with the real crawler code (FtPortalSpider.parse_facets
  and .parse on the saved answers, then the normalise, validate and dedupe pipelines), repeated
  to CALLS distinct calls (``repeated``); NEW_CALLS calls never seen per incremental batch
  (``new_calls``).
- Profiles: the configured departments, plus synthetic ones recombined from them up to
  PROFILES (``synthetic_departments``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

import harness
from scrapy.exceptions import DropItem
from scrapy.http import Request, TextResponse
from scrapy.settings import Settings

from benchmarks.synthetic_profiles import synthetic_departments
from crawler.items import CallItem
from crawler.pipelines import DedupePipeline, NormalisePipeline, ValidatePipeline
from crawler.spiders.ft_portal import FtPortalSpider
from db import content_hash
from db.records import Call, Department
from eufunds.config import Config
from matcher.rank import Matcher

CALLS = 20_000
PROFILES = 50
NEW_CALLS = 100


@dataclasses.dataclass(frozen=True)
class Work:
    """What every run works on: configuration, profiles, the corpus and the real calls."""

    config: Config
    departments: list[Department]
    corpus: list[Call]
    real: list[Call]

    def matcher(self) -> Matcher:
        """A new, unfitted Matcher for the work's profiles and focus areas."""
        return Matcher(self.departments, self.config.focus_areas, self.config.matching)

    @property
    def configured(self) -> int:
        """How many of the profiles are configured departments (the rest are synthetic)."""
        return len(self.config.departments)


def load_work(config: Config, batches: int) -> Work:
    """The corpus and profiles; checks every id is distinct, ``batches`` new batches included."""
    real = snapshot_calls()
    configured = list(config.departments)
    departments = configured + synthetic_departments(configured, PROFILES - len(configured))
    work = Work(config, departments, repeated(real, CALLS), real)
    new_ids = {call.id for batch in range(batches) for call in new_calls(real, NEW_CALLS, batch)}
    if len({call.id for call in work.corpus} | new_ids) != CALLS + batches * NEW_CALLS:
        raise SystemExit("the repeated and new calls' ids are not all distinct")
    if len({department.id for department in departments}) != PROFILES:
        raise SystemExit(f"the {PROFILES} profiles' ids are not all distinct")
    return work


def snapshot_calls() -> list[Call]:
    """The snapshot's real calls, read with the crawler's spider and pipelines."""
    spider = FtPortalSpider(facet_url="https://replay/facet", search_url="https://replay/search")
    facet = harness.SNAPSHOT / "facet.json"
    list(spider.parse_facets(_response("https://replay/facet", facet.read_bytes(), {})))
    items: list[CallItem] = []
    for path in harness.snapshot_pages():
        page = harness.page_number(path)
        answer = _response(f"https://replay/search?page={page}", path.read_bytes(), {"page": page})
        items += [item for item in spider.parse(answer) if isinstance(item, CallItem)]
    settings = Settings({"EUFUNDS_NOW": harness.SNAPSHOT_DAY.isoformat()})
    crawler = _StubCrawler(spider, settings)
    pipelines = [NormalisePipeline(crawler), ValidatePipeline(crawler), DedupePipeline(crawler)]
    for pipeline in pipelines:
        if hasattr(pipeline, "open_spider"):
            pipeline.open_spider()
    calls = []
    for item in items:
        try:
            value = item
            for pipeline in pipelines:
                value = pipeline.process_item(value)
        except DropItem:
            continue
        calls.append(value)
    if not calls:
        raise SystemExit(f"no calls read from {harness.SNAPSHOT}")
    return calls


@dataclasses.dataclass
class _StubCrawler:
    """What the pipelines use of a Scrapy crawler: its spider (for the report) and settings."""

    spider: FtPortalSpider
    settings: Settings


def _response(url: str, body: bytes, meta: dict) -> TextResponse:
    headers = {"Content-Type": "application/json"}
    return TextResponse(url, body=body, headers=headers, request=Request(url, meta=meta))


def _copy(call: Call, suffix: str) -> Call:
    """A copy of a call with its own id, identifier and content hash."""
    digest = hashlib.sha256(f"{content_hash(call)}{suffix}".encode()).hexdigest()
    return dataclasses.replace(
        call, id=call.id + suffix, identifier=call.identifier + suffix, content_hash=digest
    )


def repeated(calls: Sequence[Call], count: int) -> list[Call]:
    """``count`` calls cycling through ``calls``, each copy a distinct call."""
    return [
        _copy(calls[number % len(calls)], f"~R{number // len(calls)}") for number in range(count)
    ]


def new_calls(calls: Sequence[Call], count: int, batch: int) -> list[Call]:
    """Batch ``batch`` of ``count`` real calls spread over the snapshot, as calls never seen."""
    picked = [calls[(n * len(calls) // count + batch) % len(calls)] for n in range(count)]
    return [_copy(call, f"~N{batch}-{n}") for n, call in enumerate(picked)]
