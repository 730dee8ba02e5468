"""MaxMind minFraud through the official client, against a local HTTPS stand-in.

Covers acceptance 1 of the fraud/provisioning issue: under the threshold the order stays
pending, over it goes straight to fraud; an outage or a wrong key leaves it pending with a
"fraud check failed" event and a later re-run succeeds; set back to pending after fraud makes
its invoice unpaid again; the results show in the API's order JSON, and re-running through the
API needs manage_fraud.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from minfraud_fake import ACCOUNT_ID, LICENSE_KEY, FakeMinFraud

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.specs import Actor
from ordermill.plugins.fraud_maxmind import FAILED_EVENT, MaxMindConfig, transaction_for

BUYER = "bea@example.com"
RISKY = "mallory@example.net"


def place(mill: Ordermill, staff: Actor, email: str = BUYER, *, dry_run: bool = False,
          **extra: Any) -> Any:
    request = OrderRequest(
        customer=CustomerDetails(email=email, name="Bea Buyer", phone="+49 30 1234",
                                 billing_address={"line1": "Hauptstr. 1", "city": "Berlin",
                                                  "postal_code": "10115", "country": "de"}),
        lines=[LineRequest(sku="HOSTING", quantity=1)], payment_method="banktransfer",
        customer_ip="203.0.113.7", promo_code=None, **extra)
    return mill.orders.place(request, actor=staff, dry_run=dry_run)


@pytest.fixture(autouse=True)
def products(make_product: Callable[..., Any]) -> None:
    make_product("HOSTING", price=2500, stock=None, kind="service", category="hosting")


def event_types(mill: Ordermill, number: str) -> list[str]:
    return [event.type for event in mill.orders.history(number)]


def test_under_threshold_stays_pending_and_keeps_the_result(
        mill: Ordermill, staff: Actor, minfraud: FakeMinFraud) -> None:
    minfraud.scores[BUYER] = 4.2
    order: Order = place(mill, staff).order
    stored = mill.orders.get(order.number)
    assert stored.status == "pending"
    assert stored.fraud_score == Decimal("4.20")
    [check] = stored.fraud_checks
    assert (check.provider, check.status, check.score, check.error) == (
        "maxmind", "ok", Decimal("4.20"), None)
    assert "IP risk 12.5" in check.reasons
    assert any(reason.startswith("warning INPUT_UNKNOWN") for reason in check.reasons)
    assert check.raw["risk_score"] == 4.2 and check.raw["service"] == "score"
    assert check.raw["queries_remaining"] == 4211
    # what went over the wire: minFraud's transaction format, Basic auth, the Score endpoint
    [sent] = minfraud.requests
    assert minfraud.paths == ["/minfraud/v2.0/score"]
    assert minfraud.auth[0] == "Basic " + base64.b64encode(
        f"{ACCOUNT_ID}:{LICENSE_KEY}".encode()).decode()
    assert sent["device"] == {"ip_address": "203.0.113.7"}
    assert sent["email"] == {"address": BUYER, "domain": "example.com"}
    assert sent["billing"] == {"first_name": "Bea", "last_name": "Buyer",
                               "address": "Hauptstr. 1", "city": "Berlin", "postal": "10115",
                               "country": "DE", "phone_number": "+49 30 1234"}
    assert sent["order"] == {"amount": 25.0, "currency": "EUR"}
    assert sent["event"]["transaction_id"] == order.number
    assert sent["event"]["type"] == "purchase"
    assert sent["shopping_cart"] == [{"item_id": "HOSTING", "category": "hosting",
                                      "quantity": 1, "price": 25.0}]
    assert event_types(mill, order.number) == ["placed"]


def test_over_threshold_goes_straight_to_fraud(
        mill: Ordermill, staff: Actor, minfraud: FakeMinFraud) -> None:
    minfraud.scores[RISKY] = 87.5
    order = place(mill, staff, RISKY).order
    stored = mill.orders.get(order.number)
    assert stored.status == "fraud"
    assert stored.fraud_score == Decimal("87.50")
    [check] = stored.fraud_checks
    assert "disposition manual_review (custom_rule): high risk buyer" in check.reasons
    [placed] = mill.orders.history(order.number)
    assert (placed.type, placed.status_from, placed.status_to) == ("placed", None, "fraud")
    assert [invoice.status for invoice in stored.invoices] == ["cancelled"]


@pytest.mark.parametrize("outage", ["wrong_key", "service_down"])
def test_outage_keeps_the_order_pending_with_an_event_and_a_rerun_succeeds(
        mill: Ordermill, staff: Actor, minfraud: FakeMinFraud, outage: str) -> None:
    if outage == "wrong_key":
        minfraud.license_key = "the-key-maxmind-really-has"
    else:
        minfraud.down = True
    order = place(mill, staff).order
    stored = mill.orders.get(order.number)
    assert stored.status == "pending"
    assert stored.fraud_score is None
    [check] = stored.fraud_checks
    assert (check.provider, check.status, check.score) == ("maxmind", "error", None)
    expected = ("refused the account ID or license key" if outage == "wrong_key"
                else "answered HTTP 503")
    assert expected in check.error
    history = mill.orders.history(order.number)
    assert [e.type for e in history] == ["placed", FAILED_EVENT]
    assert expected in history[1].message and "re-run" in history[1].message
    assert history[1].data == {"provider": "maxmind", "error": check.error}

    minfraud.license_key, minfraud.down = "test-license-key", False
    minfraud.scores[BUYER] = 91.0
    result = mill.orders.rerun_fraud_check(order.number, actor=staff)
    assert result.order.status == "fraud"
    stored = mill.orders.get(order.number)
    assert [(c.status, c.score) for c in stored.fraud_checks] == [
        ("error", None), ("ok", Decimal("91.00"))]
    assert event_types(mill, order.number) == ["placed", FAILED_EVENT, "fraud_checked"]


def test_a_failed_rerun_is_recorded_too(mill: Ordermill, staff: Actor,
                                        minfraud: FakeMinFraud) -> None:
    order = place(mill, staff).order
    minfraud.down = True
    result = mill.orders.rerun_fraud_check(order.number, actor=staff)
    assert result.order.status == "pending"
    assert event_types(mill, order.number) == ["placed", "fraud_checked", FAILED_EVENT]


def test_set_back_to_pending_after_fraud_makes_the_invoice_unpaid(
        mill: Ordermill, staff: Actor, minfraud: FakeMinFraud) -> None:
    minfraud.scores[RISKY] = 64.0
    order = place(mill, staff, RISKY).order
    assert [i.status for i in mill.orders.get(order.number).invoices] == ["cancelled"]
    mill.orders.set_back_to_pending(order.number, actor=staff)
    stored = mill.orders.get(order.number)
    assert stored.status == "pending"
    assert [invoice.status for invoice in stored.invoices] == ["unpaid"]
    mill.orders.mark_paid(order.number, actor=staff)  # the buyer can pay as usual again
    assert [i.status for i in mill.orders.get(order.number).invoices] == ["paid"]


def test_dry_run_asks_nobody(mill: Ordermill, staff: Actor, minfraud: FakeMinFraud) -> None:
    preview = place(mill, staff, dry_run=True)
    assert preview.dry_run
    assert minfraud.requests == [] and minfraud.paths == []


class TestInsights:
    @pytest.fixture
    def ordermill_settings_overrides(self, maxmind_config: dict[str, Any]) -> dict[str, Any]:
        return {"plugins": {"fraud_maxmind": {**maxmind_config, "service": "insights",
                                              "hash_email": True}},
                "fraud_threshold": Decimal("20")}

    def test_insights_reasons_and_hashed_email(self, mill: Ordermill, staff: Actor,
                                               minfraud: FakeMinFraud) -> None:
        order = place(mill, staff).order
        [check] = mill.orders.get(order.number).fraud_checks
        assert minfraud.paths == ["/minfraud/v2.0/insights"]
        assert "IP ANONYMOUS_IP: The IP is an anonymous proxy." in check.reasons
        assert check.raw["service"] == "insights"
        assert check.raw["ip_address"]["country"]["iso_code"] == "DE"
        sent_email = minfraud.requests[0]["email"]["address"]
        assert sent_email != BUYER and len(sent_email) == 32  # an MD5, never the address


class TestUnconfigured:
    @pytest.fixture
    def ordermill_settings_overrides(self) -> dict[str, Any]:
        return {}

    def test_without_a_key_the_plugin_abstains(self, mill: Ordermill, staff: Actor,
                                               minfraud: FakeMinFraud) -> None:
        order = place(mill, staff).order
        assert mill.orders.get(order.number).fraud_checks == []
        assert minfraud.paths == []


def test_transaction_leaves_out_what_minfraud_would_refuse() -> None:
    order = Order(number="1234567890", buyer_name="Cher", buyer_email="cher@example.org",
                  buyer_phone=None, billing_address={"country": "Germany", "region": "bay ern"},
                  customer_ip="not an ip", currency="EUR", total=0, promo_code=None,
                  affiliate=None, placed_at=None)
    order.lines = []
    sent = transaction_for(order)
    assert sent["device"] == {"ip_address": None}
    assert sent["billing"]["country"] is None and sent["billing"]["region"] is None
    assert sent["billing"]["first_name"] == "Cher" and sent["billing"]["last_name"] is None
    assert "amount" not in sent["order"]  # free orders: minFraud wants a positive amount


def test_config_is_checked(mill: Ordermill) -> None:
    from ordermill.core.errors import ConfigurationError
    from ordermill.core.settings import Settings

    bad = Settings.from_env(env={}, database_url="sqlite://", instance_path=".",
                            plugins={"fraud_maxmind": {"service": "minutes"}})
    with pytest.raises(ConfigurationError, match="service must be one of"):
        MaxMindConfig.from_settings(bad)


# ---------------------------------------------------------------------------- the API


def test_api_order_json_shows_fraud_results_and_rerun_needs_manage_fraud(
        app: Flask, mill: Ordermill, staff: Actor, minfraud: FakeMinFraud,
        tokens: dict[str, str]) -> None:
    minfraud.down = True
    order = place(mill, staff).order
    client = app.test_client()

    def call(method: str, path: str, role: str, **kwargs: Any) -> Any:
        return client.open(path, method=method,
                           headers={"Authorization": f"Bearer {tokens[role]}"}, **kwargs)

    shown = call("GET", f"/api/v1/orders/{order.number}", "viewer").get_json()
    assert shown["fraud_checks"][0]["provider"] == "maxmind"
    assert shown["fraud_checks"][0]["status"] == "error"
    assert FAILED_EVENT in [event["type"] for event in shown["history"]]

    refused = call("POST", f"/api/v1/orders/{order.number}/fraud-check", "viewer", json={})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "permission_denied"
    assert call("POST", f"/api/v1/orders/{order.number}/fraud-check", "support",
                json={}).status_code == 403  # support may edit orders, not judge fraud

    minfraud.down = False
    minfraud.scores[BUYER] = 3.3
    done = call("POST", f"/api/v1/orders/{order.number}/fraud-check", "manager", json={})
    assert done.status_code == 200, done.get_data(as_text=True)
    body = done.get_json()
    assert body["event"]["type"] == "fraud_checked"
    assert body["order"]["status"] == "pending"
    assert body["order"]["fraud_score"] == "3.30"
    assert [c["status"] for c in body["order"]["fraud_checks"]] == ["error", "ok"]
    assert body["order"]["fraud_checks"][1]["reasons"]

    stale = call("POST", f"/api/v1/orders/{order.number}/fraud-check", "admin",
                 json={"expected_version": 1})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "stale_version"
    unknown = call("POST", "/api/v1/orders/0000000000/fraud-check", "admin", json={})
    assert unknown.status_code == 404


def test_amounts_go_over_the_wire_as_their_exact_decimal_text(
        mill: Ordermill, staff: Actor, minfraud: FakeMinFraud,
        make_product: Callable[..., Any]) -> None:
    """minFraud takes JSON numbers; an amount of cents arrives as its decimal text (37.02),
    never as a binary fraction's expansion (37.019999...)."""
    import re

    make_product("DOMAIN", price=1234, stock=None, kind="service", category="domains")
    request = OrderRequest(
        customer=CustomerDetails(email=BUYER, name="Bea Buyer"),
        lines=[LineRequest(sku="DOMAIN", quantity=3)], payment_method="banktransfer",
        customer_ip="203.0.113.7")
    mill.orders.place(request, actor=staff)
    [body] = minfraud.bodies
    assert re.search(r'"amount":\s*37\.02[,}]', body), body
    assert re.search(r'"price":\s*12\.34[,}]', body), body
