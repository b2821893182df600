"""SMTP over TLS with a login: STARTTLS and implicit TLS against a real aiosmtpd server."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from notifier.send import SendError, SmtpSender, smtp_settings_from_env
from tests.support.smtp import RecordingHandler, free_port

USER, PASSWORD = "eufunds", "hemligt-losenord"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with openssl for this test run."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class Logins:
    """An aiosmtpd authenticator that accepts one user and remembers every attempt."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.attempts.append(login)
        # handled=False: aiosmtpd then answers a failure with 535 itself.
        return AuthResult(success=(login, password) == (USER, PASSWORD), handled=False)


def _server(certificate, implicit: bool) -> Iterator[tuple[int, RecordingHandler, Logins]]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler, logins, port = RecordingHandler(), Logins(), free_port()
    options = (
        {"ssl_context": context} if implicit else {"tls_context": context, "require_starttls": True}
    )
    # aiosmtpd only knows TLS is on after STARTTLS; on an implicit-TLS port it is on anyway.
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=logins,
        auth_require_tls=not implicit,
        **options,
    )
    controller.start()
    try:
        yield port, handler, logins
    finally:
        controller.stop()


@pytest.fixture
def starttls_server(certificate):
    """A server that requires STARTTLS before login."""
    yield from _server(certificate, implicit=False)


@pytest.fixture
def tls_server(certificate):
    """A server that speaks TLS from the first byte (port 465 style)."""
    yield from _server(certificate, implicit=True)


def _settings(port: int, security: str, ca_file: Path | None, password: str = PASSWORD):
    return smtp_settings_from_env(
        {
            "EUFUNDS_SMTP_HOST": "127.0.0.1",
            "EUFUNDS_SMTP_PORT": str(port),
            "EUFUNDS_SMTP_SECURITY": security,
            "EUFUNDS_SMTP_USER": USER,
            "EUFUNDS_SMTP_PASSWORD": password,
            "EUFUNDS_SMTP_FROM": "eu-samordning@example.org",
            "EUFUNDS_SMTP_CA_FILE": str(ca_file) if ca_file else "",
        }
    )


def _message() -> EmailMessage:
    # Hand-written message: the transport is under test, not the digest.
    message = EmailMessage()
    message["Subject"], message["From"] = "Prov", "eu-samordning@example.org"
    message["To"] = "stadskontoret.eu@example.org"
    message.set_content("Hej!")
    return message


def _send(settings) -> list[str]:
    sender = SmtpSender(settings)
    try:
        return sender.send(_message())
    finally:
        sender.close()


def test_starttls_with_login_delivers(starttls_server, certificate):
    """STARTTLS, then login with the environment's user and password, then the message."""
    port, handler, logins = starttls_server
    assert _send(_settings(port, "starttls", certificate[0])) == []
    assert logins.attempts == [USER]
    assert [r.message["Subject"] for r in handler.received] == ["Prov"]


def test_implicit_tls_with_login_delivers(tls_server, certificate):
    """SSL from the first byte (EUFUNDS_SMTP_SECURITY=ssl) with login delivers too."""
    port, handler, logins = tls_server
    _send(_settings(port, "ssl", certificate[0]))
    assert logins.attempts == [USER]
    assert len(handler.received) == 1


def test_wrong_password_is_one_send_error(starttls_server, certificate):
    """A refused login is a SendError naming the server; nothing is delivered."""
    port, handler, _ = starttls_server
    with pytest.raises(SendError, match=f"SMTP 127.0.0.1:{port}"):
        _send(_settings(port, "starttls", certificate[0], password="fel"))
    assert handler.received == []


def test_password_smtplib_cannot_send_is_one_send_error(starttls_server, certificate):
    """smtplib logs in with ASCII only: a password with å/ä/ö is a clear SendError."""
    port, handler, _ = starttls_server
    with pytest.raises(SendError, match="ASCII"):
        _send(_settings(port, "starttls", certificate[0], password="hemligt-lösenord"))
    assert handler.received == []


def test_untrusted_certificate_is_refused(starttls_server):
    """Without the certificate authority the server's certificate is not trusted."""
    port, handler, logins = starttls_server
    with pytest.raises(SendError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        _send(_settings(port, "starttls", None))
    assert logins.attempts == [] and handler.received == []
