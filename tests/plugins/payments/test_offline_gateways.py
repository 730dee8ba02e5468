"""Bank transfer, cheque and invoice: offline gateways that wait for an admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core import payments
from ordermill.core.app import Ordermill
from ordermill.core.context import ActionContext
from ordermill.core.errors import ActionNotAllowed, ConfigurationError
from ordermill.core.models import Order, Payment
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor
from ordermill.core.statuses import line_summary, payment_status
from ordermill.plugins import payment_banktransfer
from ordermill.testing_gateways import BANK


class TicketDesk:
    """A provisioning-like plugin: issues e-tickets when, and only when, an order is paid."""

    def __init__(self) -> None:
        self.issued: list[str] = []

    @hookimpl
    def on_payment(self, order: Order, payment: Payment, ctx: ActionContext) -> None:
        if payment_status(order) == "paid":
            self.issued.append(order.number)


@pytest.fixture
def tickets(make_product: Callable[..., Any]) -> None:
    make_product("CONCERT", price=1250, stock=50, kind="ticket")


def test_bank_transfer_orders_wait_unpaid_until_the_admin_records_the_money(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        register_plugin: Callable[..., Any]) -> None:
    desk = TicketDesk()
    register_plugin(desk, name="ticket-desk")
    order = order_factory([("CONCERT", 2)], payment_method="banktransfer")
    assert (order.status, payment_status(order), line_summary(order)) == \
        ("pending", "unpaid", "Unpaid")
    mill.orders.accept(order.number, actor=staff)  # accepting is not paying
    mill.orders.add_comment(order.number, "Waiting for the transfer.", actor=staff)
    assert desk.issued == []
    with pytest.raises(ActionNotAllowed, match="takes no online payment"):
        payments.start_payment(mill, order.number, staff)
    mill.orders.mark_paid(order.number, actor=staff, reference="SEPA-4711",
                          comment="Transfer received, tickets attached.")
    assert desk.issued == [order.number]
    with pytest.raises(ActionNotAllowed, match="nothing left to pay"):
        mill.orders.mark_paid(order.number, actor=staff)
    mill.orders.mark_delivered(order.number, actor=staff)
    assert desk.issued == [order.number]  # exactly once
    order = mill.orders.get(order.number)
    [payment] = order.payments
    assert (payment.gateway, payment.amount, payment.manual, payment.gateway_reference) == \
        ("banktransfer", 2500, True, "SEPA-4711")
    assert payment_status(order) == "paid"


def test_partial_transfers_issue_tickets_when_the_last_part_arrives(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        register_plugin: Callable[..., Any]) -> None:
    desk = TicketDesk()
    register_plugin(desk, name="ticket-desk")
    order = order_factory([("CONCERT", 2)], payment_method="banktransfer")
    mill.orders.record_payment(order.number, actor=staff, amount=1000, reference="SEPA-1")
    assert desk.issued == []
    mill.orders.record_payment(order.number, actor=staff, amount=1500, reference="SEPA-2")
    assert desk.issued == [order.number]


def test_confirmation_instructions_carry_bank_details_and_the_order_number(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order]) -> None:
    order = order_factory([("CONCERT", 2)], payment_method="banktransfer")
    gateway = mill.gateways["banktransfer"]
    assert (gateway.online, gateway.can_refund, gateway.label) == (False, False,
                                                                   "Bank transfer")
    assert gateway.describe_instructions is not None
    text = gateway.describe_instructions(order=order)
    assert "Please transfer €25.00 to:" in text
    for expected in ("Account holder: Concert Hall Ltd", "IBAN: DE89 3704 0044 0532 0130 00",
                     "BIC: COBADEFFXXX", "Bank: Commerzbank",
                     f"Payment reference: {order.number}", "stays pending"):
        assert expected in text


def test_without_bank_details_the_buyer_is_told_to_wait_for_them(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order]) -> None:
    order = order_factory([("CONCERT", 1)], payment_method="banktransfer")
    text = payment_banktransfer.describe_instructions(order=order, config={})
    assert "€12.50" in text and order.number in text and "IBAN" not in text


def test_a_mistyped_iban_stops_the_gateway_from_registering(tmp_path: Any) -> None:
    typo = {**BANK, "iban": "DE89370400440532013001"}
    settings = Settings.from_env(env={}, database_url="sqlite://", instance_path=tmp_path,
                                 plugins={"payment_banktransfer": typo})
    with pytest.raises(ConfigurationError, match="check digits"):
        payment_banktransfer.register_payment_gateways(settings)
    assert payment_banktransfer.iban_is_valid("GB82 WEST 1234 5698 7654 32")
    assert not payment_banktransfer.iban_is_valid("GB82 WEST 1234 5698 7654 33")


@pytest.mark.parametrize("method", ["cheque", "invoice", "banktransfer"])
def test_offline_refunds_are_recorded_for_the_admin_to_pay_back(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order], staff: Actor,
        method: str) -> None:
    order = order_factory([("CONCERT", 1), ("CONCERT", 1)], payment_method=method,
                          paid=True)
    assert payment_status(order) == "paid"
    result = mill.orders.refund(order.number, actor=staff, line_ids=[order.lines[0].id])
    label = mill.gateways[method].label  # the registry's label, not the internal name
    assert f"Return the money by hand: {label} cannot refund automatically." in \
        result.preview["message"]
    order = mill.orders.get(order.number)
    refund = order.payments[-1]
    assert (refund.kind, refund.manual, refund.amount, refund.gateway_reference) == \
        ("refund", True, 1250, None)
    assert payment_status(order) == "partially_refunded"


def test_cheque_and_invoice_say_how_to_pay(
        mill: Ordermill, tickets: None, order_factory: Callable[..., Order]) -> None:
    cheque = order_factory([("CONCERT", 1)], payment_method="cheque")
    invoice = order_factory([("CONCERT", 1)], payment_method="invoice")
    assert payment_status(cheque) == payment_status(invoice) == "unpaid"
    cheque_text = mill.gateways["cheque"].describe_instructions(order=cheque)  # type: ignore[misc]
    invoice_text = mill.gateways["invoice"].describe_instructions(order=invoice)  # type: ignore[misc]
    assert "cheque for €12.50" in cheque_text and cheque.number in cheque_text
    assert "payable within 30 days" in invoice_text and invoice.number in invoice_text
