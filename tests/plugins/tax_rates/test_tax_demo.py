"""The demo shop is configured for France (20 %, 5.5 % for tickets) and Indonesia (PPN 11 %),
with prices entered gross: tickets and hosting carry the tax their buyers' country asks."""

from __future__ import annotations

from typing import Any

import pytest
from taxkit import tax_request

from ordermill.core.app import Ordermill
from ordermill.core.specs import Actor
from ordermill.demo.loading import _ensure_products, _ensure_tax_settings


@pytest.fixture
def tax_config() -> dict[str, Any]:
    return {}  # nothing configured: the demo's stored settings decide


def test_demo_taxes_french_tickets_and_indonesian_hosting(mill: Ordermill, staff: Actor
                                                          ) -> None:
    _ensure_products(mill)
    _ensure_tax_settings(mill)
    french = mill.orders.place(tax_request([("TKT-SUMMER-GA", 1), ("MUG-ENAMEL", 1)],
                                           promo_code=None, payment_method="banktransfer"),
                               actor=staff).order
    assert french is not None
    # gross prices: 45.00 holds 2.35 at 5.5 %, 14.50 holds 2.42 at 20 %; the total stays
    assert [(line.tax, line.total) for line in french.lines] == [(235, 4500), (242, 1450)]
    assert french.total == 5950
    indonesian = mill.orders.place(tax_request([("HOST-STARTER", 1)], country="ID",
                                               promo_code=None, email="budi@example.id",
                                               payment_method="banktransfer"),
                                   actor=staff).order
    assert indonesian is not None
    assert (indonesian.lines[0].tax, indonesian.total) == (59, 599)  # PPN 11 % inside 5.99
