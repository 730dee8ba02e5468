"""docs/payment_gateways.md promises its example gateway works as printed: install it from
the markdown and run an order through it (place, signed webhook payment, refund)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ordermill.core.app import Ordermill
from ordermill.core.models import GatewayEvent, Order
from ordermill.core.specs import Actor
from ordermill.core.statuses import payment_status

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "payment_gateways.md"
SECRET = "wire-secret"


def guide_plugin() -> types.ModuleType:
    """The python block right after the `guide-plugin` marker, executed as a module."""
    text = GUIDE.read_text(encoding="utf-8")
    found = re.search(r"<!-- guide-plugin[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert found, "docs/payment_gateways.md lost its guide-plugin code block"
    module = types.ModuleType("payment_wire")
    exec(compile(found.group(1), str(GUIDE), "exec"), module.__dict__)
    return module


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"plugins": {"payment_wire": {"account_holder": "Concert Hall Ltd",
                                         "iban": "DE89 3704 0044 0532 0130 00",
                                         "webhook_secret": SECRET}}}


def post_credit(client: Any, credit: dict[str, Any], secret: str = SECRET) -> Any:
    body = json.dumps(credit).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/api/v1/webhooks/wire", data=body,
                       headers={"X-Wire-Signature": signature,
                                "Content-Type": "application/json"})


def test_the_guide_gateway_places_pays_and_refunds_an_order(
        mill: Ordermill, make_product: Callable[..., Any],
        order_factory: Callable[..., Order], staff: Actor,
        register_plugin: Callable[..., Any], client: Any) -> None:
    register_plugin(guide_plugin(), name="payment_wire")
    spec = mill.gateways["wire"]
    assert (spec.label, spec.online, spec.can_refund) == ("Bank transfer", False, False)
    make_product("CONCERT", price=1250, stock=20, kind="ticket")
    order = order_factory([("CONCERT", 2)], payment_method="wire")
    assert payment_status(order) == "unpaid"
    assert spec.describe_instructions is not None
    assert spec.describe_instructions(order=order) == (
        f"Please transfer 25.00 EUR to Concert Hall Ltd, IBAN DE89 3704 0044 0532 0130 00, "
        f"reference {order.number}.")

    credit = {"id": "CRDT-0001", "amount": "25.00", "currency": "EUR",
              "reference": order.number, "debtor": "Bea Buyer"}
    assert post_credit(client, credit, secret="not-the-secret").status_code == 400
    assert payment_status(mill.orders.get(order.number)) == "unpaid"
    response = post_credit(client, credit)
    assert response.status_code == 200, response.get_json()
    assert post_credit(client, credit).get_json()["replay"] is True
    order = mill.orders.get(order.number)
    [payment] = order.payments
    assert (payment.gateway, payment.amount, payment.gateway_reference) == \
        ("wire", 2500, "CRDT-0001")
    assert payment_status(order) == "paid"

    result = mill.orders.refund(order.number, actor=staff, line_ids=[order.lines[0].id])
    assert "Return the money by hand: Bank transfer cannot refund automatically." in \
        result.preview["message"]
    order = mill.orders.get(order.number)
    assert payment_status(order) == "refunded" and order.status == "refunded"
    assert order.payments[-1].manual is True
    with mill.read_session() as session:
        assert session.query(GatewayEvent).filter_by(gateway="wire").count() == 1
