"""Deliver digests: SMTP (STARTTLS or SSL, login from the environment) or .eml files."""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

SECURITY = ("starttls", "ssl", "none")


class SendError(Exception):
    """The message could not be delivered."""


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
    EUFUNDS_SMTP_CA_FILE names extra certificate authorities to trust (an internal relay).
    """
    env = os.environ if environ is None else environ

    def value(name: str, default: str = "") -> str:
        return env.get(name, "").strip() or default

    host = value("EUFUNDS_SMTP_HOST")
    if not host:
        return None
    try:
        port = int(value("EUFUNDS_SMTP_PORT", "587"))
    except ValueError:
        raise SendError(
            f"EUFUNDS_SMTP_PORT is not a number: {env['EUFUNDS_SMTP_PORT']!r}"
        ) from None
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
    )


class SmtpSender:
    """One SMTP connection for a run; sends messages one by one."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

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
        try:
            if self.connection is None:
                self.connection = self._connect()
            refused = self.connection.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendError(f"SMTP {self.settings.host}:{self.settings.port}: {exc}") from exc
        except UnicodeEncodeError as exc:
            self.close()
            raise SendError(
                f"SMTP {self.settings.host}:{self.settings.port}: the user name and password "
                "must be ASCII (Python's smtplib logs in with ASCII only)"
            ) from exc
        return sorted(refused)

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None


def write_outbox(message: EmailMessage, folder: Path, name: str) -> Path:
    """Write the message as an .eml file; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.eml"
    path.write_bytes(message.as_bytes(policy=SMTP))
    return path
