"""Issue 10 item 12: CSV exports defuse spreadsheet formulas after leading whitespace too.

Spreadsheets skip leading blanks before looking for a formula, so " =1+1" is as live as
"=1+1". OWASP's rule: a cell starting with = + - @ tab or CR, also after leading whitespace,
gets a leading apostrophe. Checked through every CSV endpoint (API and admin, orders and
payments) on SQLite and PostgreSQL. The values are written straight into the rows, as an
older version, an import or a plugin might have stored them: the export must not trust them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update

from ordermill.core.app import Ordermill
from ordermill.core.models import Order, Payment

DANGEROUS = [
    " =1+1",
    "   =HYPERLINK(\"http://evil.example\",\"x\")",
    " +cmd|' /C calc'!A0",
    "  -2+3",
    " @SUM(A1:A9)",
    "\u00a0=1+1",  # no-break space
    "\n=1+1",
    " \t=1+1",
    "=1+1",
    "\t=1+1",
    "\r=1+1",
]
HARMLESS = ["Bea Buyer", " Bea", "a=b", "O'Brien", "x -1"]


@pytest.fixture
def stored(mill: Ordermill, make_product: Callable[..., Any],
           order_factory: Callable[..., Any]) -> dict[str, str]:
    """One paid order per value, its buyer name and payment reference set to the value."""
    make_product("MUG", price=800, stock=None)
    by_number: dict[str, str] = {}
    for value in DANGEROUS + HARMLESS:
        order = order_factory([("MUG", 1)], paid=True)
        with mill.write_session() as session, session.begin():
            session.execute(update(Order).where(Order.id == order.id)
                            .values(buyer_name=value))
            session.execute(update(Payment).where(Payment.order_id == order.id)
                            .values(gateway_reference=value))
        by_number[order.number] = value
    return by_number


def rows_of(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def expect(value: str) -> str:
    return value if value in HARMLESS else "'" + value


def check_orders(rows: list[dict[str, str]], stored: dict[str, str]) -> None:
    got = {row["number"]: row["buyer_name"] for row in rows}
    assert got == {number: expect(value) for number, value in stored.items()}


def check_payments(rows: list[dict[str, str]], stored: dict[str, str]) -> None:
    got = {row["order_number"]: row["gateway_reference"] for row in rows}
    assert got == {number: expect(value) for number, value in stored.items()}


def test_api_order_export_defuses_formulas_after_whitespace(
        client: Any, tokens: dict[str, str], stored: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    check_orders(rows_of(client.get("/api/v1/orders/export.csv", headers=headers)), stored)


def test_api_payment_export_defuses_formulas_after_whitespace(
        client: Any, tokens: dict[str, str], stored: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    check_payments(rows_of(client.get("/api/v1/payments/export.csv", headers=headers)),
                   stored)


def page_token(client: Any, path: str) -> str:
    """The CSRF token of an admin page's forms."""
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get(path).get_data(as_text=True))
    assert found is not None
    return found.group(1)


def test_admin_exports_defuse_formulas_after_whitespace(
        app: Any, stored: dict[str, str], add_staff_user: Callable[..., str],
        staff_password: str) -> None:
    client = app.test_client()
    logged_in = client.post("/admin/login", data={
        "email": add_staff_user("admin"), "password": staff_password,
        "csrf_token": page_token(client, "/admin/login")})
    assert logged_in.status_code == 302
    check_orders(rows_of(client.get("/admin/orders/export.csv")), stored)
    check_payments(rows_of(client.get("/admin/payments/export.csv")), stored)
    ticked = client.post("/admin/orders/bulk", data={
        "numbers": list(stored), "action": "export",
        "csrf_token": page_token(client, "/admin/orders")})
    check_orders(rows_of(ticked), stored)
