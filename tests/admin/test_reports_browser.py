"""The admin's Reports tab and Sale card in headless Chromium against `ordermill serve --demo`
(issue 17): a year of demo sales gives every report rows, totals and a chart; headers sort;
the CSV downloads; the sales manager report appears with the sales_managers plugin; a red
sale turns green through "Check / Confirm". Desktop and a 390x844 phone.

The browser and the demo server are test_admin_browser's fixtures (same skip/fail rules)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import exists, select
from test_admin_browser import (  # noqa: F401  (pytest fixtures)
    _log_in,
    _shot,
    chromium,
    server,
)

from ordermill.core.models import Order
from ordermill.plugins.sales_managers import SalesConfirmation

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", SIZES)
def test_reports_tab_and_sale_check(chromium: Any, server: dict[str, Any],  # noqa: F811
                                    size: str) -> None:
    url, mill = server["url"], server["mill"]
    context = chromium.new_context(viewport=SIZES[size], accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        _log_in(page, url, server["email"], server["password"])
        page.goto(f"{url}/admin/reports/")
        tabs = page.locator("[data-testid=report-tabs] a").evaluate_all(
            "links => links.map(link => link.dataset.report)")
        assert tabs == ["payments", "products", "categories", "managers"]
        for name in tabs:
            page.click(f"[data-testid=report-tabs] a[data-report={name}]")
            page.wait_for_load_state()
            table = page.locator(f"[data-testid=report-table][data-report={name}]")
            assert table.locator("tbody tr:not(.report-totals)").count() >= 2, name
            assert table.locator("tbody tr.report-totals").count() >= 1, name
            bars = page.locator("[data-testid=report-chart] svg rect")
            assert bars.count() >= 2, name
            box = page.locator("[data-testid=report-chart] svg").bounding_box()
            assert box is not None and box["width"] <= SIZES[size]["width"], name
        _shot(page, f"admin-reports-{size}.png", full_page=True)

        # sort the payment systems by net, highest first (two clicks on the header)
        page.click("[data-testid=report-tabs] a[data-report=payments]")
        for _ in range(2):
            page.click("[data-testid=report-table] th a[data-sort=net]")
            page.wait_for_load_state()
        assert "sort=-net" in page.url
        nets = page.locator("[data-testid=report-table] tbody tr:not(.report-totals) "
                            "td:last-child").all_inner_texts()
        values = [float(text) for text in nets]
        assert values == sorted(values, reverse=True)

        # the CSV is the table
        with page.expect_download() as download:
            page.click("[data-testid=report-csv]")
        rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
        assert rows[0][:2] == ["gateway", "currency"] and [row[-1] for row in rows[1:-1]] \
            == nets

        # a red sale turns green
        with mill.read_session() as session:
            number = session.scalar(select(Order.number).where(
                Order.sales_manager_id.is_not(None),
                ~exists().where(SalesConfirmation.order_id == Order.id)).limit(1))
        assert number is not None
        page.goto(f"{url}/admin/orders/{number}")
        card = page.locator("[data-testid=sale-panel]")
        assert "unconfirmed" in (card.locator("[data-testid=sale-manager]")
                                 .get_attribute("class") or "")
        card.locator("button", has_text="Check / Confirm").click()
        page.wait_for_load_state()
        _shot(page, f"admin-sale-confirmed-{size}.png")
        assert "manager confirmed" in (page.locator("[data-testid=sale-manager]")
                                       .get_attribute("class") or "")
        assert problems == []
    finally:
        context.close()
