"""SMTP transport modes against a real aiosmtpd server: STARTTLS, implicit TLS, login."""

from __future__ import annotations

import shutil
import smtplib
import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from ordermill.core.errors import ConfigurationError
from ordermill.plugins.notify_email.config import NotifyConfig
from ordermill.plugins.notify_email.smtp import send_message
from ordermill.plugins.notify_email.testing import SmtpSink
from ordermill.testing import in_ci


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        if in_ci():
            pytest.fail("the openssl command is needed to make a test certificate; CI=true "
                        "requires the TLS tests (apt-get install openssl)")
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    return context


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login, auth_data.password) == (b"shop", b"s3cret")
    return AuthResult(success=ok, handled=False)  # False: aiosmtpd answers 535 itself


def a_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "orders@shop.test"
    message["To"] = "ann@example.com"
    message["Subject"] = "Hello"
    message.set_content("Hi Ann")
    return message


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpSink]:
    sink = SmtpSink(tls_context=server_context(certificate), require_starttls=True,
                    authenticator=authenticator, auth_require_tls=True).start()
    yield sink
    sink.stop()


def test_starttls_with_login(starttls_server: SmtpSink, certificate: tuple[Path, Path]) -> None:
    config = NotifyConfig.from_mapping({
        "host": "127.0.0.1", "port": starttls_server.port, "security": "starttls",
        "username": "shop", "password": "s3cret", "tls_ca_file": str(certificate[0]),
        "from_address": "orders@shop.test"})
    send_message(config, a_message(), ["ann@example.com"])
    [envelope] = starttls_server.envelopes
    assert envelope.rcpt_tos == ("ann@example.com",)
    assert envelope.message["Subject"] == "Hello"


def test_wrong_password_and_untrusted_certificate_fail(
    starttls_server: SmtpSink, certificate: tuple[Path, Path]
) -> None:
    base = {"host": "127.0.0.1", "port": starttls_server.port, "security": "starttls",
            "username": "shop", "tls_ca_file": str(certificate[0]), "timeout": 5}
    with pytest.raises(smtplib.SMTPAuthenticationError):
        send_message(NotifyConfig.from_mapping({**base, "password": "wrong"}), a_message(),
                     ["ann@example.com"])
    with pytest.raises(ssl.SSLError):  # the system CAs do not vouch for a self-signed cert
        send_message(NotifyConfig.from_mapping({**base, "tls_ca_file": None,
                                                "password": "s3cret"}),
                     a_message(), ["ann@example.com"])
    with pytest.raises(smtplib.SMTPException):  # no STARTTLS: the server insists on it
        send_message(NotifyConfig.from_mapping({**base, "security": "none"}), a_message(),
                     ["ann@example.com"])
    assert starttls_server.envelopes == []


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    sink = SmtpSink(ssl_context=server_context(certificate)).start()
    try:
        config = NotifyConfig.from_mapping({"host": "127.0.0.1", "port": sink.port,
                                            "ssl": True, "tls_ca_file": str(certificate[0])})
        assert config.security == "ssl"
        send_message(config, a_message(), ["ann@example.com"])
        assert [e.rcpt_tos for e in sink.envelopes] == [("ann@example.com",)]
    finally:
        sink.stop()


def test_config_defaults_and_mistakes() -> None:
    assert NotifyConfig.from_mapping({}).enabled is False
    assert NotifyConfig.from_mapping({"host": "mx", "security": "starttls"}).port == 587
    assert NotifyConfig.from_mapping({"host": "mx", "security": "ssl"}).port == 465
    assert NotifyConfig.from_mapping({"host": "mx"}).port == 25
    config = NotifyConfig.from_mapping({"host": "mx", "team_recipients": "a@x.test, b@x.test",
                                        "from_address": "orders@shop.test"},
                                       shop_name="The Shop")
    assert config.team_recipients == ("a@x.test", "b@x.test")
    assert config.from_name == "The Shop"
    assert config.domain == "shop.test"
    assert "s3cret" not in repr(NotifyConfig.from_mapping({"password": "s3cret"}))
    with pytest.raises(ConfigurationError, match="security"):
        NotifyConfig.from_mapping({"host": "mx", "security": "tls1.0"})
    with pytest.raises(ConfigurationError, match="bad number"):
        NotifyConfig.from_mapping({"host": "mx", "port": "twenty-five"})
