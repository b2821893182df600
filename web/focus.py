"""The strategy's focus areas in the web app: the EU coordinator edits one (descriptions,
keywords, weight) with a preview of what it does to every department's digest this week and
how many open calls hold each keyword, saves it as a version and rolls back."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from db.records import FocusArea
from eufunds.config import ConfigError, parse_focus_area
from eufunds.preview import preview_focus_area
from eufunds.profiles import focus_area_document
from web.app import current_config, now, one_of, store
from web.auth import require
from web.profiles import (
    FORM,
    keyword_lines,
    parse_keywords,
    parse_number,
    restore_version,
    save_version,
    versions_with_changes,
)

focus = Blueprint("focus", __name__)


def _area(area_id: str) -> FocusArea:
    return one_of(current_config().focus_areas, area_id, "Fokusområdet finns inte.")


@focus.route("/fokusomraden/<area_id>")
@require("coordinator")
def edit(area_id: str):
    """The edit form of a focus area, filled with its saved version, and its versions."""
    area = _area(area_id)
    values = {
        "description_sv": area.description_sv,
        "description_en": area.description_en,
        "keywords_sv": keyword_lines(area.keywords_sv),
        "keywords_en": keyword_lines(area.keywords_en),
        "weight": f"{area.weight:g}",
        "note": "",
    }
    return _page(area, values, preview=None, errors="")


@focus.route("/fokusomraden/<area_id>/forhandsgranska", methods=["POST"])
@require("coordinator")
def preview(area_id: str):
    """What the edited focus area would do to this week's digests (nothing is saved)."""
    area = _area(area_id)
    values = request.form.to_dict()
    edited, errors = parse_form(area, values)
    result = preview_focus_area(store(), current_config(), edited, now()) if edited else None
    if request.args.get("del") == "panel":
        return render_template("focus_preview_panel.html", preview=result, errors=errors)
    return _page(area, values, preview=result, errors=errors)


@focus.route("/fokusomraden/<area_id>", methods=["POST"])
@require("coordinator")
def save(area_id: str):
    """Save the form as the focus area's next version, then match with it."""
    area = _area(area_id)
    values = request.form.to_dict()
    edited, errors = parse_form(area, values)
    if edited is None:
        return _page(area, values, preview=None, errors=errors), 400
    return save_version(edited, values, url_for("focus.edit", area_id=area_id))


@focus.route("/fokusomraden/<area_id>/aterstall/<int:version>", methods=["POST"])
@require("coordinator")
def rollback(area_id: str, version: int):
    """Save an earlier version of the focus area again as the newest."""
    _area(area_id)
    return restore_version(area_id, FocusArea, version, url_for("focus.edit", area_id=area_id))


def parse_form(area: FocusArea, values: dict) -> tuple[FocusArea | None, str]:
    """The edited focus area from the form, checked as the configuration is; or None and
    what is wrong."""
    document = focus_area_document(area)
    try:
        document |= {
            "description_sv": values.get("description_sv", "").strip(),
            "description_en": values.get("description_en", "").strip(),
            "keywords": {
                "sv": parse_keywords(values.get("keywords_sv", ""), "sv"),
                "en": parse_keywords(values.get("keywords_en", ""), "en"),
            },
            "weight": parse_number(values.get("weight", ""), "vikten"),
        }
        return parse_focus_area(FORM, document), ""
    except (ConfigError, ValueError) as exc:
        return None, str(exc).replace(f"{FORM}: ", "")


def _page(area: FocusArea, values: dict, preview, errors: str):
    return render_template(
        "focus_area.html",
        area=area,
        values=values,
        preview=preview,
        errors=errors,
        versions=versions_with_changes(area.id, FocusArea),
    )
