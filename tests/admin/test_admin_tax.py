"""Tax in the admin: the order page shows line tax, fees, the tax total and the price
breakdown; the Add New Order preview shows every adjustment and takes a VAT number."""

from __future__ import annotations

from typing import Any

import pytest
from adminkit import Admin

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.shop_settings import read_setting
from ordermill.core.specs import Actor
from ordermill.testing import order_request


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"plugins": {"tax_rates": {"home_country": "FR",
                                      "rates": {"FR": {"standard": "20", "reduced": "5.5"}}}}}


def test_order_page_shows_tax(admin: Admin, mill: Ordermill, shop: None,
                              staff: Actor) -> None:
    order = mill.orders.place(order_request([("TSHIRT", 1)], promo_code="SAVE10"),
                              actor=staff).order
    assert order is not None and order.total == 2160  # 18.00 + 20 % VAT
    page = admin.get(f"/admin/orders/{order.number}").get_data(as_text=True)
    assert 'data-testid="line-tax">incl. tax €3.60' in page
    assert 'data-testid="order-tax">€3.60' in page
    assert 'data-testid="order-total-excl-tax">€18.00' in page
    assert 'data-testid="order-total">€21.60' in page
    assert "Price breakdown" in page and "VAT 20 %: €3.60" in page
    assert "Promo code SAVE10: \u2212€2.00" in page  # a minus sign


def test_add_new_order_preview_shows_every_adjustment(admin: Admin, mill: Ordermill,
                                                      shop: None) -> None:
    form = {"name": "Cora Client", "email": "cora@example.com", "country": "FR",
            "payment_method": "banktransfer", "promo": "SAVE10", "sku": ["TSHIRT"],
            "quantity": ["1"], "generate_invoice": "on", "sales_manager_id": ""}
    preview = admin.post("/admin/orders/new", {**form, "preview": "1"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert 'data-testid="preview-pricing"' in html
    assert html.count('data-testid="preview-adjustment"') == 2  # promo and VAT
    assert "VAT 20 %" in html and 'data-testid="preview-total">€21.60' in html
    with mill.read_session() as session:
        assert session.query(Order).count() == 0
    refused = admin.post("/admin/orders/new", {**form, "country": "DE",
                                               "vat_id": "DE000"})
    assert refused.status_code == 422
    assert "VAT number DE000 is not valid" in refused.get_data(as_text=True)
    placed = admin.post("/admin/orders/new", {**form, "country": "DE",
                                              "vat_id": "DE136695976"})
    assert placed.status_code == 303
    order = mill.orders.get(placed.location.rsplit("/", 1)[1])
    assert (order.vat_id, order.tax_total, order.total) == ("DE136695976", 0, 1800)


def test_tax_rates_settings_tab_stores_rates_that_apply(admin: Admin, mill: Ordermill,
                                                        shop: None, staff: Actor) -> None:
    page = admin.get("/admin/settings/plugins/tax_rates").get_data(as_text=True)
    assert "Tax rates" in page and 'name="rates"' in page
    refused = admin.post("/admin/settings/plugins/tax_rates",
                         {"rates": '{"FR": {"luxury": "33"}}'})
    assert refused.status_code == 422
    assert "unknown tax class luxury" in refused.get_data(as_text=True)
    saved = admin.post("/admin/settings/plugins/tax_rates", {
        "home_country": "fr", "prices_include_tax": "on", "reverse_charge": "on",
        "rates": '{"FR": {"standard": "10"}}'})
    assert saved.status_code == 303, saved.get_data(as_text=True)
    order = mill.orders.place(order_request([("TSHIRT", 1)]), actor=staff).order
    assert order is not None
    assert (order.lines[0].tax, order.total) == (182, 2000)  # 10 % inside 20.00, gross


def test_shop_settings_choose_the_rounding_rule(admin: Admin, mill: Ordermill) -> None:
    page = admin.get("/admin/settings/shop").get_data(as_text=True)
    assert 'data-testid="tax-rounding-scope"' in page
    saved = admin.post("/admin/settings/shop", {"fraud_threshold": "",
                                                "tax_rounding_scope": "document",
                                                "tax_rounding_mode": "half_even"})
    assert saved.status_code == 303, saved.get_data(as_text=True)
    assert read_setting(mill, "tax_rounding") == {"scope": "document", "mode": "half_even"}
    refused = admin.post("/admin/settings/shop", {"tax_rounding_scope": "whenever",
                                                  "tax_rounding_mode": "half_up"})
    assert refused.status_code == 422
    assert read_setting(mill, "tax_rounding")["scope"] == "document"
