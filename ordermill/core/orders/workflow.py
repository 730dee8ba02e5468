"""Workflow moves: accept, fraud and back to pending, any status the registry allows (one
order or many), and re-running the fraud checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from ordermill.core import billing
from ordermill.core.context import ActionContext
from ordermill.core.errors import (
    ActionNotAllowed,
    IllegalTransition,
    InvalidInput,
    PermissionDenied,
)
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import status_label
from ordermill.core.models import Order, utcnow
from ordermill.core.orders.runner import ActionResult, BulkResult, Change, _order_loader
from ordermill.core.orders.steps import OrderSteps
from ordermill.core.permissions import require
from ordermill.core.redact import public
from ordermill.core.retry import retry_once
from ordermill.core.specs import Actor
from ordermill.core.status_change import fraud_cancelled_invoices, status_change_work


class WorkflowActions(OrderSteps):
    """Moves between statuses, with the bookkeeping each move needs."""

    def accept(self, number: str, *, actor: Actor, options: Mapping[str, Any] | None = None,
               expected_version: int | None = None, dry_run: bool = False,
               comment: str | None = None) -> ActionResult:
        """Accept a pending order (WHMCS AcceptOrder); provisioning plugins react to it."""
        accept_options = dict(options or {})

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            old = order.status
            if self._category(order) != "pending":
                raise IllegalTransition(
                    _("Only pending orders can be accepted; order %(number)s is %(status)s.",
                      number=order.number, status=status_label(self.mill, order.status)),
                    details={"from": order.status, "action": "accept"})
            self._move(order, self.mill.statuses.first_of_category("active"), "accept")
            order.accepted_at = utcnow()
            # jobs_for_event sees the options unmasked; history only says a password was "set"
            ctx.notes["accept_options"] = accept_options
            return Change("accepted", event_msg("Order accepted."),
                          data={"options": public(accept_options)},
                          comment=comment,
                          after=self._status_hooks(order, old, "on_accept", options=accept_options))

        return self._run("accept", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def mark_fraud(self, number: str, *, actor: Actor, expected_version: int | None = None,
                   dry_run: bool = False, comment: str | None = None) -> ActionResult:
        """Set as fraud (WHMCS FraudOrder): invoices cancelled, services terminated by plugins."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            old = order.status
            self._move(order, self.mill.statuses.first_of_category("fraud"), "set as fraud")
            cancelled = billing.cancel_open_invoices(order)
            return Change("fraud", event_msg("Order set as fraud."), comment=comment,
                          data={"cancelled_invoices": cancelled},
                          after=self._status_hooks(order, old, "on_fraud"))

        return self._run("mark_fraud", number, "manage_fraud", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def set_back_to_pending(self, number: str, *, actor: Actor,
                            expected_version: int | None = None, dry_run: bool = False,
                            comment: str | None = None) -> ActionResult:
        """Back to pending (WHMCS PendingOrder): from fraud the invoices are unpaid again."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            old = order.status
            was_fraud = self._category(order) == "fraud"
            # read before the move: the event that set today's fraud status names the invoices
            reopened = fraud_cancelled_invoices(session, self.mill.statuses, order) \
                if was_fraud else []
            self._move(order, self.mill.statuses.first_of_category("pending"),
                       "set back to pending")
            if was_fraud:
                billing.reopen_invoices(order, reopened)
            return Change("pending", event_msg("Order set back to pending."), comment=comment,
                          data={"reopened_invoices": reopened},
                          after=self._status_hooks(order, old, "on_pending"))

        return self._run("set_back_to_pending", number, "manage_fraud", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    def set_status(self, number: str, status: str, *, actor: Actor,
                   expected_version: int | None = None, dry_run: bool = False,
                   comment: str | None = None) -> ActionResult:
        """Move to any status the registry allows (custom statuses); no module commands.

        A move into or out of fraud, cancelled, refunded or active needs the permission of
        the named action and gets its bookkeeping (see core.status_change)."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            return status_change_work(self, session, order, status, ctx, comment, Change)

        return self._run("set_status", number, "edit_orders", work, actor=actor,
                         expected_version=expected_version, dry_run=dry_run)

    @retry_once
    def bulk_set_status(self, numbers: Sequence[str], status: str, *, actor: Actor,
                        dry_run: bool = False) -> BulkResult:
        """Change the status of many orders in one transaction (WHMCS mass update).

        Statuses only: no provisioning or other module commands run, only on_status_changed.
        Orders whose status may not move there are skipped and reported, not failed.
        """
        require(actor, "bulk_change")
        self.mill.statuses.get(status)
        wanted = list(dict.fromkeys(str(n).strip() for n in numbers))
        if not wanted:
            raise InvalidInput(_("No orders chosen."))
        ctx = ActionContext(self.mill, actor, "bulk_set_status", dry_run=dry_run)
        skipped: dict[str, str] = {}
        changed: list[tuple[Order, Change]] = []
        with self._transaction(ctx) as session:
            query = _order_loader().where(Order.number.in_(wanted)).order_by(Order.id)
            if not self.mill.is_sqlite:
                query = query.with_for_update(of=Order)
            orders = {order.number: order for order in session.scalars(query)}
            for number in wanted:
                order = orders.get(number)
                if order is None:
                    skipped[number] = "no such order"
                    continue
                if order.status == status:
                    skipped[number] = _("already %(status)s", status=status)
                    continue
                old = order.status
                try:
                    with session.begin_nested():
                        change = status_change_work(self, session, order, status, ctx, None,
                                                    Change)
                except (IllegalTransition, ActionNotAllowed, PermissionDenied) as error:
                    order.status = old
                    skipped[number] = error.message
                    continue
                order.updated_at = utcnow()
                change.event_type = "bulk_status_changed"
                self._record(session, order, ctx, change, status_from=old)
                changed.append((order, change))
            changed_numbers = tuple(order.number for order, _change in changed)
        if not dry_run:
            for order, change in changed:
                self._after_commit(order, change.after, ctx)
        return BulkResult(changed_numbers, skipped)

    def rerun_fraud_check(self, number: str, *, actor: Actor,
                          expected_version: int | None = None) -> ActionResult:
        """Ask the fraud providers again (after an outage); over the threshold, pending goes
        to fraud."""

        def work(session: Session, order: Order, ctx: ActionContext) -> Change:
            old = order.status
            results = self._run_fraud_checks(order, ctx)
            if not results:
                raise ActionNotAllowed(_("No fraud check plugin is installed."))
            calls = [("on_fraud_checked", {"order": order, "results": results})]
            if order.status != old:
                calls.extend(self._status_hooks(order, old, "on_fraud"))
            failed = [r.provider for r in results if r.status != "ok"]
            message = (event_msg("Fraud check re-run: score %(score)s.",
                                 score=str(order.fraud_score)) if not failed else
                       event_msg("Fraud check failed for %(providers)s.",
                                 providers=", ".join(failed)))
            return Change("fraud_checked", message, after=calls,
                          data={"score": str(order.fraud_score) if order.fraud_score else None,
                                "failed": failed})

        return self._run("rerun_fraud_check", number, "manage_fraud", work, actor=actor,
                         expected_version=expected_version)
