"""The default restock behaviour: released units go back to the product's stock.

Registered `trylast`, so another plugin can take over (say, releasing numbered seats to a
seating plan) by implementing `restock` and returning True.
"""

from __future__ import annotations

from ordermill.api import ActionContext, OrderLine, hookimpl, release_stock


@hookimpl(trylast=True)
def restock(line: OrderLine, quantity: int, ctx: ActionContext) -> bool:
    assert ctx.session is not None, "restock runs inside the action's transaction"
    release_stock(ctx.session, line.product_id, quantity, line=line, reason=ctx.action)
    return True
