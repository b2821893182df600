"""Accounts and security of the web app, through Flask's test client: login, the rate
limit, CSRF, roles, cookies and headers."""

from __future__ import annotations

from click.testing import CliRunner

from db import Store
from eufunds.cli import main
from tests.web.conftest import PASSWORDS, form_token, log_in

PAGES = ("/utlysningar", "/kallor", "/avdelningar", "/avdelningar/social", "/ansokningar")


COORDINATOR_PAGES = ("/profiler/social", "/fokusomraden/extern-finansiering", "/aterkoppling")
POSTS = (
    "/profiler/social",
    "/profiler/social/forhandsgranska",
    "/profiler/social/aterstall/1",
    "/fokusomraden/extern-finansiering",
    "/fokusomraden/extern-finansiering/forhandsgranska",
    "/fokusomraden/extern-finansiering/aterstall/1",
)


def test_pages_need_a_login(site):
    """Every page sends a visitor who is not logged in to the login page, keeping the way
    back; a form post without a session is 401, even with a token of the login page."""
    client = site.app.test_client()
    for path in (*PAGES, "/profiler", *COORDINATOR_PAGES):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/logga-in?next=")
    token = form_token(client.get("/logga-in").get_data(as_text=True))
    for path in POSTS:
        assert client.post(path, data={"csrf_token": token}).status_code == 401


def test_wrong_password_is_refused_and_right_one_logs_in(site):
    """A wrong password or an unknown name says the same thing (401); the right one leads to
    the page asked for."""
    client = site.app.test_client()
    refused = log_in(client, "anna", "fel-lösenord-123")
    assert refused.status_code == 401
    assert "Fel namn eller lösenord." in refused.get_data(as_text=True)
    token = form_token(client.get("/logga-in").get_data(as_text=True))
    unknown = client.post(
        "/logga-in", data={"name": "ingen", "password": "x" * 12, "csrf_token": token}
    )
    assert unknown.status_code == 401
    assert "Fel namn eller lösenord." in unknown.get_data(as_text=True)
    welcome = log_in(client, "anna", next_path="/kallor")
    assert welcome.status_code == 302 and welcome.headers["Location"] == "/kallor"
    assert client.get("/kallor").status_code == 200


def test_login_never_leads_to_another_site(site):
    """A 'next' that points at another host is ignored."""
    client = site.app.test_client()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = log_in(client, "anna", next_path=target)
        assert response.headers["Location"] == "/"


def test_failed_logins_are_rate_limited(site):
    """After five failed tries for a name within 15 minutes even the right password is
    refused (429), and each try is recorded."""
    client = site.app.test_client()
    for _ in range(5):
        assert log_in(client, "lars", "fel-lösenord-123").status_code == 401
    blocked = log_in(client, "lars")
    assert blocked.status_code == 429
    assert "För många misslyckade inloggningar" in blocked.get_data(as_text=True)
    with Store(site.db_path) as store:
        assert store.failed_logins("lars", "127.0.0.1", site.app.extensions["eufunds"]["clock"]())
    other = site.app.test_client()
    assert log_in(other, "anna").status_code == 302


def test_forms_need_the_sessions_csrf_token(site, coordinator):
    """A login or logout post without the token, or with another one, is refused (400)."""
    client = site.app.test_client()
    client.get("/logga-in")
    missing = client.post("/logga-in", data={"name": "anna", "password": PASSWORDS["anna"]})
    assert missing.status_code == 400
    wrong = client.post(
        "/logga-in",
        data={"name": "anna", "password": PASSWORDS["anna"], "csrf_token": "not-the-token"},
    )
    assert wrong.status_code == 400
    assert coordinator.post("/logga-ut").status_code == 400
    assert coordinator.get("/utlysningar").status_code == 200
    assert coordinator.get("/logga-ut").status_code == 405


def test_logout_ends_the_session(coordinator):
    """Logging out (a post with the token) forgets the user."""
    token = form_token(coordinator.get("/utlysningar").get_data(as_text=True))
    assert coordinator.post("/logga-ut", data={"csrf_token": token}).status_code == 302
    assert coordinator.get("/utlysningar").status_code == 302


def test_both_roles_read_the_pages(coordinator, management):
    """Coordinator and management both read calls, sources and departments."""
    for client in (coordinator, management):
        for path in PAGES:
            assert client.get(path).status_code == 200, path


def test_cookie_and_security_headers(site):
    """The session cookie is HttpOnly and SameSite=Lax (Secure when served over HTTPS);
    every page forbids inline scripts and framing."""
    client = site.app.test_client()
    response = log_in(client, "anna")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/utlysningar")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    site.app.config["SESSION_COOKIE_SECURE"] = True
    secure = log_in(site.app.test_client(), "anna")
    assert "Secure" in secure.headers["Set-Cookie"]


def test_pages_use_no_outside_assets(coordinator):
    """Every asset a page names is the app's own: no CDN, no inline style or script."""
    for path in PAGES:
        html = coordinator.get(path).get_data(as_text=True)
        assert "<script" not in html and "style=" not in html
        assert (
            "http://" not in html.split("<main>")[0] and "https://" not in html.split("<main>")[0]
        )
    assert coordinator.get("/static/app.css").status_code == 200


def test_serve_refuses_without_a_secret_key(monkeypatch, tmp_path):
    """Without EUFUNDS_SECRET_KEY (or with a short one) serve stops with one line."""
    monkeypatch.delenv("EUFUNDS_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "w.db")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: EUFUNDS_SECRET_KEY must be set")
    monkeypatch.setenv("EUFUNDS_SECRET_KEY", "short")
    assert CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "w.db")]).exit_code == 1


def test_users_add_asks_for_the_password(tmp_path):
    """The password is asked for twice, never an argument; it is stored hashed (scrypt); a
    short password or a taken name is refused with one line."""
    db = str(tmp_path / "users.db")
    password = "ett-långt-lösenord"
    added = CliRunner().invoke(
        main,
        ["users", "add", "eva", "--role", "management", "--db", db],
        input=f"{password}\n{password}\n",
    )
    assert added.exit_code == 0, added.output
    with Store(db) as store:
        user = store.user("eva")
    assert user.role == "management" and user.password_hash.startswith("scrypt:")
    assert password not in user.password_hash
    short = CliRunner().invoke(
        main, ["users", "add", "per", "--role", "coordinator", "--db", db], input="kort\nkort\n"
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    again = CliRunner().invoke(
        main,
        ["users", "add", "eva", "--role", "coordinator", "--db", db],
        input=f"{password}\n{password}\n",
    )
    assert again.exit_code == 1 and "already a user named 'eva'" in again.output


def test_a_removed_user_or_changed_role_counts_at_once(site, management):
    """A session whose user was removed, or whose role changed, is logged out on its next
    request, whatever its cookie says."""
    with Store(site.db_path) as store:
        store.conn.execute("UPDATE users SET role = 'coordinator' WHERE name = 'lars'")
        store.conn.commit()
    assert management.get("/utlysningar").status_code == 302
    assert management.get("/kallor").status_code == 302


def test_next_never_leaves_the_site_even_with_hidden_characters(site):
    """A 'next' with a tab, newline or backslash a browser would drop is ignored."""
    client = site.app.test_client()
    for target in ("/\t/evil.example", "/\n/evil.example", "\\\\evil.example", "/%0a"):
        response = log_in(client, "anna", next_path=target)
        assert response.status_code == 302
        assert response.headers["Location"] in ("/", "/%0a")
