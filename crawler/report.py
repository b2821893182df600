"""What one crawl did: counts, errors and the ids it saw, shared by spider and pipelines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

MAX_SAMPLES = 20


@dataclass
class CrawlReport:
    """Counts and error samples of one crawl of one source."""

    pages_expected: int = 1
    pages: int = 0
    items_seen: int = 0
    items_new: int = 0
    items_changed: int = 0
    items_invalid: int = 0
    items_skipped: int = 0
    closed_marked: int = 0
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    notes: list[str] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    listener: Callable[[CrawlReport], None] | None = field(default=None, repr=False)

    def error(self, message: str) -> None:
        """Count an error and keep its message in the sample."""
        self.error_count += 1
        if len(self.errors) < MAX_SAMPLES:
            self.errors.append(message)
        self.changed()

    def note(self, message: str) -> None:
        """Keep a message about dropped input (invalid or skipped items) in the sample."""
        if len(self.notes) < MAX_SAMPLES:
            self.notes.append(message)

    def changed(self) -> None:
        """Tell the listener (the progress display) that counts moved."""
        if self.listener is not None:
            self.listener(self)

    @property
    def listing_complete(self) -> bool:
        """Every listing page was read and nothing went wrong."""
        return self.error_count == 0 and self.pages >= self.pages_expected

    @property
    def status(self) -> str:
        """ok, partial (some pages or items lost) or failed (no call read)."""
        if self.listing_complete:
            return "ok"
        nothing_read = self.pages == 0 or self.items_seen == 0
        return "failed" if nothing_read else "partial"

    def counts(self) -> dict:
        """The counts as a plain dict, for progress messages between processes."""
        return {
            "pages": self.pages,
            "pages_expected": self.pages_expected,
            "items_seen": self.items_seen,
            "items_new": self.items_new,
            "items_changed": self.items_changed,
            "items_invalid": self.items_invalid,
            "items_skipped": self.items_skipped,
            "closed_marked": self.closed_marked,
            "error_count": self.error_count,
        }
