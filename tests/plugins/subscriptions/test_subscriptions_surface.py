"""The subscriptions plugin's API, admin tab and commands, on the extension surface."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from ordermill.core.app import Ordermill
from ordermill.core.specs import Actor
from ordermill.testing import order_request
from ordermill.testing_web import PASSWORD, add_user

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def login(client: Any, mill: Ordermill, role: str) -> Any:
    """A new staff user of `role`, logged into the admin on this client."""
    email = add_user(mill, role, f"{role}-{uuid.uuid4().hex[:6]}@shop.test")
    match = CSRF.search(client.get("/admin/login").get_data(as_text=True))
    assert match is not None
    answer = client.post("/admin/login", data={"email": email, "password": PASSWORD,
                                               "csrf_token": match.group(1)})
    assert answer.status_code == 302
    return client


@pytest.fixture
def recurring(mill: Ordermill, staff: Actor, make_product: Callable[..., Any]) -> str:
    """A monthly hosting order paid by bank transfer: its subscription starts, no card."""
    make_product("HOSTING", price=1500, stock=None, kind="service", billing_cycle="monthly")
    placed = mill.orders.place(order_request([("HOSTING", 1)], payment_method="banktransfer"),
                               actor=staff)
    assert placed.order is not None
    mill.orders.mark_paid(placed.order.number, actor=staff)
    return placed.order.number


def test_api_lists_shows_and_acts(api_client: Any, recurring: str) -> None:
    listed = api_client.get("/api/v1/subscriptions?status=active", role="viewer")
    assert listed.status_code == 200, listed.get_json()
    [row] = listed.get_json()["subscriptions"]
    assert (row["order_number"], row["status"], row["amount"], row["interval"],
            row["count"], row["payments_made"], row["remaining"], row["has_saved_method"]) == (
        recurring, "active", "15.00", "1 month", None, 1, None, False)
    assert api_client.get("/api/v1/subscriptions?status=nope", role="viewer").status_code == 422
    shown = api_client.get(f"/api/v1/subscriptions/{row['id']}", role="viewer").get_json()
    assert len(shown["schedule"]) == 12 and shown["schedule"][0] == row["next_due_at"]
    assert [p["amount"] for p in shown["payments"]] == ["15.00"]
    refused = api_client.post(f"/api/v1/subscriptions/{row['id']}/suspend", json={},
                              role="support")
    assert refused.status_code == 403  # support lacks manage_recurring
    done = api_client.post(f"/api/v1/subscriptions/{row['id']}/suspend",
                           json={"comment": "Customer asked"}, role="manager")
    assert done.status_code == 200 and done.get_json()["status"] == "suspended"
    again = api_client.post(f"/api/v1/subscriptions/{row['id']}/suspend", json={},
                            role="manager")
    assert again.status_code == 409
    assert again.get_json()["error"]["details"]["status"] == "suspended"
    assert api_client.post(f"/api/v1/subscriptions/{row['id']}/explode", json={},
                           role="manager").status_code in (404, 405)
    assert api_client.get("/api/v1/subscriptions/999999", role="viewer").status_code == 404
    duplicate = api_client.post("/api/v1/subscriptions", json={"order_number": recurring},
                                role="manager")
    assert duplicate.status_code == 409


def test_api_starts_a_counted_subscription(api_client: Any, mill: Ordermill, staff: Actor,
                                           make_product: Callable[..., Any]) -> None:
    """Staff start three monthly payments on a paid order: the order's own invoice was the
    first, two renewal invoices follow."""
    make_product("COURSE", price=3000, stock=None, kind="service")
    placed = mill.orders.place(order_request([("COURSE", 1)], payment_method="banktransfer"),
                               actor=staff)
    assert placed.order is not None
    number = placed.order.number
    mill.orders.mark_paid(number, actor=staff)
    bad = api_client.post("/api/v1/subscriptions", json={"order_number": number,
                          "interval": "fortnightly"}, role="manager")
    assert bad.status_code == 422 and "interval" in bad.get_json()["error"]["message"]
    assert api_client.post("/api/v1/subscriptions", json={
        "order_number": number, "interval": "1 month", "count": 3}, role="support"
    ).status_code == 403
    made = api_client.post("/api/v1/subscriptions", json={
        "order_number": number, "interval": "1 month", "count": 3}, role="manager")
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["count"], body["payments_made"], body["remaining"], body["amount"]) == (
        3, 1, 2, "30.00")
    assert len(body["schedule"]) == 2


def test_admin_tab_filters_shows_and_suspends(app: Any, mill: Ordermill,
                                              recurring: str) -> None:
    client = login(app.test_client(), mill, "manager")
    nav = client.get("/admin/orders").get_data(as_text=True)
    assert "Recurring orders" in nav
    page = client.get("/admin/subscriptions").get_data(as_text=True)
    assert recurring in page and "Remaining payments" in page and "Next payment date" in page
    assert recurring not in client.get("/admin/subscriptions?status=failed").get_data(
        as_text=True)
    sub_id = re.search(r'/admin/subscriptions/(\d+)"', page)
    assert sub_id is not None
    detail = client.get(f"/admin/subscriptions/{sub_id.group(1)}").get_data(as_text=True)
    assert ">Suspend<" in detail and ">Complete early<" in detail and ">Resume<" not in detail
    token = CSRF.search(detail)
    assert token is not None
    answer = client.post(f"/admin/subscriptions/{sub_id.group(1)}/suspend",
                         data={"csrf_token": token.group(1)})
    assert answer.status_code == 303
    detail = client.get(f"/admin/subscriptions/{sub_id.group(1)}").get_data(as_text=True)
    assert "Suspended" in detail and ">Resume<" in detail
    order_page = client.get(f"/admin/orders/{recurring}").get_data(as_text=True)
    assert "Open the subscription" in order_page
    viewer = login(app.test_client(), mill, "viewer")
    refused = viewer.post(f"/admin/subscriptions/{sub_id.group(1)}/resume",
                          data={"csrf_token": CSRF.search(viewer.get(
                              f"/admin/subscriptions/{sub_id.group(1)}").get_data(
                              as_text=True)).group(1)})  # type: ignore[union-attr]
    assert refused.status_code == 403


def test_cli_lists_shows_and_acts(cli: Any, recurring: str) -> None:
    listed = cli("subscriptions", "list")
    assert listed.exit_code == 0 and recurring in listed.output and "Active" in listed.output
    sub_id = listed.output.split()[0]
    assert cli("subscriptions", "show", sub_id).exit_code == 0
    assert "suspended" in cli("subscriptions", "suspend", sub_id).output
    assert "active" in cli("subscriptions", "resume", sub_id).output
    ran = cli("subscriptions", "run")
    assert ran.exit_code == 0 and "invoice(s) made" in ran.output
    assert cli("subscriptions", "list", "--status", "bogus").exit_code == 2
    again = cli("subscriptions", "start", recurring)
    assert again.exit_code == 1 and "already has a subscription" in again.output
