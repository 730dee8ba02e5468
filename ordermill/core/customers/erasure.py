"""Erasure of a customer's personal data (GDPR article 17), in one transaction.

Every personal string ordermill stored for the customer is collected first (their record,
each order's buyer fields, old values in edit diffs, deleted-order snapshots, ticket
attendees, the checkout IP) and then replaced by a pseudonym wherever ordermill keeps it:
the customer, their orders, order lines, every history event of those orders (comments are
kept, the buyer data inside them is not), outbox payloads (pending, done and dead), stored
idempotency responses, gateway events, fraud checks, payment notes, staff notes and the
customer history. Plugins erase what they store through the in-transaction hook
`erase_personal_data`. Money records, totals and order numbers stay, so the books balance;
issued invoices are retained for the legal period (`invoice_retention_years`) and the report
says so.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session, selectinload

from ordermill.core.context import ActionContext, jsonable, message_columns
from ordermill.core.customer_models import CustomerErasure, CustomerEvent, CustomerNote
from ordermill.core.customers.common import (
    OPTIONAL_PERSONAL_COLUMNS,
    AlreadyErased,
    customer_action,
    erasure_of,
    load,
    record,
)
from ordermill.core.customers.scrub import Scrubber
from ordermill.core.i18n import event_msg, event_ngettext
from ordermill.core.i18n import gettext as _
from ordermill.core.models import (
    Customer,
    GatewayEvent,
    IdempotencyRecord,
    Invoice,
    Order,
    OrderEvent,
    OutboxJob,
    utcnow,
)
from ordermill.core.permissions import require
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

PSEUDONYM_DOMAIN = "erased.invalid"
RETENTION_NOTE = ("Issued invoices and credit notes keep the buyer data the law requires "
                  "until the end of the retention period; they are not changed by erasure.")


@attrs.frozen
class ErasureScope:
    """What the `erase_personal_data` hook gets besides the customer: the pseudonym that
    replaces the person, the numbers of their orders (deleted ones included) and `scrub`,
    which replaces every personal string of the customer inside a string, list or object."""

    customer_id: int
    pseudonym: str
    pseudonym_email: str
    order_numbers: tuple[str, ...]
    scrub: Callable[[Any], Any]


def _pseudonym() -> str:
    return f"erased-{secrets.token_hex(5)}"


def _deleted_order_numbers(session: Session, emails: set[str]) -> set[str]:
    """Numbers of deleted orders whose snapshot names one of the customer's e-mails."""
    if not emails:
        return set()
    conditions = [cast(OrderEvent.data, String).contains(email) for email in emails]
    found = set()
    for event in session.scalars(select(OrderEvent).where(OrderEvent.type == "deleted",
                                                          or_(*conditions))):
        buyer = ((event.data or {}).get("snapshot") or {}).get("buyer") or {}
        if str(buyer.get("email", "")).lower() in emails:
            found.add(event.order_number)
    return found


def _collect(scrubber: Scrubber, customer: Customer, orders: Sequence[Order],
             events: Sequence[OrderEvent], history: Sequence[CustomerEvent]) -> None:
    """Teach the scrubber every personal string of the customer."""
    scrubber.add_name(customer.name)
    scrubber.add_email(customer.email)
    scrubber.add_phone(customer.phone)
    scrubber.add(customer.company)
    scrubber.add_values(customer.billing_address)
    for column in OPTIONAL_PERSONAL_COLUMNS:
        value = getattr(customer, column, None)
        if isinstance(value, str) and column != "country":
            scrubber.add(value)
    for order in orders:
        scrubber.add_name(order.buyer_name)
        scrubber.add_email(order.buyer_email)
        scrubber.add_phone(order.buyer_phone)
        scrubber.add_values(order.billing_address)
        scrubber.add(order.customer_ip)
        for line in order.lines:
            scrubber.add_name(line.attendee)
            for attendee in (line.options or {}).get("attendees") or []:
                scrubber.add_name(attendee if isinstance(attendee, str) else None)
    for event in events:
        data = event.data or {}
        buyer = (data.get("snapshot") or {}).get("buyer") if event.type == "deleted" else None
        changes = data.get("changes") if event.type == "buyer_edited" else None
        for source in (buyer or {}, changes or {}):
            for field, value in source.items():
                values = value if isinstance(value, list) and field != "billing_address" \
                    else [value]
                for item in values:
                    _add_field(scrubber, field, item)
    for row in history:
        for field, pair in ((row.data or {}).get("changes") or {}).items():
            for item in pair if isinstance(pair, list) else [pair]:
                _add_field(scrubber, field, item)
        for key, field in (("merged_email", "email"), ("merged_name", "name")):
            _add_field(scrubber, field, (row.data or {}).get(key))


def _add_field(scrubber: Scrubber, field: str, value: Any) -> None:
    if field == "name" and isinstance(value, str):
        scrubber.add_name(value)
    elif field == "email" and isinstance(value, str):
        scrubber.add_email(value)
    elif field == "phone" and isinstance(value, str):
        scrubber.add_phone(value)
    elif field in ("billing_address", "company"):
        scrubber.add_values(value)


def _scrub_events(events: Sequence[OrderEvent], scrubber: Scrubber, pseudonym: str,
                  email: str) -> int:
    for event in events:
        data = dict(event.data or {})
        if event.type == "deleted" and isinstance(data.get("snapshot"), dict):
            snapshot = dict(data["snapshot"])
            snapshot["buyer"] = {"name": pseudonym, "email": email, "phone": None,
                                 "billing_address": {},
                                 "language": (snapshot.get("buyer") or {}).get("language")}
            snapshot["customer_ip"] = None
            data["snapshot"] = snapshot
        event.data = scrubber(data)
        event.message = scrubber.text(event.message) or ""
        if event.params:  # the message's parameters (issue 21) hold the same personal data
            event.params = scrubber(dict(event.params))
        event.comment = scrubber.text(event.comment)
        event.actor = scrubber.text(event.actor) or ""
    return len(events)


def _scrub_orders(orders: Sequence[Order], scrubber: Scrubber, pseudonym: str,
                  email: str) -> None:
    for order in orders:
        order.buyer_name = pseudonym
        order.buyer_email = email
        order.buyer_phone = None
        order.billing_address = {}
        order.customer_ip = None
        order.customer_note = scrubber.text(order.customer_note)
        order.needs_attention = scrubber.text(order.needs_attention)
        order.idempotency_key = scrubber.text(order.idempotency_key)
        order.plugin_data = scrubber(dict(order.plugin_data or {}))
        for line in order.lines:
            line.attendee = pseudonym if line.attendee else None
            line.options = scrubber(dict(line.options or {}))
            line.domain = scrubber.text(line.domain)
        for payment in order.payments:
            payment.note = scrubber.text(payment.note)
            payment.actor = scrubber.text(payment.actor)
        for invoice in order.invoices:
            invoice.description = scrubber.text(invoice.description)
        for check in order.fraud_checks:
            check.raw = scrubber(dict(check.raw or {}))
            check.reasons = scrubber(list(check.reasons or []))
            check.error = scrubber.text(check.error)


def _scrub_jobs(session: Session, numbers: set[str], scrubber: Scrubber) -> int:
    if not numbers:
        return 0
    jobs = list(session.scalars(select(OutboxJob).where(OutboxJob.order_number.in_(numbers))))
    for job in jobs:  # pending, running, done and dead alike
        job.payload = scrubber(dict(job.payload or {}))
        job.last_error = scrubber.text(job.last_error)
        job.dedupe_key = scrubber.text(job.dedupe_key)
    return len(jobs)


def _scrub_idempotency(session: Session, numbers: set[str], emails: set[str],
                       scrubber: Scrubber) -> int:
    conditions = [IdempotencyRecord.caller == f"customer:{email}" for email in emails]
    conditions += [cast(IdempotencyRecord.response, String).contains(number)
                   for number in numbers]
    if not conditions:
        return 0
    records = list(session.scalars(select(IdempotencyRecord).where(or_(*conditions))))
    for row in records:
        row.caller = scrubber.text(row.caller) or ""
        row.response = scrubber(dict(row.response or {}))
    return len(records)


def _scrub_gateway_events(session: Session, numbers: set[str], scrubber: Scrubber) -> int:
    if not numbers:
        return 0
    rows = list(session.scalars(select(GatewayEvent)
                                .where(GatewayEvent.order_number.in_(numbers))))
    for row in rows:
        row.payload = scrubber(dict(row.payload or {}))
        row.outcome = scrubber.text(row.outcome)
    return len(rows)


def _retained_invoices(session: Session, numbers: set[str], years: int,
                       now: dt.datetime) -> dict[str, Any]:
    invoices = list(session.scalars(select(Invoice).where(or_(
        Invoice.order_id.in_(select(Order.id).where(Order.number.in_(numbers))),
        Invoice.order_number.in_(numbers))))) if numbers else []
    latest = max((invoice.created_at for invoice in invoices), default=None)
    until = None
    if latest is not None:
        until = latest.replace(year=latest.year + years) if not (
            latest.month == 2 and latest.day == 29) else latest.replace(
            year=latest.year + years, day=28)
    return {"invoices": len(invoices), "invoice_ids": sorted(i.id for i in invoices),
            "retention_years": years,
            "retained_until": until.date().isoformat() if until else None,
            "note": RETENTION_NOTE}


def erase_customer(mill: Ordermill, customer_id: object, *, actor: Actor) -> dict[str, Any]:
    """Erase the customer's personal data everywhere; returns the erasure report."""
    require(actor, "erase_customer_data")
    with customer_action(mill, actor, "customer_erase") as (session, ctx):
        customer = load(session, customer_id, lock=True, is_sqlite=mill.is_sqlite)
        done = erasure_of(session, customer.id)
        if done is not None:
            raise AlreadyErased(
                _("Customer %(id)s was already erased on %(isoformat)s (now %(pseudonym)s); "
                  "nothing to do.", id=customer.id, isoformat=done.erased_at.date().isoformat(),
                  pseudonym=done.pseudonym),
                details={"customer_id": customer.id, "pseudonym": done.pseudonym})
        report = _erase(mill, session, ctx, customer, actor)
    return report


def _erase(mill: Ordermill, session: Session, ctx: ActionContext, customer: Customer,
           actor: Actor) -> dict[str, Any]:
    now = utcnow()
    pseudonym = _pseudonym()
    email = f"{pseudonym}@{PSEUDONYM_DOMAIN}"
    orders = list(session.scalars(
        select(Order).where(Order.customer_id == customer.id)
        .options(selectinload(Order.lines), selectinload(Order.invoices),
                 selectinload(Order.payments), selectinload(Order.fraud_checks))
        .order_by(Order.id)))
    emails = {customer.email.lower(), *(order.buyer_email.lower() for order in orders)}
    numbers = {order.number for order in orders} | _deleted_order_numbers(session, emails)
    events = list(session.scalars(select(OrderEvent).where(
        OrderEvent.order_number.in_(numbers)))) if numbers else []
    history = list(session.scalars(select(CustomerEvent)
                                   .where(CustomerEvent.customer_id == customer.id)))
    scrubber = Scrubber(pseudonym, email)
    _collect(scrubber, customer, orders, events, history)
    _scrub_orders(orders, scrubber, pseudonym, email)
    scrubbed_events = _scrub_events(events, scrubber, pseudonym, email)
    jobs = _scrub_jobs(session, numbers, scrubber)
    replays = _scrub_idempotency(session, numbers, emails, scrubber)
    gateway_events = _scrub_gateway_events(session, numbers, scrubber)
    for note in session.scalars(select(CustomerNote)
                                .where(CustomerNote.customer_id == customer.id)):
        note.text = scrubber.text(note.text) or ""
    for row in history:
        row.message = scrubber.text(row.message) or ""
        row.data = scrubber(dict(row.data or {}))
        row.actor = scrubber.text(row.actor) or ""
    scope = ErasureScope(customer.id, pseudonym, email, tuple(sorted(numbers)), scrubber)
    customer.name = pseudonym
    customer.email = email
    customer.phone = None
    customer.company = None
    customer.billing_address = {}
    for column in OPTIONAL_PERSONAL_COLUMNS:
        if hasattr(customer, column) and column != "country":
            setattr(customer, column, None)
    session.flush()
    plugins: dict[str, Any] = {}
    outcome = mill.plugins.call("erase_personal_data", customer=customer, erasure=scope,
                                ctx=ctx)
    for plugin, answer in outcome.results:
        plugins[plugin] = jsonable(answer)
    for order in orders:
        session.add(OrderEvent(
            order_id=order.id, order_number=order.number, type="buyer_erased",
            actor=actor.label, **message_columns(event_msg(
                "The buyer's personal data was erased (customer erasure); the buyer is now "
                "%(pseudonym)s.", pseudonym=pseudonym)), data={"customer_id": customer.id},
            created_at=now))
    report = {
        "customer_id": customer.id, "pseudonym": pseudonym, "pseudonym_email": email,
        "erased_at": now.isoformat(), "orders": sorted(numbers),
        "erased": {"orders": len(orders), "order_events": scrubbed_events,
                   "outbox_jobs": jobs, "idempotency_records": replays,
                   "gateway_events": gateway_events, "plugins": plugins},
        "kept": "Money records (payments, invoices), order totals and order numbers, so the "
                "books still balance.",
        "retained": _retained_invoices(session, numbers, mill.settings.invoice_retention_years,
                                       now),
    }
    session.add(CustomerErasure(customer_id=customer.id, pseudonym=pseudonym,
                                actor=actor.label, report=report, erased_at=now))
    record(session, customer.id, actor, "erased",
           event_ngettext("Personal data erased; the customer is now %(pseudonym)s. Issued "
                          "invoices are retained for %(num)s year.",
                          "Personal data erased; the customer is now %(pseudonym)s. Issued "
                          "invoices are retained for %(num)s years.",
                          mill.settings.invoice_retention_years, pseudonym=pseudonym),
           {"pseudonym": pseudonym, "orders": len(orders)})
    return report


__all__ = ["PSEUDONYM_DOMAIN", "ErasureScope", "erase_customer"]
