"""Changing a customer: their details and the staff notes kept about them.

Orders copy the buyer's details when placed, so editing the customer never rewrites an order
(edit an order's buyer on the order itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ordermill.core.customer_models import CustomerNote
from ordermill.core.customers.common import (
    check_changes,
    customer_action,
    load,
    record,
    refuse_if_erased,
)
from ordermill.core.errors import ActionNotAllowed, InvalidInput
from ordermill.core.i18n import N_, EventMsg, event_msg
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Customer, utcnow
from ordermill.core.permissions import require
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

MAX_NOTE = 10_000
# The customer's fields as the history's "Details changed" sentence names them.
FIELD_WORDS = {"name": N_("name"), "email": N_("e-mail"), "phone": N_("phone"),
               "company": N_("company"), "billing_address": N_("billing address"),
               "language": N_("language")}


def changed_fields(names: list[str]) -> str | EventMsg:
    """'name, billing address' with each field's word in the reader's language."""
    joined: str | EventMsg = ""
    for index, name in enumerate(names):
        word = event_msg(FIELD_WORDS[name]) if name in FIELD_WORDS else name
        joined = word if index == 0 else joined + ", " + word
    return joined


class EmailTaken(ActionNotAllowed):
    code = "email_taken"


def update_customer(mill: Ordermill, customer_id: object, changes: dict[str, Any], *,
                    actor: Actor) -> dict[str, list[Any]]:
    """Change the customer's details; returns {field: [old, new]} (also in the history)."""
    require(actor, "manage_customers")
    checked = check_changes(changes)
    with customer_action(mill, actor, "customer_edit") as (session, _ctx):
        customer = load(session, customer_id, lock=True, is_sqlite=mill.is_sqlite)
        refuse_if_erased(session, customer, "edited")
        if "email" in checked and checked["email"] != customer.email:
            other = session.scalar(select(Customer.id).where(
                Customer.email == checked["email"], Customer.id != customer.id).limit(1))
            if other is not None:
                raise EmailTaken(
                    _("Customer %(other)s already has the e-mail %(email)s; merge the two "
                      "customers instead.", other=other, email=checked['email']),
                    details={"customer_id": other,
                                                        "field": "email"})
        diff: dict[str, list[Any]] = {}
        for field, new in checked.items():
            old = getattr(customer, field)
            old = dict(old or {}) if field == "billing_address" else old
            if old != new:
                diff[field] = [old, new]
                setattr(customer, field, new)
        if not diff:
            raise InvalidInput(_("These details are already the customer's."))
        record(session, customer.id, actor, "customer_edited",
               event_msg("Details changed: %(fields)s.", fields=changed_fields(list(diff))),
               {"changes": diff})
    return diff


def add_note(mill: Ordermill, customer_id: object, text: str, *, actor: Actor) -> int:
    """A staff note about the customer; returns its id."""
    require(actor, "manage_customers")
    body = (text or "").strip()
    if not body:
        raise InvalidInput(_("A note cannot be empty."), details={"field": "text"})
    if len(body) > MAX_NOTE or "\x00" in body:
        raise InvalidInput(_("A note is at most %(MAX_NOTE)s characters, without NUL.",
                             MAX_NOTE=MAX_NOTE),
                           details={"field": "text"})
    with customer_action(mill, actor, "customer_note") as (session, _ctx):
        customer = load(session, customer_id, lock=True, is_sqlite=mill.is_sqlite)
        refuse_if_erased(session, customer, "given notes")
        note = CustomerNote(customer_id=customer.id, author=actor.label, text=body,
                            created_at=utcnow())
        session.add(note)
        session.flush()
        record(session, customer.id, actor, "note_added", event_msg("Staff note added."),
               {"note_id": note.id})
        return note.id


__all__ = ["EmailTaken", "add_note", "update_customer"]
