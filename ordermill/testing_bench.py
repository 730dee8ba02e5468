"""Counting the SQL statements of an action, per plugin: the statement budget of issue 20.

`statements_of(mill, action)` runs `action()` and returns how many statements reached the
database cursor, split by who issued them: "core" or "plugin:<name>" (the plugin whose hook
was running). The bench reports it for one placement and one accept; the test suite checks
the totals against the budget (tests/core/test_statement_counts.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from ordermill.core.app import Ordermill
from ordermill.core.requests import CustomerDetails, LineRequest, OrderRequest
from ordermill.core.specs import Actor

PLACE_BUDGET = 12
ACCEPT_BUDGET = 5


HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
#: transaction control is not a statement of the work: the floor's 7 statements per order
#: leave out its BEGIN and COMMIT, and PostgreSQL's driver sends its own without a cursor;
#: SQLite's BEGIN IMMEDIATE (ordermill's, to take the write lock first) goes through one
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@contextmanager
def counting(mill: Ordermill, *, skip_savepoints: bool = False) -> Iterator[Counter[str]]:
    """Count the statements run inside the block, by "core" or "plugin:<name>".

    `skip_savepoints`: leave out SAVEPOINT statements, for the test suite's PostgreSQL
    connection, where a transaction of the action is a savepoint of the test's (in a real
    run it is a BEGIN/COMMIT, which the driver sends without a cursor: not counted)."""
    counts: Counter[str] = Counter()
    running: list[str] = []
    host = mill.plugins
    plain = host._call_one

    def call_one(impl: Any, hook_name: str, kwargs: dict[str, Any]) -> Any:
        running.append(f"plugin:{impl.plugin_name}")
        try:
            return plain(impl, hook_name, kwargs)
        finally:
            running.pop()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        head = statement.lstrip().upper()
        if head.startswith(TRANSACTION_CONTROL) or (skip_savepoints and head.startswith(HARNESS)):
            return
        counts[running[-1] if running else "core"] += 1

    host._call_one = call_one  # type: ignore[method-assign]
    event.listen(mill.engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(mill.engine, "before_cursor_execute", count)
        del host._call_one


def statements_of(mill: Ordermill, action: Callable[[], Any], *,
                  skip_savepoints: bool = False) -> dict[str, int]:
    """{"total": n, "core": ..., "plugin:<name>": ...} for one run of `action`."""
    with counting(mill, skip_savepoints=skip_savepoints) as counts:
        action()
    return {"total": sum(counts.values()), **dict(sorted(counts.items()))}


def bench_request(n: int, skus: list[str]) -> OrderRequest:
    """The bench's order: a new buyer, the given products x 1, bank transfer."""
    return OrderRequest(customer=CustomerDetails(email=f"buyer{n}@bench.test", name=f"Buyer {n}"),
                        lines=[LineRequest(sku=sku, quantity=1) for sku in skus],
                        payment_method="banktransfer")


def place_and_accept_breakdown(mill: Ordermill, skus: list[str], *, warm: int = 2,
                               skip_savepoints: bool = False) -> dict[str, dict[str, int]]:
    """Statements of one placement and one accept of the bench's workload, per plugin.

    `warm` placements run first (the first action of a process warms caches and counters:
    the budget is for the steady state the bench measures)."""
    actor = Actor.system("bench")
    for n in range(warm):
        mill.orders.place(bench_request(-1 - n, skus), actor=actor)
    numbers: list[str] = []

    def place() -> None:
        result = mill.orders.place(bench_request(0, skus), actor=actor)
        assert result.order is not None
        numbers.append(result.order.number)

    placed = statements_of(mill, place, skip_savepoints=skip_savepoints)
    accepted = statements_of(mill, lambda: mill.orders.accept(numbers[0], actor=actor),
                             skip_savepoints=skip_savepoints)
    return {"place": placed, "accept": accepted}


__all__ = ["ACCEPT_BUDGET", "HARNESS", "PLACE_BUDGET", "bench_request", "counting",
           "place_and_accept_breakdown", "statements_of"]
