"""The raw floor for placing an order: SQLAlchemy Core writing the rows an order needs.

Same workload as peers/oscar: 50 products, ORDERS orders of 3 lines, one transaction per order:
conditional stock UPDATE per line (stock >= qty), INSERT order, 3 lines, 1 invoice, 1 event.
Then a transition phase: per order, UPDATE status + INSERT event, one transaction each.

Usage: .venv/bin/python floor.py [--orders N] [--wal] [--url URL]
Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    update,
)

md = MetaData()
products = Table("products", md, Column("id", Integer, primary_key=True),
                 Column("sku", String(64), unique=True), Column("price", Integer),
                 Column("currency", String(3)), Column("stock", Integer))
orders = Table("orders", md, Column("id", Integer, primary_key=True),
               Column("number", String(10), unique=True), Column("status", String(32), index=True),
               Column("email", String(255)), Column("total", Integer),
               Column("currency", String(3)), Column("version", Integer),
               Column("placed_at", DateTime))
lines = Table("order_lines", md, Column("id", Integer, primary_key=True),
              Column("order_id", ForeignKey("orders.id"), index=True),
              Column("product_id", ForeignKey("products.id")), Column("quantity", Integer),
              Column("unit_price", Integer), Column("status", String(16)))
invoices = Table("invoices", md, Column("id", Integer, primary_key=True),
                 Column("order_id", ForeignKey("orders.id"), index=True),
                 Column("amount", Integer), Column("status", String(16)))
events = Table("order_events", md, Column("id", Integer, primary_key=True),
               Column("order_id", ForeignKey("orders.id"), index=True), Column("type", String(32)),
               Column("data", Text), Column("at", DateTime))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--wal", action="store_true")
    ap.add_argument("--url")
    a = ap.parse_args()
    path = None
    if a.url:
        url = a.url
    else:
        fd, path = tempfile.mkstemp(suffix=".sqlite3")
        os.close(fd)
        url = f"sqlite:///{path}"
    eng = create_engine(url)
    if url.startswith("sqlite") and a.wal:
        @event.listens_for(eng, "connect")
        def _pragmas(conn: object, _: object) -> None:
            cur = conn.cursor()  # type: ignore[attr-defined]
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    md.drop_all(eng)
    md.create_all(eng)
    with eng.begin() as c:
        c.execute(insert(products), [{"sku": f"SKU{i}", "price": 1000 + i, "currency": "EUR",
                                      "stock": 10**6} for i in range(50)])
    prices = {i + 1: 1000 + i for i in range(50)}
    rnd = random.Random(1)
    lat = []
    t0 = time.perf_counter()
    ids = []
    for _ in range(a.orders):
        s = time.perf_counter()
        chosen = rnd.sample(range(1, 51), 3)
        with eng.begin() as c:
            for pid in chosen:
                r = c.execute(update(products).where(products.c.id == pid, products.c.stock >= 1)
                              .values(stock=products.c.stock - 1))
                assert r.rowcount == 1
            total = sum(prices[p] for p in chosen)
            oid = c.execute(insert(orders).values(
                number=f"{rnd.randrange(10**9, 10**10)}", status="pending",
                email="a@example.com", total=total, currency="EUR", version=1,
                placed_at=func.now())).inserted_primary_key[0]
            c.execute(insert(lines), [{"order_id": oid, "product_id": p, "quantity": 1,
                                       "unit_price": prices[p], "status": "active"}
                                      for p in chosen])
            c.execute(insert(invoices).values(order_id=oid, amount=total, status="unpaid"))
            c.execute(insert(events).values(order_id=oid, type="placed", data="{}", at=func.now()))
        ids.append(oid)
        lat.append(time.perf_counter() - s)
    place_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    for oid in ids:
        with eng.begin() as c:
            c.execute(update(orders).where(orders.c.id == oid, orders.c.version == 1)
                      .values(status="active", version=2))
            c.execute(insert(events).values(order_id=oid, type="status_changed",
                                            data='{"to":"active"}', at=func.now()))
    trans_s = time.perf_counter() - t1
    lat.sort()
    print(json.dumps({
        "framework": "raw SQLAlchemy Core floor",
        "sqlalchemy": __import__("sqlalchemy").__version__,
        "db": url.split(":")[0] + (" WAL+NORMAL" if a.wal else ""),
        "orders": a.orders,
        "orders_per_s": round(a.orders / place_s, 1),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
        "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
        "transitions_per_s": round(a.orders / trans_s, 1),
        "statements_per_placement": 3 + 1 + 1 + 1 + 1,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))
    if path:
        os.unlink(path)


if __name__ == "__main__":
    main()
