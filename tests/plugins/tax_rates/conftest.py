"""Fixtures of the tax tests: France (20 %, 5.5 % reduced for tickets) and Indonesia (PPN
11 %) configured on tax_rates, the Stripe stand-in, and the card fee example of
docs/hooks.md loaded from the docs themselves."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from taxkit import FRANCE_AND_INDONESIA, docs_example

from ordermill.core.app import Ordermill
from ordermill.core.shop_settings import write_setting
from ordermill.core.specs import Actor
from ordermill.testing_gateways import FakePayPal, FakeStripe, fake_gateway_settings, serve_fakes


@pytest.fixture
def tax_config() -> dict[str, Any]:
    """Override in a test module to configure tax_rates differently."""
    return {"home_country": "FR", "prices_include_tax": False, "rates": FRANCE_AND_INDONESIA}


@pytest.fixture
def ordermill_settings_overrides(httpserver: HTTPServer, tax_config: dict[str, Any]
                                 ) -> dict[str, Any]:
    plugins = fake_gateway_settings(httpserver.url_for("/").rstrip("/"))
    return {"plugins": {**plugins, "tax_rates": tax_config}}


@pytest.fixture
def stripe_fake(httpserver: HTTPServer) -> Iterator[FakeStripe]:
    fakes: tuple[FakeStripe, FakePayPal] = serve_fakes(httpserver)
    yield fakes[0]


@pytest.fixture
def card_fee(register_plugin: Callable[..., object]) -> types.ModuleType:
    """The 2 % card fee of docs/hooks.md, registered."""
    module = docs_example("price_adjustments")
    register_plugin(module, "card_fee_example")
    return module


@pytest.fixture
def french_shop(mill: Ordermill, make_product: Callable[..., Any],
                make_promo: Callable[..., Any], staff: Actor) -> None:
    """Tickets at 30.00 (reduced rate), a T-shirt at 25.00 (standard), promo SAVE10 (10 %),
    rounding per line half up."""
    make_product("TICKET", price=3000, stock=100, kind="ticket", tax_class="reduced")
    make_product("TSHIRT", price=2500, stock=100)
    make_promo("SAVE10", kind="percent", value=1000)
    write_setting(mill, "tax_rounding", {"scope": "line", "mode": "half_up"}, actor=staff)
