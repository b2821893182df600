"""FtPortalSpider parse tests against the portal's real saved answers in ../shared.

The answers are read where they lie (never copied into the repo), parsed once per module,
then checked one field per test. "Now" is frozen through the EUFUNDS_NOW setting.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import scrapy
from scrapy.exceptions import DropItem
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from crawler.items import CallItem
from crawler.pipelines import DedupePipeline, NormalisePipeline, ValidatePipeline
from crawler.report import CrawlReport
from crawler.spiders.ft_portal import FtPortalSpider, parse_portal_date
from crawler.text import html_to_text
from db import Call
from tests.conftest import AARHUS_PAGE, SHARED

SEARCH_URL = "https://api.example.invalid/search"
FACET_URL = "https://api.example.invalid/facet"
NOW = "2026-08-22T06:00:00+00:00"
VINNOVA_HTML = (
    SHARED / "research" / "sources" / "vinnova_api_ansokningsomgangar_docpage__abeltomy.html"
)

CL5 = "ft_portal/HORIZON-CL5-2027-07-D3-16"
LIFE = "ft_portal/LIFE-2026-SAP-ENV-GOV"
CERV = "ft_portal/CERV-2026-DAPHNE-PROTECTION"
CASCADE = "ft_portal/DIGITAL-2021-SKILLS-01-SPECIALISED#15341COMPETITIVE_CALLen"
PROSPECT = "ft_portal/EuropeAid/186723/DD/ACT/EG"
SOIL = "ft_portal/HORIZON-MISS-2027-05-SOIL-01-two-stage"
GOVERNANCE = "ft_portal/HORIZON-CL6-2026-04-GOVERNANCE-01"
CL4_EMERGING = "ft_portal/HORIZON-CL4-2027-04-DIGITAL-EMERGING-10"

NO_DEADLINE = {
    "ft_portal/EuropeAid/173682/DD/ACT/MG",
    "ft_portal/EuropeAid/173638/ID/ACT/RS",
    "ft_portal/EuropeAid/172802/ID/ACT/RS",
    "ft_portal/EuropeAid/170893/ID/ACT/RS",
    "ft_portal/EuropeAid/167264/DD/ACT/Multi",
}


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


@pytest.fixture(scope="module")
def snapshot(snapshot_dir: Path) -> Crawl:
    """All 723 calls of the snapshot, with programme names from the facet answer."""
    return crawl(search_pages(snapshot_dir), snapshot_dir / "ft_portal" / "facet.json")


@pytest.fixture(scope="module")
def unnamed(snapshot_dir: Path) -> Crawl:
    """The snapshot parsed as if the facet request had failed."""
    return crawl(search_pages(snapshot_dir), None)


@pytest.fixture(scope="module")
def aarhus(snapshot_dir: Path) -> Crawl:
    """The raw AarhusAI search page (9 results, stale rows, truncated fields)."""
    if not AARHUS_PAGE.is_file():
        pytest.fail(f"raw AarhusAI page not found at {AARHUS_PAGE}; set EUFUNDS_SHARED")
    return crawl([(1, AARHUS_PAGE)], snapshot_dir / "ft_portal" / "facet.json")


@pytest.fixture(scope="module")
def first_search_request(snapshot: Crawl) -> scrapy.Request:
    """The search request the facet answer schedules."""
    return snapshot.facet_requests[0]


# Listing: pages, counts, ids ------------------------------------------------------


def test_facet_answer_schedules_first_search_page(snapshot):
    """The facet answer schedules exactly one request: search page 1."""
    assert [r.meta.get("page") for r in snapshot.facet_requests] == [1]


def test_first_page_schedules_remaining_pages(snapshot):
    """Page 1 (totalResults 723, pageSize 100) schedules pages 2 to 8."""
    assert [r.meta["page"] for r in snapshot.page_requests[1]] == [2, 3, 4, 5, 6, 7, 8]


def test_later_pages_schedule_nothing(snapshot):
    """Only the first page schedules further pages."""
    assert [n for n in range(2, 9) if snapshot.page_requests[n]] == []


def test_pages_expected(snapshot):
    """The report expects 8 pages."""
    assert snapshot.report.pages_expected == 8


def test_pages_read(snapshot):
    """All 8 pages are counted as read."""
    assert snapshot.report.pages == 8


def test_item_count(snapshot):
    """The 8 pages yield 723 items."""
    assert len(snapshot.items) == 723


def test_distinct_call_ids(snapshot):
    """The 723 items give 723 distinct call ids: none validated away or deduplicated."""
    assert len(snapshot.calls) == 723


def test_no_item_skipped(snapshot):
    """No row of the snapshot is skipped as stale, foreign or duplicate."""
    assert snapshot.report.items_skipped == 0


def test_no_item_invalid(snapshot):
    """Every item passes validation."""
    assert snapshot.report.items_invalid == 0


def test_crawl_status_ok(snapshot):
    """A full listing without errors reports ok."""
    assert snapshot.report.status == "ok"


def test_status_counts(snapshot):
    """454 calls are open and 269 forthcoming."""
    assert Counter(c.status for c in snapshot.calls.values()) == {"open": 454, "forthcoming": 269}


def test_kind_counts(snapshot):
    """615 topics, 83 cascade calls and 25 calls for proposals."""
    kinds = Counter(c.kind for c in snapshot.calls.values())
    assert kinds == {"topic": 615, "cascade": 83, "call-for-proposals": 25}


def test_cascade_rows_sharing_an_identifier_stay_distinct(snapshot):
    """Five cascade calls under DIGITAL-2021-SKILLS-01-SPECIALISED keep five ids."""
    ids = {
        i for i in snapshot.calls if i.startswith("ft_portal/DIGITAL-2021-SKILLS-01-SPECIALISED#")
    }
    references = ("15341", "14541", "7622", "7621", "7623")
    assert ids == {
        f"ft_portal/DIGITAL-2021-SKILLS-01-SPECIALISED#{r}COMPETITIVE_CALLen" for r in references
    }


def test_topic_ids_carry_no_reference(snapshot):
    """Only cascade calls have a '#<reference>' in their id."""
    with_reference = {c.kind for c in snapshot.calls.values() if "#" in c.id}
    assert with_reference == {"cascade"}


def test_calls_without_deadline(snapshot):
    """Exactly the five rows without deadlineDate have an empty deadlines list."""
    assert {c.id for c in snapshot.calls.values() if not c.deadlines} == NO_DEADLINE


def test_call_without_deadline_has_no_next_deadline(snapshot):
    """A call without deadlines has no next deadline."""
    assert snapshot.calls["ft_portal/EuropeAid/173682/DD/ACT/MG"].next_deadline is None


def test_titles_have_clean_whitespace(snapshot):
    """Titles with non-breaking, doubled or line-break spaces in the source come out clean."""
    messy = [c.id for c in snapshot.calls.values() if c.title != " ".join(c.title.split())]
    assert messy == []


def test_summaries_hold_no_markup(snapshot):
    """No summary keeps an HTML tag or an undecoded entity."""
    marked = [c.id for c in snapshot.calls.values() if "<" in c.summary or "&amp;" in c.summary]
    assert marked == []


# Field by field ---------------------------------------------------------------------

FIELDS = [
    (
        CL5,
        "title",
        "Industrial processes and equipment for innovative, reliable and scalable "
        "tandem technologies (EUPI-PV Partnership)",
    ),
    (CL5, "identifier", "HORIZON-CL5-2027-07-D3-16"),
    (
        CL5,
        "url",
        "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/"
        "opportunities/topic-details/HORIZON-CL5-2027-07-D3-16",
    ),
    (CL5, "call_identifier", "HORIZON-CL5-2027-07"),
    (CL5, "call_title", "ENERGY"),
    (CL5, "kind", "topic"),
    (CL5, "status", "forthcoming"),
    (CL5, "programme", "Horizon Europe (HORIZON)"),
    (
        CL5,
        "programme_divisions",
        [
            "Global Challenges and European Industrial Competitiveness",
            "Climate, Energy and Mobility",
            "Energy Supply",
        ],
    ),
    (CL5, "type_of_action", "HORIZON Innovation Actions"),
    (CL5, "opening_date", utc(2027, 8, 4)),
    (CL5, "deadlines", [utc(2027, 12, 1)]),
    (CL5, "next_deadline", utc(2027, 12, 1)),
    (CL5, "budget_eur", 28_500_000),
    (CL5, "expected_grants", 3),
    (CL5, "language", "en"),
    (CL5, "source_id", "ft_portal"),
    (LIFE, "title", "Environment governance"),
    (LIFE, "programme", "Programme for the Environment and Climate Action (LIFE)"),
    (LIFE, "call_identifier", "LIFE-2026-SAP-ENV"),
    (LIFE, "call_title", "Circular Economy and Quality of Life - Standard Action Projects (SAP)"),
    (LIFE, "status", "open"),
    (LIFE, "type_of_action", "LIFE Project Grants"),
    (LIFE, "opening_date", utc(2026, 4, 21)),
    (LIFE, "deadlines", [utc(2026, 9, 22)]),
    (LIFE, "budget_eur", 6_500_000),
    (LIFE, "expected_grants", None),
    (CERV, "title", "Protecting and supporting victims and survivors of gender-based violence."),
    (CERV, "programme", "Citizens, Equality, Rights and Values Programme (CERV)"),
    (CERV, "programme_divisions", ["Daphne - to fight violence, including gender-based violence"]),
    (CERV, "type_of_action", "CERV Lump Sum Grants"),
    (CERV, "deadlines", [utc(2026, 11, 5)]),
    (CERV, "budget_eur", 21_000_000),
    (CASCADE, "kind", "cascade"),
    (CASCADE, "identifier", "DIGITAL-2021-SKILLS-01-SPECIALISED"),
    (CASCADE, "title", "RTU MERIT Project Mobility Scholarship September, 2026"),
    (CASCADE, "call_title", "Specialised education programmes in key capacity areas"),
    (CASCADE, "status", "open"),
    (CASCADE, "programme", "Digital Europe Programme (DIGITAL)"),
    (CASCADE, "programme_divisions", []),
    (CASCADE, "opening_date", utc(2026, 8, 10)),
    (CASCADE, "deadlines", [utc(2026, 8, 31, 20)]),
    (CASCADE, "budget_eur", None),
    (CASCADE, "expected_grants", None),
    (CASCADE, "summary", ""),
    (PROSPECT, "kind", "call-for-proposals"),
    (
        PROSPECT,
        "title",
        "No Child Left Behind: Inclusion and Protection for Children with Disabilities",
    ),
    (PROSPECT, "programme", "EU External Action - Prospect (RELEX-PROSPECT)"),
    (
        PROSPECT,
        "url",
        "https://webgate.ec.europa.eu/prospect/external/publishedcalls.htm?callId=186723",
    ),
    (PROSPECT, "call_identifier", "186723"),
    (PROSPECT, "status", "open"),
    (PROSPECT, "opening_date", utc(2026, 8, 16, 15, 0, 11)),
    (PROSPECT, "deadlines", [utc(2026, 9, 30, 11, 0, 9)]),
    (PROSPECT, "budget_eur", None),
]


@pytest.mark.parametrize(
    ("call_id", "name", "expected"), FIELDS, ids=[f"{c.split('/', 1)[1]}-{n}" for c, n, _ in FIELDS]
)
def test_call_field(snapshot, call_id, name, expected):
    """One field of a known call has the value the saved answer holds."""
    assert getattr(snapshot.calls[call_id], name) == expected


def test_summary_starts_with_first_heading(snapshot):
    """The summary starts with the description's first heading."""
    assert snapshot.calls[CL5].summary.startswith("Expected Outcome:\n\n")


def test_summary_separates_paragraphs_by_blank_line(snapshot):
    """Paragraphs of the description are separated by one blank line."""
    assert "Expected Outcome:\n\nThe REPowerEU plan" in snapshot.calls[CL5].summary


def test_summary_has_no_tags(snapshot):
    """The class-bearing <p> tags of the description are gone."""
    assert "topicdescriptionkind" not in snapshot.calls[CL5].summary


def test_summary_decodes_json_escapes(snapshot):
    """The summary ends with the source's escaped ellipsis, decoded."""
    assert snapshot.calls[CL5].summary.endswith("in only a few years.\u2026")


def test_life_summary_starts_with_heading(snapshot):
    """A LIFE topic's summary starts with its own first heading."""
    assert snapshot.calls[LIFE].summary.startswith("Expected Impact:\n\nApplicants are expected")


def test_item_keeps_raw_row(snapshot):
    """Each item keeps the raw search row it came from."""
    item = next(i for i in snapshot.items if i.identifier == "HORIZON-CL5-2027-07-D3-16")
    assert item.raw["reference"] == "50129698TOPICSen"


# Programme names --------------------------------------------------------------------


def test_every_programme_is_named(snapshot):
    """With the facet answer, no call keeps a numeric programme id."""
    assert [c.id for c in snapshot.calls.values() if c.programme.isdigit()] == []


def test_programme_falls_back_to_id_without_facets(unnamed):
    """Without the facet answer, the programme is the numeric id."""
    assert unnamed.calls[CL5].programme == "43108390"


def test_divisions_fall_back_to_ids_without_facets(unnamed):
    """Without the facet answer, divisions are numeric ids (the programme itself left out)."""
    assert unnamed.calls[CL5].programme_divisions == ["43108541", "43120821", "43120835"]


def test_all_calls_listed_without_facets(unnamed):
    """A missing facet answer loses no call."""
    assert len(unnamed.calls) == 723


def test_programme_name_is_percent_decoded(snapshot):
    """The RFCS programme name reads 'Coal & Steel', not 'Coal %26 Steel'."""
    assert snapshot.calls["ft_portal/RFCS-2026-01-RPJ"].programme == (
        "Research Fund for Coal & Steel (RFCS)"
    )


def test_division_name_is_percent_decoded(snapshot):
    """The MSCA division name reads 'Skłodowska', not 'Sk%C5%82odowska'."""
    divisions = snapshot.calls["ft_portal/HORIZON-MSCA-2027-DN-01-01"].programme_divisions
    assert "Marie Skłodowska-Curie Actions (MSCA)" in divisions


def test_facet_error_stops_the_crawl():
    """A failed facet request schedules no search page: ids must not replace names."""
    _, spider = make_crawler()
    requests = list(spider.on_facet_error(Failure(DNSLookupError("api.example.invalid"))))
    assert requests == []


def test_facet_answer_without_programmes_stops_the_crawl():
    """A facet answer that names no programme is an error and schedules nothing."""
    _, spider = make_crawler()
    # Hand-written answer: valid JSON without the frameworkProgramme facet.
    response = TextResponse(
        "https://api.example.invalid/facet",
        body=b'{"apiVersion": "2.151", "facets": []}',
        encoding="utf-8",
        request=scrapy.Request("https://api.example.invalid/facet"),
    )
    assert list(spider.parse_facets(response)) == []
    assert spider.report.errors == [
        "facet list: no programme names (frameworkProgramme) in the answer"
    ]


def test_facet_error_is_recorded():
    """A failed facet request is counted as an error with its cause."""
    _, spider = make_crawler()
    list(spider.on_facet_error(Failure(DNSLookupError("api.example.invalid"))))
    assert spider.report.errors[0].startswith("facet list: DNSLookupError")


# The raw AarhusAI page ---------------------------------------------------------------


def test_aarhus_stale_rows_skipped(aarhus):
    """The three stale SEDIA_PRD_CENTRICITY rows (two of them identical) are skipped."""
    assert aarhus.report.items_skipped == 3


def test_aarhus_item_count(aarhus):
    """Nine results minus three stale rows give six items."""
    assert len(aarhus.items) == 6


def test_aarhus_each_identifier_once(aarhus):
    """Each remaining identifier appears once, none of the stale ones."""
    assert sorted(i.identifier for i in aarhus.items) == [
        "HORIZON-CL3-2026-02-CS-ECCC-01",
        "HORIZON-CL4-2027-04-DIGITAL-EMERGING-10",
        "HORIZON-CL5-2027-03-D5-05",
        "HORIZON-CL6-2026-04-GOVERNANCE-01",
        "HORIZON-JU-CBE-2026-IAFlag-02",
        "HORIZON-MISS-2027-05-SOIL-01-two-stage",
    ]


def test_aarhus_single_page_schedules_nothing(aarhus):
    """totalResults 9 fits one page: no further page is scheduled."""
    assert aarhus.page_requests[1] == []


def test_aarhus_no_errors(aarhus):
    """Truncated fields are notes, not crawl errors."""
    assert aarhus.report.error_count == 0


def test_two_stage_deadlines_both_kept(aarhus):
    """Both stages' deadlines of a two-stage topic are kept, earliest first."""
    assert aarhus.calls[SOIL].deadlines == [utc(2027, 4, 8), utc(2027, 9, 14)]


def test_two_stage_next_deadline_is_first_stage(aarhus):
    """Before the first stage closes, the next deadline is the first stage's."""
    assert aarhus.calls[SOIL].next_deadline == utc(2027, 4, 8)


def test_two_stage_next_deadline_after_first_stage(aarhus):
    """After the first stage closes, the next deadline is the second stage's."""
    crawler, _ = make_crawler(now="2027-05-01T00:00:00+00:00")
    item = next(i for i in aarhus.items if i.identifier == "HORIZON-MISS-2027-05-SOIL-01-two-stage")
    assert run_pipelines(open_pipelines(crawler), item).next_deadline == utc(2027, 9, 14)


def test_truncated_budget_overview_gives_no_budget(aarhus):
    """A budgetOverview cut off mid-JSON gives no budget rather than an exception."""
    assert aarhus.calls[SOIL].budget_eur is None


def test_truncated_budget_overview_is_noted(aarhus):
    """An unreadable budgetOverview is noted in the report."""
    assert (
        "HORIZON-MISS-2027-05-SOIL-01-two-stage: budget overview unreadable" in aarhus.report.notes
    )


def test_aarhus_budgets(aarhus):
    """Only the one complete budgetOverview (23 M 2026 + 37 M 2027) gives a budget."""
    assert {c.identifier: c.budget_eur for c in aarhus.calls.values()} == {
        "HORIZON-MISS-2027-05-SOIL-01-two-stage": None,
        "HORIZON-CL4-2027-04-DIGITAL-EMERGING-10": None,
        "HORIZON-CL5-2027-03-D5-05": None,
        "HORIZON-CL6-2026-04-GOVERNANCE-01": 60_000_000,
        "HORIZON-CL3-2026-02-CS-ECCC-01": None,
        "HORIZON-JU-CBE-2026-IAFlag-02": None,
    }


def test_complete_budget_overview_gives_expected_grants(aarhus):
    """The complete budgetOverview gives its expected grants."""
    assert aarhus.calls[GOVERNANCE].expected_grants == 1


def test_truncated_description_gives_clean_text(aarhus):
    """A descriptionByte cut off inside an <a> tag ends in clean text."""
    assert aarhus.calls[SOIL].summary.endswith("the EU Soil Strategy for 2030 and the")


def test_truncated_description_drops_link_markup(aarhus):
    """No link markup of a truncated description leaks into the summary."""
    assert [c.id for c in aarhus.calls.values() if "href" in c.summary or "<" in c.summary] == []


def test_description_list_items_become_dashes(aarhus):
    """List items of a description become dashed lines."""
    assert "\n- European leadership in foresight activities" in aarhus.calls[CL4_EMERGING].summary


def test_type_of_action_spaces_collapsed(aarhus):
    """The source's doubled space in the type of action is collapsed."""
    assert aarhus.calls[SOIL].type_of_action == "HORIZON Research and Innovation Actions"


def test_aarhus_divisions_named(aarhus):
    """Divisions of a raw row are named, without the programme itself."""
    assert aarhus.calls[SOIL].programme_divisions == [
        "Global Challenges and European Industrial Competitiveness",
        "Food, Bioeconomy Natural Resources, Agriculture and Environment",
    ]


def test_aarhus_call_title(aarhus):
    """The call title of a raw row is kept."""
    assert aarhus.calls[SOIL].call_title == (
        "Supporting the implementation of the Soil Deal for Europe Mission"
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


# Answers that are not JSON ---------------------------------------------------------


def test_html_answer_yields_nothing():
    """A real HTML page answered instead of JSON yields no items and no requests."""
    _, spider = make_crawler()
    assert list(spider.parse(answer(VINNOVA_HTML, SEARCH_URL, 1))) == []


def test_html_answer_is_recorded_as_error():
    """A real HTML page answered instead of JSON is recorded as such."""
    _, spider = make_crawler()
    list(spider.parse(answer(VINNOVA_HTML, SEARCH_URL, 1)))
    assert spider.report.errors[0].startswith("search page 1: expected JSON, got HTML")


def test_html_answer_fails_the_crawl():
    """A crawl whose only page was HTML reports failed."""
    _, spider = make_crawler()
    list(spider.parse(answer(VINNOVA_HTML, SEARCH_URL, 1)))
    assert spider.report.status == "failed"


def test_page_error_names_the_page():
    """A search page that could not be downloaded is recorded with its page number."""
    _, spider = make_crawler()
    failure = Failure(DNSLookupError("api.example.invalid"))
    failure.request = scrapy.Request(SEARCH_URL, meta={"page": 3})
    spider.on_page_error(failure)
    assert spider.report.errors[0].startswith("search page 3: DNSLookupError")


# Requests --------------------------------------------------------------------------


def test_start_asks_for_facets():
    """The crawl starts with the facet request."""
    _, spider = make_crawler()

    async def collect():
        """Drain the spider's start generator."""
        return [request async for request in spider.start()]

    requests = asyncio.run(collect())
    assert [urlsplit(r.url).path for r in requests] == ["/facet"]


def test_search_request_is_post(first_search_request):
    """The search request is a POST."""
    assert first_search_request.method == "POST"


def test_search_request_is_multipart(first_search_request):
    """The search request is multipart/form-data with a boundary."""
    content_type = first_search_request.headers[b"Content-Type"].decode()
    assert content_type.startswith("multipart/form-data; boundary=")


def test_search_request_address(first_search_request):
    """The search request goes to the configured search URL."""
    assert first_search_request.url.split("?")[0] == SEARCH_URL


def test_search_request_query_string(first_search_request):
    """The search request asks for page 1 of 100 results with the public key."""
    assert query_params(first_search_request) == {
        "apiKey": "SEDIA",
        "text": "***",
        "pageSize": "100",
        "pageNumber": "1",
    }


def test_later_page_number_in_url(snapshot):
    """The request scheduled for page 5 has pageNumber=5 in its URL."""
    request = next(r for r in snapshot.page_requests[1] if r.meta["page"] == 5)
    assert query_params(request)["pageNumber"] == "5"


def test_search_request_parts(first_search_request):
    """The body has the JSON parts query, languages and sort, in that order."""
    assert list(multipart_parts(first_search_request)) == ["query", "languages", "sort"]


def test_search_query_statuses(first_search_request):
    """The query asks for forthcoming (31094501) and open (31094502) calls."""
    must = multipart_parts(first_search_request)["query"]["bool"]["must"]
    assert {"terms": {"status": ["31094501", "31094502"]}} in must


def test_search_query_types(first_search_request):
    """The query asks for topics (1), calls for proposals (2) and cascade calls (8)."""
    must = multipart_parts(first_search_request)["query"]["bool"]["must"]
    assert {"terms": {"type": ["1", "2", "8"]}} in must


def test_search_languages(first_search_request):
    """The languages part asks for English."""
    assert multipart_parts(first_search_request)["languages"] == ["en"]


def test_search_sort(first_search_request):
    """The sort part orders by status."""
    assert multipart_parts(first_search_request)["sort"] == {"field": "sortStatus", "order": "ASC"}


def test_search_request_callback(first_search_request, snapshot):
    """The search answer is handed to parse."""
    assert first_search_request.callback == snapshot.spider.parse


# parse_portal_date -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-08-04T00:00:00.000+0000", utc(2027, 8, 4)),
        ("2026-09-30T11:00:09.000+0000", utc(2026, 9, 30, 11, 0, 9)),
        ("2027-08-04T00:00:00.000+0200", utc(2027, 8, 3, 22)),
        ("2027-08-04T17:00:00Z", utc(2027, 8, 4, 17)),
        ("2027-08-04", utc(2027, 8, 4)),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_portal_date(text, expected):
    """Portal dates parse to aware UTC datetimes; anything else to None."""
    assert parse_portal_date(text) == expected


def test_parse_portal_date_is_utc():
    """A parsed date carries the UTC zone."""
    assert parse_portal_date("2027-08-04T00:00:00.000+0200").tzinfo == UTC


# html_to_text ----------------------------------------------------------------------


def test_html_to_text_drops_scripts():
    """Script and style contents are dropped, surrounding text kept."""
    markup = "<p>Before</p><script>alert('x')</script><style>p {}</style><p>After</p>"
    assert html_to_text(markup) == "Before\n\nAfter"


def test_html_to_text_decodes_entities():
    """Entities are decoded and a non-breaking space becomes a space."""
    assert html_to_text("<p>Research &amp; Innovation&nbsp;Actions &#8211; RIA</p>") == (
        "Research & Innovation Actions \u2013 RIA"
    )


def test_html_to_text_list_items():
    """List items become dashed lines."""
    assert html_to_text("<p>Outcomes:</p><ul><li>one</li><li>two</li></ul>") == (
        "Outcomes:\n\n- one\n- two"
    )


def test_html_to_text_truncated_markup():
    """Markup cut off inside a tag keeps the text before it."""
    assert html_to_text('<p>Soil Strategy and the <a href="https://environme') == (
        "Soil Strategy and the"
    )


def test_html_to_text_plain_text():
    """Text without tags is only unescaped and tidied."""
    assert html_to_text("  A &lt;b&gt;  plain\u00a0text ") == "A <b> plain text"


def test_html_to_text_empty():
    """Empty or blank input gives an empty string."""
    assert [html_to_text(None), html_to_text(""), html_to_text("  ")] == ["", "", ""]
