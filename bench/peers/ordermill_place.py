"""ordermill's place and accept actions on the workload of the floor and Oscar peers.

50 products (stock 10**6), ORDERS orders of 3 distinct random products x 1, one new customer
each, bank transfer; then every order accepted (one status change + event). Uses only the
public service (`Ordermill`, `mill.orders.place`, `mill.orders.accept`) with every installed
plugin loaded, as a shop has it. Run in its own process so its peak RSS is its own:

    python -m bench.peers.ordermill_place [--orders N] [--url URL]   # prints one JSON object
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from ordermill.core.app import Ordermill
from ordermill.core.models import Product
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor
from ordermill.testing_bench import TRANSACTION_CONTROL

ACTOR = Actor.system("bench")
PRODUCTS = 50


def make_mill(url: str, workdir: Path) -> Ordermill:
    """A mill on `url` with the schema and the 50 bench products."""
    settings = Settings.from_env(env={}, database_url=url, instance_path=workdir)
    mill = Ordermill(settings)
    mill.create_schema()
    with mill.write_session() as session, session.begin():
        session.add_all([Product(sku=f"SKU{i}", name=f"Product {i}", price=1000 + i,
                                 currency="EUR", stock=10**6, kind="physical", category="bench")
                         for i in range(PRODUCTS)])
    return mill


def order_request(n: int, rnd: random.Random, tag: str = "") -> OrderRequest:
    chosen = rnd.sample(range(PRODUCTS), 3)
    return OrderRequest(
        customer=CustomerDetails(email=f"buyer{tag}{n}@bench.test", name=f"Buyer {n}"),
        lines=[LineRequest(sku=f"SKU{p}", quantity=1) for p in chosen],
        payment_method="banktransfer")


def place(mill: Ordermill, request: OrderRequest) -> str:
    result: Any = mill.orders.place(request, actor=ACTOR)
    return str(result.order.number if hasattr(result, "order") else result.number)


def measure(mill: Ordermill, orders: int, warmup: int = 20) -> dict[str, Any]:
    """Place `orders` orders then accept each; rates, latencies and statements per action."""
    rnd = random.Random(1)
    for n in range(warmup):  # import-time and first-query costs are not the action's
        mill.orders.accept(place(mill, order_request(n, rnd, "w")), actor=ACTOR)
    statements = 0

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        nonlocal statements
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):  # as the floor's 7
            statements += 1
    event.listen(mill.engine, "before_cursor_execute", count)
    latencies: list[float] = []
    numbers: list[str] = []
    started = time.perf_counter()
    for n in range(orders):
        t0 = time.perf_counter()
        numbers.append(place(mill, order_request(n, rnd)))
        latencies.append(time.perf_counter() - t0)
    place_s = time.perf_counter() - started
    place_statements, statements = statements, 0
    accept_lat: list[float] = []
    started = time.perf_counter()
    for number in numbers:
        t0 = time.perf_counter()
        mill.orders.accept(number, actor=ACTOR)
        accept_lat.append(time.perf_counter() - t0)
    accept_s = time.perf_counter() - started
    event.remove(mill.engine, "before_cursor_execute", count)
    latencies.sort()
    accept_lat.sort()
    return {
        "orders": orders,
        "orders_per_s": round(orders / place_s, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        "transitions_per_s": round(orders / accept_s, 1),
        "accept_p50_ms": round(accept_lat[len(accept_lat) // 2] * 1000, 2),
        "statements_per_placement": round(place_statements / orders, 2),
        "statements_per_accept": round(statements / orders, 2),
    }


def with_mill(url: str | None, body: Callable[[Ordermill], dict[str, Any]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        mill = make_mill(url or f"sqlite:///{Path(work) / 'bench.sqlite'}", Path(work))
        try:
            return body(mill)
        finally:
            mill.engine.dispose()


def main() -> None:
    import resource

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--url", help="a database URL (default: a fresh SQLite file)")
    a = ap.parse_args()
    result = with_mill(a.url, lambda mill: measure(mill, a.orders))
    result["framework"] = "ordermill"
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
