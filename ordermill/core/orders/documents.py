"""Issuing an order's invoice by hand: the "issue invoice" action.

Placement issues the invoice when `generate_invoice` is set (the default). Otherwise, or for
an invoice left a draft (products added to an order never invoiced, a fraud order set back
to pending), staff issue it here: every draft invoice still open is issued, or, when none
asks for what is due, a new one for the amount due. The numbers are taken as the
transaction's last step (core.invoicing).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ordermill.core import billing, invoicing
from ordermill.core.context import ActionContext
from ordermill.core.errors import ActionNotAllowed
from ordermill.core.i18n import N_, event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Invoice, Order
from ordermill.core.orders.runner import ActionResult, Change
from ordermill.core.orders.steps import OrderSteps
from ordermill.core.serialize import money_text
from ordermill.core.specs import Actor
from ordermill.core.statuses import ENDED_CATEGORIES, amount_due

NOTHING_TO_ISSUE = N_("Order %(number)s has no draft invoice to issue and nothing is due.")
ISSUED_MESSAGE = N_("Invoice issued for %(amount)s %(currency)s.")
DUE_DESCRIPTION = "Order"


def issuable(order: Order, category: str) -> bool:
    """Whether "issue invoice" has something to do (core.available offers it then)."""
    drafts = [inv for inv in order.invoices if inv.state == "draft" and inv.status != "cancelled"]
    return bool(drafts) or (_uncovered_due(order) > 0 and category not in ENDED_CATEGORIES)


def _uncovered_due(order: Order) -> int:
    open_asked = sum(inv.amount for inv in order.invoices if inv.status == "unpaid")
    return amount_due(order) - open_asked


class DocumentActions(OrderSteps):
    """`issue_invoice`."""

    def issue_invoice(self, number: str, *, actor: Actor, expected_version: int | None = None,
                      dry_run: bool = False, comment: str | None = None) -> ActionResult:
        """Issue the order's draft invoices (or one for the amount due): they get their
        numbers and are frozen from now on."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            issued: list[Invoice] = invoicing.issue_open(order)
            uncovered = _uncovered_due(order)
            if not issued and uncovered > 0 and self._category(order) not in ENDED_CATEGORIES:
                invoice = billing.new_invoice(order, uncovered, DUE_DESCRIPTION)
                invoicing.issue(order, invoice)
                issued.append(invoice)
            if not issued:
                raise ActionNotAllowed(_(NOTHING_TO_ISSUE, number=order.number))
            session.flush()
            amount = sum(invoice.amount for invoice in issued)
            return Change(invoicing.ISSUED_EVENT,
                          event_msg(ISSUED_MESSAGE, amount=money_text(amount, order.currency),
                                    currency=order.currency),
                          data={"invoice_ids": [invoice.id for invoice in issued]},
                          comment=comment)

        return self._run("issue_invoice", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)


__all__ = ["DocumentActions", "issuable"]
