"""The statement budget of the hot paths (issue 20), on SQLite and PostgreSQL.

Counting statements is deterministic, so this is a behaviour test, not a timing test: one
placement of the bench's workload (a new buyer, 3 products x 1, bank transfer, invoice
issued and numbered, stock reserved with its ledger) with every built-in plugin loaded, then
one accept of it.
"""

from __future__ import annotations

from ordermill.core.app import Ordermill
from ordermill.testing_bench import (
    ACCEPT_BUDGET,
    PLACE_BUDGET,
    counting,
    place_and_accept_breakdown,
    statements_of,
)


def _shop(mill: Ordermill, make_product) -> list[str]:  # type: ignore[no-untyped-def]
    skus = ["SKU1", "SKU5", "SKU9"]
    for sku in skus:
        make_product(sku, stock=1000)
    return skus


def test_place_and_accept_stay_within_the_statement_budget(mill, make_product):
    skus = _shop(mill, make_product)
    # the suite's PostgreSQL connection makes each transaction a savepoint (not counted)
    counts = place_and_accept_breakdown(mill, skus, skip_savepoints=not mill.is_sqlite)
    assert counts["place"]["total"] <= PLACE_BUDGET, counts
    assert counts["accept"]["total"] <= ACCEPT_BUDGET, counts


def test_the_breakdown_names_who_issued_each_statement(mill, make_product):
    skus = _shop(mill, make_product)
    counts = place_and_accept_breakdown(mill, skus, warm=1, skip_savepoints=True)
    for action in ("place", "accept"):
        parts = {key: value for key, value in counts[action].items() if key != "total"}
        assert sum(parts.values()) == counts[action]["total"]
        assert parts["core"] > 0
        assert all(key == "core" or key.startswith("plugin:") for key in parts)


def test_counting_stops_when_the_block_ends(mill, make_product):
    skus = _shop(mill, make_product)
    with counting(mill) as counts:
        pass
    place_and_accept_breakdown(mill, skus, warm=0)
    assert sum(counts.values()) == 0
    assert statements_of(mill, lambda: None) == {"total": 0}
