"""Subscriptions' life: creation at the first payment, staff actions, periods paid or failed.

Every change runs in `mill.orders.editing` on the subscription's order (one transaction, the
order locked, one history event), and the plugin's own hook `on_subscription_status_changed`
runs after the commit. The scheduler (scheduler.py) makes the invoices and debits them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ordermill.api import (
    N_,
    ActionContext,
    ActionNotAllowed,
    Actor,
    EventMsg,
    InvalidInput,
    JobRequest,
    Money,
    NotFound,
    Order,
    add_renewal_invoice,
    event_msg,
    event_ngettext,
    require,
    saved_method,
    utcnow,
)
from ordermill.plugins.subscriptions.config import SubscriptionsConfig, parse_interval
from ordermill.plugins.subscriptions.i18n import DOMAIN
from ordermill.plugins.subscriptions.models import (
    ACTIVE,
    COMPLETED,
    FAILED,
    PROCESSING,
    STATUS_LABELS,
    SUSPENDED,
    Subscription,
)

if TYPE_CHECKING:
    from ordermill.api import Ordermill

log = logging.getLogger("ordermill.subscriptions")
PERMISSION = "manage_recurring"
SYSTEM = Actor.system("subscriptions")
TICK_KIND = "subscriptions.tick"
CHARGE_KIND = "subscriptions.charge"
HOOK = "on_subscription_status_changed"
# What each staff action allows from (seed 003: pause, resume, finish ahead of schedule).
ACTIONS: dict[str, tuple[str, ...]] = {
    "suspend": (ACTIVE,),
    "resume": (SUSPENDED,),
    "complete": (ACTIVE, SUSPENDED, FAILED),
    "retry": (ACTIVE, FAILED),
}


def step(subscription: Subscription, when: dt.datetime, periods: int = 1) -> dt.datetime:
    """`when` moved on by `periods` of the subscription's interval (calendar months and
    years keep the day, or the month's last day: Jan 31 + 1 month = Feb 28)."""
    count = subscription.interval_count * periods
    unit = subscription.interval_unit
    if unit in ("day", "week"):
        return when + dt.timedelta(days=count * (7 if unit == "week" else 1))
    months = when.month - 1 + count * (12 if unit == "year" else 1)
    year, month = when.year + months // 12, months % 12 + 1
    return when.replace(year=year, month=month,
                        day=min(when.day, calendar.monthrange(year, month)[1]))


def snapshot(subscription: Subscription) -> Subscription:
    """A detached copy for after-commit hooks and answers."""
    return Subscription(**{column.key: getattr(subscription, column.key)
                           for column in Subscription.__table__.columns})


def tick_job(at: dt.datetime, reason: str = "") -> JobRequest:
    """The scheduler's run at `at` (one per second of `at` and reason: queueing it twice
    queues it once)."""
    key = f"{TICK_KIND}:{int(at.timestamp())}{':' + reason if reason else ''}"
    return JobRequest(kind=TICK_KIND, dedupe_key=key[:200], run_at=at, max_attempts=100)


def allowed_actions(subscription: Subscription) -> list[str]:
    """The staff actions the subscription's status allows now."""
    found = [name for name, sources in ACTIONS.items() if subscription.status in sources]
    if "retry" in found and subscription.status == ACTIVE and not (
            subscription.current_invoice_id and subscription.attempts):
        found.remove("retry")  # nothing failed: there is nothing to retry
    return found


@contextmanager
def changing(mill: Ordermill, subscription_id: int, *, actor: Actor, action: str,
             permission: str | None = PERMISSION
             ) -> Iterator[tuple[Subscription, Order, ActionContext]]:
    """Change one subscription with its order locked; the status hook runs after commit."""
    if permission is not None:
        require(actor, permission)
    with mill.read_session() as session:
        number = session.scalar(select(Subscription.order_number)
                                .where(Subscription.id == subscription_id))
    if number is None:
        raise NotFound(f"No subscription {subscription_id}.",
                       details={"subscription": subscription_id})
    with mill.orders.editing(number, actor=actor, action=f"subscription_{action}") as (
            order, ctx):
        assert ctx.session is not None
        subscription = ctx.session.get(Subscription, subscription_id, populate_existing=True)
        if subscription is None:
            raise NotFound(f"No subscription {subscription_id}.")
        old = subscription.status
        yield subscription, order, ctx
        ctx.session.flush()
        new, copy = subscription.status, snapshot(subscription)
    if new != old:
        announce(mill, copy, old, new, actor)


def announce(mill: Ordermill, subscription: Subscription, old: str, new: str,
             actor: Actor) -> None:
    """Run `on_subscription_status_changed`; failures are logged, never undo the change."""
    outcome = mill.plugins.call(HOOK, subscription=subscription, old=old, new=new,
                                ctx=ActionContext(mill, actor, "subscription_status"))
    for failure in outcome.failures:
        log.warning("%s of %s failed: %s", HOOK, failure.plugin, failure.error)


def record(ctx: ActionContext, order: Order, kind: str, message: EventMsg, *,
           subscription: Subscription, notify: bool = False, **data: Any) -> None:
    """One history event of the subscription; `message` an event_msg of this plugin's
    catalog, so each reader sees it in their language."""
    ctx.record_event(order, kind, message, notify_customer=notify,
                     data={"subscription": subscription.id, "status": subscription.status,
                           **data})


# ---------------------------------------------------------------------------- creating


def recurring_plan(order: Order) -> dict[str, Any] | None:
    """The plan of an order whose lines bill again (a billing cycle): it starts by itself
    at the first payment (seed 003's recurring orders). Invoice plans start when staff say."""
    if not any(line.billing_cycle and line.status == "active" for line in order.lines):
        return None
    parts = [inv for inv in order.invoices if inv.kind == "order" and inv.status != "cancelled"]
    return None if len(parts) > 1 else plan_of(order, SubscriptionsConfig())


def plan_of(order: Order, config: SubscriptionsConfig) -> dict[str, Any] | None:
    """What an order bills again: its invoice plan's parts, or its lines' billing cycle."""
    parts = [inv for inv in order.invoices if inv.kind == "order" and inv.status != "cancelled"]
    if len(parts) > 1:
        count, unit = config.instalment_interval
        return {"interval_count": count, "interval_unit": unit, "total_count": len(parts),
                "amount": parts[-1].amount}
    recurring = [line for line in order.lines
                 if line.billing_cycle and line.status == "active"]
    if not recurring:
        return None
    try:
        count, unit = parse_interval(recurring[0].billing_cycle or "")
    except ValueError:
        return None
    return {"interval_count": count, "interval_unit": unit, "total_count": None,
            "amount": sum(line.total for line in recurring)}


def create(mill: Ordermill, number: str, *, actor: Actor, interval: str | None = None,
           count: int | None = None, amount: int | None = None,
           gateway: str | None = None) -> Subscription:
    """Start the subscription of order `number` after its first payment (or by staff,
    naming the plan). Its first period is the payment already made."""
    require(actor, PERMISSION)
    config = SubscriptionsConfig.from_settings(mill.settings)
    if count is not None and (isinstance(count, bool) or count < 1):
        raise InvalidInput("count must be a whole number of payments >= 1.",
                           details={"field": "count"})
    order = mill.orders.get(number)
    plan = plan_of(order, config) or {}
    if interval is not None:
        try:
            plan["interval_count"], plan["interval_unit"] = parse_interval(interval)
        except ValueError as error:
            raise InvalidInput(str(error), details={"field": "interval"}) from None
        plan.setdefault("total_count", None)
    if count is not None:
        plan["total_count"] = count
    if amount is not None:
        plan["amount"] = amount
    if "interval_unit" not in plan:
        raise InvalidInput(f"Order {number} bills nothing again: name an interval.",
                           details={"field": "interval"})
    plan.setdefault("amount", order.total)
    if plan["amount"] <= 0:
        raise InvalidInput("The amount of each payment must be more than zero.",
                           details={"field": "amount"})
    paid = [p for p in order.payments if p.kind == "charge" and p.status == "succeeded"]
    gateway_name = gateway or (paid[-1].gateway if paid else order.payment_method)
    saved = saved_method(mill, gateway_name, number) if paid else None
    started = paid[0].created_at if paid else utcnow()
    with mill.orders.editing(number, actor=actor, action="subscription_create") as (o, ctx):
        assert ctx.session is not None
        if ctx.session.scalar(select(Subscription.id).where(Subscription.order_id == o.id)):
            raise ActionNotAllowed(f"Order {number} already has a subscription.",
                                   details={"duplicate": True})
        subscription = Subscription(
            order_id=o.id, order_number=o.number, status=ACTIVE, gateway=gateway_name,
            saved_method=dict(saved or {}), currency=o.currency,
            payments_made=periods_paid(o), attempts=0, created_at=utcnow(),
            updated_at=utcnow(), **plan)
        subscription.next_due_at = step(subscription, started, subscription.payments_made)
        if subscription.remaining == 0:
            subscription.status, subscription.ended_at = COMPLETED, utcnow()
        ctx.session.add(subscription)
        ctx.session.flush()
        record(ctx, o, "subscription_started", describe_plan(subscription),
               subscription=subscription)
        ctx.enqueue(tick_job(utcnow()))  # one run for all started in the same second
        copy = snapshot(subscription)
    return copy


def every_interval(count: int, unit: str) -> EventMsg:
    """'every month', 'every 2 weeks' as a part of a history sentence."""
    if unit == "day":
        return event_ngettext("every day", "every %(num)s days", count, catalog_domain=DOMAIN)
    if unit == "week":
        return event_ngettext("every week", "every %(num)s weeks", count,
                              catalog_domain=DOMAIN)
    if unit == "year":
        return event_ngettext("every year", "every %(num)s years", count,
                              catalog_domain=DOMAIN)
    return event_ngettext("every month", "every %(num)s months", count, catalog_domain=DOMAIN)


def describe_plan(subscription: Subscription) -> EventMsg:
    """The started event's sentence: amount, interval and how many payments."""
    times = (event_ngettext("%(num)s payment", "%(num)s payments", subscription.total_count,
                            catalog_domain=DOMAIN)
             if subscription.total_count else event_msg("until stopped", catalog_domain=DOMAIN))
    return event_msg("Subscription %(id)s started: %(amount)s %(every)s, %(times)s.",
                     catalog_domain=DOMAIN, id=subscription.id,
                     amount=Money(subscription.amount, subscription.currency),
                     every=every_interval(subscription.interval_count,
                                          subscription.interval_unit),
                     times=times)


# ---------------------------------------------------------------------------- staff actions


def act(mill: Ordermill, subscription_id: int, action: str, *, actor: Actor,
        comment: str | None = None) -> Subscription:
    """suspend, resume, complete (early) or retry (now), as the status allows."""
    if action not in ACTIONS:
        raise InvalidInput(f"Unknown action {action!r}; use {', '.join(ACTIONS)}.",
                           details={"action": action})
    config = SubscriptionsConfig.from_settings(mill.settings)
    with changing(mill, subscription_id, actor=actor, action=action) as (sub, order, ctx):
        if action not in allowed_actions(sub):
            raise ActionNotAllowed(
                f"Subscription {sub.id} is {STATUS_LABELS[sub.status]}: it cannot {action}.",
                details={"status": sub.status, "action": action})
        now = utcnow()
        ACTION_STEPS[action](sub, order, now, config)
        if action in ("resume", "retry"):
            ctx.enqueue(tick_job(now, f"{action}:{sub.id}"))
        record(ctx, order, f"subscription_{action}",
               event_msg(ACTION_MESSAGES[action], catalog_domain=DOMAIN, id=sub.id),
               subscription=sub, notify=action == "suspend", comment=comment)
        copy = snapshot(sub)
    return copy


def _suspend(sub: Subscription, order: Order, now: dt.datetime,
             config: SubscriptionsConfig) -> None:
    sub.status = SUSPENDED


def _resume(sub: Subscription, order: Order, now: dt.datetime,
            config: SubscriptionsConfig) -> None:
    """Back to Active; a debit whose time passed while paused runs on the next pass."""
    sub.status = ACTIVE
    if sub.next_attempt_at is not None and sub.next_attempt_at < now:
        sub.next_attempt_at = now


def _complete(sub: Subscription, order: Order, now: dt.datetime,
              config: SubscriptionsConfig) -> None:
    """Finished early: the open renewal invoice is cancelled, nothing more is billed."""
    for invoice in order.invoices:
        if invoice.id == sub.current_invoice_id and invoice.status == "unpaid" \
                and invoice.kind == "renewal":
            invoice.status = "cancelled"
    sub.status, sub.ended_at = COMPLETED, now
    sub.current_invoice_id, sub.next_attempt_at, sub.claimed_by = None, None, None


def _retry(sub: Subscription, order: Order, now: dt.datetime,
           config: SubscriptionsConfig) -> None:
    """Debit now: a Failed subscription gets one more attempt."""
    if sub.status == FAILED:  # attempts keep counting: a decline fails it again at once
        sub.ended_at = None
    sub.status = ACTIVE
    sub.next_attempt_at = now


ACTION_STEPS: dict[str, Callable[[Subscription, Order, dt.datetime, SubscriptionsConfig],
                                 None]] = {
    "suspend": _suspend, "resume": _resume, "complete": _complete, "retry": _retry}
ACTION_MESSAGES = {
    "suspend": N_("Subscription %(id)s suspended: no payment is taken until it is resumed."),
    "resume": N_("Subscription %(id)s resumed."),
    "complete": N_("Subscription %(id)s completed early: nothing more is billed."),
    "retry": N_("Subscription %(id)s: payment retried now."),
}


# ---------------------------------------------------------------------------- periods


def make_invoice(mill: Ordermill, subscription_id: int, config: SubscriptionsConfig) -> None:
    """Bill the next period: the invoice plan's next unpaid part, or a renewal invoice."""
    with changing(mill, subscription_id, actor=SYSTEM, action="invoice",
                  permission=None) as (sub, order, ctx):
        if sub.status != ACTIVE or sub.current_invoice_id is not None or sub.remaining == 0:
            return
        due = sub.next_due_at or utcnow()
        planned = next((inv for inv in order.invoices
                        if inv.kind == "order" and inv.status == "unpaid"), None)
        if planned is not None:
            invoice = planned
            invoice.due_at = due
        else:
            period = sub.payments_made + 1
            of = f" of {sub.total_count}" if sub.total_count else ""
            invoice = add_renewal_invoice(order, sub.amount, f"Renewal {period}{of}",
                                          due_at=due)
        assert ctx.session is not None
        ctx.session.flush()
        sub.current_invoice_id, sub.attempts, sub.next_attempt_at = invoice.id, 0, due
        ctx.enqueue(tick_job(due))  # debited on the due date, not a tick later
        record(ctx, order, "renewal_invoice",
               event_msg("Invoice %(invoice)s of %(amount)s for subscription %(id)s, due "
                         "%(due)s.", catalog_domain=DOMAIN, invoice=invoice.id,
                         amount=Money(invoice.amount, order.currency), id=sub.id,
                         due=f"{due:%Y-%m-%d}"),
               subscription=sub, notify=True, invoice_id=invoice.id,
               debited=bool(sub.saved_method))


def settle(mill: Ordermill, subscription_id: int, *, claim: str | None,
           paid: bool, message: str = "") -> None:
    """The current invoice was paid (advance a period), or its debit was declined."""
    config = SubscriptionsConfig.from_settings(mill.settings)
    with changing(mill, subscription_id, actor=SYSTEM, action="debit",
                  permission=None) as (sub, order, ctx):
        if claim is not None and sub.claimed_by != claim:
            return  # another claim finished it
        now = utcnow()
        sub.claimed_by = None
        invoice_id = sub.current_invoice_id
        if paid:
            sub.payments_made += 1
            sub.current_invoice_id, sub.attempts, sub.next_attempt_at = None, 0, None
            sub.last_error = None
            sub.next_due_at = step(sub, sub.next_due_at or now)
            if sub.remaining == 0:
                sub.status, sub.ended_at = COMPLETED, now
            elif sub.status in (PROCESSING, FAILED):
                sub.status = ACTIVE
            text = (event_msg("Subscription %(id)s: payment %(payment)s received; all "
                              "payments made.", catalog_domain=DOMAIN, id=sub.id,
                              payment=sub.payments_made)
                    if sub.status == COMPLETED else
                    event_msg("Subscription %(id)s: payment %(payment)s received.",
                              catalog_domain=DOMAIN, id=sub.id, payment=sub.payments_made))
            record(ctx, order, "subscription_paid", text, subscription=sub,
                   invoice_id=invoice_id)
            return
        sub.attempts += 1
        sub.last_error = message[:500]
        if sub.attempts > config.max_retries:
            sub.status, sub.next_attempt_at, sub.ended_at = FAILED, None, now
            text = event_ngettext(
                "Subscription %(id)s failed: the payment was declined once (%(reason)s).",
                "Subscription %(id)s failed: the payment was declined %(num)s times "
                "(%(reason)s).", sub.attempts, catalog_domain=DOMAIN, id=sub.id,
                reason=message)
        else:
            sub.status, sub.next_attempt_at = ACTIVE, now + config.retry_delta
            ctx.enqueue(tick_job(sub.next_attempt_at))  # the retry runs on the dot
            text = event_msg("Subscription %(id)s: payment declined (%(reason)s); retry "
                             "%(attempt)s of %(retries)s on %(when)s UTC.",
                             catalog_domain=DOMAIN, id=sub.id, reason=message,
                             attempt=sub.attempts, retries=config.max_retries,
                             when=f"{sub.next_attempt_at:%Y-%m-%d %H:%M}")
        record(ctx, order, "subscription_payment_failed", text, subscription=sub, notify=True,
               invoice_id=invoice_id, attempts=sub.attempts)


def periods_paid(order: Order) -> int:
    """Periods the order's invoices have paid: each paid part of an invoice plan (or the
    order's own invoice), plus each paid renewal invoice."""
    parts = [inv for inv in order.invoices if inv.kind == "order" and inv.status != "cancelled"]
    if len(parts) > 1:
        own = sum(1 for inv in parts if inv.status == "paid")
    else:
        own = 1 if any(inv.status == "paid" for inv in parts) or not parts else 0
    return own + sum(1 for inv in order.invoices
                     if inv.kind == "renewal" and inv.status == "paid")


def release(mill: Ordermill, subscription_id: int, *, before: dt.datetime) -> None:
    """Back to Active from a Processing claim not renewed since `before`."""
    with changing(mill, subscription_id, actor=SYSTEM, action="release",
                  permission=None) as (sub, order, ctx):
        if sub.status != PROCESSING or sub.updated_at >= before:
            return
        sub.status, sub.claimed_by, sub.next_attempt_at = ACTIVE, None, utcnow()
        record(ctx, order, "subscription_released",
               event_msg("Subscription %(id)s: the interrupted payment is taken again.",
                         catalog_domain=DOMAIN, id=sub.id),
               subscription=sub)


def reconcile(mill: Ordermill, number: str) -> None:
    """A payment reached the order: if it paid the current invoice, the period is done; a
    part of an invoice plan the buyer paid ahead of its date counts as paid too."""
    with mill.read_session() as session:
        sub = session.scalar(select(Subscription).where(Subscription.order_number == number))
    if sub is None or sub.status in (PROCESSING, COMPLETED):
        return
    order = mill.orders.get(number)
    if sub.current_invoice_id is not None:
        invoice = next((inv for inv in order.invoices if inv.id == sub.current_invoice_id),
                       None)
        if invoice is not None and invoice.status == "paid":
            settle(mill, sub.id, claim=None, paid=True)
        return
    if periods_paid(order) > sub.payments_made:
        with changing(mill, sub.id, actor=SYSTEM, action="paid_ahead",
                      permission=None) as (locked, order, ctx):
            ahead = periods_paid(order) - locked.payments_made
            if ahead <= 0 or locked.current_invoice_id is not None:
                return
            locked.payments_made += ahead
            locked.next_due_at = step(locked, locked.next_due_at or utcnow(), ahead)
            if locked.remaining == 0:
                locked.status, locked.ended_at = COMPLETED, utcnow()
            record(ctx, order, "subscription_paid",
                   event_ngettext("Subscription %(id)s: %(num)s payment made.",
                                  "Subscription %(id)s: %(num)s payments made.",
                                  locked.payments_made, catalog_domain=DOMAIN, id=locked.id),
                   subscription=locked)
