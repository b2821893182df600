"""Crawls against a real local HTTP server that answers like the portal, with injected faults.

Every test starts from a database holding a clean crawl of the snapshot, crawls again with one
fault and checks that the stored calls survive, the error is recorded and the run status fits.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db import CrawlRun, Store
from db.deadlines import upcoming_deadlines
from eufunds.config import Config
from eufunds.crawling import CrawlOptions, crawl, user_agent
from tests.conftest import SNAPSHOT_CALLS, SNAPSHOT_NOW
from tests.support.databases import copy_database, stored_state
from tests.support.portal import JSON_HEADERS, Answer, Portal

SOURCE_ID = "ft_portal"
TOTAL_CALLS = SNAPSHOT_CALLS
CASCADE_CALLS = 83
# After every deadline in the snapshot: a faulty listing wrongly taken as complete at this
# moment would close every call it missed.
FAR_FUTURE = datetime(2030, 1, 1, tzinfo=UTC)
RETRY_TIMES = 2
RETRY_BACKOFF = 0.1
# Hand-written, not saved from the portal: the kind of maintenance page a proxy answers with.
MAINTENANCE_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head>\n"
    b"<body><h1>The service is under maintenance</h1><p>Please try again later.</p></body></html>\n"
)


def saved_page(snapshot_dir: Path, page: int) -> dict:
    """One saved search page of the snapshot."""
    path = snapshot_dir / SOURCE_ID / f"search-page-{page}.json"
    return json.loads(path.read_text("utf-8"))


def json_answer(document: dict) -> Answer:
    """A 200 answer carrying a JSON document."""
    return Answer(200, JSON_HEADERS, json.dumps(document).encode())


def crawl_portal(config: Config, db_path: Path, now: datetime) -> CrawlRun:
    """Crawl the portal source once over HTTP and return its recorded run."""
    [run] = crawl(config, [SOURCE_ID], CrawlOptions(db_path=db_path, now=now))
    return run


@pytest.fixture
def config(config: Config, portal: Portal, monkeypatch) -> Config:
    """The embedded configuration aimed at the local portal, with fast retries, no throttle."""
    monkeypatch.setenv("EUFUNDS_SCRAPY_AUTOTHROTTLE_ENABLED", "0")
    source = dataclasses.replace(
        config.source(SOURCE_ID), url=f"{portal.url}/search", facet_url=f"{portal.url}/facet"
    )
    fast = dataclasses.replace(
        config.crawl,
        retry_times=RETRY_TIMES,
        retry_backoff_seconds=RETRY_BACKOFF,
        download_timeout=10,
        download_delay=0,
    )
    return dataclasses.replace(config, crawl=fast, sources=(source,))


@pytest.fixture
def crawled_db(crawled_snapshot: Path, db_path: Path) -> Path:
    """This test's own copy of the database after one clean crawl."""
    return copy_database(crawled_snapshot, db_path)


@pytest.fixture
def stored_before(crawled_db: Path) -> dict[str, tuple]:
    """The stored calls before the faulty crawl."""
    with Store(crawled_db) as store:
        return stored_state(store)


def assert_calls_untouched(db_path: Path, before: dict[str, tuple]) -> None:
    """Every call stored before is still there and unchanged; the only calls closed are
    cascade-funding calls, judged by their own deadlines (all passed at FAR_FUTURE)."""
    with Store(db_path) as store:
        assert store.count_calls(SOURCE_ID) == TOTAL_CALLS
        closed = {call.id: call for call in store.list_calls(status=["closed"])}
        after = stored_state(store)
    assert {call.kind for call in closed.values()} <= {"cascade"}
    assert all(not upcoming_deadlines(call.deadlines, FAR_FUTURE) for call in closed.values())
    assert {key: state for key, state in after.items() if key not in closed} == {
        key: state for key, state in before.items() if key not in closed
    }


def test_crawl_names_itself_and_reads_robots_txt(config, portal, db_path):
    """The crawler asks for robots.txt first and names eufunds and a contact in its User-Agent."""
    run = crawl_portal(config, db_path, SNAPSHOT_NOW)

    assert (run.status, run.pages, run.items_new, run.error_count) == ("ok", 8, TOTAL_CALLS, 0)
    assert portal.requests[0].path == "/robots.txt"
    assert sorted(request.page for request in portal.requests if request.page) == list(range(1, 9))
    for request in portal.requests:
        assert "eufunds" in request.user_agent
        assert config.organisation.contact_email in request.user_agent
    with Store(db_path) as store:
        assert store.count_calls(SOURCE_ID) == TOTAL_CALLS


def test_user_agent_reads_the_same_on_the_server(config, portal, db_path):
    """The User-Agent the server logs is the one eufunds meant to send, not mojibake."""
    crawl_portal(config, db_path, SNAPSHOT_NOW)

    sent = user_agent(config)
    assert {request.user_agent for request in portal.requests} == {sent}


def test_one_request_at_a_time(config, portal, db_path):
    """The portal never has two requests from eufunds in flight at once."""
    portal.answer_delay = 0.05

    run = crawl_portal(config, db_path, SNAPSHOT_NOW)

    assert run.status == "ok"
    assert portal.most_in_flight == 1


def test_html_instead_of_json(config, portal, crawled_db, stored_before):
    """An HTML page where JSON was expected is recorded as such; the run is partial."""
    portal.faults[3] = [Answer(200, {"Content-Type": "text/html"}, MAINTENANCE_HTML)]

    run = crawl_portal(config, crawled_db, FAR_FUTURE)

    assert (run.status, run.pages, run.error_count, run.closed_marked) == ("partial", 7, 1, 0)
    assert run.errors[0].startswith("search page 3: expected JSON, got HTML (text/html")
    assert_calls_untouched(crawled_db, stored_before)


def test_truncated_json(config, portal, crawled_db, stored_before, snapshot_dir):
    """A page cut off halfway is recorded as unreadable JSON; the run is partial."""
    whole = (snapshot_dir / SOURCE_ID / "search-page-2.json").read_bytes()
    portal.faults[2] = [Answer(200, JSON_HEADERS, whole[: len(whole) // 2])]

    run = crawl_portal(config, crawled_db, FAR_FUTURE)

    assert (run.status, run.pages, run.error_count, run.closed_marked) == ("partial", 7, 1, 0)
    assert run.errors[0].startswith("search page 2: expected JSON, got no JSON")
    assert f"{len(whole) // 2} bytes" in run.errors[0]
    assert_calls_untouched(crawled_db, stored_before)


def test_server_error_then_success_is_retried(config, portal, crawled_db, stored_before):
    """A single HTTP 500 is retried after a backoff and the run ends ok."""
    portal.faults[2] = [Answer(500, {"Content-Type": "text/plain"}, b"internal error")]

    run = crawl_portal(config, crawled_db, FAR_FUTURE)

    assert (run.status, run.pages, run.error_count, run.errors) == ("ok", 8, 0, [])
    # Changed: only the 83 cascade-funding calls, closed by their deadlines at FAR_FUTURE.
    assert (run.items_seen, run.items_new, run.items_changed) == (TOTAL_CALLS, 0, CASCADE_CALLS)
    first, retry = portal.page_requests(2)
    assert retry.at - first.at >= RETRY_BACKOFF * 0.9
    assert_calls_untouched(crawled_db, stored_before)


def test_too_many_requests_waits_for_retry_after(config, portal, crawled_db, stored_before):
    """A 429 with Retry-After: 1 is retried about a second later and the run ends ok."""
    portal.faults[2] = [Answer(429, {"Retry-After": "1"}, b"slow down")]

    run = crawl_portal(config, crawled_db, FAR_FUTURE)

    assert (run.status, run.pages, run.error_count) == ("ok", 8, 0)
    first, retry = portal.page_requests(2)
    assert 0.9 <= retry.at - first.at < 5
    during_pause = [r for r in portal.requests if r.page and first.at < r.at < first.at + 0.9]
    assert during_pause == []
    assert_calls_untouched(crawled_db, stored_before)


def test_result_without_identifier_is_dropped(
    config, portal, crawled_db, stored_before, snapshot_dir
):
    """A result with no identifier is counted invalid with its reason; the rest are stored."""
    page = saved_page(snapshot_dir, 1)
    anonymous = copy.deepcopy(page["results"][0])
    del anonymous["metadata"]["identifier"]
    page["results"].append(anonymous)
    portal.faults[1] = [json_answer(page)]

    run = crawl_portal(config, crawled_db, FAR_FUTURE)

    assert (run.status, run.pages, run.error_count) == ("ok", 8, 0)
    assert (run.items_seen, run.items_invalid, run.items_new) == (TOTAL_CALLS + 1, 1, 0)
    assert run.errors == []
    assert run.notes == [f"invalid item (no identifier): {anonymous['metadata']['title'][0][:60]}"]
    assert_calls_untouched(crawled_db, stored_before)


def test_empty_results_page(config, portal, crawled_db, stored_before, snapshot_dir):
    """A first page with no results fails the run and closes or deletes nothing."""
    page = saved_page(snapshot_dir, 1) | {"totalResults": 0, "results": []}
    portal.faults[1] = [json_answer(page)]

    run = crawl_portal(config, crawled_db, FAR_FUTURE)

    assert (run.status, run.items_seen, run.error_count, run.closed_marked) == ("failed", 0, 1, 0)
    assert run.errors == ["search page 1: empty results page"]
    assert [request.page for request in portal.requests if request.page] == [1]
    assert_calls_untouched(crawled_db, stored_before)
    with Store(crawled_db) as store:
        assert {call.last_seen for call in store.list_calls()} == {SNAPSHOT_NOW}


def test_server_error_forever(config, portal, crawled_db, stored_before):
    """A page that keeps failing is given up after the retries; the run is partial."""
    portal.faults[4] = [Answer(500, {"Content-Type": "text/plain"}, b"internal error")] * 10

    run = crawl_portal(config, crawled_db, FAR_FUTURE)

    assert (run.status, run.pages, run.error_count, run.closed_marked) == ("partial", 7, 1, 0)
    assert run.errors[0].startswith("search page 4: HTTP 500 from ")
    assert "pageNumber=4" in run.errors[0]
    assert len(portal.page_requests(4)) == 1 + RETRY_TIMES
    assert_calls_untouched(crawled_db, stored_before)


def reserving_page(snapshot_dir: Path) -> tuple[Answer, str]:
    """Page 2 as a replica in another order would serve it: its last result lost and a
    result of page 1 served again in its place. Returns the answer and the lost identifier."""
    page = saved_page(snapshot_dir, 2)
    lost = page["results"].pop()
    page["results"].append(saved_page(snapshot_dir, 1)["results"][0])
    return json_answer(page), lost["metadata"]["identifier"][0]


def test_result_lost_by_one_walk_is_found_by_the_next(config, portal, db_path, snapshot_dir):
    """A walk over the pages that serves one result twice and loses another is followed by a
    second walk that finds it: every call is stored and the run is complete."""
    lossy, lost = reserving_page(snapshot_dir)
    portal.faults[2] = [lossy]

    run = crawl_portal(config, db_path, SNAPSHOT_NOW)

    assert (run.status, run.pages, run.pages_expected, run.error_count) == ("ok", 16, 16, 0)
    assert sorted(r.page for r in portal.requests if r.page) == sorted(list(range(1, 9)) * 2)
    assert any(
        note.startswith(f"listing: {TOTAL_CALLS - 1} different results") for note in run.notes
    )
    with Store(db_path) as store:
        assert store.count_calls(SOURCE_ID) == TOTAL_CALLS
        assert store.get_call(f"{SOURCE_ID}/{lost}") is not None


def test_result_lost_by_every_walk_is_a_recorded_shortfall(
    config, portal, crawled_db, stored_before, snapshot_dir
):
    """A result no walk finds makes the run partial with the shortfall named; the lost call
    is not closed (its deadlines passed at FAR_FUTURE) and nothing stored changes."""
    lossy, lost = reserving_page(snapshot_dir)
    portal.faults[2] = [lossy, lossy]

    run = crawl_portal(config, crawled_db, FAR_FUTURE)

    assert (run.status, run.pages, run.closed_marked) == ("partial", 16, 0)
    assert run.errors == [
        f"listing shortfall: {TOTAL_CALLS - 1} different results of the {TOTAL_CALLS} the "
        "search counted, after 2 walks over its pages; calls not seen keep what was stored"
    ]
    assert_calls_untouched(crawled_db, stored_before)
    with Store(crawled_db) as store:
        assert store.get_call(f"{SOURCE_ID}/{lost}").status != "closed"
