"""The `--tax` skeleton of `ordermill new-plugin`: a pricing plugin on price_adjustments."""

from __future__ import annotations

TAX_MODULE = '''"""$label: a pricing plugin (the price_adjustments hook of ordermill).

It adds one tax to every line, at `percent` (the `$name` key of ORDERMILL_PLUGIN_CONFIG,
10 by default), and the same tax on fees and shipping. Change the stages you need: discount,
tax, fee, fee_tax (docs/hooks.md, price_adjustments).
"""

from __future__ import annotations

from decimal import Decimal

from ordermill.api import Adjustment, hookimpl

PLUGIN = "$name"


def percent(ctx):
    return Decimal(str(ctx.plugin_config(PLUGIN).get("percent", "10")))


@hookimpl
def price_adjustments(order, stage, adjustments, ctx):
    rate = percent(ctx)
    if stage == "tax":
        # exact amounts (fractions of a cent): the core rounds by the shop's rule
        return [Adjustment("tax", f"$label {rate} %", Decimal(line.total) * rate / 100,
                           line_id=line.id, rate=rate) for line in order.lines]
    if stage == "fee_tax":
        return [Adjustment("tax", f"$label {rate} % on {fee.label}",
                           Decimal(fee.amount) * rate / 100, rate=rate)
                for fee in adjustments if fee.kind in ("fee", "shipping")]
    return None
'''

TAX_TESTS = '''"""$label's tests, with ordermill's kit only."""

import pytest

from ordermill.testing import order_request

pytestmark = pytest.mark.ordermill_plugins("$name")


def test_every_line_is_taxed_and_the_total_includes_it(mill, make_product, order_factory):
    make_product("MUG", price=1999)
    order = order_factory([("MUG", 2)])
    assert [line.tax for line in order.lines] == [400]  # 10 % of 39.98, rounded
    assert (order.tax_total, order.total) == (400, 3998 + 400)
    assert [invoice.amount for invoice in order.invoices] == [order.total]


def test_the_dry_run_shows_the_tax(mill, make_product, staff):
    make_product("MUG", price=1000)
    preview = mill.orders.place(order_request([("MUG", 1)]), actor=staff, dry_run=True)
    pricing = preview.preview["pricing"]
    assert pricing["total"] == "11.00"
    assert [(a["kind"], a["amount"], a["source"]) for a in pricing["adjustments"]] == [
        ("tax", "1.00", "$name")]
'''
