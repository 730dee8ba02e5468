"""Fixtures for the customer tests: e-mail over real SMTP to a local server (so erasure meets
real sent-mail logs), an API client per role, the JSON error check and a database scan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import JSON, String, Text, select

from ordermill.core.app import Ordermill
from ordermill.core.models import Base
from ordermill.plugins.notify_email.testing import SmtpSink
from ordermill.testing_db import import_plugin_models


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def ordermill_settings_overrides(smtp: SmtpSink) -> dict[str, Any]:
    return {"plugins": {"notify_email": {
        "host": "127.0.0.1", "port": smtp.port, "timeout": 5, "max_attempts": 1,
        "from_address": "orders@shop.test", "from_name": "Test Shop",
        "team_recipients": ["team@shop.test"], "base_url": "https://shop.test"}},
        "shop_name": "Test Shop"}


class Api:
    """The test client with a role's bearer token: api.post(path, role="viewer", json=...)."""

    def __init__(self, client: FlaskClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def request(self, method: str, path: str, *, role: str | None = "admin",
                **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return self.client.open(f"/api/v1/{path}", method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)


@pytest.fixture
def api(client: FlaskClient, tokens: dict[str, str]) -> Api:
    return Api(client, tokens)


def check_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert the one JSON error shape and return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return dict(body["error"])


def text_of_every_column(mill: Ordermill) -> list[tuple[str, str, str]]:
    """(table, column, text) of every text and JSON value in every table of the database."""
    import_plugin_models()
    found = []
    with mill.read_session() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            if not columns:
                continue
            for row in session.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value)
                    found.append((table.name, column.name, text))
    return found
