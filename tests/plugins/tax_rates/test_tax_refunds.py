"""Issue 15 acceptance 2 (the worked part): refunding a line returns its gross price, its tax
and its share of the card fee; an amount is split by the order's tax ratio; each refund
payment records its tax per rate."""

from __future__ import annotations

import types
from collections import defaultdict
from decimal import Decimal

from taxkit import tax_request

from ordermill.core.app import Ordermill
from ordermill.core.models import Order
from ordermill.core.specs import Actor

TWO_TICKETS_AND_A_SHIRT = [("TICKET", 2), ("TSHIRT", 1)]


def _paid_order(mill: Ordermill, staff: Actor) -> Order:
    order = mill.orders.place(tax_request(TWO_TICKETS_AND_A_SHIRT,
                                          payment_method="banktransfer"), actor=staff).order
    assert order is not None
    mill.orders.mark_paid(order.number, actor=staff)
    return mill.orders.get(order.number)


def _refund_tax(order: Order) -> dict[tuple[str, Decimal | None], tuple[int, int]]:
    rows: dict[tuple[str, Decimal | None], list[int]] = defaultdict(lambda: [0, 0])
    for payment in order.payments:
        for row in payment.refund_taxes:
            rows[(row.part, row.rate)][0] += row.net
            rows[(row.part, row.rate)][1] += row.tax
    return {key: (net, tax) for key, (net, tax) in rows.items()}


def test_refunding_the_shirt_returns_its_price_tax_and_fee_share(
        mill: Ordermill, french_shop: None, staff: Actor, card_fee: types.ModuleType) -> None:
    # card fee on bank transfer too, for this test: the docs' example charges per gateway
    card_fee.CARD_FEE_PERCENT["banktransfer"] = Decimal("2")
    order = _paid_order(mill, staff)
    assert order.total == 8599
    shirt = next(line for line in order.lines if line.sku == "TSHIRT")
    assert (shirt.total, shirt.tax) == (2700, 450)  # 22.50 net + 4.50 VAT
    # the fee (1.68 + 0.34 VAT = 2.02) is shared by line totals: 5697 and 2700 of 8397
    result = mill.orders.refund(order.number, actor=staff, line_ids=[shirt.id])
    refund = [p for p in result.order.payments if p.kind == "refund"]
    assert [p.amount for p in refund] == [2700 + 65]
    assert _refund_tax(result.order) == {
        ("goods", Decimal("20")): (2250, 450),
        ("fees", Decimal("20")): (54, 11),
    }
    payment = mill.orders.describe(order.number)["payments"][-1]
    assert payment["tax"] == [{"part": "fees", "rate": "20", "net": "0.54", "tax": "0.11"},
                              {"part": "goods", "rate": "20", "net": "22.50",
                               "tax": "4.50"}]
    # the rest: the tickets with the rest of the fee; every tax refunded exactly once
    final = mill.orders.refund(order.number, actor=staff).order
    assert sum(p.amount for p in final.payments if p.kind == "refund") == 8599
    assert _refund_tax(final) == {
        ("goods", Decimal("20")): (2250, 450),
        ("goods", Decimal("5.5")): (5400, 297),
        ("fees", Decimal("20")): (168, 34),
    }


def test_an_amount_is_split_by_the_orders_tax_ratio(
        mill: Ordermill, french_shop: None, staff: Actor) -> None:
    order = _paid_order(mill, staff)
    assert (order.total, order.tax_total) == (8397, 747)
    refunded = mill.orders.refund(order.number, actor=staff, amount=1000).order
    rows = _refund_tax(refunded)
    # 10.00 of 83.97: 5.5 % tax 2.97 * 1000/8397 = 0.35, 20 % tax 4.50 * 1000/8397 = 0.54
    assert {key: tax for key, (_net, tax) in rows.items()} == {
        ("goods", Decimal("5.5")): 35, ("goods", Decimal("20")): 54}
    assert sum(net + tax for net, tax in rows.values()) == 1000
