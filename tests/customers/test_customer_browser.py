"""The customer pages and Add New Order's customer search box in headless Chromium, at a
desktop size and on a 390x844 phone, against a real `ordermill serve --demo`."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ordermill.core.app import Ordermill
from ordermill.core.models import Customer, Order
from ordermill.core.settings import Settings
from ordermill.testing_browser import launch_chromium
from ordermill.testing_serve import serving

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="uses SIGTERM"),
              pytest.mark.slow, pytest.mark.xdist_group("browser")]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture(scope="module")
def server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    instance = tmp_path_factory.mktemp("customer-browser") / "instance"
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERMILL_")}
    env.update({"ORDERMILL_INSTANCE_PATH": str(instance), "PYTHONUNBUFFERED": "1"})
    with serving(env, "--demo", "--host", "127.0.0.1", "--threads", "4",
                 cwd=instance.parent, startup_seconds=120.0) as demo:
        login = demo.wait_for("Log in as")
        email, password = login.removeprefix("Log in as ").split(" with password ")
        mill = Ordermill(Settings.from_env(env={"ORDERMILL_INSTANCE_PATH": str(instance)}))
        yield {"url": demo.url, "email": email, "password": password, "mill": mill}
        mill.dispose()


def _busiest_customer(mill: Ordermill) -> tuple[Customer, int]:
    with mill.read_session() as session:
        customer_id, count = session.execute(
            select(Order.customer_id, func.count(Order.id)).group_by(Order.customer_id)
            .order_by(func.count(Order.id).desc(), Order.customer_id).limit(1)).one()
        return session.get(Customer, customer_id), count


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_customer_page_and_the_customer_search_box(chromium: Any, server: dict[str, Any],
                                                   size: str) -> None:
    url, mill = server["url"], server["mill"]
    customer, orders = _busiest_customer(mill)
    viewport = VIEWPORTS[size]
    context = chromium.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(f"{url}/admin/")
        page.fill("input[name=email]", server["email"])
        page.fill("input[name=password]", server["password"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/admin/orders")
        page.goto(f"{url}/admin/customers")
        assert page.locator("[data-testid=customers-link]").get_attribute(
            "aria-current") == "page"
        assert page.locator("[data-testid=customer-row]").count() >= 1
        page.fill("[data-testid=customer-list-search]", customer.email)
        page.press("[data-testid=customer-list-search]", "Enter")
        page.wait_for_url("**q=*")
        rows = page.locator("[data-testid=customer-row]")
        assert rows.count() == 1
        assert rows.locator("[data-testid=orders-count]").inner_text() == str(orders)
        rows.locator("a").first.click()
        page.wait_for_url(f"{url}/admin/customers/{customer.id}")
        assert page.locator("[data-testid=customer-email]").inner_text() == customer.email
        assert page.locator("[data-testid=customer-orders] tbody tr").count() == orders
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"admin-customer-{size}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"] + 1, f"the page scrolls sideways ({width}px)"

        # "New order for this customer": Add New Order with the customer chosen
        page.click("[data-testid=new-order-for-customer]")
        page.wait_for_url(f"**/admin/orders/new?customer={customer.id}")
        chosen = page.locator("[data-testid=customer-chosen]")
        assert chosen.is_visible() and customer.email in chosen.inner_text()
        assert page.locator("[data-testid=customer-id]").input_value() == str(customer.id)
        assert page.locator("select[name=customer_id]").count() == 0  # no list of everyone
        # change it through the search box
        page.click("[data-customer-clear]")
        assert page.locator("[data-testid=customer-id]").input_value() == ""
        search = page.locator("[data-testid=customer-search]")
        assert search.is_visible()
        search.fill(customer.name[:4])
        match = page.locator("[data-testid=customer-match]", has_text=customer.email)
        match.first.click()
        assert page.locator("[data-testid=customer-id]").input_value() == str(customer.id)
        assert customer.email in page.locator("[data-testid=customer-chosen]").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"admin-new-order-customer-{size}.png"))
        assert problems == []
    finally:
        context.close()
