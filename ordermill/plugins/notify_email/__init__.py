"""E-mail notifications for customers and the team, delivered through the durable outbox.

How it works: `jobs_for_event` runs inside every action's transaction and queues one outbox
job per message (kind `notify_email.send`), so a message exists if and only if the action
committed. The worker later runs `deliver` (see handler.py): it renders the message from Jinja
templates in the order's language, sends it over SMTP with a Message-ID derived from the job
id, and records an `email_sent` event on the order. A mail-server outage only delays mail:
the job retries with backoff, and after `max_attempts` it is dead-lettered for an admin to
retry.

Other plugins add messages for their own events with this plugin's hook
`register_email_messages` (hookspecs.py): the subscriptions plugin's renewal invoice, payment
failed and subscription suspended e-mails come that way.

Messages (template name: when, to whom):
  order_confirmation   placed (not held as fraud) or confirmation_resent: the customer
  team_new_order       placed: the team (`team_recipients`)
  fraud_hold           placed straight into fraud, or set as fraud: the team only
  payment_received     payment recorded, when the customer is to be notified
  order_cancelled      cancelled (whole or some lines), when the customer is to be notified
  order_refunded       refunded or cancelled_and_refunded with money returned
  order_dispatched     dispatched, with the date
  order_updated        a comment the admin chose to send, delivery, anything else notified

The plugin is inactive until its config names an SMTP `host` (config.py documents every key).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import attrs

from ordermill.api import (
    N_,
    ActionContext,
    EventTypeSpec,
    JobHandlerSpec,
    JobRequest,
    Order,
    OrderEvent,
    Settings,
    hookimpl,
)
from ordermill.plugins.notify_email import hookspecs as notify_hookspecs
from ordermill.plugins.notify_email.config import NotifyConfig
from ordermill.plugins.notify_email.handler import deliver, email_messages
from ordermill.plugins.notify_email.settings import admin_settings_pages

JOB_KIND = "notify_email.send"
CUSTOMER = "customer"
TEAM = "team"
MESSAGES = (
    "order_confirmation", "team_new_order", "fraud_hold", "payment_received",
    "order_cancelled", "order_refunded", "order_dispatched", "order_updated",
)
# Events that are bookkeeping, never news for anyone.
SILENT_EVENTS = frozenset({"email_sent", "job_dead", "job_retried", "hook_failed", "deleted",
                           "bulk_status_changed", "fraud_checked"})


@attrs.frozen
class PlannedMessage:
    template: str
    audience: str


def plan_messages(event_type: str, *, notify_customer: bool, category: str,
                  data: dict[str, Any]) -> list[PlannedMessage]:
    """Which messages an event calls for. Pure, so the rules are easy to read and test."""
    if event_type == "placed":
        first = (PlannedMessage("fraud_hold", TEAM) if category == "fraud"
                 else PlannedMessage("order_confirmation", CUSTOMER))
        return [first, PlannedMessage("team_new_order", TEAM)]
    if event_type == "confirmation_resent":
        return [PlannedMessage("order_confirmation", CUSTOMER)]
    if event_type == "fraud":
        return [PlannedMessage("fraud_hold", TEAM)]
    if event_type in SILENT_EVENTS or not notify_customer:
        return []
    template = {
        "payment": "payment_received",
        "payment_flagged": "payment_received",
        "cancelled": "order_cancelled",
        "refunded": "order_refunded",
        "dispatched": "order_dispatched",
    }.get(event_type)
    if event_type == "cancelled_and_refunded":
        template = "order_refunded" if data.get("amount") else "order_cancelled"
    return [PlannedMessage(template or "order_updated", CUSTOMER)]


def dedupe_key(event_id: int, template: str, recipient: str) -> str:
    """One message per (event, template, recipient), however often the hook runs."""
    digest = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:20]
    return f"{JOB_KIND}:{event_id}:{template}:{digest}"


@hookimpl
def register_event_types() -> list[EventTypeSpec]:
    """`email_sent` (handler.deliver) in the order's history, in the reader's language."""
    return [EventTypeSpec("email_sent", N_("E-mail sent"), "ordermill_notify_email")]


@hookimpl
def add_hookspecs(pm: Any) -> None:
    """`register_email_messages`: other plugins' customer e-mails."""
    pm.add_hookspecs(notify_hookspecs)


@hookimpl
def jobs_for_event(order: Order, event: OrderEvent, ctx: ActionContext) -> list[JobRequest]:
    """Queue one job per message and recipient this event calls for."""
    config = NotifyConfig.for_mill(ctx.mill, strict=False, session=ctx.session)
    if not config.enabled or event.id is None:
        return []
    plugin_messages = email_messages(ctx.mill)
    if event.type in plugin_messages:
        planned = ([PlannedMessage(plugin_messages[event.type][0], CUSTOMER)]
                   if event.notify_customer else [])
    else:
        planned = plan_messages(
            event.type, notify_customer=bool(event.notify_customer),
            category=ctx.mill.statuses.category(order.status), data=dict(event.data or {}))
    jobs: list[JobRequest] = []
    for message in planned:
        if message.template in config.disabled_messages:
            continue
        if message.audience == CUSTOMER:
            recipients: Iterable[str] = [order.buyer_email]
            language = order.language or config.default_language
        else:
            recipients = config.team_recipients
            language = config.team_language
        for recipient in recipients:
            jobs.append(JobRequest(
                kind=JOB_KIND,
                payload={"template": message.template, "order_number": order.number,
                         "recipients": [recipient], "language": language,
                         "event_id": event.id, "audience": message.audience},
                dedupe_key=dedupe_key(event.id, message.template, recipient),
                max_attempts=config.max_attempts, to_customer=message.audience == CUSTOMER,
            ))
    return jobs


@hookimpl
def register_job_handlers(settings: Settings) -> list[JobHandlerSpec]:
    return [JobHandlerSpec(
        kind=JOB_KIND, handler=deliver,
        max_attempts=NotifyConfig.from_settings(settings, strict=False).max_attempts
        or settings.outbox_max_attempts,
        description="Render and send one e-mail over SMTP; records email_sent on the order.",
    )]


__all__ = ["JOB_KIND", "MESSAGES", "PlannedMessage", "admin_settings_pages", "dedupe_key",
           "plan_messages"]
