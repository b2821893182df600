"""Shared fixtures: the read-only real data in ../shared, temporary databases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from db import Store

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EUFUNDS_SHARED", REPO.parent / "shared")).resolve()
SNAPSHOT = SHARED / "snapshot"
AARHUS_PAGE = SHARED / "research" / "sources" / "ft_search_api_page__AarhusAI.json"


@pytest.fixture(scope="session")
def snapshot_dir() -> Path:
    """The saved real answers of the Funding & Tenders Portal (723 calls)."""
    if not (SNAPSHOT / "ft_portal" / "search-page-1.json").is_file():
        pytest.fail(f"real snapshot not found in {SNAPSHOT}; set EUFUNDS_SHARED")
    return SNAPSHOT


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a fresh SQLite database."""
    return tmp_path / "test.db"


@pytest.fixture
def store(db_path: Path):
    """A real, migrated SQLite store in a temporary folder."""
    with Store(db_path) as opened:
        yield opened
