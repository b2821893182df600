"""The web app: server-rendered Swedish pages for the EU coordinator and management (Flask).

``create_app`` wires the configuration, the database and the secret key in; every request
opens the SQLite store (WAL: the scheduler may write beside it) and closes it after.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, abort, g, render_template
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from db import Store
from db.records import LOCAL_TZ
from eufunds.config import Config
from web.security import add_security_headers, check_csrf, csrf_token

SESSION_HOURS = 8


def local_now() -> datetime:
    """Now, in Swedish time."""
    return datetime.now(LOCAL_TZ)


def create_app(
    config: Config,
    db_path: Path,
    secret_key: str,
    secure_cookies: bool = False,
    clock: Callable[[], datetime] = local_now,
) -> Flask:
    """The app for one configuration and database; ``secure_cookies`` when served over HTTPS
    by a reverse proxy (whose X-Forwarded-For then gives the client's address, for the
    login rate limit)."""
    if not secret_key:
        raise ValueError("a secret key is needed (EUFUNDS_SECRET_KEY)")
    app = Flask(__name__)
    if secure_cookies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_NAME="eufunds_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        MAX_CONTENT_LENGTH=1_000_000,
    )
    app.extensions["eufunds"] = {"config": config, "db_path": Path(db_path), "clock": clock}
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["config_name"] = config.organisation.name
    app.before_request(check_csrf)
    app.after_request(add_security_headers)
    app.teardown_appcontext(_close_store)

    from web.applications import applications
    from web.auth import auth
    from web.feedback import feedback
    from web.focus import focus
    from web.pages import pages
    from web.profiles import profiles
    from web.statistics import statistics_pages

    app.register_blueprint(auth)
    app.register_blueprint(pages)
    app.register_blueprint(profiles)
    app.register_blueprint(focus)
    app.register_blueprint(feedback)
    app.register_blueprint(applications)
    app.register_blueprint(statistics_pages)

    @app.errorhandler(HTTPException)
    def error_page(error: HTTPException):
        """Every error as a Swedish page with its status."""
        return render_template("error.html", error=error), error.code

    return app


def store() -> Store:
    """This request's store (opened on first use)."""
    if "store" not in g:
        g.store = Store(_settings()["db_path"])
    return g.store


def config() -> Config:
    """The configuration the app was made with."""
    return _settings()["config"]


def current_config() -> Config:
    """The configuration with the stored profiles and focus areas (seeded on first use)."""
    from eufunds.profiles import effective_config

    return effective_config(config(), store(), now())


def one_of(profiles, wanted: str, missing: str):
    """The department or focus area of this id among ``profiles``; a 404 saying ``missing``
    when none has it."""
    found = next((p for p in profiles if p.id == wanted), None)
    if found is None:
        abort(404, description=missing)
    return found


def now() -> datetime:
    """The app's clock (tests freeze it)."""
    return _settings()["clock"]()


def _settings() -> dict:
    from flask import current_app

    return current_app.extensions["eufunds"]


def _close_store(_error: BaseException | None) -> None:
    opened = g.pop("store", None)
    if opened is not None:
        opened.close()
