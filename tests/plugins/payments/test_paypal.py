"""The PayPal plugin through paypal-server-sdk against a local PayPal stand-in."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from ordermill.core import payments
from ordermill.core.app import Ordermill
from ordermill.core.errors import PluginError
from ordermill.core.models import GatewayEvent, Order
from ordermill.core.specs import Actor
from ordermill.core.statuses import line_summary, payment_status
from ordermill.testing_gateways import FakePayPal, count, order_state


@pytest.fixture
def tickets(make_product: Callable[..., Any]) -> None:
    make_product("CONCERT", price=1000, stock=50, kind="ticket")
    make_product("VIP", price=2000, stock=10, kind="ticket")


def paid_with_paypal(mill: Ordermill, client: Any, token: str, paypal_fake: FakePayPal,
                     number: str, *, fee: int = 137) -> str:
    """Create the PayPal order over the API, let the buyer approve it, capture it; return
    the capture id."""
    auth = {"Authorization": f"Bearer {token}"}
    started = client.post(f"/api/v1/orders/{number}/payment-intents", headers=auth)
    assert started.status_code == 201, started.get_json()
    paypal_order = started.get_json()["paypal_order_id"]
    paypal_fake.approve(paypal_order, fee=fee)
    captured = client.post(f"/api/v1/orders/{number}/payment-captures", headers=auth,
                           json={"paypal_order_id": paypal_order})
    assert captured.status_code == 200, captured.get_json()
    return str(captured.get_json()["reference"])


def test_create_order_approve_and_capture_records_the_payment(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], client: Any,
        token: str, paypal_fake: FakePayPal) -> None:
    order = order_factory([("CONCERT", 1), ("VIP", 1)], payment_method="paypal")
    auth = {"Authorization": f"Bearer {token}"}
    started = client.post(f"/api/v1/orders/{order.number}/payment-intents", headers=auth)
    body = started.get_json()
    assert body["approve_url"].endswith(f"token={body['paypal_order_id']}")
    created = paypal_fake.orders[body["paypal_order_id"]]
    unit = created["purchase_units"][0]
    assert unit["amount"] == {"currency_code": "EUR", "value": "30.00"}
    assert unit["custom_id"] == order.number
    assert unit["invoice_id"] == f"{order.number}-{order.invoices[0].id}"
    assert paypal_fake.calls[-1]["request_id"] == \
        f"ordermill-invoice-{order.invoices[0].id}-3000"
    not_yet = client.post(f"/api/v1/orders/{order.number}/payment-captures", headers=auth,
                          json={"paypal_order_id": body["paypal_order_id"]})
    assert not_yet.status_code == 502  # not approved by the buyer yet: PayPal says 422
    assert payment_status(mill.orders.get(order.number)) == "unpaid"
    paypal_fake.approve(body["paypal_order_id"], fee=137)
    captured = client.post(f"/api/v1/orders/{order.number}/payment-captures", headers=auth,
                           json={"paypal_order_id": body["paypal_order_id"]})
    assert captured.status_code == 200, captured.get_json()
    assert captured.get_json()["payment_status"] == "paid"
    [charge] = mill.orders.get(order.number).payments
    assert (charge.gateway, charge.amount, charge.fee, charge.net, charge.invoice_id) == \
        ("paypal", 3000, 137, 2863, order.invoices[0].id)
    assert charge.gateway_reference in paypal_fake.captures


def test_capture_webhook_after_the_capture_changes_nothing(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], client: Any,
        token: str, paypal_fake: FakePayPal, post_paypal: Callable[..., Any]) -> None:
    order = order_factory([("CONCERT", 2)], payment_method="paypal")
    capture = paid_with_paypal(mill, client, token, paypal_fake, order.number)
    before = order_state(mill, order.number)
    response = post_paypal(paypal_fake.capture_event(capture))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcome"] == f"payment {capture} already recorded"
    assert order_state(mill, order.number) == {**before, "gateway_events": 1}


def test_capture_webhook_alone_records_the_payment(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], client: Any,
        token: str, paypal_fake: FakePayPal, post_paypal: Callable[..., Any]) -> None:
    """The buyer closed the tab after approving: PayPal's webhook still records it."""
    order = order_factory([("CONCERT", 2)], payment_method="paypal")
    started = client.post(f"/api/v1/orders/{order.number}/payment-intents",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
    paypal_fake.approve(started["paypal_order_id"], fee=88)
    _status, answer = paypal_fake.capture(started["paypal_order_id"])  # captured elsewhere
    capture = answer["purchase_units"][0]["payments"]["captures"][0]["id"]
    assert post_paypal(paypal_fake.capture_event(capture)).status_code == 200
    [charge] = mill.orders.get(order.number).payments
    assert (charge.amount, charge.fee, charge.gateway_reference) == (2000, 88, capture)


@pytest.mark.parametrize("forgery", ["altered body", "wrong webhook id", "stale",
                                     "missing header", "bad signature"])
def test_unverified_paypal_webhook_is_400_and_changes_nothing(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order],
        paypal_fake: FakePayPal, post_paypal: Callable[..., Any], forgery: str) -> None:
    order = order_factory([("CONCERT", 2)], payment_method="paypal")
    paypal_order = paypal_fake.create_order({"intent": "CAPTURE", "purchase_units": [
        {"custom_id": order.number, "amount": {"currency_code": "EUR", "value": "20.00"}}]})
    paypal_fake.approve(paypal_order["id"], fee=70)
    _status, answer = paypal_fake.capture(paypal_order["id"])
    event = paypal_fake.capture_event(answer["purchase_units"][0]["payments"]["captures"][0]
                                      ["id"])
    headers = paypal_fake.sign(event)
    if forgery == "altered body":
        forged = json.loads(json.dumps(event))
        forged["resource"]["amount"]["value"] = "2000.00"
        response = post_paypal(forged, headers=headers)
    elif forgery == "wrong webhook id":
        response = post_paypal(event, headers=paypal_fake.sign(event, webhook_id="WH-OTHER"))
    elif forgery == "stale":
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)
        response = post_paypal(event, headers=paypal_fake.sign(event, when=old))
    elif forgery == "missing header":
        headers.pop("PAYPAL-TRANSMISSION-SIG")
        response = post_paypal(event, headers=headers)
    else:
        response = post_paypal(event, headers={**headers, "PAYPAL-TRANSMISSION-SIG": "00" * 32})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "webhook_rejected"
    assert payment_status(mill.orders.get(order.number)) == "unpaid"
    assert count(mill, GatewayEvent) == 0


def test_partial_refund_of_one_line_through_paypal(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], client: Any,
        token: str, staff: Actor, paypal_fake: FakePayPal,
        post_paypal: Callable[..., Any]) -> None:
    order = order_factory([("CONCERT", 1), ("VIP", 1)], payment_method="paypal")
    capture = paid_with_paypal(mill, client, token, paypal_fake, order.number, fee=137)
    vip = next(line for line in order.lines if line.sku == "VIP")
    mill.orders.refund(order.number, actor=staff, line_ids=[vip.id])
    call = paypal_fake.calls[-1]
    assert call["path"] == f"/v2/payments/captures/{capture}/refund"
    assert call["body"] == {"amount": {"currency_code": "EUR", "value": "20.00"}}
    order = mill.orders.get(order.number)
    charge, refund = order.payments
    assert call["request_id"] == f"ordermill-refund-{refund.id}"
    assert (refund.amount, refund.status, refund.manual, refund.refund_of_id) == \
        (2000, "succeeded", False, charge.id)
    assert refund.gateway_reference in paypal_fake.refunds
    assert (charge.fee, charge.net) == (137, 2863)
    assert payment_status(order) == "partially_refunded" and line_summary(order) == \
        "1/2 Complete"
    before = order_state(mill, order.number)
    response = post_paypal(paypal_fake.refund_event(str(refund.gateway_reference)))
    assert response.status_code == 200
    assert "already recorded" in response.get_json()["outcome"]
    assert order_state(mill, order.number) == {**before, "gateway_events": 1}


def test_paypal_refusing_a_refund_rolls_it_back(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], client: Any,
        token: str, staff: Actor, paypal_fake: FakePayPal) -> None:
    order = order_factory([("CONCERT", 1)], payment_method="paypal")
    capture = paid_with_paypal(mill, client, token, paypal_fake, order.number)
    paypal_fake.refund(capture, None)  # refunded in PayPal's dashboard meanwhile
    with pytest.raises(PluginError, match=r"^PayPal could not make the refund") as refused:
        mill.orders.refund(order.number, actor=staff)
    assert "422" not in refused.value.message  # PayPal's answer goes to the log only
    order = mill.orders.get(order.number)
    assert [p.kind for p in order.payments] == ["charge"]
    assert [line.status for line in order.lines] == ["active"]


def paypal_story(mill: Ordermill, client: Any, token: str, paypal_fake: FakePayPal,
                 number: str) -> list[dict[str, Any]]:
    capture = paid_with_paypal(mill, client, token, paypal_fake, number, fee=137)
    refund = paypal_fake.refund(capture, 1000)
    assert refund is not None
    return [paypal_fake.capture_event(capture), paypal_fake.refund_event(refund["id"]),
            paypal_fake.dispute_event(capture)]


def test_replayed_and_reversed_paypal_webhooks_end_as_one_delivery(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], client: Any,
        token: str, paypal_fake: FakePayPal, post_paypal: Callable[..., Any]) -> None:
    orders = [order_factory([("CONCERT", 1), ("VIP", 1)], payment_method="paypal")
              for _ in range(2)]
    once, reversed_twice = (paypal_story(mill, client, token, paypal_fake, o.number)
                            for o in orders)
    for event in once:
        assert post_paypal(event).status_code == 200
    for event in reversed(reversed_twice):
        assert post_paypal(event).status_code == 200
        assert post_paypal(event).status_code == 200
    expected = order_state(mill, orders[0].number)
    assert order_state(mill, orders[1].number) == expected
    assert expected["payment_status"] == "partially_refunded"
    assert "dispute" in (expected["needs_attention"] or "")
    assert [(p[0], p[2], p[3]) for p in expected["payments"]] == \
        [("charge", 3000, 137), ("refund", 1000, 0)]


def test_refund_before_its_capture_is_known_records_both(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order],
        paypal_fake: FakePayPal, post_paypal: Callable[..., Any]) -> None:
    """Out of order: the refund webhook arrives first; the capture it points at is fetched
    and recorded, then the refund; the late capture webhook changes nothing."""
    order = order_factory([("CONCERT", 2)], payment_method="paypal")
    paypal_order = paypal_fake.create_order({"intent": "CAPTURE", "purchase_units": [
        {"custom_id": order.number, "amount": {"currency_code": "EUR", "value": "20.00"}}]})
    paypal_fake.approve(paypal_order["id"], fee=70)
    _status, answer = paypal_fake.capture(paypal_order["id"])
    capture = answer["purchase_units"][0]["payments"]["captures"][0]["id"]
    refund = paypal_fake.refund(capture, None)
    assert refund is not None
    assert post_paypal(paypal_fake.refund_event(refund["id"])).status_code == 200
    order = mill.orders.get(order.number)
    assert [(p.kind, p.amount, p.fee) for p in order.payments] == \
        [("charge", 2000, 70), ("refund", 2000, 0)]
    assert payment_status(order) == "refunded"
    late = post_paypal(paypal_fake.capture_event(capture))
    assert late.get_json()["outcome"] == f"payment {capture} already recorded"


def test_start_and_capture_are_plain_core_calls_too(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        paypal_fake: FakePayPal) -> None:
    order = order_factory([("VIP", 1)], payment_method="paypal")
    started = payments.start_payment(mill, order.number, staff)
    paypal_fake.approve(started["paypal_order_id"], fee=100)
    answer = payments.capture_payment(mill, order.number, staff,
                                      {"paypal_order_id": started["paypal_order_id"]})
    assert answer["payment_status"] == "paid"
    other = order_factory([("VIP", 1)], payment_method="paypal")
    with pytest.raises(Exception, match="belongs to order"):
        payments.capture_payment(mill, other.number, staff,
                                 {"paypal_order_id": started["paypal_order_id"]})
