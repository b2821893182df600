"""Fixtures of the eufunds tests: writable copies of the session's matched snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from db import Store
from eufunds.config import Config
from eufunds.digests import send_digests
from notifier.send import read_outbox
from tests.conftest import SNAPSHOT_NOW
from tests.support.databases import copy_database


@pytest.fixture
def matched_store(matched_snapshot: Path, tmp_path: Path) -> Iterator[Store]:
    """A copy of the crawled and matched snapshot."""
    with Store(copy_database(matched_snapshot, tmp_path / "matched.db")) as store:
        yield store


@pytest.fixture
def unmatched_store(crawled_snapshot: Path, config: Config, tmp_path: Path) -> Iterator[Store]:
    """A copy of the crawled snapshot with the departments stored but no matches at all."""
    with Store(copy_database(crawled_snapshot, tmp_path / "unmatched.db")) as store:
        store.sync_config(config.sources, config.departments, config.focus_areas, SNAPSHOT_NOW)
        yield store


@dataclass(frozen=True)
class WrittenWeek:
    """Week 34's digests of the matched snapshot, written to the outbox: the database they
    were recorded in and each department's message."""

    db_path: Path
    messages: dict[str, EmailMessage]


@pytest.fixture(scope="session")
def written_week(tmp_path_factory, matched_snapshot: Path, config: Config) -> WrittenWeek:
    """send_digests as of the snapshot's day, to the outbox, on a copy of the matched
    database (read only: tests that write copy it)."""
    folder = tmp_path_factory.mktemp("written")
    db_path = copy_database(matched_snapshot, folder / "written.db")
    with Store(db_path) as store:
        outcomes = send_digests(store, config, SNAPSHOT_NOW, folder / "outbox", None)
    assert all(o.path is not None for o in outcomes)
    return WrittenWeek(db_path, {o.department_id: read_outbox(o.path) for o in outcomes})
