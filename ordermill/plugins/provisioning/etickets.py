"""E-tickets: one ticket per attendee with a unique code and a QR code, as a PDF from the order.

osConcert and Webex issue tickets only for paid orders: this module `requires_payment`, so a
bank-transfer order has no tickets until an admin records the money, and then they appear in
the same transaction as the payment. It runs in the action's transaction (`in_transaction`):
tickets exist exactly when the payment that issued them does.

* create: one ticket per unit of the line, each for an attendee (`line.options["attendees"]`,
  else `line.attendee`, else the buyer), with a 12-character code (no 0/O, 1/I) that is
  unique in the database;
* terminate: voids the line's tickets (line cancelled or refunded, order set to fraud);
  a voided ticket never comes back: if the line is paid for again, new codes are issued;
* reduce: some of the line's units were cancelled or refunded (1 of 3 tickets): voids as
  many tickets, unused ones first;
* suspend / unsuspend: block and unblock check-in.

`check_in` validates a code exactly once (a conditional UPDATE, so two doors scanning the
same ticket at the same moment cannot both let it in). `tickets_pdf` renders the PDF the API
serves and e-mails can attach: one page per ticket with event, attendee, code and QR code.

The module is a plugin of its own, the entry point `provisioning_etickets` (it implements the
provisioning plugin's `register_provisioning_modules`): blocked, ticket lines provision
nothing; the tickets already issued stay readable through the provisioning plugin's routes.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ordermill.api import (
    N_,
    ActionNotAllowed,
    Actor,
    NotFound,
    document_pdf,
    hookimpl,
    require,
    utcnow,
)
from ordermill.plugins.provisioning.i18n import _
from ordermill.plugins.provisioning.models import ETicket
from ordermill.plugins.provisioning.specs import (
    ModuleResult,
    ProvisioningModuleSpec,
    ServiceRequest,
)

if TYPE_CHECKING:
    from ordermill.api import Ordermill

NAME = "etickets"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 3
PRINTABLE = ("valid", "checked_in")


def new_code() -> str:
    """'XXXX-XXXX-XXXX' from 32 unambiguous characters: 60 bits, unguessable."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4 * CODE_GROUPS))
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def normalize_code(code: str) -> str:
    """What a person types or a scanner reads, as stored: upper case, dashes in place."""
    raw = "".join(c for c in code.upper() if c.isalnum())
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _attendees(request: ServiceRequest) -> list[str]:
    named = request.line_options.get("attendees")
    names = [str(n).strip() for n in named if str(n).strip()] if isinstance(named, list) else []
    fallback = (request.attendee or "").strip() or str(request.buyer.get("name") or "")
    return [names[i] if i < len(names) else fallback for i in range(request.quantity)]


def _session(request: ServiceRequest) -> Session:
    if request.session is None:
        raise RuntimeError("the etickets module runs inside the action's transaction")
    return request.session


def create(request: ServiceRequest) -> ModuleResult:
    """Issue the tickets the line still lacks (one per unit), with fresh unique codes."""
    session = _session(request)
    held = list(session.scalars(select(ETicket).where(
        ETicket.line_id == request.line_id, ETicket.status != "void")))
    names = _attendees(request)
    next_unit = 1 + max((t.unit for t in session.scalars(
        select(ETicket).where(ETicket.line_id == request.line_id))), default=0)
    event_name = str(request.product_options.get("event") or request.product_name)
    issued: list[str] = []
    for index in range(len(held), request.quantity):
        for _attempt in range(5):
            code = new_code()
            try:
                with session.begin_nested():
                    session.add(ETicket(
                        code=code, order_id=request.order_id, order_number=request.order_number,
                        line_id=request.line_id, unit=next_unit, attendee=names[index][:200],
                        event_name=event_name[:200], status="valid", issued_at=utcnow()))
                break
            except IntegrityError:  # a code collision: draw again
                continue
        else:
            raise RuntimeError("could not draw a unique ticket code")
        issued.append(code)
        next_unit += 1
    return ModuleResult(message=f"{len(issued)} ticket(s) issued", data={"issued": issued})


def _set_status(request: ServiceRequest, old: Sequence[str], new: str,
                reason: str | None = None) -> list[str]:
    session = _session(request)
    tickets = list(session.scalars(select(ETicket).where(
        ETicket.line_id == request.line_id, ETicket.status.in_(old))))
    now = utcnow()
    for ticket in tickets:
        ticket.status = new
        if new == "void":
            ticket.void_reason = reason
            ticket.voided_at = now
    return [ticket.code for ticket in tickets]


def terminate(request: ServiceRequest) -> ModuleResult:
    """Void the line's tickets, whether or not they were used: they admit nobody now."""
    voided = _set_status(request, ("valid", "suspended", "checked_in"), "void",
                         request.reason or "cancelled")
    return ModuleResult(message=f"{len(voided)} ticket(s) voided", data={"voided": voided})


# which tickets go first when a line loses some of its units: never-used ones, newest first
REDUCE_ORDER = {"valid": 0, "suspended": 1, "checked_in": 2}


def reduce(request: ServiceRequest) -> ModuleResult:
    """Some units of the line were cancelled or refunded: void the tickets beyond the line's
    quantity now (`request.quantity`), unused ones first and the newest of those first."""
    session = _session(request)
    held = list(session.scalars(select(ETicket).where(
        ETicket.line_id == request.line_id, ETicket.status.in_(tuple(REDUCE_ORDER)))))
    held.sort(key=lambda ticket: (REDUCE_ORDER[ticket.status], -ticket.unit))
    now = utcnow()
    voided = []
    for ticket in held[:max(0, len(held) - request.quantity)]:
        ticket.status = "void"
        ticket.void_reason = request.reason or "cancelled"
        ticket.voided_at = now
        voided.append(ticket.code)
    return ModuleResult(message=f"{len(voided)} ticket(s) voided", data={"voided": voided})


def suspend(request: ServiceRequest) -> ModuleResult:
    return ModuleResult(data={"suspended": _set_status(request, ("valid",), "suspended")})


def unsuspend(request: ServiceRequest) -> ModuleResult:
    return ModuleResult(data={"unsuspended": _set_status(request, ("suspended",), "valid")})


MODULE = ProvisioningModuleSpec(
    name=NAME, label=N_("E-tickets with QR codes"), create=create, terminate=terminate,
    suspend=suspend, unsuspend=unsuspend, reduce=reduce, in_transaction=True,
    requires_payment=True,
    description=N_("One ticket per attendee once the order is paid; PDF with QR codes; check-in."),
)


@hookimpl(optionalhook=True, trylast=True)
def register_provisioning_modules() -> list[ProvisioningModuleSpec]:
    """This module is its own plugin (entry point `provisioning_etickets`): optional, so it
    does nothing where the provisioning plugin, which defines the hook, is blocked."""
    return [MODULE]


# ---------------------------------------------------------------------------- reading


def ticket_to_dict(ticket: ETicket) -> dict[str, Any]:
    def when(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "code": ticket.code, "order_number": ticket.order_number, "line_id": ticket.line_id,
        "unit": ticket.unit, "attendee": ticket.attendee, "event": ticket.event_name,
        "status": ticket.status, "void_reason": ticket.void_reason,
        "issued_at": when(ticket.issued_at), "voided_at": when(ticket.voided_at),
        "checked_in_at": when(ticket.checked_in_at), "checked_in_by": ticket.checked_in_by,
    }


def tickets_of(mill: Ordermill, number: str, *, actor: Actor | None = None) -> list[ETicket]:
    """Every ticket of an order (void ones too), in issue order."""
    mill.orders.get(number, actor=actor)  # 404 for an unknown order, 403 without view_orders
    with mill.read_session() as session:
        return list(session.scalars(select(ETicket).where(ETicket.order_number == number)
                                    .order_by(ETicket.line_id, ETicket.unit)))


def tickets_pdf(mill: Ordermill, number: str, *, actor: Actor | None = None) -> bytes | None:
    """The order's printable tickets as one PDF, or None when it has none (not paid yet,
    or every ticket voided). E-mails attach this for paid ticket orders."""
    tickets = [t for t in tickets_of(mill, number, actor=actor) if t.status in PRINTABLE]
    if not tickets:
        return None
    return render_pdf(tickets, shop_name=mill.settings.shop_name)


FONT = "DejaVu"


def qr_png(code: str) -> bytes:
    import segno  # drawn only for a ticket: not on every start of the CLI or the server

    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def render_pdf(tickets: Sequence[ETicket], *, shop_name: str) -> bytes:
    """One A5 landscape page per ticket: event, attendee, code in text and as a QR code.

    In the core documents' Unicode font (DejaVu: Дмитрий prints as written) and labelled in
    the reader's language (`use_locale`: an e-mail attaches it in the buyer's)."""
    pdf = document_pdf(orientation="landscape", format=(148, 210))  # A5, fonts FONT and bold
    pdf.set_title(_("Tickets %(number)s", number=tickets[0].order_number))
    pdf.set_author(shop_name)
    pdf.set_creator("ordermill")
    pdf.set_creation_date(dt.datetime.now(dt.UTC))
    pdf.set_auto_page_break(False)
    for ticket in tickets:
        pdf.add_page()
        pdf.set_font(FONT, style="B", size=11)
        pdf.cell(0, 7, shop_name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, style="B", size=20)
        pdf.multi_cell(110, 10, ticket.event_name, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font(FONT, size=11)
        pdf.cell(0, 6, _("Attendee"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, style="B", size=16)
        pdf.cell(110, 9, ticket.attendee, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_font(FONT, size=11)
        pdf.cell(0, 6, _("Ticket code"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Courier", style="B", size=16)
        pdf.cell(110, 9, ticket.code, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_font(FONT, size=10)
        pdf.cell(110, 6, _("Order %(number)s - ticket %(unit)s", number=ticket.order_number,
                           unit=ticket.unit), new_x="LMARGIN", new_y="NEXT")
        if ticket.status == "checked_in":
            pdf.cell(110, 6, _("Already checked in"), new_x="LMARGIN", new_y="NEXT")
        pdf.image(io.BytesIO(qr_png(ticket.code)), x=130, y=30, w=70, h=70)
    return bytes(pdf.output())


# ---------------------------------------------------------------------------- check-in


def check_in(mill: Ordermill, code: str, *, actor: Actor) -> dict[str, Any]:
    """Admit the ticket once: the first scan of a valid code wins, every later one is refused
    with the reason (already checked in, voided because refunded or cancelled, suspended)."""
    require(actor, "edit_orders")  # before the lookup: no 404/403 oracle for ticket codes
    wanted = normalize_code(code)
    with mill.read_session() as session:
        number = session.scalar(select(ETicket.order_number).where(ETicket.code == wanted))
    if number is None:
        raise NotFound(f"No ticket {wanted}.", details={"code": wanted})
    with mill.orders.editing(number, actor=actor, action="check_in") as (order, ctx):
        session = ctx.session
        assert session is not None  # editing() always holds the transaction
        admitted = session.execute(
            update(ETicket).where(ETicket.code == wanted, ETicket.status == "valid")
            .values(status="checked_in", checked_in_at=utcnow(), checked_in_by=actor.label)
            .execution_options(synchronize_session=False)
        ).rowcount
        ticket = session.scalar(select(ETicket).where(ETicket.code == wanted))
        if ticket is None:  # the order was deleted since the lookup
            raise NotFound(f"No ticket {wanted}.", details={"code": wanted})
        if admitted != 1:
            raise _refusal(ticket)
        ctx.record_event(order, "ticket_checked_in",
                         f"Ticket {ticket.code} ({ticket.attendee}) checked in.",
                         data={"code": ticket.code, "line_id": ticket.line_id},
                         touch=False)  # a scan at the door changes nothing an admin edits
        answer = ticket_to_dict(ticket)
    return answer


class TicketRefused(ActionNotAllowed):
    code = "ticket_refused"


def _refusal(ticket: ETicket) -> TicketRefused:
    details = {"code": ticket.code, "status": ticket.status, "reason": ticket.void_reason}
    if ticket.status == "checked_in":
        when = ticket.checked_in_at.isoformat() if ticket.checked_in_at else "earlier"
        return TicketRefused(f"Ticket {ticket.code} was already checked in ({when}).",
                             details={**details, "checked_in_at": when})
    if ticket.status == "void":
        return TicketRefused(f"Ticket {ticket.code} is void: its order line was "
                             f"{ticket.void_reason or 'cancelled'}.", details=details)
    return TicketRefused(f"Ticket {ticket.code} is {ticket.status}; it admits nobody.",
                         details=details)


__all__ = ["MODULE", "TicketRefused", "check_in", "new_code", "register_provisioning_modules",
           "render_pdf", "ticket_to_dict", "tickets_of", "tickets_pdf"]
