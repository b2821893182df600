"""A real HTTP server on 127.0.0.1 that answers like the Funding & Tenders Portal.

It serves the saved real answers of the snapshot (robots.txt, the facet list, the search
pages), can inject a fault per page (an HTML page, truncated JSON, HTTP 500, 429 with
Retry-After...), and records every request it receives.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.support.site import Answer, LocalServer, send, serving

ROBOTS_TXT = b"User-agent: *\nDisallow:\n"
JSON_HEADERS = {"Content-Type": "application/json"}


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

    server: LocalServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._serve()

    def _serve(self) -> None:
        portal = self.server.state
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
            send(self, portal.answer(self.command, self.path))
        finally:
            portal.finished()

    def log_message(self, format: str, *args) -> None:
        """Keep the test output free of access logs."""


@contextmanager
def portal_running(folder: Path) -> Iterator[Portal]:
    """Serve the saved answers in ``folder`` on a free local port until the block ends."""
    served = Portal(folder)
    with serving(PortalHandler, served) as url:
        served.url = url
        yield served
