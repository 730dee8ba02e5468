"""End to end: `ordermill serve` as a real process on a free loopback port, a fresh SQLite
database, a user and token made with the CLI, and a whole order life driven over HTTP with
`requests`: place, accept, partial payment, payment, refund one line, list, export CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ordermill.core.app import Ordermill
from ordermill.core.models import Product
from ordermill.core.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serve")]


@pytest.fixture
def env(tmp_path: Path, cli_environment: Callable[[Path], dict[str, str]]) -> dict[str, str]:
    return cli_environment(tmp_path)


@pytest.fixture
def token(env: dict[str, str], ordermill_cli: Callable[..., str]) -> str:
    """A fresh database with two products, a manager, and the manager's API token."""
    ordermill_cli(env, "init")
    settings = Settings.from_env(env=env)
    mill = Ordermill(settings)
    with mill.write_session() as session, session.begin():
        session.add_all([
            Product(sku="TICKET-GA", name="General admission", category="tickets",
                    kind="ticket", price=4500, currency="EUR", stock=100),
            Product(sku="TSHIRT", name="Festival T-shirt", category="merch", kind="physical",
                    price=2000, currency="EUR", stock=10),
        ])
    mill.dispose()
    ordermill_cli(env, "user", "create", "--email", "ops@shop.test", "--role", "manager",
                  "--name", "Ops", "--password", "a-long-password")
    output = ordermill_cli(env, "token", "create", "--email", "ops@shop.test", "--name", "e2e")
    found = re.search(r"\bom_[A-Za-z0-9_-]+", output)
    assert found, output
    return found.group(0)


@pytest.fixture
def server(env: dict[str, str], token: str, ordermill_serving: Callable[..., Any]
           ) -> Iterator[Any]:
    """`ordermill serve` on a free loopback port (--port 0, read back from its output)."""
    with ordermill_serving(env, "--no-demo") as running:
        yield running


def check(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return response.json() if "json" in response.headers.get("Content-Type", "") else response


def test_full_order_life_over_http(server: Any, token: str) -> None:
    try:
        drive_an_order_life(f"{server.url}/api/v1", token)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- server output ---\n{server.output()}") from None


def drive_an_order_life(api: str, token: str) -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"

    spec = check(requests.get(f"{api}/openapi.json", timeout=10))
    assert "/api/v1/orders/{number}/refund" in spec["paths"]
    assert check(requests.get(f"{api}/orders", timeout=10), 401)["error"]["code"] == (
        "unauthenticated")

    # place (retried once with the same Idempotency-Key: still one order)
    body = {"customer": {"email": "lea@example.com", "name": "Léa Moreau"},
            "lines": [{"sku": "TICKET-GA", "quantity": 2, "attendee": "Léa"},
                      {"sku": "TSHIRT", "quantity": 1}],
            "payment_method": "banktransfer", "note": "Two tickets and a shirt"}
    headers = {"Idempotency-Key": "e2e-order-1"}
    placed = check(http.post(f"{api}/orders", json=body, headers=headers, timeout=10), 201)
    again = check(http.post(f"{api}/orders", json=body, headers=headers, timeout=10), 201)
    assert again == placed
    order = placed["order"]
    number = order["number"]
    assert order["total"] == "110.00" and order["status"] == "pending"
    assert order["payment_status"] == "unpaid"

    # accept
    accepted = check(http.post(f"{api}/orders/{number}/accept",
                               json={"expected_version": order["version"]}, timeout=10))
    assert accepted["order"]["status"] == "active"

    # partial payment, then the rest
    partial = check(http.post(f"{api}/orders/{number}/payments",
                              json={"amount": "50.00", "reference": "BANK-1"}, timeout=10))
    assert partial["order"]["payment_status"] == "partially_paid"
    assert partial["order"]["amount_due"] == "60.00"
    bad = check(http.post(f"{api}/orders/{number}/payments", json={"amount": 60.0},
                          timeout=10), 422)
    assert bad["error"]["code"] == "validation_error"
    paid = check(http.post(f"{api}/orders/{number}/payments",
                           json={"amount": "60.00", "reference": "BANK-2"}, timeout=10))
    assert paid["order"]["payment_status"] == "paid"

    # refund one line: preview first, then for real
    shirt = next(line for line in paid["order"]["lines"] if line["sku"] == "TSHIRT")
    refund_body = {"line_ids": [shirt["id"]], "comment": "Wrong size"}
    preview = check(http.post(f"{api}/orders/{number}/refund?dry_run=true", json=refund_body,
                              timeout=10))
    assert preview["dry_run"] is True and preview["preview"]["amount_refunded"] == "20.00"
    refunded = check(http.post(f"{api}/orders/{number}/refund", json=refund_body, timeout=10))
    assert refunded["preview"] == preview["preview"]
    assert refunded["order"]["payment_status"] == "partially_refunded"
    assert refunded["order"]["summary"] == "2/3 Complete"
    assert refunded["preview"]["stock_released"] == {"TSHIRT": 1}

    # list and search
    listed = check(http.get(f"{api}/orders", params={"q": "moreau"}, timeout=10))
    assert [row["number"] for row in listed["orders"]] == [number]
    assert listed["orders"][0]["payment_status"] == "partially_refunded"
    assert check(http.get(f"{api}/orders", params={"payment_status": "paid"},
                          timeout=10))["orders"] == []

    # export CSV
    exported = check(http.get(f"{api}/orders/export.csv", timeout=10))
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 1
    assert rows[0]["number"] == number and rows[0]["refunded"] == "20.00"
    assert rows[0]["buyer_name"] == "Léa Moreau"

    # the history names the token that did each step
    detail = check(http.get(f"{api}/orders/{number}", timeout=10))
    me = check(http.get(f"{api}/auth/me", timeout=10))
    assert [event["type"] for event in detail["history"]] == [
        "placed", "accepted", "payment", "payment", "refunded"]
    assert {event["actor"] for event in detail["history"]} == {
        f"token:{me['token_id']}:ops@shop.test"}
