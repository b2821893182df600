"""The strategy's focus areas in the web app: the coordinator edits one with a preview of
every department's digest this week, saves versions and rolls back; management reads only."""

from __future__ import annotations

import re

from db import Store
from db.records import FocusArea
from tests.web.conftest import form_token

AREA = "extern-finansiering"
EDIT = f"/fokusomraden/{AREA}"


def _form(client) -> dict:
    html = client.get(EDIT).get_data(as_text=True)
    form = html.split('id="profile-form"')[1].split("</form>")[0]
    values = dict(re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S))
    values |= dict(re.findall(r'<input name="([^"]+)" value="([^"]*)"', form))
    values = {k: v.replace("&amp;", "&").replace("&#39;", "'") for k, v in values.items()}
    return values | {"csrf_token": form_token(html)}


def test_profiles_page_lists_the_focus_areas(management, config):
    """Both roles see the focus areas with their version; only the coordinator gets links."""
    html = management.get("/profiler").get_data(as_text=True)
    for area in config.focus_areas:
        assert area.name in html
    assert f'href="{EDIT}"' not in html
    assert management.get(EDIT).status_code == 403


def test_preview_shows_each_departments_digest_and_keyword_hits(coordinator, site):
    """A focus area weighed far up: the preview lists every department with its digest
    this week and says which keywords hit nothing; nothing is saved."""
    form = _form(coordinator)
    form["weight"] = "10"
    form["keywords_en"] += "\nzzzz unheard of = 1"
    panel = coordinator.post(f"{EDIT}/forhandsgranska?del=panel", data=form).get_data(as_text=True)
    assert panel.count("<tr><td>") == 13
    assert "zzzz unheard of: träffar ingen utlysning" in panel
    with Store(site.db_path) as store:
        assert len(store.profile_versions(AREA, FocusArea)) == 1


def test_save_and_rollback(coordinator, site):
    """Saving a new weight is version 2, by the coordinator, saying what changed; rolling
    back saves version 1 again as version 3."""
    form = _form(coordinator)
    form["weight"] = "2"
    form["note"] = "extern finansiering först"
    assert coordinator.post(EDIT, data=form).status_code == 302
    page = coordinator.get(EDIT).get_data(as_text=True)
    assert "Sparad som version 2." in page and "vikt: 1.0 → 2.0" in page
    token = form_token(page)
    assert coordinator.post(f"{EDIT}/aterstall/1", data={"csrf_token": token}).status_code == 302
    with Store(site.db_path) as store:
        third, second, first = store.profile_versions(AREA, FocusArea)
    assert (third.version, second.saved_by, second.profile.weight) == (3, "anna", 2.0)
    assert third.profile == first.profile


def test_a_bad_weight_is_refused(coordinator):
    """A weight that is no number, or out of range, is named; nothing saved (400)."""
    form = _form(coordinator)
    form["weight"] = "mycket"
    response = coordinator.post(EDIT, data=form)
    assert response.status_code == 400 and "vikten måste vara ett tal" in response.get_data(
        as_text=True
    )
    form["weight"] = "99"
    assert coordinator.post(EDIT, data=form).status_code == 400
