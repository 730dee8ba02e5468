"""Fixtures for the API tests: the app around the test `mill`, staff tokens per role, and a
snapshot of everything stored so a refused request can be shown to have changed nothing."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ordermill.core.app import Ordermill
from ordermill.core.models import (
    ApiToken,
    Customer,
    FraudCheck,
    GatewayEvent,
    IdempotencyRecord,
    Invoice,
    Order,
    OrderEvent,
    OrderLine,
    OutboxJob,
    Payment,
    Product,
    PromoCode,
    Setting,
    User,
    utcnow,
)
from ordermill.core.staff import create_token
from ordermill.web import create_app

ROLES = ("admin", "manager", "support", "viewer")
CORE_MODELS = (Customer, Product, PromoCode, User, Order, OrderLine, Invoice, Payment,
               FraudCheck, OrderEvent, OutboxJob, Setting, IdempotencyRecord, GatewayEvent)
PASSWORD = "correct horse battery"


@cache
def password_hash() -> str:
    """One scrypt hash for every test user: hashing is slow on purpose."""
    return generate_password_hash(PASSWORD, method="scrypt")


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TESTING": True, "ORDERMILL_LOGIN_RATE_LIMIT": "1000 per minute",
            "ORDERMILL_TOKEN_RATE_LIMIT": "1000 per minute",
            "ORDERMILL_CHECKOUT_RATE_LIMIT": "1000 per minute"}


@pytest.fixture
def app(mill: Ordermill, app_config: dict[str, Any]) -> Any:
    return create_app(mill, app_config)


@pytest.fixture
def client(app: Any) -> FlaskClient:
    return app.test_client()


def add_user(mill: Ordermill, role: str, email: str | None = None) -> str:
    """A staff user of `role` who can log in with PASSWORD; returns the e-mail."""
    email = email or f"{role}@shop.test"
    with mill.write_session() as session, session.begin():
        session.add(User(email=email, name=role.title(), role=role,
                         password_hash=password_hash(), active=True, created_at=utcnow()))
    return email


@pytest.fixture
def tokens(mill: Ordermill) -> dict[str, str]:
    """An API token per role: tokens["viewer"] and so on."""
    made = {}
    for role in ROLES:
        email = add_user(mill, role)
        made[role] = create_token(mill, email=email, name=f"{role} test token")
    return made


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


def _rows(result: Any) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in result)


def snapshot(mill: Ordermill) -> dict[str, Any]:
    """Every table's row count plus the state of orders, lines, invoices and stock."""
    with mill.read_session() as session:
        counts = {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                  for model in CORE_MODELS}
        return {
            "counts": counts,
            "orders": _rows(session.execute(select(
                Order.number, Order.status, Order.version, Order.buyer_name,
                Order.buyer_email, Order.total, Order.dispatched_at)).all()),
            "lines": _rows(session.execute(select(
                OrderLine.id, OrderLine.status, OrderLine.units_released,
                OrderLine.refunded_amount)).all()),
            "invoices": _rows(session.execute(select(
                Invoice.id, Invoice.status, Invoice.amount)).all()),
            "payments": session.scalar(select(func.count()).select_from(Payment)),
            "stock": _rows(session.execute(select(Product.sku, Product.stock)).all()),
            "tokens": _rows(session.execute(select(ApiToken.id, ApiToken.revoked_at))
                             .all()),
        }


@pytest.fixture
def unchanged(mill: Ordermill) -> Callable[[], Callable[[], None]]:
    """before = unchanged(); ...refused request...; before() asserts nothing changed."""

    def take() -> Callable[[], None]:
        first = snapshot(mill)

        def check() -> None:
            assert snapshot(mill) == first

        return check

    return take


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
    beside = Path(sys.executable).parent / "ordermill"
    return str(beside) if beside.exists() else (shutil.which("ordermill") or "ordermill")


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
    done = subprocess.run([ordermill_command(), *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False, cwd=cwd)
    assert done.returncode == 0, f"ordermill {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


@attrs.define
class Server:
    """A running `ordermill serve`: its base URL and everything it printed so far."""

    url: str
    lines: list[str]

    def output(self) -> str:
        return "".join(self.lines)


@contextmanager
def serving(env: dict[str, str], *args: str, startup_seconds: float = 120) -> Iterator[Server]:
    """Run `ordermill serve --port 0 ARGS`; yield it once it answers; stop it afterwards.

    Its output is read by a thread all along (so a full pipe never blocks the server) and
    is there to print when a test fails.
    """
    process = subprocess.Popen(
        [ordermill_command(), "serve", "--host", "127.0.0.1", "--port", "0", "--no-worker",
         "--threads", "4", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    found: list[str] = []
    started = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            match = re.search(r"running at (http://127\.0\.0\.1:\d+)/", line)
            if match and not found:
                found.append(match.group(1))
                started.set()
        started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    started.wait(startup_seconds)
    if not found:
        process.kill()
        process.wait(timeout=10)
        pytest.fail("ordermill serve did not start:\n" + "".join(lines))
    server = Server(found[0], lines)
    try:
        for _ in range(100):
            try:
                if requests.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        reader.join(timeout=5)


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
