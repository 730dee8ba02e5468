"""Section `statements`: SQL statements per placement and per accept, and who issues them.

Every installed plugin is loaded, as a shop has it. `ordermill.testing_bench.counting` (the
suite's budget test uses it too) counts the statements, putting one issued while a plugin's
hook runs on that plugin's account; the rest is the core's. Transaction control is not
counted, as in the floor's count. The counts are per action, after warm-up orders
(first-use caches excluded).
"""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from pathlib import Path

from bench.common import Figure, Knobs, database, log, postgres_problem
from bench.peers.ordermill_place import ACTOR, make_mill, order_request, place
from ordermill.core.app import Ordermill
from ordermill.testing_bench import ACCEPT_BUDGET, PLACE_BUDGET, counting

SECTION = "statements"


def measure(mill: Ordermill, orders: int) -> tuple[Counter[str], Counter[str]]:
    """(place counts, accept counts) summed over `orders` orders, by "core" or
    "plugin:<name>"; transaction control (BEGIN, COMMIT) is left out, as in the floor's count
    and the suite's budget test (ordermill.testing_bench.counting)."""
    rnd = random.Random(5)
    for n in range(10):
        mill.orders.accept(place(mill, order_request(n, rnd, "w")), actor=ACTOR)
    numbers = []
    with counting(mill) as placed:
        for n in range(orders):
            numbers.append(place(mill, order_request(n, rnd)))
    with counting(mill) as accepted:
        for number in numbers:
            mill.orders.accept(number, actor=ACTOR)
    return placed, accepted


def _figures(db: str, orders: int, placed: Counter[str],
             accepted: Counter[str]) -> list[Figure]:
    figures = [
        Figure(SECTION, f"SQL per placement ({db})", round(sum(placed.values()) / orders, 2),
               "stmts", "<=", PLACE_BUDGET,
               "every installed plugin loaded; BEGIN/COMMIT not counted"),
        Figure(SECTION, f"SQL per accept ({db})", round(sum(accepted.values()) / orders, 2),
               "stmts", "<=", ACCEPT_BUDGET),
    ]
    for action, counts in (("place", placed), ("accept", accepted)):
        for plugin, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            figures.append(Figure(SECTION, f"  {action} ({db}): {plugin}",
                                  round(count / orders, 2), "stmts"))
    return figures


def run(knobs: Knobs) -> list[Figure]:
    orders = 20 if knobs.smoke else min(knobs.orders, 500)
    figures: list[Figure] = []
    for db in knobs.databases:
        if db == "postgresql" and (problem := postgres_problem()):
            raise RuntimeError(f"PostgreSQL not reachable: {problem}")
        log(f"statements: {orders} orders on {db}")
        with tempfile.TemporaryDirectory() as work, database(db, Path(work), "stmts") as url:
            mill = make_mill(url, Path(work))
            try:
                placed, accepted = measure(mill, orders)
            finally:
                mill.engine.dispose()
        figures += _figures(db, orders, placed, accepted)
    return figures
