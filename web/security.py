"""What every page and form of the web app gets: a CSRF token, security headers, password
hashing and the login rate limit. Flask's request and session, no database."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, request, session
from werkzeug.security import check_password_hash, generate_password_hash

# Every asset comes from the app itself; no inline script or style, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# Failed logins allowed in the window: for one name, and from one address.
LOGIN_WINDOW = timedelta(minutes=15)
FAILURES_PER_NAME = 5
FAILURES_PER_ADDRESS = 20
# A password hash: scrypt (memory-hard) with a random salt, as Werkzeug makes it.
HASH_METHOD = "scrypt"
MIN_PASSWORD = 12


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse (400) a state-changing request without the session's CSRF token, in the form
    field ``csrf_token`` or the ``X-CSRF-Token`` header."""
    if request.method not in STATE_CHANGING:
        return
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        abort(400, description="Formuläret har gått ut eller kom inte från den här sidan.")


def add_security_headers(response):
    """The security headers on every response."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def hash_password(password: str) -> str:
    """A salted, memory-hard hash of a password."""
    return generate_password_hash(password, method=HASH_METHOD)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether a password is the one hashed."""
    return check_password_hash(password_hash, password)


def password_problem(password: str) -> str:
    """Why a new password is refused; empty when it is fine."""
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters"
    return ""


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never another host, nor a
    path with whitespace or control characters a browser would drop to make one)."""
    if not target or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target):
        return "/"
    parts = urlsplit(target.replace("\\", "/"))
    if target.startswith("/") and not parts.scheme and not parts.netloc:
        return target
    return "/"
