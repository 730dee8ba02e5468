"""The admin in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
Playwright against `ordermill serve --demo`, started as a real process on a free loopback
port with a fresh instance folder (so a fresh SQLite database with the demo shop).

The walk-through is what a shop owner does on a Monday: log in, search, filter, open an
order, refund one of three lines through the dialog (the total shown must be the amount
refunded, read back from the order and the database), accept a pending order, change two
orders at once, export CSV, log out. A viewer sees no action buttons and a forged POST from
them changes nothing. Screenshots of the list and order pages go to artifacts/.

Without Chromium or the playwright package the tests skip, except under CI=true, where
they fail: CI must prove the admin in a browser. Playwright never downloads a browser here.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ordermill.core.app import Ordermill
from ordermill.core.models import Order, Payment
from ordermill.core.queries import CSV_COLUMNS
from ordermill.core.settings import Settings
from ordermill.core.staff import create_user
from ordermill.core.statuses import payment_status
from ordermill.testing_browser import launch_chromium
from ordermill.testing_serve import serving

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="uses SIGTERM"),
              pytest.mark.slow, pytest.mark.xdist_group("browser")]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
START_TIMEOUT = 120.0
VIEWPORT = {"width": 1440, "height": 900}
VIEWER_EMAIL = "viewer@ordermill.test"
VIEWER_PASSWORD = "look-but-do-not-touch"



@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


# ---------------------------------------------------------------------------- the server


@pytest.fixture(scope="module")
def server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`ordermill serve --demo` as a child process on a fresh instance folder."""
    yield from demo_server(tmp_path_factory.mktemp("admin-browser") / "instance")


def demo_server(instance: Path, **extra_env: str) -> Iterator[dict[str, Any]]:
    """Serve the demo shop from `instance` (with `extra_env`), plus a viewer account; yields
    its url, the demo admin's login and a mill on the same database."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ORDERMILL_")}
    env.update({"ORDERMILL_INSTANCE_PATH": str(instance), "PYTHONUNBUFFERED": "1",
                **extra_env})
    with serving(env, "--demo", "--host", "127.0.0.1", "--threads", "4",
                 cwd=instance.parent, startup_seconds=START_TIMEOUT) as demo:
        login = demo.wait_for("Log in as")
        email, password = login.removeprefix("Log in as ").split(" with password ")
        mill = Ordermill(Settings.from_env(env={"ORDERMILL_INSTANCE_PATH": str(instance)}))
        create_user(mill, email=VIEWER_EMAIL, name="Vera Viewer", role="viewer",
                    password=VIEWER_PASSWORD)
        yield {"url": demo.url, "email": email, "password": password, "mill": mill}
        mill.dispose()


# ---------------------------------------------------------------------------- helpers


def _orders(mill: Ordermill) -> list[Order]:
    with mill.read_session() as session:
        return list(session.scalars(select(Order).options(
            selectinload(Order.lines), selectinload(Order.payments)).order_by(Order.id)))


def _amount(text: str) -> Decimal:
    """'€24.90' -> Decimal('24.90')."""
    return Decimal(re.sub(r"[^0-9.]", "", text))


def _refunded(mill: Ordermill, number: str) -> Decimal:
    with mill.read_session() as session:
        minor = session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0))
            .join(Order, Order.id == Payment.order_id)
            .where(Order.number == number, Payment.kind == "refund"))
    return Decimal(minor or 0) / 100


def _order(mill: Ordermill, number: str) -> Order:
    return mill.orders.get(number)


def _log_in(page: Any, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/admin/")
    assert "/admin/login" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin/orders")


def _shot(page: Any, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def _row_numbers(page: Any) -> list[str]:
    return page.locator("[data-testid=orders-table] tbody tr[data-number]").evaluate_all(
        "rows => rows.map(row => row.dataset.number)")


# ---------------------------------------------------------------------------- the tests


def test_a_day_at_the_order_desk(chromium: Any, server: dict[str, Any]) -> None:
    url, mill = server["url"], server["mill"]
    orders = _orders(mill)
    target = next(o for o in orders if len(o.lines) == 3 and payment_status(o) == "paid"
                  and all(line.status == "active" for line in o.lines)
                  and o.status in ("active", "completed"))
    plain_pending = [o for o in orders if o.status == "pending"
                     and not any(line.provisioning_status for line in o.lines)]
    to_accept, *bulk_pair = plain_pending[:3]
    assert len(bulk_pair) == 2

    context = chromium.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        # log in
        _log_in(page, url, server["email"], server["password"])
        assert page.locator("[data-testid=orders-table] tbody tr[data-number]").count() >= 20
        _shot(page, "admin-orders-list.png")

        # search by the buyer's name, then filter by status
        page.fill("[data-testid=search]", target.buyer_name)
        page.click("[data-testid=apply-filters]")
        page.wait_for_load_state()
        found = _row_numbers(page)
        assert target.number in found
        assert all(target.buyer_name in page.locator(f"tr[data-number='{n}']").inner_text()
                   for n in found)
        page.select_option("[data-testid=filter-status]", target.status)
        page.click("[data-testid=apply-filters]")
        page.wait_for_load_state()
        assert f"status={target.status}" in page.url
        assert target.number in _row_numbers(page)
        assert all(mill.orders.get(n).status == target.status for n in _row_numbers(page))
        _shot(page, "admin-orders-filtered.png")

        # open the order, refund one of its three lines through the dialog
        page.click(f"tr[data-number='{target.number}'] [data-testid=order-link]")
        page.wait_for_url(f"{url}/admin/orders/{target.number}")
        _shot(page, "admin-order-page.png", full_page=True)
        page.click("[data-testid=action-refund]")
        dialog = page.locator("#dlg-refund")
        dialog.wait_for(state="visible")
        boxes = dialog.locator("[data-testid=refund-line]")
        assert boxes.count() == 3
        boxes.nth(1).check()
        dialog.locator("[data-preview][data-state=ready]").wait_for()
        shown = dialog.locator("[data-testid=refund-total]").inner_text()
        _shot(page, "admin-refund-dialog.png")
        assert _amount(shown) == Decimal(target.lines[1].total) / 100
        dialog.locator("[data-testid=refund-confirm]").click()
        page.wait_for_url(f"{url}/admin/orders/{target.number}")
        assert page.locator(".flash-success").first.inner_text().startswith("Refunded")
        assert _amount(page.locator("[data-testid=order-refunded]").inner_text()) == \
            _amount(shown)
        assert _refunded(mill, target.number) == _amount(shown)
        assert page.locator("[data-testid=order-summary]").inner_text() == "2/3 Complete"
        assert [line.status for line in _order(mill, target.number).lines] == \
            ["active", "refunded", "active"]

        # accept a pending order from the pending tab
        page.goto(f"{url}/admin/orders?tab=pending")
        assert to_accept.number in _row_numbers(page)
        page.click(f"tr[data-number='{to_accept.number}'] [data-testid=order-link]")
        page.click("[data-testid=action-accept]")
        page.locator("#dlg-accept [data-testid=accept-confirm]").click()
        page.wait_for_url(f"{url}/admin/orders/{to_accept.number}")
        assert page.locator("[data-testid=order-status]").inner_text() == "Active"
        assert _order(mill, to_accept.number).status == "active"

        # tick two orders and change their status at once
        page.goto(f"{url}/admin/orders?tab=pending")
        for order in bulk_pair:
            page.check(f"input[name=numbers][value='{order.number}']")
        assert page.locator("[data-selected-count]").inner_text() == "2"
        page.select_option("[data-testid=bulk-status]", "completed")
        page.click("[data-testid=bulk-apply-status]")
        page.wait_for_load_state()
        assert "2 orders set to Completed." in page.locator(".flashes").inner_text()
        assert [_order(mill, o.number).status for o in bulk_pair] == ["completed"] * 2

        # export the completed orders as CSV and read the file
        page.goto(f"{url}/admin/orders?status=completed")
        with page.expect_download() as download_info:
            page.click("[data-testid=export-all]")
        download = download_info.value
        assert download.suggested_filename.startswith("orders-")
        exported = Path(download.path()).read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(exported)))
        assert tuple(rows[0]) == CSV_COLUMNS
        numbers = {row["number"] for row in rows}
        assert {o.number for o in bulk_pair} <= numbers
        assert {row["status"] for row in rows} == {"completed"}
        with mill.read_session() as session:
            assert len(rows) == session.scalar(
                select(func.count()).select_from(Order).where(Order.status == "completed"))

        # log out
        page.click("[data-testid=logout]")
        page.wait_for_url(f"{url}/admin/login")
        page.goto(f"{url}/admin/orders")
        assert "/admin/login" in page.url
        assert problems == []
    finally:
        context.close()


def test_a_viewer_sees_no_buttons_and_a_forged_post_changes_nothing(
        chromium: Any, server: dict[str, Any]) -> None:
    url, mill = server["url"], server["mill"]
    pending = next(o for o in _orders(mill) if o.status == "pending")
    before = _order(mill, pending.number)
    history = [event.id for event in mill.orders.history(pending.number)]
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _log_in(page, url, VIEWER_EMAIL, VIEWER_PASSWORD)
        assert page.locator("[data-bulkbar]").count() == 0
        assert page.locator("input[name=numbers]").count() == 0
        page.goto(f"{url}/admin/orders/{pending.number}")
        assert page.locator("[data-testid=order-number]").inner_text() == pending.number
        assert page.locator("[data-testid^=action-]").count() == 0
        assert page.locator("dialog").count() == 0
        _shot(page, "admin-order-page-viewer.png")
        token = page.locator("meta[name=csrf-token]").get_attribute("content")
        forged = page.request.post(f"{url}/admin/orders/{pending.number}/accept",
                                   form={"csrf_token": token or "",
                                         "version": str(before.version)},
                                   max_redirects=0)
        assert forged.status == 403
        assert "Not allowed" in forged.text()
        no_token = page.request.post(f"{url}/admin/orders/{pending.number}/accept",
                                     form={"version": str(before.version)}, max_redirects=0)
        assert no_token.status == 400
        after = _order(mill, pending.number)
        assert (after.status, after.version) == (before.status, before.version)
        assert [event.id for event in mill.orders.history(pending.number)] == history
    finally:
        context.close()


def test_without_javascript_dialogs_are_pages_and_preview_is_a_button(
        chromium: Any, server: dict[str, Any]) -> None:
    url, mill = server["url"], server["mill"]
    order = next(o for o in _orders(mill) if o.status == "pending" and len(o.lines) >= 2
                 and all(line.status == "active" for line in o.lines)
                 and not any(line.provisioning_status for line in o.lines))
    context = chromium.new_context(viewport=VIEWPORT, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        _log_in(page, url, server["email"], server["password"])
        page.goto(f"{url}/admin/orders/{order.number}")
        page.click("[data-testid=action-cancel]")
        page.wait_for_url(f"{url}/admin/orders/{order.number}/cancel")
        page.check(f"input[name=line_ids][value='{order.lines[-1].id}']")
        page.click("button[name=preview]")
        page.wait_for_load_state()
        assert f"Will cancel {order.lines[-1].name}" in page.locator(
            "[data-preview-message]").inner_text()
        assert [line.status for line in _order(mill, order.number).lines] == \
            ["active"] * len(order.lines)  # a preview changes nothing
        _shot(page, "admin-cancel-page-no-js.png")
        page.click("[data-testid=cancel-confirm]")
        page.wait_for_url(f"{url}/admin/orders/{order.number}")
        assert [line.status for line in _order(mill, order.number).lines][-1] == "cancelled"
        assert page.locator(".flash-success").first.inner_text().startswith("Cancelled")
    finally:
        context.close()
