"""Fixtures of the eufunds tests: writable copies of the session's matched snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from db import Store
from eufunds.config import Config
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
