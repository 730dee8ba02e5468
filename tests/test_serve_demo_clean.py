"""Issue 14, acceptance 1 (first part): the README's first command starts clean.

`ordermill serve --demo` runs as a real process in a fresh folder. Its outbox worker runs
every job the demo queued (the hosting and domain creates post to the demo panel the same
process mounts); the test waits until no job is waiting, running, failed or dead, then
checks that nothing was printed at WARNING or ERROR. Then it accepts a pending demo hosting
order through the API, as a newcomer would in the admin, and finds the account the demo panel
created both on the panel and in the order's history.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ordermill.core.app import Ordermill
from ordermill.core.models import Order, OutboxJob, Payment, utcnow
from ordermill.core.settings import Settings
from ordermill.demo.catalogue import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, PRODUCTS
from ordermill.testing_serve import Server, serving

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="uses SIGTERM"),
              pytest.mark.slow, pytest.mark.xdist_group("serve")]

HOSTING = {p.sku for p in PRODUCTS if p.provisioning_module and p.kind == "service"}
LOUD = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback")
SETTLE_SECONDS = 60.0


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Server, Ordermill]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERMILL_")}
    env["ORDERMILL_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["PYTHONUNBUFFERED"] = "1"
    # The README's command as it stands (8 threads): the demo's gateways and panel answer in
    # the same process, so a refund holds two threads while the outbox worker may hold a
    # third; with 4, a slow CI machine once queued a request and waitress warned.
    with serving(env, "--demo", cwd=tmp_path) as server:
        server.wait_for("Press Ctrl+C to stop.")
        # A second app on the same SQLite file, to read the outbox and orders as they are.
        reader = Ordermill(Settings.from_env(env={
            "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance")}))
        try:
            yield server, reader
        finally:
            reader.dispose()


def _jobs(mill: Ordermill) -> list[OutboxJob]:
    with mill.read_session() as session:
        return list(session.scalars(select(OutboxJob)))


def _settled(mill: Ordermill, timeout: float = SETTLE_SECONDS) -> list[OutboxJob]:
    """Wait until every job is done or dead (or the time is up); return the jobs."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = _jobs(mill)
        if all(job.status in ("done", "dead") or _scheduled(job) for job in jobs) \
                or time.monotonic() > deadline:
            return jobs
        time.sleep(0.5)


def _scheduled(job: OutboxJob) -> bool:
    """A job queued for later that never ran (a schedule's next run, e.g. the
    subscriptions plugin's tick): settled, as long as it did not fail."""
    return (job.status == "pending" and job.attempts == 0 and not job.last_error
            and job.run_after > utcnow())


def _unsettled(jobs: list[OutboxJob]) -> list[str]:
    return [f"job {job.id} {job.kind}: {job.status}, attempt {job.attempts}, {job.last_error}"
            for job in jobs if not _scheduled(job)
            and (job.status != "done" or job.attempts > 1 or job.last_error)]


def _login(url: str) -> dict[str, str]:
    answer = requests.post(f"{url}/api/v1/auth/login", timeout=10, json={
        "email": DEMO_ADMIN_EMAIL, "password": DEMO_ADMIN_PASSWORD, "token_name": "e2e"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _pending_hosting_order(mill: Ordermill) -> str:
    with mill.read_session() as session:
        orders = session.scalars(select(Order).where(Order.status == "pending")
                                 .options(selectinload(Order.lines)).order_by(Order.id))
        for order in orders:
            if any(line.sku in HOSTING and line.status == "active" for line in order.lines):
                return order.number
    raise AssertionError("the demo has no pending hosting order to accept")


def _provisioned(url: str, headers: dict[str, str], number: str,
                 timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        order = requests.get(f"{url}/api/v1/orders/{number}", headers=headers, timeout=10)
        assert order.status_code == 200, order.text
        done = [event for event in order.json()["history"] if event["type"] == "provisioned"]
        if done or time.monotonic() > deadline:
            return done
        time.sleep(0.3)


def test_serve_demo_starts_clean_and_provisions(
        demo: tuple[Server, Ordermill]) -> None:
    server, reader = demo
    jobs = _settled(reader)
    assert jobs, "the demo queued no background job: nothing was checked"
    assert any(job.kind == "provisioning.command" for job in jobs)
    assert _unsettled(jobs) == []
    time.sleep(1.0)  # anything the last job printed is read by now
    loud = [line for line in server.output().splitlines() if LOUD.search(line)]
    assert loud == [], "\n".join(loud)

    panel = requests.get(f"{server.url}/demo/panel/accounts.json", timeout=10).json()
    created = {account["service_id"] for account in panel["accounts"]}
    assert created, "the demo's accepted hosting orders created no account on the panel"

    headers = _login(server.url)
    number = _pending_hosting_order(reader)
    accepted = requests.post(f"{server.url}/api/v1/orders/{number}/accept", headers=headers,
                             json={"options": {}}, timeout=30)
    assert accepted.status_code == 200, accepted.text
    events = _provisioned(server.url, headers, number)
    assert events, f"order {number} shows no created account in its history"

    accounts = requests.get(f"{server.url}/demo/panel/accounts.json", timeout=10).json()
    mine = {account["remote_id"]: account for account in accounts["accounts"]
            if account["order_number"] == number}
    assert mine, f"the demo panel created no account for order {number}"
    for event in events:
        assert event["data"]["remote_id"] in mine
        assert mine[event["data"]["remote_id"]]["status"] == "active"
    printed = server.wait_for("Demo control panel")
    assert printed.endswith(f"{server.url}/demo/panel/")
    page = requests.get(f"{server.url}/demo/panel/", timeout=10)
    assert page.status_code == 200 and number in page.text

    after = _settled(reader, timeout=30)
    assert _unsettled(after) == []
    loud = [line for line in server.output().splitlines() if LOUD.search(line)]
    assert loud == [], "\n".join(loud)


def _paid_order(mill: Ordermill, gateway: str) -> tuple[str, int]:
    """A demo order paid through `gateway` with nothing refunded yet: (number, charge id)."""
    with mill.read_session() as session:
        refunded = set(session.scalars(select(Payment.refund_of_id).where(
            Payment.refund_of_id.is_not(None))))
        charges = session.execute(select(Payment.id, Payment.amount, Order.number).join(
            Order, Payment.order_id == Order.id).where(
            Payment.gateway == gateway, Payment.kind == "charge").order_by(Payment.id)).all()
        for charge_id, amount, number in charges:
            if charge_id not in refunded and amount > 500:
                return str(number), charge_id
    raise AssertionError(f"the demo has no {gateway} order to refund")


@pytest.mark.parametrize("gateway", ["stripe", "paypal"])
def test_serve_demo_refunds_a_card_order_through_the_sdk(
        demo: tuple[Server, Ordermill], gateway: str) -> None:
    """The demo's Stripe and PayPal talk, through the SDKs, to the stand-ins the demo mounts."""
    server, reader = demo
    headers = _login(server.url)
    number, charge_id = _paid_order(reader, gateway)
    preview = requests.post(f"{server.url}/api/v1/orders/{number}/refund?dry_run=true",
                            headers=headers, json={"amount": "5.00"}, timeout=30)
    assert preview.status_code == 200, preview.text
    answer = requests.post(f"{server.url}/api/v1/orders/{number}/refund", headers=headers,
                           json={"amount": "5.00", "comment": "Demo refund"}, timeout=60)
    assert answer.status_code == 200, answer.text
    with reader.read_session() as session:
        refund = session.scalars(select(Payment).where(
            Payment.refund_of_id == charge_id)).one()
    assert refund.manual is False and refund.gateway == gateway
    assert refund.gateway_reference and refund.gateway_reference.startswith(
        "re_" if gateway == "stripe" else "RF")
    history = requests.get(f"{server.url}/api/v1/orders/{number}", headers=headers,
                           timeout=10).json()["history"]
    refunds = [event for event in history if "refund" in event["type"]
               and event["comment"] == "Demo refund"]
    assert len(refunds) == 1, history[-1]
    assert refunds[0]["data"]["manual"] is False and refunds[0]["data"]["amount"] == "5.00"
    loud = [line for line in server.output().splitlines() if LOUD.search(line)]
    assert loud == [], "\n".join(loud)
