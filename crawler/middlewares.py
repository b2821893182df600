"""Downloader middlewares: replay of saved answers, and polite retries with backoff."""

from __future__ import annotations

import asyncio
import email.utils
import time
from pathlib import Path

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse
from twisted.internet.error import ConnectionRefusedError as NetworkError


class ReplayMiddleware:
    """Answer requests from saved files instead of the network.

    The folder has one sub-folder per source id; a request names its file in
    ``meta["replay_file"]``. A request with no saved answer fails as a refused
    connection would, so retries and error handling run as in a real crawl. A
    robots.txt that was not saved is answered 404, as by a site without one.
    """

    def __init__(self, folder: Path, source_id: str):
        self.folder = folder / source_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReplayMiddleware:
        folder = crawler.settings.get("EUFUNDS_REPLAY")
        if not folder:
            raise NotConfigured
        return cls(Path(folder), crawler.settings.get("EUFUNDS_SOURCE_ID"))

    def process_request(self, request: Request) -> Response:
        """Return the saved answer for this request, or fail like the network would."""
        if request.url.endswith("/robots.txt"):
            saved = self.folder / "robots.txt"
            if saved.is_file():
                return TextResponse(request.url, body=saved.read_bytes(), request=request)
            return Response(request.url, status=404, request=request)
        name = request.meta.get("replay_file")
        path = self.folder / name if name else None
        if path is None or not path.is_file():
            raise NetworkError(string=f"no saved answer {path or request.url} in replay folder")
        return TextResponse(
            request.url,
            status=200,
            body=path.read_bytes(),
            headers={"Content-Type": _content_type(path)},
            encoding="utf-8",
            request=request,
        )


def _content_type(path: Path) -> str:
    return {".json": "application/json", ".html": "text/html", ".xml": "application/xml"}.get(
        path.suffix, "application/octet-stream"
    )


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, waiting before each: Retry-After when the server gives one,
    else exponential backoff (base * 2**attempt), capped.

    A Retry-After pauses every request of the crawl, not just the retried one: the
    server asked us to stay away for that long (RFC 6585, RFC 9110).
    """

    def __init__(self, settings):
        super().__init__(settings)
        self.base_delay = settings.getfloat("EUFUNDS_RETRY_BACKOFF", 2.0)
        self.max_delay = settings.getfloat("EUFUNDS_RETRY_BACKOFF_MAX", 120.0)
        self.paused_until = 0.0

    async def process_request(self, request: Request) -> None:
        """Hold a request while the server's Retry-After pause lasts."""
        wait = self.paused_until - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        """Retry 429 and 5xx answers after the server's or our own delay."""
        result = super().process_response(request, response)
        if isinstance(result, Request):
            wait = self.delay(request, response)
            if response.headers.get("Retry-After"):
                self.paused_until = max(self.paused_until, time.monotonic() + wait)
            await asyncio.sleep(wait)
        return result

    async def process_exception(self, request: Request, exception: Exception):
        """Retry network errors after a backoff delay."""
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await asyncio.sleep(self.delay(request, None))
        return result

    def delay(self, request: Request, response: Response | None) -> float:
        """Seconds to wait before retrying this request."""
        attempt = request.meta.get("retry_times", 0)
        wait = self.base_delay * (2**attempt)
        if response is not None:
            header = response.headers.get("Retry-After")
            after = retry_after_seconds(header.decode("latin-1") if header else None)
            if after is not None:
                wait = after
        return min(max(wait, 0.0), self.max_delay)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse a Retry-After header (seconds or an HTTP date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))
