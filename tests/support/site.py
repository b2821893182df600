"""A small real HTTP server on 127.0.0.1 for crawls of any source: it answers each path from a
list of answers (the last one repeats) and keeps every request it got, body included."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.support.portal import Answer

NOT_FOUND = Answer(404, {"Content-Type": "text/plain"}, b"not found")


@dataclass(frozen=True)
class Request:
    """One request as the site got it."""

    method: str
    path: str
    query: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Site:
    """What the site answers per path, and what it was asked."""

    answers: dict[str, list[Answer]]
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Request) -> Answer:
        """The next answer for the request's path (the last one again when all were given)."""
        with self.lock:
            self.requests.append(request)
            queue = self.answers.get(request.path)
            if not queue:
                return NOT_FOUND
            return queue.pop(0) if len(queue) > 1 else queue[0]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _serve(self, body: bytes) -> None:
        target = urlsplit(self.path)
        request = Request(self.command, target.path, target.query, body, dict(self.headers))
        answer = self.server.site.answer(request)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args) -> None:
        """Keep the test output free of access logs."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site


@contextmanager
def site_running(answers: dict[str, list[Answer]]) -> Iterator[Site]:
    """Serve these answers on a free local port until the block ends."""
    site = Site(answers)
    server = _Server(site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        site.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
