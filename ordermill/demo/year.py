"""A year of ordinary sales before the recent scenarios: one order about every three weeks
(few, so that `serve --demo` stays quick), so that every report and chart (issue 17) shows
something real.

Most are sold on the web (sales manager "system"); some are taken by phone by Anna or Sam
(the sales manager of the order). Each is paid the way its method brings money (online
gateways keep a fee) and completed; a few get a partial refund. Which phone sales are
confirmed is for a plugin that confirms sales to decide, through the `on_demo_loaded` hook.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ordermill.demo.shop import ShopSteps

ORDERS = 16
FIRST_DAY = 45  # days ago of the newest of these orders (the scenarios cover the last 40)
# (lines, payment method): cycled through, so the year mixes products and gateways
BASKETS: tuple[tuple[tuple[tuple[str, int], ...], str], ...] = (
    ((("TEE-ORGANIC", 2),), "stripe"),
    ((("EBOOK-STUDIO", 1), ("PRESETS-SYNTH", 1)), "paypal"),
    ((("VINYL-LIVE", 1),), "banktransfer"),
    ((("MUG-ENAMEL", 2), ("POSTER-A2", 1)), "stripe"),
    ((("PRESETS-SYNTH", 1),), "cheque"),
    ((("TEE-ORGANIC", 1), ("MUG-ENAMEL", 1)), "paypal"),
    ((("EBOOK-STUDIO", 1),), "stripe"),
)
PARTIAL_REFUND = 500  # 5.00 back on every fifth order: a scratched mug, a late parcel
REFUND_COMMENT = "Partial refund: goodwill for a late delivery."


class YearRecipes(ShopSteps):
    """The year's orders, as (days ago, recipe) pairs."""

    def year_of_sales(self) -> list[tuple[float, Callable[[], str]]]:
        recipes: list[tuple[float, Callable[[], str]]] = []
        for index in range(ORDERS):
            days_ago = FIRST_DAY + index * (365 - FIRST_DAY) / (ORDERS - 1)
            recipes.append((days_ago, partial(self.yearly_sale, index)))
        return recipes

    def yearly_sale(self, index: int) -> str:
        lines, method = BASKETS[index % len(BASKETS)]
        by_phone = index % 3 != 0
        manager = self.support if index % 3 == 2 else self.manager
        number = self.place(list(lines), method, by_phone=by_phone, manager=manager)
        refund = index % 5 == 4
        self.pay(number, will_refund=refund)
        self.complete(number)
        if refund:
            self.mill.orders.refund(number, actor=self.manager, amount=PARTIAL_REFUND,
                                    restock=False, comment=REFUND_COMMENT,
                                    notify_customer=False)
        return number


__all__ = ["YearRecipes"]
