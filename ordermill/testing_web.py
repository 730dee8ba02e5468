"""Web fixtures shared by the API, admin and plugin tests (registered by ordermill.testing).

They used to be copied into four conftests, each slightly different:
  app_config        the Flask config of `app` (TESTING, rate limits a test cannot hit)
  app_blueprints    blueprints `app` registers when the factory did not (override per folder)
  app, client       the web app around the test `mill` and its test client
  tokens            an API token per role: tokens["viewer"] and so on
  unchanged         check = unchanged(); ...refused request...; check() proves nothing stored
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ordermill.core.app import Ordermill
from ordermill.core.models import (
    ApiToken,
    Base,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Product,
    User,
    utcnow,
)
from ordermill.testing_routes import share_url_builders

share_url_builders()  # every test that makes an app pays for URL rule compilation otherwise

ROLES = ("admin", "manager", "support", "viewer")
PASSWORD = "correct horse battery"
# Test users' hashes: scrypt at 1/32 of the production cost (staff.PASSWORD_METHOD), which is
# slow on purpose: the suite logs in hundreds of times and each check took ~100 ms. The login
# code reads the cost from the hash; a test about the production cost makes its own users
# with `method=staff.PASSWORD_METHOD`.
TEST_PASSWORD_METHOD = "scrypt:1024:8:1"


@cache
def password_hash(method: str = TEST_PASSWORD_METHOD) -> str:
    """One hash per method for every test user."""
    return generate_password_hash(PASSWORD, method=method)


def add_user(mill: Ordermill, role: str, email: str | None = None, *,
             active: bool = True, method: str = TEST_PASSWORD_METHOD) -> str:
    """A staff user of `role` who can log in with PASSWORD; returns the e-mail."""
    email = email or f"{role}@shop.test"
    with mill.write_session() as session, session.begin():
        session.add(_user(role, email, active=active, method=method))
    return email


def _user(role: str, email: str, *, active: bool = True,
          method: str = TEST_PASSWORD_METHOD) -> User:
    return User(email=email, name=role.title(), role=role, password_hash=password_hash(method),
                active=active, created_at=utcnow())


def _rows(result: Any) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in result)


def snapshot(mill: Ordermill) -> dict[str, Any]:
    """Every table's row count plus the state of orders, lines, invoices, stock and tokens."""
    tables = Base.metadata.sorted_tables
    with mill.read_session() as session:
        counts = session.execute(select(*(  # one round trip, not one per table
            select(func.count()).select_from(table).scalar_subquery().label(table.name)
            for table in tables))).one()
        return {
            "counts": dict(zip((table.name for table in tables), counts, strict=True)),
            "orders": _rows(session.execute(select(
                Order.number, Order.status, Order.version, Order.buyer_name,
                Order.buyer_email, Order.total, Order.dispatched_at))),
            "lines": _rows(session.execute(select(
                OrderLine.id, OrderLine.status, OrderLine.units_released,
                OrderLine.refunded_amount))),
            "invoices": _rows(session.execute(select(Invoice.id, Invoice.status,
                                                     Invoice.amount))),
            "payments": session.scalar(select(func.count()).select_from(Payment)),
            "stock": _rows(session.execute(select(Product.sku, Product.stock))),
            "tokens": _rows(session.execute(select(ApiToken.id, ApiToken.revoked_at))),
        }


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TESTING": True, "ORDERMILL_LOGIN_RATE_LIMIT": "1000 per minute",
            "ORDERMILL_TOKEN_RATE_LIMIT": "1000 per minute",
            "ORDERMILL_CHECKOUT_RATE_LIMIT": "1000 per minute"}


@pytest.fixture
def app_blueprints() -> list[Any]:
    """Blueprints to register on `app` if the factory did not (e.g. a plugin's routes)."""
    return []


@pytest.fixture
def app(mill: Ordermill, app_config: dict[str, Any], app_blueprints: list[Any]) -> Any:
    from ordermill.web import create_app

    made = create_app(mill, app_config)
    for blueprint in app_blueprints:
        if blueprint.name not in made.blueprints:
            made.register_blueprint(blueprint)
    return made


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def tokens(mill: Ordermill) -> dict[str, str]:
    """An API token per role: tokens["viewer"] and so on (users `<role>@shop.test`)."""
    from ordermill.core.staff import issue_token

    with mill.write_session() as session, session.begin():  # one transaction for all eight rows
        users = {role: _user(role, f"{role}@shop.test") for role in ROLES}
        session.add_all(users.values())
        session.flush()
        return {role: issue_token(session, user, f"{role} test token")
                for role, user in users.items()}


@pytest.fixture
def unchanged(mill: Ordermill) -> Callable[[], Callable[[], None]]:
    """check = unchanged(); ...refused request...; check() asserts nothing was stored."""

    def take() -> Callable[[], None]:
        first = snapshot(mill)

        def check() -> None:
            assert snapshot(mill) == first

        return check

    return take
