"""cli.balance: `serve --processes N` children take new connections in turn by load.

The rule: the child holding the fewest connections takes the next one; a child silent for
STALE_AFTER seconds is left out. tests/web/test_serve_processes.py shows it over real
sockets (8 keep-alive connections to two children end up 4 and 4)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ordermill.cli.balance import STALE_AFTER, ConnectionBalance


def balance_of(counts: list[int], now: float = 100.0) -> ConnectionBalance:
    balance = ConnectionBalance(len(counts))
    for index, count in enumerate(counts):
        balance.record(index, count, now=now)
    return balance


def test_only_the_least_loaded_children_accept() -> None:
    balance = balance_of([3, 2, 2])
    assert [balance.may_accept(i, now=100.0) for i in range(3)] == [False, True, True]


def test_a_child_silent_for_too_long_is_left_out() -> None:
    balance = balance_of([5, 0])
    balance.record(1, 0, now=100.0 - STALE_AFTER - 0.01)  # hung or dead, never replaced
    assert balance.may_accept(0, now=100.0)
    balance.record(1, 0, now=100.0)  # its replacement starts
    assert not balance.may_accept(0, now=100.0)


@given(st.lists(st.tuples(st.integers(0, 50), st.booleans()), min_size=1, max_size=8))
def test_some_live_child_always_accepts(children: list[tuple[int, bool]]) -> None:
    """Whatever the counts and whichever children are silent, a live child accepts: a
    connection waits for one, never for ever."""
    balance = ConnectionBalance(len(children))
    for index, (count, silent) in enumerate(children):
        balance.record(index, count, now=0.0 if silent else 100.0)
    live = [index for index, (_count, silent) in enumerate(children) if not silent]
    accepting = [index for index in live if balance.may_accept(index, now=100.0)]
    assert accepting or not live
    if live:
        fewest = min(children[index][0] for index in live)
        assert all(children[index][0] == fewest for index in accepting)
