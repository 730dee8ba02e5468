"""Fixtures for the payment gateway tests: the Stripe/PayPal stand-ins of
ordermill.testing_gateways on one local server, settings pointing the plugins at it, the
payment blueprints for `app`, a token."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from ordermill.core.app import Ordermill
from ordermill.core.models import User, utcnow
from ordermill.core.staff import create_token
from ordermill.testing_gateways import (
    STRIPE_WEBHOOK_SECRET,
    FakePayPal,
    FakeStripe,
    fake_gateway_settings,
    serve_fakes,
    stripe_signature,
)
from ordermill.testing_web import password_hash
from ordermill.web.webhooks import payments_bp, webhooks_bp


@pytest.fixture
def gateways_server(httpserver: HTTPServer) -> Iterator[tuple[FakeStripe, FakePayPal]]:
    """One local server playing both Stripe (/v1/payment_intents...) and PayPal (/v2...)."""
    yield serve_fakes(httpserver)


@pytest.fixture
def stripe_fake(gateways_server: tuple[FakeStripe, FakePayPal]) -> FakeStripe:
    return gateways_server[0]


@pytest.fixture
def paypal_fake(gateways_server: tuple[FakeStripe, FakePayPal]) -> FakePayPal:
    return gateways_server[1]


@pytest.fixture
def ordermill_settings_overrides(httpserver: HTTPServer) -> dict[str, Any]:
    return {"plugins": fake_gateway_settings(httpserver.url_for("/").rstrip("/"))}


@pytest.fixture
def app_blueprints() -> list[Any]:
    """The payment blueprints, registered on `app` if the factory does not."""
    return [webhooks_bp, payments_bp]


@pytest.fixture
def token(mill: Ordermill) -> str:
    """A bearer token of a support user (may place orders and record payments)."""
    with mill.write_session() as session, session.begin():
        session.add(User(email="desk@shop.test", name="Desk", role="support",
                         password_hash=password_hash(),
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
