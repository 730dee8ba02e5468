"""Issue 14, acceptance 1 (the browser half): a newcomer's first hour on `serve --demo`.

A real `ordermill serve --demo` process on a fresh instance folder, driven by headless
Chromium: log in with the printed credentials, see no failing or dead job on the Needs
attention page, accept a pending hosting order from its page,
find the account on the demo control panel's page, refund a line of a card order paid
through the demo's Stripe (the stripe SDK talking to the stand-in the demo mounts: the
refund carries Stripe's `re_` id), and find both in the orders' history.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ordermill.core.app import Ordermill
from ordermill.core.models import Order, Payment
from ordermill.core.settings import Settings
from ordermill.demo.catalogue import PRODUCTS
from ordermill.testing_browser import launch_chromium
from ordermill.testing_serve import Server, serving

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="uses SIGTERM"),
              pytest.mark.slow, pytest.mark.xdist_group("browser")]

HOSTING = {p.sku for p in PRODUCTS if p.provisioning_module and p.kind == "service"}
LOUD = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture
def demo(chromium: Any, tmp_path: Path) -> Iterator[tuple[Server, Ordermill, str, str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERMILL_")}
    env["ORDERMILL_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["PYTHONUNBUFFERED"] = "1"
    with serving(env, "--demo", cwd=tmp_path) as server:
        login = server.wait_for("Log in as")
        email, password = login.removeprefix("Log in as ").split(" with password ")
        server.wait_for("Press Ctrl+C to stop.")
        reader = Ordermill(Settings.from_env(env={
            "ORDERMILL_INSTANCE_PATH": str(tmp_path / "instance")}))
        try:
            yield server, reader, email, password
        finally:
            reader.dispose()


def _orders(mill: Ordermill) -> list[Order]:
    with mill.read_session() as session:
        return list(session.scalars(select(Order).options(
            selectinload(Order.lines), selectinload(Order.payments)).order_by(Order.id)))


def _pending_hosting_order(mill: Ordermill) -> Order:
    for order in _orders(mill):
        if order.status == "pending" and any(
                line.sku in HOSTING and line.status == "active" for line in order.lines):
            return order
    raise AssertionError("the demo has no pending hosting order to accept")


def _stripe_order(mill: Ordermill) -> Order:
    """An open Stripe order, paid through the demo's Stripe, with nothing refunded yet."""
    orders = _orders(mill)
    for order in orders:
        charges = [p for p in order.payments if p.kind == "charge" and p.gateway == "stripe"
                   and p.status == "succeeded"]
        refunded = {p.refund_of_id for p in order.payments if p.kind == "refund"}
        if order.status in ("active", "completed") and charges and not refunded \
                and all(line.status == "active" for line in order.lines):
            return order
    raise AssertionError("the demo has no paid Stripe order")


def _events(page: Any) -> list[str]:
    return page.locator("[data-testid=history] .event").evaluate_all(
        "items => items.map(item => item.innerText)")


def _log_in(page: Any, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/admin/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/orders")


def test_a_newcomer_accepts_hosting_and_refunds_a_card_order(
        chromium: Any, demo: tuple[Server, Ordermill, str, str]) -> None:
    server, mill, email, password = demo
    url = server.url
    hosting = _pending_hosting_order(mill)
    card = _stripe_order(mill)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        _log_in(page, url, email, password)

        # a clean start: no background job failing or dead on the Needs attention page
        page.click("[data-testid=attention-link]")
        page.wait_for_url(f"{url}/admin/attention")
        assert "No job is failing." in page.locator(
            "[data-testid=attention-failing-jobs]").inner_text()
        assert "No dead jobs." in page.locator(
            "[data-testid=attention-dead-jobs]").inner_text()

        # accept the hosting order from its page
        page.goto(f"{url}/admin/orders/{hosting.number}")
        page.click("[data-testid=action-accept]")
        dialog = page.locator("#dlg-accept")
        dialog.wait_for(state="visible")
        dialog.locator("[data-testid=accept-confirm]").click()
        page.wait_for_url(f"{url}/admin/orders/{hosting.number}")
        assert page.locator("[data-testid=order-status]").inner_text() == "Active"
        deadline = time.monotonic() + 30
        while not any(text.startswith("Provisioned") for text in _events(page)):
            assert time.monotonic() < deadline, _events(page)
            time.sleep(0.5)
            page.reload()
        provisioned = next(text for text in _events(page) if text.startswith("Provisioned"))
        username = re.search(r"username (\S+?)\.", provisioned)
        assert username, provisioned
        services = page.locator("[data-testid=provisioning-services]").inner_text()
        assert "Active" in services and username.group(1) in services

        # the demo control panel shows the account it created
        page.goto(f"{url}/demo/panel/")
        panel = page.locator("body").inner_text()
        assert hosting.number in panel and username.group(1) in panel

        # refund one line of a card order through the dialog (Stripe's SDK, demo stand-in)
        page.goto(f"{url}/admin/orders/{card.number}")
        page.click("[data-testid=action-refund]")
        dialog = page.locator("#dlg-refund")
        dialog.wait_for(state="visible")
        dialog.locator("[data-testid=refund-line]").first.check()
        dialog.locator("[data-preview][data-state=ready]").wait_for()
        shown = dialog.locator("[data-testid=refund-total]").inner_text()
        dialog.locator("textarea[name=comment]").fill("Refunded in the first hour")
        dialog.locator("[data-testid=refund-confirm]").click()
        page.wait_for_url(f"{url}/admin/orders/{card.number}")
        assert page.locator(".flash-success").first.inner_text().startswith("Refunded"), \
            page.locator(".flashes").inner_text()
        expected = Decimal(card.lines[0].total) / 100
        assert Decimal(re.sub(r"[^0-9.]", "", shown)) == expected
        with mill.read_session() as session:
            refund = session.scalars(select(Payment).join(Order).where(
                Order.number == card.number, Payment.kind == "refund")).one()
        assert (refund.gateway, refund.manual, refund.amount) == (
            "stripe", False, card.lines[0].total)
        assert refund.gateway_reference and refund.gateway_reference.startswith("re_")
        payments = page.locator("[data-testid=payments-table]").inner_text()
        assert refund.gateway_reference in payments

        # both in the history
        refunds = [text for text in _events(page) if "Refunded in the first hour" in text]
        assert len(refunds) == 1 and refunds[0].startswith("Refund"), _events(page)
        page.goto(f"{url}/admin/orders/{hosting.number}")
        assert any(text.startswith("Accepted") for text in _events(page)), _events(page)
        assert any(text.startswith("Provisioned") for text in _events(page))
        assert problems == []
    finally:
        context.close()
    loud = [line for line in server.output().splitlines() if LOUD.search(line)]
    assert loud == [], "\n".join(loud)
