"""The one converter between records and rows: every record type survives a real table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db import Call, CrawlRun, Department, Match, MatchRun, Store, StoreError
from db.records import LOCAL_TZ, Digest, DigestStatus, MatchMode, RunStatus
from db.rows import column_value, from_row, from_rows, to_row

NOW = datetime(2026, 8, 22, 12, tzinfo=UTC)

# Hand-written records: the converter does not depend on any real call's content.
RECORDS = {
    "calls": Call(
        "ft_portal/X-1",
        "ft_portal",
        "X-1",
        "Klimatanpassning i städer",
        programme_divisions=["Cluster 5", "Énergie"],
        deadlines=[NOW, NOW + timedelta(days=30)],
        next_deadline=NOW,
        opening_date=NOW - timedelta(days=10),
        budget_eur=2_000_000,
        raw='{"a": 1}',
    ),
    "matches": Match(
        "ft_portal/X-1",
        "miljo",
        0.31,
        0.2,
        0.1,
        terms=(("klimatanpassning", 0.6), ("climate", 0.4)),
        focus_areas=("Hållbar utveckling",),
        flags=("closing-soon", "rule:own-region"),
        profile_version="abc",
    ),
    "departments": Department(
        "miljo",
        "Miljö och hälsa",
        "Miljö",
        "Environment",
        {"luftkvalitet": 2.0},
        {"air quality": 1.5},
        ("militär",),
        ("LIFE",),
        0.08,
        21,
        ("a@example.org",),
        "monday",
        send_empty_digest=True,
    ),
    "crawl_runs": CrawlRun(
        id=7,
        source_id="ft_portal",
        started=NOW,
        finished=NOW,
        status=RunStatus.PARTIAL,
        pages_expected=8,
        pages=7,
        errors=["HTTP 500"],
        notes=["skipped: stale"],
    ),
    "match_runs": MatchRun(3, NOW, NOW, MatchMode.FULL, 700, ["miljo"], 40, 2),
    "digests": Digest(5, "miljo", "2026-W34", DigestStatus.SENT, ["a@example.org"], sent_at=NOW),
}


@pytest.mark.parametrize("table", sorted(RECORDS))
def test_every_record_reads_back_equal_from_its_table(store: Store, table: str):
    """Each record written with to_row into its real table reads back equal with from_row."""
    record = RECORDS[table]
    if table in ("matches", "digests"):
        store.sync_config([], [RECORDS["departments"]], [], NOW)
    if table == "matches":
        store.upsert_calls([RECORDS["calls"]], NOW)
    row = to_row(record)
    store.conn.execute(
        f"INSERT OR REPLACE INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    key = "call_id" if table == "matches" else "id"
    stored = store.conn.execute(
        f"SELECT * FROM {table} WHERE {key} = ?", [getattr(record, key)]
    ).fetchone()
    assert from_row(type(record), stored) == record


def test_missing_and_null_columns_take_the_field_default():
    """A column the row lacks, or NULL, gives the field's default (or empty for text)."""
    call = from_row(
        Call, {"id": "x", "source_id": "s", "identifier": "i", "title": "t", "url": None}
    )
    assert (call.url, call.status, call.deadlines, call.next_deadline) == ("", "open", [], None)


def test_values_are_stored_as_sqlite_understands_them():
    """Datetimes as ISO text in UTC, booleans as 0/1, lists and dicts as JSON, text as is."""
    stockholm = datetime(2026, 8, 22, 16, tzinfo=LOCAL_TZ)
    assert column_value(stockholm) == "2026-08-22T14:00:00+00:00"
    assert column_value(True) == 1
    assert column_value(("Å", 1.5)) == '["Å", 1.5]'
    assert column_value({"k": [NOW]}) == '{"k": ["2026-08-22T12:00:00+00:00"]}'
    assert column_value("text") == "text"


def test_naive_datetimes_are_refused():
    """A datetime without a time zone is a bug: storing it would lose its meaning."""
    with pytest.raises(ValueError, match="naive datetime"):
        column_value(datetime(2026, 8, 22, 12))


def test_empty_text_where_json_belongs_reads_as_empty():
    """An empty string in a list column (as an old or hand-edited row may hold) is no items."""
    row = {"id": 1, "source_id": "s", "started": "2026-08-22T12:00:00+00:00", "errors": ""}
    assert from_row(CrawlRun, row).errors == []


def test_a_value_that_cannot_be_read_is_a_store_error(store: Store):
    """A stored value the record cannot hold fails as a StoreError naming record and field."""
    run_id = store.start_crawl_run("ft_portal", NOW)
    store.conn.execute("UPDATE crawl_runs SET status = 'interrupted' WHERE id = ?", [run_id])
    with pytest.raises(StoreError, match=r"CrawlRun\.status from 'interrupted'"):
        store.crawl_runs()


def test_rows_of_one_query_read_as_each_row_alone(store: Store):
    """from_rows matches columns with fields once per query: each record is what from_row
    makes of its row, empty lists read without the JSON parser are each their own list, and
    a bad value is still a StoreError naming the field."""
    full = RECORDS["calls"]
    bare = Call("ft_portal/X-2", "ft_portal", "X-2", "Tom", regions=[])
    store.upsert_calls([full, bare], NOW)
    query = "SELECT * FROM calls ORDER BY id"
    records = from_rows(Call, store.conn.execute(query))
    assert records == [from_row(Call, row) for row in store.conn.execute(query)]
    assert records[0].deadlines == full.deadlines and records[1].deadlines == []
    records[1].regions.append("SE211")
    again = from_rows(Call, store.conn.execute(query + " DESC"))[0]
    assert again.regions == [] and records[1].programme_divisions == []
    store.conn.execute("UPDATE calls SET deadlines = '[1' WHERE id = 'ft_portal/X-2'")
    with pytest.raises(StoreError, match=r"Call\.deadlines from '\[1'"):
        from_rows(Call, store.conn.execute(query))


def test_from_rows_reads_the_columns_sqlite_rows_would(store: Store):
    """Columns of a query are matched with fields as a row's look-up by name does: the first
    column of a name, in any case; a field without a column takes its default."""
    query = (
        "SELECT 'first' AS ID, 'second' AS id, 's' AS source_id, 'i' AS identifier, "
        "'t' AS title, 'late' AS title, '[\"SE211\"]' AS regions"
    )
    (call,) = from_rows(Call, store.conn.execute(query))
    assert call == from_row(Call, store.conn.execute(query).fetchone())
    assert (call.id, call.title, call.regions, call.status) == ("first", "t", ["SE211"], "open")
    assert from_rows(Call, store.conn.execute(query + " WHERE 0")) == []
