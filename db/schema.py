"""Schema migrations: each a function, recorded in the database by sqlite-utils.

sqlite-utils (which imports pandas when it is installed) is imported only when a migration
is applied: opening an up-to-date database reads the record of applied migrations itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database, Migrations

MIGRATION_SET = "eufunds"
# The table sqlite-utils records applied migrations in (one row per set and name).
MIGRATIONS_TABLE = "_sqlite_migrations"
# This version's migrations, oldest first; their names: a database that has applied any
# other was written by a newer version.
# Each with whether it runs in a transaction (with the record of it).
MIGRATION_FUNCTIONS: list[tuple[Callable[[Database], None], bool]] = []
MIGRATION_NAMES: list[str] = []


def migration(function: Callable[[Database], None]) -> Callable[[Database], None]:
    """Register a migration of the schema (applied once, in order, recorded by name)."""
    MIGRATION_FUNCTIONS.append((function, True))
    MIGRATION_NAMES.append(function.__name__)
    return function


def migration_outside_transaction(
    function: Callable[[Database], None],
) -> Callable[[Database], None]:
    """Register a migration that cannot run in a transaction (VACUUM): each of its steps
    must be safe to run again, as it runs again when it stopped before being recorded."""
    MIGRATION_FUNCTIONS.append((function, False))
    MIGRATION_NAMES.append(function.__name__)
    return function


@functools.cache
def migration_set() -> Migrations:
    """sqlite-utils' Migrations holding every migration of this version, in order."""
    from sqlite_utils import Migrations

    migrations = Migrations(MIGRATION_SET)
    for function, transactional in MIGRATION_FUNCTIONS:
        migrations(transactional=transactional)(function)
    return migrations


def __getattr__(name: str) -> Any:
    """``migrations``: the migration set, made (and sqlite-utils imported) on first use."""
    if name == "migrations":
        return migration_set()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@migration
def m001_initial(db: Database) -> None:
    """Create the configuration, call and crawl tables."""
    db["sources"].create(
        {
            "id": str,
            "kind": str,
            "name": str,
            "url": str,
            "facet_url": str,
            "language": str,
            "programme": str,
            "enabled": int,
            "active": int,
        },
        pk="id",
    )
    db["departments"].create(
        {
            "id": str,
            "name": str,
            "description_sv": str,
            "description_en": str,
            "keywords_sv": str,
            "keywords_en": str,
            "negative_keywords": str,
            "preferred_programmes": str,
            "min_score": float,
            "lead_time_days": int,
            "recipients": str,
            "digest_weekday": str,
            "profile_hash": str,
            "active": int,
            "updated_at": str,
        },
        pk="id",
    )
    db["focus_areas"].create(
        {
            "id": str,
            "name": str,
            "kind": str,
            "description_sv": str,
            "description_en": str,
            "keywords_sv": str,
            "keywords_en": str,
            "strategy_section": str,
            "strategy_quote": str,
            "weight": float,
            "active": int,
            "updated_at": str,
        },
        pk="id",
    )
    db["calls"].create(
        {
            "id": str,
            "source_id": str,
            "identifier": str,
            "call_identifier": str,
            "call_title": str,
            "title": str,
            "summary": str,
            "url": str,
            "programme": str,
            "programme_divisions": str,
            "type_of_action": str,
            "kind": str,
            "status": str,
            "opening_date": str,
            "deadlines": str,
            "next_deadline": str,
            "budget_eur": int,
            "expected_grants": int,
            "language": str,
            "raw": str,
            "content_hash": str,
            "first_seen": str,
            "last_seen": str,
            "last_changed": str,
        },
        pk="id",
    )
    db["crawl_runs"].create(
        {
            "id": int,
            "source_id": str,
            "started": str,
            "finished": str,
            "status": str,
            "pages": int,
            "items_seen": int,
            "items_new": int,
            "items_changed": int,
            "items_invalid": int,
            "items_skipped": int,
            "error_count": int,
            "errors": str,
        },
        pk="id",
    )
    db["call_changes"].create(
        {
            "id": int,
            "call_id": str,
            "field": str,
            "old": str,
            "new": str,
            "changed_at": str,
            "crawl_run_id": int,
        },
        pk="id",
        foreign_keys=[("call_id", "calls", "id")],
    )
    db["calls"].create_index(["source_id", "status"])
    db["call_changes"].create_index(["call_id"])


@migration
def m002_closed_marking(db: Database) -> None:
    """Count calls marked closed per crawl run, and index deadlines for listing."""
    db["crawl_runs"].add_column("closed_marked", int, not_null_default=0)
    db["calls"].create_index(["next_deadline"])


@migration
def m003_matches(db: Database) -> None:
    """Store matches with their reasons, and what each was scored against."""
    db["matches"].create(
        {
            "call_id": str,
            "department_id": str,
            "score": float,
            "text_score": float,
            "focus_score": float,
            "terms": str,
            "focus_areas": str,
            "flags": str,
            "profile_version": str,
            "matched_at": str,
            "expired_at": str,
        },
        pk=("call_id", "department_id"),
        foreign_keys=[("call_id", "calls", "id"), ("department_id", "departments", "id")],
    )
    db["matches"].create_index(["department_id", "score"])
    db["scored_calls"].create(
        {"call_id": str, "content_hash": str, "scored_at": str},
        pk="call_id",
        foreign_keys=[("call_id", "calls", "id")],
    )
    db["departments"].add_column("matched_version", str)
    db["match_runs"].create(
        {
            "id": int,
            "started": str,
            "finished": str,
            "mode": str,
            "calls_scored": int,
            "departments_rescored": str,
            "matches_stored": int,
            "matches_removed": int,
        },
        pk="id",
    )


@migration
def m004_call_analyses(db: Database) -> None:
    """Keep each call's text analysis, so a re-rank does not analyse every call again."""
    db["call_analyses"].create(
        {
            "call_id": str,
            "content_hash": str,
            "analysis_version": str,
            "language": str,
            "indices": bytes,
            "counts": bytes,
            "rules": str,
            "swedish_words": str,
        },
        pk="call_id",
        foreign_keys=[("call_id", "calls", "id")],
    )


@migration
def m005_digests(db: Database) -> None:
    """Record each weekly digest and its items, and hold the job lock."""
    db["digests"].create(
        {
            "id": int,
            "department_id": str,
            "iso_week": str,
            "status": str,
            "recipients": str,
            "message_id": str,
            "subject": str,
            "outbox_path": str,
            "item_count": int,
            "claimed_at": str,
            "sent_at": str,
            "error": str,
        },
        pk="id",
        foreign_keys=[("department_id", "departments", "id")],
    )
    db["digests"].create_index(["department_id", "iso_week"], unique=True)
    db["digest_items"].create(
        {"digest_id": int, "call_id": str, "reason": str},
        pk=("digest_id", "call_id"),
        foreign_keys=[("digest_id", "digests", "id"), ("call_id", "calls", "id")],
    )
    db["digest_items"].create_index(["call_id"])
    db["job_locks"].create(
        {"name": str, "holder": str, "acquired_at": str, "expires_at": str}, pk="name"
    )


@migration
def m006_one_record_per_table(db: Database) -> None:
    """Give every record field a column: expected pages and dropped-input notes of a crawl
    run (notes were kept among its errors), and whether a department wants empty digests."""
    db["crawl_runs"].add_column("pages_expected", int, not_null_default=1)
    db["crawl_runs"].add_column("notes", str, not_null_default="[]")
    db["departments"].add_column("send_empty_digest", int, not_null_default=0)


@migration
def m007_fields_dropped(db: Database) -> None:
    """Count the fields of crawled calls that could not be read (their stored values stay)."""
    db["crawl_runs"].add_column("fields_dropped", int, not_null_default=0)


@migration
def m008_sources_of_every_kind(db: Database) -> None:
    """Keep how each source is read, and what calls of other sources state: the regions a
    call is for, who may apply, and the co-financing."""
    db["sources"].add_column("options", str, not_null_default="{}")
    db["calls"].add_column("regions", str, not_null_default="[]")
    db["calls"].add_column("audience", str, not_null_default="")
    db["calls"].add_column("cofinancing", str, not_null_default="")


@migration
def m009_source_validators(db: Database) -> None:
    """Keep what a source said about its last answer (ETag, Last-Modified), so that asking
    again for an unchanged feed costs one 304."""
    db["sources"].add_column("etag", str, not_null_default="")
    db["sources"].add_column("last_modified", str, not_null_default="")


@migration
def m010_not_modified_runs(db: Database) -> None:
    """Mark the crawl runs whose source answered "not modified" (no items, nothing wrong)."""
    db["crawl_runs"].add_column("not_modified", int, not_null_default=0)


@migration
def m011_call_sources(db: Database) -> None:
    """Note every other source that lists a stored call (the same call stored once)."""
    db["call_sources"].create(
        {"call_id": str, "source_id": str, "listed_as": str, "first_seen": str, "last_seen": str},
        pk=("call_id", "source_id"),
        foreign_keys=[("call_id", "calls", "id")],
    )
    # Finding a stored call by identifier or link, for every new call of a crawl.
    db["calls"].create_index(["identifier"])
    db["calls"].create_index(["url"])


@migration
def m012_grant_per_project(db: Database) -> None:
    """Keep what one project may get (the smallest and largest grant, EUR), as the source
    states it, next to the call's whole budget."""
    db["calls"].add_column("grant_min_eur", int)
    db["calls"].add_column("grant_max_eur", int)


# Migrations 13 onward (the web app's and staff tables, per-recipient deliveries, compact
# calls) live in a module of their own; importing it here registers them after these.
from db.schema_web import FTS_COLUMNS, PAGE_FIGURES, PAGE_SIZE  # noqa: E402, F401
