"""The order page's document downloads: each invoice and credit note as its PDF."""

from __future__ import annotations

from typing import Any

from ordermill.web.admin import admin_bp
from ordermill.web.admin.common import actor, mill
from ordermill.web.documents import credit_note_file, invoice_file, pdf_response


@admin_bp.get("/orders/<number>/invoices/<int:invoice_id>/pdf")
def invoice_pdf(number: str, invoice_id: int) -> Any:
    """The invoice as issued (a draft as it would be issued now)."""
    order = mill().orders.get(number, actor=actor())
    return pdf_response(invoice_file(mill(), order, invoice_id))


@admin_bp.get("/orders/<number>/credit-notes/<int:note_id>/pdf")
def credit_note_pdf(number: str, note_id: int) -> Any:
    """A credit note as issued."""
    order = mill().orders.get(number, actor=actor())
    return pdf_response(credit_note_file(order, note_id))
