"""The files `ordermill new-plugin` writes, as string.Template texts ($name, $dist, $label,
$header). Each kind's tests use only the kit of ordermill.testing (and, for a gateway, the
conformance suite against a stand-in of the service the generated module talks to)."""

from __future__ import annotations

PYPROJECT = '''[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "$label: a plugin for ordermill"
requires-python = ">=3.11"
dependencies = ["ordermill"]

[project.optional-dependencies]
test = ["pytest", "pytest-httpserver"]

[project.entry-points.ordermill]
$name = "$name"

[tool.setuptools]
packages = ["$name"]

[tool.setuptools.package-data]
$name = ["templates/*.html"]

[tool.pytest.ini_options]
testpaths = ["tests"]
'''

README = '''# $label

A plugin for [ordermill](https://github.com/ordermill/ordermill), made by
`ordermill new-plugin$flag`.

    pip install -e '.[test]'
    pytest

ordermill finds it through the `ordermill` entry point in pyproject.toml; `ordermill plugins`
lists it once installed. Configure it with the `$name` key of ORDERMILL_PLUGIN_CONFIG.
The tests use ordermill's kit (docs/plugins.md, "Testing your plugin"): each test's app loads
the built-in plugins plus only this one (`@pytest.mark.ordermill_plugins("$name")`).
'''

PLAIN_MODULE = '''"""$label: notes every placed order in its history."""

from __future__ import annotations

from ordermill.api import Actor, hookimpl

PLUGIN = "$name"


@hookimpl
def on_order_placed(order, ctx):
    """After the order is committed: a comment in its history, by this plugin."""
    ctx.mill.orders.add_comment(order.number, "$label saw this order.",
                                actor=Actor.system(PLUGIN))
'''

PLAIN_TESTS = '''"""$label's tests, with ordermill's kit only."""

import pytest

pytestmark = pytest.mark.ordermill_plugins("$name")


def test_a_placed_order_gets_the_note(mill, make_product, order_factory):
    make_product("MUG")
    order = order_factory([("MUG", 1)])
    comments = [event.comment or event.message for event in mill.orders.history(order.number)
                if event.type == "comment"]
    assert comments == ["$label saw this order."]


def test_the_plugin_is_listed(cli):
    result = cli("plugins", "--json")
    assert result.exit_code == 0 and '"$name"' in result.output
'''

PANEL_MODULE = '''"""$label: a card on the admin's order page."""

from __future__ import annotations

from ordermill.api import OrderPanel, hookimpl

PLUGIN = "$name"


@hookimpl
def admin_order_panels(order, actor):
    """Shown on every order page; the template is templates/panel.html of this package."""
    units = sum(line.quantity for line in order.lines)
    return [OrderPanel("$label", "panel.html", context={"units": units}, package=__package__)]
'''

PANEL_TEMPLATE = ('<p data-testid="$name-panel">'
                  '{{ order.buyer_name }} ordered {{ units }} unit(s).</p>\n')

PANEL_TESTS = '''"""$label's tests, with ordermill's kit only."""

import pytest

pytestmark = pytest.mark.ordermill_plugins("$name")


def test_the_panel_shows_on_the_order_page(admin_client, make_product, order_factory):
    make_product("MUG")
    order = order_factory([("MUG", 3)], name="Ada <Lovelace>")
    page = admin_client.get(f"/admin/orders/{order.number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="$name-panel">Ada &lt;Lovelace&gt; ordered 3 unit(s).' in html
'''

GATEWAY_MODULE = '''"""$label: an online payment gateway (start payment, signed webhook, refund).

Configuration (the `$name` key of ORDERMILL_PLUGIN_CONFIG): api_base (the service's URL),
api_key, webhook_secret and tolerance (seconds a webhook signature stays valid, 300).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
import urllib.request
from collections.abc import Mapping
from typing import Any

from ordermill.api import (
    GatewayEventData,
    GatewayRefund,
    GatewayRefundData,
    PaymentGatewaySpec,
    Settings,
    WebhookRejected,
    hookimpl,
)

PLUGIN = "$name"
HEADER = "$header"


def call(config: Mapping[str, Any], path: str, payload: dict[str, Any],
         idempotency_key: str) -> dict[str, Any]:
    """POST to the service; the idempotency key makes a retried call a no-op there."""
    request = urllib.request.Request(
        f"{config['api_base']}{path}", data=json.dumps(payload).encode(), method="POST",
        headers={"Authorization": f"Bearer {config.get('api_key', '')}",
                 "Content-Type": "application/json", "Idempotency-Key": idempotency_key})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The service's signature header: t=<unix time>,v1=HMAC-SHA256(secret, "t.body")."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


def start_payment(*, order: Any, invoice: Any, amount: int, currency: str,
                  idempotency_key: str, config: Mapping[str, Any]) -> dict[str, Any]:
    payment = call(config, "/payments", {"order": order.number, "amount": amount,
                                         "currency": currency}, idempotency_key)
    return {"payment_id": payment["id"], "redirect_url": payment["redirect_url"]}


def parse_webhook(*, body: bytes, headers: Mapping[str, str],
                  config: Mapping[str, Any]) -> GatewayEventData:
    secret = str(config.get("webhook_secret") or "")
    header = headers.get(HEADER, "")
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if not secret or not parts.get("t", "").isdigit() \\
            or not hmac.compare_digest(sign(secret, body, int(parts["t"])), header):
        raise WebhookRejected(f"The {HEADER} header does not match the body.")
    if abs(time.time() - int(parts["t"])) > int(config.get("tolerance", 300)):
        raise WebhookRejected(f"The {HEADER} header is too old (a replayed delivery?).")
    event = json.loads(body)
    base = {"event_id": event["id"], "type": event["type"], "order_number": event["order"],
            "reference": event["payment"], "amount": event["amount"],
            "currency": event["currency"], "raw": event}
    if event["type"] == "payment.succeeded":
        return GatewayEventData(kind="payment_succeeded", **base)
    if event["type"] == "payment.refunded":
        return GatewayEventData(kind="refunded", **base, refunds=[
            GatewayRefundData(refund["id"], refund["amount"]) for refund in event["refunds"]])
    return GatewayEventData(kind="ignored", **base)


def refund(*, charge: Any, amount: int, idempotency_key: str, ctx: Any,
           config: Mapping[str, Any]) -> GatewayRefund:
    answer = call(config, "/refunds", {"payment": charge.gateway_reference, "amount": amount},
                  idempotency_key)
    return GatewayRefund(reference=answer["id"])


@hookimpl
def register_payment_gateways(settings: Settings) -> list[PaymentGatewaySpec]:
    config = settings.plugin_config(PLUGIN)
    bind = functools.partial
    return [PaymentGatewaySpec(
        name=PLUGIN, label="$label", online=True, can_refund=True, can_partial_refund=True,
        configured=bool(config.get("api_base") and config.get("webhook_secret")),
        start_payment=bind(start_payment, config=config),
        parse_webhook=bind(parse_webhook, config=config),
        refund=bind(refund, config=config))]
'''

GATEWAY_TESTS = '''"""$label's tests: ordermill's kit, its gateway conformance suite, and a
stand-in of the service (the payment service's API on a local pytest-httpserver)."""

from __future__ import annotations

import contextlib
import itertools
import json
import time

import pytest
from werkzeug import Request, Response

from $name import HEADER, sign
from ordermill.testing import gateway_conformance

pytestmark = pytest.mark.ordermill_plugins("$name")
SECRET = "whsec_test"


class FakeService:
    """Payments and refunds as the service keeps them; `down` makes it answer 503."""

    def __init__(self) -> None:
        self.payments: dict[str, dict] = {}
        self.replies: dict[str, dict] = {}
        self.calls: list[dict] = []
        self.down = False
        self.ids = itertools.count(1)

    def handle(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        self.calls.append({"path": request.path, "idempotency_key": key})
        if self.down:
            return Response("unavailable", status=503)
        if key in self.replies:
            return Response(json.dumps(self.replies[key]), content_type="application/json")
        body = request.get_json()
        if request.path == "/payments":
            reply = {"id": f"pay_{next(self.ids)}", "redirect_url": "https://pay.test/x"}
            self.payments[reply["id"]] = {**body, "refunds": []}
        else:
            reply = self.add_refund(body["payment"], body["amount"])
        self.replies[key] = reply
        return Response(json.dumps(reply), content_type="application/json")

    def add_refund(self, payment: str, amount: int) -> dict:
        refund = {"id": f"re_{next(self.ids)}", "amount": amount}
        self.payments[payment]["refunds"].append(refund)
        return refund

    def event(self, kind: str, payment: str) -> bytes:
        data = self.payments[payment]
        return json.dumps({"id": f"evt_{next(self.ids)}", "type": kind, "payment": payment,
                           "order": data["order"], "amount": data["amount"],
                           "currency": data["currency"], "refunds": data["refunds"]}).encode()


@pytest.fixture
def service(httpserver) -> FakeService:
    fake = FakeService()
    httpserver.expect_request("/payments").respond_with_handler(fake.handle)
    httpserver.expect_request("/refunds").respond_with_handler(fake.handle)
    return fake


@pytest.fixture
def ordermill_settings_overrides(httpserver) -> dict:
    return {"plugins": {"$name": {"api_base": httpserver.url_for("").rstrip("/"),
                                  "api_key": "key_test", "webhook_secret": SECRET}}}


class Driver:
    gateway = "$name"

    def __init__(self, service: FakeService, api_client) -> None:
        self.service, self.api_client, self.paid = service, api_client, {}

    def pay(self, order) -> bytes:
        started = self.api_client.post(f"/api/v1/orders/{order.number}/payment-intents",
                                       role="support")
        assert started.status_code == 201, started.get_json()
        self.paid[order.number] = started.get_json()["payment_id"]
        return self.service.event("payment.succeeded", self.paid[order.number])

    def refund_at_service(self, order, amount: int) -> bytes:
        self.service.add_refund(self.paid[order.number], amount)
        return self.service.event("payment.refunded", self.paid[order.number])

    def sign(self, body: bytes) -> dict:
        return {HEADER: sign(SECRET, body)}

    def stale(self, body: bytes) -> dict:
        return {HEADER: sign(SECRET, body, int(time.time()) - 3600)}

    def refund_requests(self) -> list:
        return [c["idempotency_key"] for c in self.service.calls if c["path"] == "/refunds"]

    def call_count(self) -> int:
        return len(self.service.calls)

    def outage(self) -> contextlib.AbstractContextManager[None]:
        return gateway_conformance.flag(self.service, "down")


class TestConformance(gateway_conformance.GatewayConformance):
    @pytest.fixture
    def gateway_driver(self, service, api_client) -> Driver:
        return Driver(service, api_client)


def test_start_payment_answers_the_redirect(service, api_client, make_product, order_factory):
    make_product("MUG", price=1250)
    order = order_factory([("MUG", 2)], payment_method="$name")
    started = api_client.post(f"/api/v1/orders/{order.number}/payment-intents", role="support")
    assert started.status_code == 201
    assert started.get_json()["redirect_url"] == "https://pay.test/x"
    [payment] = service.payments.values()
    assert (payment["order"], payment["amount"], payment["currency"]) == \\
        (order.number, 2500, "EUR")
'''
