"""Shared fixtures: the read-only real data in ../shared, temporary databases, an SMTP server.

The snapshot is crawled once per test session (the real crawler, replaying the saved portal
answers) and matched once; tests that write work on their own copy (`copy_database`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from db import Store
from eufunds.config import Config, load_config
from eufunds.crawling import CrawlOptions, crawl
from eufunds.digests import send_digests
from eufunds.matching import run_match
from notifier.send import read_outbox
from tests.support.databases import content_digest, copy_database
from tests.support.smtp import SmtpServer, smtp_server_running

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EUFUNDS_SHARED", REPO.parent / "shared")).resolve()
SNAPSHOT = SHARED / "snapshot"
AARHUS_PAGE = SHARED / "research" / "sources" / "ft_search_api_page__AarhusAI.json"
# Fixtures of the whole session use the embedded configuration itself, never a module's
# `config` fixture: modules override that one (aimed at a local server, faster retries).
# The day the snapshot was saved, a Saturday: crawls and matches of it are judged then.
SNAPSHOT_NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)
SNAPSHOT_CALLS = 723


@pytest.fixture(scope="session")
def snapshot_dir() -> Path:
    """The saved real answers of the Funding & Tenders Portal (723 calls)."""
    if not (SNAPSHOT / "ft_portal" / "search-page-1.json").is_file():
        pytest.fail(f"real snapshot not found in {SNAPSHOT}; set EUFUNDS_SHARED")
    return SNAPSHOT


@pytest.fixture(scope="session")
def config() -> Config:
    """The embedded configuration in config/ (Jönköping: 13 departments)."""
    return load_config()


@pytest.fixture(scope="session")
def crawled_snapshot(tmp_path_factory, snapshot_dir: Path) -> Iterator[Path]:
    """A database holding one replayed crawl of the snapshot as of SNAPSHOT_NOW (read only:
    tests that write copy it)."""
    db_path = tmp_path_factory.mktemp("snapshot") / "crawled.db"
    runs = crawl(load_config(), ["ft_portal"], CrawlOptions(db_path, snapshot_dir, SNAPSHOT_NOW))
    assert [(run.status, run.items_new) for run in runs] == [("ok", SNAPSHOT_CALLS)]
    yield from _unchanged(db_path)


@pytest.fixture(scope="session")
def matched_snapshot(tmp_path_factory, crawled_snapshot: Path) -> Iterator[Path]:
    """The crawled snapshot matched as of SNAPSHOT_NOW (read only: tests that write copy it)."""
    db_path = copy_database(crawled_snapshot, tmp_path_factory.mktemp("matched") / "matched.db")
    config = load_config()
    with Store(db_path) as store:
        run_match(store, config, SNAPSHOT_NOW)
        assert {m.department_id for m in store.matches()} == {d.id for d in config.departments}
    yield from _unchanged(db_path)


def _unchanged(db_path: Path) -> Iterator[Path]:
    """Hand out a session database, then check that no test wrote to it (they copy it)."""
    before = content_digest(db_path)
    yield db_path
    assert content_digest(db_path) == before, f"a test wrote to the shared database {db_path}"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a fresh SQLite database."""
    return tmp_path / "test.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    """A real, migrated SQLite store in a temporary folder."""
    with Store(db_path) as opened:
        yield opened


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 for one test, stopped afterwards."""
    with smtp_server_running() as server:
        yield server


@dataclass(frozen=True)
class WrittenWeek:
    """Week 34's digests of the matched snapshot, written to the outbox: the database they
    were recorded in and each department's message."""

    db_path: Path
    messages: dict[str, EmailMessage]


@pytest.fixture(scope="session")
def written_week(tmp_path_factory, matched_snapshot: Path) -> WrittenWeek:
    """send_digests as of the snapshot's day, to the outbox, on a copy of the matched
    database (read only: tests that write copy it)."""
    folder = tmp_path_factory.mktemp("written")
    db_path = copy_database(matched_snapshot, folder / "written.db")
    with Store(db_path) as store:
        outcomes = send_digests(store, load_config(), SNAPSHOT_NOW, folder / "outbox", None)
    assert all(o.path is not None for o in outcomes)
    return WrittenWeek(db_path, {o.department_id: read_outbox(o.path) for o in outcomes})
