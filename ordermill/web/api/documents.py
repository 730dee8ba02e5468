"""Invoices and credit notes of an order: issue the invoice, download the PDFs."""

from __future__ import annotations

from typing import Any

from ordermill.core.orders import ActionResult
from ordermill.web.api import api, documented
from ordermill.web.api.orders import _action, _version
from ordermill.web.api.schemas import ActionIn
from ordermill.web.auth import mill, require_actor
from ordermill.web.documents import credit_note_file, invoice_file, pdf_response

PDF_ANSWER = {200: {"description": "The document as a PDF.",
                    "content": {"application/pdf": {"schema": {"type": "string",
                                                               "format": "binary"}}}}}


@_action("/orders/<order_number:number>/issue-invoice", ActionIn,
         "Issue the invoice: number it and freeze it")
def issue_invoice(number: str, data: dict[str, Any], **kw: Any) -> ActionResult:
    """Draft invoices (or one for the amount due) get their numbers; issued, they never
    change again (a later change is a credit note plus a new invoice)."""
    return mill().orders.issue_invoice(number, expected_version=_version(data),
                                       comment=data["comment"], **kw)


@api.get("/orders/<order_number:number>/invoices/<int:invoice_id>/pdf")
@documented(403, 404, summary="Download an invoice as a PDF", responses=PDF_ANSWER)
def invoice_pdf(number: str, invoice_id: int) -> Any:
    """Issued and void invoices as issued (from their snapshot); a draft as it is now."""
    order = mill().orders.get(number, actor=require_actor())
    return pdf_response(invoice_file(mill(), order, invoice_id))


@api.get("/orders/<order_number:number>/credit-notes/<int:note_id>/pdf")
@documented(403, 404, summary="Download a credit note as a PDF", responses=PDF_ANSWER)
def credit_note_pdf(number: str, note_id: int) -> Any:
    """A credit note as it was issued."""
    order = mill().orders.get(number, actor=require_actor())
    return pdf_response(credit_note_file(order, note_id))
