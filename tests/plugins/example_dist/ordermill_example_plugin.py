"""An example third-party ordermill plugin, as a shop's developer would write it.

Installed through the `ordermill` entry-point group (see pyproject.toml next to this file), it
adds an "Awaiting shipment" status between Active and Completed, and on every accepted order it
writes a progress comment saying when the parcel will be packed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ordermill.api import ActionContext, Actor, Order, Settings, StatusSpec, hookimpl

ACTOR = Actor.system("ordermill-example-plugin")


@hookimpl
def register_statuses(settings: Settings) -> Iterable[StatusSpec]:
    return [
        StatusSpec(
            name="awaiting_shipment",
            label="Awaiting shipment",
            category="active",
            colour="#0891b2",
            transitions={"completed", "cancelled", "active"},
            reachable_from={"active"},
            description="Accepted and packed; waiting for the carrier.",
        )
    ]


@hookimpl
def on_accept(order: Order, options: Mapping[str, Any], ctx: ActionContext) -> None:
    days = ctx.plugin_config("example").get("packing_days", 1)
    ctx.mill.orders.add_comment(
        order.number,
        f"Example plugin: order {order.number} will be packed within {days} day(s).",
        actor=ACTOR,
    )
