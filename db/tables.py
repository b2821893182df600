"""What every group of tables shares: the connection and a filtered select."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence


class StoreError(Exception):
    """The database cannot be opened or used."""


class Tables:
    """Base of the per-table-group parts of the Store: they share one connection."""

    conn: sqlite3.Connection

    def _select(
        self,
        table: str,
        clauses: list[str],
        params: list,
        order: str,
        limit: int | None,
        columns: str = "*",
    ) -> sqlite3.Cursor:
        """Rows of a table matching every clause, in order, at most ``limit``."""
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {columns} FROM {table} {where} ORDER BY {order}"
        if limit:
            sql += " LIMIT ?"
            params = [*params, limit]
        return self.conn.execute(sql, params)

    @staticmethod
    def _id_list(ids: Sequence[str]) -> tuple[str, str]:
        """SQL for "one of these ids" and its parameter: one query over many ids, no writes."""
        return "(SELECT value FROM json_each(?))", json.dumps(list(ids))


def insert_sql(table: str, names: Iterable[str], verb: str = "INSERT") -> str:
    """An INSERT statement for these columns, one ? per column."""
    names = list(names)
    return f"{verb} INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
