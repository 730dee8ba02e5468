"""The confirmation e-mail carries the taxed total, the fees and the tax (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest
from test_notify_email_messages import deliver_all, html_of, only, text_of

from ordermill.api import Adjustment, hookimpl
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.plugins.notify_email.testing import SmtpSink


@pytest.fixture
def ordermill_settings_overrides(notify_config: dict[str, Any]) -> dict[str, Any]:
    return {"plugins": {"notify_email": notify_config,
                        "tax_rates": {"home_country": "FR", "rates": {"FR": {"standard": "20"}}}},
            "shop_name": "Test Shop"}


class Shipping:
    @hookimpl
    def price_adjustments(self, order: Any, stage: str) -> list[Adjustment]:
        return [Adjustment("shipping", "Shipping", 500)] if stage == "fee" else []


def test_confirmation_shows_fees_tax_and_the_taxed_total(
        mill: Any, make_product: Any, staff: Any, smtp: SmtpSink,
        register_plugin: Any) -> None:
    register_plugin(Shipping(), "shipping")
    make_product("TSHIRT", price=1250, stock=5, name="Festival T-shirt")
    mill.orders.place(OrderRequest(
        customer=CustomerDetails(email="ann@example.com", name="Ann Example",
                                 billing_address={"country": "FR"}),
        lines=[LineRequest("TSHIRT", 2)], payment_method="banktransfer"), actor=staff)
    deliver_all(mill)
    message = only(smtp, "order_confirmation")
    text, html = text_of(message), html_of(message)
    # 25.00 + 5.00 VAT, shipping 5.00 + 1.00 VAT: 36.00
    assert "Festival T-shirt x 2: €30.00" in text
    assert "Shipping: €5.00" in text and "VAT 20 % on Shipping: €1.00" in text
    assert "Total: €36.00" in text and "Tax included: €6.00" in text
    assert "€36.00" in html and "Tax included" in html
