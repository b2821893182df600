"""FtPortalSpider parse tests against the portal's real saved answers in ../shared.

The answers are read where they lie (never copied into the repo), parsed once per session
(tests/crawler/conftest.py), then checked one field per test. "Now" is frozen through the
EUFUNDS_NOW setting.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC

import pytest

from crawler.spiders.ft_portal import parse_portal_date
from tests.support.offline_spider import (
    make_crawler,
    utc,
)

CL5 = "ft_portal/HORIZON-CL5-2027-07-D3-16"
LIFE = "ft_portal/LIFE-2026-SAP-ENV-GOV"
CERV = "ft_portal/CERV-2026-DAPHNE-PROTECTION"
CASCADE = "ft_portal/DIGITAL-2021-SKILLS-01-SPECIALISED#15341COMPETITIVE_CALLen"
PROSPECT = "ft_portal/EuropeAid/186723/DD/ACT/EG"
NO_DEADLINE = {
    "ft_portal/EuropeAid/173682/DD/ACT/MG",
    "ft_portal/EuropeAid/173638/ID/ACT/RS",
    "ft_portal/EuropeAid/172802/ID/ACT/RS",
    "ft_portal/EuropeAid/170893/ID/ACT/RS",
    "ft_portal/EuropeAid/167264/DD/ACT/Multi",
}


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
    """455 calls are open and 268 forthcoming: the portal lists 269 as forthcoming, but one
    of them is a cascade-funding call that opened on 17 August, before the crawl."""
    assert Counter(c.status for c in snapshot.calls.values()) == {"open": 455, "forthcoming": 268}


def test_cascade_calls_are_judged_by_their_dates(snapshot):
    """Every cascade call's status follows its dates: forthcoming exactly when it opens after
    the crawl (the listed status is not used for them)."""
    cascade = [c for c in snapshot.calls.values() if c.kind == "cascade"]
    assert len(cascade) == 83
    for call in cascade:
        opens_later = call.opening_date is not None and call.opening_date > utc(2026, 8, 22, 6)
        assert call.status == ("forthcoming" if opens_later else "open"), call.id


def test_cascade_call_past_its_deadlines_is_closed(snapshot_dir):
    """A real cascade row listed as open, its deadline moved into the past (the stale status
    the portal keeps): it is read as closed; a topic row listed as open stays open."""
    rows = json.loads((snapshot_dir / "ft_portal" / "search-page-3.json").read_text("utf-8"))
    cascade = next(r for r in rows["results"] if r["metadata"]["type"] == ["8"])
    topic = next(r for r in rows["results"] if r["metadata"]["type"] == ["1"])
    _, spider = make_crawler()
    for row in (cascade, topic):
        row["metadata"]["status"] = ["31094502"]
        row["metadata"]["deadlineDate"] = ["2026-03-01T17:00:00.000+0000"]

    statuses = [spider._parse_row(row).call.status for row in (cascade, topic)]

    assert statuses == ["closed", "open"]


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
    (CL5, "grant_min_eur", 9_500_000),
    (CL5, "grant_max_eur", 9_500_000),
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
    (CASCADE, "grant_min_eur", None),
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
    item = next(i for i in snapshot.items if i.call.identifier == "HORIZON-CL5-2027-07-D3-16")
    assert item.raw["reference"] == "50129698TOPICSen"


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
