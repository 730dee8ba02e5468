"""The pricing hook: discounts, tax, fees and shipping added to an order (in-transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ordermill.core.adjustments import Adjustment
    from ordermill.core.context import ActionContext
    from ordermill.core.models import Order

from ordermill.hookspecs.tags import hookspec, in_transaction

__all__ = ["price_adjustments"]


@hookspec
@in_transaction
def price_adjustments(order: Order, stage: str, adjustments: Sequence[Adjustment],
                      ctx: ActionContext) -> Iterable[Adjustment] | None:
    """Add discounts, tax, fees or shipping to an order. In-transaction hook.

    Called by `place`, `add_lines`, their dry runs and any re-pricing, once per stage in this
    order: "discount" (kind discount; the promo code's discount is already there),
    "tax" (kind tax, each naming its line_id), "fee" (kind fee or shipping) and "fee_tax"
    (kind tax on fees, no line_id). `adjustments` are those made so far (earlier stages and
    the core's promo), and the order already shows them: after the tax stage each line's
    `total` is what the buyer pays for it and `tax` the tax in it. Return Adjustment objects
    (amounts positive, int minor units or Decimal fractions the core rounds by the shop's
    `tax_rounding` rule) or None. Tax marked `included=True` is inside the line price
    (prices entered gross) and not added. The core stores them and sets the order's
    discount, fee_total, tax_total and total; never set those yourself. Raise InvalidInput
    to refuse the order (e.g. a bad VAT number); any exception aborts the action.
    """
