"""What every customer action shares: errors, loading, the history row, the plain-dict view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ordermill.core.context import ActionContext, jsonable, message_columns
from ordermill.core.customer_models import CustomerErasure, CustomerEvent
from ordermill.core.errors import ActionNotAllowed, InvalidInput, NotFound
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Customer, utcnow
from ordermill.core.specs import Actor

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

# Fields of the customer record a person can change (PATCH, admin edit form, CLI).
EDITABLE_FIELDS = ("name", "email", "phone", "company", "billing_address", "language")
# Columns other branches may add to the customer (VAT number, country): shown when present,
# cleared by erasure.
OPTIONAL_PERSONAL_COLUMNS = ("vat_id", "vat_number", "country")


MAX_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class CustomerErased(ActionNotAllowed):
    """The customer's personal data was erased: nothing more can be done with it."""

    code = "customer_erased"


class AlreadyErased(CustomerErased):
    code = "already_erased"


def valid_id(value: object) -> int:
    """A customer id from a URL or a command line, or CustomerNotFound."""
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10 or int(text) > MAX_ID:
        raise CustomerNotFound(_("No customer %(value)s: customer ids are whole numbers.",
                                 value=repr(value)),
                               details={"customer_id": str(value)})
    return int(text)


def load(session: Session, customer_id: object, *, lock: bool = False,
         is_sqlite: bool = True) -> Customer:
    """The customer, locked for the transaction on PostgreSQL when asked."""
    number = valid_id(customer_id)
    query = select(Customer).where(Customer.id == number)
    if lock and not is_sqlite:
        query = query.with_for_update()
    customer = session.scalar(query)
    if customer is None:
        raise CustomerNotFound(_("No customer %(number)s.", number=number),
                               details={"customer_id": number})
    return customer


def erasure_of(session: Session, customer_id: int) -> CustomerErasure | None:
    return session.scalar(select(CustomerErasure)
                          .where(CustomerErasure.customer_id == customer_id))


def refuse_if_erased(session: Session, customer: Customer, doing: str) -> None:
    erasure = erasure_of(session, customer.id)
    if erasure is not None:
        raise CustomerErased(
            _("Customer %(id)s was erased on %(isoformat)s; it cannot be %(doing)s.",
              id=customer.id, isoformat=erasure.erased_at.date().isoformat(), doing=doing),
            details={"customer_id": customer.id})


def record(session: Session, customer_id: int, actor: Actor, type: str, message: str,
           data: dict[str, Any] | None = None) -> CustomerEvent:
    """One row of the customer's history, in the action's transaction; `message` an
    event_msg(...) so that each reader sees it in their language."""
    event = CustomerEvent(customer_id=customer_id, type=type, actor=actor.label,
                          data=jsonable(data or {}), created_at=utcnow(),
                          **message_columns(message))
    session.add(event)
    session.flush()
    return event


@contextmanager
def customer_action(mill: Ordermill, actor: Actor, action: str) -> Iterator[
        tuple[Session, ActionContext]]:
    """One write transaction for a customer action; committed when the block ends. The
    order actions' transaction (retry.action_transaction): an order changed meanwhile is a
    StaleOrder, a lost connection or a busy database an error that says so."""
    from ordermill.core.retry import action_transaction

    ctx = ActionContext(mill, actor, action)
    with action_transaction(mill, ctx) as session:
        yield session, ctx


def when(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def customer_to_dict(customer: Customer, erasure: CustomerErasure | None = None
                     ) -> dict[str, Any]:
    """The customer's own record as the API, CLI and export show it."""
    data: dict[str, Any] = {
        "id": customer.id, "email": customer.email, "name": customer.name,
        "company": customer.company, "phone": customer.phone,
        "billing_address": dict(customer.billing_address or {}),
        "language": customer.language, "created_at": when(customer.created_at),
        "erased": erasure is not None,
        "erased_at": when(erasure.erased_at) if erasure is not None else None,
    }
    for column in OPTIONAL_PERSONAL_COLUMNS:
        if hasattr(customer, column):
            data[column] = getattr(customer, column)
    return data


def check_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The edit, checked: known fields, a real e-mail, a name, an address object."""
    from ordermill.core.requests import CustomerDetails

    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput(_("Unknown customer field(s): %(value)s.", value=', '.join(unknown)),
                           details={"fields": unknown})
    if not changes:
        raise InvalidInput(_("Nothing to change."))
    checked = dict(changes)
    if "email" in changes:
        checked["email"] = CustomerDetails(email=changes["email"], name="x").email
    if "name" in changes:
        checked["name"] = CustomerDetails(email="x@x", name=changes["name"]).name
    if "billing_address" in changes and not isinstance(changes["billing_address"], dict):
        raise InvalidInput(_("The billing address must be an object of fields."),
                           details={"field": "billing_address"})
    for field in ("phone", "company"):
        if field in checked and isinstance(checked[field], str):
            checked[field] = checked[field].strip() or None
    if "language" in checked and not (isinstance(checked["language"], str)
                                      and 2 <= len(checked["language"]) <= 10):
        raise InvalidInput(_("The language is a code such as en or fr."),
                           details={"field": "language"})
    return checked
