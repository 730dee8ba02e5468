"""Refunds through payment gateways: which portions a gateway returns, and what a failure says.

A refund is split over the order's charges (billing.plan_refund). Each portion goes back
through the charge's gateway when it can refund automatically, inside the refund's
transaction, with an idempotency key derived from the refund row; otherwise it is recorded
as a manual refund and the admin returns the money by hand.

Two things can stop an automatic refund, and neither may reach the shop owner as a plugin's
raw exception text: the gateway is not configured (no API key: known before calling, so the
dry run says so) or the call fails (unreachable, refused). A failure raises
GatewayRefundFailed, one sentence naming the gateway by its label; the raw text goes to the
log. The admin then offers "record as a manual refund": the same refund with `manual=True`,
which records every portion without calling any gateway.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ordermill.core import billing
from ordermill.core.context import ActionContext
from ordermill.core.errors import OrdermillError, PluginError
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import gateway_param
from ordermill.core.models import Order, Payment, utcnow
from ordermill.core.serialize import money_text
from ordermill.core.specs import GatewayRefund, PaymentGatewaySpec

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

log = logging.getLogger("ordermill.refunds")
MANUAL_NOTE = "Recorded only: return the money by hand."
CHOSEN_NOTE = "Recorded as a manual refund: return the money by hand."


class GatewayRefundFailed(PluginError):
    """A gateway could not make a refund: nothing was recorded; it may be recorded as manual.

    A PluginError (502) whose message is one sentence in the shop owner's words; `details`
    name the gateway and the reason ("not_configured" or "failed"), never the raw error.
    """

    code = "gateway_refund_failed"
    http_status = 502

    def __init__(self, gateway: PaymentGatewaySpec, reason: str,
                 error: BaseException | None = None) -> None:
        if reason == "not_configured":
            message = _("%(gateway)s is not configured in this shop, so it cannot make this "
                        "refund; nothing was changed.", gateway=gateway.label)
        else:
            message = _("%(gateway)s could not make the refund (it could not be reached or "
                        "refused it), so nothing was changed.", gateway=gateway.label)
        OrdermillError.__init__(self, message, details={
            "gateway": gateway.name, "gateway_label": gateway.label, "reason": reason,
            "manual_refund_possible": True})
        self.plugin = f"gateway {gateway.name}"
        self.hook = "refund"
        self.original = error


def refund_payments(mill: Ordermill, session: Session, order: Order, total: int,
                    ctx: ActionContext) -> list[Payment]:
    """Record refund rows for `total`, newest charge first, calling gateways that can.

    `ctx.notes["manual_refund"]` true: no gateway is called, every portion is manual.
    Notes for the preview go to ctx.notes["refunds"]; remarks for the event message to
    ctx.notes["refund_remarks"].
    """
    chosen_manual = bool(ctx.notes.get("manual_refund"))
    refunds = []
    for portion in billing.plan_refund(order, total):
        charge = portion.charge
        gateway = mill.gateways.get(charge.gateway)
        can = bool(gateway and gateway.can_refund and gateway.refund and not charge.manual
                   and (gateway.can_partial_refund or portion.amount == charge.amount))
        configured = bool(gateway and gateway.configured)
        automatic = can and configured and not chosen_manual
        note = None if automatic else (CHOSEN_NOTE if chosen_manual and can else MANUAL_NOTE)
        refund = Payment(
            kind="refund", status="pending" if automatic else "succeeded",
            gateway=charge.gateway, refund_of_id=charge.id, invoice_id=charge.invoice_id,
            amount=portion.amount, fee=0, net=portion.amount, currency=order.currency,
            manual=not automatic, actor=ctx.actor.label, created_at=utcnow(), note=note,
        )
        order.payments.append(refund)
        session.flush()
        if can and not configured and not chosen_manual:
            assert gateway is not None
            if not ctx.dry_run:
                raise GatewayRefundFailed(gateway, "not_configured")
            _remark(ctx, event_msg("%(gateway)s is not configured, so it cannot make this "
                                   "refund: record it as a manual refund instead.",
                                   gateway=gateway_param(ctx.mill, gateway.name)))
        elif can and chosen_manual:
            assert gateway is not None
            _remark(ctx, event_msg("Recorded as a manual refund: return the money by hand "
                                   "(%(gateway)s was not asked).",
                                   gateway=gateway_param(ctx.mill, gateway.name)))
        elif automatic and not ctx.dry_run:
            assert gateway is not None
            answer = _call_gateway(gateway, charge, portion.amount, refund, ctx)
            refund.gateway_reference = answer.reference
            refund.status = answer.status
        elif automatic:
            refund.status = "succeeded"  # the preview shows the refund as it would land
        if not can:
            ctx.notes.setdefault("offline_gateways", []).append(charge.gateway)
        ctx.notes.setdefault("refunds", []).append({
            "charge_id": charge.id, "gateway": charge.gateway,
            "amount": money_text(portion.amount, order.currency),
            "amount_minor": portion.amount, "automatic": automatic,
            "not_configured": can and not configured and not chosen_manual,
        })
        refunds.append(refund)
    return refunds


def refund_remarks(ctx: ActionContext, *, offline_gateways: bool = True) -> str:
    """What the refund event's message adds about manual portions (from refund_payments):
    gateways that cannot refund (unless `offline_gateways` is false), gateways not
    configured, a refund recorded as manual by choice."""
    offline = sorted({gateway_param(ctx.mill, name).label
                      for name in ctx.notes.get("offline_gateways", [])}) \
        if offline_gateways else []
    remarks = list(dict.fromkeys(ctx.notes.get("refund_remarks", [])))
    text = ""
    if offline:
        text += " " + event_msg("Return the money by hand: %(gateways)s cannot refund "
                                "automatically.", gateways=", ".join(offline))
    for remark in remarks:
        text += " " + remark
    return text


def _remark(ctx: ActionContext, text: str) -> None:
    ctx.notes.setdefault("refund_remarks", []).append(text)


def _call_gateway(gateway: PaymentGatewaySpec, charge: Payment, amount: int, refund: Payment,
                  ctx: ActionContext) -> GatewayRefund:
    """Call the gateway; any failure becomes one clear sentence, the raw text is logged."""
    assert gateway.refund is not None
    ctx.outside_call(f"the {gateway.name} refund")  # never re-run after this (core/retry.py)
    try:
        answer = gateway.refund(charge=charge, amount=amount,
                                idempotency_key=f"ordermill-refund-{refund.id}", ctx=ctx)
    except Exception as error:
        log.error("refund of %s on payment %s through %s failed: %s: %s",
                  money_text(amount, charge.currency), charge.gateway_reference, gateway.name,
                  type(error).__name__, error)
        raise GatewayRefundFailed(gateway, "failed", error) from error
    if not isinstance(answer, GatewayRefund):
        log.error("gateway %s answered a refund with %r, not a GatewayRefund", gateway.name,
                  answer)
        raise GatewayRefundFailed(gateway, "failed")
    return answer


__all__ = ["GatewayRefundFailed", "refund_payments", "refund_remarks"]
