"""A badge for the surface plugin's stamps, from a second distribution.

It implements `surface_badges`, a hook the surface plugin defines, with `optionalhook=True`:
when the surface plugin is blocked or not installed nobody defines the hook, and this
implementation is kept and never called instead of failing start-up.

`CALLS` records the orders it was asked about, so the tests can tell whether it ran.
"""

from __future__ import annotations

from ordermill.api import Order, hookimpl

CALLS: list[str] = []


@hookimpl(optionalhook=True)
def surface_badges(order: Order) -> list[str]:
    CALLS.append(order.number)
    return [f"addon: {len(order.lines)} line(s)"]
