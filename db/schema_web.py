"""Schema migrations 13 onward: the web app (users, full-text search, versioned profiles),
staff feedback, applications, management's report mails, per-recipient digest deliveries,
and compact calls.

Part of db/schema.py, which imports this module after its own migrations so that these
register after them, in order. Import names from db.schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from db.schema import migration, migration_outside_transaction

if TYPE_CHECKING:
    from sqlite_utils import Database


@migration
def m013_web(db: Database) -> None:
    """The web app: its users (a role each, a slow salted password hash), the login attempts
    that rate-limit logins, and a full-text index of the calls (FTS5, kept by triggers)."""
    db["users"].create(
        {"name": str, "role": str, "password_hash": str, "created_at": str}, pk="name"
    )
    db["login_attempts"].create(
        {"name": str, "address": str, "at": str, "succeeded": int}, not_null={"at"}
    )
    db["login_attempts"].create_index(["at"])
    db.execute(
        "CREATE VIRTUAL TABLE calls_fts USING fts5("
        "title, summary, identifier, programme, call_title, "
        "content='calls', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
    )
    columns = "title, summary, identifier, programme, call_title"
    new = "new.title, new.summary, new.identifier, new.programme, new.call_title"
    old = "old.title, old.summary, old.identifier, old.programme, old.call_title"
    db.execute(
        f"CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls BEGIN "
        f"INSERT INTO calls_fts (rowid, {columns}) VALUES (new.rowid, {new}); END"
    )
    db.execute(
        f"CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls BEGIN "
        f"INSERT INTO calls_fts (calls_fts, rowid, {columns}) "
        f"VALUES ('delete', old.rowid, {old}); END"
    )
    db.execute(
        f"CREATE TRIGGER calls_fts_update AFTER UPDATE ON calls BEGIN "
        f"INSERT INTO calls_fts (calls_fts, rowid, {columns}) "
        f"VALUES ('delete', old.rowid, {old}); "
        f"INSERT INTO calls_fts (rowid, {columns}) VALUES (new.rowid, {new}); END"
    )
    db.execute("INSERT INTO calls_fts (calls_fts) VALUES ('rebuild')")


# The columns of calls the full-text index holds.
FTS_COLUMNS = ("title", "summary", "identifier", "programme", "call_title")


@migration
def m014_profile_versions(db: Database) -> None:
    """Department profiles in the database, versioned: the configuration seeds version 1,
    each save in the web app adds one (who, when, why); the newest is the profile."""
    _versions_table(db, "profile_versions", "department_id")


@migration
def m015_focus_area_versions(db: Database) -> None:
    """The strategy's focus areas in the database too, versioned as department profiles are."""
    _versions_table(db, "focus_area_versions", "focus_area_id")


def _versions_table(db: Database, table: str, id_column: str) -> None:
    """A table of versions of one kind of profile: its id, the version number, the profile
    (JSON), who saved it, when and why; one row per id and version."""
    db[table].create(
        {
            "id": int,
            id_column: str,
            "version": int,
            "profile": str,
            "saved_by": str,
            "saved_at": str,
            "note": str,
        },
        pk="id",
    )
    db[table].create_index([id_column, "version"], unique=True)


@migration
def m016_feedback(db: Database) -> None:
    """Staff feedback from digest links: one row per digest, call and recipient (a second
    click changes nothing; another verdict replaces the first)."""
    db["feedback"].create(
        {
            "digest_id": int,
            "department_id": str,
            "call_id": str,
            "recipient": str,
            "verdict": str,
            "at": str,
            "comment": str,
        },
        pk=("digest_id", "call_id", "recipient"),
        not_null={"verdict", "at"},
        defaults={"comment": ""},
    )
    db["feedback"].create_index(["department_id"])


@migration
def m017_applications(db: Database) -> None:
    """Applications: one per call and lead department, moving through the pipeline, with
    amounts, partners and notes; every change kept as an event (who, when, old and new)."""
    db["applications"].create(
        {
            "id": int,
            "call_id": str,
            "department_id": str,
            "state": str,
            "opened_by": str,
            "opened_at": str,
            "updated_at": str,
            "currency": str,
            "applied_amount": int,
            "granted_amount": int,
            "sek_per_eur": float,
            "partners": str,
            "departments": str,
            "submitted_on": str,
            "decided_on": str,
            "notes": str,
        },
        pk="id",
        not_null={"call_id", "department_id", "state", "opened_at", "updated_at"},
        foreign_keys=[("call_id", "calls", "id")],
    )
    db["applications"].create_index(["call_id", "department_id"], unique=True)
    db["application_events"].create(
        {"id": int, "application_id": int, "at": str, "by": str, "changes": str, "note": str},
        pk="id",
        not_null={"application_id", "at"},
        foreign_keys=[("application_id", "applications", "id")],
    )
    db["application_events"].create_index(["application_id"])


@migration
def m018_report_mails(db: Database) -> None:
    """Management's monthly report mails: one per month, claimed before it is built, so it
    is never sent twice; a failed one keeps its error and is tried again."""
    db["report_mails"].create(
        {
            "id": int,
            "month": str,
            "status": str,
            "recipients": str,
            "message_id": str,
            "outbox_path": str,
            "claimed_at": str,
            "sent_at": str,
            "error": str,
        },
        pk="id",
        not_null={"month", "status", "claimed_at"},
    )
    db["report_mails"].create_index(["month"], unique=True)


@migration
def m019_digest_deliveries(db: Database) -> None:
    """Digests with feedback links go to each recipient as a message of their own: one row
    per digest and recipient says whether theirs went out, so a retry sends only the rest;
    a message that failed after others went out is kept whole to be sent as it was."""
    db["digest_deliveries"].create(
        {
            "digest_id": int,
            "recipient": str,
            "status": str,
            "message_id": str,
            "at": str,
            "error": str,
            "message": bytes,
        },
        pk=("digest_id", "recipient"),
        not_null={"status", "at"},
        foreign_keys=[("digest_id", "digests", "id")],
    )


@migration_outside_transaction
def m020_compact_calls(db: Database) -> None:
    """Keep calls smaller and unchanged re-crawls cheap:

    - the full-text index is updated only when a column it holds changes (it was deleted and
      added again on every update of a call, such as a re-crawl's last_seen, and grew with
      every crawl), then merged into one segment;
    - ``item_hash``: the hash of a call's item as the source gave it and the crawler read it,
      so that an identical item is not read again (crawler/pipelines.py);
    - the source's raw answer is kept zlib-compressed (a BLOB; db/calls.py reads it back);
    - then VACUUM gives the space back, when there is much to give, with pages of PAGE_SIZE
      (a call's row is a few KB: 4 KB pages held one each, with much of them unused).
    """
    from db.calls import compress_raw

    names = ", ".join(FTS_COLUMNS)
    new = ", ".join(f"new.{name}" for name in FTS_COLUMNS)
    old = ", ".join(f"old.{name}" for name in FTS_COLUMNS)
    conn = db.conn
    with conn:
        conn.execute("DROP TRIGGER IF EXISTS calls_fts_update")
        conn.execute(
            f"CREATE TRIGGER calls_fts_update AFTER UPDATE OF {names} ON calls BEGIN "
            f"INSERT INTO calls_fts (calls_fts, rowid, {names}) "
            f"VALUES ('delete', old.rowid, {old}); "
            f"INSERT INTO calls_fts (rowid, {names}) VALUES (new.rowid, {new}); END"
        )
        if "item_hash" not in db["calls"].columns_dict:
            db["calls"].add_column("item_hash", str, not_null_default="")
        conn.create_function("eufunds_compress_raw", 1, compress_raw, deterministic=True)
        conn.execute(
            "UPDATE calls SET raw = eufunds_compress_raw(raw) "
            "WHERE typeof(raw) = 'text' AND raw != ''"
        )
        conn.execute("INSERT INTO calls_fts (calls_fts) VALUES ('optimize')")
    pages, free, size = (conn.execute(f"PRAGMA {name}").fetchone()[0] for name in PAGE_FIGURES)
    if free > VACUUM_SHARE * pages or size < PAGE_SIZE:
        # The page size of a database in WAL mode stays; another process holding it open
        # keeps it in WAL mode, and the VACUUM then only gives the space back.
        if conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete":
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("VACUUM")
        conn.execute("PRAGMA journal_mode = WAL")
        # VACUUM may renumber the rowids of a table without an INTEGER PRIMARY KEY, which
        # the full-text index points at: rebuilt from the calls, it points right whatever.
        conn.execute("INSERT INTO calls_fts (calls_fts) VALUES ('rebuild')")


# The page figures of a database, and the share of free pages worth a VACUUM to give back.
PAGE_FIGURES = ("page_count", "freelist_count", "page_size")
VACUUM_SHARE = 0.2
# The page size of new databases (db/store.py) and of those m020 compacts.
PAGE_SIZE = 16384
