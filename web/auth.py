"""Logging in and out, and the role every route needs."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from web.app import now, store
from web.security import (
    FAILURES_PER_ADDRESS,
    FAILURES_PER_NAME,
    LOGIN_WINDOW,
    hash_password,
    password_matches,
    safe_next,
)

auth = Blueprint("auth", __name__)


@functools.cache
def _dummy_hash() -> str:
    """A hash no password matches, checked when the name is unknown, so that a wrong name
    takes as long as a wrong password."""
    return hash_password(secrets.token_hex(16))


def require(*roles: str) -> Callable:
    """A route for logged-in users of these roles: others are sent to log in (401 for a
    form post), a user of another role gets 403."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            # The user and role as stored now: a removed user or a changed role counts at
            # once, whatever an old session cookie says.
            user = store().user(session["user"]) if session.get("user") else None
            if user is None or user.role != session.get("role"):
                if session.get("user"):
                    session.clear()
                if request.method != "GET":
                    abort(401)
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


@auth.route("/logga-in", methods=["GET", "POST"])
def login():
    """The login form; at most FAILURES_PER_NAME failed tries per name (and more per
    address) in LOGIN_WINDOW, then 429 until the window has passed."""
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""), error="")
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or ""
    moment = now()
    # Noted as failed before anything is checked, so that tries made at the same moment
    # count against each other; marked as succeeded once the password is right.
    attempt = store().record_login(name, address, moment, succeeded=False)
    by_name, by_address = store().failed_logins(name, address, moment - LOGIN_WINDOW)
    if by_name > FAILURES_PER_NAME or by_address > FAILURES_PER_ADDRESS:
        minutes = int(LOGIN_WINDOW.total_seconds() // 60)
        message = f"För många misslyckade inloggningar. Försök igen om {minutes} minuter."
        return render_template("login.html", next="", error=message), 429
    user = store().user(name)
    matches = password_matches(user.password_hash if user else _dummy_hash(), password)
    if not (user and matches):
        error = "Fel namn eller lösenord."
        return render_template("login.html", next=request.form.get("next", ""), error=error), 401
    store().login_succeeded(attempt)
    session.clear()
    session.permanent = True
    session["user"], session["role"] = user.name, user.role
    return redirect(safe_next(request.form.get("next")))


@auth.route("/logga-ut", methods=["POST"])
def logout():
    """Forget the session (a form post with the CSRF token, never a link)."""
    session.clear()
    return redirect(url_for("auth.login"))
