"""Debiting a saved payment method for an invoice (recurring billing), and reading one.

A plugin that bills on schedule (subscriptions) asks the order's gateway to charge what the
buyer saved at the first payment, without the buyer. The gateway's answer is applied like
its webhook: a success records the payment on the invoice (idempotent by the gateway's
reference, so the later webhook for the same charge does nothing), a decline writes a
`payment_failed` event. The idempotency key is derived from the invoice and the attempt, so
a retried job (a worker killed mid-call, two workers on one invoice) never charges twice,
while a new attempt after a decline is a new charge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ordermill.core.errors import ActionNotAllowed, NotFound, OrdermillError, PluginError
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Payment
from ordermill.core.payments import _invoice_to_pay, apply_event
from ordermill.core.specs import GatewayEventData, PaymentGatewaySpec

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill


def saved_charge_key(invoice_id: int, attempt: int) -> str:
    """The idempotency key of one debit attempt of one invoice."""
    return f"ordermill-invoice-{invoice_id}-debit-{attempt}"


def _recurring_gateway(mill: Ordermill, name: str, what: str) -> PaymentGatewaySpec:
    spec: PaymentGatewaySpec | None = mill.gateways.get(name)
    if spec is None or getattr(spec, what) is None or not spec.configured:
        raise ActionNotAllowed(_("Gateway %(name)s cannot debit a saved payment method.",
                                 name=repr(name)),
                               details={"gateway": name})
    return spec


def saved_method(mill: Ordermill, gateway: str, number: str) -> Mapping[str, Any] | None:
    """What the buyer of order `number` saved with its latest charge through `gateway`
    (None: nothing saved, or the gateway keeps no saved methods)."""
    spec: PaymentGatewaySpec | None = mill.gateways.get(gateway)
    if spec is None or spec.saved_method is None or not spec.configured:
        return None
    order = mill.orders.get(number)
    charges: list[Payment] = [p for p in order.payments if p.kind == "charge"
                              and p.status == "succeeded" and p.gateway == gateway]
    for payment in reversed(charges):
        try:
            found = spec.saved_method(order=order, payment=payment)
        except OrdermillError:
            raise
        except Exception as error:
            raise PluginError(f"gateway {gateway}", "saved_method", error) from error
        if found:
            return dict(found)
    return None


def charge_saved(mill: Ordermill, number: str, *, gateway: str, invoice_id: int,
                 saved: Mapping[str, Any], attempt: int) -> GatewayEventData:
    """Debit `saved` for what invoice `invoice_id` of order `number` still asks, through
    `gateway`, and apply the answer to the order. Returns the gateway's answer.

    Raises ActionNotAllowed when the invoice is no longer unpaid (nothing is charged), and
    PluginError when the gateway faulted (the caller retries; the same attempt reuses its
    idempotency key)."""
    spec = _recurring_gateway(mill, gateway, "charge_saved")
    order = mill.orders.get(number)
    if all(inv.id != invoice_id for inv in order.invoices):
        raise NotFound(_("Order %(number)s has no invoice %(invoice_id)s.", number=number,
                         invoice_id=invoice_id))
    invoice, amount = _invoice_to_pay(order, invoice_id)
    if invoice is None or amount <= 0:
        raise ActionNotAllowed(_("Invoice %(invoice_id)s of order %(number)s asks for nothing.",
                                 invoice_id=invoice_id, number=number))
    assert spec.charge_saved is not None
    try:
        answer = spec.charge_saved(order=order, invoice=invoice, amount=amount,
                                   currency=order.currency, saved=dict(saved),
                                   idempotency_key=saved_charge_key(invoice_id, attempt))
    except OrdermillError:
        raise
    except Exception as error:
        raise PluginError(f"gateway {gateway}", "charge_saved", error) from error
    if not isinstance(answer, GatewayEventData) or answer.kind not in (
            "payment_succeeded", "payment_failed"):
        raise PluginError(f"gateway {gateway}", "charge_saved",
                          f"returned {answer!r}, not a payment_succeeded or payment_failed "
                          f"GatewayEventData")
    apply_event(mill, spec.name, answer)
    return answer
