"""Money in: payments recorded (by staff or a gateway), marking an order paid, and what a
gateway reports later (refunds made in its dashboard, failed attempts, disputes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ordermill.core import billing, invoicing
from ordermill.core.context import ActionContext
from ordermill.core.errors import ActionNotAllowed, InvalidInput, UnknownInvoice
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import gateway_param, status_param
from ordermill.core.models import Order, OrderEvent, Payment, utcnow
from ordermill.core.money import Money
from ordermill.core.orders.runner import ActionResult, Change
from ordermill.core.orders.steps import OrderSteps, _minor
from ordermill.core.serialize import money_text
from ordermill.core.specs import Actor
from ordermill.core.statuses import ENDED_CATEGORIES, amount_due, payment_status


class MoneyInActions(OrderSteps):
    """Payments and the gateways' news."""

    def record_payment(self, number: str, *, actor: Actor, amount: Money | int | None,
                       gateway: str | None = None, reference: str | None = None,
                       fee: Money | int = 0, invoice_id: int | None = None,
                       one_click: bool = False, manual: bool = True, note: str | None = None,
                       expected_version: int | None = None, dry_run: bool = False,
                       comment: str | None = None, notify_customer: bool = True
                       ) -> ActionResult:
        """Record money received, full or partial, against an invoice (the oldest unpaid by
        default). A payment for a cancelled, refunded or fraud order, or more than is owed, is
        recorded and flagged for the admin: money is never dropped."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            if amount is None:  # mark as paid: whatever is still due
                minor = amount_due(order)
                if minor <= 0:
                    raise ActionNotAllowed(_("Order %(number)s has nothing left to pay.",
                                             number=order.number))
            else:
                minor = _minor(amount, order.currency)
            fee_minor = _minor(fee, order.currency)
            if minor <= 0:
                raise InvalidInput(_("A payment must be more than zero."))
            if fee_minor < 0 or fee_minor > minor:
                raise InvalidInput(_("The fee must be between zero and the payment amount."))
            gateway_name = gateway or order.payment_method
            if reference and any(p.gateway == gateway_name and p.gateway_reference == reference
                                 and p.kind == "charge" for p in order.payments):
                raise ActionNotAllowed(
                    _("Payment %(reference)s from %(gateway)s is already recorded on order "
                      "%(number)s.", reference=reference, gateway=gateway_name,
                      number=order.number), details={"reference": reference})
            invoice = self._invoice_for_payment(order, invoice_id)
            due_before = amount_due(order)
            payment = Payment(
                kind="charge", status="succeeded", gateway=gateway_name,
                gateway_reference=reference, invoice_id=invoice.id if invoice else None,
                amount=minor, fee=fee_minor, net=minor - fee_minor, currency=order.currency,
                one_click=one_click, manual=manual, note=note, actor=ctx.actor.label,
                created_at=utcnow(),
            )
            order.payments.append(payment)
            billing.sync_invoices(order)
            flags = []
            category = self._category(order)
            if category in ENDED_CATEGORIES:
                flags.append(event_msg(
                    "payment of %(amount)s received while the order is %(status)s",
                    amount=Money(minor, order.currency),
                    status=status_param(self.mill, order.status)))
            elif minor > due_before:
                flags.append(event_msg("overpaid by %(amount)s",
                                       amount=Money(minor - due_before, order.currency)))
            if flags:
                order.needs_attention = "; ".join(
                    filter(None, [order.needs_attention, *flags]))
            now_paid = payment_status(order) == "paid"
            if now_paid and order.paid_at is None:
                order.paid_at = utcnow()
            session.flush()
            paid = Money(minor, order.currency)
            method = gateway_param(self.mill, gateway_name)
            message = event_msg("Payment of %(amount)s recorded (%(gateway)s, ref "
                                "%(reference)s).", amount=paid, gateway=method,
                                reference=reference) if reference else \
                event_msg("Payment of %(amount)s recorded (%(gateway)s).", amount=paid,
                          gateway=method)
            if now_paid:
                message += " " + event_msg("Order is now paid.")
            if flags:
                joined = flags[0]
                for flag_text in flags[1:]:
                    joined += "; " + flag_text
                message += " " + event_msg("Needs attention: %(reasons)s.", reasons=joined)
            return Change("payment_flagged" if flags else "payment", message, comment=comment,
                          notify_customer=notify_customer,
                          data={"payment_id": payment.id, "amount": money_text(minor,
                                order.currency), "gateway": gateway_name, "paid": now_paid,
                                "flags": [str(flag) for flag in flags]},
                          after=[("on_payment", {"order": order, "payment": payment})])

        return self._run("record_payment", number, "record_payments", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def _invoice_for_payment(self, order: Order, invoice_id: int | None) -> Any:
        if invoice_id is not None:
            for invoice in order.invoices:
                if invoice.id == invoice_id:
                    return invoice
            raise UnknownInvoice(order.number, invoice_id)
        return next((inv for inv in order.invoices if inv.status == "unpaid"), None)

    def mark_paid(self, number: str, *, actor: Actor, expected_version: int | None = None,
                  dry_run: bool = False, reference: str | None = None,
                  comment: str | None = None, notify_customer: bool = True) -> ActionResult:
        """Record the whole amount still due as received (cheque, invoice, bank transfer)."""
        return self.record_payment(number, actor=actor, amount=None, reference=reference,
                                   manual=True, expected_version=expected_version,
                                   dry_run=dry_run, comment=comment,
                                   notify_customer=notify_customer,
                                   note="Marked as paid by staff")

    # ================================================================ gateway news

    def record_gateway_refund(self, number: str, *, actor: Actor, gateway: str,
                              charge_reference: str, refund_reference: str, amount: int,
                              status: str = "succeeded", note: str | None = None
                              ) -> ActionResult:
        """Record a refund the gateway reports (webhook) without calling the gateway again.

        This reconciles a refund made in the gateway's dashboard, or one whose gateway call
        succeeded while our commit failed: no refund is lost and none is made twice. A refund
        already recorded under `refund_reference` raises ActionNotAllowed with
        details["duplicate"]; a changed status (pending to succeeded) is updated. A refund
        larger than what is left of the charge is not recorded but flagged for the admin.
        """

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            known = next((p for p in order.payments if p.kind == "refund"
                          and p.gateway == gateway and p.gateway_reference == refund_reference),
                         None)
            if known is not None:
                if known.status == status:
                    raise ActionNotAllowed(
                        _("Refund %(reference)s from %(gateway)s is already recorded on order "
                          "%(number)s.", reference=refund_reference, gateway=gateway,
                          number=order.number),
                        details={"reference": refund_reference, "duplicate": True})
                old_status, known.status = known.status, status
                billing.sync_invoices(order)
                return Change("refund_updated", event_msg(
                    "Refund %(reference)s is now %(status)s (was %(old_status)s).",
                    reference=refund_reference, status=status, old_status=old_status),
                              data={"payment_id": known.id, "status": status})
            left = dict((c.id, rest) for c, rest in billing.refundable_by_charge(order))
            charge = next((p for p in order.payments if p.kind == "charge"
                           and p.status == "succeeded" and p.gateway == gateway
                           and p.gateway_reference == charge_reference), None)
            if charge is None:
                raise ActionNotAllowed(
                    _("Order %(number)s has no %(gateway)s payment %(reference)s to refund "
                      "from.", number=order.number, gateway=gateway,
                      reference=charge_reference), details={"reference": charge_reference})
            if amount <= 0 or amount > left.get(charge.id, 0):
                flag = event_msg("%(gateway)s reports refund %(reference)s of %(amount)s, more "
                                 "than is left of payment %(payment)s",
                                 gateway=gateway_param(self.mill, gateway),
                                 reference=refund_reference, amount=Money(amount, order.currency),
                                 payment=charge_reference)
                order.needs_attention = "; ".join(filter(None, [order.needs_attention,
                                                                str(flag)]))
                return Change("refund_flagged", event_msg("Needs attention: %(reasons)s.",
                                                          reasons=flag),
                              data={"reference": refund_reference,
                                "amount": money_text(amount, order.currency)})
            refund = Payment(
                kind="refund", status=status, gateway=gateway,
                gateway_reference=refund_reference, refund_of_id=charge.id,
                invoice_id=charge.invoice_id, amount=amount, fee=0, net=amount,
                currency=order.currency, manual=False, actor=ctx.actor.label,
                note=note or f"Refund reported by {gateway}.", created_at=utcnow(),
            )
            order.payments.append(refund)
            invoicing.credit_refund(order, [refund])
            billing.sync_invoices(order)
            session.flush()
            return Change("refunded", event_msg(
                "Refund of %(amount)s recorded from %(gateway)s (ref %(reference)s).",
                amount=Money(amount, order.currency), gateway=gateway_param(self.mill, gateway),
                reference=refund_reference),
                          data={"payment_id": refund.id,
                                "amount": money_text(amount, order.currency), "gateway": gateway,
                                "reference": refund_reference, "source": "gateway"},
                          after=[("on_refund", {"order": order, "refunds": [refund],
                                                "lines": []})])

        return self._run("record_gateway_refund", number, "refund", work, actor=actor)

    def record_gateway_notice(self, number: str, *, actor: Actor, gateway: str,
                              event_id: str, event_type: str, message: str,
                              attention: str | None = None,
                              data: Mapping[str, Any] | None = None) -> ActionResult:
        """Write a gateway's news (a failed attempt, a dispute) on the order, once per gateway
        event id; `attention` also flags the order for the admin."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            seen = session.scalars(select(OrderEvent.data).where(
                OrderEvent.order_id == order.id, OrderEvent.type == event_type))
            if any((old or {}).get("gateway_event_id") == event_id for old in seen):
                raise ActionNotAllowed(_("Event %(event)s from %(gateway)s is already "
                                         "recorded.", event=event_id, gateway=gateway),
                                       details={"event_id": event_id, "duplicate": True})
            if attention:
                order.needs_attention = "; ".join(filter(None, [order.needs_attention, attention]))
            return Change(event_type, message,
                          data={**(data or {}), "gateway": gateway,
                                "gateway_event_id": event_id})

        return self._run("record_gateway_notice", number, "record_payments", work, actor=actor)
