"""JSON API sources (Vinnova, interreg.eu), read through the field mapping of config/sources.toml
by the real crawler: replayed from the real Vinnova records in ../shared, and against a real
local HTTP server for what a replay cannot show (the request sent, retries, paging)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from db import CrawlRun, Store
from db.records import LOCAL_TZ
from eufunds.config import Config
from eufunds.crawling import CrawlOptions, crawl
from tests.conftest import SHARED
from tests.support.portal import JSON_HEADERS, Answer
from tests.support.site import Site, site_running

SOURCES = SHARED / "research" / "sources"
VINNOVA_RECORDS = SOURCES / "vinnova_api_records__levandow-grants-hello.json"
VINNOVA_HTML = SOURCES / "vinnova_api_ansokningsomgangar_docpage__abeltomy.html"
# While the open Vinnova round of the records is open.
OCTOBER_2025 = datetime(2025, 10, 1, 12, tzinfo=UTC)
# Hand-written in the documented format of interreg.eu's search answer (see
# ../shared/research/sources/README.md): no saved answer of it exists offline.
INTERREG_ANSWER = {
    "results": [
        {
            "hits": [
                {
                    "objectID": "callForProjectsPage_3129",
                    "title": "Small projects for cities around the Baltic Sea",
                    "contentUrl": "/calls-for-projects/bsr-small-projects",
                    "callExternalUrl": "https://interreg-baltic.eu/calls/small-projects",
                    "callStatus": "Open",
                    "callOpenDate": "2026-08-01T00:00:00Z",
                    "callDeadlineDate": "2026-10-15T00:00:00Z",
                    "callThemes": ["Better Governance"],
                    "callEligibleCountryNuts": ["SE", "FI", "DK"],
                    "callEligibleRegionNuts": ["SE211", "SE21"],
                    "targetAudience": ["Local public authority"],
                    "associatedProgrammes": ["Interreg Baltic Sea Region"],
                },
                {
                    "objectID": "callForProjectsPage_3130",
                    "title": "Third call for projects",
                    "contentUrl": "/calls-for-projects/sudoe-3",
                    "callStatus": "Forthcoming",
                    "callOpenDate": "2026-11-01T00:00:00Z",
                    "callDeadlineDate": "2027-02-01T00:00:00Z",
                    "callEligibleCountryNuts": ["ES", "FR", "PT"],
                    "targetAudience": ["Regional public authority"],
                    "associatedProgrammes": ["Interreg South West Europe (SUDOE)"],
                },
            ],
            "nbHits": 2,
        }
    ]
}


def _json(document: object) -> Answer:
    return Answer(200, JSON_HEADERS, json.dumps(document).encode())


def _source_config(config: Config, source_id: str, **changes) -> Config:
    """The configuration with one source, changed; fast retries, no delay."""
    source = dataclasses.replace(config.source(source_id), **changes)
    fast = dataclasses.replace(
        config.crawl, retry_times=1, retry_backoff_seconds=0.05, download_delay=0
    )
    return dataclasses.replace(config, sources=(source,), crawl=fast)


def _crawl(config: Config, db_path: Path, now: datetime, replay: Path | None = None) -> CrawlRun:
    [run] = crawl(config, [], CrawlOptions(db_path, replay, now))
    return run


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch):
    monkeypatch.setenv("EUFUNDS_SCRAPY_AUTOTHROTTLE_ENABLED", "0")


@pytest.fixture
def vinnova_replay(tmp_path: Path) -> Path:
    """A replay folder whose Vinnova answer is the real records in ../shared."""
    folder = tmp_path / "replay" / "vinnova"
    folder.mkdir(parents=True)
    (folder / "page-1.json").write_bytes(VINNOVA_RECORDS.read_bytes())
    return folder.parent


@pytest.fixture
def vinnova(config, db_path, vinnova_replay) -> tuple[CrawlRun, dict]:
    """The real Vinnova records crawled (replayed) as of October 2025."""
    run = _crawl(_source_config(config, "vinnova"), db_path, OCTOBER_2025, vinnova_replay)
    with Store(db_path) as store:
        return run, {call.id: store.get_call(call.id) for call in store.list_calls()}


def test_vinnova_public_rounds_are_stored_and_the_hidden_one_skipped(vinnova):
    """Two public rounds are stored; the one with Publik 0 is skipped and counted."""
    run, calls = vinnova
    assert (run.status, run.items_seen, run.items_skipped) == ("ok", 2, 1)
    assert sorted(calls) == ["vinnova/2025-01768", "vinnova/2025-03400"]
    assert "skipped: Publik is 0" in run.notes


def test_vinnova_open_round_fields(vinnova):
    """The open round: Swedish title and text, its link, Swedish-time dates, who may apply
    and the co-financing as Vinnova states them."""
    call = vinnova[1]["vinnova/2025-01768"]
    assert call.title.startswith("Impact Innovation: Digitala produktpass")
    assert call.summary.startswith("Den här utlysningen genomförs inom ramen för programmet")
    assert call.url.startswith("https://ansok.vinnova.se/utlysning/")
    assert (call.language, call.programme, call.status) == ("sv", "Vinnova", "open")
    assert call.opening_date == datetime(2025, 9, 16, tzinfo=LOCAL_TZ)
    assert call.deadlines == [datetime(2025, 10, 31, 14, tzinfo=LOCAL_TZ)]
    assert call.audience.startswith("Konsortier med minst 10 projektparter")
    assert "Det maximala bidragsbeloppet är 10 miljoner kronor" in call.cofinancing


def test_vinnova_announced_round_is_forthcoming(vinnova):
    """A round with no dates but an announced year and month is forthcoming, opening that
    month (a date, not a time)."""
    call = vinnova[1]["vinnova/2025-03400"]
    assert call.status == "forthcoming"
    assert call.opening_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert call.deadlines == []


def test_api_that_answers_html_fails_and_keeps_the_calls(vinnova, config, db_path, tmp_path):
    """The real documentation page a client once got instead of JSON fails the run, naming
    it; the calls stored before stay."""
    replay = tmp_path / "html" / "vinnova"
    replay.mkdir(parents=True)
    (replay / "page-1.json").write_bytes(VINNOVA_HTML.read_bytes())
    run = _crawl(_source_config(config, "vinnova"), db_path, OCTOBER_2025, replay.parent)
    assert run.status == "failed"
    assert run.errors[0].startswith("page 1: expected JSON, got HTML")
    with Store(db_path) as store:
        assert {call.id for call in store.list_calls()} == set(vinnova[1])
        assert store.list_calls(status=["closed"]) == []


def test_source_missing_from_the_replay_is_skipped(config, db_path, tmp_path):
    """Replaying a folder without the source's answers skips it (not a failure)."""
    (tmp_path / "replay").mkdir()
    run = _crawl(_source_config(config, "vinnova"), db_path, OCTOBER_2025, tmp_path / "replay")
    assert (run.status, run.pages, run.items_seen) == ("skipped", 0, 0)
    assert run.notes == ["not in replay: no folder vinnova/"]


@pytest.fixture
def interreg(config, db_path) -> tuple[Site, CrawlRun, dict]:
    """interreg.eu's search (hand-written answer) crawled over HTTP after one HTTP 500."""
    failure = Answer(500, {"Content-Type": "text/plain"}, b"busy")
    with site_running({"/1/indexes/*/queries": [failure, _json(INTERREG_ANSWER)]}) as site:
        url = f"{site.url}/1/indexes/*/queries"
        run = _crawl(_source_config(config, "interreg", url=url), db_path, OCTOBER_2025)
    with Store(db_path) as store:
        return site, run, {call.id: store.get_call(call.id) for call in store.list_calls()}


def test_interreg_is_asked_as_its_site_asks(interreg):
    """A POST with the site's search key and a body asking for open and forthcoming calls;
    the first answer (HTTP 500) is retried."""
    site, run, _ = interreg
    searches = [r for r in site.requests if r.path == "/1/indexes/*/queries"]
    assert [r.method for r in searches] == ["POST", "POST"]
    assert parse_qs(searches[-1].query)["x-algolia-application-id"] == ["2E032DRCNS"]
    [request] = json.loads(searches[-1].body)["requests"]
    assert request["filters"] == (
        "contentType:callForProjectsPage AND (callStatus:Open OR callStatus:Forthcoming)"
    )
    assert (run.status, run.items_new) == ("ok", 2)


def test_interreg_calls_keep_their_regions_audience_and_links(interreg):
    """Each call keeps its eligible NUTS codes, who may apply, its programme and an absolute
    link (the programme's own page when given)."""
    calls = interreg[2]
    baltic = calls["interreg/callForProjectsPage_3129"]
    assert baltic.url == "https://interreg-baltic.eu/calls/small-projects"
    assert baltic.regions == ["SE211", "SE21", "SE", "FI", "DK"]
    assert (baltic.audience, baltic.programme) == (
        "Local public authority",
        "Interreg Baltic Sea Region",
    )
    assert (baltic.status, baltic.deadlines) == ("open", [datetime(2026, 10, 15, tzinfo=UTC)])
    sudoe = calls["interreg/callForProjectsPage_3130"]
    assert sudoe.url == "https://www.interreg.eu/calls-for-projects/sudoe-3"
    assert (sudoe.status, sudoe.regions) == ("forthcoming", ["ES", "FR", "PT"])


@pytest.mark.parametrize(
    ("paging", "pages", "second_query"),
    [
        ({"kind": "page", "param": "page", "size": 2, "total": "total"}, 2, "page=2"),
        ({"kind": "offset", "param": "from", "size": 2, "total": "total"}, 2, "from=2"),
        ({"kind": "cursor", "param": "after", "next": "next"}, 2, "after=abc"),
    ],
)
def test_every_way_of_paging_reads_every_record(config, db_path, paging, pages, second_query):
    """By page number, by offset and by cursor: every record of every page is read once."""
    # Hand-written answers: three records over two pages.
    first = {"total": 3, "items": [{"nr": "1", "name": "A"}, {"nr": "2", "name": "B"}]}
    second = {"total": 3, "items": [{"nr": "3", "name": "C"}]}
    if paging["kind"] == "cursor":
        first, second = first | {"next": "abc"}, second | {"next": ""}
    with site_running({"/api": [_json(first), _json(second)]}) as site:
        options = {
            "records": "items",
            "paging": {"size": 100, "first": 1, "param": "", "size_param": ""} | paging,
            "fields": {"id": "nr", "title": "name"},
        }
        source_config = _source_config(config, "vinnova", url=f"{site.url}/api", options=options)
        run = _crawl(source_config, db_path, OCTOBER_2025)
    assert (run.status, run.pages, run.items_new) == ("ok", pages, 3)
    assert site.requests[-1].query == second_query


def test_round_missing_from_the_next_answer_is_not_closed(vinnova, config, db_path, tmp_path):
    """The real records again without the open round (hand-cut from the real answer): the
    run is ok and the round, its deadline ahead, is not closed for vanishing; only a
    deadline or a stated status closes a call."""
    _, before = vinnova
    records = json.loads(VINNOVA_RECORDS.read_text("utf-8"))
    replay = tmp_path / "without" / "vinnova"
    replay.mkdir(parents=True)
    kept = [r for r in records if r.get("Diarienummer") != "2025-01768"]
    (replay / "page-1.json").write_text(json.dumps(kept), "utf-8")

    run = _crawl(_source_config(config, "vinnova"), db_path, OCTOBER_2025, replay.parent)

    assert (len(kept), run.status, run.items_seen, run.closed_marked) == (2, "ok", 1, 0)
    with Store(db_path) as store:
        after = store.get_call("vinnova/2025-01768")
    assert after.status == "open"
    assert after == before["vinnova/2025-01768"]
