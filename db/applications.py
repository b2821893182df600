"""The applications tables: each department's applications and every change made to them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from db.records import APPLICATION_FIELDS, Application, ApplicationEvent, ApplicationState
from db.rows import column_value, from_row, from_rows, to_json, to_text
from db.tables import StoreError, Tables


class ApplicationTables(Tables):
    """Applications (one per call and lead department) and their history."""

    def open_application(
        self, call_id: str, department_id: str, by: str, at: datetime, note: str = ""
    ) -> tuple[Application, bool]:
        """The application of a department for a call, opened at "interest" unless it exists;
        whether this call opened it (a second "Vi vill söka" opens nothing more)."""
        with self.conn:
            cursor = self.conn.execute(
                "INSERT INTO applications (call_id, department_id, state, opened_by, opened_at, "
                "updated_at, currency, partners, departments, submitted_on, decided_on, notes) "
                "VALUES (?, ?, ?, ?, ?, ?, 'SEK', '[]', '[]', '', '', '') "
                "ON CONFLICT (call_id, department_id) DO NOTHING",
                [call_id, department_id, ApplicationState.INTEREST, by, to_text(at), to_text(at)],
            )
            opened = cursor.rowcount == 1
            if opened:
                self._add_event(
                    cursor.lastrowid, at, by, {"state": [None, ApplicationState.INTEREST]}, note
                )
        application = self.application_for(call_id, department_id)
        assert application is not None
        return application, opened

    def application(self, application_id: int) -> Application | None:
        """One application by its id."""
        row = self.conn.execute(
            "SELECT * FROM applications WHERE id = ?", [application_id]
        ).fetchone()
        return from_row(Application, row) if row else None

    def application_for(self, call_id: str, department_id: str) -> Application | None:
        """A department's application for a call, if it has one."""
        row = self.conn.execute(
            "SELECT * FROM applications WHERE call_id = ? AND department_id = ?",
            [call_id, department_id],
        ).fetchone()
        return from_row(Application, row) if row else None

    def applications(
        self, department_id: str | None = None, call_id: str | None = None
    ) -> list[Application]:
        """Applications, most recently changed first, of one department or call, or all."""
        clauses, params = [], []
        if department_id:
            clauses.append("department_id = ?")
            params.append(department_id)
        if call_id:
            clauses.append("call_id = ?")
            params.append(call_id)
        rows = self._select("applications", clauses, params, "updated_at DESC, id DESC", None)
        return from_rows(Application, rows)

    def change_application(
        self,
        application_id: int,
        changes: Mapping[str, Any],
        by: str,
        at: datetime,
        note: str = "",
    ) -> Application:
        """Apply edited fields to an application and record what changed, who and why, in one
        transaction; fields given unchanged are left out, and nothing changed records nothing.
        The pipeline's rules are checked before (eufunds/applications.py)."""
        unknown = set(changes) - set(APPLICATION_FIELDS)
        if unknown:
            raise StoreError(f"not an editable field of an application: {sorted(unknown)}")
        with self.conn:
            current = self.application(application_id)
            if current is None:
                raise StoreError(f"no application {application_id}")
            diff = {
                name: [column_value(getattr(current, name)), column_value(value)]
                for name, value in changes.items()
                if column_value(getattr(current, name)) != column_value(value)
            }
            if not diff:
                return current
            assignments = ", ".join(f"{name} = ?" for name in diff)
            self.conn.execute(
                f"UPDATE applications SET {assignments}, updated_at = ? WHERE id = ?",
                [new for _, new in diff.values()] + [to_text(at), application_id],
            )
            self._add_event(application_id, at, by, diff, note)
        updated = self.application(application_id)
        assert updated is not None
        return updated

    def application_events(self, application_id: int) -> list[ApplicationEvent]:
        """An application's history, oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM application_events WHERE application_id = ? ORDER BY at, id",
            [application_id],
        )
        return from_rows(ApplicationEvent, rows)

    def _add_event(
        self, application_id: int | None, at: datetime, by: str, changes: dict, note: str
    ) -> None:
        self.conn.execute(
            "INSERT INTO application_events (application_id, at, by, changes, note) "
            "VALUES (?, ?, ?, ?, ?)",
            [application_id, to_text(at), by, to_json(changes), note],
        )
