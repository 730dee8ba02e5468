"""What every hook receives as `ctx`: the app, its settings, who acts, and the transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy.orm import Session

from ordermill.core.i18n import MESSAGES_DOMAIN, EventMsg, _store_param
from ordermill.core.models import OrderEvent, utcnow
from ordermill.core.settings import Settings
from ordermill.core.specs import Actor, JobRequest

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill
    from ordermill.core.models import Order

CUSTOMER_EVENTS = "customer_events"  # ctx.notes key: events recorded with notify_customer


@attrs.define
class ActionContext:
    """The context of one action.

    `session` is the action's open transaction during in-transaction hooks and None in
    after-commit hooks. `dry_run` is true when the action will be rolled back: a plugin must
    then call no outside service.
    """

    mill: Ordermill
    actor: Actor
    action: str
    session: Session | None = None
    dry_run: bool = False
    jobs: list[JobRequest] = attrs.field(factory=list)
    notes: dict[str, Any] = attrs.field(factory=dict)

    @property
    def settings(self) -> Settings:
        return self.mill.settings

    def plugin_config(self, name: str) -> Any:
        return self.mill.settings.plugin_config(name)

    def enqueue(self, job: JobRequest) -> None:
        """Queue outside work in this action's transaction (written when the event is)."""
        self.jobs.append(job)

    def flag_attention(self, order: Order, reason: str) -> None:
        """Flag the order "needs attention" for staff, with `reason` (kept once): it shows on
        the order page and the admin's Needs attention page until cleared."""
        reasons = _attention_reasons(order)
        if reason not in reasons:
            order.needs_attention = ATTENTION_SEPARATOR.join([*reasons, reason])

    def clear_attention(self, order: Order, reason: str) -> None:
        """Drop `reason` from the order's "needs attention" (the problem was solved); the
        flag goes when no reason is left."""
        reasons = [kept for kept in _attention_reasons(order) if kept != reason]
        order.needs_attention = ATTENTION_SEPARATOR.join(reasons) or None

    def record_event(self, order: Order, type: str, message: str, *,
                     data: dict[str, Any] | None = None, comment: str | None = None,
                     notify_customer: bool = False, visible_to_customer: bool = False,
                     actor: str | None = None, touch: bool = True,
                     message_id: str | None = None, params: dict[str, Any] | None = None,
                     domain: str | None = None) -> OrderEvent:
        """Write a history event on `order` in this action's transaction.

        The one way a plugin adds to an order's history: the event is committed with the
        action (or not at all), bumps the order's `updated_at`, and is admin-only unless
        `visible_to_customer`. `actor` defaults to the acting user's label; a plugin working on
        its own (a worker job) passes e.g. "plugin:provisioning". `touch=False` leaves the order
        row alone (no new `updated_at`, so no new version): for a note that changes nothing on
        the order (an e-mail sent, a ticket scanned), so that a form an admin has open does
        not turn stale. Only inside an in-transaction hook or `mill.orders.editing(...)`, where
        `session` is set.

        To show the event in each reader's language, pass `message` as an `event_msg(...)`
        (from ordermill.api), or give `message_id` (the catalog msgid with %(name)s
        placeholders), `params` and, for a plugin's own catalog, `domain` (e.g.
        "ordermill_tickets"); `message` stays the English text old readers and exports show.
        """
        if self.session is None:
            raise RuntimeError("record_event needs an open action (ctx.session is None in "
                               "after-commit hooks; use mill.orders.editing there)")
        now = utcnow()
        event = OrderEvent(
            order_id=order.id, order_number=order.number, type=type,
            actor=actor or self.actor.label, comment=comment,
            notify_customer=notify_customer, visible_to_customer=visible_to_customer,
            data=jsonable(data or {}), created_at=now,
            **message_columns(message, message_id, params, domain),
        )
        if touch:
            order.updated_at = now
        self.session.add(event)
        self.session.flush()
        if notify_customer:
            self.notes.setdefault(CUSTOMER_EVENTS, []).append(event)
        return event

    def outside_call(self, what: str) -> None:
        """Say, just before it, that the action calls a service outside the database (e.g.
        "the Stripe refund"): a lost database connection then fails the action with an error
        naming it instead of running the action, and so the call, a second time."""
        self.notes.setdefault("outside_calls", []).append(what)


def message_columns(message: str, message_id: str | None = None,
                    params: dict[str, Any] | None = None,
                    domain: str | None = None) -> dict[str, Any]:
    """The event's `message_id`/`params` columns for `message` (an EventMsg carries them)."""
    if message_id is None and isinstance(message, EventMsg):
        message_id, params, domain = message.message_id, message.params, message.domain
    if message_id is None:
        return {"message": str(message)}
    stored = {key: _store_param(value) for key, value in (params or {}).items()}
    if domain and domain != MESSAGES_DOMAIN:
        stored["$domain"] = domain
    return {"message": str(message), "message_id": message_id, "params": stored}


def jsonable(value: Any) -> Any:
    """`value` with Decimals, datetimes and Money turned into the strings history stores."""
    import datetime as dt
    from decimal import Decimal

    from ordermill.core.money import Money

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Money):
        return value.to_decimal_string()
    return value


ATTENTION_SEPARATOR = "; "


def _attention_reasons(order: Order) -> list[str]:
    return [part for part in (order.needs_attention or "").split(ATTENTION_SEPARATOR) if part]
