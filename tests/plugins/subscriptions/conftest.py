"""Fixtures for the subscriptions plugin: the Stripe stand-in, a controlled clock, a tiny
in-memory hosting module (so a provisioned service can be suspended), and helpers that pay
an order's first invoice through Stripe as a buyer would (the card saved for later)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from pytest_httpserver import HTTPServer

from ordermill.api import hookimpl
from ordermill.core.app import Ordermill
from ordermill.core.payments import receive_webhook, start_payment
from ordermill.core.specs import Actor
from ordermill.plugins.provisioning.specs import ModuleResult, ProvisioningModuleSpec
from ordermill.testing_gateways import (
    FakeStripe,
    fake_gateway_settings,
    serve_fakes,
    stripe_signature,
)

START = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def stripe_fake(httpserver: HTTPServer) -> FakeStripe:
    return serve_fakes(httpserver)[0]


@pytest.fixture
def ordermill_settings_overrides(httpserver: HTTPServer) -> dict[str, Any]:
    return {"plugins": fake_gateway_settings(httpserver.url_for("/").rstrip("/"))}


@pytest.fixture
def clock() -> Iterator[Any]:
    """Frozen at START; `clock.move_to(when)` moves it (every thread sees it)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


class HostingModule:
    """A provisioning module that keeps accounts in memory."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def command(self, name: str) -> Callable[..., ModuleResult]:
        def run(request: Any) -> ModuleResult:
            self.calls.append((name, request.service_id))
            return ModuleResult(remote_id=f"acct-{request.service_id}")
        return run

    @hookimpl(optionalhook=True)
    def register_provisioning_modules(self, settings: Any) -> list[ProvisioningModuleSpec]:
        return [ProvisioningModuleSpec(
            name="hosting", label="Hosting", create=self.command("create"),
            terminate=self.command("terminate"), suspend=self.command("suspend"),
            unsuspend=self.command("unsuspend"))]


@pytest.fixture
def hosting(mill: Ordermill, register_plugin: Callable[..., object]) -> HostingModule:
    module = HostingModule()
    register_plugin(module, "test_hosting")
    return module


@pytest.fixture
def pay_first(mill: Ordermill, staff: Actor, stripe_fake: FakeStripe) -> Callable[[str], str]:
    """Pay the order's next invoice through Stripe (intent, buyer pays, signed webhook);
    returns the PaymentIntent id."""

    def pay(number: str) -> str:
        answer = start_payment(mill, number, staff)
        event = stripe_fake.pay(answer["payment_intent"], fee=30)
        body = json.dumps(event).encode()
        outcome = receive_webhook(mill, "stripe", body,
                                  {"stripe-signature": stripe_signature(body)})
        assert outcome.status_code == 200, outcome.body
        return str(answer["payment_intent"])

    return pay
