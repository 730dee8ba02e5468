"""Orders are collected at the desk: a status for that, and a note in each order's history."""

from ordermill.api import Actor, StatusSpec, hookimpl


@hookimpl
def register_statuses(settings):
    return [StatusSpec(name="awaiting_pickup", label="Awaiting pickup", category="active",
                       transitions={"completed", "cancelled"}, reachable_from={"active"})]


@hookimpl
def on_order_placed(order, ctx):
    ctx.mill.orders.add_comment(order.number, "Collect at the desk.",
                                actor=Actor.system("kit_pickup"))
