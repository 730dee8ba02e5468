"""The minFraud stand-in over HTTPS, settings pointing the plugin at it, and the web app."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import trustme
from minfraud_fake import ACCOUNT_ID, LICENSE_KEY, FakeMinFraud
from pytest_httpserver import HTTPServer

THRESHOLD = Decimal("20")


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """A throw-away certificate authority and its certificate as a PEM file."""
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


@pytest.fixture(scope="session")
def minfraud_server(tls_ca: tuple[trustme.CA, Path]) -> Iterator[HTTPServer]:
    """An HTTPS server on 127.0.0.1 with a certificate from the throw-away CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca[0].issue_cert("127.0.0.1", "localhost").configure_cert(context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def minfraud(minfraud_server: HTTPServer) -> Iterator[FakeMinFraud]:
    fake = FakeMinFraud()
    minfraud_server.expect_request(re.compile("/minfraud/.*")).respond_with_handler(fake.handle)
    yield fake
    minfraud_server.clear()


@pytest.fixture
def maxmind_config(minfraud_server: HTTPServer, tls_ca: tuple[trustme.CA, Path]
                   ) -> dict[str, Any]:
    return {"account_id": ACCOUNT_ID, "license_key": LICENSE_KEY,
            "host": f"127.0.0.1:{minfraud_server.port}", "ca_bundle": str(tls_ca[1]),
            "timeout": 5}


@pytest.fixture
def ordermill_settings_overrides(maxmind_config: dict[str, Any]) -> dict[str, Any]:
    return {"plugins": {"fraud_maxmind": maxmind_config}, "fraud_threshold": THRESHOLD}
