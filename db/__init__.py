"""Storage: schema, migrations and the record types that cross package boundaries."""

from db.calls import UpsertOutcome, content_hash
from db.locks import Busy
from db.records import (
    Call,
    CallChange,
    CrawlCounts,
    CrawlRun,
    Department,
    EligibilityRule,
    FocusArea,
    Match,
    MatchingSettings,
    MatchRun,
    Source,
)
from db.rows import from_text, to_text
from db.store import Store
from db.tables import StoreError

__all__ = [
    "Busy",
    "Call",
    "CallChange",
    "CrawlCounts",
    "CrawlRun",
    "Department",
    "EligibilityRule",
    "FocusArea",
    "Match",
    "MatchRun",
    "MatchingSettings",
    "Source",
    "Store",
    "StoreError",
    "UpsertOutcome",
    "content_hash",
    "from_text",
    "to_text",
]
