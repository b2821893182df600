"""Deliver digests: SMTP (STARTTLS or SSL, login from the environment) or .eml files."""

from __future__ import annotations

import contextlib
import email
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path

SECURITY = ("starttls", "ssl", "none")


class SendError(Exception):
    """The message could not be delivered; ``recipient_refused`` when the server refused
    every recipient's address for good (5xx answers to RCPT: sending it again would fail
    again). Any other refusal (the sender, the login, the message, a quota) may pass later."""

    def __init__(self, message: str, recipient_refused: bool = False):
        super().__init__(message)
        self.recipient_refused = recipient_refused


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail. Secrets only ever come from the environment."""

    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    security: str = "starttls"
    timeout: float = 30.0
    ca_file: str = ""


def smtp_settings_from_env(environ: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """SMTP settings from EUFUNDS_SMTP_*; None when no host is set.

    EUFUNDS_SMTP_SECURITY is starttls (default), ssl (default for port 465) or none;
    EUFUNDS_SMTP_CA_FILE names extra certificate authorities to trust (an internal relay);
    EUFUNDS_SMTP_TIMEOUT is how many seconds to wait for the server to connect or answer.
    """
    env = os.environ if environ is None else environ

    def value(name: str, default: str = "") -> str:
        return env.get(name, "").strip() or default

    host = value("EUFUNDS_SMTP_HOST")
    if not host:
        return None
    port = int(_number(env, "EUFUNDS_SMTP_PORT", value("EUFUNDS_SMTP_PORT", "587"), 1, 65535))
    timeout = _number(env, "EUFUNDS_SMTP_TIMEOUT", value("EUFUNDS_SMTP_TIMEOUT", "30"), 1, 600)
    security = value("EUFUNDS_SMTP_SECURITY", "ssl" if port == 465 else "starttls").lower()
    if security not in SECURITY:
        raise SendError(f"EUFUNDS_SMTP_SECURITY must be one of {', '.join(SECURITY)}")
    return SmtpSettings(
        host=host,
        port=port,
        sender=value("EUFUNDS_SMTP_FROM"),
        user=value("EUFUNDS_SMTP_USER"),
        password=env.get("EUFUNDS_SMTP_PASSWORD", ""),
        ca_file=value("EUFUNDS_SMTP_CA_FILE"),
        security=security,
        timeout=timeout,
    )


def _number(env: Mapping[str, str], name: str, text: str, low: float, high: float) -> float:
    """The number a variable gives (seconds; a port must be whole) within [low, high]."""
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not (low <= number <= high) or (name.endswith("PORT") and not number.is_integer()):
        raise SendError(f"{name} must be a number from {low:g} to {high:g}, got {env[name]!r}")
    return number


class SmtpSender:
    """One SMTP connection for a run; sends messages one by one.

    A server that cannot be reached, or stops answering (a timeout, a dropped connection),
    is not tried again in the same run: the messages after it fail at once with the same
    reason, so a dead server costs one timeout per run, not one per department. A server
    that answers with an error code (451, 550...) refused only that message.
    """

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.connection: smtplib.SMTP | None = None
        self.unreachable = ""

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        context = ssl.create_default_context(cafile=settings.ca_file or None)
        if settings.security == "ssl":
            connection = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            if settings.security == "starttls":
                connection.starttls(context=context)
        if settings.user:
            connection.login(settings.user, settings.password)
        return connection

    def send(self, message: EmailMessage) -> list[str]:
        """Send one message; return the recipients the server refused while taking it for
        the others. Any other SMTP or network failure (nobody got it) is one SendError."""
        where = f"SMTP {self.settings.host}:{self.settings.port}"
        if self.unreachable:
            raise SendError(
                f"{where}: not tried, the server failed earlier in this run: {self.unreachable}"
            )
        try:
            if self.connection is None:
                self.connection = self._connect()
            refused = self.connection.send_message(message)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            self.close()
            raise SendError(f"{where}: {exc}", recipient_refused=_refused_for_good(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            self.unreachable = str(exc) or type(exc).__name__
            raise SendError(f"{where}: {self.unreachable}") from exc
        except UnicodeEncodeError as exc:
            self.close()
            raise SendError(
                f"{where}: the user name and password must be ASCII (Python's smtplib logs "
                "in with ASCII only)"
            ) from exc
        return sorted(refused)

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None


def _refused_for_good(exc: smtplib.SMTPException) -> bool:
    """Whether the server refused the recipients' addresses for good (5xx to each RCPT),
    rather than for now (4xx) or for another reason than the address."""
    return (
        isinstance(exc, smtplib.SMTPRecipientsRefused)
        and bool(exc.recipients)
        and all(code >= 500 for code, _ in exc.recipients.values())
    )


def outbox_path(
    folder: Path, week: str, department_id: str, preview: bool = False, recipient: str = ""
) -> Path:
    """Where a department's digest of a week is written in the outbox (one recipient's own
    message, when each has theirs, after the department); a preview (a dry run) has a name
    of its own, so it never replaces a digest that was delivered there."""
    own = "-" + re.sub(r"[^a-z0-9.@_-]", "_", recipient.lower()) if recipient else ""
    return folder / f"{'preview-' if preview else ''}{week}-{department_id}{own}.eml"


def write_outbox(message: EmailMessage, path: Path) -> Path:
    """Write the message as an .eml file, whole or not at all (a file that is there is
    complete); return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(message.as_bytes(policy=SMTP))
    os.replace(partial, path)
    return path


def read_outbox(path: Path) -> EmailMessage:
    """An .eml file of the outbox, parsed."""
    return email.message_from_bytes(path.read_bytes(), policy=default)
