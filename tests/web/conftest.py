"""Fixtures for the API tests: an Api client with a role's token, the JSON error check, bodies,
and a real `ordermill serve`. `app`, `client`, `tokens` and `unchanged` come from
ordermill.testing (ordermill.testing_web)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from ordermill import testing_web
from ordermill.core.app import Ordermill
from ordermill.testing_serve import Server
from ordermill.testing_serve import ordermill_command as ordermill_command_line
from ordermill.testing_serve import serving as serve

ROLES = testing_web.ROLES
PASSWORD = testing_web.PASSWORD
add_user = testing_web.add_user
snapshot = testing_web.snapshot


class Api:
    """The test client with a role's bearer token: api.post(path, role="viewer", json=...)."""

    def __init__(self, client: FlaskClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def request(self, method: str, path: str, *, role: str | None = "admin",
                headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        sent = dict(headers or {})
        if role is not None:
            sent.setdefault("Authorization", f"Bearer {self.tokens[role]}")
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return self.client.open(url, method=method, headers=sent, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api(client: FlaskClient, tokens: dict[str, str]) -> Api:
    return Api(client, tokens)


def check_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert the one JSON error shape and return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def make_place_body(*lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": {"email": "bea@example.com", "name": "Bea Buyer"},
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "payment_method": "banktransfer",
    }
    body.update(extra)
    return body


@pytest.fixture
def error_of() -> Callable[..., dict[str, Any]]:
    """error_of(response, 422, "validation_error") asserts the JSON error shape."""
    return check_error


@pytest.fixture
def place_body() -> Callable[..., dict[str, Any]]:
    """place_body(("TSHIRT", 2), promo_code=...) -> a POST /orders body."""
    return make_place_body


@pytest.fixture
def staff_password() -> str:
    """The password of every user the `tokens` fixture and `add_staff_user` make."""
    return PASSWORD


@pytest.fixture
def add_staff_user(mill: Ordermill) -> Callable[..., str]:
    """add_staff_user(role, email=None) -> e-mail of a new staff user (password PASSWORD)."""

    def add(role: str, email: str | None = None) -> str:
        return add_user(mill, role, email)

    return add


# ---------------------------------------------------------------- a real `ordermill serve`


def ordermill_command() -> str:
    """The `ordermill` console script of the running interpreter's environment."""
    return ordermill_command_line()[0]


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a CLI process on a fresh SQLite database under tmp_path."""
    values = {key: value for key, value in os.environ.items()
              if not key.startswith("ORDERMILL_")}
    values.update({
        "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance"),
        "ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'instance' / 'e2e.sqlite'}",
        "ORDERMILL_SECRET_KEY": "e2e-secret-key-long-enough-for-ordermill",
        "PYTHONUNBUFFERED": "1",
    })
    return values


def run_cli(env: dict[str, str], *args: str, cwd: Path | None = None) -> str:
    done = subprocess.run([*ordermill_command_line(), *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False, cwd=cwd)
    assert done.returncode == 0, f"ordermill {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


@contextmanager
def serving(env: dict[str, str], *args: str, startup_seconds: float = 120) -> Iterator[Server]:
    """`ordermill serve --host 127.0.0.1 --port 0 --no-worker --threads 4 ARGS` (see
    ordermill.testing_serve.serving)."""
    with serve(env, "--host", "127.0.0.1", "--no-worker", "--threads", "4", *args,
               startup_seconds=startup_seconds) as server:
        yield server


@pytest.fixture
def cli_environment() -> Callable[[Path], dict[str, str]]:
    return cli_env


@pytest.fixture
def ordermill_cli() -> Callable[..., str]:
    """ordermill_cli(env, "user", "create", ...) -> stdout; fails the test on an error."""
    return run_cli


@pytest.fixture
def ordermill_serving() -> Callable[..., Any]:
    """with ordermill_serving(env, "--demo") as url: ... (a real server process)."""
    return serving


@pytest.fixture
def ordermill_bin_dir() -> Path:
    """The folder holding the `ordermill` command (to put on PATH for shell scripts)."""
    return Path(ordermill_command()).resolve().parent
