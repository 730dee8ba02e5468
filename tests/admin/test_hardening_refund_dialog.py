"""Issue 10 item 19 in the admin: a gateway refund that fails offers a manual refund.

PayPal is configured but unreachable, Stripe installed but not configured. The refund dialog
shows one sentence naming the gateway (never the plugin's exception text) and a "Record as
a manual refund" button, which records the refund without calling the gateway; the preview
says when a gateway is not configured. A support user may not use the button (no refund
permission).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from adminkit import Admin

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.specs import Actor


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"plugins": {
        "payment_stripe": {"max_network_retries": 0},
        "payment_paypal": {"client_id": "client", "client_secret": "secret",
                           "api_base": "http://127.0.0.1:9", "timeout": 5},
    }}


@pytest.fixture
def paid(mill: Ordermill, shop: None, order_factory: Callable[..., Order],
         staff: Actor) -> Callable[[str], Order]:
    def make(gateway: str) -> Order:
        order = order_factory([("TSHIRT", 1), ("MUG", 1)], payment_method=gateway)
        mill.orders.record_payment(order.number, actor=staff, amount=3250, gateway=gateway,
                                   reference=f"{gateway}-charge-1", fee=99, manual=False)
        return mill.orders.get(order.number)

    return make


def alert(html: str) -> str:
    found = re.search(r'data-form-error role="alert">(.*?)</div>', html, re.S)
    assert found, html
    return found.group(1).strip()


def test_failed_gateway_refund_offers_a_manual_refund(
        admin: Admin, staff_login: Callable[[str], Admin], mill: Ordermill,
        paid: Callable[[str], Order], unchanged: Callable[[], Callable[[], None]]) -> None:
    order = paid("paypal")
    mug = order.lines[1].id
    form = {"version": order.version, "line_ids": [mug], "restock": "on",
            "notify_customer": "on", "comment": "Broken."}
    support = staff_login("support")
    check = unchanged()
    failed = admin.post(f"/admin/orders/{order.number}/refund", form)
    html = failed.get_data(as_text=True)
    assert failed.status_code == 502
    assert alert(html) == ("PayPal could not make the refund (it could not be reached or "
                           "refused it), so nothing was changed.")
    for raw in ("Traceback", "ConnectionError", "Max retries", "127.0.0.1:9", "Plugin"):
        assert raw not in html
    assert 'data-testid="refund-manual"' in html and "Record as a manual refund" in html
    assert f'value="{mug}"' in html  # the dialog keeps what was ticked
    check()

    support.get(f"/admin/orders/{order.number}")
    assert support.post(f"/admin/orders/{order.number}/refund",
                        {**form, "manual_refund": "1"}).status_code == 403
    check()

    done = admin.post(f"/admin/orders/{order.number}/refund", {**form, "manual_refund": "1"})
    assert done.status_code == 303, done.get_data(as_text=True)
    stored = mill.orders.get(order.number)
    [refund] = [p for p in stored.payments if p.kind == "refund"]
    assert (refund.manual, refund.amount, refund.gateway) == (True, 1250, "paypal")
    event = mill.orders.history(order.number)[-1]
    assert event.type == "refunded" and event.data["manual_chosen"] is True
    assert event.actor == "user:admin@shop.test" and event.comment == "Broken."
    assert "Recorded as a manual refund" in event.message


def test_preview_says_when_the_gateway_is_not_configured(
        admin: Admin, mill: Ordermill, paid: Callable[[str], Order],
        unchanged: Callable[[], Callable[[], None]]) -> None:
    order = paid("stripe")
    check = unchanged()
    preview = admin.post(f"/admin/orders/{order.number}/cancel-and-refund/preview",
                         {"version": order.version, "restock": "on"})
    assert preview.status_code == 200
    shown = preview.get_json()
    assert shown["refunds"] == [{"gateway": shown["refunds"][0]["gateway"],
                                 "amount": "€32.50", "automatic": False,
                                 "not_configured": True}]
    assert "is not configured" in shown["message"]
    page = admin.post(f"/admin/orders/{order.number}/cancel-and-refund",
                      {"version": order.version, "restock": "on", "preview": "1",
                       "_from": "page"}).get_data(as_text=True)
    assert "(not configured: record it as a manual refund)" in page
    check()
    refused = admin.post(f"/admin/orders/{order.number}/cancel-and-refund",
                         {"version": order.version, "restock": "on"})
    assert refused.status_code == 502
    assert alert(refused.get_data(as_text=True)).startswith("Card (Stripe) is not configured")
    check()
    done = admin.post(f"/admin/orders/{order.number}/cancel-and-refund",
                      {"version": order.version, "restock": "on", "manual_refund": "1"})
    assert done.status_code == 303
    assert mill.orders.get(order.number).status == "refunded"
