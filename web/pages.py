"""The pages both roles read: calls (full-text search, a call with its matches, history and
applications), sources and their health, departments with their matches, digests and
applications."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for

from db.deadlines import named_day
from db.records import LOCAL_TZ, NEGATIVE_FLAG, ROLES, MatchFlag, flag_rule
from eufunds.health import sources_health
from notifier.calendar import safe_url
from web.app import config, current_config, now, one_of, store
from web.auth import require

pages = Blueprint("pages", __name__)
PAGE_SIZE = 50
STATUS = {"open": "öppen", "forthcoming": "kommande", "closed": "stängd"}
FLAGS = {
    MatchFlag.CLOSING_SOON: "stänger snart",
    MatchFlag.PREFERRED_PROGRAMME: "prioriterat program",
    MatchFlag.OUT_OF_AREA: "gäller andra regioner än vår",
    MatchFlag.OWN_AREA: "för vår region",
}


def flag_notes(flags, labels: dict[str, str]) -> list[str]:
    """A match's flags in Swedish: rules by their labels, negative keywords named."""
    notes = []
    for flag in flags:
        rule = flag_rule(flag)
        if rule:
            notes.append(labels.get(rule, rule))
        elif flag.startswith(NEGATIVE_FLAG):
            notes.append(f"negativt nyckelord: {flag.removeprefix(NEGATIVE_FLAG)}")
        else:
            notes.append(FLAGS.get(flag, flag))
    return notes


@pages.app_template_filter("day")
def day_filter(moment: datetime | None) -> str:
    """A deadline as the source gave it: a date, or a moment in Swedish time."""
    if moment is None:
        return ""
    named = named_day(moment)
    return named.isoformat() if named else moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


@pages.app_template_filter("status")
def status_filter(status: str) -> str:
    """A call's status in Swedish."""
    return STATUS.get(status, status)


@pages.app_template_filter("safe_url")
def safe_url_filter(url: str) -> str:
    """A scraped link only when it is http(s)."""
    return safe_url(url)


@pages.route("/")
@require(*ROLES)
def home():
    """The calls page is the start page."""
    return redirect(url_for("pages.calls"))


@pages.route("/utlysningar")
@require(*ROLES)
def calls():
    """Full-text search over every stored call, with filters."""
    wanted = {
        key: request.args.get(key, "").strip()
        for key in ("q", "programme", "status", "source", "department", "from", "to")
    }
    found, total = store().search_calls(
        text=wanted["q"],
        programme=wanted["programme"],
        status=wanted["status"],
        source_id=wanted["source"],
        department_id=wanted["department"],
        deadline_after=_day(wanted["from"]),
        deadline_before=_day(wanted["to"]),
        limit=PAGE_SIZE,
    )
    return render_template(
        "calls.html",
        calls=found,
        total=total,
        wanted=wanted,
        programmes=store().programmes(),
        statuses=STATUS,
        sources=config().sources,
        departments=config().departments,
    )


@pages.route("/utlysningar/<path:call_id>")
@require(*ROLES)
def call(call_id: str):
    """One call: its fields, its matches per department with their reasons, its history and
    its applications (the coordinator opens one for a department here)."""
    found = store().get_call(call_id)
    if found is None:
        abort(404, description="Utlysningen finns inte.")
    names = {d.id: d.name for d in config().departments}
    labels = {rule.id: rule.label for rule in config().matching.eligibility_rules}
    matches = [
        {
            "department": names.get(m.department_id, m.department_id),
            "department_id": m.department_id,
            "score": m.score,
            "terms": ", ".join(term for term, _ in m.terms),
            "focus_areas": ", ".join(m.focus_areas),
            "notes": flag_notes(m.flags, labels),
        }
        for m in store().call_matches(call_id)
    ]
    return render_template(
        "call.html",
        call=found,
        matches=matches,
        changes=store().call_changes(call_id),
        listings=store().call_sources(call_id),
        applications=store().applications(call_id=call_id),
        departments=config().departments,
        names=names,
    )


@pages.route("/kallor")
@require(*ROLES)
def sources():
    """Each enabled source's health: last success, calls per crawl, last error, problem."""
    return render_template("sources.html", sources=sources_health(store(), config().sources))


@pages.route("/avdelningar")
@require(*ROLES)
def departments():
    """The departments, with how many current matches each has."""
    departments = current_config().written_departments
    counts = {d.id: len(store().matches(d.id)) for d in departments}
    return render_template("departments.html", departments=departments, counts=counts)


@pages.route("/avdelningar/<department_id>")
@require(*ROLES)
def department(department_id: str):
    """A department: its current matches, best first, its last digests with their calls, and
    its applications."""
    departments = current_config().written_departments
    chosen = one_of(departments, department_id, "Avdelningen finns inte.")
    matches = store().matches(department_id, limit=PAGE_SIZE)
    titles = {c.id: c for c in store().calls_by_id([m.call_id for m in matches]).values()}
    digests = [
        (digest, store().digest_call_ids(digest.id))
        for digest in store().department_digests(department_id)
    ]
    digest_calls = store().calls_by_id([call_id for _, items in digests for call_id, _ in items])
    applications = store().applications(department_id=department_id)
    return render_template(
        "department.html",
        department=chosen,
        matches=matches,
        calls=titles,
        digests=digests,
        digest_calls=digest_calls,
        applications=applications,
        application_calls=store().calls_by_id([a.call_id for a in applications]),
        now=now(),
    )


def _day(text: str) -> datetime | None:
    """A YYYY-MM-DD filter (2000 to 2099) as midnight in Swedish time; none when empty."""
    if not text:
        return None
    try:
        day = datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        abort(400, description=f"Ogiltigt datum: {text}")
    if not 2000 <= day.year <= 2099:
        abort(400, description=f"Ogiltigt datum: {text} (år 2000–2099)")
    return day
