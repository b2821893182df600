"""Options the commands share, and the mapping of expected errors to one clear line."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from db import Busy, Store, StoreError
from db.records import LOCAL_TZ
from eufunds.config import Config, ConfigError, load_config
from eufunds.joblock import PipelineLock
from eufunds.matching import MatchingError
from notifier.send import SendError, SmtpSettings, smtp_settings_from_env

DEFAULT_DB = Path("var/eufunds.db")
DEFAULT_OUTBOX = Path("var/outbox")
# The years a date given on the command line may fall in.
FIRST_YEAR, LAST_YEAR = 2000, 2099
Command = Callable[..., Any]


class ConfigProblem(click.ClickException):
    """A configuration error: one line, exit code 2."""

    exit_code = 2


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn the errors a user can act on into one line (exit 1, or 2 for configuration)."""
    try:
        yield
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from None
    except (StoreError, Busy, SendError, MatchingError) as exc:
        raise click.ClickException(str(exc)) from None


def _path_option(
    name: str, dest: str, envvar: str, default: Path, help: str, folder: bool
) -> Callable[[Command], Command]:
    """A file or folder option with an environment variable and a default shown in --help."""
    return click.option(
        name,
        dest,
        type=click.Path(file_okay=not folder, dir_okay=folder, path_type=Path),
        envvar=envvar,
        default=default,
        show_default=True,
        help=help,
    )


# --db (envvar EUFUNDS_DB) for a command.
with_db = _path_option(
    "--db",
    "db_path",
    "EUFUNDS_DB",
    DEFAULT_DB,
    "SQLite database file (created and migrated on first use).",
    folder=False,
)
# --outbox (envvar EUFUNDS_OUTBOX) for a command.
with_outbox = _path_option(
    "--outbox",
    "outbox",
    "EUFUNDS_OUTBOX",
    DEFAULT_OUTBOX,
    "Folder for .eml files when there is no SMTP server, or with --dry-run.",
    folder=True,
)


def with_replay(command: Command) -> Command:
    """Add --replay (envvar EUFUNDS_REPLAY) to a command."""
    return click.option(
        "--replay",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        envvar="EUFUNDS_REPLAY",
        default=None,
        help="Answer the crawler's requests from saved files in DIR/<source id>/ "
        "instead of the network.",
    )(command)


def with_as_of(command: Command) -> Command:
    """Add --as-of DATE to a command: deadlines, weeks and 'closing soon' are judged then."""
    return click.option(
        "--as-of",
        "as_of",
        help="Run as of this date (YYYY-MM-DD): deadlines, ISO weeks and 'closing soon' are "
        "judged against it.",
    )(command)


def with_config(command: Command) -> Command:
    """Add --config (envvar EUFUNDS_CONFIG) to a command and load it as `config`."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="EUFUNDS_CONFIG",
        default=None,
        help="Configuration folder (default: the embedded config/ for Jönköping).",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, config_path: Path | None, **kwargs: Any) -> Any:
        with clear_errors():
            config = load_config(config_path)
        return command(*args, config=config, **kwargs)

    return wrapper


@contextmanager
def open_store(db_path: Path, create: bool = True) -> Iterator[Store]:
    """The database (created, unless ``create`` is False, and migrated on first use) for a
    block; its errors are one line."""
    with clear_errors(), Store(db_path, create=create) as store:
        yield store


def prepare_store(db_path: Path) -> None:
    """Create and migrate the database now, so its problems show before any work starts."""
    with open_store(db_path):
        pass


def profiled(config: Config, db_path: Path, now: datetime) -> Config:
    """The configuration with the profiles stored in the database (the configuration seeds
    them on first use), made and migrated if need be."""
    from eufunds.profiles import effective_config

    with open_store(db_path) as store:
        return effective_config(config, store, now)


@contextmanager
def job_lock(db_path: Path) -> Iterator[None]:
    """Hold the job lock, so a manual command never overlaps a scheduled run."""
    prepare_store(db_path)
    with clear_errors(), PipelineLock(db_path):
        yield


def local_date(text: str | None) -> datetime | None:
    """Parse YYYY-MM-DD (from 2000 to 2099: a year typo is no date to run as of) as midnight
    in Swedish time; None when no date was given."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        raise click.BadParameter(f"expected a date like 2026-09-30, got {text!r}") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise click.BadParameter(
            f"expected a date from {FIRST_YEAR} to {LAST_YEAR} (like 2026-09-30), got {text!r}"
        )
    return moment


def run_moment(text: str | None) -> datetime:
    """The moment a command runs as of: noon in Swedish time on DATE, or now."""
    if text is None:
        return datetime.now(LOCAL_TZ)
    return local_date(text).replace(hour=12)


# Calls last seen longer than this before the moment a command judges them by are old data.
STALE_AFTER = timedelta(days=7)


def data_date_note(
    newest_sighting: datetime | None, now: datetime, as_of: str | None, judged: bool = True
) -> str:
    """A note when the moment a command judges deadlines by is far from the stored calls'
    date: after a replayed demo, today makes every replayed call look closed; an --as-of
    before the newest crawl judges calls that may have changed since. ``judged``: the command
    judges deadlines by the moment (and takes --as-of); a listing only shows what is stored.
    Empty otherwise."""
    if newest_sighting is None:
        return ""
    seen = newest_sighting.astimezone(LOCAL_TZ).date()
    if as_of is None and now - newest_sighting > STALE_AFTER and not judged:
        return (
            f"note: the calls were last crawled on {seen}; their statuses and deadlines are "
            "as stored then (a replay, or no crawl since)"
        )
    if as_of is None and now - newest_sighting > STALE_AFTER:
        return (
            f"note: the calls were last crawled on {seen} and are judged as of today "
            f"({now.astimezone(LOCAL_TZ).date()}), so calls open then may show as closed; "
            f"pass --as-of {seen} to see them as crawled"
        )
    if as_of is not None and now.date() < seen:
        return (
            f"note: --as-of {as_of} is before the newest crawl ({seen}); the calls are as "
            "crawled then and may have changed since that date"
        )
    return ""


def smtp_settings(dry_run: bool) -> SmtpSettings | None:
    """SMTP settings from the environment (none for a dry run)."""
    if dry_run:
        return None
    with clear_errors():
        return smtp_settings_from_env()
