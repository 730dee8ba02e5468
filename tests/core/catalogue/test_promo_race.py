"""Eight buyers race for a five-use promo code: exactly five orders get the discount and the
other three a clear refusal, on SQLite and on PostgreSQL (real commits, threads)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from catkit import actor_of

from ordermill.core.app import Ordermill
from ordermill.core.catalogue.errors import PromoRefused
from ordermill.testing import order_request

pytestmark = [pytest.mark.commits, pytest.mark.slow]
THREADS = 8
USES = 5


@pytest.fixture
def ordermill_settings_overrides() -> dict[str, Any]:
    return {"load_plugins": ("restock",)}


def test_eight_buyers_race_for_a_five_use_code(mill: Ordermill) -> None:
    admin = actor_of("admin")
    mill.catalogue.products.create({"sku": "GIG", "name": "Gig", "price": "40.00",
                                    "stock": 100}, actor=admin)
    mill.catalogue.promos.create({"code": "FIVE", "percent": "50", "usage_limit": USES},
                                 actor=admin)
    barrier = threading.Barrier(THREADS, timeout=60)
    outcomes: list[Any] = [None] * THREADS

    def buy(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = mill.orders.place(order_request(
                [("GIG", 1)], promo_code="FIVE", email=f"buyer{index}@example.com"),
                actor=admin).order
        except Exception as error:  # collected and checked below
            outcomes[index] = error

    threads = [threading.Thread(target=buy, args=(i,), daemon=True) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive()
    placed = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(placed) == USES
    assert all(order.discount == 2000 for order in placed)
    assert len(refused) == THREADS - USES
    assert all(isinstance(e, PromoRefused) and "used up" in e.message for e in refused), refused
    assert mill.catalogue.promos.get("FIVE", actor=admin)["times_used"] == USES
    assert mill.catalogue.products.get("GIG", actor=admin)["stock"] == 100 - USES
