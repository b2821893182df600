"""Commands of the web app: `eufunds serve` and `eufunds users`."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from db.records import ROLES, WebUser
from db.users import UserExists
from eufunds.config import Config
from eufunds.joblock import pipeline_running
from eufunds.options import open_store, prepare_store, run_moment, with_config, with_db

if TYPE_CHECKING:  # the preview loads the matcher (numpy, scipy): only when it runs
    from eufunds.preview import Corpus

SECRET_KEY_VARIABLE = "EUFUNDS_SECRET_KEY"
# How often the web app checks whether the calls (or the saved profiles) changed, to refit
# the previews' corpus: a check is one aggregate query, a refit about 1.5 s at 20,000 calls.
WARM_EVERY_SECONDS = 15
# A shorter key is too easy to guess for signing sessions.
MIN_SECRET_KEY = 32


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--https",
    is_flag=True,
    envvar="EUFUNDS_HTTPS",
    help="Served over HTTPS (behind a proxy that terminates TLS): session cookies are Secure.",
)
@with_db
@with_config
def serve_command(host: str, port: int, https: bool, db_path: Path, config: Config):
    """Serve the web app for the EU coordinator and management (waitress, WSGI).

    The session key comes from EUFUNDS_SECRET_KEY (at least 32 characters; make one with
    python -c "import secrets; print(secrets.token_urlsafe(48))").

    Example: eufunds serve --port 8000   (with EUFUNDS_SECRET_KEY set)
    """
    secret_key = os.environ.get(SECRET_KEY_VARIABLE, "")
    if len(secret_key) < MIN_SECRET_KEY:
        raise click.ClickException(
            f"{SECRET_KEY_VARIABLE} must be set to a secret of at least {MIN_SECRET_KEY} "
            "characters; the web app will not start without one"
        )
    from waitress import serve

    from web.app import create_app

    prepare_store(db_path)
    app = create_app(config, db_path, secret_key, secure_cookies=https)
    threading.Thread(target=_keep_previews_warm, args=(config, db_path), daemon=True).start()
    click.echo(f"serving on http://{host}:{port}/ (stop with Ctrl+C)")
    serve(app, host=host, port=port, threads=8, ident="eufunds")


def _keep_previews_warm(config: Config, db_path: Path) -> None:
    """Keep the corpus profile previews start from fitted, refitting it soon after a crawl
    changed the calls (so that even the first preview after a crawl is quick)."""
    while True:
        try:
            warm_previews(config, db_path)
        except Exception as exc:  # noqa: BLE001 - a failed warm-up only costs a slower preview
            logging.getLogger(__name__).warning("preview warm-up failed: %s", exc)
        time.sleep(WARM_EVERY_SECONDS)


def warm_previews(config: Config, db_path: Path, now: datetime | None = None) -> Corpus | None:
    """The previews' corpus of the database: the one kept while still fresh, else fitted now
    (``now``: this moment unless given); None while a run (a crawl, a match) holds the job
    lock: the calls change under it, and a fit every few seconds would only slow it down."""
    from eufunds.preview import open_corpus
    from eufunds.profiles import effective_config

    with open_store(db_path) as store:
        moment = now or run_moment(None)
        if pipeline_running(store, datetime.now(UTC)):
            return None
        return open_corpus(store, effective_config(config, store, moment, seed=False), moment)


@click.group("users")
def users_group() -> None:
    """Users of the web app.

    Example: eufunds users add anna --role coordinator
    """


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@with_db
def users_add(name: str, role: str, db_path: Path):
    """Add a user; the password is asked for (twice), never taken from the command line.

    Example: eufunds users add anna --role coordinator
    """
    from web.security import hash_password, password_problem

    if not name.strip() or name != name.strip():
        raise click.ClickException("a user name cannot be empty or start or end with spaces")
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)
    user = WebUser(name, role, hash_password(password), run_moment(None))
    prepare_store(db_path)
    with open_store(db_path) as store:
        try:
            store.add_user(user)
        except UserExists as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"user {name} added ({role})")


@users_group.command("list")
@with_db
def users_list(db_path: Path):
    """List the users of the web app with their roles.

    Example: eufunds users list
    """
    with open_store(db_path, create=False) as store:
        for user in store.users():
            click.echo(f"{user.name}\t{user.role}\tsince {user.created_at:%Y-%m-%d}")
