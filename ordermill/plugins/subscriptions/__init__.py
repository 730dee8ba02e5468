"""Subscriptions: recurring orders whose renewals are invoices on the original order (seed 003,
WHMCS), debited on schedule through the gateway's saved payment method.

A subscription starts when an order with a billing cycle (a hosting line billed monthly)
receives its first payment, or when staff start one: for an invoice plan of N parts, a
subscription with count N whose invoices exist from placement (each part debited on its due
date, `instalment_interval` apart). It has
its own status (models.STATUSES), apart from the order's workflow status. The pieces:

* `models` (its table, on this plugin's own Alembic branch in migrations/), `config`;
* `engine`: creation, the staff actions (suspend, resume, complete early, retry now), a
  period invoiced, paid or declined, each in one transaction on the locked order with one
  history event, then this plugin's hook `on_subscription_status_changed` (`hookspecs`);
* `scheduler`: the outbox jobs that make renewal invoices and debit them (no cron);
* `web` (API and the admin's "Recurring orders" tab) and `cli` (`ordermill subscriptions`),
  imported only when an app or a command line asks for them, gone when the plugin is blocked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ordermill.api import (
    N_,
    ActionContext,
    ActionNotAllowed,
    Actor,
    AdminLink,
    EventTypeSpec,
    JobHandlerSpec,
    Order,
    OrderPanel,
    Payment,
    PermissionSpec,
    Settings,
    hookimpl,
)
from ordermill.plugins.subscriptions import engine, scheduler
from ordermill.plugins.subscriptions import hookspecs as subscription_hookspecs
from ordermill.plugins.subscriptions.i18n import DOMAIN
from ordermill.plugins.subscriptions.i18n import i18n as catalog  # noqa: F401 (registers its domain)
from ordermill.plugins.subscriptions.models import Subscription

if TYPE_CHECKING:
    import click
    from flask import Blueprint

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BRANCH = "subscriptions"


@hookimpl(trylast=True)
def add_hookspecs(pm: Any) -> None:
    """`on_subscription_status_changed`: how other plugins follow a subscription."""
    pm.add_hookspecs(subscription_hookspecs)


@hookimpl(trylast=True)
def register_permissions() -> Iterable[PermissionSpec]:
    return [PermissionSpec("manage_recurring", N_("Change the status of recurring orders"),
                           roles=("manager",))]


# The history event types this plugin writes (engine.record, demo), as the admin names them.
EVENT_TYPES = {
    "subscription_started": N_("Subscription started"),
    "subscription_suspend": N_("Subscription suspended"),
    "subscription_resume": N_("Subscription resumed"),
    "subscription_complete": N_("Subscription completed"),
    "subscription_retry": N_("Subscription payment retried"),
    "subscription_paid": N_("Subscription payment received"),
    "subscription_payment_failed": N_("Subscription payment failed"),
    "subscription_released": N_("Subscription payment taken again"),
    "subscription_demo": N_("Subscription status set (demo)"),
    "renewal_invoice": N_("Renewal invoice"),
}


@hookimpl(trylast=True)
def register_event_types() -> Iterable[EventTypeSpec]:
    return [EventTypeSpec(name, label, DOMAIN) for name, label in EVENT_TYPES.items()]


@hookimpl(trylast=True)
def register_job_handlers(settings: Settings) -> Iterable[JobHandlerSpec]:
    return [
        JobHandlerSpec(kind=engine.TICK_KIND, handler=scheduler.run_tick, max_attempts=100,
                       description="Make due renewal invoices and queue their debits; "
                                   "queues itself again (the subscriptions schedule)."),
        JobHandlerSpec(kind=engine.CHARGE_KIND, handler=scheduler.run_charge, max_attempts=10,
                       description="Debit one renewal invoice from the saved payment "
                                   "method, once (idempotency key from the invoice)."),
    ]


@hookimpl(trylast=True)
def register_migration_locations(settings: Settings) -> Iterable[str]:
    return [str(MIGRATIONS)]


@hookimpl(trylast=True)
def on_payment(order: Order, payment: Payment, ctx: ActionContext) -> None:
    """The first payment of an order with a billing cycle starts its subscription (an
    invoice plan's starts when staff start it); a later payment of the current renewal
    invoice closes its period."""
    mill = ctx.mill
    with mill.read_session() as session:
        known = session.scalar(select(Subscription.id)
                               .where(Subscription.order_number == order.number))
    if known is not None:
        engine.reconcile(mill, order.number)
        return
    if engine.recurring_plan(order) is None:
        return
    try:
        engine.create(mill, order.number, actor=engine.SYSTEM)
    except ActionNotAllowed as error:
        if not error.details.get("duplicate"):
            raise


EMAILS = Path(__file__).resolve().parent / "templates" / "email"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# {event type: notify_email template}: renewal invoice, payment failed, suspended
EMAIL_MESSAGES = {"renewal_invoice": "renewal_invoice",
                  "subscription_payment_failed": "subscription_payment_failed",
                  "subscription_suspend": "subscription_suspended"}


@hookimpl(optionalhook=True)
def register_email_messages(settings: Settings) -> Iterable[dict[str, str]]:
    """notify_email's hook: this plugin's customer e-mails and their templates."""
    return [{"event": event, "template": template, "directory": str(EMAILS),
             "domain": "ordermill_subscriptions", "translations": str(TRANSLATIONS)}
            for event, template in EMAIL_MESSAGES.items()]


@hookimpl(trylast=True)
def register_blueprints() -> list[Blueprint]:
    """The subscriptions API and the admin's "Recurring orders" tab."""
    from ordermill.plugins.subscriptions.web import subscriptions_admin, subscriptions_api

    return [subscriptions_api, subscriptions_admin]


@hookimpl(trylast=True)
def register_commands(cli: click.Group) -> None:
    from ordermill.plugins.subscriptions.cli import add_commands

    add_commands(cli)


@hookimpl(trylast=True)
def admin_menu_links(actor: Actor) -> Iterable[AdminLink]:
    from ordermill.plugins.subscriptions.i18n import _

    return [AdminLink(_("Recurring orders"), "/admin/subscriptions", permission="view_orders")]


@hookimpl(trylast=True)
def admin_order_panels(order: Order, actor: Actor) -> list[OrderPanel] | None:
    """The order's subscription, when it has one."""
    from ordermill.plugins.subscriptions.web import order_panel

    return order_panel(order, actor)


@hookimpl(trylast=True)
def on_demo_loaded(orders: list[str], ctx: ActionContext) -> None:
    """The demo's recurring orders, one in every status."""
    from ordermill.plugins.subscriptions import demo

    demo.seed(ctx.mill, orders)


def next_tick(mill: Any, at: dt.datetime | None = None) -> bool:
    """Queue the scheduler (the CLI's `subscriptions schedule`)."""
    from ordermill.api import utcnow

    return scheduler.ensure_tick(mill, at or utcnow())


__all__ = ["BRANCH", "MIGRATIONS", "Subscription", "next_tick"]
