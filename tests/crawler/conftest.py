"""Crawler test fixtures: saved answers parsed offline once, and a local portal server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import scrapy

from tests.conftest import AARHUS_PAGE
from tests.support.offline_spider import Crawl, crawl, search_pages
from tests.support.portal import Portal, portal_running


@pytest.fixture(scope="session")
def snapshot(snapshot_dir: Path) -> Crawl:
    """All 723 calls of the snapshot, with programme names from the facet answer."""
    return crawl(search_pages(snapshot_dir), snapshot_dir / "ft_portal" / "facet.json")


@pytest.fixture(scope="session")
def unnamed(snapshot_dir: Path) -> Crawl:
    """The snapshot parsed as if the facet request had failed."""
    return crawl(search_pages(snapshot_dir), None)


@pytest.fixture(scope="session")
def aarhus(snapshot_dir: Path) -> Crawl:
    """The raw AarhusAI search page (9 results, stale rows, truncated fields)."""
    if not AARHUS_PAGE.is_file():
        pytest.fail(f"raw AarhusAI page not found at {AARHUS_PAGE}; set EUFUNDS_SHARED")
    return crawl([(1, AARHUS_PAGE)], snapshot_dir / "ft_portal" / "facet.json")


@pytest.fixture(scope="session")
def first_search_request(snapshot: Crawl) -> scrapy.Request:
    """The search request the facet answer schedules."""
    return snapshot.facet_requests[0]


@pytest.fixture
def portal(snapshot_dir: Path) -> Iterator[Portal]:
    """A real HTTP server on 127.0.0.1 answering like the portal from the saved snapshot."""
    with portal_running(snapshot_dir / "ft_portal") as served:
        yield served
