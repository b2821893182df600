"""FtPortalSpider on the raw AarhusAI page (stale rows, truncated fields) and on answers
that are not JSON."""

from __future__ import annotations

import scrapy
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from tests.conftest import AARHUS_PAGE, SHARED
from tests.support.offline_spider import (
    SEARCH_URL,
    answer,
    crawl,
    make_crawler,
    open_pipelines,
    run_pipelines,
    utc,
)

SOIL = "ft_portal/HORIZON-MISS-2027-05-SOIL-01-two-stage"
GOVERNANCE = "ft_portal/HORIZON-CL6-2026-04-GOVERNANCE-01"
CL4_EMERGING = "ft_portal/HORIZON-CL4-2027-04-DIGITAL-EMERGING-10"
VINNOVA_HTML = (
    SHARED / "research" / "sources" / "vinnova_api_ansokningsomgangar_docpage__abeltomy.html"
)


# The raw AarhusAI page ---------------------------------------------------------------


def test_aarhus_stale_rows_skipped(aarhus):
    """The three stale SEDIA_PRD_CENTRICITY rows (two of them identical) are skipped."""
    assert aarhus.report.items_skipped == 3


def test_aarhus_item_count(aarhus):
    """Nine results minus three stale rows give six items."""
    assert len(aarhus.items) == 6


def test_aarhus_each_identifier_once(aarhus):
    """Each remaining identifier appears once, none of the stale ones."""
    assert sorted(i.call.identifier for i in aarhus.items) == [
        "HORIZON-CL3-2026-02-CS-ECCC-01",
        "HORIZON-CL4-2027-04-DIGITAL-EMERGING-10",
        "HORIZON-CL5-2027-03-D5-05",
        "HORIZON-CL6-2026-04-GOVERNANCE-01",
        "HORIZON-JU-CBE-2026-IAFlag-02",
        "HORIZON-MISS-2027-05-SOIL-01-two-stage",
    ]


def test_aarhus_page_served_a_result_twice_so_it_is_asked_for_again(aarhus):
    """totalResults 9 fits one page, but the page holds 8 different results (one served
    twice): the single page is walked once more, and nothing else is asked for."""
    [again] = aarhus.page_requests[1]
    assert (again.meta["page"], again.meta["walk"]) == (1, 2)
    assert aarhus.report.pages_expected == 2
    assert "listing: 8 different results of the 9 the search counted after walk 1; " in " ".join(
        aarhus.report.notes
    )


def test_aarhus_no_errors(aarhus):
    """Truncated fields are notes, not crawl errors."""
    assert aarhus.report.error_count == 0


def test_aarhus_second_walk_finding_nothing_new_records_the_shortfall(snapshot_dir):
    """The same page again brings no new result: the shortfall is an error on the run (the
    listing is incomplete), and the second walk yields no call a second time."""
    first = crawl([(1, AARHUS_PAGE)], snapshot_dir / "ft_portal" / "facet.json")
    [again] = first.page_requests[1]
    response = answer(AARHUS_PAGE, again.url, 1).replace(request=again)

    outputs = list(first.spider.parse(response))

    assert outputs == []
    assert first.report.errors == [
        "listing shortfall: 8 different results of the 9 the search counted, after 2 walks "
        "over its pages; calls not seen keep what was stored"
    ]
    assert (first.report.pages, first.report.listing_complete) == (2, False)


def test_two_stage_deadlines_both_kept(aarhus):
    """Both stages' deadlines of a two-stage topic are kept, earliest first."""
    assert aarhus.calls[SOIL].deadlines == [utc(2027, 4, 8), utc(2027, 9, 14)]


def test_two_stage_next_deadline_is_first_stage(aarhus):
    """Before the first stage closes, the next deadline is the first stage's."""
    assert aarhus.calls[SOIL].next_deadline == utc(2027, 4, 8)


def test_two_stage_next_deadline_after_first_stage(aarhus):
    """After the first stage closes, the next deadline is the second stage's."""
    crawler, _ = make_crawler(now="2027-05-01T00:00:00+00:00")
    item = next(
        i for i in aarhus.items if i.call.identifier == "HORIZON-MISS-2027-05-SOIL-01-two-stage"
    )
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
    assert (aarhus.calls[GOVERNANCE].grant_min_eur, aarhus.calls[GOVERNANCE].grant_max_eur) == (
        60_000_000,
        60_000_000,
    )


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
    assert list(spider.on_page_error(failure)) == []
    assert spider.report.errors[0].startswith("search page 3: DNSLookupError")


def test_answer_with_invalid_escapes_is_read_and_the_repair_noted():
    """A real damaged answer (invalid JSON escapes inside embedded HTML) is read, not lost:
    its two results are seen (and skipped as Bulgarian), and the repair is noted."""
    damaged = (
        SHARED
        / "research"
        / "sources"
        / "ft_search_api_page_bg_bad_escapes__levandow-grants-hello.json"
    )
    _, spider = make_crawler()
    outputs = list(spider.parse(answer(damaged, SEARCH_URL, 1)))
    # Its totalResults (563,270: a trimmed copy) is more than a crawl reads: noted, page kept.
    assert spider.report.errors == [
        "search page 1: totalResults '563270' cannot be the number of results (page 1 holds 2; "
        "at most 1000 pages are read)"
    ]
    assert spider.report.items_skipped == 2
    assert [o for o in outputs if isinstance(o, scrapy.Request)] == []
    assert any(
        "invalid JSON escapes read as the characters they escape" in n for n in spider.report.notes
    )
