"""Profiles in the web app: management reads, the coordinator edits with a preview before
saving (best matches, digest diff, keyword hits), saves versions and rolls back; every form
needs its CSRF token."""

from __future__ import annotations

import re

from db import Store
from tests.web.conftest import form_token

EDIT = "/profiler/social"


def _form(client, path: str = EDIT) -> dict:
    """The edit form's fields as the page fills them (textareas, inputs, ticked boxes)."""
    html = client.get(path).get_data(as_text=True)
    form = html.split('id="profile-form"')[1].split("</form>")[0]
    values = {
        name: text
        for name, text in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S)
    }
    values |= dict(re.findall(r'<input name="([^"]+)" value="([^"]*)"', form))
    values["digest_weekday"] = re.search(r'<option value="(\w+)" selected>', form).group(1)
    values["preferred_programmes"] = re.findall(
        r'name="preferred_programmes" value="([^"]+)" checked', form
    )
    values["csrf_token"] = form_token(html)
    return {
        k: v.replace("&amp;", "&").replace("&#39;", "'")
        for k, v in values.items()
        if isinstance(v, str)
    } | {"preferred_programmes": values["preferred_programmes"]}


def test_management_reads_profiles_but_cannot_edit(management):
    """Management sees the list of profiles; the edit page and every edit post are 403."""
    assert management.get("/profiler").status_code == 200
    assert management.get(EDIT).status_code == 403
    token = form_token(management.get("/profiler").get_data(as_text=True))
    for path in (EDIT, f"{EDIT}/forhandsgranska", f"{EDIT}/aterstall/1"):
        assert management.post(path, data={"csrf_token": token}).status_code == 403


def test_preview_shows_what_an_edit_would_do(coordinator, site):
    """Adding a keyword to the social profile: the preview names the calls it brings into
    this week's digest, counts each keyword's open calls, says when one hits nothing, and
    saves nothing."""
    form = _form(coordinator)
    form["keywords_en"] += "\nhydrogen = 3\nzzzz unheard of = 1"
    response = coordinator.post(f"{EDIT}/forhandsgranska?del=panel", data=form)
    assert response.status_code == 200
    panel = response.get_data(as_text=True)
    assert (
        "Kommer med" in panel
        and "Hydrogen cities" in panel.split("Kommer med")[1].split("Faller bort")[0]
    )
    assert re.search(r"hydrogen: \d+ utlysningar", panel)
    assert "zzzz unheard of: träffar ingen utlysning" in panel
    with Store(site.db_path) as store:
        assert len(store.profile_versions("social")) == 1


def test_preview_says_what_is_wrong(coordinator):
    """A weight that is no number, or an unknown programme, is named in Swedish."""
    form = _form(coordinator)
    form["keywords_sv"] += "\nvätgas = mycket"
    panel = coordinator.post(f"{EDIT}/forhandsgranska?del=panel", data=form).get_data(as_text=True)
    assert "vikten för &#39;vätgas&#39; (sv) måste vara ett tal" in panel
    form = _form(coordinator)
    form["recipients"] = "inte-en-adress"
    page = coordinator.post(f"{EDIT}/forhandsgranska", data=form).get_data(as_text=True)
    assert "recipients" in page and 'role="alert"' in page


def test_save_makes_a_version_and_rollback_restores(coordinator, site):
    """Saving stores version 2 by the coordinator with the reason given, and matching uses
    it; rolling back to version 1 saves it again as version 3."""
    form = _form(coordinator)
    form["keywords_en"] += "\nhydrogen = 3"
    form["note"] = "vätgas i bostäder"
    saved = coordinator.post(EDIT, data=form)
    assert saved.status_code == 302
    page = coordinator.get(EDIT).get_data(as_text=True)
    assert "Sparad som version 2." in page
    assert "nyckelord (en): +hydrogen" in page.split("Versioner")[1]
    with Store(site.db_path) as store:
        [second, first] = store.profile_versions("social")
        assert (second.version, second.saved_by, second.note) == (2, "anna", "vätgas i bostäder")
        assert second.profile.keywords_en["hydrogen"] == 3.0
        assert any(t == "hydrogen" for m in store.matches("social") for t, _ in m.terms)
    token = form_token(page)
    back = coordinator.post(f"{EDIT}/aterstall/1", data={"csrf_token": token})
    assert back.status_code == 302
    with Store(site.db_path) as store:
        newest = store.profile_versions("social")[0]
        assert newest.version == 3 and newest.note == "återställd till version 1"
        assert newest.profile == first.profile
        assert not any(t == "hydrogen" for m in store.matches("social") for t, _ in m.terms)


def test_a_bad_save_keeps_the_profile(coordinator, site):
    """A form that does not check out is shown again with the problem (400); nothing saved."""
    form = _form(coordinator)
    form["min_score"] = "två"
    response = coordinator.post(EDIT, data=form)
    assert response.status_code == 400
    assert "minsta poäng måste vara ett tal" in response.get_data(as_text=True)
    with Store(site.db_path) as store:
        assert len(store.profile_versions("social")) == 1


def test_edits_need_the_csrf_token(coordinator):
    """Saving, previewing or rolling back without the session's token is refused."""
    form = _form(coordinator)
    form.pop("csrf_token")
    for path in (EDIT, f"{EDIT}/forhandsgranska", f"{EDIT}/aterstall/1"):
        assert coordinator.post(path, data=form).status_code == 400


def test_numbers_that_are_no_numbers_are_refused(coordinator):
    """'inf' or '1e400' as a lead time, or a date outside 2000-2099 in a search, is a
    clear 400, never a crash."""
    for value in ("inf", "1e400", "nan"):
        form = _form(coordinator)
        form["lead_time_days"] = value
        response = coordinator.post(EDIT, data=form)
        assert response.status_code == 400, value
        assert "framförhållning måste vara ett tal" in response.get_data(as_text=True)
    assert coordinator.get("/utlysningar?from=0001-01-01").status_code == 400


def test_department_pages_show_the_saved_profile(coordinator):
    """After a save, the departments pages show the saved description and weekday."""
    form = _form(coordinator)
    form["description_sv"] = "Ny beskrivning av socialförvaltningen."
    form["digest_weekday"] = "friday"
    assert coordinator.post(EDIT, data=form).status_code == 302
    assert "Ny beskrivning av socialförvaltningen." in coordinator.get(
        "/avdelningar/social"
    ).get_data(as_text=True)
    listing = coordinator.get("/avdelningar").get_data(as_text=True)
    assert "friday" in listing.split("/avdelningar/social")[1].split("</tr>")[0]
