"""Issue 10 item 19 through the API: gateway refunds that fail say so in one sentence.

Stripe is installed but not configured (no secret key): the dry run says so instead of
promising an automatic refund, and the refund is refused with one sentence naming the
gateway. PayPal is configured but unreachable: the refund is refused with one sentence, the
raw exception text goes to the log only. Either way nothing changes, and `manual: true`
records the refund without calling the gateway, with its event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.specs import Actor

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection fails


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"plugins": {
        "payment_stripe": {"max_network_retries": 0},  # installed, no secret key
        "payment_paypal": {"client_id": "client", "client_secret": "secret",
                           "api_base": UNREACHABLE, "timeout": 5},
    }}


@pytest.fixture
def paid(mill: Ordermill, make_product: Callable[..., Any],
         order_factory: Callable[..., Order], staff: Actor) -> Callable[[str], Order]:
    make_product("TSHIRT", price=2000, stock=10)

    def make(gateway: str) -> Order:
        order = order_factory([("TSHIRT", 2)], payment_method=gateway)
        mill.orders.record_payment(order.number, actor=staff, amount=4000, gateway=gateway,
                                   reference=f"{gateway}-charge-1", fee=150, manual=False)
        return mill.orders.get(order.number)

    return make


def one_sentence(message: str) -> None:
    assert message.endswith(".") and message.count(". ") == 0, message
    for raw in ("Error", "Exception", "Traceback", "Max retries", "Connection", "127.0.0.1",
                "plugin", "Plugin"):
        assert raw not in message, message


def test_a_gateway_that_is_not_configured_is_named_in_the_preview_and_the_refusal(
        mill: Ordermill, api: Any, paid: Callable[[str], Order],
        error_of: Callable[..., Any], unchanged: Callable[..., Any]) -> None:
    order = paid("stripe")
    same = unchanged()
    preview = api.post(f"orders/{order.number}/refund?dry_run=true", json={})
    assert preview.status_code == 200, preview.get_json()
    shown = preview.get_json()["preview"]
    assert [(r["automatic"], r["not_configured"]) for r in shown["refunds"]] == [(False, True)]
    assert "Card (Stripe) is not configured" in shown["message"]
    assert "record it as a manual refund" in shown["message"]
    error = error_of(api.post(f"orders/{order.number}/refund", json={}), 502,
                     "gateway_refund_failed")
    one_sentence(error["message"])
    assert error["message"].startswith("Card (Stripe) is not configured")
    assert error["details"] == {"gateway": "stripe", "gateway_label": "Card (Stripe)",
                                "reason": "not_configured", "manual_refund_possible": True}
    same()

    done = api.post(f"orders/{order.number}/refund", json={"manual": True})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["order"]["payment_status"] == "refunded"
    [refund] = [p for p in body["order"]["payments"] if p["kind"] == "refund"]
    assert (refund["manual"], refund["amount"], refund["gateway"]) == (True, "40.00", "stripe")
    assert body["event"]["type"] == "refunded"
    assert body["event"]["data"]["manual_chosen"] is True
    assert "Recorded as a manual refund" in body["event"]["message"]


def test_an_unreachable_gateway_fails_in_one_sentence_and_logs_the_raw_error(
        mill: Ordermill, api: Any, paid: Callable[[str], Order],
        error_of: Callable[..., Any], unchanged: Callable[..., Any],
        caplog: pytest.LogCaptureFixture) -> None:
    order = paid("paypal")
    preview = api.post(f"orders/{order.number}/refund?dry_run=true", json={}).get_json()
    assert preview["preview"]["refunds"][0]["automatic"] is True  # configured: it will try
    same = unchanged()
    with caplog.at_level(logging.ERROR, logger="ordermill.refunds"):
        response = api.post(f"orders/{order.number}/refund", json={})
    error = error_of(response, 502, "gateway_refund_failed")
    one_sentence(error["message"])
    assert error["message"] == ("PayPal could not make the refund (it could not be reached "
                                "or refused it), so nothing was changed.")
    assert error["details"]["reason"] == "failed"
    assert any("paypal" in record.getMessage() and "paypal-charge-1" in record.getMessage()
               for record in caplog.records)  # the raw text is in the log
    same()

    for role in ("support", "viewer"):
        error_of(api.post(f"orders/{order.number}/refund", role=role,
                          json={"manual": True}), 403, "permission_denied")
    same()
    done = api.post(f"orders/{order.number}/cancel-and-refund", json={"manual": True})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["order"]["status"] == "refunded"
    [refund] = [p for p in mill.orders.get(order.number).payments if p.kind == "refund"]
    assert (refund.manual, refund.status, refund.gateway_reference) == (True, "succeeded", None)
