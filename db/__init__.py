"""Storage: schema, migrations and the record types that cross package boundaries."""

from db.records import Call, CallChange, CrawlRun, Department, FocusArea, Source
from db.store import Store, StoreError, content_hash, from_text, to_text

__all__ = [
    "Call",
    "CallChange",
    "CrawlRun",
    "Department",
    "FocusArea",
    "Source",
    "Store",
    "StoreError",
    "content_hash",
    "from_text",
    "to_text",
]
