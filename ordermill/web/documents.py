"""Serving the shop's documents (invoice and credit note PDFs) to the API, the admin and the
customer page: one lookup and one response shape, so each place only checks who may ask."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response

from ordermill.core.app import Ordermill
from ordermill.core.documents import DocumentFile, credit_note_pdf, invoice_pdf
from ordermill.core.errors import NotFound
from ordermill.core.i18n import gettext as _
from ordermill.core.models import Order


def invoice_file(mill: Ordermill, order: Order, invoice_id: int, *,
                 issued_only: bool = False, language: str | None = None) -> DocumentFile:
    """The PDF of one of the order's invoices; NotFound for another order's (or a draft's,
    with `issued_only`: customers see only issued documents)."""
    invoice = next((inv for inv in order.invoices if inv.id == invoice_id), None)
    if invoice is None or (issued_only and invoice.state == "draft"):
        raise NotFound(_("Order %(number)s has no invoice %(id)s.", number=order.number,
                         id=invoice_id),
                       details={"invoice_id": invoice_id})
    return invoice_pdf(mill, order, invoice, language=language)


def credit_note_file(order: Order, note_id: int, *, language: str | None = None
                     ) -> DocumentFile:
    """The PDF of one of the order's credit notes; NotFound for another order's."""
    note = next((note for note in order.credit_notes if note.id == note_id), None)
    if note is None:
        raise NotFound(_("Order %(number)s has no credit note %(id)s.", number=order.number,
                         id=note_id),
                       details={"credit_note_id": note_id})
    return credit_note_pdf(note, language=language)


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266: a translated file name ("счёт-INV-2026-000001.pdf") goes in `filename*`
    (UTF-8, percent-encoded), with an ASCII `filename` beside it for old clients; a header
    cannot carry it raw."""
    ascii_name = filename.encode("ascii", "ignore").decode().strip("-_ ") or "document.pdf"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    if ascii_name == filename:
        return f'{disposition}; filename="{filename}"'
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def pdf_response(document: DocumentFile, *, download: bool = True) -> Response:
    response = Response(document.data, mimetype=document.content_type)
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = content_disposition(disposition, document.filename)
    response.headers["Cache-Control"] = "no-store"
    return response


__all__ = ["credit_note_file", "invoice_file", "pdf_response"]
