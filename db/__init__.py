"""Storage: schema, migrations and the record types that cross package boundaries."""

from db.records import (
    Call,
    CallChange,
    CrawlRun,
    Department,
    EligibilityRule,
    FocusArea,
    Match,
    MatchingSettings,
    MatchRun,
    Source,
)
from db.store import Store, StoreError, content_hash, from_text, to_text

__all__ = [
    "Call",
    "CallChange",
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
    "content_hash",
    "from_text",
    "to_text",
]
