"""Fixtures for the admin tests: logged-in staff per role and a small catalogue. The app
around the test `mill` and `unchanged` (prove a refused request stored nothing) come from
ordermill.testing.

Everything runs against the real database of the `mill` fixture (SQLite and PostgreSQL);
nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from adminkit import Admin, add_user

from ordermill.core.app import Ordermill
from ordermill.core.models import Product


@pytest.fixture
def staff_login(app: Any, mill: Ordermill) -> Callable[[str], Admin]:
    """staff_login("viewer") -> an Admin client logged in as a new user of that role."""

    def login(role: str) -> Admin:
        email = add_user(mill, role)
        admin = Admin(app.test_client())
        response = admin.login(email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return admin

    return login


@pytest.fixture
def admin(staff_login: Callable[[str], Admin]) -> Admin:
    return staff_login("admin")


@pytest.fixture
def shop(make_product: Callable[..., Product], make_promo: Callable[..., Any]) -> None:
    """A small catalogue: three products in two categories and a promo code."""
    make_product("TSHIRT", price=2000, stock=10, category="Merch", name="T-shirt")
    make_product("MUG", price=1250, stock=5, category="Merch", name="Mug")
    make_product("TICKET", price=4500, stock=100, category="Tickets", kind="ticket",
                 name="Concert ticket")
    make_promo("SAVE10", kind="percent", value=1000)
