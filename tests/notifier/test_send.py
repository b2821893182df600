"""Delivering digests: SMTP settings from the environment, a real SMTP server, .eml files.

The server is aiosmtpd on 127.0.0.1 and a free port (tests/support/smtp.py), started by the
`smtp_server` fixture and stopped afterwards; what it receives is parsed back with
email.policy.default.
"""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default

import pytest

from notifier.send import (
    SendError,
    SmtpSender,
    SmtpSettings,
    outbox_path,
    smtp_settings_from_env,
    write_outbox,
)
from tests.support.smtp import SENDER, free_port


def _message(subject: str = "Vecka 34", to: str = "mottagare@example.org") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = SENDER
    message["To"] = to
    message.set_content("Hej!\nSista ansökningsdag är i morgon.\n")
    return message


# smtp_settings_from_env ----------------------------------------------------------------


@pytest.mark.parametrize("environ", [{}, {"EUFUNDS_SMTP_HOST": "  "}], ids=["unset", "blank"])
def test_no_host_means_no_smtp(environ):
    """Without EUFUNDS_SMTP_HOST there are no settings: digests go to the outbox."""
    assert smtp_settings_from_env(environ) is None


def test_settings_read_every_variable():
    """Host, port, security, user, password and sender all come from the environment."""
    settings = smtp_settings_from_env(
        {
            "EUFUNDS_SMTP_HOST": " smtp.example.org ",
            "EUFUNDS_SMTP_PORT": "2525",
            "EUFUNDS_SMTP_SECURITY": "SSL",
            "EUFUNDS_SMTP_USER": "eufunds",
            "EUFUNDS_SMTP_PASSWORD": "hemligt",
            "EUFUNDS_SMTP_FROM": SENDER,
            "EUFUNDS_SMTP_TIMEOUT": "12.5",
        }
    )
    assert settings == SmtpSettings(
        host="smtp.example.org",
        port=2525,
        sender=SENDER,
        user="eufunds",
        password="hemligt",
        security="ssl",
        timeout=12.5,
    )


@pytest.mark.parametrize(
    ("port", "security"), [(None, "starttls"), ("587", "starttls"), ("465", "ssl")]
)
def test_security_defaults_follow_the_port(port, security):
    """STARTTLS on 587 (the default port), SSL on 465, unless EUFUNDS_SMTP_SECURITY says."""
    environ = {"EUFUNDS_SMTP_HOST": "smtp.example.org"}
    if port:
        environ["EUFUNDS_SMTP_PORT"] = port
    settings = smtp_settings_from_env(environ)
    assert settings.security == security
    assert settings.port == int(port or 587)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "EUFUNDS_SMTP_PORT",
            "smtp",
            "EUFUNDS_SMTP_PORT must be a number from 1 to 65535, got 'smtp'",
        ),
        ("EUFUNDS_SMTP_PORT", "0", "EUFUNDS_SMTP_PORT must be a number from 1 to 65535, got '0'"),
        ("EUFUNDS_SMTP_PORT", "25.5", "EUFUNDS_SMTP_PORT must be a number from 1 to 65535"),
        (
            "EUFUNDS_SMTP_TIMEOUT",
            "nan",
            "EUFUNDS_SMTP_TIMEOUT must be a number from 1 to 600, got 'nan'",
        ),
        ("EUFUNDS_SMTP_TIMEOUT", "-5", "EUFUNDS_SMTP_TIMEOUT must be a number from 1 to 600"),
        ("EUFUNDS_SMTP_SECURITY", "tls", "EUFUNDS_SMTP_SECURITY must be one of starttls, ssl"),
    ],
)
def test_bad_settings_are_one_clear_error(variable, value, message):
    """A port that is not a number or an unknown security mode is a SendError naming it."""
    with pytest.raises(SendError, match=message):
        smtp_settings_from_env({"EUFUNDS_SMTP_HOST": "smtp.example.org", variable: value})


# SmtpSender ----------------------------------------------------------------------------


def test_sender_delivers_to_a_real_server(smtp_server):
    """The server receives the message with its envelope, subject and Swedish body intact."""
    sender = SmtpSender(smtp_server.settings)
    try:
        sender.send(_message())
    finally:
        sender.close()
    [received] = smtp_server.received
    assert received.mail_from == "eu-bevakning@jonkoping.example"
    assert received.rcpt_tos == ("mottagare@example.org",)
    assert received.message["Subject"] == "Vecka 34"
    assert received.message["From"] == SENDER
    assert "Sista ansökningsdag är i morgon." in received.message.get_content()


def test_sender_keeps_one_connection_for_a_run(smtp_server):
    """Two messages in a run go over one connection (same client address and port)."""
    sender = SmtpSender(smtp_server.settings)
    try:
        sender.send(_message("ett"))
        sender.send(_message("två"))
    finally:
        sender.close()
    assert [r.message["Subject"] for r in smtp_server.received] == ["ett", "två"]
    assert len({r.peer for r in smtp_server.received}) == 1


def test_temporary_failure_is_a_send_error_then_reconnects(smtp_server):
    """A 451 becomes a SendError naming the server; the next send connects again."""
    smtp_server.handler.accept_only = 0
    sender = SmtpSender(smtp_server.settings)
    try:
        with pytest.raises(SendError, match=r"SMTP 127\.0\.0\.1:\d+: .*451"):
            sender.send(_message("först"))
        assert sender.connection is None
        smtp_server.handler.accept_only = None
        sender.send(_message("sedan"))
    finally:
        sender.close()
    assert [r.message["Subject"] for r in smtp_server.received] == ["sedan"]


def test_partly_refused_message_reaches_the_others(smtp_server):
    """A recipient the server refuses is returned; the others get the message."""
    smtp_server.handler.refused_recipients = {"borta@example.org"}
    sender = SmtpSender(smtp_server.settings)
    try:
        refused = sender.send(_message(to="mottagare@example.org, borta@example.org"))
    finally:
        sender.close()
    assert refused == ["borta@example.org"]
    assert [list(r.rcpt_tos) for r in smtp_server.received] == [["mottagare@example.org"]]


def test_wholly_refused_message_is_a_send_error(smtp_server):
    """When every recipient is refused nobody got it: a SendError naming the server."""
    smtp_server.handler.refused_recipients = {"borta@example.org"}
    sender = SmtpSender(smtp_server.settings)
    try:
        with pytest.raises(SendError, match="SMTP 127.0.0.1"):
            sender.send(_message(to="borta@example.org"))
    finally:
        sender.close()


def test_no_server_is_a_send_error():
    """Nothing listening on the port: a SendError, not a traceback from socket."""
    settings = SmtpSettings("127.0.0.1", free_port(), SENDER, security="none", timeout=5)
    sender = SmtpSender(settings)
    with pytest.raises(SendError, match=r"^SMTP 127\.0\.0\.1:\d+: "):
        sender.send(_message())
    sender.close()


def test_close_without_connection_is_harmless():
    """Closing a sender that never connected does nothing."""
    sender = SmtpSender(SmtpSettings("127.0.0.1", free_port(), SENDER, security="none"))
    sender.close()
    sender.close()
    assert sender.connection is None


# write_outbox --------------------------------------------------------------------------


def test_outbox_file_reads_back_as_the_message(tmp_path):
    """write_outbox creates the folder and an .eml that parses back to the same message."""
    folder = tmp_path / "outbox" / "new"
    path = write_outbox(_message(), outbox_path(folder, "2026-W34", "social"))
    assert path == folder / "2026-W34-social.eml"
    assert sorted(p.name for p in folder.iterdir()) == ["2026-W34-social.eml"]
    raw = path.read_bytes()
    assert b"\r\n" in raw
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed["Subject"] == "Vecka 34"
    assert parsed["From"] == SENDER
    assert "Sista ansökningsdag är i morgon." in parsed.get_content()
