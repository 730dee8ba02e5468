"""Fixtures for the API tests: the app around the test `mill`, staff tokens per role, and a
snapshot of everything stored so a refused request can be shown to have changed nothing."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
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
