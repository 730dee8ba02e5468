"""Section `statements`: SQL statements per placement and per accept, and who issues them.

Every installed plugin is loaded, as a shop has it. A `before_cursor_execute` listener counts
the statements, and each plugin's hook implementations are wrapped so a statement issued
while one runs is put on that plugin's account (the innermost one when hooks nest); the rest
is the core's. The counts are per action, after warm-up orders (first-use caches excluded).
"""

from __future__ import annotations

import functools
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import Figure, Knobs, database, log, postgres_problem
from bench.peers.ordermill_place import ACTOR, make_mill, order_request, place
from ordermill.core.app import Ordermill

SECTION = "statements"


class Attribution:
    """Counts statements per plugin while installed on a mill."""

    def __init__(self, mill: Ordermill) -> None:
        self.stack: list[str] = []
        self.counts: Counter[str] = Counter()
        self.wrapped = 0
        for caller in vars(mill.plugins.pm.hook).values():
            get = getattr(caller, "get_hookimpls", None)
            if get is None:
                continue
            for impl in get():
                if impl.hookwrapper or getattr(impl, "wrapper", False):
                    continue
                impl.function = self._wrap(impl.function, impl.plugin_name)
                self.wrapped += 1
        event.listen(mill.engine, "before_cursor_execute", self._count)

    def _wrap(self, function: Callable[..., Any], plugin: str) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(plugin)
            try:
                return function(*args, **kwargs)
            finally:
                self.stack.pop()
        return wrapper

    def _count(self, *_args: object) -> None:
        self.counts[self.stack[-1] if self.stack else "core"] += 1

    def take(self) -> Counter[str]:
        counts, self.counts = self.counts, Counter()
        return counts


def measure(mill: Ordermill, orders: int) -> tuple[Counter[str], Counter[str]]:
    """(place counts, accept counts) summed over `orders` orders, per plugin."""
    rnd = random.Random(5)
    for n in range(10):
        mill.orders.accept(place(mill, order_request(n, rnd, "w")), actor=ACTOR)
    numbers = []
    attribution = Attribution(mill)
    for n in range(orders):
        numbers.append(place(mill, order_request(n, rnd)))
    placed = attribution.take()
    for number in numbers:
        mill.orders.accept(number, actor=ACTOR)
    return placed, attribution.take()


def _figures(db: str, orders: int, placed: Counter[str],
             accepted: Counter[str]) -> list[Figure]:
    figures = [
        Figure(SECTION, f"SQL per placement ({db})", round(sum(placed.values()) / orders, 2),
               "stmts", "<=", 12, "every installed plugin loaded"),
        Figure(SECTION, f"SQL per accept ({db})", round(sum(accepted.values()) / orders, 2),
               "stmts", "<=", 5),
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
