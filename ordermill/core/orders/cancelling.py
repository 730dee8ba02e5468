"""Ending an order or some of its lines: cancel, refund, both at once, and deleting it for
good."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from ordermill.core import billing, invoicing, line_parts
from ordermill.core.context import ActionContext
from ordermill.core.deletion import delete_order
from ordermill.core.errors import IllegalTransition, InvalidInput, OverRefund
from ordermill.core.gateway_refunds import refund_payments, refund_remarks
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import money_display, money_shown, status_label
from ordermill.core.line_parts import LineQuantities, Pick
from ordermill.core.models import Order, OrderLine, Payment, utcnow
from ordermill.core.money import Money
from ordermill.core.orders.runner import ActionResult, Change
from ordermill.core.orders.steps import OrderSteps, _allocate_to_lines, _minor
from ordermill.core.refund_tax import record_refund_tax
from ordermill.core.retry import retry_once
from ordermill.core.serialize import money_text
from ordermill.core.specs import Actor
from ordermill.core.statuses import CLOSED_CATEGORIES


class CancelRefundActions(OrderSteps):
    """Cancel, refund, cancel and refund, delete."""

    def cancel(self, number: str, *, actor: Actor, line_ids: Sequence[int] | None = None,
               lines: LineQuantities | None = None,
               restock: bool = True, expected_version: int | None = None,
               dry_run: bool = False, comment: str | None = None,
               notify_customer: bool = True) -> ActionResult:
        """Cancel chosen lines, some units of them, or the whole order. Cancelling is final;
        refunds stay possible.

        `line_ids` cancels whole lines; `lines` ({line id: units}) cancels that many units of
        each line, split off into a line of their own (core.line_parts); not both.
        """

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            return self._cancel_work(order, ctx, line_ids, restock, comment, notify_customer,
                                     lines)

        return self._run("cancel", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def _cancel_work(self, order: Order, ctx: ActionContext, line_ids: Sequence[int] | None,
                     restock: bool, comment: str | None, notify_customer: bool,
                     chosen: LineQuantities | None = None) -> Change:
        old = order.status
        wanted = line_parts.wanted_units(line_ids, chosen)
        if wanted is None and self._category(order) in CLOSED_CATEGORIES:
            raise IllegalTransition(_("Order %(number)s is already %(status)s.",
                                      number=order.number,
                                      status=status_label(self.mill, order.status)),
                                    details={"from": order.status, "action": "cancel"})
        picks = line_parts.pick(order, wanted, ("active",), "cancel")
        if wanted is None and not picks:
            raise IllegalTransition(_("Order %(number)s has no active lines to cancel.",
                                      number=order.number))
        lines = self._split(order, picks)
        ctx.notes["closed_lines"] = lines
        now = utcnow()
        for line in lines:
            line.status = "cancelled"
            line.closed_at = now
            if line.provisioning_status and line.provisioning_status != "terminated":
                line.provisioning_status = "cancelled"
            if restock:
                self._release(order, line, ctx)
        whole = not any(line.status == "active" for line in order.lines)
        if whole:
            billing.cancel_open_invoices(order)
            self._close_if_all_lines_closed(order, "cancel")
        else:
            billing.sync_invoices(order)
        names = ", ".join(f"{line.name} x{line.quantity}" for line in lines)
        message = (event_msg("Order cancelled.") if whole
                   else event_msg("Cancelled %(lines)s.", lines=names))
        if restock and ctx.notes.get("stock_released"):
            message += " " + event_msg("Stock released.")
        data = {"line_ids": [chosen.line.id for chosen in picks],
                "lines": line_parts.parts_data(picks), "restock": restock, "whole_order": whole}
        message += self._stock_kept_note(ctx, data)
        return Change("cancelled", message, data=data,
                      comment=comment, notify_customer=notify_customer,
                      after=self._status_hooks(order, old, "on_cancel", lines=lines))

    def refund(self, number: str, *, actor: Actor, line_ids: Sequence[int] | None = None,
               lines: LineQuantities | None = None,
               amount: Money | int | None = None, restock: bool = True,
               expected_version: int | None = None, dry_run: bool = False,
               comment: str | None = None, notify_customer: bool = True,
               manual: bool = False) -> ActionResult:
        """Refund the whole order, chosen lines, or an amount. Refunded lines are cancelled too.

        Never more than was captured. Online gateways refund through their API; offline
        payments are recorded and the admin is told to return the money by hand. `manual`
        records the refund without calling any gateway (after a gateway failed). `lines`
        ({line id: units}) refunds that many units of each line: their share of the line's
        total (core.line_parts), split off into a line of their own; not with `line_ids`.
        """

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            ctx.notes["manual_refund"] = manual
            return self._refund_work(session, order, ctx, line_ids, amount, restock, comment,
                                     notify_customer, lines)

        return self._run("refund", number, "refund", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def _refund_work(self, session: Session, order: Order, ctx: ActionContext,
                     line_ids: Sequence[int] | None, amount: Money | int | None,
                     restock: bool, comment: str | None, notify_customer: bool,
                     chosen: LineQuantities | None = None) -> Change:
        old = order.status
        wanted_lines = line_parts.wanted_units(line_ids, chosen)
        available = billing.refundable_total(order)
        wanted = _minor(amount, order.currency) if amount is not None else None
        if wanted is not None and wanted <= 0:
            raise InvalidInput(_("A refund amount must be more than zero."))
        if available <= 0:
            raise OverRefund(
                _("Nothing can be refunded on order %(number)s: no captured money is left to "
                  "return. Cancel it instead.", number=order.number),
                details={"refundable": "0"})
        if wanted is not None and wanted > available:
            raise OverRefund(
                _("Cannot refund %(wanted)s: only %(available)s was captured and not yet "
                  "refunded.", wanted=money_shown(wanted, order.currency),
                  available=money_shown(available, order.currency)),
                details={"requested": money_text(wanted, order.currency),
                         "refundable": money_text(available, order.currency)})
        picks: list[Pick] = []  # an amount alone: a goodwill refund, lines stay
        if wanted_lines is not None or wanted is None:
            picks = line_parts.pick(order, wanted_lines, ("active", "cancelled"), "refund")
        lines = self._split(order, picks)
        ctx.notes["closed_lines"] = lines
        line_value = sum(billing.line_value_left(line, order) for line in lines)
        total = wanted if wanted is not None else min(line_value, available)
        if wanted_lines is None and wanted is None:
            total = available  # whole refund: everything captured goes back
        if total <= 0:
            raise OverRefund(_("The chosen lines of order %(number)s have nothing left to "
                               "refund.", number=order.number))
        shares = _allocate_to_lines(lines, min(total, line_value))
        now = utcnow()
        for line, share in zip(lines, shares, strict=True):
            line.refunded_amount += share
            line.status = "refunded"
            line.closed_at = line.closed_at or now
            if line.provisioning_status and line.provisioning_status != "terminated":
                line.provisioning_status = "cancelled"
            if restock:
                self._release(order, line, ctx)
        refunds = self._refund_payments(session, order, total, ctx)
        record_refund_tax(session, order, refunds, lines, shares, total)
        invoicing.credit_refund(order, refunds, lines, shares)
        self._close_if_all_lines_closed(order, "refund")
        if not any(line.status == "active" for line in order.lines):
            billing.cancel_open_invoices(order)
        else:
            billing.sync_invoices(order)
        manual = [r for r in refunds if r.manual]
        refunded = Money(total, order.currency)
        message = event_msg("Refunded %(amount)s for %(lines)s.", amount=refunded, lines=", ".join(
            f"{line.name} x{line.quantity}" for line in lines)) if lines else \
            event_msg("Refunded %(amount)s.", amount=refunded)
        message += refund_remarks(ctx)
        data = {"amount": money_text(total, order.currency),
                "line_ids": [chosen.line.id for chosen in picks],
                "lines": line_parts.parts_data(picks), "restock": restock,
                "manual": bool(manual), "manual_chosen": bool(ctx.notes.get("manual_refund"))}
        message += self._stock_kept_note(ctx, data)
        return Change("refunded", message, data=data,
                      comment=comment, notify_customer=notify_customer,
                      after=self._status_hooks(order, old, "on_refund", refunds=refunds,
                                               lines=lines))

    def _refund_payments(self, session: Session, order: Order, total: int,
                         ctx: ActionContext) -> list[Payment]:
        return refund_payments(self.mill, session, order, total, ctx)

    def cancel_and_refund(self, number: str, *, actor: Actor,
                          line_ids: Sequence[int] | None = None,
                          lines: LineQuantities | None = None, restock: bool = True,
                          expected_version: int | None = None, dry_run: bool = False,
                          comment: str | None = None, manual: bool = False) -> ActionResult:
        """Cancel every active line and refund all captured money (WHMCS Cancel & Refund);
        `manual` records the refund without calling any gateway.

        With `line_ids` or `lines` ({line id: units}): cancel those active lines or units and
        refund what was paid for them (nothing when nothing was captured).
        """

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            ctx.notes["manual_refund"] = manual
            wanted = line_parts.wanted_units(line_ids, lines)
            if wanted is not None:
                return self._cancel_and_refund_lines(session, order, ctx, line_ids, lines,
                                                     restock, comment)
            if self._category(order) in CLOSED_CATEGORIES:
                raise IllegalTransition(
                    _("Order %(number)s is already %(label)s.", number=order.number,
                      label=self.mill.statuses.get(order.status).label),
                    details={"from": order.status, "action": "cancel_and_refund"})
            refundable = billing.refundable_total(order)
            to_close = [line for line in order.lines if line.status == "active"]
            if refundable > 0:  # a whole refund cancels every line too
                change = self._refund_work(session, order, ctx, None, None, restock, comment,
                                           True)
            else:
                change = self._cancel_work(order, ctx, None, restock, comment, True)
            billing.cancel_open_invoices(order)
            self._cancel_first(change, order, to_close)
            change.message = "Order cancelled" + (
                f" and {money_display(refundable, order.currency)} refunded."
                if refundable > 0 else "; nothing had been paid, so nothing was refunded.") \
                + refund_remarks(ctx, offline_gateways=False) \
                + self._stock_kept_note(ctx, change.data)
            change.data["refunded"] = money_text(refundable, order.currency)
            return change

        return self._run("cancel_and_refund", number, "refund", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def _cancel_and_refund_lines(self, session: Session, order: Order, ctx: ActionContext,
                                 line_ids: Sequence[int] | None, lines: LineQuantities | None,
                                 restock: bool, comment: str | None) -> Change:
        """Cancel-and-refund of chosen lines or units: only active ones may be chosen."""
        line_parts.pick(order, line_parts.wanted_units(line_ids, lines), ("active",),
                        "cancel")
        paid = billing.refundable_total(order) > 0
        if paid:
            change = self._refund_work(session, order, ctx, line_ids, None, restock, comment,
                                       True, lines)
            refunded = change.data["amount"]
        else:
            change = self._cancel_work(order, ctx, line_ids, restock, comment, True, lines)
            refunded = money_text(0, order.currency)
        closed: list[OrderLine] = ctx.notes["closed_lines"]
        self._cancel_first(change, order, closed)
        names = ", ".join(f"{line.name} x{line.quantity}" for line in closed)
        change.message = (f"Cancelled {names} and refunded {refunded} {order.currency}."
                          if paid else
                          f"Cancelled {names}; nothing had been paid, so nothing was "
                          f"refunded.") \
            + refund_remarks(ctx, offline_gateways=False) \
            + self._stock_kept_note(ctx, change.data)
        change.data["refunded"] = refunded
        return change

    @staticmethod
    def _cancel_first(change: Change, order: Order, closed: Sequence[OrderLine]) -> None:
        """One cancelled_and_refunded event whose hooks start with on_cancel(closed)."""
        change.after.insert(0, ("on_cancel", {"order": order, "lines": list(closed)}))
        change.after = [c for i, c in enumerate(change.after)
                        if not (c[0] == "on_cancel" and i > 0)]
        change.event_type = "cancelled_and_refunded"

    @retry_once
    def delete(self, number: str, *, actor: Actor, restock: bool,
               expected_version: int | None = None, dry_run: bool = False) -> ActionResult:
        """Delete an order for good, with or without returning its stock; its payments and
        invoices stay in the books (see core.deletion)."""
        return delete_order(self, number, actor=actor, restock=restock,
                            expected_version=expected_version, dry_run=dry_run)
