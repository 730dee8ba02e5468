"""Issued invoices and credit notes (issue 15): numbered at issue, frozen afterwards, a credit
note per refund, credit notes when an order with issued invoices is deleted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from ordermill import hookimpl
from ordermill.core.errors import ActionNotAllowed, InvalidInput
from ordermill.core.invoice_models import CreditNote, DocumentCounter
from ordermill.core.models import Invoice
from ordermill.core.shop_settings import write_setting

YEAR = dt.datetime.now(dt.UTC).year


def inv(serial: int) -> str:
    return f"INV-{YEAR}-{serial:06d}"


def cn(serial: int) -> str:
    return f"CN-{YEAR}-{serial:06d}"


@pytest.fixture
def shop(make_product: Any, mill: Any, staff: Any) -> None:
    make_product("SEAT", price=3000, stock=20, name="Concert seat")
    make_product("SHIRT", price=2500, stock=20, name="Tour T-shirt")
    write_setting(mill, "seller", {"name": "Salle Pleyel SAS", "address": "252 rue du "
                                   "Faubourg Saint-Honoré, 75008 Paris",
                                   "vat_number": "FR40303265045"}, actor=staff)


def test_placement_issues_a_numbered_invoice_with_its_snapshot(mill, shop, order_factory,
                                                               probe):
    first = order_factory([("SEAT", 2), ("SHIRT", 1)], name="Łukasz Żółć")
    second = order_factory([("SHIRT", 1)])
    [invoice] = probe.order(first.number).invoices
    assert (invoice.state, invoice.status, invoice.number) == ("issued", "unpaid", inv(1))
    assert probe.order(second.number).invoices[0].number == inv(2)
    snapshot = invoice.snapshot
    assert snapshot["seller"] == {"name": "Salle Pleyel SAS", "vat_number": "FR40303265045",
                                  "address": "252 rue du Faubourg Saint-Honoré, 75008 Paris"}
    assert snapshot["buyer"]["name"] == "Łukasz Żółć"
    assert [(line["name"], line["quantity"], line["gross"]) for line in snapshot["lines"]] == [
        ("Concert seat", 2, 6000), ("Tour T-shirt", 1, 2500)]
    assert snapshot["totals"]["gross"] == invoice.amount == 8500
    assert snapshot["number"] == inv(1) and snapshot["reverse_charge"] is False
    placed = probe.events(first.number)[0]
    assert placed.type == "placed" and placed.data["documents"] == [inv(1)]


def test_an_issued_invoice_is_frozen_when_the_buyer_is_edited(mill, shop, order_factory,
                                                              staff, probe):
    order = order_factory([("SEAT", 1)], name="Ann Old")
    before = probe.order(order.number).invoices[0].snapshot
    mill.orders.edit_buyer(order.number, {"name": "Ann New", "email": "new@example.com",
                                          "billing_address": {"city": "Lyon"}}, actor=staff)
    write_setting(mill, "seller", {"name": "Renamed shop"}, actor=staff)
    stored = probe.order(order.number)
    assert stored.buyer_name == "Ann New"
    [invoice] = stored.invoices
    assert invoice.snapshot == before
    assert invoice.snapshot["buyer"]["name"] == "Ann Old"
    assert invoice.snapshot["seller"]["name"] == "Salle Pleyel SAS"


def test_an_order_without_invoice_is_issued_by_the_action(mill, shop, order_factory, staff,
                                                         probe):
    order = order_factory([("SEAT", 1)], generate_invoice=False)
    assert probe.order(order.number).invoices == []
    preview = mill.orders.issue_invoice(order.number, actor=staff, dry_run=True)
    assert probe.order(order.number).invoices == [] and preview.dry_run
    result = mill.orders.issue_invoice(order.number, actor=staff)
    [invoice] = probe.order(order.number).invoices
    assert (invoice.state, invoice.number, invoice.amount) == ("issued", inv(1), 3000)
    event = probe.events(order.number)[-1]
    assert result.event is not None and event.id == result.event.id
    assert event.type == "invoice_issued"
    assert event.message == f"Invoice issued for 30.00 EUR. Numbered {inv(1)}."
    with pytest.raises(ActionNotAllowed, match="no draft invoice to issue"):
        mill.orders.issue_invoice(order.number, actor=staff)
    assert "issue_invoice" not in mill.orders.available_actions(probe.order(order.number), staff)


def test_added_products_get_a_new_issued_invoice_and_cancelling_voids(mill, shop,
                                                                     order_factory, staff,
                                                                     probe):
    from ordermill.core.requests import LineRequest

    order = order_factory([("SEAT", 1), ("SHIRT", 1)])
    mill.orders.add_lines(order.number, [LineRequest("SHIRT", 1)], actor=staff)
    stored = probe.order(order.number)
    assert [(i.number, i.amount, i.state) for i in stored.invoices] == [
        (inv(1), 5500, "issued"), (inv(2), 2500, "issued")]
    first_snapshot = stored.invoices[0].snapshot
    # cancelling one line: the issued invoice is not re-cut; it is void (keeping its number)
    # and what is still asked gets a new invoice
    mill.orders.cancel(order.number, actor=staff, line_ids=[stored.lines[0].id])
    stored = probe.order(order.number)
    assert [(i.number, i.amount, i.state, i.status) for i in stored.invoices] == [
        (inv(1), 5500, "void", "cancelled"), (inv(2), 2500, "void", "cancelled"),
        (inv(3), 5000, "issued", "unpaid")]
    assert stored.invoices[0].snapshot == first_snapshot
    assert [line["name"] for line in stored.invoices[2].snapshot["lines"]] == [
        "Tour T-shirt", "Tour T-shirt"]
    mill.orders.cancel(order.number, actor=staff)
    stored = probe.order(order.number)
    assert {i.state for i in stored.invoices} == {"void"}
    assert [i.number for i in stored.invoices] == [inv(n) for n in range(1, 4)]


def test_fraud_voids_and_back_to_pending_restores_the_same_invoice(mill, shop, order_factory,
                                                                   staff, probe):
    order = order_factory([("SEAT", 1)])
    mill.orders.mark_fraud(order.number, actor=staff)
    [invoice] = probe.order(order.number).invoices
    assert (invoice.state, invoice.number, invoice.status) == ("void", inv(1), "cancelled")
    mill.orders.set_back_to_pending(order.number, actor=staff)
    [invoice] = probe.order(order.number).invoices
    assert (invoice.state, invoice.number, invoice.status) == ("issued", inv(1), "unpaid")


def test_every_refund_issues_a_numbered_credit_note(mill, shop, order_factory, staff, probe):
    order = order_factory([("SEAT", 2), ("SHIRT", 1)], paid=True)
    shirt = probe.order(order.number).lines[1]
    mill.orders.refund(order.number, actor=staff, line_ids=[shirt.id])
    mill.orders.refund(order.number, actor=staff, amount=1000)
    stored = probe.order(order.number)
    first, second = stored.credit_notes
    assert (first.number, first.amount, first.reason) == (cn(1), 2500, "refund")
    assert (second.number, second.amount) == (cn(2), 1000)
    invoice = stored.invoices[0]
    for note in (first, second):
        assert note.invoice_id == invoice.id
        assert note.snapshot["invoice_number"] == inv(1)
        assert note.snapshot["seller"]["name"] == "Salle Pleyel SAS"
        assert note.tax == 0 and note.tax_breakdown == {}  # until refunds record their tax
        assert note.refund_id in {p.id for p in stored.payments if p.kind == "refund"}
    assert [(line["name"], line["gross"]) for line in first.snapshot["lines"]] == [
        ("Tour T-shirt", 2500)]
    assert [line["gross"] for line in second.snapshot["lines"]] == [1000]
    refunded = [e for e in probe.events(order.number) if e.type == "refunded"]
    assert [e.data["documents"] for e in refunded] == [[cn(1)], [cn(2)]]
    # the invoice itself did not change
    assert (invoice.number, invoice.amount, invoice.state) == (inv(1), 8500, "issued")


def test_a_gateway_reported_refund_issues_a_credit_note_too(mill, shop, order_factory, staff,
                                                            probe):
    order = order_factory([("SEAT", 1)])
    mill.orders.record_payment(order.number, actor=staff, amount=3000, gateway="stripe",
                               reference="ch_1", manual=False)
    mill.orders.record_gateway_refund(order.number, actor=staff, gateway="stripe",
                                      charge_reference="ch_1", refund_reference="re_1",
                                      amount=1200)
    [note] = probe.order(order.number).credit_notes
    assert (note.number, note.amount) == (cn(1), 1200)


def test_deleting_an_order_credits_its_issued_invoices_and_keeps_the_books(
        mill, shop, order_factory, staff, probe):
    unpaid = order_factory([("SEAT", 1)])
    mill.orders.delete(unpaid.number, actor=staff, restock=True)
    refunded = order_factory([("SHIRT", 1)], paid=True)
    mill.orders.refund(refunded.number, actor=staff)
    mill.orders.delete(refunded.number, actor=staff, restock=True)
    with mill.read_session() as session:
        notes = list(session.scalars(select(CreditNote).order_by(CreditNote.id)))
        invoices = list(session.scalars(select(Invoice).order_by(Invoice.id)))
    assert [(n.number, n.order_number, n.reason, n.amount) for n in notes] == [
        (cn(1), unpaid.number, "order_deleted", 3000),
        (cn(2), refunded.number, "refund", 2500)]  # fully refunded: nothing more to credit
    assert all(n.order_id is None for n in notes)
    assert [(i.number, i.order_number, i.order_id) for i in invoices] == [
        (inv(1), unpaid.number, None), (inv(2), refunded.number, None)]
    deleted = [e for e in probe.events(unpaid.number) if e.type == "deleted"]
    assert deleted[0].data["credit_notes_issued"] == 1
    assert deleted[0].data["documents"] == [cn(1)]


def test_a_dry_run_takes_no_number(mill, shop, order_factory, staff, probe):
    order = order_factory([("SEAT", 1)], paid=True)
    mill.orders.refund(order.number, actor=staff, amount=500, dry_run=True)
    assert probe.order(order.number).credit_notes == []
    mill.orders.refund(order.number, actor=staff, amount=500)
    assert [n.number for n in probe.order(order.number).credit_notes] == [cn(1)]
    with mill.read_session() as session:
        counters = {(c.series, c.year): c.last_value
                    for c in session.scalars(select(DocumentCounter))}
    assert counters == {("INV", YEAR): 1, ("CN", YEAR): 1}


class ShopNumbers:
    """Invoices numbered in the shop's own gapless series; credit notes left to the core."""

    @hookimpl
    def generate_invoice_number(self, invoice: Any, ctx: Any) -> str | None:
        from ordermill.api import next_document_number

        if invoice.document_kind != "invoice":
            return None
        assert ctx.session is not None and invoice.issued_at is not None
        serial = next_document_number(ctx.session, "SHOP", invoice.issued_at.year)
        return f"F{invoice.issued_at.year}/{serial}"


def test_hook_generate_invoice_number(mill, shop, order_factory, staff, probe,
                                      register_plugin):
    register_plugin(ShopNumbers(), name="shop_numbers")
    first = order_factory([("SEAT", 1)], paid=True)
    second = order_factory([("SEAT", 1)])
    mill.orders.refund(first.number, actor=staff, amount=100)
    assert probe.order(first.number).invoices[0].number == f"F{YEAR}/1"
    assert probe.order(second.number).invoices[0].number == f"F{YEAR}/2"
    assert probe.order(first.number).credit_notes[0].number == cn(1)


class BadNumbers:
    @hookimpl
    def generate_invoice_number(self, invoice: Any, ctx: Any) -> str | None:
        return "   "


def test_a_blank_number_from_a_plugin_is_refused_and_nothing_is_placed(
        mill, shop, order_factory, register_plugin, probe):
    register_plugin(BadNumbers(), name="bad_numbers")
    before = probe.snapshot()
    with pytest.raises(InvalidInput, match="bad_numbers"):
        order_factory([("SEAT", 1)])
    probe.assert_unchanged(before)


class RepeatedNumbers:
    @hookimpl
    def generate_invoice_number(self, invoice: Any, ctx: Any) -> str | None:
        return "SAME-1" if invoice.document_kind == "invoice" else None


def test_a_number_already_taken_is_refused_with_the_plugin_named(
        mill, shop, order_factory, register_plugin, probe):
    register_plugin(RepeatedNumbers(), name="repeat")
    order_factory([("SEAT", 1)])
    before = probe.snapshot()
    with pytest.raises(InvalidInput, match=r"repeat.*already taken"):
        order_factory([("SEAT", 1)])
    probe.assert_unchanged(before)
