"""Benchmark: the four reports (issue 17) at shop scale, on SQLite and PostgreSQL.

    .venv/bin/python bench/reports.py                          # SQLite file, 100,000 orders
    .venv/bin/python bench/reports.py --backend postgresql     # a fresh schema on 127.0.0.1
    .venv/bin/python bench/reports.py --orders 20000 --runs 10 # smaller, quicker
    .venv/bin/python bench/reports.py --smoke                  # the demo only, for CI

Builds the data the way the shared scale benchmark does (../shared/peers/ordermill/scale.py,
`--scale` to point elsewhere): `ordermill init` + `ordermill demo`, then the demo's order
graph cloned with SQLAlchemy Core until N orders exist, placed over two years. The clone
keeps the demo's payment dates, so each copy's payments and paid date are moved to its
placement date, and every other attributed sale is confirmed (sales_managers' table). Then
each report runs `--runs` times per filter set (all time; one month; EUR; one gateway) in
process, through the same `run_report` the API calls, and the p50/p95 in milliseconds are
printed as JSON. The target (issue 17): p95 < 300 ms at 100,000 orders on both databases.
The clone writes around the ORM, so the reports plugin's summary tables are rebuilt after it
(`facts.rebuild`, what `ordermill report rebuild` runs); cloned invoices lose their numbers
(unique, and no report reads them).

Results (2026-11-30, 100,000 orders, 20 runs, a shared 2-core machine at load average ~16),
p95 in ms, all time / one month / EUR / stripe:

    report       SQLite                     PostgreSQL
    payments     162 /  86 / 253 /  41      124 /  42 / 145 / 105
    products     142 /  23 / 168 /  99      145 /  37 / 160 / 148
    categories   160 /  18 / 148 /  97      148 /  59 / 136 / 137
    managers     183 /  54 / 184 / 140      172 /  67 / 178 / 155

Before the summary tables (live queries, still `run_report(..., exact=True)`): products and
categories over all dates 4-9 s, payments 160/850 ms, managers 750/370 ms.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import create_engine, text

from ordermill.core.app import Ordermill
from ordermill.core.plugins import PluginHost
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor
from ordermill.plugins.reports.definitions import REPORTS, parse_filters
from ordermill.plugins.reports.facts import rebuild
from ordermill.plugins.reports.service import run_report

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCALE = Path(__file__).resolve().parents[2] / "shared" / "peers" / "ordermill" / "scale.py"
ACTOR = Actor.system("bench")
BENCH_KEY = "bench-only-secret-key-0123456789abcdef"
FILTER_SETS = {"all": {}, "month": {"from": "2026-03-01", "to": "2026-03-31"},
               "eur": {"currency": "EUR"}, "stripe": {"gateway": "stripe"}}
PREPARE = [
    # invoice numbers are unique and the clone copies the demo's invoices as they are
    "UPDATE invoice SET number = NULL",
]
SPREAD = [
    # each copy's money moved when it was placed (the clone keeps the demo's dates)
    "UPDATE payment SET created_at = (SELECT placed_at FROM shop_order "
    "WHERE shop_order.id = payment.order_id) WHERE order_id IS NOT NULL",
    "UPDATE shop_order SET paid_at = placed_at WHERE paid_at IS NOT NULL",
    # every other attributed sale is confirmed
    "DELETE FROM sales_confirmation",
    "INSERT INTO sales_confirmation (order_id, confirmed_by, confirmed_at) "
    "SELECT id, 'system:bench', placed_at FROM shop_order "
    "WHERE sales_manager_id IS NOT NULL AND id % 2 = 0",
    "ANALYZE",
]


def load_scale(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("ordermill_scale", path)
    if spec is None or spec.loader is None:
        sys.exit(f"cannot load the scale benchmark from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def database(backend: str, workdir: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'reports.sqlite'}", None
    schema = f"om_reports_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


def build(url: str, workdir: Path, orders: int, scale: ModuleType | None) -> float:
    env = dict(os.environ, ORDERMILL_DATABASE_URL=url, ORDERMILL_INSTANCE_PATH=str(workdir))
    env.setdefault("ORDERMILL_SECRET_KEY", BENCH_KEY)  # PostgreSQL requires one
    command = str(Path(sys.executable).parent / "ordermill")
    for step in ("init", "demo"):
        done = subprocess.run([command, step], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"ordermill {step} failed: {done.stdout}{done.stderr}")
    started = time.perf_counter()
    engine = create_engine(url)
    if scale is not None:
        with engine.begin() as connection:
            for statement in PREPARE:
                connection.execute(text(statement))
        scale.clone(url, orders)
    with engine.begin() as connection:
        for statement in SPREAD:
            connection.execute(text(statement))
    with engine.begin() as connection:  # the clone and SPREAD went around the ORM
        rebuild(connection)
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def measure(mill: Ordermill, runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in REPORTS:
        for label, values in FILTER_SETS.items():
            filters = parse_filters(values)
            run_report(mill, name, filters, actor=ACTOR)  # warm the caches
            times = []
            rows = 0
            for _ in range(runs):
                started = time.perf_counter()
                rows = len(run_report(mill, name, filters, actor=ACTOR).rows)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            results[f"{name}/{label}"] = {
                "rows": rows, "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--scale", type=Path, default=SCALE)
    parser.add_argument("--smoke", action="store_true", help="the demo only, 3 runs")
    parser.add_argument("--url", help="measure this database as it is (built by an earlier "
                                      "run), without building anything")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="om-reports-"))
    url, schema = (args.url, None) if args.url else database(args.backend, workdir)
    scale = None if args.smoke else load_scale(args.scale)
    runs = 3 if args.smoke else args.runs
    try:
        seed_s = 0.0 if args.url else build(url, workdir, args.orders, scale)
        settings = Settings.from_env(env={}, database_url=url, instance_path=workdir,
                                     secret_key=os.environ.get("ORDERMILL_SECRET_KEY",
                                                               BENCH_KEY))
        mill = Ordermill(settings, plugins=PluginHost(settings))
        try:
            with mill.read_session() as session:
                count = session.execute(text("SELECT count(*) FROM shop_order")).scalar()
            results = measure(mill, runs)
        finally:
            mill.dispose()
        worst = max(result["p95_ms"] for result in results.values())
        print(json.dumps({"backend": args.backend, "orders": count, "seed_s": round(seed_s, 1),
                          "runs": runs, "worst_p95_ms": worst, "reports": results}, indent=1))
    finally:
        if schema is not None:
            admin = create_engine(PG_URL)
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
