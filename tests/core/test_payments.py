"""Money in: partial payments against invoices, mark as paid, flagged payments (never lost)."""

from __future__ import annotations

from typing import Any

import pytest

from ordermill import hookimpl
from ordermill.core.errors import ActionNotAllowed, InvalidInput, PermissionDenied
from ordermill.core.models import Order, Payment
from ordermill.core.money import Money
from ordermill.core.statuses import amount_due, line_summary, money_totals, payment_status


@pytest.fixture
def course(make_product: Any) -> Any:
    return make_product("COURSE", price=3000, stock=None, kind="service")


def test_three_part_invoice_plan_ends_paid(mill, course, order_factory, staff, probe):
    order = order_factory([("COURSE", 1)], invoice_plan=[1000, 1000, 1000])
    statuses = []
    for part in range(3):
        mill.orders.record_payment(order.number, actor=staff, amount=Money(1000, "EUR"),
                                   gateway="card", reference=f"ch_{part}", fee=35,
                                   manual=False)
        stored = probe.order(order.number)
        statuses.append((payment_status(stored), [inv.status for inv in stored.invoices],
                         amount_due(stored), line_summary(stored)))
    assert statuses == [
        ("partially_paid", ["paid", "unpaid", "unpaid"], 2000, "Partially paid"),
        ("partially_paid", ["paid", "paid", "unpaid"], 1000, "Partially paid"),
        ("paid", ["paid", "paid", "paid"], 0, "Complete"),
    ]
    stored = probe.order(order.number)
    assert stored.paid_at is not None
    assert [(p.amount, p.fee, p.net, p.invoice_id) for p in stored.payments] == [
        (1000, 35, 965, inv.id) for inv in stored.invoices]
    events = probe.events(order.number)
    assert [e.type for e in events] == ["placed", "payment", "payment", "payment"]
    assert events[-1].message == (
        "Payment of €10.00 recorded (Card, ref ch_2). Order is now paid.")
    assert [e.data["paid"] for e in events[1:]] == [False, False, True]


def test_a_payment_smaller_than_an_invoice_leaves_it_open(mill, course, order_factory, staff,
                                                          probe):
    order = order_factory([("COURSE", 1)], invoice_plan=[1000, 2000])
    mill.orders.record_payment(order.number, actor=staff, amount=600)
    stored = probe.order(order.number)
    assert [inv.status for inv in stored.invoices] == ["unpaid", "unpaid"]
    assert payment_status(stored) == "partially_paid"
    mill.orders.record_payment(order.number, actor=staff, amount=600)
    stored = probe.order(order.number)
    assert [inv.status for inv in stored.invoices] == ["paid", "unpaid"]
    mill.orders.mark_paid(order.number, actor=staff)
    stored = probe.order(order.number)
    assert stored.payments[-1].amount == 1800  # mark_paid records what is still due
    assert [inv.status for inv in stored.invoices] == ["paid", "paid"]
    assert payment_status(stored) == "paid"


def test_payment_against_a_chosen_invoice(mill, course, order_factory, staff, probe):
    order = order_factory([("COURSE", 1)], invoice_plan=[1000, 2000])
    second = order.invoices[1].id
    mill.orders.record_payment(order.number, actor=staff, amount=2000, invoice_id=second)
    assert probe.order(order.number).payments[0].invoice_id == second
    before = probe.snapshot(order.number)
    with pytest.raises(InvalidInput, match="has no invoice 999999"):
        mill.orders.record_payment(order.number, actor=staff, amount=1000, invoice_id=999999)
    probe.assert_unchanged(before, order.number)


def test_mark_paid(mill, course, order_factory, staff, probe):
    """Webex 'Mark as paid' for cheque and invoice orders; osConcert bank transfer."""
    order = order_factory([("COURSE", 2)], payment_method="banktransfer")
    mill.orders.mark_paid(order.number, actor=staff, reference="BANK-77",
                          comment="Transfer arrived")
    stored = probe.order(order.number)
    [payment] = stored.payments
    assert (payment.amount, payment.manual, payment.gateway, payment.gateway_reference,
            payment.note) == (6000, True, "banktransfer", "BANK-77", "Marked as paid by staff")
    assert payment.actor == "user:admin@shop.test"
    assert (payment_status(stored), line_summary(stored)) == ("paid", "Complete")
    event = probe.events(order.number)[-1]
    assert (event.type, event.comment, event.notify_customer) == (
        "payment", "Transfer arrived", False)  # no e-mail set up: nothing was queued


def test_mark_paid_on_a_paid_order_is_refused(mill, course, order_factory, staff, probe):
    order = order_factory([("COURSE", 1)], paid=True)
    before = probe.snapshot(order.number)
    with pytest.raises(ActionNotAllowed, match=f"Order {order.number} has nothing left to pay"):
        mill.orders.mark_paid(order.number, actor=staff)
    probe.assert_unchanged(before, order.number)


def test_mark_paid_on_a_cancelled_order_is_refused(mill, course, order_factory, staff, probe):
    order = order_factory([("COURSE", 1)])
    mill.orders.cancel(order.number, actor=staff)
    before = probe.snapshot(order.number)
    with pytest.raises(ActionNotAllowed, match="nothing left to pay"):
        mill.orders.mark_paid(order.number, actor=staff)
    probe.assert_unchanged(before, order.number)


@pytest.mark.parametrize("how", ["cancelled", "fraud", "refunded"])
def test_payment_for_a_closed_order_is_recorded_and_flagged(mill, course, order_factory, staff,
                                                            probe, how):
    """A gateway's money for a cancelled order is never dropped (medusa #13301, oscar #3768)."""
    order = order_factory([("COURSE", 1)], paid=how == "refunded")
    if how == "cancelled":
        mill.orders.cancel(order.number, actor=staff)
    elif how == "fraud":
        mill.orders.mark_fraud(order.number, actor=staff)
    else:
        mill.orders.refund(order.number, actor=staff)
    captured = money_totals(probe.order(order.number)).captured
    mill.orders.record_payment(order.number, actor=staff, amount=3000, gateway="card",
                               reference="late-1", manual=False)
    stored = probe.order(order.number)
    assert money_totals(stored).captured == captured + 3000
    assert stored.status == how  # the payment does not reopen the order
    assert stored.needs_attention == (f"payment of €30.00 received while the order is "
                                      f"{mill.statuses.get(how).label}")
    event = probe.events(order.number)[-1]
    assert event.type == "payment_flagged"
    assert "Needs attention" in event.message
    # the money can be given back
    mill.orders.refund(order.number, actor=staff, amount=3000)
    assert money_totals(probe.order(order.number)).net == 0


def test_overpayment_is_recorded_and_flagged(mill, course, order_factory, staff, probe):
    order = order_factory([("COURSE", 1)])
    mill.orders.record_payment(order.number, actor=staff, amount=3500)
    stored = probe.order(order.number)
    assert payment_status(stored) == "paid"
    assert stored.needs_attention == "overpaid by €5.00"
    assert probe.events(order.number)[-1].type == "payment_flagged"


def test_payment_refusals_change_nothing(mill, course, order_factory, staff, viewer, probe):
    order = order_factory([("COURSE", 1)])
    mill.orders.record_payment(order.number, actor=staff, amount=1000, gateway="card",
                               reference="ch_1")
    before = probe.snapshot(order.number)
    with pytest.raises(ActionNotAllowed, match="Payment ch_1 from card is already recorded"):
        mill.orders.record_payment(order.number, actor=staff, amount=1000, gateway="card",
                                   reference="ch_1")
    with pytest.raises(InvalidInput, match="must be more than zero"):
        mill.orders.record_payment(order.number, actor=staff, amount=0)
    with pytest.raises(InvalidInput, match="must be more than zero"):
        mill.orders.record_payment(order.number, actor=staff, amount=-100)
    with pytest.raises(InvalidInput, match="fee must be between zero and the payment amount"):
        mill.orders.record_payment(order.number, actor=staff, amount=100, fee=101)
    with pytest.raises(InvalidInput, match="fee must be between"):
        mill.orders.record_payment(order.number, actor=staff, amount=100, fee=-1)
    with pytest.raises(InvalidInput, match="in USD, the order is in EUR"):
        mill.orders.record_payment(order.number, actor=staff, amount=Money(100, "USD"))
    with pytest.raises(InvalidInput, match="Money or integer minor units"):
        mill.orders.record_payment(order.number, actor=staff, amount="10.00")  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied, match="may not record payments"):
        mill.orders.record_payment(order.number, actor=viewer, amount=100)
    with pytest.raises(PermissionDenied):
        mill.orders.mark_paid(order.number, actor=viewer)
    probe.assert_unchanged(before, order.number)


def test_the_same_reference_from_another_gateway_is_a_different_payment(
        mill, course, order_factory, staff, probe):
    order = order_factory([("COURSE", 1)])
    mill.orders.record_payment(order.number, actor=staff, amount=1000, gateway="card",
                               reference="X1")
    mill.orders.record_payment(order.number, actor=staff, amount=1000, gateway="paypal",
                               reference="X1")
    assert len(probe.order(order.number).payments) == 2


def test_payment_statuses_through_a_life(mill, course, order_factory, staff, probe):
    order = order_factory([("COURSE", 1)])

    def status() -> str:
        return payment_status(probe.order(order.number))

    assert status() == "unpaid"
    mill.orders.record_payment(order.number, actor=staff, amount=1000)
    assert status() == "partially_paid"
    mill.orders.record_payment(order.number, actor=staff, amount=2000)
    assert status() == "paid"
    mill.orders.refund(order.number, actor=staff, amount=500)
    assert status() == "partially_refunded"
    mill.orders.refund(order.number, actor=staff)
    assert status() == "refunded"


def test_on_payment_hook_sees_the_committed_payment(mill, course, order_factory, staff,
                                                    register_plugin):
    seen: list[tuple[str, int, int | None]] = []

    class Listener:
        @hookimpl
        def on_payment(self, order: Order, payment: Payment, ctx: Any) -> None:
            seen.append((payment_status(order), payment.amount, payment.id))

    register_plugin(Listener(), name="listener")
    order = order_factory([("COURSE", 1)])
    mill.orders.mark_paid(order.number, actor=staff)
    assert len(seen) == 1
    assert seen[0][:2] == ("paid", 3000)
    assert seen[0][2] is not None


def test_dry_run_payment_changes_nothing(mill, course, order_factory, staff, probe):
    order = order_factory([("COURSE", 1)])
    before = probe.snapshot(order.number)
    result = mill.orders.mark_paid(order.number, actor=staff, dry_run=True)
    assert result.preview["payment_status"] == {"from": "unpaid", "to": "paid"}
    probe.assert_unchanged(before, order.number)


# ---- invoices follow the money and the lines ------------------------------------------------


@pytest.fixture
def three_parts(make_product: Any, order_factory: Any) -> Any:
    """Three 10.00 lines on a plan of three 10.00 invoices."""
    make_product("PART", price=1000, stock=None)

    def make() -> Order:
        return order_factory([("PART", 1), ("PART", 1), ("PART", 1)],
                             invoice_plan=[1000, 1000, 1000])

    return make


def invoices(probe: Any, number: str) -> list[tuple[int, str]]:
    return [(inv.amount, inv.status) for inv in probe.order(number).invoices]


def test_cancelled_lines_cancel_the_invoices_nobody_owes(mill, three_parts, staff, probe):
    order = three_parts()
    mill.orders.record_payment(order.number, actor=staff, amount=1000)
    mill.orders.cancel(order.number, actor=staff, line_ids=[order.lines[1].id])
    assert invoices(probe, order.number) == [(1000, "paid"), (1000, "unpaid"),
                                             (1000, "cancelled")]
    mill.orders.cancel(order.number, actor=staff, line_ids=[order.lines[2].id])
    assert invoices(probe, order.number) == [(1000, "paid"), (1000, "cancelled"),
                                             (1000, "cancelled")]
    assert payment_status(probe.order(order.number)) == "paid"


def test_part_paid_invoice_keeps_its_paid_part(mill, three_parts, staff, probe):
    order = three_parts()
    mill.orders.record_payment(order.number, actor=staff, amount=1500)
    mill.orders.cancel(order.number, actor=staff, line_ids=[order.lines[2].id])
    assert invoices(probe, order.number) == [(1000, "paid"), (1000, "unpaid"),
                                             (1000, "cancelled")]
    assert amount_due(probe.order(order.number)) == 500
    mill.orders.mark_paid(order.number, actor=staff)
    assert probe.order(order.number).payments[-1].amount == 500
    assert invoices(probe, order.number) == [(1000, "paid"), (1000, "paid"),
                                             (1000, "cancelled")]


def test_refunded_part_payment_is_owed_again(mill, three_parts, staff, probe):
    order = three_parts()
    mill.orders.record_payment(order.number, actor=staff, amount=500)
    mill.orders.refund(order.number, actor=staff, line_ids=[order.lines[0].id])
    stored = probe.order(order.number)
    assert stored.lines[0].refunded_amount == 500
    assert amount_due(stored) == 2000
    assert payment_status(stored) == "unpaid"
    open_total = sum(inv.amount for inv in stored.invoices if inv.status == "unpaid")
    assert open_total == 2000
    mill.orders.mark_paid(order.number, actor=staff)
    stored = probe.order(order.number)
    assert [inv.status for inv in stored.invoices if inv.status != "cancelled"] == [
        "paid", "paid"]
    assert payment_status(stored) == "partially_refunded"


def test_overpayment_pays_every_invoice(mill, three_parts, staff, probe):
    order = three_parts()
    mill.orders.record_payment(order.number, actor=staff, amount=3500)
    assert invoices(probe, order.number) == [(1000, "paid")] * 3
    assert probe.order(order.number).needs_attention == "overpaid by €5.00"
