"""The schedule, run by the outbox itself: no cron.

`subscriptions.tick` is a job that re-queues itself `tick_seconds` later (with `run_at`)
while any subscription lives. Each run makes the renewal invoices that are due
(`invoice_days_before` days before the due date) and queues one `subscriptions.charge` job
per invoice whose debit time has come (dedupe key: invoice and attempt). A charge job
claims its subscription with one conditional UPDATE (Active -> Processing, naming the job),
so two workers never debit one invoice twice, and the gateway call carries an idempotency
key derived from the invoice and attempt, so a job retried after a crash reuses Stripe's
first answer. Offline gateways (bank transfer, cheque) are never debited: the renewal
invoice is e-mailed and the period ends when its payment is recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from ordermill.api import (
    ActionNotAllowed,
    JobRequest,
    OutboxJobView,
    PluginError,
    charge_saved,
    enqueue,
    utcnow,
)
from ordermill.plugins.subscriptions import engine
from ordermill.plugins.subscriptions.config import SubscriptionsConfig
from ordermill.plugins.subscriptions.models import (
    ACTIVE,
    PROCESSING,
    SUSPENDED,
    Subscription,
)

if TYPE_CHECKING:
    from ordermill.api import Ordermill

log = logging.getLogger("ordermill.subscriptions")
LIVE = (ACTIVE, PROCESSING, SUSPENDED)
# A claim not renewed for this long belongs to a debit job that died (each retry of the job
# renews it): the subscription is Active again and debited anew with the same attempt, whose
# idempotency key makes the gateway answer as the first time.
STALE_CLAIM = dt.timedelta(hours=3)


def charge_job(subscription: Subscription) -> JobRequest:
    """The debit of the current invoice's attempt (queued once per attempt and time)."""
    when = subscription.next_attempt_at or utcnow()
    return JobRequest(
        kind=engine.CHARGE_KIND,
        payload={"subscription": subscription.id, "invoice": subscription.current_invoice_id,
                 "attempt": subscription.attempts},
        dedupe_key=(f"{engine.CHARGE_KIND}:{subscription.current_invoice_id}:"
                    f"{subscription.attempts}:{int(when.timestamp())}"),
        max_attempts=10)


def can_debit(mill: Ordermill, subscription: Subscription) -> bool:
    spec = mill.gateways.get(subscription.gateway)
    return bool(spec is not None and spec.charge_saved is not None and spec.configured
                and subscription.saved_method)


def run_pass(mill: Ordermill, now: dt.datetime | None = None) -> dict[str, int]:
    """One scheduler pass: invoices made, debits queued, paid periods closed."""
    now = now or utcnow()
    config = SubscriptionsConfig.from_settings(mill.settings)
    ahead = dt.timedelta(days=config.invoice_days_before)
    done = {"invoiced": 0, "queued": 0}
    with mill.read_session() as session:
        to_invoice = list(session.scalars(
            select(Subscription.id).where(Subscription.status == ACTIVE,
                                          Subscription.current_invoice_id.is_(None),
                                          Subscription.next_due_at <= now + ahead)
            .order_by(Subscription.next_due_at)))
    for subscription_id in to_invoice:
        try:
            engine.make_invoice(mill, subscription_id, config)
            done["invoiced"] += 1
        except Exception:
            log.exception("subscription %s: the renewal invoice failed", subscription_id)
    with mill.read_session() as session:  # a debit job that died left its claim behind
        stuck = list(session.scalars(
            select(Subscription.id).where(Subscription.status == PROCESSING,
                                          Subscription.updated_at < now - STALE_CLAIM)))
    for subscription_id in stuck:
        try:
            engine.release(mill, subscription_id, before=now - STALE_CLAIM)
        except Exception:
            log.exception("subscription %s: releasing a stale claim failed", subscription_id)
    with mill.read_session() as session:
        open_ones = list(session.scalars(
            select(Subscription).where(Subscription.status.in_((ACTIVE, "failed")),
                                       Subscription.current_invoice_id.is_not(None))))
    for subscription in open_ones:
        try:
            engine.reconcile(mill, subscription.order_number)
        except Exception:
            log.exception("subscription %s: reconciling failed", subscription.id)
    with mill.write_session() as session, session.begin():
        due = list(session.scalars(
            select(Subscription).where(Subscription.status == ACTIVE,
                                       Subscription.current_invoice_id.is_not(None),
                                       Subscription.next_attempt_at <= now)))
        for subscription in due:
            if can_debit(mill, subscription) and enqueue(
                    session, charge_job(subscription),
                    order_number=subscription.order_number) is not None:
                done["queued"] += 1
    return done


def run_tick(job: OutboxJobView, mill: Ordermill) -> None:
    """The outbox job: one pass, then the next tick while any subscription lives."""
    config = SubscriptionsConfig.from_settings(mill.settings)
    run_pass(mill)
    ensure_tick(mill, utcnow() + dt.timedelta(seconds=config.tick_seconds))


def ensure_tick(mill: Ordermill, at: dt.datetime) -> bool:
    """Queue the tick at `at` (rounded to the tick) unless none is needed or one is queued."""
    config = SubscriptionsConfig.from_settings(mill.settings)
    seconds = config.tick_seconds
    slot = dt.datetime.fromtimestamp(-(-int(at.timestamp()) // seconds) * seconds, dt.UTC)
    with mill.write_session() as session, session.begin():
        live = session.scalar(select(func.count()).select_from(Subscription)
                              .where(Subscription.status.in_(LIVE)))
        if not live:
            return False
        return enqueue(session, engine.tick_job(slot)) is not None


def claim(mill: Ordermill, job: OutboxJobView) -> bool:
    """Take the subscription for this job: Active -> Processing, or this job's own claim
    again after a retry. One UPDATE, so of two workers exactly one wins."""
    key = f"job:{job.id}"
    payload = job.payload
    where = (Subscription.id == int(payload["subscription"]),
             Subscription.current_invoice_id == int(payload["invoice"]),
             Subscription.attempts == int(payload["attempt"]))
    with mill.write_session() as session, session.begin():
        fresh = session.execute(
            update(Subscription).where(*where, Subscription.status == ACTIVE)
            .values(status=PROCESSING, claimed_by=key, updated_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        if fresh:
            return True
        again = session.execute(
            update(Subscription).where(*where, Subscription.status == PROCESSING,
                                       Subscription.claimed_by == key)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
    return bool(again)


def run_charge(job: OutboxJobView, mill: Ordermill) -> None:
    """Debit one invoice once; a gateway fault raises so the outbox retries this job."""
    if not claim(mill, job):
        return
    key = f"job:{job.id}"
    subscription_id = int(job.payload["subscription"])
    with mill.read_session() as session:
        sub = session.get(Subscription, subscription_id)
        assert sub is not None
        number, gateway, saved = sub.order_number, sub.gateway, dict(sub.saved_method)
    engine.announce(mill, _copy(mill, subscription_id), ACTIVE, PROCESSING, engine.SYSTEM)
    try:
        answer = charge_saved(mill, number, gateway=gateway,
                              invoice_id=int(job.payload["invoice"]), saved=saved,
                              attempt=int(job.payload["attempt"]) + 1)
    except ActionNotAllowed:  # the invoice was paid (or cancelled) meanwhile
        order = mill.orders.get(number)
        paid = any(inv.id == int(job.payload["invoice"]) and inv.status == "paid"
                   for inv in order.invoices)
        engine.settle(mill, subscription_id, claim=key, paid=paid,
                      message="the invoice is no longer open")
        return
    except PluginError:
        raise
    engine.settle(mill, subscription_id, claim=key,
                  paid=answer.kind == "payment_succeeded", message=answer.message)


def _copy(mill: Ordermill, subscription_id: int) -> Subscription:
    with mill.read_session() as session:
        sub = session.get(Subscription, subscription_id)
        assert sub is not None
        return engine.snapshot(sub)
