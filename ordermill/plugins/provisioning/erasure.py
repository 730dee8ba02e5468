"""Erasure of a customer's personal data in this plugin's tables (`erase_personal_data`).

Tickets name their attendee: every ticket of the customer's orders gets the pseudonym. A
service's username, domain and last error are scrubbed of the customer's personal strings
(a username made from the buyer's name, an error quoting their e-mail); passwords are
encrypted in the vault and identify nobody.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ordermill.api import ActionContext, Customer, ErasureScope
from ordermill.plugins.provisioning.models import ETicket, ProvisionedService


def erase(customer: Customer, erasure: ErasureScope, ctx: ActionContext) -> dict[str, Any]:
    """Pseudonymise tickets and services of the customer's orders; returns the counts."""
    session = ctx.session
    assert isinstance(session, Session), "erase_personal_data runs in the erasure transaction"
    numbers = list(erasure.order_numbers)
    if not numbers:
        return {"tickets": 0, "services": 0}
    tickets = list(session.scalars(select(ETicket).where(ETicket.order_number.in_(numbers))))
    for ticket in tickets:
        ticket.attendee = erasure.pseudonym
        ticket.checked_in_by = erasure.scrub(ticket.checked_in_by)
    services = list(session.scalars(select(ProvisionedService)
                                    .where(ProvisionedService.order_number.in_(numbers))))
    for service in services:
        service.username = erasure.scrub(service.username)
        service.domain = erasure.scrub(service.domain)
        service.last_error = erasure.scrub(service.last_error)
    return {"tickets": len(tickets), "services": len(services)}
