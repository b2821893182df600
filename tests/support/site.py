"""A small real HTTP server on 127.0.0.1 for crawls of any source: it answers each path from a
list of answers (the last one repeats) and keeps every request it got, body included. The
serving machinery (a threading server on a free port, writing an answer) is shared with the
local portal (tests/support/portal.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


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
    server: LocalServer

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _serve(self, body: bytes) -> None:
        target = urlsplit(self.path)
        request = Request(self.command, target.path, target.query, body, dict(self.headers))
        send(self, self.server.state.answer(request))

    def log_message(self, format: str, *args) -> None:
        """Keep the test output free of access logs."""


def send(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
    """Write an answer to the request a handler serves."""
    handler.send_response(answer.status)
    for name, value in answer.headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(answer.body)))
    handler.end_headers()
    handler.wfile.write(answer.body)


class LocalServer(ThreadingHTTPServer):
    """A threading HTTP server on a free local port; its handlers answer from ``state``."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], state: object):
        super().__init__(("127.0.0.1", 0), handler)
        self.state = state


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], state: object) -> Iterator[str]:
    """Serve on a free local port until the block ends; yields the server's base URL."""
    server = LocalServer(handler, state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def site_running(answers: dict[str, list[Answer]]) -> Iterator[Site]:
    """Serve these answers on a free local port until the block ends."""
    site = Site(answers)
    with serving(_Handler, site) as url:
        site.url = url
        yield site
