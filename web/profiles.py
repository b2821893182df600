"""Department profiles in the web app: read by both roles; edited by the EU coordinator with
a preview before saving (best matches, what this week's digest gains and loses, each
keyword's hits among open calls), saved as versions (who, when, why) and rolled back."""

from __future__ import annotations

import math
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from db import Busy
from db.records import ROLES, Department, FocusArea
from eufunds.config import WEEKDAYS, ConfigError, parse_department
from eufunds.joblock import PipelineLock
from eufunds.matching import run_match
from eufunds.preview import preview_profile
from eufunds.profiles import department_document, profile_changes
from web.app import config, current_config, now, one_of, store
from web.auth import require

profiles = Blueprint("profiles", __name__)
FORM = Path("webbformuläret")


def _department(department_id: str) -> Department:
    departments = current_config().written_departments
    return one_of(departments, department_id, "Avdelningen finns inte.")


@profiles.route("/profiler")
@require(*ROLES)
def profile_list():
    """Every department's profile and every focus area: current version, when and by whom."""
    current = current_config()
    departments = current.written_departments
    newest = {d.id: store().profile_versions(d.id)[0] for d in departments}
    areas = current.focus_areas
    newest_areas = {a.id: store().profile_versions(a.id, FocusArea)[0] for a in areas}
    return render_template(
        "profiles.html",
        departments=departments,
        areas=areas,
        newest=newest,
        newest_areas=newest_areas,
    )


@profiles.route("/profiler/<department_id>")
@require("coordinator")
def edit(department_id: str):
    """The edit form, filled with the saved profile, and its versions."""
    department = _department(department_id)
    values = form_values(department)
    # A suggestion from the feedback page: the form with it added, and what it would do.
    added, negative = request.args.get("lagg_till", ""), request.args.get("negativ", "")
    if not (added or negative):
        return _page(department, values, preview=None, errors="")
    if added:
        values["keywords_en"] += f"\n{added} = 1"
    if negative:
        values["negative_keywords"] += f"\n{negative}"
    edited, errors = parse_form(department, values)
    result = preview_profile(store(), current_config(), edited, now()) if edited else None
    return _page(department, values, preview=result, errors=errors)


@profiles.route("/profiler/<department_id>/forhandsgranska", methods=["POST"])
@require("coordinator")
def preview(department_id: str):
    """What the edit in the form would do (nothing is saved); only the preview panel for
    the page's script (?del=panel), else the whole page."""
    department = _department(department_id)
    values = _posted()
    edited, errors = parse_form(department, values)
    result = preview_profile(store(), current_config(), edited, now()) if edited else None
    if request.args.get("del") == "panel":
        return render_template("preview_panel.html", preview=result, errors=errors)
    return _page(department, values, preview=result, errors=errors)


@profiles.route("/profiler/<department_id>", methods=["POST"])
@require("coordinator")
def save(department_id: str):
    """Save the form as the profile's next version, then match with it."""
    department = _department(department_id)
    values = _posted()
    edited, errors = parse_form(department, values)
    if edited is None:
        return _page(department, values, preview=None, errors=errors), 400
    return save_version(edited, values, url_for("profiles.edit", department_id=department_id))


@profiles.route("/profiler/<department_id>/aterstall/<int:version>", methods=["POST"])
@require("coordinator")
def rollback(department_id: str, version: int):
    """Save an earlier version again as the newest (history is kept, never rewritten)."""
    _department(department_id)
    back = url_for("profiles.edit", department_id=department_id)
    return restore_version(department_id, Department, version, back)


def save_version(edited: Department | FocusArea, values: dict, back: str):
    """Save an edited profile or focus area as its next version (why: the form's note),
    match with it, and go back to its page saying so."""
    note = values.get("note", "").strip()[:500]
    version = store().save_profile(edited, session["user"], now(), note)
    flash(f"Sparad som version {version}. {match_now()}")
    return redirect(back)


def restore_version(profile_id: str, kind: type, version: int, back: str):
    """Save an earlier version again as the newest (history is kept, never rewritten)."""
    saved = store().profile_versions(profile_id, kind)
    chosen = next((v for v in saved if v.version == version), None)
    if chosen is None:
        abort(404, description="Versionen finns inte.")
    note = f"återställd till version {version}"
    newest = store().save_profile(chosen.profile, session["user"], now(), note)
    flash(f"Version {version} återställd (sparad som version {newest}). {match_now()}")
    return redirect(back)


def versions_with_changes(profile_id: str, kind: type = Department) -> list[tuple]:
    """Each saved version with what changed from the one before it (newest first)."""
    versions = store().profile_versions(profile_id, kind)
    return [
        (version, profile_changes(versions[n + 1].profile, version.profile))
        if n + 1 < len(versions)
        else (version, [])
        for n, version in enumerate(versions)
    ]


def match_now() -> str:
    """Match with the saved profiles now, unless a run holds the job lock."""
    try:
        with PipelineLock(store().path):
            run_match(store(), current_config(), now())
    except Busy:
        return "En annan körning pågår: matchningarna uppdateras vid nästa körning."
    return "Matchningarna är uppdaterade."


def _page(department: Department, values: dict, preview, errors: str):
    programmes = [code for code, _ in config().matching.programmes]
    return render_template(
        "profile.html",
        department=department,
        values=values,
        preview=preview,
        errors=errors,
        versions=versions_with_changes(department.id),
        programmes=programmes,
        weekdays=WEEKDAYS,
    )


def _posted() -> dict:
    """The posted form's fields (the programmes as the list of boxes ticked)."""
    return request.form.to_dict() | {
        "preferred_programmes": request.form.getlist("preferred_programmes")
    }


def form_values(department: Department) -> dict:
    """A profile as the form's fields."""
    return {
        "description_sv": department.description_sv,
        "description_en": department.description_en,
        "keywords_sv": keyword_lines(department.keywords_sv),
        "keywords_en": keyword_lines(department.keywords_en),
        "negative_keywords": "\n".join(department.negative_keywords),
        "preferred_programmes": list(department.preferred_programmes),
        "min_score": f"{department.min_score:g}",
        "lead_time_days": str(department.lead_time_days),
        "recipients": "\n".join(department.recipients),
        "digest_weekday": department.digest_weekday,
        "send_empty_digest": "on" if department.send_empty_digest else "",
        "note": "",
    }


def parse_form(department: Department, values: dict) -> tuple[Department | None, str]:
    """The edited profile from the form's fields, checked as the configuration is; or None
    and what is wrong, in Swedish."""
    document = department_document(department)
    try:
        document |= {
            "description_sv": values.get("description_sv", "").strip(),
            "description_en": values.get("description_en", "").strip(),
            "keywords": {
                "sv": parse_keywords(values.get("keywords_sv", ""), "sv"),
                "en": parse_keywords(values.get("keywords_en", ""), "en"),
            },
            "negative_keywords": _lines(values.get("negative_keywords", "")),
            "preferred_programmes": list(values.get("preferred_programmes", [])),
            "min_score": parse_number(values.get("min_score", ""), "minsta poäng"),
            "lead_time_days": int(
                parse_number(values.get("lead_time_days", ""), "framförhållning")
            ),
            "recipients": _lines(values.get("recipients", "")),
            "digest_weekday": values.get("digest_weekday", ""),
            "send_empty_digest": values.get("send_empty_digest") == "on",
        }
        return parse_department(FORM, document, config().matching), ""
    except (ConfigError, ValueError) as exc:
        return None, str(exc).replace(f"{FORM}: ", "")


def keyword_lines(keywords: dict[str, float]) -> str:
    return "\n".join(f"{term} = {weight:g}" for term, weight in keywords.items())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_keywords(text: str, language: str) -> dict[str, float]:
    """'term = weight' per line (weight 1 when left out)."""
    found = {}
    for line in _lines(text):
        term, _, weight = line.partition("=")
        what = f"vikten för '{term.strip()}' ({language})"
        found[term.strip()] = parse_number(weight, what) if weight.strip() else 1.0
    return found


def parse_number(text: str, what: str) -> float:
    """A number as typed ('2,5' or '2.5'); a ValueError naming the field otherwise (also
    for what is no finite number, such as 'inf' or '1e400')."""
    try:
        number = float(text.replace(",", ".").strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{what} måste vara ett tal, inte '{text.strip()}'")
    return number
