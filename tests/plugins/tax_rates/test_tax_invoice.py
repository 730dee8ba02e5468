"""The tax on the documents (issue 15): an issued invoice lists each line and the card fee
with net, rate, tax and gross and sums tax per rate; a refund's credit note carries the tax
the refund returned, per rate; a reverse-charged order's invoice says so."""

from __future__ import annotations

import types
from decimal import Decimal

from taxkit import tax_request

from ordermill.core.app import Ordermill
from ordermill.core.specs import Actor

TWO_TICKETS_AND_A_SHIRT = [("TICKET", 2), ("TSHIRT", 1)]


def test_the_invoice_lists_lines_and_fee_with_their_tax_per_rate(
        mill: Ordermill, french_shop: None, card_fee: types.ModuleType, staff: Actor) -> None:
    card_fee.CARD_FEE_PERCENT["banktransfer"] = Decimal("2")
    order = mill.orders.place(tax_request(TWO_TICKETS_AND_A_SHIRT,
                                          payment_method="banktransfer"), actor=staff).order
    assert order is not None
    [invoice] = mill.orders.get(order.number).invoices
    snapshot = invoice.snapshot
    assert [(line["name"], line["quantity"], line["net"], line["rate"], line["tax"],
             line["gross"]) for line in snapshot["lines"]] == [
        ("Ticket", 2, 5400, "5.5", 297, 5697),
        ("Tshirt", 1, 2250, "20", 450, 2700),
        ("Card fee 2 %", 1, 168, "20", 34, 202)]
    assert snapshot["totals"]["gross"] == 8599 == invoice.amount
    assert snapshot["totals"]["by_rate"] == {"5.5": {"net": 5400, "tax": 297},
                                             "20": {"net": 2418, "tax": 484}}
    assert snapshot["reverse_charge"] is False

    mill.orders.mark_paid(order.number, actor=staff)
    shirt = next(line for line in order.lines if line.sku == "TSHIRT")
    refunded = mill.orders.refund(order.number, actor=staff, line_ids=[shirt.id]).order
    [note] = refunded.credit_notes
    assert note.amount == 2765 and note.tax == 450 + 11  # the shirt and its share of the fee
    assert note.tax_breakdown == {"20": 461}


def test_a_reverse_charged_invoice_says_so(
        mill: Ordermill, french_shop: None, staff: Actor) -> None:
    order = mill.orders.place(tax_request(TWO_TICKETS_AND_A_SHIRT, country="DE",
                                          vat_id="DE 136 695 976",
                                          payment_method="banktransfer"), actor=staff).order
    assert order is not None
    [invoice] = mill.orders.get(order.number).invoices
    assert invoice.snapshot["reverse_charge"] is True
    assert invoice.snapshot["buyer"]["vat_number"] == "DE136695976"
