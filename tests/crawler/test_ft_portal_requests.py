"""FtPortalSpider requests and programme names: what it asks the portal, and the facet list."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import scrapy
from scrapy.http import TextResponse
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from tests.support.offline_spider import (
    SEARCH_URL,
    make_crawler,
    multipart_parts,
    query_params,
)

CL5 = "ft_portal/HORIZON-CL5-2027-07-D3-16"


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
