"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 and a free port, recording messages.

What it receives is parsed back with email.policy.default. The `smtp_server` fixture in
tests/conftest.py runs one per test.
"""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller

from notifier.send import SmtpSettings, smtp_settings_from_env

SENDER = "EU-bevakning Jönköping <eu-bevakning@jonkoping.example>"


@dataclass(frozen=True)
class Received:
    """One message as the server got it: envelope, parsed message, client address."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    peer: tuple


class RecordingHandler:
    """An aiosmtpd handler that keeps every message; it can refuse recipients or answer 451."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.accept_only: int | None = None
        # What the server answers to DATA once accept_only messages were taken.
        self.over_limit = "451 4.3.0 Mailbox temporarily unavailable, try again later"
        self.refused_recipients: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Refuse the addresses in refused_recipients, accept the rest."""
        if address in self.refused_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Keep the message, or answer over_limit (451) once accept_only messages were taken."""
        if self.accept_only is not None and len(self.received) >= self.accept_only:
            return self.over_limit
        message = email.message_from_bytes(envelope.content, policy=default)
        self.received.append(
            Received(envelope.mail_from, tuple(envelope.rcpt_tos), message, session.peer)
        )
        return "250 2.0.0 Message accepted for delivery"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (aiosmtpd cannot take port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_smtp_server(handler: RecordingHandler) -> Iterator[int]:
    """Run a real SMTP server on 127.0.0.1 with this handler; yield its port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def plain_settings(port: int) -> SmtpSettings:
    """Settings for the local test server, read from the environment as in production."""
    environ = {
        "EUFUNDS_SMTP_HOST": "127.0.0.1",
        "EUFUNDS_SMTP_PORT": str(port),
        "EUFUNDS_SMTP_SECURITY": "none",
        "EUFUNDS_SMTP_FROM": SENDER,
    }
    settings = smtp_settings_from_env(environ)
    assert settings is not None
    return settings


@dataclass
class SmtpServer:
    """A running test server: what it received, how to reach it."""

    handler: RecordingHandler
    settings: SmtpSettings

    @property
    def received(self) -> list[Received]:
        """The messages received so far."""
        return self.handler.received


@contextmanager
def smtp_server_running() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 that records what it receives, stopped afterwards."""
    handler = RecordingHandler()
    with running_smtp_server(handler) as port:
        yield SmtpServer(handler, plain_settings(port))


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers; yield its port."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(20)
        yield listener.getsockname()[1]
