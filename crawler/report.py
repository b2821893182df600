"""What one crawl did: counts, errors and the ids it saw, shared by spider and pipelines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from db.records import CrawlCounts, RunStatus

MAX_SAMPLES = 20


@dataclass
class CrawlReport(CrawlCounts):
    """The counts of one crawl of one source as it goes, with samples of its errors and of
    the input it dropped (notes), and the ids of the calls it saw."""

    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    # Per call id: fields the source gave in a form that could not be read; stored values stay.
    kept_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # ETag and Last-Modified of the answer, kept once the crawl stored it whole.
    validators: tuple[str, str] | None = None
    listener: Callable[[CrawlReport], None] | None = field(default=None, repr=False)

    def invalid(self, message: str) -> None:
        """Count an item that cannot be stored, with why, in the sample of dropped input."""
        self.items_invalid += 1
        self.note(message)
        self.changed()

    def unreadable_fields(self, call_id: str, fields: tuple[str, ...]) -> None:
        """Count fields of a call that could not be read: the call keeps its stored values."""
        self.fields_dropped += len(fields)
        self.kept_fields[call_id] = fields
        self.note(f"{call_id}: {', '.join(fields)} could not be read; the stored value stays")

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
    def status(self) -> RunStatus:
        """ok, partial (some pages or items lost) or failed (no call read, or none of those
        read could be used)."""
        nothing_read = self.pages == 0 or (
            self.items_seen <= self.items_invalid and not self.not_modified
        )
        if nothing_read:
            return RunStatus.FAILED
        return RunStatus.OK if self.listing_complete else RunStatus.PARTIAL
