"""AcmePay's own tests: only the kit's fixtures (no app, token or client made by hand)."""

from __future__ import annotations

import hmac
import json
from typing import Any

import pytest

pytestmark = pytest.mark.ordermill_plugins("acmepay")
SECRET = "acme-secret"


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"plugins": {"acmepay": {"base_url": "https://pay.acme.test",
                                    "webhook_secret": SECRET}}}


def signed(event: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {"Acme-Signature": hmac.new(secret.encode(), body, "sha256").hexdigest()}


def test_start_pay_by_webhook_and_refund(api_client: Any, deliver_webhook: Any, mill: Any,
                                         make_product: Any, order_factory: Any,
                                         cli: Any) -> None:
    make_product("GIZMO", price=2500)
    order = order_factory([("GIZMO", 2)], payment_method="acmepay")
    started = api_client.post(f"/api/v1/orders/{order.number}/payment-intents",
                              role="support")
    assert started.status_code == 201, started.get_json()
    assert started.get_json()["redirect_url"].startswith(
        f"https://pay.acme.test/pay?order={order.number}&amount=5000&currency=EUR&key=")

    event = {"id": "evt_1", "type": "charge.paid", "order": order.number,
             "charge": "ch_1", "amount": 5000, "currency": "EUR"}
    body, headers = signed(event, secret="wrong")
    assert deliver_webhook("acmepay", body, headers).status_code == 400
    assert mill.orders.get(order.number).payments == []
    body, headers = signed(event)
    assert deliver_webhook("acmepay", body, headers).get_json()["replay"] is False
    assert deliver_webhook("acmepay", body, headers).get_json()["replay"] is True
    [charge] = mill.orders.get(order.number).payments
    assert (charge.amount, charge.gateway_reference) == (5000, "ch_1")

    refunded = api_client.post(f"/api/v1/orders/{order.number}/refund",
                               json={"amount": "10.00"}, role="admin")
    assert refunded.status_code == 200, refunded.get_json()
    refund = mill.orders.get(order.number).payments[-1]
    assert (refund.kind, refund.amount, refund.gateway_reference) == \
        ("refund", 1000, "re_ch_1_1000")
    assert "acmepay" in cli("plugins", "--json").output
