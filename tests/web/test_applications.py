"""The application pipeline's pages, through Flask's test client on week 34's real calls:
opening from a call's page or a digest's "Vi vill söka" link, the coordinator's edits and
the pipeline's moves, amounts in kronor and euro, the history, and who may do what."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

import pytest

from db import Store
from db.records import APPLICATION_FIELDS, APPLICATION_MOVES, LOCAL_TZ, ApplicationState
from notifier.tokens import feedback_token
from tests.conftest import SNAPSHOT_NOW
from tests.support.digest_runs import recorded
from tests.web.conftest import SECRET, click_feedback, form_token, log_in
from web.app import create_app
from web.application_views import FIELD_NAMES, form_values
from web.feedback import APPLY_NOTE

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> "quoted" & more'
RECIPIENT = "social.eu@example.org"


@pytest.fixture
def calls(site) -> list[str]:
    """Three calls social's week-34 digest held, as the database has them."""
    with Store(site.db_path) as store:
        digest = recorded(store)["social"]
        return [call_id for call_id, _ in store.digest_call_ids(digest.id)][:3]


@pytest.fixture
def opened(site, calls) -> int:
    """Social's application for the first call, opened in the store (at "Intresse")."""
    with Store(site.db_path) as store:
        application, _ = store.open_application(calls[0], "social", "test", SNAPSHOT_NOW)
    return application.id


def _stored(site, application_id: int):
    with Store(site.db_path) as store:
        return store.application(application_id), store.application_events(application_id)


def _open(client, call_id: str, department_id: str):
    """Open an application through the form on the call's page."""
    token = form_token(client.get(f"/utlysningar/{call_id}").get_data(as_text=True))
    return client.post(
        "/ansokningar/ny",
        data={"call_id": call_id, "department_id": department_id, "csrf_token": token},
    )


def _edit(client, site, application_id: int, **changes):
    """Post the edit form as the page fills it, with ``changes`` made to it."""
    page = client.get(f"/ansokningar/{application_id}").get_data(as_text=True)
    application, _ = _stored(site, application_id)
    data = {**form_values(application), **changes, "csrf_token": form_token(page)}
    return client.post(f"/ansokningar/{application_id}", data=data)


def _place(site, application_id: int, state: str) -> None:
    """Put an application in a state directly (the store does not check moves)."""
    with Store(site.db_path) as store:
        store.change_application(application_id, {"state": state}, "test", SNAPSHOT_NOW)


def test_routes_need_a_login(site, opened):
    """A visitor who is not logged in is sent to log in (GET) or refused (401, POST)."""
    client = site.app.test_client()
    for path in ("/ansokningar", f"/ansokningar/{opened}", "/ansokningar?state=interest"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/logga-in?next=")
    token = form_token(client.get("/logga-in").get_data(as_text=True))
    for path in (f"/ansokningar/{opened}", "/ansokningar/ny"):
        assert (
            client.post(path, data={"csrf_token": token, "state": "preparing"}).status_code == 401
        )
    assert _stored(site, opened)[0].state == ApplicationState.INTEREST


def test_management_reads_but_may_not_edit(site, calls, opened, management):
    """Management reads the list and the application, without a form; its posts are 403
    and change nothing; the call page offers it no form to open one either."""
    assert management.get("/ansokningar").status_code == 200
    page = management.get(f"/ansokningar/{opened}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="state"' not in html and "Historik" in html
    token = form_token(html)  # the logout form's
    refused = management.post(
        f"/ansokningar/{opened}", data={"csrf_token": token, "state": "preparing"}
    )
    assert refused.status_code == 403
    opening = {"csrf_token": token, "call_id": calls[1], "department_id": "social"}
    assert management.post("/ansokningar/ny", data=opening).status_code == 403
    call_page = management.get(f"/utlysningar/{calls[0]}").get_data(as_text=True)
    assert "/ansokningar/ny" not in call_page
    with Store(site.db_path) as store:
        assert len(store.applications()) == 1
        assert store.application(opened).state == ApplicationState.INTEREST


def test_both_roles_see_applications_in_the_nav(coordinator, management):
    for client in (coordinator, management):
        nav = client.get("/utlysningar").get_data(as_text=True).split("</nav>")[0]
        assert '<a href="/ansokningar">Ansökningar</a>' in nav


def test_unknown_application_is_404(coordinator, management):
    assert coordinator.get("/ansokningar/999999").status_code == 404
    assert management.get("/ansokningar/999999").status_code == 404
    token = form_token(coordinator.get("/ansokningar").get_data(as_text=True))
    missing = coordinator.post("/ansokningar/999999", data={"csrf_token": token})
    assert missing.status_code == 404 and "Ansökan finns inte." in missing.get_data(as_text=True)


def test_coordinator_opens_an_application_once(site, calls, coordinator):
    """The call page's form opens the department's application at "Intresse", by the
    logged-in user; a second time leads to the same one, no second row."""
    first = _open(coordinator, calls[0], "kultur-och-fritid")
    assert first.status_code == 303
    with Store(site.db_path) as store:
        [application] = store.applications()
        call = store.get_call(calls[0])
    assert first.headers["Location"] == f"/ansokningar/{application.id}"
    assert (application.call_id, application.department_id) == (calls[0], "kultur-och-fritid")
    assert (application.state, application.opened_by) == (ApplicationState.INTEREST, "anna")
    page = coordinator.get(first.headers["Location"]).get_data(as_text=True)
    assert "Ansökan är öppnad." in page and call.title in unescape(page)
    again = _open(coordinator, calls[0], "kultur-och-fritid")
    assert again.headers["Location"] == first.headers["Location"]
    assert "redan en ansökan" in coordinator.get(again.headers["Location"]).get_data(as_text=True)
    with Store(site.db_path) as store:
        assert store.applications() == [application]
        assert len(store.application_events(application.id)) == 1


def test_opening_refuses_an_unknown_call_or_department(site, calls, coordinator):
    token = form_token(coordinator.get(f"/utlysningar/{calls[0]}").get_data(as_text=True))
    no_call = coordinator.post(
        "/ansokningar/ny",
        data={"call_id": "ft_portal/FINNS-INTE", "department_id": "social", "csrf_token": token},
    )
    assert no_call.status_code == 404
    assert "Utlysningen finns inte." in no_call.get_data(as_text=True)
    for department in ("ingen-sadan", ""):
        refused = coordinator.post(
            "/ansokningar/ny",
            data={"call_id": calls[0], "department_id": department, "csrf_token": token},
        )
        assert refused.status_code == 400
        assert "Okänd avdelning" in refused.get_data(as_text=True)
    with Store(site.db_path) as store:
        assert store.applications() == []


def test_the_state_select_offers_only_the_allowed_moves(opened, coordinator):
    html = coordinator.get(f"/ansokningar/{opened}").get_data(as_text=True)
    select = html.split('name="state"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w+)"', select) == ["interest", "preparing", "withdrawn"]
    assert "Intresse (nu)" in select


@pytest.mark.parametrize(
    ("source", "target"),
    [(source, target) for source, targets in APPLICATION_MOVES.items() for target in targets],
)
def test_each_allowed_move_is_saved(site, opened, coordinator, source, target):
    """Every move the pipeline allows is saved, with who and when, and shown."""
    _place(site, opened, source)
    response = _edit(coordinator, site, opened, state=target, note="Enligt beslut")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/ansokningar/{opened}"
    application, events = _stored(site, opened)
    assert application.state == target
    assert (events[-1].by, events[-1].changes, events[-1].note) == (
        "anna",
        {"state": [source, target]},
        "Enligt beslut",
    )
    page = coordinator.get(f"/ansokningar/{opened}").get_data(as_text=True)
    assert "Ändringarna är sparade." in page


def test_a_refused_move_changes_nothing_and_says_why(site, opened, coordinator):
    """From "Intresse" straight to "Beviljad": 400, the Swedish reason, the form as
    entered, and the database as it was."""
    before = _stored(site, opened)
    response = _edit(coordinator, site, opened, state="granted", partners="Kuopio")
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    assert "Från Intresse går det inte att gå till Beviljad" in html
    assert "Inget sparades" in html and ">Kuopio</textarea>" in html
    # The refused state is not offered: the form keeps the current one selected.
    assert '<option value="interest" selected>' in html
    assert _stored(site, opened) == before


def test_the_lead_cannot_move_to_a_department_with_its_own_application(
    site, calls, opened, coordinator
):
    """A call has one application per lead department: moving social's to culture, which has
    one, is refused (400, why) and changes neither."""
    with Store(site.db_path) as store:
        theirs, _ = store.open_application(calls[0], "kultur-och-fritid", "test", SNAPSHOT_NOW)
    before = (_stored(site, opened), _stored(site, theirs.id))
    response = _edit(coordinator, site, opened, department_id="kultur-och-fritid")
    assert response.status_code == 400
    assert "Den avdelningen har redan en ansökan" in unescape(response.get_data(as_text=True))
    assert (_stored(site, opened), _stored(site, theirs.id)) == before


def test_form_problems_show_the_entered_values(site, opened, coordinator):
    before = _stored(site, opened)
    response = _edit(
        coordinator,
        site,
        opened,
        applied_amount="tolv",
        sek_per_eur="0",
        submitted_on="2026-13-40",
        notes="Utkast klart",
        departments=["kultur-och-fritid", "ingen-sadan"],
        note="x" * 501,
    )
    assert response.status_code == 400
    html = unescape(response.get_data(as_text=True))
    for message in (
        "Sökt belopp ska vara ett heltal",
        "Kursen ska vara kronor per euro",
        "Inlämnad den ska vara ett datum",
        "Okänd avdelning: ingen-sadan",
        "Motiveringen får vara högst 500 tecken.",
    ):
        assert message in html
    assert 'value="tolv"' in html and ">Utkast klart</textarea>" in html
    assert 'value="kultur-och-fritid" checked' in html
    assert _stored(site, opened) == before


def test_amounts_are_shown_in_kronor_and_euro(site, calls, opened, coordinator, management):
    """Amounts entered in kronor with a rate are shown in euro too, and the other way
    round; without a rate only as entered. Swedish number format throughout."""
    saved = _edit(
        coordinator,
        site,
        opened,
        state="preparing",
        applied_amount="1 250 000",
        granted_amount="1000000",
        sek_per_eur="11,20",
    )
    assert saved.status_code == 303
    application, _ = _stored(site, opened)
    assert (application.applied_amount, application.sek_per_eur) == (1_250_000, 11.2)
    euro = f"{round(1_250_000 / 11.2):,}".replace(",", " ")
    listed = management.get("/ansokningar").get_data(as_text=True)
    assert f"1 250 000 kr / {euro} €" in listed and "1 000 000 kr / 89 286 €" in listed
    page = management.get(f"/ansokningar/{opened}").get_data(as_text=True)
    assert f"1 250 000 kr / {euro} €" in page and "<dd>11,2</dd>" in page
    _open(coordinator, calls[1], "social")
    with Store(site.db_path) as store:
        in_euro = store.application_for(calls[1], "social")
    _edit(coordinator, site, in_euro.id, currency="EUR", applied_amount="112000", sek_per_eur="11")
    _edit(coordinator, site, opened, sek_per_eur="")
    listed = management.get("/ansokningar").get_data(as_text=True)
    assert "1 232 000 kr / 112 000 €" in listed
    assert '<td class="nowrap">1 250 000 kr</td>' in listed


def test_the_history_lists_each_change_with_who_and_why(site, opened, coordinator):
    _edit(coordinator, site, opened, state="preparing", partners="Bodö\nKuopio", note="Startmöte")
    _edit(coordinator, site, opened, departments=["kultur-och-fritid"], applied_amount="500 000")
    html = unescape(coordinator.get(f"/ansokningar/{opened}").get_data(as_text=True))
    history = html.split("<h2>Historik</h2>")[1]
    rows = history.split("<tr>")[2:]
    assert len(rows) == 3
    when = SNAPSHOT_NOW.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    newest, middle, first = rows
    assert f'<td class="nowrap">{when}</td>' in newest and "<td>anna</td>" in newest
    assert "Sökt belopp: – → 500 000" in newest
    assert "Övriga avdelningar: – → Kultur- och fritidsförvaltningen" in newest
    assert "Läge: Intresse → Förbereder" in middle and "Partner: – → Bodö, Kuopio" in middle
    assert "<td>Startmöte</td>" in middle
    assert "Läge: – → Intresse" in first and "<td>test</td>" in first


def test_hostile_text_is_escaped(site, opened, coordinator, management):
    saved = _edit(coordinator, site, opened, partners=HOSTILE, notes=HOSTILE, note=HOSTILE)
    assert saved.status_code == 303
    for path in (f"/ansokningar/{opened}", "/ansokningar"):
        html = management.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<img" not in html
        assert "&lt;script&gt;alert(" in html


def test_list_groups_by_state_and_filters(site, calls, opened, coordinator, management):
    """The list has every state in pipeline order with its count; department and state
    filters narrow it; an unknown department or state is refused (400)."""
    _open(coordinator, calls[1], "kultur-och-fritid")
    _place(site, opened, "preparing")
    with Store(site.db_path) as store:
        titles = {c: store.get_call(c).title for c in calls[:2]}
    html = unescape(management.get("/ansokningar").get_data(as_text=True))
    headings = re.findall(r'<h2 id="lage-\w+">([^<]+)</h2>', html)
    assert headings == [
        "Intresse (1)",
        "Förbereder (1)",
        "Inlämnad (0)",
        "Beviljad (0)",
        "Avslag (0)",
        "Avstått (0)",
    ]
    assert html.index(titles[calls[1]]) < html.index(titles[calls[0]])
    social = unescape(management.get("/ansokningar?department=social").get_data(as_text=True))
    assert titles[calls[0]] in social and titles[calls[1]] not in social
    preparing = unescape(management.get("/ansokningar?state=preparing").get_data(as_text=True))
    assert re.findall(r'<h2 id="lage-\w+">([^<]+)</h2>', preparing) == ["Förbereder (1)"]
    assert titles[calls[0]] in preparing and titles[calls[1]] not in preparing
    for query in ("department=ingen", "state=beviljad"):
        refused = management.get(f"/ansokningar?{query}")
        assert refused.status_code == 400
        assert "Okänd avdelning" in refused.get_data(as_text=True) or "Okänt läge" in unescape(
            refused.get_data(as_text=True)
        )


def test_call_and_department_pages_list_applications(site, calls, coordinator, management):
    _open(coordinator, calls[0], "social")
    _open(coordinator, calls[0], "kultur-och-fritid")
    with Store(site.db_path) as store:
        ids = {a.department_id: a.id for a in store.applications(call_id=calls[0])}
        title = store.get_call(calls[0]).title
    call_page = management.get(f"/utlysningar/{calls[0]}").get_data(as_text=True)
    section = call_page.split("<h2>Ansökningar</h2>")[1].split("<h2>")[0]
    for department_id, application_id in ids.items():
        assert f'href="/ansokningar/{application_id}"' in section
        assert f'href="/avdelningar/{department_id}"' in section
    assert section.count("<td>Intresse</td>") == 2
    social = management.get("/avdelningar/social").get_data(as_text=True)
    listed = social.split("<h2>Ansökningar</h2>")[1].split("<h2>")[0]
    assert unescape(title) in unescape(listed) and f'href="/ansokningar/{ids["social"]}"' in listed
    other = management.get("/avdelningar/miljo-och-halsa").get_data(as_text=True)
    assert "Avdelningen har inga ansökningar ännu." in other
    empty = management.get(f"/utlysningar/{calls[1]}").get_data(as_text=True)
    assert "Ingen avdelning har öppnat en ansökan för utlysningen." in empty


def test_vi_vill_soka_opens_the_departments_application_once(site, calls):
    """The digest's "Vi vill söka" link opens social's application for the call, by the
    recipient; a second click or another recipient's opens nothing more; other verdicts
    open nothing."""
    with Store(site.db_path) as store:
        digest = recorded(store)["social"]

    def link(call_id, verdict, recipient=RECIPIENT):
        token = feedback_token(SECRET, digest.id, call_id, recipient, verdict, SNAPSHOT_NOW)
        return f"/aterkoppling/{token}"

    staff = site.app.test_client()
    first = click_feedback(staff, link(calls[0], "apply")).get_data(as_text=True)
    assert "nu öppnad i kommunens ansökningsflöde (läge: Intresse)" in first
    again = click_feedback(staff, link(calls[0], "apply")).get_data(as_text=True)
    assert "redan öppnad i kommunens ansökningsflöde" in again
    click_feedback(staff, link(calls[0], "apply", "kollega@example.org"))
    click_feedback(staff, link(calls[1], "relevant"))
    click_feedback(staff, link(calls[2], "not-relevant"))
    with Store(site.db_path) as store:
        [application] = store.applications()
        events = store.application_events(application.id)
    assert (application.call_id, application.department_id) == (calls[0], "social")
    assert application.opened_by == RECIPIENT
    assert [(e.by, e.note) for e in events] == [(RECIPIENT, APPLY_NOTE)]


def test_twin_towns_are_offered_only_from_configuration(site, config, opened, coordinator):
    html = coordinator.get(f"/ansokningar/{opened}").get_data(as_text=True)
    towns = ", ".join(config.organisation.twin_towns)
    assert towns and f"Kommunens vänorter: {towns}." in html
    without = replace(config, organisation=replace(config.organisation, twin_towns=()))
    app = create_app(without, site.db_path, SECRET, clock=lambda: SNAPSHOT_NOW)
    client = app.test_client()
    assert log_in(client, "anna").status_code == 302
    page = client.get(f"/ansokningar/{opened}").get_data(as_text=True)
    assert 'name="partners"' in page and "vänorter" not in page


def test_every_editable_field_has_a_swedish_name():
    assert tuple(FIELD_NAMES) == APPLICATION_FIELDS
