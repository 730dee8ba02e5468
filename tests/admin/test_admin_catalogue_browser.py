"""The catalogue in a real browser (headless Chromium against `ordermill serve --demo`): a
shop owner creates a product, adjusts its stock in the dialog, creates a promo code
restricted to it, places an order with that code from Add New Order, and sees the order
and the product's stock ledger; the pages fit a 390 px phone. Skips without Chromium except
under CI=true (see test_admin_browser.py, whose fixtures this reuses)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_admin_browser import _log_in, chromium, server  # noqa: F401  (module fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]


def test_product_stock_promo_and_an_order_with_it(chromium: Any,  # noqa: F811
                                                  server: dict[str, Any]) -> None:  # noqa: F811
    url = server["url"]
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        _log_in(page, url, server["email"], server["password"])
        page.click("[data-testid=nav-products]")
        page.click("[data-testid=new-product]")
        page.fill("[data-testid=product-sku]", "BRW-TEE")
        page.fill("[data-testid=product-name]", "Browser tee")
        page.fill("[data-testid=product-category]", "Browser merch")
        page.fill("[data-testid=product-price]", "20.00")
        page.fill("[data-testid=product-stock]", "3")
        page.click("[data-testid=product-save]")
        page.wait_for_url(re.compile(r".*/admin/products/BRW-TEE$"))

        page.click("[data-testid=adjust-stock]")  # the dialog, not a new page
        dialog = page.locator("#dlg-stock")
        dialog.locator("[data-testid=stock-change]").fill("+7")
        dialog.locator("[data-testid=stock-reason]").select_option("received")
        dialog.locator("[data-testid=stock-submit]").click()
        page.wait_for_url(re.compile(r".*/admin/products/BRW-TEE$"))
        assert "now 10" in page.locator(".flashes").inner_text()

        page.click("[data-testid=nav-promo-codes]")
        page.click("[data-testid=new-promo]")
        page.fill("[data-testid=promo-code]", "TEE10")
        page.fill("[data-testid=promo-percent]", "10")
        page.select_option("[data-testid=promo-products]", "BRW-TEE")
        page.click("[data-testid=promo-save]")
        page.wait_for_url(re.compile(r".*/admin/promo-codes$"))
        assert "BRW-TEE" in page.locator("[data-testid=promo-row-TEE10]").inner_text()

        page.goto(f"{url}/admin/orders/new")
        page.fill("input[name=name]", "Bria Browser")
        page.fill("input[name=email]", "bria@example.com")
        page.locator("[data-testid=product-select]").first.select_option("BRW-TEE")
        page.locator("input[name=quantity]").first.fill("2")
        page.select_option("select[name=promo]", "TEE10")
        page.click("[data-testid=place-order]")
        page.wait_for_url(re.compile(r".*/admin/orders/[0-9]{10}$"))
        number = page.url.rsplit("/", 1)[-1]
        body = page.content()
        assert "TEE10" in body and "36.00" in body  # 2 x 20.00 less 10%

        page.goto(f"{url}/admin/products/BRW-TEE")
        ledger = page.locator("[data-testid=stock-ledger]").inner_text()
        assert number in ledger and "hold" in ledger and "received" in ledger
        assert "opening" in ledger
        stock = server["mill"].catalogue.products.ledger("BRW-TEE", actor=_system())
        assert stock["stock"] == stock["ledger_total"] == 8

        phone = chromium.new_page(viewport={"width": 390, "height": 844})
        phone.context.add_cookies(page.context.cookies())
        for path in ("/admin/products", "/admin/products/BRW-TEE", "/admin/promo-codes"):
            phone.goto(f"{url}{path}")
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{path} scrolls sideways at 390 px by {overflow}px"
        phone.close()
    finally:
        page.close()


def _system() -> Any:
    from ordermill.core.specs import Actor

    return Actor.system("test")
