"""End to end: `ordermill serve` as a real process on a free loopback port, a fresh SQLite
database, a user and token made with the CLI, and a whole order life driven over HTTP with
`requests`: place, accept, partial payment, payment, refund one line, list, export CSV."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ordermill.core.app import Ordermill
from ordermill.core.models import Product
from ordermill.core.settings import Settings

ORDERMILL = str(Path(sys.executable).parent / "ordermill")
if not Path(ORDERMILL).exists():  # pytest not run from the virtualenv's own python
    ORDERMILL = shutil.which("ordermill") or "ordermill"
STARTUP_SECONDS = 60


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([ORDERMILL, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, f"ordermill {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {key: value for key, value in os.environ.items()
              if not key.startswith("ORDERMILL_")}
    values.update({
        "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance"),
        "ORDERMILL_DATABASE_URL": f"sqlite:///{tmp_path / 'instance' / 'e2e.sqlite'}",
        "ORDERMILL_SECRET_KEY": "e2e-secret",
        "PYTHONUNBUFFERED": "1",
    })
    return values


@pytest.fixture
def token(env: dict[str, str]) -> str:
    """A fresh database with two products, a manager, and the manager's API token."""
    run_cli(env, "init")
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
    run_cli(env, "user", "create", "--email", "ops@shop.test", "--role", "manager",
            "--name", "Ops", "--password", "a-long-password")
    output = run_cli(env, "token", "create", "--email", "ops@shop.test", "--name", "e2e")
    found = re.search(r"\bom_[A-Za-z0-9_-]+", output)
    assert found, output
    return found.group(0)


@pytest.fixture
def server(env: dict[str, str], token: str) -> Iterator[str]:
    """`ordermill serve` on a free port; yields its base URL and stops it afterwards."""
    process = subprocess.Popen(
        [ORDERMILL, "serve", "--host", "127.0.0.1", "--port", "0", "--no-demo",
         "--no-worker", "--threads", "4"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    url = None
    seen: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(r"running at (http://127\.0\.0\.1:\d+)/", line)
        if match:
            url = match.group(1)
            break
    if url is None:
        process.kill()
        pytest.fail("ordermill serve did not start:\n" + "".join(seen))
    try:
        for _ in range(50):
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def check(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return response.json() if "json" in response.headers.get("Content-Type", "") else response


def test_full_order_life_over_http(server: str, token: str) -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    api = f"{server}/api/v1"

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
