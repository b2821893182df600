"""Fixtures of the web tests: the app on a copy of week 34's written digests (the matched
snapshot, digests recorded), two users, and logged-in test clients."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from db import Store
from db.records import WebUser
from tests.conftest import SNAPSHOT_NOW
from tests.support.databases import copy_database
from web.app import create_app
from web.security import hash_password

SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORDS = {"anna": "anna-lösenord-2026", "lars": "lars-lösenord-2026"}
ROLES = {"anna": "coordinator", "lars": "management"}


@dataclass(frozen=True)
class WebSite:
    """The app and the database it serves."""

    app: object
    db_path: Path


@pytest.fixture(scope="session")
def user_hashes() -> dict[str, str]:
    """The users' password hashes (scrypt is slow on purpose: made once)."""
    return {name: hash_password(password) for name, password in PASSWORDS.items()}


@pytest.fixture
def site(written_week, config, user_hashes, tmp_path) -> WebSite:
    """The app on a copy of week 34's database, with a coordinator and a management user."""
    db_path = copy_database(written_week.db_path, tmp_path / "web.db")
    with Store(db_path) as store:
        for name, password_hash in user_hashes.items():
            store.add_user(WebUser(name, ROLES[name], password_hash, SNAPSHOT_NOW))
    app = create_app(config, db_path, SECRET, clock=lambda: SNAPSHOT_NOW)
    app.config["TESTING"] = True
    return WebSite(app, db_path)


def form_token(html: str) -> str:
    """The CSRF token of a page's first form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def click_feedback(client, path: str):
    """Follow a digest's feedback link as a reader does: open it and press the page's button
    (a page without one, a refusal or an answer already given, is the answer)."""
    page = client.get(path)
    html = page.get_data(as_text=True)
    if page.status_code != 200 or 'id="feedback-confirm"' not in html:
        return page
    return client.post(path, data={"csrf_token": form_token(html), "svar": "1"})


def log_in(client, name: str, password: str | None = None, next_path: str = ""):
    """Log in through the form, as a browser would (token from the login page)."""
    token = form_token(client.get("/logga-in").get_data(as_text=True))
    return client.post(
        "/logga-in",
        data={
            "name": name,
            "password": PASSWORDS[name] if password is None else password,
            "csrf_token": token,
            "next": next_path,
        },
    )


@pytest.fixture
def coordinator(site):
    client = site.app.test_client()
    assert log_in(client, "anna").status_code == 302
    return client


@pytest.fixture
def management(site):
    client = site.app.test_client()
    assert log_in(client, "lars").status_code == 302
    return client
