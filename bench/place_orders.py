"""Benchmark: placing orders through ordermill versus raw SQL writing the same rows.

    .venv/bin/python bench/place_orders.py                 # SQLite file, 2000 orders
    .venv/bin/python bench/place_orders.py --backend postgresql
    .venv/bin/python bench/place_orders.py --smoke         # a few orders, for CI

Each order: one customer (new e-mail each time), two lines (one stocked product, one
unlimited), one invoice, one history event, the stock decrement. The raw baseline writes
exactly those rows with hand-written SQL on the same database (the "7 statements" reference:
customer lookup, customer insert, order insert, line insert, invoice insert, stock update,
event insert). Targets (see the developers' guide): within 1.5x of raw SQL orders/second and
few statements per order; django-oscar's checkout does about 16 orders/s and 85 statements.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import event, text

from ordermill.core.app import Ordermill
from ordermill.core.models import Base, Product
from ordermill.core.plugins import PluginHost
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def make_mill(backend: str, workdir: Path) -> tuple[Ordermill, str | None]:
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite'}"
    else:
        schema = f"om_bench_{uuid.uuid4().hex[:8]}"
        from ordermill.core.db import make_engine

        admin = make_engine(PG_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    settings = Settings.from_env(env={}, database_url=url, instance_path=workdir)
    mill = Ordermill(settings, plugins=PluginHost(settings))
    Base.metadata.create_all(mill.engine)
    with mill.write_session() as session, session.begin():
        session.add_all([
            Product(sku="TICKET", name="Concert ticket", price=2500, currency="EUR",
                    stock=10**9, kind="ticket", category="events"),
            Product(sku="EBOOK", name="E-book", price=900, currency="EUR", stock=None,
                    kind="digital", category="books"),
        ])
    return mill, schema


def drop_schema(schema: str | None) -> None:
    if schema is None:
        return
    from ordermill.core.db import make_engine

    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


class StatementCounter:
    def __init__(self, engine: object) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.count += 1


def bench_ordermill(mill: Ordermill, orders: int) -> tuple[float, float]:
    actor = Actor.system("bench")
    counter = StatementCounter(mill.engine)
    lines = [LineRequest(sku="TICKET", quantity=2), LineRequest(sku="EBOOK", quantity=1)]
    start = time.perf_counter()
    for index in range(orders):
        request = OrderRequest(
            customer=CustomerDetails(email=f"buyer{index}@bench.test", name=f"Buyer {index}"),
            lines=lines, payment_method="banktransfer",
        )
        mill.orders.place(request, actor=actor)
    elapsed = time.perf_counter() - start
    return orders / elapsed, counter.count / orders


def bench_raw(mill: Ordermill, orders: int) -> tuple[float, float]:
    """The same rows with hand-written SQL through the bare DB-API connection."""
    engine = mill.engine
    sqlite = engine.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    raw = engine.raw_connection()
    cursor = raw.cursor()
    statements = 0

    def run(sql: str, params: tuple[object, ...]) -> None:
        nonlocal statements
        cursor.execute(sql.replace("?", mark), params)
        statements += 1

    product_ids = {}
    cursor.execute("SELECT sku, id FROM product")
    for sku, product_id in cursor.fetchall():
        product_ids[sku] = product_id
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    start = time.perf_counter()
    for index in range(orders):
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        email = f"raw{index}@bench.test"
        run("SELECT id FROM customer WHERE email = ?", (email,))
        cursor.fetchall()
        run("INSERT INTO customer (email, name, billing_address, language, created_at) "
            "VALUES (?, ?, '{}', 'en', ?) RETURNING id", (email, f"Raw {index}", now))
        customer_id = cursor.fetchone()[0]
        number = str(secrets.randbelow(9 * 10**9) + 10**9)
        run("INSERT INTO shop_order (number, status, customer_id, buyer_name, buyer_email, "
            "billing_address, language, currency, subtotal, discount, total, payment_method, "
            "needs_attention, placed_at, updated_at, version, sales_confirmed) VALUES "
            "(?, 'pending', ?, ?, ?, '{}', 'en', 'EUR', 5900, 0, 5900, 'banktransfer', NULL, "
            "?, ?, 1, ?) RETURNING id",
            (number, customer_id, f"Raw {index}", email, now, now, False))
        order_id = cursor.fetchone()[0]
        run("INSERT INTO order_line (order_id, product_id, sku, name, kind, quantity, "
            "unit_price, discount, total, status, units_held, units_released, "
            "refunded_amount, options) VALUES "
            "(?, ?, 'TICKET', 'Concert ticket', 'ticket', 2, 2500, 0, 5000, 'active', 2, 0, 0, "
            "'{}'), (?, ?, 'EBOOK', 'E-book', 'digital', 1, 900, 0, 900, 'active', 0, 0, 0, '{}')",
            (order_id, product_ids["TICKET"], order_id, product_ids["EBOOK"]))
        run("INSERT INTO invoice (order_id, amount, currency, status, created_at) "
            "VALUES (?, 5900, 'EUR', 'unpaid', ?)", (order_id, now))
        run("UPDATE product SET stock = stock - 2 WHERE id = ? AND stock >= 2",
            (product_ids["TICKET"],))
        run("INSERT INTO order_event (order_id, order_number, type, actor, message, "
            "notify_customer, visible_to_customer, data, created_at) VALUES "
            "(?, ?, 'placed', 'system:bench', 'Order placed', ?, ?, '{}', ?)",
            (order_id, number, False, False, now))
        raw.commit()
    elapsed = time.perf_counter() - start
    cursor.close()
    raw.close()
    return orders / elapsed, statements / orders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true", help="20 orders, for CI")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    orders = 20 if args.smoke else args.orders
    with tempfile.TemporaryDirectory() as workdir:
        mill, schema = make_mill(args.backend, Path(workdir))
        try:
            bench_ordermill(mill, min(20, orders))  # warm caches and the pool
            om_rate, om_statements = bench_ordermill(mill, orders)
            raw_rate, raw_statements = bench_raw(mill, orders)
        finally:
            mill.dispose()
            drop_schema(schema)
    result = {
        "backend": args.backend, "orders": orders,
        "ordermill_orders_per_s": round(om_rate, 1),
        "ordermill_statements_per_order": round(om_statements, 2),
        "raw_orders_per_s": round(raw_rate, 1),
        "raw_statements_per_order": round(raw_statements, 2),
        "slowdown_vs_raw": round(raw_rate / om_rate, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
