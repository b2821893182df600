"""Crawls against a real local HTTP server that answers like the portal, with injected faults.

Every test starts from a database holding a clean crawl of the snapshot, crawls again with one
fault and checks that the stored calls survive, the error is recorded and the run status fits.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from db import CrawlRun, Store
from eufunds.config import DEFAULT_CONFIG_DIR, Config, load_config
from eufunds.crawling import CrawlOptions, crawl, user_agent

SOURCE_ID = "ft_portal"
TOTAL_CALLS = 723
SNAPSHOT_NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
# After every deadline in the snapshot: a faulty listing wrongly taken as complete at this
# moment would close every call it missed.
FAR_FUTURE = datetime(2030, 1, 1, tzinfo=UTC)
RETRY_TIMES = 2
RETRY_BACKOFF = 0.1
ROBOTS_TXT = b"User-agent: *\nDisallow:\n"
JSON_HEADERS = {"Content-Type": "application/json"}
# Hand-written, not saved from the portal: the kind of maintenance page a proxy answers with.
MAINTENANCE_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head>\n"
    b"<body><h1>The service is under maintenance</h1><p>Please try again later.</p></body></html>\n"
)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the local portal: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class SeenRequest:
    """One request as the server received it."""

    method: str
    path: str
    page: int | None
    at: float
    user_agent: str


@dataclass
class Portal:
    """What the local portal serves (saved answers, faults per page) and what it was asked."""

    folder: Path
    url: str = ""
    faults: dict[int, list[Answer]] = field(default_factory=dict)
    answer_delay: float = 0.0
    requests: list[SeenRequest] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, method: str, target: str) -> Answer:
        """The answer to one request: robots.txt, the facet list or a search page."""
        url = urlsplit(target)
        if method == "GET" and url.path == "/robots.txt":
            return Answer(200, {"Content-Type": "text/plain"}, ROBOTS_TXT)
        if method == "POST" and url.path == "/facet":
            return self.saved("facet.json")
        if method == "POST" and url.path == "/search":
            return self.search_answer(search_page(target))
        return Answer(404, {"Content-Type": "text/plain"}, b"not found")

    def saved(self, name: str) -> Answer:
        """A saved answer of the snapshot, as the portal sends it."""
        return Answer(200, JSON_HEADERS, (self.folder / name).read_bytes())

    def search_answer(self, page: int) -> Answer:
        """The next injected fault for this page, else the saved page."""
        with self.lock:
            pending = self.faults.get(page)
            if pending:
                return pending.pop(0)
        return self.saved(f"search-page-{page}.json")

    def started(self, request: SeenRequest) -> None:
        """Remember a received request and count it as in flight."""
        with self.lock:
            self.requests.append(request)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def finished(self) -> None:
        """Count an answered request as no longer in flight."""
        with self.lock:
            self.in_flight -= 1

    def page_requests(self, page: int) -> list[SeenRequest]:
        """The search requests received for one page, in order."""
        return [request for request in self.requests if request.page == page]


def search_page(target: str) -> int | None:
    """The pageNumber of a search request target, None for other requests."""
    url = urlsplit(target)
    if url.path != "/search":
        return None
    return int(parse_qs(url.query)["pageNumber"][0])


class PortalHandler(BaseHTTPRequestHandler):
    """Answers GET /robots.txt, POST /facet and POST /search?...pageNumber=N."""

    server: PortalServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._serve()

    def _serve(self) -> None:
        portal = self.server.portal
        portal.started(
            SeenRequest(
                self.command,
                urlsplit(self.path).path,
                search_page(self.path),
                time.monotonic(),
                self.headers.get("User-Agent", ""),
            )
        )
        try:
            time.sleep(portal.answer_delay)
            answer = portal.answer(self.command, self.path)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        finally:
            portal.finished()

    def log_message(self, format: str, *args) -> None:
        """Keep the test output free of access logs."""


class PortalServer(ThreadingHTTPServer):
    """A threading HTTP server on a free local port that serves one Portal."""

    daemon_threads = True

    def __init__(self, portal: Portal):
        super().__init__(("127.0.0.1", 0), PortalHandler)
        self.portal = portal


def saved_page(snapshot_dir: Path, page: int) -> dict:
    """One saved search page of the snapshot."""
    path = snapshot_dir / SOURCE_ID / f"search-page-{page}.json"
    return json.loads(path.read_text("utf-8"))


def json_answer(document: dict) -> Answer:
    """A 200 answer carrying a JSON document."""
    return Answer(200, JSON_HEADERS, json.dumps(document).encode())


def stored_state(store: Store) -> dict[str, tuple]:
    """What a faulty crawl must not change about each stored call, by id."""
    return {
        call.id: (call.content_hash, call.title, call.deadlines, call.status, call.last_changed)
        for call in store.list_calls()
    }


def copy_database(source: Path, target: Path) -> None:
    """Copy a finished SQLite database, WAL included, with SQLite's backup API."""
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copied:
        original.backup(copied)


def crawl_portal(config: Config, db_path: Path, now: datetime) -> CrawlRun:
    """Crawl the portal source once over HTTP and return its recorded run."""
    [run] = crawl(config, [SOURCE_ID], CrawlOptions(db_path=db_path, now=now))
    return run


@pytest.fixture(scope="module")
def crawled_template(tmp_path_factory, snapshot_dir: Path) -> Path:
    """A database holding one clean replayed crawl of the snapshot, copied by each test."""
    path = tmp_path_factory.mktemp("template") / "crawled.db"
    options = CrawlOptions(db_path=path, replay=snapshot_dir, now=SNAPSHOT_NOW)
    [run] = crawl(load_config(DEFAULT_CONFIG_DIR), [SOURCE_ID], options)
    assert run.status == "ok", run.errors
    return path


@pytest.fixture
def portal(snapshot_dir: Path):
    """A real HTTP server on 127.0.0.1 answering like the portal from the saved snapshot."""
    served = Portal(snapshot_dir / SOURCE_ID)
    server = PortalServer(served)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        served.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def config(portal: Portal, monkeypatch) -> Config:
    """The embedded configuration aimed at the local portal, with fast retries, no throttle."""
    monkeypatch.setenv("EUFUNDS_SCRAPY_AUTOTHROTTLE_ENABLED", "0")
    loaded = load_config(DEFAULT_CONFIG_DIR)
    source = dataclasses.replace(
        loaded.source(SOURCE_ID), url=f"{portal.url}/search", facet_url=f"{portal.url}/facet"
    )
    fast = dataclasses.replace(
        loaded.crawl,
        retry_times=RETRY_TIMES,
        retry_backoff_seconds=RETRY_BACKOFF,
        download_timeout=10,
        download_delay=0,
    )
    return dataclasses.replace(loaded, crawl=fast, sources=(source,))


@pytest.fixture
def crawled_db(crawled_template: Path, db_path: Path) -> Path:
    """This test's own copy of the database after one clean crawl."""
    copy_database(crawled_template, db_path)
    return db_path


@pytest.fixture
def stored_before(crawled_db: Path) -> dict[str, tuple]:
    """The stored calls before the faulty crawl."""
    with Store(crawled_db) as store:
        return stored_state(store)


def assert_calls_untouched(db_path: Path, before: dict[str, tuple]) -> None:
    """Every call stored before is still there, unchanged, and none is closed."""
    with Store(db_path) as store:
        assert store.count_calls(SOURCE_ID) == TOTAL_CALLS
        assert store.list_calls(status=["closed"]) == []
        assert stored_state(store) == before


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
    assert (run.items_seen, run.items_new, run.items_changed) == (TOTAL_CALLS, 0, 0)
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
    assert [e for e in run.errors if "no identifier" in e] == [
        f"invalid item (no identifier): {anonymous['metadata']['title'][0][:60]}"
    ]
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
