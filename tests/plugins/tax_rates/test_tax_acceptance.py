"""Issue 15 acceptance 1, 4 and 5: France with the 10 % promo and the docs' 2 % card fee,
prices entered net and gross; the invoice and the Stripe intent charge the taxed total;
reverse charge and invalid VAT numbers; the dry run and the placed event."""

from __future__ import annotations

import types
from decimal import Decimal
from typing import Any

import pytest
from taxkit import FRANCE_AND_INDONESIA, tax_request

from ordermill.core import payments
from ordermill.core.app import Ordermill
from ordermill.core.errors import InvalidInput
from ordermill.core.models import Customer, Order
from ordermill.core.specs import Actor
from ordermill.testing_gateways import FakeStripe

TWO_TICKETS_AND_A_SHIRT = [("TICKET", 2), ("TSHIRT", 1)]


def _breakdown(order: Order) -> dict[str, Any]:
    tax = [a for a in order.adjustments if a.kind == "tax"]
    return {
        "line_tax": {line.sku: line.tax for line in order.lines},
        "fee_tax": [a.amount for a in tax if a.line_id is None],
        "fee": [a.amount for a in order.adjustments if a.kind == "fee"],
        "tax_total": order.tax_total, "fee_total": order.fee_total,
        "discount": order.discount, "total": order.total,
    }


def test_net_prices_total_85_99_on_invoice_and_stripe_intent(
        mill: Ordermill, french_shop: None, card_fee: types.ModuleType, staff: Actor,
        stripe_fake: FakeStripe) -> None:
    order = mill.orders.place(tax_request(TWO_TICKETS_AND_A_SHIRT), actor=staff).order
    assert order is not None
    # tickets 54.00 net after the promo: 5.5 % = 2.97; T-shirt 22.50: 20 % = 4.50;
    # card fee 2 % of the goods' gross 83.97 = 1.68 net, its 20 % VAT 0.34
    assert _breakdown(order) == {
        "line_tax": {"TICKET": 297, "TSHIRT": 450}, "fee_tax": [34], "fee": [168],
        "tax_total": 781, "fee_total": 168, "discount": 850, "total": 8599}
    described = mill.orders.describe(order.number)
    assert (described["subtotal"], described["discount"], described["fee_total"],
            described["tax_total"], described["total"], described["total_excl_tax"]) == (
        "85.00", "8.50", "1.68", "7.81", "85.99", "78.18")
    assert [line["tax"] for line in described["lines"]] == ["2.97", "4.50"]
    assert [invoice.amount for invoice in order.invoices] == [8599]
    intent = payments.start_payment(mill, order.number, staff)
    assert intent["amount"] == "85.99"
    assert stripe_fake.intents[intent["payment_intent"]]["amount"] == 8599


@pytest.mark.parametrize("tax_config", [{"home_country": "FR", "prices_include_tax": True,
                                         "rates": FRANCE_AND_INDONESIA}])
def test_gross_prices_total_78_34_on_invoice_and_stripe_intent(
        mill: Ordermill, french_shop: None, card_fee: types.ModuleType, staff: Actor,
        stripe_fake: FakeStripe) -> None:
    order = mill.orders.place(tax_request(TWO_TICKETS_AND_A_SHIRT), actor=staff).order
    assert order is not None
    # tickets 54.00 gross hold 2.82 at 5.5 %; the T-shirt's 22.50 hold 3.75 at 20 %;
    # card fee 2 % of 76.50 = 1.53 net, its VAT 0.31
    assert _breakdown(order) == {
        "line_tax": {"TICKET": 282, "TSHIRT": 375}, "fee_tax": [31], "fee": [153],
        "tax_total": 688, "fee_total": 153, "discount": 850, "total": 7834}
    assert all(a.included for a in order.adjustments if a.kind == "tax" and a.line_id)
    assert [invoice.amount for invoice in order.invoices] == [7834]
    intent = payments.start_payment(mill, order.number, staff)
    assert stripe_fake.intents[intent["payment_intent"]]["amount"] == 7834


def test_sum_of_parts_is_the_total(mill: Ordermill, french_shop: None,
                                   card_fee: types.ModuleType, staff: Actor) -> None:
    order = mill.orders.place(tax_request(TWO_TICKETS_AND_A_SHIRT), actor=staff).order
    assert order is not None
    lines = sum(line.total for line in order.lines)
    fees = sum(a.amount for a in order.adjustments if a.kind == "fee")
    fee_tax = sum(a.amount for a in order.adjustments if a.kind == "tax" and not a.line_id)
    assert lines + fees + fee_tax == order.total
    assert order.subtotal - order.discount + order.fee_total + order.tax_total == order.total


def test_indonesia_pays_ppn_11_percent(mill: Ordermill, french_shop: None, staff: Actor
                                       ) -> None:
    order = mill.orders.place(tax_request([("TICKET", 1), ("TSHIRT", 1)], country="ID",
                                          promo_code=None, payment_method="banktransfer"),
                              actor=staff).order
    assert order is not None
    assert {line.sku: line.tax for line in order.lines} == {"TICKET": 330, "TSHIRT": 275}
    assert {a.rate for a in order.adjustments if a.kind == "tax"} == {Decimal("11")}
    assert order.total == 5500 + 605


# ---- acceptance 4: reverse charge, invalid VAT numbers -----------------------------------


def test_valid_vat_number_of_another_eu_country_pays_no_vat(
        mill: Ordermill, french_shop: None, card_fee: types.ModuleType, staff: Actor) -> None:
    order = mill.orders.place(tax_request(TWO_TICKETS_AND_A_SHIRT, country="DE",
                                          vat_id="DE 136 695 976"), actor=staff).order
    assert order is not None
    assert order.vat_id == "DE136695976"
    assert order.tax_total == 0
    assert order.total == 7650 + 153  # goods after the promo, the card fee, no VAT
    codes = {a.code for a in order.adjustments if a.kind == "tax"}
    assert codes == {"reverse_charge"}
    described = mill.orders.describe(order.number)
    assert described["buyer"]["vat_id"] == "DE136695976"
    assert any("reverse charge" in a["label"].lower() for a in described["adjustments"])
    with mill.read_session() as session:
        assert session.query(Customer).filter_by(email="buyer@example.com").one().vat_id \
            == "DE136695976"


@pytest.mark.parametrize("tax_config", [{"home_country": "FR", "prices_include_tax": True,
                                         "rates": FRANCE_AND_INDONESIA}])
def test_reverse_charge_with_gross_prices_takes_the_vat_out(
        mill: Ordermill, french_shop: None, staff: Actor) -> None:
    order = mill.orders.place(tax_request([("TSHIRT", 1)], country="BE", promo_code=None,
                                          vat_id="BE0403019261"), actor=staff).order
    assert order is not None
    assert (order.total, order.tax_total) == (2083, 0)  # 25.00 gross holds 4.17 VAT


def test_french_business_still_pays_french_vat(mill: Ordermill, french_shop: None,
                                               staff: Actor) -> None:
    order = mill.orders.place(tax_request([("TSHIRT", 1)], promo_code=None,
                                          vat_id="FR40303265045"), actor=staff).order
    assert order is not None
    assert order.tax_total == 500


@pytest.mark.parametrize("vat_id", ["DE123456789", "FR00000000000", "XX1234"])
def test_invalid_vat_number_is_refused_and_nothing_is_stored(
        mill: Ordermill, french_shop: None, staff: Actor, vat_id: str) -> None:
    with pytest.raises(InvalidInput, match=r"VAT number .* is not valid") as refused:
        mill.orders.place(tax_request([("TSHIRT", 1)], country="DE", vat_id=vat_id),
                          actor=staff)
    assert refused.value.details.get("field") == "vat_id"
    with mill.read_session() as session:
        assert session.query(Order).count() == 0


def test_vat_number_of_another_country_than_the_billing_one_is_refused(
        mill: Ordermill, french_shop: None, staff: Actor) -> None:
    with pytest.raises(InvalidInput, match="billing country is BE"):
        mill.orders.place(tax_request([("TSHIRT", 1)], country="BE", vat_id="DE136695976"),
                          actor=staff)


@pytest.mark.parametrize("country", ["France", "XY", "EU", "F"])
def test_billing_country_must_be_iso_alpha_2(mill: Ordermill, french_shop: None,
                                             staff: Actor, country: str) -> None:
    with pytest.raises(InvalidInput, match="two-letter ISO 3166-1 code"):
        mill.orders.place(tax_request([("TSHIRT", 1)], country=country), actor=staff)


def test_lower_case_country_is_stored_upper_case(mill: Ordermill, french_shop: None,
                                                 staff: Actor) -> None:
    order = mill.orders.place(tax_request([("TSHIRT", 1)], country="fr", promo_code=None),
                              actor=staff).order
    assert order is not None
    assert order.billing_address["country"] == "FR"
    assert order.tax_total == 500


# ---- acceptance 5: the dry run shows every adjustment; the placed event the taxed total ----


def test_dry_run_shows_every_adjustment_and_stores_nothing(
        mill: Ordermill, french_shop: None, card_fee: types.ModuleType, staff: Actor) -> None:
    result = mill.orders.place(tax_request(TWO_TICKETS_AND_A_SHIRT), actor=staff,
                               dry_run=True)
    assert result.dry_run and result.order is None
    pricing = result.preview["pricing"]
    assert (pricing["total"], pricing["tax_total"], pricing["fee_total"],
            pricing["discount"]) == ("85.99", "7.81", "1.68", "8.50")
    shown = [(a["stage"], a["kind"], a["amount"], a["rate"], a["source"])
             for a in pricing["adjustments"]]
    assert shown == [
        ("discount", "discount", "6.00", None, "core"),
        ("discount", "discount", "2.50", None, "core"),
        ("tax", "tax", "2.97", "5.5", "tax_rates"),
        ("tax", "tax", "4.50", "20", "tax_rates"),
        ("fee", "fee", "1.68", None, "card_fee_example"),
        ("fee_tax", "tax", "0.34", "20", "tax_rates"),
    ]
    with mill.read_session() as session:
        assert session.query(Order).count() == 0


def test_placed_event_records_the_taxed_total(
        mill: Ordermill, french_shop: None, card_fee: types.ModuleType, staff: Actor) -> None:
    order = mill.orders.place(tax_request(TWO_TICKETS_AND_A_SHIRT), actor=staff).order
    assert order is not None
    placed = mill.orders.history(order.number)[0]
    assert placed.type == "placed"
    assert "€85.99" in placed.message
    assert (placed.data["total"], placed.data["tax_total"], placed.data["fee_total"],
            placed.data["total_excl_tax"]) == ("85.99", "7.81", "1.68", "78.18")
