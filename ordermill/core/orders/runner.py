"""The action runner: one permission check, one locked order, one transaction and one history
event per action, then the plugins' after-commit hooks.

Every action of the service goes through `_run` (a plugin's own action through `editing`):
the order is loaded and locked, its version checked, the work function changes it and says
what it did as a `Change`, the event is written, plugins queue outbox jobs, and the
transaction commits. A dry run takes the same path and rolls back, so the preview it
returns can never disagree with the action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cache
from typing import Any

import attrs
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ordermill.core import invoicing
from ordermill.core.catalogue import stock_ledger
from ordermill.core.context import CUSTOMER_EVENTS, ActionContext, jsonable, message_columns
from ordermill.core.errors import OrderNotFound, StaleOrder
from ordermill.core.i18n import event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.labels import shown_message
from ordermill.core.models import Order, OrderEvent, utcnow
from ordermill.core.orders import saving
from ordermill.core.orders.loading import lock_order
from ordermill.core.orders.plans import plan_message
from ordermill.core.outbox import enqueue
from ordermill.core.permissions import require
from ordermill.core.plugins import HookFailure
from ordermill.core.retry import EVENTS_WRITTEN, action_transaction, retry_once
from ordermill.core.serialize import money_text
from ordermill.core.specs import Actor
from ordermill.core.statuses import line_summary, payment_status, store_payment_status
from ordermill.core.tax_models import pricing_loads

log = logging.getLogger("ordermill.orders")


@attrs.define
class Change:
    """What an action did, as its work function reports it to `_run`."""

    event_type: str
    message: str
    data: dict[str, Any] = attrs.field(factory=dict)
    after: list[tuple[str, dict[str, Any]]] = attrs.field(factory=list)
    comment: str | None = None
    notify_customer: bool = False
    visible_to_customer: bool = False


NOT_NOTIFIED = "no message to the customer was queued (is e-mail set up?)"


@attrs.frozen
class ActionResult:
    """The outcome of an action. For a dry run `order` is the would-be state (not saved)."""

    order: Order | None
    event: OrderEvent | None
    preview: Mapping[str, Any]
    dry_run: bool = False
    hook_failures: tuple[HookFailure, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dict(self.preview)


@attrs.frozen
class BulkResult:
    changed: tuple[str, ...]
    skipped: Mapping[str, str]


@cache
def _order_loader() -> Any:
    """Every collection of orders, selectin-loaded: for reading many orders at once (bulk
    status changes, a replayed placement). Built once; add a `.where()` to it."""
    return select(Order).options(
        selectinload(Order.lines), selectinload(Order.invoices),
        selectinload(Order.payments), selectinload(Order.fraud_checks),
        selectinload(Order.credit_notes),
        *pricing_loads(),
    )


def _valid_number(number: object) -> str:
    text = str(number).strip()
    if len(text) != 10 or not text.isdigit():
        raise OrderNotFound(_("No order %(number)s: order numbers have 10 digits.",
                              number=repr(number)),
                            details={"number": str(number)})
    return text


class ActionRunner:
    """The path every action takes; the action mixins of OrderService build on it."""

    def __init__(self, mill: Any) -> None:
        self.mill = mill

    # ================================================================ the action runner

    @retry_once
    def _run(
        self,
        action: str,
        number: str,
        permission: str,
        work: Callable[[Session, Order, ActionContext], Change],
        *,
        actor: Actor,
        expected_version: int | None = None,
        dry_run: bool = False,
    ) -> ActionResult:
        require(actor, permission)
        number = _valid_number(number)
        ctx = ActionContext(self.mill, actor, action, dry_run=dry_run)
        with self._transaction(ctx) as session:
            order = self._lock_order(session, number, expected_version)
            before = self._state(order)
            change = work(session, order, ctx)
            stock_ledger.after_order_action(session, order, ctx)
            order.updated_at = utcnow()
            event = self._record(session, order, ctx, change, status_from=before["status"])
            for _hook, kwargs in change.after:
                if "event" in kwargs and kwargs["event"] is None:
                    kwargs["event"] = event
            preview = self._preview(action, order, before, change, ctx)
        if dry_run:
            return ActionResult(None, None, preview, dry_run=True)
        failures = self._after_commit(order, change.after, ctx)
        return ActionResult(order, event, preview, hook_failures=tuple(failures))

    @contextmanager
    def editing(self, number: str, *, actor: Actor, action: str,
                permission: str | None = None) -> Iterator[tuple[Order, ActionContext]]:
        """Edit one order, locked, in one write transaction: a plugin's own action.

        For work that is not one of the core's actions (a ticket check-in, a provisioning
        result, a sent e-mail): the order is loaded with its lines, invoices and payments and
        locked as the core's actions lock it; write history with `ctx.record_event(order,
        ...)`; jobs queued with `ctx.enqueue` are stored with it. Everything commits when the
        block ends, or nothing does if it raises. `permission`, when given, is checked first.

            with mill.orders.editing(number, actor=actor, action="check_in") as (order, ctx):
                ctx.record_event(order, "ticket_checked_in", "Ticket T-1 checked in.")

        An event recorded with `notify_customer=True` is news for the customer: it is handed
        to `jobs_for_event` as an action's event is, so the notification plugins (e-mail)
        queue their messages with it.
        """
        if permission is not None:
            require(actor, permission)
        number = _valid_number(number)
        ctx = ActionContext(self.mill, actor, action)
        with self._transaction(ctx) as session:
            order = self._lock_order(session, number, None)
            yield order, ctx
            store_payment_status(order)  # a renewal invoice or a plugin's payment changes it
            for event in ctx.notes.get(CUSTOMER_EVENTS, ()):  # news for the customer
                for jobs in self.mill.plugins.call("jobs_for_event", order=order, event=event,
                                                   ctx=ctx).values:
                    ctx.jobs.extend(jobs)
            for job in ctx.jobs:
                handler = self.mill.job_handlers.get(job.kind)
                enqueue(session, job, order_number=order.number,
                        default_max_attempts=(handler and handler.max_attempts)
                        or self.mill.settings.outbox_max_attempts)
            changed = saving.write_order_changes(session, order)
            if changed:
                self.mill.plugins.call("order_updated", order=order, changed=changed, ctx=ctx)

    def _transaction(self, ctx: ActionContext) -> AbstractContextManager[Session]:
        """One write transaction for an action (see retry.action_transaction: stale orders,
        lost connections and a busy database become errors that say what happened)."""
        return action_transaction(self.mill, ctx)

    def _lock_order(self, session: Session, number: str, expected_version: int | None
                    ) -> Order:
        """Load the order with its rows, locked on PostgreSQL, at the version the caller saw."""
        order = lock_order(session, number, for_update=not self.mill.is_sqlite)
        if order is None:
            raise OrderNotFound(_("No order %(number)s.", number=number),
                                details={"number": number})
        if expected_version is not None and order.version != expected_version:
            raise StaleOrder(
                _("Order %(number)s was changed by someone else (version %(version)s, you had "
                  "%(yours)s). Reload it and try again; nothing was changed.", number=number,
                  version=order.version, yours=expected_version),
                details={"current_version": order.version, "your_version": expected_version},
            )
        return order

    def _state(self, order: Order) -> dict[str, Any]:
        return {"status": order.status, "payment_status": payment_status(order),
                "summary": line_summary(order)}

    def _record(self, session: Session, order: Order, ctx: ActionContext, change: Change,
                *, status_from: str | None, placed: bool = False) -> OrderEvent:
        # every action records its event here (one order, a bulk change, a placement): the
        # stored payment status goes out with the order's UPDATE below, no statement of its own
        store_payment_status(order)
        values = dict(
            order_id=order.id, order_number=order.number, type=change.event_type,
            actor=ctx.actor.label, **message_columns(change.message),
            status_from=status_from if status_from != order.status else None,
            status_to=order.status if status_from != order.status else None,
            comment=change.comment, notify_customer=change.notify_customer,
            visible_to_customer=change.visible_to_customer, data=_jsonable(change.data),
            created_at=utcnow(),
        )
        numbered = ctx.notes.get(invoicing.NUMBERED_NOTE_KEY)
        if numbered or any(isinstance(obj, OrderEvent) for obj in session.new):
            event = OrderEvent(**values)
            if numbered:  # documents numbered before the event was written (placing)
                invoicing.name_numbers_in_event(numbered, event)
        else:
            event = None
        if event is not None and any(isinstance(obj, OrderEvent) for obj in session.new):
            changed = saving.changed_columns(order)
            session.add(event)  # events the work added go first, in the order they were added
            session.flush()
        else:  # one INSERT, outside the unit of work
            if event is None:
                event = saving.insert_new(session, OrderEvent, values)
            else:
                saving.insert_one(session, event)
            written = session.info.get(EVENTS_WRITTEN)
            if written is not None:
                written.append((event.id, event.order_number, event.type))
            changed = saving.write_order_changes(session, order)  # and anything else left
        if changed and not placed:  # a placement's plugins heard `order_saved`
            self.mill.plugins.call("order_updated", order=order, changed=changed, ctx=ctx)
        ctx.notes["action_event"] = event  # documents numbered at the end name themselves here
        self._queue_jobs(session, order, event, ctx)
        if event.notify_customer and not any(job.to_customer for job in ctx.jobs):
            # no plugin queued a message to the buyer (no e-mail set up): do not claim one
            event.notify_customer = False
            event.data = {**(event.data or {}), "customer_not_notified": NOT_NOTIFIED}
        return event

    def _queue_jobs(self, session: Session, order: Order, event: OrderEvent,
                    ctx: ActionContext) -> None:
        for jobs in self.mill.plugins.call("jobs_for_event", order=order, event=event,
                                           ctx=ctx).values:
            ctx.jobs.extend(jobs)
        for job in ctx.jobs:
            handler = self.mill.job_handlers.get(job.kind)
            enqueue(session, job, order_number=order.number,
                    default_max_attempts=(handler and handler.max_attempts)
                    or self.mill.settings.outbox_max_attempts)
        if ctx.jobs:
            session.flush()

    def _preview(self, action: str, order: Order, before: Mapping[str, Any], change: Change,
                 ctx: ActionContext) -> dict[str, Any]:
        after = self._state(order)
        return {
            "action": action, "number": order.number, "event": change.event_type,
            "message": shown_message(change.message, ctx.mill),
            # what the action does, said before it is confirmed ("Will cancel ..."): previews
            # show it; `message` is what the history records (issue 14)
            "plan": plan_message(order, before, change, ctx),
            "status": {"from": before["status"], "to": after["status"]},
            "payment_status": {"from": before["payment_status"], "to": after["payment_status"]},
            "summary": {"from": before["summary"], "to": after["summary"]},
            "stock_released": dict(ctx.notes.get("stock_released", {})),
            "refunds": list(ctx.notes.get("refunds", [])),
            "amount_refunded": money_text(
                sum(r["amount_minor"] for r in ctx.notes.get("refunds", [])), order.currency),
            "jobs": [job.kind for job in ctx.jobs],
            "data": _jsonable(change.data),
            "version": order.version,
        }

    def _after_commit(self, order: Order, calls: Iterable[tuple[str, dict[str, Any]]],
                      ctx: ActionContext) -> list[HookFailure]:
        failures: list[HookFailure] = []
        for hook_name, kwargs in calls:
            failures.extend(self.mill.plugins.call(hook_name, ctx=ctx, **kwargs).failures)
        if failures:
            self._record_hook_failures(order.id, order.number, failures, ctx)
        return failures

    def _record_hook_failures(self, order_id: int | None, number: str,
                              failures: Sequence[HookFailure], ctx: ActionContext) -> None:
        with self.mill.write_session() as session, session.begin():
            for failure in failures:
                session.add(OrderEvent(
                    order_id=order_id, order_number=number, type="hook_failed",
                    actor=f"plugin:{failure.plugin}",
                    **message_columns(event_msg(
                        "Plugin %(plugin)s failed in %(hook)s after %(action)s: %(error)s. The "
                        "%(action)s itself is done.", plugin=repr(failure.plugin),
                        hook=failure.hook, action=ctx.action, error=failure.error)),
                    data={"plugin": failure.plugin, "hook": failure.hook,
                          "error": failure.error, "action": ctx.action},
                    created_at=utcnow(),
                ))


_jsonable = jsonable  # the deletion module and older call sites use this name
