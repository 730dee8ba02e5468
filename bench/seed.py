"""A shop-sized database: `ordermill init` + `ordermill demo`, then the demo's order graph
cloned with SQLAlchemy Core until N orders exist.

Clones get new ids, random 10-digit numbers, one new customer each (distinct e-mails) and
dates spread over two years, with their lines, invoices, payments, fraud checks and events, so
lists, searches and exports see realistic rows. Bulk Core inserts: 100,000 orders in minutes,
where placing them through the action would take an hour.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text

from bench.common import BENCH_SECRET
from ordermill.core.models import Base

TABLES = ("shop_order", "order_line", "invoice", "payment", "fraud_check", "order_event",
          "customer")
KIDS = ("order_line", "invoice", "payment", "fraud_check", "order_event")


def ordermill_command() -> str:
    return str(Path(sys.executable).parent / "ordermill")


def env_for(url: str, workdir: Path) -> dict[str, str]:
    env = dict(os.environ, ORDERMILL_DATABASE_URL=url, ORDERMILL_INSTANCE_PATH=str(workdir))
    env.setdefault("ORDERMILL_SECRET_KEY", BENCH_SECRET)  # PostgreSQL requires one
    return env


def cli(args: list[str], env: dict[str, str]) -> str:
    """Run one `ordermill` command in this process (the same code as the console script,
    without paying a Python start-up per command); its output, or an error."""
    from click.testing import CliRunner

    from ordermill.cli import main

    result = CliRunner().invoke(main, args, env=env)
    if result.exit_code != 0:
        raise RuntimeError(f"ordermill {args[0]} failed ({result.exit_code}): "
                           f"{result.output[-800:]}") from result.exception
    return result.output


def init_demo(url: str, workdir: Path) -> None:
    env = env_for(url, workdir)
    for step in ("init", "demo"):
        cli([step], env)


def clone(url: str, target: int) -> int:
    """Copy the demo's orders (with everything hanging off them) until `target` exist."""
    eng = create_engine(url)
    tables = {n: Base.metadata.tables[n] for n in TABLES}
    with eng.connect() as c:
        orders = [dict(r._mapping) for r in c.execute(select(tables["shop_order"]))]
        kids = {n: [dict(r._mapping) for r in c.execute(select(tables[n]))] for n in KIDS}
        nxt = {n: (c.execute(text(f"SELECT coalesce(max(id),0) FROM {n}")).scalar() or 0) + 1
               for n in TABLES}
    by_order: dict[str, dict[int, list[dict[str, Any]]]] = {n: {} for n in kids}
    for n, rows in kids.items():
        for r in rows:
            by_order[n].setdefault(r["order_id"], []).append(r)
    rnd = random.Random(7)
    have = len(orders)
    batch: dict[str, list[dict[str, Any]]] = {n: [] for n in ("shop_order", "customer", *kids)}
    used = {o["number"] for o in orders}
    now = time.time()

    def flush(conn: Any) -> None:
        for n in ("customer", "shop_order", *KIDS):
            if batch[n]:
                conn.execute(insert(tables[n]), batch[n])
                batch[n].clear()

    with eng.begin() as conn:
        i = 0
        while have < target:
            src = orders[i % len(orders)]
            i += 1
            oid, cid = nxt["shop_order"], nxt["customer"]
            nxt["shop_order"] += 1
            nxt["customer"] += 1
            num = str(rnd.randrange(10**9, 10**10))
            while num in used:
                num = str(rnd.randrange(10**9, 10**10))
            used.add(num)
            email = f"buyer{oid}@scale.test"
            when = dt.datetime.fromtimestamp(now - rnd.randrange(0, 2 * 365 * 86400), dt.UTC)
            batch["customer"].append({"id": cid, "email": email, "name": f"Buyer {oid}",
                                      "billing_address": {}, "language": "en",
                                      "created_at": when})
            batch["shop_order"].append(dict(
                src, id=oid, number=num, buyer_email=email, buyer_name=f"Buyer {oid}",
                customer_id=cid, idempotency_key=None, request_fingerprint=None,
                placed_at=when, updated_at=when))
            invoice_ids: dict[int, int] = {}
            payment_ids: dict[int, int] = {}
            for n in ("order_line", "invoice", "fraud_check"):
                for r in by_order[n].get(src["id"], []):
                    new = dict(r, id=nxt[n], order_id=oid)
                    nxt[n] += 1
                    if n == "invoice":
                        invoice_ids[r["id"]] = new["id"]
                        if new.get("number"):  # an issued invoice's number is unique
                            new["number"] = f"{new['number']}-c{oid}"
                    batch[n].append(new)
            pays = by_order["payment"].get(src["id"], [])
            for r in pays:
                payment_ids[r["id"]] = nxt["payment"]
                nxt["payment"] += 1
            for r in pays:
                batch["payment"].append(dict(
                    r, id=payment_ids[r["id"]], order_id=oid,
                    invoice_id=invoice_ids.get(r["invoice_id"]),
                    refund_of_id=payment_ids.get(r["refund_of_id"])))
            for r in by_order["order_event"].get(src["id"], []):
                batch["order_event"].append(dict(r, id=nxt["order_event"], order_id=oid,
                                                 order_number=num))
                nxt["order_event"] += 1
            have += 1
            if len(batch["shop_order"]) >= 2000:
                flush(conn)
        flush(conn)
        if url.startswith("postgresql"):
            for n in TABLES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{n}','id'), "
                                  f"(SELECT max(id) FROM {n}))"))
    # what autovacuum does to a table that grew by 100k rows: statistics, and on PostgreSQL
    # the visibility map, without which no index-only scan skips the heap
    with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
    eng.dispose()
    return have
