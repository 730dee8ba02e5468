"""POST /api/v1/orders through the Flask test client, in this process: per-request cost.

The `http` section's request (a staff token, a new buyer, one line of a stocked product,
bank transfer) against a fresh database with the demo data, N times after a warm-up: wall
and CPU ms per request, SQL statements per request, and Python calls per request under
cProfile (the steadiest of the four on a shared machine). What changes in the request path
are judged by, before the 8-client HTTP run (issue 20):

    python -m bench.inprocess --db sqlite -n 300 --profile bench/results/post.prof
    python -m bench.inprocess --db postgresql -n 200
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import database
from bench.seed import cli, env_for, init_demo


def measure(db: str, n: int, profile_path: Path | None = None, warm_up: int = 30
            ) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as work, database(db, Path(work), "inproc") as url:
        init_demo(url, Path(work))
        env = env_for(url, Path(work))
        cli(["user", "create", "--email", "bench@example.com", "--name", "Bench", "--role",
             "admin", "--password", "Bench-pass-123"], env)
        found = re.search(r"om_[A-Za-z0-9_\-]+", cli(
            ["token", "create", "--email", "bench@example.com", "--name", "bench"], env))
        assert found is not None
        os.environ.update(env)
        from ordermill.core.app import Ordermill
        from ordermill.web import create_app

        mill = Ordermill()
        try:
            return _run(mill, create_app(mill).test_client(),
                        {"Authorization": f"Bearer {found.group(0)}"}, n, warm_up,
                        profile_path)
        finally:
            mill.engine.dispose()


def _run(mill: Any, client: Any, headers: dict[str, str], n: int, warm_up: int,
         profile_path: Path | None) -> dict[str, float]:
    products = client.get("/api/v1/products?per_page=200", headers=headers).json["products"]
    sku = next(p["sku"] for p in products if p.get("stock") is None or p["stock"] > 10000)

    def post(k: int) -> None:
        body = {"customer": {"email": f"h{k}-{secrets.token_hex(4)}@scale.test", "name": "H"},
                "lines": [{"sku": sku, "quantity": 1}], "payment_method": "banktransfer"}
        answer = client.post("/api/v1/orders", json=body, headers=headers)
        if answer.status_code != 201:
            raise RuntimeError(f"POST /api/v1/orders: {answer.status_code} {answer.text}")

    def timed(block: Callable[[], None]) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        block()
        return ((time.perf_counter() - wall) / n * 1000, (time.process_time() - cpu) / n * 1000)

    for k in range(warm_up):
        post(k)
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    def posts() -> None:
        for k in range(n):
            post(k)

    profiler = cProfile.Profile()

    def profiled_posts() -> None:
        profiler.enable()
        posts()
        profiler.disable()

    event.listen(mill.engine, "before_cursor_execute", count)
    wall, cpu = timed(posts)
    event.remove(mill.engine, "before_cursor_execute", count)
    profiled, _cpu = timed(profiled_posts)
    if profile_path is not None:
        profile_path.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(profile_path)
    return {"wall_ms": wall, "cpu_ms": cpu, "profiled_ms": profiled,
            "statements": statements[0] / n,
            "python_calls": pstats.Stats(profiler).total_calls / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("-n", type=int, default=300, help="requests measured (300)")
    parser.add_argument("--profile", type=Path, help="save the cProfile here (.prof)")
    args = parser.parse_args()
    got = measure(args.db, args.n, args.profile)
    print(f"{args.db}: {args.n} x POST /api/v1/orders in-process: wall {got['wall_ms']:.2f} "
          f"ms, CPU {got['cpu_ms']:.2f} ms, under cProfile {got['profiled_ms']:.2f} ms; "
          f"{got['statements']:.1f} SQL statements, {got['python_calls']:.0f} Python calls "
          f"per request")


if __name__ == "__main__":
    main()
