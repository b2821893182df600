"""The application pipeline in the web app: every department's applications by state, one
application with its history, the coordinator's edits (checked by eufunds/applications.py)
and opening an application for a call from the call's page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from db.records import (
    APPLICATION_MOVES,
    APPLICATION_STATE_NAMES,
    CURRENCIES,
    LOCAL_TZ,
    ROLES,
    Application,
    ApplicationState,
)
from eufunds.applications import parse_application_form
from web.app import config, current_config, now, store
from web.application_views import (
    FIELD_NAMES,
    amounts,
    event_changes,
    form_values,
    grouped,
    rate_text,
)
from web.auth import require

applications = Blueprint("applications", __name__)
# The history note of an edit, as a profile's is.
NOTE_CHARACTERS = 500


@applications.app_template_filter("state_name")
def state_name(state: str) -> str:
    """A pipeline state in Swedish."""
    return APPLICATION_STATE_NAMES.get(state, state)


@applications.app_template_filter("local")
def local_filter(moment, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored moment in Swedish time."""
    return moment.astimezone(LOCAL_TZ).strftime(pattern) if moment else ""


@applications.app_template_global("amounts")
def amounts_global(application: Application, amount: int | None) -> list[str]:
    """An amount of an application in kronor and euro, as far as its rate allows."""
    return amounts(application, amount)


@applications.route("/ansokningar")
@require(*ROLES)
def application_list():
    """Every application, grouped by state in pipeline order, filtered by lead department
    and state (an unknown one is refused: a 400 naming it)."""
    departments = current_config().written_departments
    wanted = {key: request.args.get(key, "").strip() for key in ("department", "state")}
    if wanted["department"] and wanted["department"] not in {d.id for d in departments}:
        abort(400, description=f"Okänd avdelning: {wanted['department']}")
    if wanted["state"] and wanted["state"] not in APPLICATION_STATE_NAMES:
        abort(400, description=f"Okänt läge: {wanted['state']}")
    found = store().applications(department_id=wanted["department"] or None)
    groups = grouped(found)
    if wanted["state"]:
        groups = [group for group in groups if group[0] == wanted["state"]]
    return render_template(
        "applications.html",
        groups=groups,
        total=sum(len(group[1]) for group in groups),
        calls=store().calls_by_id(sorted({a.call_id for a in found})),
        names={d.id: d.name for d in departments},
        departments=departments,
        states=APPLICATION_STATE_NAMES,
        wanted=wanted,
    )


@applications.route("/ansokningar/<int:application_id>")
@require(*ROLES)
def application(application_id: int):
    """One application: its call, every field and its history; the coordinator's edit form."""
    chosen = _application(application_id)
    return _page(chosen, form_values(chosen), problems=[])


@applications.route("/ansokningar/<int:application_id>", methods=["POST"])
@require("coordinator")
def edit(application_id: int):
    """Apply the coordinator's edit, recorded with who and why, and go back to the page; a
    form with problems is shown again as entered, with what is wrong (400), changing
    nothing."""
    chosen = _application(application_id)
    values = request.form.to_dict()
    values["departments"] = "\n".join(request.form.getlist("departments"))
    departments = [d.id for d in current_config().written_departments]
    changes, problems = parse_application_form(chosen, values, departments)
    note = values.get("note", "").strip()
    if len(note) > NOTE_CHARACTERS:
        problems.append(f"Motiveringen får vara högst {NOTE_CHARACTERS} tecken.")
    lead = changes.get("department_id", chosen.department_id)
    other = store().application_for(chosen.call_id, lead) if lead != chosen.department_id else None
    if other is not None:
        problems.append(
            "Den avdelningen har redan en ansökan för utlysningen "
            f"(nummer {other.id}); ändra i den i stället."
        )
    if problems:
        values["departments"] = request.form.getlist("departments")
        return _page(chosen, values, problems), 400
    changed = store().change_application(application_id, changes, session["user"], now(), note)
    flash("Ändringarna är sparade." if changed != chosen else "Inget ändrades.")
    return redirect(url_for("applications.application", application_id=application_id), 303)


@applications.route("/ansokningar/ny", methods=["POST"])
@require("coordinator")
def open_new():
    """Open a department's application for a call (at "Intresse"), or go to the one it
    has: a call and department have one application at most."""
    call_id = request.form.get("call_id", "")
    department_id = request.form.get("department_id", "")
    call = store().get_call(call_id) if call_id else None
    if call is None:
        abort(404, description="Utlysningen finns inte.")
    if department_id not in {d.id for d in current_config().written_departments}:
        abort(400, description=f"Okänd avdelning: {department_id or '(ingen vald)'}")
    opened_application, opened = store().open_application(
        call.id, department_id, session["user"], now(), "Öppnad av EU-samordnaren"
    )
    flash("Ansökan är öppnad." if opened else "Avdelningen har redan en ansökan för utlysningen.")
    return redirect(url_for("applications.application", application_id=opened_application.id), 303)


def _application(application_id: int) -> Application:
    found = store().application(application_id)
    if found is None:
        abort(404, description="Ansökan finns inte.")
    return found


def _page(chosen: Application, values: dict, problems: list[str]):
    departments = current_config().written_departments
    names = {d.id: d.name for d in departments}
    current = ApplicationState(chosen.state)
    call = store().get_call(chosen.call_id)
    offered = {current, *APPLICATION_MOVES[current]}
    return render_template(
        "application.html",
        application=chosen,
        call=call,
        title=call.title if call else chosen.call_id,
        events=[
            (event, event_changes(event, names))
            for event in reversed(store().application_events(chosen.id))
        ],
        names=names,
        departments=departments,
        states=[state for state in APPLICATION_STATE_NAMES if state in offered],
        currencies=CURRENCIES,
        fields=FIELD_NAMES,
        values=values,
        problems=problems,
        twin_towns=config().organisation.twin_towns,
        rate_text=rate_text,
    )
