"""Issued documents: issuing invoices, credit notes for refunds and deletions, their numbers.

An invoice is a draft (unnumbered; billing.sync_invoices may re-cut it) until it is issued.
Issuing freezes it: the buyer and the lines are copied into `snapshot` at once, and the
seller's details and the number are added as the very last step of the transaction
(`number_documents`, called by retry.action_transaction after everything else, fraud checks
and gateway calls included), so the counter row's lock is held for microseconds. An issued
invoice never changes afterwards; a later change to the order is a credit note plus a new
invoice. Cancelling an issued invoice voids it, and a void invoice keeps its number.

Numbers come from the `generate_invoice_number` hook (firstresult) or, by default, from a
counter row per series and year bumped with one UPDATE ... RETURNING (never MAX()+1):
INV-2026-000123 for invoices, CN-2026-000045 for credit notes, gapless per series and year.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session

from ordermill.core.errors import InvalidInput
from ordermill.core.hot_sql import HotStatement
from ordermill.core.i18n import gettext as _
from ordermill.core.invoice_models import CreditNote, DocumentCounter
from ordermill.core.models import Invoice, Order, OrderEvent, OrderLine, Payment, utcnow
from ordermill.core.refund_tax import line_taxes
from ordermill.core.tax_models import loaded

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill
    from ordermill.core.context import ActionContext

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"
SELLER_SETTING = "seller"
NUMBERED_NOTE = "Numbered {numbers}."
ISSUED_EVENT = "invoice_issued"
ACTION_EVENT_NOTE = "action_event"  # ctx.notes key: the event the action wrote (runner)
REFUND_LINE = "Refund"
DELETION_LINE = "Order deleted: not refunded"
Document = Invoice | CreditNote


# ------------------------------------------------------------------ what a document copies


def line_tax(order: Order, line: OrderLine) -> tuple[int, str | None]:
    """(tax in minor units, rate as a decimal string) of a line: its `tax` and the rate of
    the tax adjustments it was charged (the largest, when a line carries several)."""
    taxes = line_taxes(order, line) if loaded(order, "adjustments") else {}
    rated = {rate: tax for rate, tax in taxes.items() if rate is not None}
    rate = max(rated, key=lambda key: (rated[key], key)) if rated else None
    return int(line.tax or 0), (rate_text(rate) if rate is not None else None)


def rate_text(rate: Decimal) -> str:
    """A tax rate as the documents print it: "20", "5.5"."""
    return format(rate.normalize(), "f")


def reverse_charge(order: Order) -> bool:
    """Whether the order's tax was reverse-charged (B2B, EU): the invoice then says so. The
    tax plugin marks it with an adjustment coded `reverse_charge`."""
    if not loaded(order, "adjustments"):
        return False
    return any(row.code == "reverse_charge" for row in order.adjustments)  # type: ignore[attr-defined]


def refund_tax_breakdown(payment: Payment) -> dict[str, int]:
    """{rate: tax in minor units} returned by one refund payment (its RefundTax rows, see
    core.refund_tax): the single place the tax of a refund is read for its credit note."""
    if not loaded(payment, "refund_taxes"):
        return {}
    breakdown: dict[str, int] = {}
    for row in payment.refund_taxes:  # type: ignore[attr-defined]
        if row.tax:
            key = rate_text(row.rate) if row.rate is not None else "0"
            breakdown[key] = breakdown.get(key, 0) + row.tax
    return breakdown


def buyer_snapshot(order: Order) -> dict[str, Any]:
    return {"name": order.buyer_name, "email": order.buyer_email,
            "company": (order.billing_address or {}).get("company"),
            "address": dict(order.billing_address or {}),
            "vat_number": getattr(order, "vat_id", None)
            or (order.billing_address or {}).get("vat_id")}


def _line_entry(name: str, quantity: int, gross: int, tax: int, rate: str | None
                ) -> dict[str, Any]:
    return {"name": name, "quantity": quantity, "net": gross - tax, "tax": tax, "rate": rate,
            "gross": gross}


def invoice_lines(order: Order, invoice: Invoice) -> list[dict[str, Any]]:
    """The order's active lines when the invoice asks for all of them, else one line named
    by the invoice (a part of a payment plan, products added later)."""
    active = [line for line in order.lines if line.status == "active"]
    entries = [_line_entry(line.name, line.quantity, line.total, *line_tax(order, line))
               for line in active] + fee_entries(order)
    if active and sum(entry["gross"] for entry in entries) == invoice.amount:
        return entries
    return [_line_entry(invoice.description or "Order", 1, invoice.amount, 0, None)]


def fee_entries(order: Order) -> list[dict[str, Any]]:
    """The order's fees and shipping as invoice lines: each with its share of the tax on
    fees (the `fee_tax` stage), at the rate that tax was charged."""
    if not loaded(order, "adjustments"):
        return []
    rows = order.adjustments  # type: ignore[attr-defined]
    fees = [row for row in rows if row.kind in ("fee", "shipping") and row.amount > 0]
    if not fees:
        return []
    fee_net = sum(row.amount for row in fees)
    taxes: dict[Decimal, int] = {}
    for row in rows:
        if row.kind == "tax" and row.line_id is None and row.rate is not None:
            taxes[row.rate] = taxes.get(row.rate, 0) + row.amount
    fee_tax = sum(taxes.values())
    rate = rate_text(max(taxes, key=lambda key: (taxes[key], key))) if taxes else None
    entries, spread = [], 0
    for index, row in enumerate(fees):
        tax = fee_tax - spread if index == len(fees) - 1 else fee_tax * row.amount // fee_net
        spread += tax
        entries.append(_line_entry(row.label, 1, row.amount + tax, tax, rate))
    return entries


def totals_of(lines: Sequence[dict[str, Any]]) -> dict[str, Any]:
    by_rate: dict[str, dict[str, int]] = {}
    for line in lines:
        if line["rate"] is None and not line["tax"]:
            continue
        entry = by_rate.setdefault(str(line["rate"]), {"net": 0, "tax": 0})
        entry["net"] += line["net"]
        entry["tax"] += line["tax"]
    return {"net": sum(line["net"] for line in lines), "tax": sum(line["tax"] for line in lines),
            "gross": sum(line["gross"] for line in lines), "by_rate": by_rate}


# ------------------------------------------------------------------------------- issuing


def issue(order: Order, invoice: Invoice) -> bool:
    """Issue a draft invoice: copy the buyer and lines; it is numbered when the transaction
    ends. False when there is nothing to issue (already issued, void or cancelled)."""
    if invoice.state != "draft" or invoice.status == "cancelled":
        return False
    lines = invoice_lines(order, invoice)
    invoice.state = "issued"
    invoice.issued_at = utcnow()
    invoice.snapshot = {"order_number": order.number, "buyer": buyer_snapshot(order),
                        "lines": lines, "totals": totals_of(lines),
                        "reverse_charge": reverse_charge(order), "currency": order.currency,
                        "description": invoice.description}
    return True


def issue_open(order: Order) -> list[Invoice]:
    """Issue every draft invoice of the order that still asks for money or was paid."""
    return [invoice for invoice in order.invoices if issue(order, invoice)]


def has_issued(order: Order) -> bool:
    return any(invoice.state in ("issued", "void") for invoice in order.invoices)


def void(invoice: Invoice) -> None:
    """An issued invoice that is cancelled is void: it keeps its number and its snapshot."""
    if invoice.state == "issued":
        invoice.state = "void"
        invoice.voided_at = utcnow()


def unvoid(invoice: Invoice) -> None:
    """Back to pending from fraud: the invoice fraud voided stands again, same number."""
    if invoice.state == "void":
        invoice.state = "issued"
        invoice.voided_at = None


# --------------------------------------------------------------------------- credit notes


def _invoice_for(order: Order, refunds: Sequence[Payment]) -> Invoice | None:
    issued = [inv for inv in order.invoices if inv.state in ("issued", "void")]
    for refund in refunds:
        found = next((inv for inv in issued if inv.id == refund.invoice_id), None)
        if found is not None:
            return found
    return issued[-1] if issued else None


def credit_refund(order: Order, refunds: Sequence[Payment],
                  lines: Sequence[OrderLine] = (), shares: Sequence[int] = ()
                  ) -> CreditNote | None:
    """The credit note of one refund: its lines (each refunded line's share, the rest as one
    line), tax from refund_tax_breakdown, numbered when the transaction ends. None when the
    order has no issued invoice to credit (nothing was ever invoiced)."""
    invoice = _invoice_for(order, refunds)
    total = sum(refund.amount for refund in refunds)
    if invoice is None or total <= 0:
        return None
    breakdown: dict[str, int] = {}
    for refund in refunds:
        for rate, tax in refund_tax_breakdown(refund).items():
            breakdown[rate] = breakdown.get(rate, 0) + tax
    entries = [_line_entry(line.name, line.quantity, share, 0, line_tax(order, line)[1])
               for line, share in zip(lines, shares, strict=False) if share > 0]
    rest = total - sum(entry["gross"] for entry in entries)
    if rest > 0:
        entries.append(_line_entry(REFUND_LINE, 1, rest, 0, None))
    return _credit(order, invoice, "refund", total, breakdown, entries,
                   refunds[0] if refunds else None)


def credit_unrefunded(order: Order) -> list[CreditNote]:
    """At deletion: a credit note for what each issued invoice asked and no credit note has
    given back yet (a void invoice asked nothing), so the books close."""
    notes = []
    for invoice in order.invoices:
        if invoice.state != "issued":
            continue
        credited = sum(note.amount for note in order.credit_notes
                       if note.invoice_id == invoice.id)
        left = invoice.amount - credited
        if left > 0:
            entry = _line_entry(DELETION_LINE, 1, left, 0, None)
            notes.append(_credit(order, invoice, "order_deleted", left, {}, [entry], None))
    return notes


def _credit(order: Order, invoice: Invoice, reason: str, amount: int,
            breakdown: dict[str, int], entries: list[dict[str, Any]], refund: Payment | None
            ) -> CreditNote:
    tax = sum(breakdown.values())
    if refund is not None and refund.id is None:
        session = object_session(order)
        if session is not None:
            session.flush()
    note = CreditNote(
        order_number=order.number, invoice_id=invoice.id, refund_id=refund.id if refund else None,
        reason=reason, amount=amount, tax=tax, tax_breakdown=dict(breakdown),
        currency=order.currency, created_at=utcnow(), issued_at=utcnow(),
        snapshot={"order_number": order.number, "buyer": buyer_snapshot(order),
                  "invoice_number": invoice.number, "lines": entries,
                  "totals": {"net": amount - tax, "tax": tax, "gross": amount,
                             "by_rate": {rate: {"tax": value} for rate, value in
                                         breakdown.items()}},
                  "reverse_charge": reverse_charge(order), "currency": order.currency,
                  "reason": reason},
    )
    order.credit_notes.append(note)
    return note


# ---------------------------------------------------------------------------- numbering


def next_document_number(session: Session, series: str, year: int) -> int:
    """The next number of a series and year, gapless: one atomic upsert of its counter row
    (the row stays locked until the transaction ends; a rollback gives the number back)."""
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        [(number,)] = _counter_upsert(dialect).rows(session.connection(),
                                                    {"series": series, "year": year})
        return int(number)
    bumped = session.execute(update(DocumentCounter).where(
        DocumentCounter.series == series, DocumentCounter.year == year)
        .values(last_value=DocumentCounter.last_value + 1)
        .returning(DocumentCounter.last_value)).scalar()
    if bumped is None:
        session.add(DocumentCounter(series=series, year=year, last_value=1))
        session.flush()
        return 1
    return int(bumped)


@functools.cache
def _counter_upsert(dialect: str) -> HotStatement:
    """The counter's upsert for one dialect, built once (placing numbers an invoice each
    time: building the statement cost more than running it)."""
    table = DocumentCounter.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return HotStatement(insert.values(
        series=bindparam("series"), year=bindparam("year"), last_value=1,
    ).on_conflict_do_update(
        index_elements=["series", "year"], set_={"last_value": table.c.last_value + 1},
    ).returning(table.c.last_value))


def default_number(session: Session, document: Document, timezone: str = "UTC") -> str:
    """INV-<year>-<n>: the year the document was issued in the shop's time zone (an invoice of
    00:30 on 1 January in Auckland belongs to the new year's series, as its date says)."""
    series = INVOICE_SERIES if document.document_kind == "invoice" else CREDIT_NOTE_SERIES
    issued = document.issued_at or utcnow()
    year = (issued if issued.tzinfo else issued.replace(tzinfo=dt.UTC)).astimezone(
        ZoneInfo(timezone)).year
    return f"{series}-{year}-{next_document_number(session, series, year):06d}"


def seller_details(mill: Ordermill, session: Session | None = None) -> dict[str, Any]:
    """The seller as the shop settings say today (name, address, VAT number): the stored
    "seller" setting, the shop's name by default."""
    from ordermill.core.shop_settings import read_setting

    stored = read_setting(mill, SELLER_SETTING, session=session)
    return {"name": stored.get("name") or mill.settings.shop_name,
            "address": stored.get("address") or "",
            "vat_number": stored.get("vat_number") or ""}


def _taken(session: Session, kind: type[Invoice] | type[CreditNote], number: str) -> bool:
    return session.scalar(select(kind.id).where(kind.number == number).limit(1)) is not None


def _unnumbered(session: Session) -> list[Document]:
    seen = [*session.new, *session.identity_map.values()]
    found = {id(obj): obj for obj in seen
             if (isinstance(obj, Invoice) and obj.state in ("issued", "void")
                 and obj.number is None)
             or (isinstance(obj, CreditNote) and obj.number is None)}
    return sorted(found.values(), key=lambda doc: (doc.document_kind != "invoice", doc.id or 0))


def number_documents(session: Session, ctx: ActionContext) -> list[Document]:
    """Number every document issued in this transaction: the transaction's last step.

    Adds the seller to each snapshot, asks `generate_invoice_number` (first answer wins),
    else takes the default series number; names the numbers in the action's events."""
    documents = _unnumbered(session)
    if not documents:
        return []
    session.flush()
    _number(session, documents, ctx)
    event = ctx.notes.get(ACTION_EVENT_NOTE)
    if isinstance(event, OrderEvent):
        name_numbers_in_event(documents, event)
    return documents


def number_now(session: Session, documents: Sequence[Document], ctx: ActionContext
               ) -> list[Document]:
    """Number documents issued by a placement before they are first inserted (the fraud
    checks are done, no gateway is called after): each row is written once, numbered. The
    runner names the numbers in the action's event when it writes it (numbered_documents)."""
    chosen = [doc for doc in documents if doc.number is None
              and (doc.document_kind != "invoice" or doc.state in ("issued", "void"))]
    if chosen:
        with session.no_autoflush:  # the counter first, then the rows, numbered
            _number(session, chosen, ctx)
        ctx.notes.setdefault(NUMBERED_NOTE_KEY, []).extend(chosen)
    return chosen


NUMBERED_NOTE_KEY = "numbered_documents"  # ctx.notes: documents number_now numbered


def _number(session: Session, documents: Sequence[Document], ctx: ActionContext) -> None:
    seller = seller_details(ctx.mill, session)
    for document in documents:
        chosen = ctx.mill.plugins.call("generate_invoice_number", invoice=document, ctx=ctx)
        number = chosen.first
        if number is None:
            number = default_number(session, document, ctx.mill.settings.timezone)
        elif not (isinstance(number, str) and 0 < len(number.strip()) <= 40):
            raise InvalidInput(_("Plugin %(first_plugin)s made invoice number %(number)s; a number "
                                 "is 1 to 40 characters of text.",
                                 first_plugin=repr(chosen.first_plugin), number=repr(number)))
        elif _taken(session, type(document), number.strip()):
            raise InvalidInput(_("Plugin %(first_plugin)s made invoice number %(number)s, which is "
                                 "already taken; numbers are unique.",
                                 first_plugin=repr(chosen.first_plugin), number=repr(number)))
        document.number = number.strip()
        document.snapshot = {**(document.snapshot or {}), "seller": seller,
                             "number": document.number}


def name_numbers_in_event(documents: Sequence[Document], event: OrderEvent) -> None:
    """Name the numbers in the data of the action's own event (ctx.notes["action_event"],
    set by the runner), and in the message of an "issue invoice" event."""
    numbers = [str(document.number) for document in documents
               if ((document.snapshot or {}).get("order_number") or document.order_number)
               == event.order_number]
    if not numbers:
        return
    event.data = {**(event.data or {}), "documents": numbers}
    if event.type == ISSUED_EVENT:  # other actions' wording stays as it was
        event.message = f"{event.message} {NUMBERED_NOTE.format(numbers=', '.join(numbers))}"


__all__ = [
    "CREDIT_NOTE_SERIES",
    "INVOICE_SERIES",
    "credit_refund",
    "credit_unrefunded",
    "has_issued",
    "issue",
    "issue_open",
    "line_tax",
    "name_numbers_in_event",
    "next_document_number",
    "number_documents",
    "number_now",
    "refund_tax_breakdown",
    "reverse_charge",
    "seller_details",
    "unvoid",
    "void",
]
