"""Fixtures for the payment gateway tests: the Stripe/PayPal stand-ins on one local server,
settings pointing the plugins at it, the payment blueprints for `app`, a token."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from payfakes import (
    BANK,
    PAYPAL_CLIENT,
    PAYPAL_WEBHOOK_ID,
    STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET,
    FakePayPal,
    FakeStripe,
    stripe_signature,
)
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response
from werkzeug.security import generate_password_hash

from ordermill.core.app import Ordermill
from ordermill.core.models import User, utcnow
from ordermill.core.staff import create_token
from ordermill.web.webhooks import payments_bp, webhooks_bp


@pytest.fixture
def gateways_server(httpserver: HTTPServer) -> Iterator[tuple[FakeStripe, FakePayPal]]:
    """One local server playing both Stripe (/v1/payment_intents...) and PayPal (/v2...)."""
    stripe_fake = FakeStripe()
    paypal_fake = FakePayPal(httpserver.url_for("/").rstrip("/"))
    stripe_paths = ("/v1/payment_intents", "/v1/charges", "/v1/refunds")

    def dispatch(request: Request) -> Response:
        if request.path.startswith(stripe_paths):
            return stripe_fake.handle(request)
        return paypal_fake.handle(request)

    httpserver.expect_request(re.compile(".*")).respond_with_handler(dispatch)
    yield stripe_fake, paypal_fake


@pytest.fixture
def stripe_fake(gateways_server: tuple[FakeStripe, FakePayPal]) -> FakeStripe:
    return gateways_server[0]


@pytest.fixture
def paypal_fake(gateways_server: tuple[FakeStripe, FakePayPal]) -> FakePayPal:
    return gateways_server[1]


@pytest.fixture
def ordermill_settings_overrides(httpserver: HTTPServer) -> dict[str, Any]:
    base = httpserver.url_for("/").rstrip("/")
    return {"plugins": {
        "payment_stripe": {"secret_key": STRIPE_KEY, "webhook_secret": STRIPE_WEBHOOK_SECRET,
                           "api_base": base, "max_network_retries": 0},
        "payment_paypal": {"client_id": PAYPAL_CLIENT[0], "client_secret": PAYPAL_CLIENT[1],
                           "webhook_id": PAYPAL_WEBHOOK_ID, "api_base": base},
        "payment_banktransfer": dict(BANK),
    }}


@pytest.fixture
def app_blueprints() -> list[Any]:
    """The payment blueprints, registered on `app` if the factory does not."""
    return [webhooks_bp, payments_bp]


@pytest.fixture
def token(mill: Ordermill) -> str:
    """A bearer token of a support user (may place orders and record payments)."""
    with mill.write_session() as session, session.begin():
        session.add(User(email="desk@shop.test", name="Desk", role="support",
                         password_hash=generate_password_hash("x" * 12, method="pbkdf2"),
                         active=True, created_at=utcnow()))
    return create_token(mill, email="desk@shop.test", name="storefront")


@pytest.fixture
def post_stripe(client: FlaskClient) -> Callable[..., Any]:
    """post_stripe(event, secret=..., timestamp=..., body=...) -> the webhook's response."""

    def post(event: dict[str, Any] | None = None, *, secret: str = STRIPE_WEBHOOK_SECRET,
             timestamp: int | None = None, body: bytes | None = None,
             signature: str | None = None) -> Any:
        payload = body if body is not None else json.dumps(event).encode()
        header = signature if signature is not None else stripe_signature(
            payload, secret, timestamp)
        return client.post("/api/v1/webhooks/stripe", data=payload,
                           headers={"Stripe-Signature": header,
                                    "Content-Type": "application/json"})

    return post


@pytest.fixture
def post_paypal(client: FlaskClient, paypal_fake: FakePayPal) -> Callable[..., Any]:
    """post_paypal(event, headers=None, body=None) -> response; signs unless told not to."""

    def post(event: dict[str, Any], *, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> Any:
        sent = headers if headers is not None else paypal_fake.sign(event)
        return client.post("/api/v1/webhooks/paypal",
                           data=body if body is not None else json.dumps(event).encode(),
                           headers={**sent, "Content-Type": "application/json"})

    return post
