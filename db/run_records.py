"""Record types of how runs go: a source's health, the job lock that keeps runs apart.

Part of db/records.py (which re-exports every name here): kept apart only to keep each
file short. Import them from db.records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SourceHealth:
    """How a source's recent crawls went, and the problem with it, if there is one."""

    source_id: str
    name: str
    last_success: datetime | None
    recent_items: tuple[int, ...]
    last_error: str
    failures_in_a_row: int
    problem: str = ""


@dataclass(frozen=True)
class JobLock:
    """A named lock as held: by whom, since when, until when at the latest."""

    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime
