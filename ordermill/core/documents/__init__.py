"""The shop's documents as PDFs: invoices and credit notes, drawn from their snapshots.

The API, the admin, the customer page and e-mails (notify_email's attachment) all get their
PDFs here, so a document looks the same wherever it is downloaded. An issued or void invoice
and a credit note are drawn from the snapshot taken when they were issued; a draft invoice,
which has none yet, is drawn from the order as it is now and titled as a draft.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ordermill.core import invoicing
from ordermill.core.documents.pdf import labels_for, render
from ordermill.core.i18n import current_locale, current_timezone
from ordermill.core.invoice_models import CreditNote
from ordermill.core.models import Invoice, Order

if TYPE_CHECKING:
    from ordermill.core.app import Ordermill

FILE_NAME = "{prefix}-{name}.pdf"
CACHE_SIZE = 256
# An issued document never changes, so its PDF is drawn once per process (drawing embeds the
# font and takes a tenth of a second; a resent confirmation must not pay that again). The key
# names everything that can differ: which document, its number, state, issue time, language.
_drawn: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_drawn_lock = threading.Lock()


def _draw_once(key: tuple[Any, ...] | None, draw: Callable[[], bytes]) -> bytes:
    if key is None:
        return draw()
    with _drawn_lock:
        if key in _drawn:
            _drawn.move_to_end(key)
            return _drawn[key]
    data = draw()
    with _drawn_lock:
        _drawn[key] = data
        while len(_drawn) > CACHE_SIZE:
            _drawn.popitem(last=False)
    return data


@attrs.frozen
class DocumentFile:
    """A rendered document: the file name a customer sees, and the PDF bytes."""

    filename: str
    data: bytes
    content_type: str = "application/pdf"


def draft_snapshot(mill: Ordermill, order: Order, invoice: Invoice) -> dict[str, Any]:
    """What the invoice would say if it were issued now (a draft has no snapshot yet)."""
    lines = invoicing.invoice_lines(order, invoice)
    return {"order_number": order.number, "buyer": invoicing.buyer_snapshot(order),
            "seller": invoicing.seller_details(mill), "lines": lines,
            "totals": invoicing.totals_of(lines),
            "reverse_charge": invoicing.reverse_charge(order), "currency": order.currency}


def invoice_pdf(mill: Ordermill, order: Order | None, invoice: Invoice, *,
                language: str | None = None) -> DocumentFile:
    """The invoice as a PDF; `order` (loaded with its lines) is needed only for a draft.
    Labelled, and its amounts and dates formatted, in `language` (the reader's locale when
    not given: the customer page and e-mails pass the buyer's); its content never changes."""
    language = language or current_locale()
    zone = mill.settings.timezone  # the issue date is the shop's day, whoever reads it
    if invoice.state == "draft" or not invoice.snapshot:
        if order is None:
            raise ValueError("a draft invoice is drawn from its order")
        snapshot = draft_snapshot(mill, order, invoice)
        title = "draft_invoice"
    else:
        snapshot = dict(invoice.snapshot)
        title = "void_invoice" if invoice.state == "void" else "invoice"
    name = invoice.number or f"{snapshot.get('order_number')}-draft-{invoice.id}"
    key = None if title == "draft_invoice" else (
        "invoice", invoice.id, invoice.number, invoice.state, invoice.issued_at, language,
        zone)
    data = _draw_once(key, lambda: render(snapshot, title_key=title, number=invoice.number,
                                          issued_at=invoice.issued_at, language=language,
                                          timezone=zone))
    prefix = labels_for(language)["file_invoice"]
    return DocumentFile(FILE_NAME.format(prefix=prefix, name=name), data)


def credit_note_pdf(note: CreditNote, *, language: str | None = None,
                    timezone: str | None = None) -> DocumentFile:
    """The credit note as a PDF, from its snapshot, in `language` (else the reader's), dated
    in `timezone` (else the current one, which web requests and the CLI set to the shop's)."""
    language = language or current_locale()
    zone = timezone or current_timezone()
    key = None if note.number is None else (
        "credit_note", note.id, note.number, note.issued_at, language, zone)
    data = _draw_once(key, lambda: render(note.snapshot or {}, title_key="credit_note",
                                          number=note.number, issued_at=note.issued_at,
                                          total_label="total_credited", language=language,
                                          timezone=zone))
    name = note.number or f"{note.order_number}-{note.id}"
    prefix = labels_for(language)["file_credit_note"]
    return DocumentFile(FILE_NAME.format(prefix=prefix, name=name), data)


def order_documents(mill: Ordermill, order: Order, *, language: str | None = None
                    ) -> list[DocumentFile]:
    """The PDFs of the order's issued invoices (what a confirmation e-mail attaches)."""
    return [invoice_pdf(mill, order, invoice, language=language) for invoice in order.invoices
            if invoice.state == "issued"]


__all__ = ["DocumentFile", "credit_note_pdf", "draft_snapshot", "invoice_pdf",
           "order_documents"]
